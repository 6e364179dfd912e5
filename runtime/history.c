/*
 * history.c - the history table: create it, check that it is pgapply's
 * own before any query touches it, read its rows back checked, and write
 * them (record, update, delete).  The only module with SQL that writes
 * the table: apply, rollback, baseline, adopt, accept and pgbundle
 * check's prover call it.
 *
 * Trusts: the catalogs, read with every name and operator qualified by
 * pg_catalog.  Trusts no history table as it finds it: one owned by
 * another role, or holding anything pgapply did not put there (a
 * trigger, rule, policy, default, constraint, index, inheritance, a
 * grant that lets another role add one, a view in its place), could run
 * another role's code as the deploying role the moment pgapply reads or
 * writes it.  Rejects such a table, and a row holding a value pgapply
 * never writes (a negative count, an unknown status, a checksum that is
 * not hex), before anything runs.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "buf.h"
#include "hash.h"
#include "history.h"
#include "banned.h"

/*
 * The table pgapply creates, column by column: how CREATE TABLE writes
 * each column, and how the catalogs show it again.  Type oids are fixed
 * in every PostgreSQL release (pg_type.dat).  The primary key on version
 * is the only index.  The last columns are not created with the table:
 * 'pgapply accept' adds them (accept.c), so a table may have them or not.
 */
static const struct hcol {
	const char	*name;
	const char	*type;		/* as created */
	const char	*typoid;	/* pg_type.oid of that type */
	const char	*flags;		/* "n": NOT NULL; see SHAPE_SQL */
	const char	*def;		/* DEFAULT as created; NULL: none */
	const char	*defshown;	/* as pg_get_expr() shows it */
	const char	*check;		/* CHECK as created; NULL: none */
	const char	*checkshown;	/* as pg_get_constraintdef() shows it */
} hcols[] = {
	{ "version", "bigint", "20", "n", NULL, NULL, NULL, NULL },
	{ "name", "pg_catalog.text", "25", "n", NULL, NULL, NULL, NULL },
	{ "checksum", "pg_catalog.text", "25", "n", NULL, NULL, NULL, NULL },
	{ "bundle_id", "pg_catalog.text", "25", "n", NULL, NULL, NULL, NULL },
	{ "chain", "pg_catalog.text", "25", "n", NULL, NULL, NULL, NULL },
	{ "mode", "pg_catalog.text", "25", "n", NULL, NULL,
	    "mode OPERATOR(pg_catalog.=) ANY "
	    "(ARRAY['transaction', 'no-transaction'])",
	    "CHECK ((mode = ANY (ARRAY['transaction'::text, "
	    "'no-transaction'::text])))" },
	{ "status", "pg_catalog.text", "25", "n", NULL, NULL,
	    "status OPERATOR(pg_catalog.=) ANY (ARRAY['applied', 'failed'])",
	    "CHECK ((status = ANY (ARRAY['applied'::text, 'failed'::text])))" },
	{ "statements_done", "integer", "23", "n", "0", "0", NULL, NULL },
	{ "statements_total", "integer", "23", "n", NULL, NULL, NULL, NULL },
	{ "applied_at", "pg_catalog.timestamptz", "1184", "n",
	    "pg_catalog.now()", "now()", NULL, NULL },
	{ "duration_ms", "bigint", "20", "", NULL, NULL, NULL, NULL },
	{ "applied_by", "pg_catalog.text", "25", "n",
	    "pg_catalog.\"session_user\"()", "\"session_user\"()", NULL, NULL },
	{ "runtime_version", "pg_catalog.text", "25", "n", NULL, NULL, NULL,
	    NULL },
	{ "origin", "pg_catalog.text", "25", "n", "'apply'", "'apply'::text",
	    NULL, NULL },
	/* Added by 'pgapply accept': NCREATED and after. */
	{ "previous_checksum", "pg_catalog.text", "25", "", NULL, NULL, NULL,
	    NULL },
	{ "reason", "pg_catalog.text", "25", "", NULL, NULL, NULL, NULL },
};
#define NCOLS	(sizeof(hcols) / sizeof(hcols[0]))
#define NCREATED (NCOLS - 2)	/* the columns CREATE TABLE writes */
#define PKEY_SHOWN	"PRIMARY KEY (version)"

/*
 * The schema, the table and who owns them; $1 schema, $2 table.  One
 * row: backend pid, current_user, the database's owner, whether the
 * schema exists, its owner, the table's oid, relkind, owner,
 * persistence, row level security, typed table (OF type), access method.
 */
#define FACTS_SQL \
	"SELECT pg_catalog.pg_backend_pid(), CURRENT_USER, " \
	"pg_catalog.pg_get_userbyid(d.datdba), n.oid IS NOT NULL, " \
	"pg_catalog.pg_get_userbyid(n.nspowner), c.oid, c.relkind, " \
	"pg_catalog.pg_get_userbyid(c.relowner), c.relpersistence, " \
	"c.relrowsecurity OR c.relforcerowsecurity, " \
	"c.reloftype OPERATOR(pg_catalog.<>) 0, am.amname " \
	"FROM pg_catalog.pg_database d " \
	"LEFT JOIN pg_catalog.pg_namespace n " \
	"ON n.nspname OPERATOR(pg_catalog.=) $1::pg_catalog.name " \
	"LEFT JOIN pg_catalog.pg_class c " \
	"ON c.relnamespace OPERATOR(pg_catalog.=) n.oid " \
	"AND c.relname OPERATOR(pg_catalog.=) $2::pg_catalog.name " \
	"LEFT JOIN pg_catalog.pg_am am ON am.oid OPERATOR(pg_catalog.=) c.relam " \
	"WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()"

#define EQ	" OPERATOR(pg_catalog.=) "
#define T	"::pg_catalog.text"
#define OID	"(SELECT oid FROM h)"
/* A deparsed expression, as it reads with only pg_catalog visible. */
#define PLAIN(e) "pg_catalog.replace(pg_catalog.replace(" e ", " \
	"'OPERATOR(pg_catalog.=)', '='), 'pg_catalog.', '')"

/*
 * Everything that hangs on the table ($1 its schema, $2 its name: the
 * same round trip as FACTS_SQL, which finds it), one row each: kind,
 * name, and up to three values; no row when there is no such table.
 *   column	attname, type oid, flags (n NOT NULL, m a typmod, c another
 *		collation, then attidentity and attgenerated), type shown
 *   default	column, expression
 *   constraint	name, contype, definition
 *   index	name, "true" when it is a plain btree primary key on one
 *		column, that column
 *   trigger, rule, policy	name
 *   parent, child	the table it inherits from, or that inherits from it
 *   uses	a default, constraint or index, and an object it depends on
 *		other than the table's own columns and constraints: any
 *		function, operator, type, collation or operator class that is
 *		not built in (built-in objects are pinned and never listed)
 *   grant	grantee, TRIGGER or REFERENCES: a role that could add one
 */
#define SHAPE_SQL \
	"WITH h AS (SELECT c.oid FROM pg_catalog.pg_class c " \
	"JOIN pg_catalog.pg_namespace n ON n.oid" EQ "c.relnamespace " \
	"WHERE n.nspname" EQ "$1::pg_catalog.name " \
	"AND c.relname" EQ "$2::pg_catalog.name) " \
	"SELECT 'column'" T ", a.attname" T ", a.atttypid" T ", " \
	"pg_catalog.concat(CASE WHEN a.attnotnull THEN 'n' END, " \
	"CASE WHEN a.atttypmod OPERATOR(pg_catalog.>=) 0 THEN 'm' END, " \
	"CASE WHEN a.attcollation OPERATOR(pg_catalog.<>) t.typcollation " \
	"THEN 'c' END, a.attidentity, a.attgenerated), " \
	"pg_catalog.format_type(a.atttypid, a.atttypmod) " \
	"FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t " \
	"ON t.oid" EQ "a.atttypid WHERE a.attrelid" EQ OID " " \
	"AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped " \
	"UNION ALL SELECT 'default', a.attname" T ", " \
	PLAIN("pg_catalog.pg_get_expr(ad.adbin, ad.adrelid)") ", NULL, NULL " \
	"FROM pg_catalog.pg_attrdef ad JOIN pg_catalog.pg_attribute a " \
	"ON a.attrelid" EQ "ad.adrelid AND a.attnum" EQ "ad.adnum " \
	"WHERE ad.adrelid" EQ OID " " \
	"UNION ALL SELECT 'constraint', co.conname" T ", co.contype" T ", " \
	PLAIN("pg_catalog.pg_get_constraintdef(co.oid)") ", NULL " \
	"FROM pg_catalog.pg_constraint co WHERE co.conrelid" EQ OID " " \
	"UNION ALL SELECT 'index', ic.relname" T ", (i.indisprimary " \
	"AND i.indnatts" EQ "1 AND i.indexprs IS NULL AND i.indpred IS NULL " \
	"AND ic.relam" EQ "403)" T ", ka.attname" T ", NULL " \
	"FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic " \
	"ON ic.oid" EQ "i.indexrelid LEFT JOIN pg_catalog.pg_attribute ka " \
	"ON ka.attrelid" EQ "i.indrelid AND ka.attnum" EQ "i.indkey[0] " \
	"WHERE i.indrelid" EQ OID " " \
	"UNION ALL SELECT 'trigger', tgname" T ", NULL, NULL, NULL " \
	"FROM pg_catalog.pg_trigger WHERE tgrelid" EQ OID " " \
	"UNION ALL SELECT 'rule', rulename" T ", NULL, NULL, NULL " \
	"FROM pg_catalog.pg_rewrite WHERE ev_class" EQ OID " " \
	"UNION ALL SELECT 'policy', polname" T ", NULL, NULL, NULL " \
	"FROM pg_catalog.pg_policy WHERE polrelid" EQ OID " " \
	"UNION ALL SELECT 'parent', inhparent::pg_catalog.regclass" T ", " \
	"NULL, NULL, NULL FROM pg_catalog.pg_inherits WHERE inhrelid" EQ OID \
	" UNION ALL SELECT 'child', inhrelid::pg_catalog.regclass" T ", " \
	"NULL, NULL, NULL FROM pg_catalog.pg_inherits WHERE inhparent" EQ OID \
	" UNION ALL SELECT 'uses', pg_catalog.pg_describe_object(dep.classid, " \
	"dep.objid, dep.objsubid), pg_catalog.pg_describe_object(" \
	"dep.refclassid, dep.refobjid, dep.refobjsubid), NULL, NULL " \
	"FROM (SELECT 'pg_catalog.pg_attrdef'::pg_catalog.regclass, oid " \
	"FROM pg_catalog.pg_attrdef WHERE adrelid" EQ OID " " \
	"UNION ALL SELECT 'pg_catalog.pg_constraint'::pg_catalog.regclass, oid " \
	"FROM pg_catalog.pg_constraint WHERE conrelid" EQ OID " " \
	"UNION ALL SELECT 'pg_catalog.pg_class'::pg_catalog.regclass, " \
	"indexrelid FROM pg_catalog.pg_index WHERE indrelid" EQ OID ") " \
	"AS o (classid, objid) JOIN pg_catalog.pg_depend dep " \
	"ON dep.classid" EQ "o.classid AND dep.objid" EQ "o.objid " \
	"WHERE NOT (dep.refclassid" EQ "'pg_catalog.pg_class'::" \
	"pg_catalog.regclass AND dep.refobjid" EQ OID ") " \
	"AND NOT (dep.refclassid" EQ "'pg_catalog.pg_constraint'::" \
	"pg_catalog.regclass AND EXISTS (SELECT FROM pg_catalog.pg_constraint " \
	"x WHERE x.conrelid" EQ OID " AND x.oid" EQ "dep.refobjid)) " \
	"UNION ALL SELECT 'grant', CASE WHEN g.grantee" EQ "0 THEN 'PUBLIC' " \
	"ELSE pg_catalog.pg_get_userbyid(g.grantee)" T " END, " \
	"g.privilege_type" T ", NULL, NULL FROM pg_catalog.pg_class c, " \
	"pg_catalog.aclexplode(c.relacl) g WHERE c.oid" EQ OID " " \
	"AND g.grantee OPERATOR(pg_catalog.<>) c.relowner " \
	"AND g.privilege_type" EQ "ANY (ARRAY['TRIGGER', 'REFERENCES'])"

/* What is found while checking the table's shape. */
struct shape {
	const char	*hist;		/* "schema.table", for messages */
	unsigned char	 col[NCOLS];	/* each column seen */
	unsigned char	 def[NCOLS];	/* its default seen */
	unsigned char	 chk[NCOLS];	/* its CHECK seen */
	int		 pkey;		/* the primary key seen */
};

/* The table is not the one pgapply creates: say what is wrong. */
static int
not_ours(struct pgb_diag *d, const char *hist, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
not_ours(struct pgb_diag *d, const char *hist, const char *fmt, ...)
{
	char	what[200];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	pgb_fail(d, PGB_ECONFLICT, "history table '%s' is not the one pgapply "
	    "creates: %s", hist, what);
	pgb_detail(d, "pgapply uses a history table only when it is exactly "
	    "the one pgapply creates: a trigger, rule, policy, default, "
	    "constraint, index or inheritance added to it could run another "
	    "role's code as the deploying role; nothing was run");
	return -1;
}

/* 'what' (schema or table) 'name' is owned by 'owner', not by 'user'. */
static int
not_owned(struct pgb_diag *d, const char *what, const char *name,
    const char *owner, const char *user)
{
	pgb_fail(d, PGB_ECONFLICT, "history %s '%s' is owned by role "
	    "'%.63s', not by '%.63s'", what, name, owner, user);
	pgb_detail(d, "its owner could make it run code as whoever uses it: "
	    "pgapply uses a history table only when the table and its schema "
	    "belong to the role pgapply runs as (current_user '%.63s'); if "
	    "'%.63s' is the role your migrations run as, pass --role '%.63s', "
	    "else check what it holds and give it to '%.63s' (ALTER ... OWNER "
	    "TO); nothing was run", user, owner, owner, user);
	return -1;
}

static const struct hcol *
find_col(const char *name, size_t *k)
{
	for (*k = 0; *k < NCOLS; (*k)++)
		if (strcmp(hcols[*k].name, name) == 0)
			return &hcols[*k];
	return NULL;
}

static int
shape_column(struct shape *s, const char *name, const char *typoid,
    const char *flags, const char *shown, struct pgb_diag *d)
{
	const struct hcol	*c;
	size_t			 k;

	if ((c = find_col(name, &k)) == NULL)
		return not_ours(d, s->hist, "it has column '%.63s'", name);
	if (strcmp(typoid, c->typoid) != 0)
		return not_ours(d, s->hist, "column '%s' is of type %.80s",
		    name, shown);
	if (strcmp(flags, c->flags) != 0)
		return not_ours(d, s->hist, "column '%s' is %.80s%s%s%s%s",
		    name, shown, strchr(flags, 'n') ? " NOT NULL" : " nullable",
		    strchr(flags, 'c') ? ", with another collation" : "",
		    strpbrk(flags, "ad") ? ", an identity column" : "",
		    strpbrk(flags, "sv") ? ", generated" : "");
	s->col[k] = 1;
	return 0;
}

static int
shape_default(struct shape *s, const char *col, const char *expr,
    struct pgb_diag *d)
{
	const struct hcol	*c;
	size_t			 k;

	if ((c = find_col(col, &k)) == NULL || c->defshown == NULL ||
	    strcmp(c->defshown, expr) != 0)
		return not_ours(d, s->hist, "column '%.63s' has DEFAULT %.80s",
		    col, expr);
	s->def[k] = 1;
	return 0;
}

static int
shape_constraint(struct shape *s, const char *name, const char *type,
    const char *def, struct pgb_diag *d)
{
	size_t	k;

	/* PostgreSQL 18 lists NOT NULL as constraints: no code runs there. */
	if (strcmp(type, "n") == 0)
		return 0;
	if (strcmp(type, "p") == 0 && strcmp(def, PKEY_SHOWN) == 0) {
		s->pkey = 1;
		return 0;
	}
	for (k = 0; strcmp(type, "c") == 0 && k < NCOLS; k++) {
		if (hcols[k].checkshown != NULL &&
		    strcmp(hcols[k].checkshown, def) == 0) {
			s->chk[k] = 1;
			return 0;
		}
	}
	return not_ours(d, s->hist, "it has constraint '%.63s': %.80s", name,
	    def);
}

/* One row of SHAPE_SQL. */
static int
shape_row(struct shape *s, const PGresult *res, int i, struct pgb_diag *d)
{
	const char	*kind = PQgetvalue(res, i, 0);
	const char	*name = PQgetvalue(res, i, 1);
	const char	*a = PQgetvalue(res, i, 2);
	const char	*b = PQgetvalue(res, i, 3);

	if (strcmp(kind, "column") == 0)
		return shape_column(s, name, a, b, PQgetvalue(res, i, 4), d);
	if (strcmp(kind, "default") == 0)
		return shape_default(s, name, a, d);
	if (strcmp(kind, "constraint") == 0)
		return shape_constraint(s, name, a, b, d);
	if (strcmp(kind, "index") == 0) {
		if (strcmp(a, "true") == 0 && strcmp(b, "version") == 0)
			return 0;
		return not_ours(d, s->hist, "it has index '%.63s'", name);
	}
	if (strcmp(kind, "uses") == 0)
		return not_ours(d, s->hist, "its %.80s uses %.80s", name, a);
	if (strcmp(kind, "grant") == 0)
		return not_ours(d, s->hist, "role '%.63s' holds %s on it, so "
		    "it can add triggers or constraints", name, a);
	if (strcmp(kind, "parent") == 0)
		return not_ours(d, s->hist, "it inherits from '%.120s'", name);
	if (strcmp(kind, "child") == 0)
		return not_ours(d, s->hist, "'%.120s' inherits from it", name);
	return not_ours(d, s->hist, "it has %s '%.63s'", kind, name);
}

/* What must be there: every column, default and CHECK, and the key. */
static int
shape_complete(const struct shape *s, struct pgb_diag *d)
{
	size_t	k;

	for (k = 0; k < NCOLS; k++) {
		if (!s->col[k] && k >= NCREATED)
			continue;
		if (!s->col[k])
			return not_ours(d, s->hist, "it has no column '%s'",
			    hcols[k].name);
		if (hcols[k].def != NULL && !s->def[k])
			return not_ours(d, s->hist, "column '%s' has no "
			    "DEFAULT %s", hcols[k].name, hcols[k].defshown);
		if (hcols[k].check != NULL && !s->chk[k])
			return not_ours(d, s->hist, "it has no %s",
			    hcols[k].checkshown);
	}
	if (!s->pkey)
		return not_ours(d, s->hist, "it has no %s", PKEY_SHOWN);
	return 0;
}

/* The rows of SHAPE_SQL for the table 'hist'. */
static int
check_shape(const PGresult *res, const char *hist, struct pgb_diag *d)
{
	struct shape	 s;
	int		 i, rc = 0;

	memset(&s, 0, sizeof(s));
	s.hist = hist;
	for (i = 0; i < PQntuples(res) && rc == 0; i++)
		rc = shape_row(&s, res, i, d);
	return rc == 0 ? shape_complete(&s, d) : rc;
}

/* A relation that is not an ordinary table: say what it is. */
static const char *
relkind_name(char k)
{
	switch (k) {
	case 'v':
		return "a view";
	case 'm':
		return "a materialized view";
	case 'p':
		return "a partitioned table";
	case 'f':
		return "a foreign table";
	case 'S':
		return "a sequence";
	case 'i':
	case 'I':
		return "an index";
	case 'c':
		return "a composite type";
	default:
		return "not an ordinary table";
	}
}

/*
 * Whether the history table exists, and when it does, that pgapply may
 * use it (owners and shape).  Its facts and its shape come in one round
 * trip (catalog reads only: nothing of the table runs), which also
 * checks the backend.  0 with *exists set, or -1.
 */
int
pgb_db_history_exists(struct pgb_db *db, int *exists, struct pgb_diag *d)
{
	const char	*params[2] = { db->schema, db->table };
	const char	*user, *owner;
	struct pgb_cmd	 cmds[2];
	struct pgb_buf	 hist;
	PGresult	*r[2], *res;
	size_t		 bad;
	int		 rc = 0;

	if (db->history_seen) {
		*exists = 1;
		return 0;
	}
	if (db->fresh && pgb_db_reset_session(db, d) == -1)
		return -1;
	cmds[0].sql = FACTS_SQL;
	cmds[1].sql = SHAPE_SQL;
	cmds[0].n = cmds[1].n = 2;
	cmds[0].params = cmds[1].params = params;
	if (pgb_db_batch(db, cmds, 2, r, &bad, d) == -1) {
		PQclear(r[0]);
		PQclear(r[1]);
		return -1;
	}
	res = r[0];
	if (PQntuples(res) != 1 || pgb_db_same_backend(db,
	    (int)strtol(PQgetvalue(res, 0, 0), NULL, 10), d) == -1) {
		if (d->code == 0)
			pgb_fail(d, PGB_EINTERNAL, "the database '%s' is not "
			    "in pg_database", PQdb(db->conn));
		PQclear(res);
		PQclear(r[1]);
		return -1;
	}
	pgb_buf_init(&hist);
	pgb_buf_printf(&hist, "%s.%s", db->schema, db->table);
	user = PQgetvalue(res, 0, 1);
	owner = PQgetvalue(res, 0, 4);
	*exists = !PQgetisnull(res, 0, 5);
	/* pg_database_owner (PostgreSQL 14+, owns public) is the database's. */
	if (PQgetvalue(res, 0, 3)[0] == 't' && strcmp(owner, user) != 0 &&
	    !(strcmp(owner, "pg_database_owner") == 0 &&
	    strcmp(PQgetvalue(res, 0, 2), user) == 0))
		rc = not_owned(d, "schema", db->schema, owner, user);
	else if (!*exists)
		rc = 0;
	else if (strcmp(PQgetvalue(res, 0, 7), user) != 0)
		rc = not_owned(d, "table", hist.data, PQgetvalue(res, 0, 7),
		    user);
	else if (strcmp(PQgetvalue(res, 0, 6), "r") != 0)
		rc = not_ours(d, hist.data, "it is %s",
		    relkind_name(PQgetvalue(res, 0, 6)[0]));
	else if (strcmp(PQgetvalue(res, 0, 8), "p") != 0)
		rc = not_ours(d, hist.data, "it is unlogged or temporary");
	else if (PQgetvalue(res, 0, 9)[0] == 't')
		rc = not_ours(d, hist.data, "row level security is enabled "
		    "on it");
	else if (PQgetvalue(res, 0, 10)[0] == 't')
		rc = not_ours(d, hist.data, "it is a typed table");
	else if (strcmp(PQgetvalue(res, 0, 11), "heap") != 0)
		rc = not_ours(d, hist.data, "it uses table access method "
		    "'%.63s'", PQgetvalue(res, 0, 11));
	else
		rc = check_shape(r[1], hist.data, d);
	PQclear(res);
	PQclear(r[1]);
	pgb_buf_release(&hist);
	/* Under the lock no other runner drops or changes it: look once. */
	db->history_seen = rc == 0 && *exists && db->locked;
	return rc;
}

int
pgb_db_ensure_history(struct pgb_db *db, struct pgb_diag *d)
{
	struct pgb_buf	 sql;
	struct pgb_diag	 ignore;
	char		*qs;
	size_t		 k;
	int		 rc, exists;

	/* Look first: IF NOT EXISTS would print a notice on every run. */
	if (pgb_db_history_exists(db, &exists, d) == -1)
		return -1;
	if (exists)
		return 0;

	qs = PQescapeIdentifier(db->conn, db->schema, strlen(db->schema));
	pgb_buf_init(&sql);
	pgb_buf_printf(&sql, "BEGIN; CREATE SCHEMA IF NOT EXISTS %s; "
	    "CREATE TABLE IF NOT EXISTS %s (", qs ? qs : "", db->qname);
	for (k = 0; k < NCREATED; k++) {
		pgb_buf_printf(&sql, "%s %s%s", hcols[k].name, hcols[k].type,
		    strchr(hcols[k].flags, 'n') ? " NOT NULL" : "");
		if (hcols[k].def != NULL)
			pgb_buf_printf(&sql, " DEFAULT %s", hcols[k].def);
		if (hcols[k].check != NULL)
			pgb_buf_printf(&sql, " CHECK (%s)", hcols[k].check);
		pgb_buf_puts(&sql, ", ");
	}
	pgb_buf_puts(&sql, "PRIMARY KEY (version)); COMMIT");
	PQfreemem(qs);
	rc = qs != NULL ? pgb_db_exec(db, sql.data, 0, NULL, NULL, d) :
	    pgb_fail(d, PGB_EUSAGE, "invalid history schema name '%s'",
	    db->schema);
	pgb_buf_release(&sql);
	if (rc == -1) {
		if (PQtransactionStatus(db->conn) != PQTRANS_IDLE)
			(void)pgb_db_exec(db, "ROLLBACK", 0, NULL, NULL,
			    &ignore);
		return -1;
	}
	/*
	 * Another role may have created the schema or the table since the
	 * look (IF NOT EXISTS then left theirs alone): check what is there.
	 */
	if (pgb_db_history_exists(db, &exists, d) == -1)
		return -1;
	if (!exists)
		return pgb_fail(d, PGB_EINTERNAL, "history table '%s.%s' was "
		    "created but is not there", db->schema, db->table);
	return 0;
}

static const char corrupt_detail[] = "pgapply never writes such a row, so "
    "it cannot trust it to say what ran: restore the row from a backup or "
    "correct it by hand; nothing was run";

int
pgb_history_corrupt(struct pgb_diag *d, long long version, const char *fmt,
    ...)
{
	char	what[200];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	pgb_fail(d, PGB_ECONFLICT, "corrupt history row for version %lld: %s",
	    version, what);
	pgb_detail(d, "%s", corrupt_detail);
	return -1;
}

/* 'n' lowercase hex digits exactly. */
static int
is_hex(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[n] == '\0';
}

/* A name as the manifest allows it: printable ASCII, no blank. */
static int
is_name(const char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return i <= PGB_NAME_MAX;
}

/* A decimal integer from 'min' to 'max' into *out; 0 or -1. */
static int
parse_count(const char *s, long long min, long long max, long long *out)
{
	char	*end;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno == 0 && *end == '\0' && *out >= min && *out <= max ?
	    0 : -1;
}

/* The columns pgb_history_check_row() reads, in its order. */
static const char *const fields[8] = { "version", "name", "checksum",
    "chain", "mode", "status", "statements_done", "statements_total" };

int
pgb_history_check_row(const char *const f[8], struct pgb_hrow *r,
    struct pgb_diag *d)
{
	long long	v, done, total;
	size_t		i;

	memset(r, 0, sizeof(*r));
	if (parse_count(f[0], 0, LLONG_MAX, &v) == -1 || f[0][0] == '+' ||
	    (f[0][0] == '0' && f[0][1] != '\0')) {
		pgb_fail(d, PGB_ECONFLICT, "corrupt history row: version %.24s "
		    "is not a number from 0 to %lld", f[0] ? f[0] : "null",
		    LLONG_MAX);
		pgb_detail(d, "%s", corrupt_detail);
		return -1;
	}
	for (i = 1; i < 8; i++)
		if (f[i] == NULL)
			return pgb_history_corrupt(d, v, "%s is null",
			    fields[i]);
	r->version = v;
	if (!is_name(f[1]))
		return pgb_history_corrupt(d, v, "name is not at most %u "
		    "printable ASCII characters without blanks", PGB_NAME_MAX);
	if (strncmp(f[2], "sha256:", 7) != 0 ||
	    !is_hex(f[2] + 7, PGB_HEX256_LEN))
		return pgb_history_corrupt(d, v, "checksum is not 'sha256:' "
		    "and %d lowercase hex digits", PGB_HEX256_LEN);
	if (!is_hex(f[3], PGB_HEX256_LEN))
		return pgb_history_corrupt(d, v, "chain is not %d lowercase "
		    "hex digits", PGB_HEX256_LEN);
	if (strcmp(f[4], "transaction") != 0 &&
	    strcmp(f[4], "no-transaction") != 0)
		return pgb_history_corrupt(d, v, "mode is neither "
		    "'transaction' nor 'no-transaction'");
	if (strcmp(f[5], "applied") != 0 && strcmp(f[5], "failed") != 0)
		return pgb_history_corrupt(d, v, "status is neither 'applied' "
		    "nor 'failed'");
	if (parse_count(f[7], 0, PGB_STMTS_MAX, &total) == -1)
		return pgb_history_corrupt(d, v, "statements_total %.24s is "
		    "not from 0 to %u", f[7], PGB_STMTS_MAX);
	if (parse_count(f[6], 0, total, &done) == -1)
		return pgb_history_corrupt(d, v, "statements_done %.24s is "
		    "not from 0 to statements_total %lld", f[6], total);
	/* A transactional migration commits with its row, or leaves none. */
	if (strcmp(f[5], "failed") == 0 && strcmp(f[4], "transaction") == 0)
		return pgb_history_corrupt(d, v, "status is 'failed' but mode "
		    "is 'transaction': a transactional migration commits "
		    "together with its history row or not at all");
	if (strcmp(f[5], "applied") == 0 && done != total)
		return pgb_history_corrupt(d, v, "status is 'applied' after "
		    "statements_done %lld of %lld", done, total);
	memcpy(r->checksum, f[2] + 7, PGB_HEX256_LEN + 1);
	memcpy(r->chain, f[3], PGB_HEX256_LEN + 1);
	r->mode = f[4][0] == 'n' ? PGB_MODE_NOTX : PGB_MODE_TX;
	r->status = f[5][0] == 'a' ? PGB_H_APPLIED : PGB_H_FAILED;
	r->done = (int)done;
	r->total = (int)total;
	r->name = pgb_xstrdup(f[1]);
	return 0;
}

int
pgb_db_read_history(struct pgb_db *db, struct pgb_history *h, int times,
    struct pgb_diag *d)
{
	struct pgb_buf	 sql;
	PGresult	*res;
	const char	*f[8];
	int		 i, k, n, rc = 0;

	memset(h, 0, sizeof(*h));
	if (pgb_db_history_exists(db, &h->exists, d) == -1)
		return -1;
	if (!h->exists)
		return 0;
	/* Formatting a time costs about a microsecond a row: only status
	 * shows them. */
	pgb_buf_init(&sql);
	pgb_buf_printf(&sql, "SELECT version, name, checksum, chain, mode, "
	    "status, statements_done, statements_total%s FROM %s ORDER BY "
	    "version", times ? ", pg_catalog.to_char(applied_at, "
	    "'YYYY-MM-DD\"T\"HH24:MI:SSOF')" : "", db->qname);
	i = pgb_db_exec(db, sql.data, 0, NULL, &res, d);
	pgb_buf_release(&sql);
	if (i == -1)
		return -1;
	n = PQntuples(res);
	h->v = pgb_xcalloc((size_t)n, sizeof(*h->v));
	for (i = 0; i < n && rc == 0; i++) {
		for (k = 0; k < 8; k++)
			f[k] = PQgetisnull(res, i, k) ? NULL :
			    PQgetvalue(res, i, k);
		if ((rc = pgb_history_check_row(f, &h->v[i], d)) == 0) {
			h->v[i].applied_at = pgb_xstrdup(times ?
			    PQgetvalue(res, i, 8) : "");
			h->n++;
		}
	}
	PQclear(res);
	if (rc == -1)
		pgb_history_release(h);
	return rc;
}

void
pgb_history_release(struct pgb_history *h)
{
	size_t	i;

	for (i = 0; i < h->n; i++) {
		free(h->v[i].name);
		free(h->v[i].applied_at);
	}
	free(h->v);
	memset(h, 0, sizeof(*h));
}

int
pgb_accepted_read(struct pgb_db *db, struct pgb_acceptlist *l,
    struct pgb_diag *d)
{
	struct pgb_buf	 sql;
	PGresult	*res;
	int		 i, rc;

	memset(l, 0, sizeof(*l));
	/* to_jsonb: a table accept never touched has neither column. */
	pgb_buf_init(&sql);
	pgb_buf_printf(&sql, "SELECT h.version, pg_catalog.jsonb_extract_path_"
	    "text(pg_catalog.to_jsonb(h), 'previous_checksum'), "
	    "pg_catalog.jsonb_extract_path_text(pg_catalog.to_jsonb(h), "
	    "'reason') FROM %s h WHERE h.origin OPERATOR(pg_catalog.=) "
	    "'accepted' ORDER BY h.version", db->qname);
	rc = pgb_db_exec(db, sql.data, 0, NULL, &res, d);
	pgb_buf_release(&sql);
	if (rc == -1)
		return -1;
	l->v = pgb_xcalloc((size_t)PQntuples(res) + 1, sizeof(*l->v));
	for (i = 0; i < PQntuples(res); i++) {
		struct pgb_accepted *a = &l->v[l->n++];

		a->version = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		a->previous = pgb_xstrdup(PQgetvalue(res, i, 1));
		a->reason = pgb_xstrdup(PQgetvalue(res, i, 2));
	}
	PQclear(res);
	return 0;
}

const struct pgb_accepted *
pgb_accepted_find(const struct pgb_acceptlist *l, long long version)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].version == version)
			return &l->v[i];
	return NULL;
}

void
pgb_accepted_release(struct pgb_acceptlist *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].previous);
		free(l->v[i].reason);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/*
 * Writes.  Each names the table by db->qname, which pgb_db_connect()
 * quoted, and passes every value as a parameter.
 */

/* Run 'fmt' (one %s: the table) with 'n' parameters 'p'. */
static int
write_rows(struct pgb_db *db, const char *fmt, int n, const char *const *p,
    struct pgb_diag *d)
{
	struct pgb_buf	sql;
	int		rc;

	pgb_buf_init(&sql);
	pgb_buf_printf(&sql, fmt, db->qname);
	rc = pgb_db_exec(db, sql.data, n, p, NULL, d);
	pgb_buf_release(&sql);
	return rc;
}

/* "sha256:" and the hex of 'sha' into 'out'. */
static void
checksum_text(const unsigned char sha[PGB_SHA256_LEN],
    char out[PGB_HEX256_LEN + 8])
{
	memcpy(out, "sha256:", 7);
	pgb_hex(sha, PGB_SHA256_LEN, out + 7);
}

/* The row's INSERT ... ON CONFLICT, prepared once per session. */
#define RECORD_SQL \
	"INSERT INTO %s (version, name, checksum, " \
	"bundle_id, chain, mode, status, statements_done, statements_total, " \
	"duration_ms, runtime_version, origin) VALUES ($1::bigint, $2, $3, " \
	"$4, $5, $6, $7, $8::integer, $9::integer, coalesce($10::bigint, " \
	"(pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() " \
	"OPERATOR(pg_catalog.-) pg_catalog.now()) OPERATOR(pg_catalog.*) " \
	"1000)::bigint), $11, $12) " \
	"ON CONFLICT (version) DO UPDATE SET status = EXCLUDED.status, " \
	"statements_done = EXCLUDED.statements_done, " \
	"duration_ms = EXCLUDED.duration_ms, bundle_id = EXCLUDED.bundle_id, " \
	"applied_at = pg_catalog.now(), applied_by = EXCLUDED.applied_by, " \
	"runtime_version = EXCLUDED.runtime_version, " \
	"origin = EXCLUDED.origin"

int
pgb_history_prepare(struct pgb_db *db, struct pgb_diag *d)
{
	struct pgb_buf	sql;
	int		rc;

	pgb_buf_init(&sql);
	pgb_buf_printf(&sql, RECORD_SQL, db->qname);
	rc = pgb_db_prepare(db, PGB_PREP_RECORD, sql.data, 12, d);
	pgb_buf_release(&sql);
	return rc;
}

int
pgb_history_record(struct pgb_db *db, const struct pgb_migration *mig,
    const char *bundle_id, enum pgb_hstatus status, size_t done,
    long long ms, const char *origin, struct pgb_diag *d)
{
	char		 version[24], sha[PGB_HEX256_LEN + 8];
	char		 chain[PGB_HEX256_LEN + 1];
	char		 sdone[24], stotal[24], sms[24];
	const char	*p[12];

	snprintf(version, sizeof(version), "%lld", mig->version);
	checksum_text(mig->up.sha256, sha);
	pgb_hex(mig->chain, PGB_SHA256_LEN, chain);
	snprintf(sdone, sizeof(sdone), "%zu", done);
	snprintf(stotal, sizeof(stotal), "%zu", mig->up.nstmts);
	snprintf(sms, sizeof(sms), "%lld", ms);
	p[0] = version;
	p[1] = mig->name;
	p[2] = sha;
	p[3] = bundle_id;
	p[4] = chain;
	p[5] = pgb_mode_name(mig->up.mode);
	p[6] = status == PGB_H_APPLIED ? "applied" : "failed";
	p[7] = sdone;
	p[8] = stotal;
	p[9] = ms < 0 ? NULL : sms;	/* NULL: time since BEGIN, server side */
	p[10] = "pgapply " PGB_VERSION;
	p[11] = origin;
	/* Prepared once per session; before a pipeline, by its caller. */
	if (pgb_history_prepare(db, d) == -1)
		return -1;
	return pgb_db_exec_prepared(db, PGB_PREP_RECORD, 12, p, NULL, d);
}

int
pgb_history_record_replaced(struct pgb_db *db, const struct pgb_migration *b,
    const char *bundle_id, struct pgb_diag *d)
{
	char		 version[24], sha[PGB_HEX256_LEN + 8];
	char		 chain[PGB_HEX256_LEN + 1], origin[40];
	const char	*p[7];
	struct pgb_buf	 sql;
	size_t		 i;
	int		 rc = 0;

	snprintf(origin, sizeof(origin), "replaced:%lld", b->version);
	pgb_buf_init(&sql);
	pgb_buf_printf(&sql, "INSERT INTO %s (version, name, checksum, "
	    "bundle_id, chain, mode, status, statements_done, statements_total, "
	    "duration_ms, runtime_version, origin) VALUES ($1::bigint, $2, $3, "
	    "$4, $5, 'transaction', 'applied', 0, 0, 0, $6, $7)", db->qname);
	/* The last entry is the baseline's own version: its row is its own. */
	for (i = 0; i + 1 < b->nreplaces && rc == 0; i++) {
		snprintf(version, sizeof(version), "%lld",
		    b->replaces[i].version);
		checksum_text(b->replaces[i].sha256, sha);
		pgb_hex(b->replaces[i].chain, PGB_SHA256_LEN, chain);
		p[0] = version;
		p[1] = b->replaces[i].name;
		p[2] = sha;
		p[3] = bundle_id;
		p[4] = chain;
		p[5] = "pgapply " PGB_VERSION;
		p[6] = origin;
		rc = pgb_db_exec(db, sql.data, 7, p, NULL, d);
	}
	pgb_buf_release(&sql);
	return rc;
}

int
pgb_history_delete(struct pgb_db *db, long long version, struct pgb_diag *d)
{
	char		 v[24];
	const char	*p[1] = { v };

	snprintf(v, sizeof(v), "%lld", version);
	return write_rows(db, "DELETE FROM %s WHERE version "
	    "OPERATOR(pg_catalog.=) $1::bigint", 1, p, d);
}

int
pgb_history_set_applied(struct pgb_db *db, long long version,
    struct pgb_diag *d)
{
	char		 v[24];
	const char	*p[1] = { v };

	snprintf(v, sizeof(v), "%lld", version);
	return write_rows(db, "UPDATE %s SET status = 'applied', "
	    "statements_done = statements_total WHERE version "
	    "OPERATOR(pg_catalog.=) $1::bigint", 1, p, d);
}

int
pgb_history_set_applied_at(struct pgb_db *db, long long version,
    const char *at, struct pgb_diag *d)
{
	char		 v[24];
	const char	*p[2] = { v, at };

	snprintf(v, sizeof(v), "%lld", version);
	return write_rows(db, "UPDATE %s SET applied_at = $2::timestamptz "
	    "WHERE version OPERATOR(pg_catalog.=) $1::bigint", 2, p, d);
}

int
pgb_history_set_chain(struct pgb_db *db, long long version,
    const unsigned char chain[PGB_SHA256_LEN], struct pgb_diag *d)
{
	char		 v[24], hex[PGB_HEX256_LEN + 1];
	const char	*p[2] = { v, hex };

	snprintf(v, sizeof(v), "%lld", version);
	pgb_hex(chain, PGB_SHA256_LEN, hex);
	return write_rows(db, "UPDATE %s SET chain = $2 WHERE version "
	    "OPERATOR(pg_catalog.=) $1::bigint", 2, p, d);
}

void
pgb_history_touch(struct pgb_db *db, long long version)
{
	struct pgb_diag	 ignore;
	char		 v[24];
	const char	*p[1] = { v };

	snprintf(v, sizeof(v), "%lld", version);
	(void)write_rows(db, "UPDATE %s SET status = status WHERE version "
	    "OPERATOR(pg_catalog.=) $1::bigint", 1, p, &ignore);
}

/*
 * A table made before accept existed has no previous_checksum or reason:
 * add them (under the lock, in accept's own transaction; an old pgapply
 * names its columns and never sees them).  Quietly, when they are there.
 */
static int
add_accept_columns(struct pgb_db *db, struct pgb_diag *d)
{
	if (pgb_db_exec(db, "SELECT pg_catalog.set_config("
	    "'client_min_messages', 'warning', true)", 0, NULL, NULL, d) == -1)
		return -1;
	return write_rows(db, "ALTER TABLE %s ADD COLUMN IF NOT EXISTS "
	    "previous_checksum pg_catalog.text, ADD COLUMN IF NOT EXISTS "
	    "reason pg_catalog.text", 0, NULL, d);
}

int
pgb_history_accept(struct pgb_db *db, const struct pgb_haccept *a,
    struct pgb_diag *d)
{
	char		 version[24], sha[PGB_HEX256_LEN + 8];
	char		 old[PGB_HEX256_LEN + 8], chain[PGB_HEX256_LEN + 1];
	char		 total[24];
	const char	*p[10];

	if (add_accept_columns(db, d) == -1)
		return -1;
	snprintf(version, sizeof(version), "%lld", a->version);
	checksum_text(a->sha256, sha);
	snprintf(old, sizeof(old), "sha256:%s", a->previous);
	pgb_hex(a->chain, PGB_SHA256_LEN, chain);
	snprintf(total, sizeof(total), "%zu", a->up ? a->up->nstmts : 0);
	p[0] = version;
	p[1] = sha;
	p[2] = old;
	p[3] = a->reason;
	p[4] = chain;
	p[5] = a->bundle_id;
	p[6] = a->name;
	/* Its own migration's mode and count; a replaced one keeps its. */
	p[7] = a->up ? pgb_mode_name(a->up->mode) : NULL;
	p[8] = a->up ? total : NULL;
	p[9] = "pgapply " PGB_VERSION;
	return write_rows(db, "UPDATE %s SET checksum = $2, previous_checksum "
	    "= $3, reason = $4, chain = $5, bundle_id = $6, name = $7, mode = "
	    "coalesce($8, mode), statements_total = coalesce($9::integer, "
	    "statements_total), statements_done = coalesce($9::integer, "
	    "statements_done), runtime_version = $10, origin = 'accepted' "
	    "WHERE version OPERATOR(pg_catalog.=) $1::bigint", 10, p, d);
}
