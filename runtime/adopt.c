/*
 * adopt.c - take over a database that another tool migrated: read that
 * tool's history table (never write it) and record the same versions in
 * pgbundle's history, each with the time the other tool applied it where
 * its table keeps one, so apply continues where the other tool stopped.
 * Also apply's guard: a database with no pgbundle history but another
 * tool's is refused, or adopted in the same run under the same lock.
 *
 * Trusts: nothing in the foreign table; every version must be one the
 * bundle holds.  Rejects: a database the other tool marks dirty or
 * failed, versions that do not map, an Alembic revision the map file
 * lacks, a map file that does not parse.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "buf.h"
#include "fileio.h"
#include "text.h"
#include "version.h"
#include "banned.h"

/* A map file is a few lines per migration: 1 MiB is plenty. */
#define MAP_MAX		(1024 * 1024)

/* Versions read from the foreign table, grown as rows arrive. */
struct vlist {
	long long	*v;
	char		**at;		/* applied at (timestamptz text) or NULL */
	size_t		 n;
	long long	 upto;		/* "everything up to": -1 if none */
	char		*upto_at;
};

/* What a row reader may consult. */
struct reader {
	const struct pgb_manifest	*m;
	const struct pgb_apply_opts	*o;
	const char			*table;
	char				*map;	/* alembic: the map file's text */
};

struct tool {
	const char	*name;
	const char	*table;		/* default table */
	const char	*columns;	/* the version first, applied-at last */
	const char	*order;		/* how rows are read */
	int		(*row)(const struct reader *, PGresult *, int,
			    struct vlist *, struct pgb_diag *);
};

static void
vlist_add(struct vlist *l, long long v, const char *at)
{
	l->v = pgb_xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->at = pgb_xreallocarray(l->at, l->n + 1, sizeof(*l->at));
	l->v[l->n] = v;
	l->at[l->n++] = at != NULL ? pgb_xstrdup(at) : NULL;
}

static void
vlist_release(struct vlist *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		free(l->at[i]);
	free(l->v);
	free(l->at);
	free(l->upto_at);
	memset(l, 0, sizeof(*l));
}

/* The applied-at column (the last), or NULL. */
static const char *
at_of(PGresult *res, int i)
{
	int	k = PQnfields(res) - 1;

	return PQgetisnull(res, i, k) ? NULL : PQgetvalue(res, i, k);
}

static void
set_upto(struct vlist *l, long long v, const char *at)
{
	l->upto = v;
	free(l->upto_at);
	l->upto_at = at != NULL ? pgb_xstrdup(at) : NULL;
}

/* Digits up to the first '_' (or the end): sql-migrate, Prisma. */
static int
leading_number(const char *id, long long *v)
{
	char	num[20];
	size_t	n = strspn(id, "0123456789");

	if (n == 0 || n >= sizeof(num) || (id[n] != '_' && id[n] != '\0'))
		return -1;
	memcpy(num, id, n);
	num[n] = '\0';
	return pgb_version_plain(num, v);
}

static int
plain_row(const struct reader *r, PGresult *res, int i, struct vlist *l,
    struct pgb_diag *d)
{
	const char	*ver = PQgetvalue(res, i, 0);
	long long	 v;

	if (pgb_version_plain(ver, &v) == -1)
		return pgb_fail(d, PGB_ECONFLICT, "version '%.*s' in '%s' is "
		    "not a number", PGB_CUT(ver, 60), ver, r->table);
	vlist_add(l, v, at_of(res, i));
	return 0;
}

static int
golang_row(const struct reader *r, PGresult *res, int i, struct vlist *l,
    struct pgb_diag *d)
{
	long long	v;

	if (PQntuples(res) > 1)
		return pgb_fail(d, PGB_ECONFLICT, "golang-migrate table '%s' "
		    "has %d rows, expected one", r->table, PQntuples(res));
	if (pgb_version_plain(PQgetvalue(res, i, 0), &v) == -1)
		return pgb_fail(d, PGB_ECONFLICT, "golang-migrate version "
		    "'%.*s' is not a number", PGB_CUT(PQgetvalue(res, i, 0), 60),
		    PQgetvalue(res, i, 0));
	if (strcmp(PQgetvalue(res, i, 1), "false") != 0)
		return pgb_fail(d, PGB_ECONFLICT, "golang-migrate marks the "
		    "database dirty at version %lld: a migration failed half "
		    "way; fix it, then 'migrate force' a clean version before "
		    "adopting", v);
	set_upto(l, v, NULL);
	return 0;
}

/* sql-migrate records file names ("12_add_users.sql"): take the number. */
static int
sql_migrate_row(const struct reader *r, PGresult *res, int i,
    struct vlist *l, struct pgb_diag *d)
{
	const char	*id = PQgetvalue(res, i, 0);
	long long	 v;

	(void)r;
	if (strspn(id, "0123456789") == 0 || leading_number(id, &v) == -1)
		return pgb_fail(d, PGB_ECONFLICT, "sql-migrate id '%.*s' does "
		    "not start with a version number", PGB_CUT(id, 60), id);
	vlist_add(l, v, at_of(res, i));
	return 0;
}

/* Sqitch names changes instead of numbering them: match the names. */
static int
sqitch_row(const struct reader *r, PGresult *res, int i, struct vlist *l,
    struct pgb_diag *d)
{
	const char	*change = PQgetvalue(res, i, 0);
	size_t		 k;

	for (k = 0; k < r->m->nmigs; k++) {
		if (strcmp(r->m->migs[k].name, change) == 0) {
			vlist_add(l, r->m->migs[k].version, at_of(res, i));
			return 0;
		}
	}
	pgb_fail(d, PGB_ECONFLICT, "Sqitch deployed change '%.*s', which the "
	    "bundle holds no migration of that name for", PGB_CUT(change, 80),
	    change);
	pgb_detail(d, "name the migrations after the Sqitch changes "
	    "(NNN_%.*s.sql); nothing was changed", PGB_CUT(change, 80), change);
	return -1;
}

static int
flyway_row(const struct reader *r, PGresult *res, int i, struct vlist *l,
    struct pgb_diag *d)
{
	const char	*ver = PQgetvalue(res, i, 0);
	const char	*type = PQgetvalue(res, i, 2);
	long long	 v;

	(void)r;
	if (PQgetisnull(res, i, 0))
		return 0;	/* repeatable migrations have no version */
	if (pgb_version_flyway(ver, &v) == -1)
		return pgb_fail(d, PGB_ECONFLICT, "Flyway version '%s' cannot "
		    "be mapped to a pgbundle version", ver);
	if (strcmp(PQgetvalue(res, i, 1), "true") != 0)
		return pgb_fail(d, PGB_ECONFLICT, "Flyway marks version '%s' "
		    "failed: repair the database (flyway repair) before "
		    "adopting it", ver);
	if (strcmp(type, "BASELINE") == 0)
		set_upto(l, v, at_of(res, i));
	else if (strncmp(type, "UNDO", 4) != 0 && strcmp(type, "DELETE") != 0)
		vlist_add(l, v, at_of(res, i));
	return 0;
}

/* Diesel keeps its folder's digits: "2023-07-05-000058" as 20230705000058. */
static int
diesel_row(const struct reader *r, PGresult *res, int i, struct vlist *l,
    struct pgb_diag *d)
{
	const char	*ver = PQgetvalue(res, i, 0);
	char		 digits[20];
	size_t		 k, n = 0;
	long long	 v;

	(void)r;
	for (k = 0; ver[k] != '\0' && n < sizeof(digits) - 1; k++)
		if (ver[k] != '-')
			digits[n++] = ver[k];
	digits[n] = '\0';
	if (ver[k] != '\0' || pgb_version_plain(digits, &v) == -1)
		return pgb_fail(d, PGB_ECONFLICT, "Diesel version '%.*s' is "
		    "not a Diesel folder's date and number", PGB_CUT(ver, 60),
		    ver);
	vlist_add(l, v, at_of(res, i));
	return 0;
}

/* goose keeps one row per up and down: the latest of a version counts. */
static int
goose_row(const struct reader *r, PGresult *res, int i, struct vlist *l,
    struct pgb_diag *d)
{
	long long	 v;
	size_t		 k;

	(void)r;
	if (pgb_version_plain(PQgetvalue(res, i, 0), &v) == -1)
		return pgb_fail(d, PGB_ECONFLICT, "goose version '%.*s' is "
		    "not a number", PGB_CUT(PQgetvalue(res, i, 0), 60),
		    PQgetvalue(res, i, 0));
	for (k = 0; k < l->n && l->v[k] != v; k++)
		;
	if (k < l->n) {		/* drop the earlier state */
		free(l->at[k]);
		memmove(&l->v[k], &l->v[k + 1], (l->n - k - 1) *
		    sizeof(*l->v));
		memmove(&l->at[k], &l->at[k + 1], (l->n - k - 1) *
		    sizeof(*l->at));
		l->n--;
	}
	/* goose's own first row, version 0, marks the table's creation. */
	if (v != 0 && strcmp(PQgetvalue(res, i, 1), "true") == 0)
		vlist_add(l, v, at_of(res, i));
	return 0;
}

/* The version the map file gives 'rev' ("REVISION VERSION" lines). */
static int
map_lookup(const char *map, const char *rev, long long *v)
{
	const char	*p = map, *nl, *q;
	size_t		 n = strlen(rev), k;
	char		 num[24];

	for (; *p != '\0'; p = *nl ? nl + 1 : nl) {
		nl = p + strcspn(p, "\n");
		p += strspn(p, " \t");
		if ((size_t)(nl - p) <= n || strncmp(p, rev, n) != 0 ||
		    (p[n] != ' ' && p[n] != '\t'))
			continue;
		q = p + n + strspn(p + n, " \t");
		k = strspn(q, "0123456789");
		if (k == 0 || k >= sizeof(num))
			return -1;
		memcpy(num, q, k);
		num[k] = '\0';
		return pgb_version_plain(num, v);
	}
	return -1;
}

/* Alembic keeps only the head revision: everything up to its version. */
static int
alembic_row(const struct reader *r, PGresult *res, int i, struct vlist *l,
    struct pgb_diag *d)
{
	const char	*rev = PQgetvalue(res, i, 0);
	long long	 v;

	if (PQntuples(res) > 1)
		return pgb_fail(d, PGB_ECONFLICT, "alembic_version holds %d "
		    "heads (branches): merge them into one (alembic merge) "
		    "before adopting", PQntuples(res));
	if (r->map == NULL)
		return pgb_fail(d, PGB_EUSAGE, "adopting Alembic needs --map "
		    "FILE: Alembic revisions are ids, one 'REVISION VERSION' "
		    "line per migration says which version each one is");
	if (map_lookup(r->map, rev, &v) == -1)
		return pgb_fail(d, PGB_ECONFLICT, "Alembic revision '%.*s' is "
		    "not in the map file '%s'", PGB_CUT(rev, 40), rev,
		    r->o->adopt_map);
	set_upto(l, v, NULL);
	return 0;
}

/* Prisma: folder names, finished or not, and rolled back. */
static int
prisma_row(const struct reader *r, PGresult *res, int i, struct vlist *l,
    struct pgb_diag *d)
{
	const char	*name = PQgetvalue(res, i, 0);
	long long	 v;

	(void)r;
	if (!PQgetisnull(res, i, 1))
		return 0;		/* rolled back */
	if (PQgetisnull(res, i, 2))
		return pgb_fail(d, PGB_ECONFLICT, "Prisma marks migration "
		    "'%.*s' failed or unfinished: resolve it (prisma migrate "
		    "resolve) before adopting", PGB_CUT(name, 60), name);
	if (leading_number(name, &v) == -1)
		return pgb_fail(d, PGB_ECONFLICT, "Prisma migration '%.*s' "
		    "does not start with a version number", PGB_CUT(name, 60),
		    name);
	vlist_add(l, v, at_of(res, i));
	return 0;
}

/* Atlas: a baseline stands for everything up to it; partial is failed. */
static int
atlas_row(const struct reader *r, PGresult *res, int i, struct vlist *l,
    struct pgb_diag *d)
{
	const char	*ver = PQgetvalue(res, i, 0);
	long long	 v;

	(void)r;
	if (ver[0] == '.')
		return 0;	/* Atlas's own rows: ".atlas_cloud_identifier" */
	if (pgb_version_plain(ver, &v) == -1)
		return pgb_fail(d, PGB_ECONFLICT, "Atlas version '%.*s' is "
		    "not a number", PGB_CUT(ver, 60), ver);
	if (strcmp(PQgetvalue(res, i, 2), "t") != 0)
		return pgb_fail(d, PGB_ECONFLICT, "Atlas applied version %lld "
		    "only in part (an error stopped it): fix it (atlas "
		    "migrate set) before adopting", v);
	if (strcmp(PQgetvalue(res, i, 1), "t") == 0)
		set_upto(l, v, at_of(res, i));
	else
		vlist_add(l, v, at_of(res, i));
	return 0;
}

/*
 * Liquibase names changesets by id: each is the migration of that name
 * (pgbundle's liquibase layout names them so).  MARK_RAN and RERAN
 * count as run; SKIPPED does not.
 */
static int
liquibase_row(const struct reader *r, PGresult *res, int i, struct vlist *l,
    struct pgb_diag *d)
{
	const char	*id = PQgetvalue(res, i, 0), *type = PQgetvalue(res, i, 1);
	size_t		 k;

	if (strcmp(type, "EXECUTED") != 0 && strcmp(type, "RERAN") != 0 &&
	    strcmp(type, "MARK_RAN") != 0) {
		if (strcmp(type, "FAILED") == 0)
			return pgb_fail(d, PGB_ECONFLICT, "Liquibase marks "
			    "changeset '%.*s' failed: fix the database before "
			    "adopting it", PGB_CUT(id, 80), id);
		return 0;
	}
	for (k = 0; k < r->m->nmigs; k++) {
		if (strcmp(r->m->migs[k].name, id) == 0) {
			vlist_add(l, r->m->migs[k].version, at_of(res, i));
			return 0;
		}
	}
	pgb_fail(d, PGB_ECONFLICT, "Liquibase ran changeset '%.*s', which the "
	    "bundle holds no migration of that name for", PGB_CUT(id, 80), id);
	pgb_detail(d, "build the bundle from the same changelogs (pgbundle "
	    "names each changeset's migration by its id); nothing was changed");
	return -1;
}

/* Any table with a 'version' column, and 'applied_at' if it has one. */
#define CUSTOM_COLUMNS	"version::pg_catalog.text, (pg_catalog.to_jsonb(t) " \
	"OPERATOR(pg_catalog.->>) 'applied_at')::pg_catalog.timestamptz::pg_catalog.text"

static const struct tool tools[] = {
	{ "golang-migrate", "schema_migrations", "version::pg_catalog.text, dirty::pg_catalog.text, "
	    "NULL", "", golang_row },
	{ "dbmate", "schema_migrations", "version::pg_catalog.text, NULL", "", plain_row },
	{ "sql-migrate", "gorp_migrations", "id, applied_at::pg_catalog.timestamptz::pg_catalog.text",
	    "", sql_migrate_row },
	{ "sqitch", "sqitch.changes", "change, committed_at::pg_catalog.text",
	    " ORDER BY committed_at", sqitch_row },
	{ "flyway", "flyway_schema_history", "version, success::pg_catalog.text, type, "
	    "installed_on::pg_catalog.timestamptz::pg_catalog.text", " ORDER BY installed_rank",
	    flyway_row },
	{ "diesel", "__diesel_schema_migrations", "version::pg_catalog.text, "
	    "run_on::pg_catalog.timestamptz::pg_catalog.text", "", diesel_row },
	{ "alembic", "alembic_version", "version_num::pg_catalog.text, NULL", "",
	    alembic_row },
	{ "goose", "goose_db_version", "version_id::pg_catalog.text, is_applied::pg_catalog.text, "
	    "tstamp::pg_catalog.timestamptz::pg_catalog.text", " ORDER BY id", goose_row },
	{ "prisma", "_prisma_migrations", "migration_name, rolled_back_at, "
	    "finished_at::pg_catalog.timestamptz::pg_catalog.text", " ORDER BY started_at",
	    prisma_row },
	{ "atlas", "atlas_schema_revisions.atlas_schema_revisions",
	    "version, (type OPERATOR(pg_catalog.&) 1 OPERATOR(pg_catalog.<>) "
	    "0), (applied OPERATOR(pg_catalog.=) total AND coalesce(error, '') "
	    "OPERATOR(pg_catalog.=) ''), "
	    "executed_at::pg_catalog.timestamptz::pg_catalog.text", " ORDER BY version", atlas_row },
	{ "liquibase", "databasechangelog", "id, exectype, "
	    "dateexecuted::pg_catalog.timestamptz::pg_catalog.text", " ORDER BY orderexecuted",
	    liquibase_row },
	{ "custom", "schema_version", CUSTOM_COLUMNS, "", plain_row },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const char known_tools[] = "golang-migrate, dbmate, sql-migrate, "
    "sqitch, flyway, diesel, alembic, goose, prisma, atlas, liquibase, "
    "custom";

static const struct tool *
find_tool(const char *name, struct pgb_diag *d)
{
	const struct tool	*t;

	for (t = tools; t->name != NULL; t++)
		if (strcmp(t->name, name) == 0)
			return t;
	pgb_fail(d, PGB_EUSAGE, "unknown tool '%s' (known: %s)", name,
	    known_tools);
	return NULL;
}

/*
 * The table 'name' finds, with its schema, quoted by the server, into
 * *out (the caller frees it); 0, or 1 when it does not exist, or -1 on a
 * failed query.
 */
static int
resolve_table(struct pgb_db *db, const char *name, char **out,
    struct pgb_diag *d)
{
	const char	*p[1] = { name };
	PGresult	*res;
	int		 rc = 0;

	*out = NULL;
	if (pgb_db_exec(db, "SELECT pg_catalog.quote_ident(n.nspname) "
	    "OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) "
	    "pg_catalog.quote_ident(c.relname) FROM pg_catalog.pg_class c "
	    "RIGHT JOIN (SELECT pg_catalog.to_regclass($1) AS oid) r ON c.oid "
	    "OPERATOR(pg_catalog.=) r.oid LEFT JOIN pg_catalog.pg_namespace n "
	    "ON n.oid OPERATOR(pg_catalog.=) c.relnamespace", 1, p, &res,
	    d) == -1) {
		d->code = PGB_EUSAGE;
		return -1;
	}
	if (PQgetisnull(res, 0, 0))
		rc = 1;
	else
		*out = pgb_xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

/* Read the map file of --map under MAP_MAX, NUL-terminated. */
static int
read_map(const char *path, char **out, struct pgb_diag *d)
{
	size_t	len;

	if (pgb_file_read("map file", path, MAP_MAX, 0, PGB_EUSAGE, out, &len,
	    d) == -1)
		return -1;
	if (memchr(*out, '\0', len) != NULL) {
		free(*out);
		*out = NULL;
		return pgb_fail(d, PGB_EUSAGE, "map file '%s' holds a NUL "
		    "byte", path);
	}
	return 0;
}

static int
read_foreign(struct pgb_db *db, const struct tool *t, const char *table,
    struct reader *r, struct vlist *l, struct pgb_diag *d)
{
	struct pgb_buf	 sql;
	PGresult	*res;
	char		*qt = NULL;
	int		 i, rc;

	if ((rc = resolve_table(db, table, &qt, d)) != 0)
		return rc == 1 ? pgb_fail(d, PGB_EUSAGE, "table '%s' not "
		    "found: nothing to adopt", table) : -1;
	pgb_buf_init(&sql);
	pgb_buf_printf(&sql, "SELECT %s FROM %s t%s", t->columns, qt,
	    t->order);
	free(qt);
	rc = pgb_db_exec(db, sql.data, 0, NULL, &res, d);
	pgb_buf_release(&sql);
	if (rc == -1) {
		pgb_detail(d, "is '%s' a %s history table?", table, t->name);
		d->code = PGB_EUSAGE;
		return -1;
	}
	r->table = table;
	for (i = 0; rc == 0 && i < PQntuples(res); i++)
		rc = t->row(r, res, i, l, d);
	PQclear(res);
	return rc;
}

/* "Everything up to V": the bundle's versions to V, and V itself. */
static void
expand_upto(const struct pgb_manifest *m, struct vlist *l)
{
	size_t	i;
	int	found = 0;

	if (l->upto < 0)
		return;
	for (i = 0; i < m->nmigs && m->migs[i].version <= l->upto; i++) {
		found |= m->migs[i].version == l->upto;
		vlist_add(l, m->migs[i].version, m->migs[i].version ==
		    l->upto ? l->upto_at : NULL);
	}
	if (!found)
		vlist_add(l, l->upto, l->upto_at);
}

/* Adopt under the runner lock, which the caller holds. */
static int
adopt_locked(struct pgb_db *db, const struct pgb_manifest *m,
    const struct pgb_apply_opts *o, const struct tool *t, const char *table,
    struct pgb_diag *d)
{
	struct vlist	 l;
	struct reader	 r;
	char		 origin[64];
	int		 rc = -1;

	memset(&l, 0, sizeof(l));
	l.upto = -1;
	memset(&r, 0, sizeof(r));
	r.m = m;
	r.o = o;
	if (o->adopt_map != NULL && read_map(o->adopt_map, &r.map, d) == -1)
		return -1;
	if (read_foreign(db, t, table, &r, &l, d) == 0) {
		expand_upto(m, &l);
		snprintf(origin, sizeof(origin), "adopt:%s", t->name);
		rc = pgb_adopt_versions(db, m, o, l.v,
		    (const char *const *)l.at, l.n, origin, d);
	}
	free(r.map);
	vlist_release(&l);
	return rc;
}

int
pgb_adopt(struct pgb_db *db, const struct pgb_manifest *m,
    const struct pgb_apply_opts *o, const char *tool, const char *table,
    struct pgb_diag *d)
{
	const struct tool	*t;
	int			 rc;

	if ((t = find_tool(tool, d)) == NULL)
		return -1;
	if (pgb_db_lock(db, o->lock_wait, d) == -1)
		return -1;
	rc = adopt_locked(db, m, o, t, table ? table : t->table, d);
	pgb_db_unlock(db);
	return rc;
}

/*
 * Other tools' history tables, in the order they are looked for, and
 * how to tell two tools that name their table alike: by a column only
 * one of them has.
 */
static const struct probe {
	const char	*table;
	const char	*tool;
	const char	*column;	/* with it, the table is 'alt's */
	const char	*alt;
} probes[] = {
	{ "schema_migrations", "dbmate", "dirty", "golang-migrate" },
	{ "gorp_migrations", "sql-migrate", NULL, NULL },
	{ "sqitch.changes", "sqitch", NULL, NULL },
	{ "flyway_schema_history", "flyway", NULL, NULL },
	{ "__diesel_schema_migrations", "diesel", NULL, NULL },
	{ "alembic_version", "alembic", NULL, NULL },
	{ "goose_db_version", "goose", NULL, NULL },
	{ "databasechangelog", "liquibase", NULL, NULL },
	{ "_prisma_migrations", "prisma", NULL, NULL },
	{ "atlas_schema_revisions.atlas_schema_revisions", "atlas", NULL,
	    NULL },
	{ "schema_version", "custom", "installed_rank", "flyway" },
	{ NULL, NULL, NULL, NULL }
};

/* Rows that show the tool migrated something: goose's row 0 does not. */
static int
has_rows(struct pgb_db *db, const char *qt, const char *tool, int *yes,
    struct pgb_diag *d)
{
	struct pgb_buf	 sql;
	PGresult	*res;
	int		 rc;

	pgb_buf_init(&sql);
	pgb_buf_printf(&sql, "SELECT EXISTS (SELECT 1 FROM %s%s)", qt,
	    strcmp(tool, "goose") == 0 ? " WHERE version_id "
	    "OPERATOR(pg_catalog.<>) 0" : "");
	rc = pgb_db_exec(db, sql.data, 0, NULL, &res, d);
	pgb_buf_release(&sql);
	if (rc == 0) {
		*yes = PQgetvalue(res, 0, 0)[0] == 't';
		PQclear(res);
	}
	return rc;
}

/* Which of two tools that share a table name wrote it. */
static int
which_tool(struct pgb_db *db, const struct probe *p, const char *qt,
    const char **tool, struct pgb_diag *d)
{
	const char	*params[2] = { qt, p->column };
	PGresult	*res;

	*tool = p->tool;
	if (p->column == NULL)
		return 0;
	if (pgb_db_exec(db, "SELECT EXISTS (SELECT 1 FROM "
	    "pg_catalog.pg_attribute WHERE attrelid OPERATOR(pg_catalog.=) "
	    "pg_catalog.to_regclass($1) AND attname OPERATOR(pg_catalog.=) "
	    "$2 AND attnum OPERATOR(pg_catalog.>) 0 AND NOT attisdropped)", 2,
	    params, &res, d) == -1)
		return -1;
	if (PQgetvalue(res, 0, 0)[0] == 't')
		*tool = p->alt;
	PQclear(res);
	return 0;
}

/* Refuse: the first probe, among 'found' (their indexes), with rows. */
static int
refuse_foreign(struct pgb_db *db, const char *found, struct pgb_diag *d)
{
	const struct probe	*p;
	const char		*tool, *s = found;
	char			*qt;
	long			 k;
	char			*end;
	int			 yes = 0, rc;

	for (; *s != '\0'; s = *end ? end + 1 : end) {
		k = strtol(s, &end, 10);
		if (k < 1 || (size_t)k > sizeof(probes) / sizeof(probes[0]) - 1)
			break;
		p = &probes[k - 1];
		if ((rc = resolve_table(db, p->table, &qt, d)) != 0)
			return rc == 1 ? 0 : -1;
		if (has_rows(db, qt, p->tool, &yes, d) == -1 ||
		    (yes && which_tool(db, p, qt, &tool, d) == -1)) {
			free(qt);
			return -1;
		}
		if (yes) {
			pgb_fail(d, PGB_ECONFLICT, "the database has no "
			    "pgbundle history, but %s's history table '%s' "
			    "says it was migrated", tool, qt);
			pgb_detail(d, "applying would run every migration "
			    "again; adopt that history first: 'pgapply adopt "
			    "FILE --from %s%s%s', or 'pgapply apply FILE "
			    "--adopt-from %s%s%s' in one run; nothing was "
			    "changed", tool, strcmp(tool, "flyway") == 0 &&
			    strcmp(p->table, "schema_version") == 0 ?
			    " --table schema_version" : "",
			    strcmp(tool, "alembic") == 0 ? " --map FILE" : "",
			    tool, strcmp(tool, "flyway") == 0 &&
			    strcmp(p->table, "schema_version") == 0 ?
			    " --table schema_version" : "",
			    strcmp(tool, "alembic") == 0 ? " --map FILE" : "");
			free(qt);
			return -1;
		}
		free(qt);
	}
	return 0;
}

/*
 * One query: does pgbundle's history exist, does it hold rows (only
 * asked when it exists), and which probes' tables exist ("3 7", their
 * 1-based indexes), leaving out pgbundle's own table.
 */
static int
look_around(struct pgb_db *db, int *history, char **found, struct pgb_diag *d)
{
	struct pgb_buf	 names;
	const char	*p[2];
	PGresult	*res;
	size_t		 i;
	int		 rc;

	pgb_buf_init(&names);
	pgb_buf_puts(&names, "{");
	for (i = 0; probes[i].table != NULL; i++)
		pgb_buf_printf(&names, "%s\"%s\"", i ? "," : "",
		    probes[i].table);
	pgb_buf_puts(&names, "}");
	p[0] = db->qname;
	p[1] = names.data;
	rc = pgb_db_exec(db, "SELECT pg_catalog.to_regclass($1) IS NOT NULL, "
	    "pg_catalog.array_to_string(ARRAY(SELECT u.i FROM "
	    "pg_catalog.unnest($2::pg_catalog.text[]) WITH ORDINALITY AS "
	    "u(n, i) WHERE pg_catalog.to_regclass(u.n) IS NOT NULL AND "
	    "pg_catalog.to_regclass(u.n) OPERATOR(pg_catalog.<>) "
	    "coalesce(pg_catalog.to_regclass($1), 0::pg_catalog.oid) ORDER BY "
	    "u.i), ' ')", 2, p, &res, d);
	pgb_buf_release(&names);
	if (rc == -1)
		return -1;
	*history = PQgetvalue(res, 0, 0)[0] == 't';
	*found = pgb_xstrdup(PQgetvalue(res, 0, 1));
	PQclear(res);
	return 0;
}

int
pgb_adopt_guard(struct pgb_db *db, const struct pgb_manifest *m,
    const struct pgb_apply_opts *o, struct pgb_diag *d)
{
	int	exists;

	if (o->adopt_from == NULL) {
		if (pgb_db_history_exists(db, &exists, d) == -1)
			return -1;
		if (exists)
			return 1;
	}
	return pgb_adopt_guard_empty(db, m, o, d);
}

int
pgb_adopt_guard_empty(struct pgb_db *db, const struct pgb_manifest *m,
    const struct pgb_apply_opts *o, struct pgb_diag *d)
{
	const struct tool	*t = NULL;
	const char		*table;
	char			*found = NULL, *qt = NULL;
	int			 history, rows = 0, rc;

	if (o->adopt_from != NULL && (t = find_tool(o->adopt_from, d)) == NULL)
		return -1;
	if (look_around(db, &history, &found, d) == -1)
		return -1;
	/* Common case: nothing of another tool, or pgbundle's history. */
	rc = 0;
	if (found[0] == '\0' && t == NULL)
		goto out;
	/* Read pgbundle's history only once it is checked as its own. */
	if (history && ((rc = pgb_db_ensure_history(db, d)) == -1 ||
	    (rc = has_rows(db, db->qname, "pgbundle", &rows, d)) == -1))
		goto out;
	if (rows)
		goto out;	/* pgbundle took over long ago */
	if (t != NULL) {
		table = o->adopt_table ? o->adopt_table : t->table;
		if ((rc = resolve_table(db, table, &qt, d)) == -1)
			goto out;
		if (rc == 0) {
			rc = adopt_locked(db, m, o, t, table, d);
			goto out;
		}
		rc = 0;		/* nothing to adopt: look at the others */
	}
	rc = refuse_foreign(db, found, d);
out:
	free(qt);
	free(found);
	return rc;
}
