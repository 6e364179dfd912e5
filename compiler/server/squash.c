/*
 * squash.c - replace migrations 1..N by one baseline.
 *
 * Trusts: the folder as build.c compiled it, the server, and pg_dump
 * (refused before anything runs when older than the server).
 * The baseline is pg_dump's output with the lines pgapply must not run
 * (psql's \restrict, session timeouts, the empty search_path) taken out,
 * under "-- pgbundle:baseline-of FIRST..N" and one "-- pgbundle:replaces"
 * line per migration it stands for.  Rejects: a version N the folder does
 * not hold, a range that holds a baseline already, --data and
 * --schema-only tables that do not exist, tables the migrations fill that
 * neither names (their rows would be lost without a word), archive files
 * that would be overwritten, and a baseline that does not give the same
 * schema as the migrations (proven on a second scratch database).  The
 * folder changes only after all of that.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build.h"
#include "conninfo.h"
#include "fileio.h"
#include "text.h"
#include "bundle.h"
#include "prove.h"
#include "scan.h"
#include "schema.h"
#include "sections.h"
#include "squash.h"
#include "banned.h"

/* Double-quoted for a pg_dump pattern: exactly this name. */
static void
pattern(struct pgb_buf *b, const char *name)
{
	pgb_buf_puts(b, "\"");
	for (; *name; name++) {
		if (*name == '"')
			pgb_buf_puts(b, "\"");
		pgb_buf_append(b, name, 1);
	}
	pgb_buf_puts(b, "\"");
}

/*
 * The baseline's file name: migration N's with its descriptive part
 * replaced by "baseline" (013_add_index.sql -> 013_baseline.sql,
 * V13__add_index.sql -> V13__baseline.sql).  Caller frees.
 */
static char *
baseline_name(const struct pgb_srcmig *sm)
{
	struct pgb_buf	 b;
	const char	*base = strrchr(sm->up, '/'), *hit = NULL, *p;
	size_t		 n = strlen(sm->name);

	base = base ? base + 1 : sm->up;
	for (p = base; n > 0 && (p = strstr(p, sm->name)) != NULL; p++)
		hit = p;
	pgb_buf_init(&b);
	if (hit == NULL)
		pgb_buf_printf(&b, "%lld_baseline.sql", sm->version);
	else
		pgb_buf_printf(&b, "%.*sbaseline%s", (int)(hit - base), base,
		    hit + n);
	return pgb_buf_steal(&b, NULL);
}

/* rename(), or copy and unlink across file systems. */
static int
move_file(const char *from, const char *to, struct pgb_diag *d)
{
	char	*text;
	size_t	 len;
	int	 rc;

	if (rename(from, to) == 0)
		return 0;
	if (errno != EXDEV)
		return pgb_fail(d, PGB_EINTERNAL, "cannot move '%s' to '%s': "
		    "%s", from, to, strerror(errno));
	if (pgb_file_read(NULL, from, PGB_SQL_MAX, 0, PGB_EINTERNAL, &text,
	    &len, d) == -1)
		return -1;
	rc = pgb_file_create(to, text, len, 0644, d);
	free(text);
	if (rc == 0 && unlink(from) == -1) {
		unlink(to);
		return pgb_fail(d, PGB_EINTERNAL, "cannot remove '%s': %s",
		    from, strerror(errno));
	}
	return rc;
}

/* A pg_dump header line pgapply must not run. */
static int
drop_line(const char *p, size_t n)
{
	static const char *const drop[] = {
		"SET statement_timeout = ", "SET lock_timeout = ",
		"SET idle_in_transaction_session_timeout = ",
		"SET transaction_timeout = ",
		"SELECT pg_catalog.set_config('search_path', '', false);",
		"\\restrict ", "\\unrestrict ", NULL
	};
	size_t	i, k;

	for (i = 0; drop[i] != NULL; i++) {
		k = strlen(drop[i]);
		if (n >= k && strncmp(p, drop[i], k) == 0)
			return 1;
	}
	return 0;
}

/*
 * pg_dump's text, less what the header sets for a whole psql session
 * (pgapply has its own timeouts; the dump names every object with its
 * schema, so the empty search_path can go) and psql's \restrict lines.
 */
static void
sanitise(const char *t, size_t len, struct pgb_buf *out)
{
	const char	*p = t, *e, *end = t + len, *next;
	size_t		 n;
	int		 header = 1;

	while (p < end) {
		e = memchr(p, '\n', (size_t)(end - p));
		n = e ? (size_t)(e - p) : (size_t)(end - p);
		next = e ? e + 1 : end;
		if (header && !(n == 0 || strncmp(p, "--", 2) == 0 ||
		    strncmp(p, "SET ", 4) == 0 ||
		    strncmp(p, "SELECT pg_catalog.set_config(", 29) == 0 ||
		    strncmp(p, "\\restrict ", 10) == 0))
			header = 0;
		if ((header && drop_line(p, n)) ||
		    (n > 12 && strncmp(p, "\\unrestrict ", 12) == 0 &&
		    strspn(next, "\n") == (size_t)(end - next))) {
			p = next;
			continue;
		}
		pgb_buf_append(out, p, n);
		pgb_buf_puts(out, "\n");
		p = next;
	}
}

/*
 * The table that --'opt' 'name' names, checked to exist after migration
 * o->through: its oid appended to 'oids' ("1,2"), its name as the server
 * quotes it to 'shown' ("a, b").
 */
static int
resolve_table(struct pgb_db *db, const struct pgb_squash_opts *o,
    const char *opt, const char *name, struct pgb_buf *oids,
    struct pgb_buf *shown, struct pgb_diag *d)
{
	const char	*p[1] = { name };
	PGresult	*res;

	if (pgb_db_exec(db, "SELECT c.oid, pg_catalog.format('%I.%I', "
	    "n.nspname, c.relname) FROM pg_catalog.pg_class c JOIN "
	    "pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE "
	    "c.oid = pg_catalog.to_regclass($1) AND c.relkind IN "
	    "('r', 'p')", 1, p, &res, d) == -1)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return pgb_fail(d, PGB_EUSAGE, "--%s '%s': no such table after "
		    "migration %lld", opt, name, o->through);
	}
	pgb_buf_printf(oids, "%s%s", oids->len ? "," : "",
	    PQgetvalue(res, 0, 0));
	if (shown != NULL)
		pgb_buf_printf(shown, "%s%s", shown->len ? ", " : "",
		    PQgetvalue(res, 0, 1));
	PQclear(res);
	return 0;
}

/*
 * The tables of the scratch database outside pg_catalog,
 * information_schema, the history's schema 'skip' and extensions, other
 * than those in 'oids' ("{1,2}"), as "schema"."table", one row each.
 */
#define OTHER_TABLES_SQL \
	"SELECT pg_catalog.format('%I.%I', n.nspname, c.relname), " \
	"n.nspname, c.relname FROM pg_catalog.pg_class c JOIN " \
	"pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind " \
	"IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', " \
	"'information_schema', $1) AND n.nspname !~ '^pg_' AND c.oid <> ALL " \
	"($2::pg_catalog.oid[]) AND NOT EXISTS (SELECT 1 FROM " \
	"pg_catalog.pg_depend x WHERE x.classid = " \
	"'pg_catalog.pg_class'::pg_catalog.regclass AND x.objid = c.oid AND " \
	"x.deptype = 'e')"

/*
 * The --data tables, checked to exist, and --exclude-table-data options
 * for every other table of the database: 'args' gets pg_dump arguments.
 */
static int
data_args(struct pgb_db *db, const struct pgb_squash_opts *o,
    const char *skip, struct pgb_buf *names, char ***args, size_t *nargs,
    struct pgb_diag *d)
{
	const char	*p[2];
	PGresult	*res;
	struct pgb_buf	 arg, keep;
	size_t		 i;
	int		 k, n;

	pgb_buf_init(&keep);
	for (i = 0; i < o->ndata; i++) {
		if (resolve_table(db, o, "data", o->data[i], &keep, names,
		    d) == -1) {
			pgb_buf_release(&keep);
			return -1;
		}
	}
	pgb_buf_init(&arg);
	pgb_buf_printf(&arg, "{%s}", keep.data ? keep.data : "");
	p[0] = skip;
	p[1] = arg.data;
	k = pgb_db_exec(db, OTHER_TABLES_SQL " ORDER BY 2, 3", 2, p, &res, d);
	pgb_buf_release(&arg);
	pgb_buf_release(&keep);
	if (k == -1)
		return -1;
	n = PQntuples(res);
	*args = pgb_xcalloc((size_t)n + 1, sizeof(**args));
	*nargs = 0;
	for (k = 0; k < n; k++) {
		pgb_buf_init(&arg);
		pgb_buf_puts(&arg, "--exclude-table-data=");
		pattern(&arg, PQgetvalue(res, k, 1));
		pgb_buf_puts(&arg, ".");
		pattern(&arg, PQgetvalue(res, k, 2));
		(*args)[(*nargs)++] = pgb_buf_steal(&arg, NULL);
	}
	PQclear(res);
	return 0;
}

/* Is 'oid' one of the comma-separated 'list' (NULL: empty)? */
static int
oid_listed(const char *list, const char *oid)
{
	size_t		 n = strlen(oid);
	const char	*p;

	for (p = list; p != NULL && *p != '\0'; p += strcspn(p, ",")) {
		p += *p == ',';
		if (strncmp(p, oid, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
	}
	return 0;
}

/* "public.plans (3 rows)" for the table 'qname' when it has rows. */
static int
rows_of(struct pgb_db *db, const char *qname, struct pgb_buf *out,
    size_t *n, struct pgb_diag *d)
{
	struct pgb_buf	 sql;
	PGresult	*res;
	const char	*count;
	int		 rc;

	pgb_buf_init(&sql);
	pgb_buf_printf(&sql, "SELECT pg_catalog.count(*) FROM %s", qname);
	rc = pgb_db_exec(db, sql.data, 0, NULL, &res, d);
	pgb_buf_release(&sql);
	if (rc == -1)
		return -1;
	count = PQgetvalue(res, 0, 0);
	if (strcmp(count, "0") != 0) {
		/* The detail line is bounded; the count says the rest. */
		if (out->len < 800)
			pgb_buf_printf(out, "%s%s (%s row%s)", out->len ? ", " :
			    "", qname, count, strcmp(count, "1") ? "s" : "");
		else if (*n == 0 || out->data[out->len - 1] != '.')
			pgb_buf_puts(out, ", ...");
		(*n)++;
	}
	PQclear(res);
	return 0;
}

/*
 * After 1..N ran: every table holding rows must be named by --data
 * (keep them) or --schema-only (leave them out), else pg_dump's schema
 * would lose them without a word.  0, or -1 (PGB_EUSAGE naming them).
 */
static int
check_rows(struct pgb_db *db, const struct pgb_squash_opts *o,
    const struct pgb_manifest *m, const char *skip, struct pgb_diag *d)
{
	const char	*p[2];
	PGresult	*res = NULL;
	struct pgb_buf	 named, both, arr, found;
	size_t		 i, n = 0;
	int		 k, rc = -1;

	pgb_buf_init(&named);
	pgb_buf_init(&both);
	pgb_buf_init(&arr);
	pgb_buf_init(&found);
	for (i = 0; i < o->ndata; i++)
		if (resolve_table(db, o, "data", o->data[i], &named, NULL,
		    d) == -1)
			goto out;
	for (i = 0; i < o->nschema_only; i++) {
		arr.len = 0;
		if (resolve_table(db, o, "schema-only", o->schema_only[i],
		    &arr, NULL, d) == -1)
			goto out;
		if (oid_listed(named.data, arr.data)) {
			pgb_fail(d, PGB_EUSAGE, "'%s' is given with both --data "
			    "and --schema-only", o->schema_only[i]);
			goto out;
		}
		pgb_buf_printf(&both, "%s%s", both.len ? "," : "", arr.data);
	}
	arr.len = 0;
	pgb_buf_printf(&arr, "{%s%s%s}", named.len ? named.data : "",
	    named.len && both.len ? "," : "", both.len ? both.data : "");
	p[0] = skip;
	p[1] = arr.data;
	if (pgb_db_exec(db, OTHER_TABLES_SQL " AND NOT c.relispartition "
	    "ORDER BY 2, 3", 2, p, &res, d) == -1)
		goto out;
	for (k = 0; k < PQntuples(res); k++)
		if (rows_of(db, PQgetvalue(res, k, 0), &found, &n, d) == -1)
			goto out;
	if (n > 0) {
		pgb_fail(d, PGB_EUSAGE, "migrations %lld..%lld leave rows in %zu "
		    "table%s that the baseline would not keep", m->migs[0].version,
		    o->through, n, n == 1 ? "" : "s");
		pgb_detail(d, "%s: name each with --data TABLE to keep its rows "
		    "in the baseline, or --schema-only TABLE to leave them out; "
		    "nothing was changed", found.data);
		goto out;
	}
	rc = 0;
out:
	PQclear(res);
	pgb_buf_release(&named);
	pgb_buf_release(&both);
	pgb_buf_release(&arr);
	pgb_buf_release(&found);
	return rc;
}

/* pg_dump (the program 'prog') the scratch database 'name' into 'out'. */
static int
dump(struct pgb_server *s, const char *prog, const char *name,
    const char *skip, char *const *extra, size_t nextra, int schema_only,
    struct pgb_buf *out, struct pgb_diag *d)
{
	char		**argv;
	struct pgb_buf	 nsp, err, masked;
	char		*ci;
	size_t		 n = 0, i;
	int		 st;

	argv = pgb_xcalloc(nextra + 8, sizeof(*argv));
	pgb_buf_init(&nsp);
	pattern(&nsp, skip);
	ci = pgb_server_conninfo(s, name);
	argv[n++] = (char *)prog;
	argv[n++] = (char *)"--no-owner";
	argv[n++] = (char *)"--exclude-schema";
	argv[n++] = nsp.data;
	if (schema_only)
		argv[n++] = (char *)"--schema-only";
	for (i = 0; i < nextra; i++)
		argv[n++] = extra[i];
	argv[n++] = (char *)"-d";
	argv[n++] = ci;
	argv[n] = NULL;
	pgb_buf_init(&err);
	st = pgb_run_program(argv, (uid_t)-1, (gid_t)-1, s->password, out, &err,
	    NULL, d);
	if (st > 0) {
		pgb_fail(d, PGB_EINTERNAL, "pg_dump failed (exit %d)", st);
		pgb_buf_init(&masked);
		pgb_conninfo_mask(ci, s->password, err.data ? err.data : "",
		    &masked);
		pgb_detail(d, "%.*s", PGB_CUT(masked.data, 900), masked.data);
		pgb_buf_release(&masked);
		st = -1;
	}
	pgb_buf_release(&err);
	pgb_buf_release(&nsp);
	free(ci);
	free(argv);
	return st == 0 ? 0 : -1;
}

/* The directives and the note at the top of the baseline. */
static void
header(const struct pgb_manifest *m, size_t k, const struct pgb_squash_opts *o,
    const char *tables, struct pgb_buf *b)
{
	const struct pgb_migration	*g;
	char				 hex[PGB_HEX256_LEN + 1];
	size_t				 i;

	pgb_buf_printf(b, "-- pgbundle:baseline-of %lld..%lld\n",
	    m->migs[0].version, m->migs[k].version);
	for (i = 0; i <= k; i++) {
		g = &m->migs[i];
		pgb_hex(g->up.sha256, PGB_SHA256_LEN, hex);
		pgb_buf_printf(b, "-- pgbundle:replaces %lld %s%s%s\n",
		    g->version, hex, g->name[0] ? " " : "", g->name);
	}
	pgb_buf_printf(b, "-- pgbundle:allow no-down\n--\n"
	    "-- Baseline of migrations %lld to %lld, written by pgbundle "
	    "squash:\n-- what pg_dump wrote after them (the schema%s%s).\n"
	    "-- The files it replaces are in '%s'.\n"
	    "-- pgapply runs it on a database that has none of them and "
	    "records\n-- them as applied; where they all ran, it counts as "
	    "applied without\n-- running.\n\n", m->migs[0].version,
	    m->migs[k].version, tables[0] ? ", and the rows of " : "", tables,
	    o->archive);
}

/* The files of migrations 0..k: up and down, each once. */
static size_t
files(const struct pgb_scan *sc, size_t k, const char **v)
{
	size_t	i, n = 0;

	for (i = 0; i <= k; i++) {
		v[n++] = sc->v[i].up;
		if (sc->v[i].down != NULL && strcmp(sc->v[i].down, sc->v[i].up))
			v[n++] = sc->v[i].down;
	}
	return n;
}

static char *
join(const char *dir, const char *path)
{
	struct pgb_buf	 b;
	const char	*base = strrchr(path, '/');

	pgb_buf_init(&b);
	pgb_buf_printf(&b, "%s/%s", dir, base ? base + 1 : path);
	return pgb_buf_steal(&b, NULL);
}

/*
 * Compile the baseline alone from 'tmpdir', apply it on a new database
 * and compare its schema with 'want'.  0 equal; -1 with 'r' (PGB_ESOURCE)
 * or 'd'.
 */
static int
prove_equal(struct pgb_server *s, const struct pgb_squash_opts *o,
    enum pgb_layout layout, const char *tmpdir, const struct pgb_schema *want,
    const char *skip, const char *final, struct pgb_report *r,
    struct pgb_diag *d)
{
	static const char *const verbs[3] = { "adds", "lacks", "changes" };
	struct pgb_build_opts	 bo;
	struct pgb_build_result	 br;
	struct pgb_report	 tr;
	struct pgb_bundle	*b = NULL;
	struct pgb_schema	 got;
	struct pgb_schema_diff	*v = NULL;
	struct pgb_buf		 what;
	struct pgb_db		 db;
	char			 name[96];
	size_t			 i, n;
	int			 rc = -1, k;

	memset(&bo, 0, sizeof(bo));
	bo.dir = tmpdir;
	bo.layout = layout;
	bo.include_root = o->include_root;
	bo.project = "squash";
	pgb_report_init(&tr, 0);
	if (pgb_build_bundle(&bo, &tr, &br, &b, d) == -1) {
		for (i = 0; i < tr.n; i++)
			if (tr.v[i].sev == PGB_SEV_ERROR)
				pgb_report_add(r, PGB_SEV_ERROR, final,
				    tr.v[i].line, NULL, "%s", tr.v[i].msg);
		pgb_report_release(&tr);
		if (d->code == PGB_ESOURCE)
			snprintf(d->msg, sizeof(d->msg), "the baseline pg_dump "
			    "wrote does not compile");
		return -1;
	}
	pgb_report_release(&tr);
	if (pgb_server_newdb(s, &db, o->history, name, sizeof(name), d) == -1) {
		pgb_bundle_free(b);
		return -1;
	}
	k = pgb_prove_apply(&db, &b->manifest, o->through, o->dir, r, d);
	if (k == 1)
		pgb_fail(d, PGB_ESOURCE, "the baseline does not apply");
	if (k == 0 && pgb_schema_read(&db, skip, &got, d) == 0) {
		n = pgb_schema_diff(want, &got, &v);
		for (i = 0; i < n; i++) {
			pgb_buf_init(&what);
			pgb_schema_describe(&v[i], &what);
			pgb_report_add(r, PGB_SEV_ERROR, final, 0, NULL, "the "
			    "baseline would differ from the migrations it "
			    "replaces: it %s %s", verbs[v[i].change],
			    what.data);
			pgb_buf_release(&what);
		}
		free(v);
		pgb_schema_release(&got);
		rc = n == 0 ? 0 : pgb_fail(d, PGB_ESOURCE, "the baseline "
		    "would not build the same schema");
	}
	pgb_server_dropdb(s, &db, name);
	pgb_bundle_free(b);
	return rc;
}

/*
 * The folder's sum file, when it has one, lists the replaced migrations:
 * rewrite it as "pgbundle sum --fix" would.  1 rewritten, 0 none, -1 it
 * could not be (the folder is right; "pgbundle sum --fix" says why).
 */
static int
refresh_sum(const struct pgb_squash_opts *o, enum pgb_layout layout)
{
	struct pgb_build_opts	 bo;
	struct pgb_build_result	 br;
	struct pgb_report	 r;
	struct pgb_diag		 d;
	struct pgb_buf		 path;
	int			 rc;

	pgb_buf_init(&path);
	pgb_buf_printf(&path, "%s/%s", o->dir, PGB_SUM_NAME);
	rc = access(path.data, F_OK);
	pgb_buf_release(&path);
	if (rc == -1)
		return 0;
	memset(&bo, 0, sizeof(bo));
	bo.dir = o->dir;
	bo.layout = layout;
	bo.include_root = o->include_root;
	bo.unsigned_ok = 1;
	bo.sum = PGB_SUM_FIX;
	bo.sum_only = 1;
	pgb_report_init(&r, 0);
	rc = pgb_build(&bo, &r, &br, &d) == 0 && br.sum_written ? 1 : -1;
	pgb_report_release(&r);
	return rc;
}

/* Put the moved files back, newest move first. */
static void
undo_moves(const char **from, char **to, size_t n)
{
	struct pgb_diag	ignore;

	while (n-- > 0)
		(void)move_file(to[n], from[n], &ignore);
}

/* Validate the request against the folder: 0 and *k, the index of N. */
static int
check_request(const struct pgb_manifest *m, const struct pgb_scan *sc,
    const struct pgb_squash_opts *o, size_t *k, struct pgb_diag *d)
{
	size_t	i;

	for (i = 0; i < m->nmigs && m->migs[i].version != o->through; i++)
		if (m->migs[i].baseline)
			return pgb_fail(d, PGB_EUSAGE, "migration %lld is "
			    "already a baseline: squashing through it is not "
			    "supported", m->migs[i].version);
	if (i == m->nmigs)
		return pgb_fail(d, PGB_EUSAGE, "no migration has version %lld "
		    "(squash --through names the last migration to replace)",
		    o->through);
	if (m->migs[i].baseline)
		return pgb_fail(d, PGB_EUSAGE, "migration %lld is already a "
		    "baseline", o->through);
	if (sc->n != m->nmigs)
		return pgb_fail(d, PGB_EINTERNAL, "the folder changed while "
		    "pgbundle read it");
	for (*k = 0; *k <= i; (*k)++)
		if (sc->v[*k].version != m->migs[*k].version)
			return pgb_fail(d, PGB_EINTERNAL, "the folder changed "
			    "while pgbundle read it");
	/* One file per migration, named by its version, or nothing. */
	if (sc->layout == PGB_LAYOUT_DIESEL || sc->layout == PGB_LAYOUT_PRISMA ||
	    sc->layout == PGB_LAYOUT_ATLAS || sc->layout == PGB_LAYOUT_SQITCH ||
	    sc->layout == PGB_LAYOUT_LIQUIBASE)
		return pgb_fail(d, PGB_EUSAGE, "squash does not write %s's "
		    "folder layout", pgb_layout_label(sc->layout));
	*k = i;
	return 0;
}

/* One squash, from request to result; squash_release() frees it. */
struct squash {
	struct pgb_server		*s;
	const struct pgb_manifest	*m;
	const struct pgb_squash_opts	*o;
	struct pgb_report		*r;
	struct pgb_scan			 sc;
	struct pgb_schema		 want;	/* what 1..N build */
	struct pgb_buf			 text;	/* the baseline */
	struct pgb_buf			 tables; /* the tables whose rows it has */
	size_t				 k;	/* index of migration N */
	char				*skip;	/* the history table's schema */
	char				*base;	/* the baseline's file name */
	char				*final;	/* its path in the folder */
	const char			**from;	/* the replaced files ... */
	char				**to;	/* ... and where they go */
	size_t				 nfiles;
	char				 tmpdir[PATH_MAX]; /* or "" */
};

/*
 * Name the baseline and where each replaced file goes, make the archive
 * folder, and refuse anything that would overwrite a file.
 */
static int
plan_files(struct squash *q, struct pgb_diag *d)
{
	char	real1[PATH_MAX], real2[PATH_MAX];
	size_t	i;

	q->base = baseline_name(&q->sc.v[q->k]);
	q->final = join(q->o->dir, q->base);
	q->from = pgb_xcalloc(2 * (q->k + 1), sizeof(*q->from));
	q->to = pgb_xcalloc(2 * (q->k + 1), sizeof(*q->to));
	q->nfiles = files(&q->sc, q->k, q->from);
	if (pgb_file_mkdirs(q->o->archive, d) == -1)
		return -1;
	if (realpath(q->o->archive, real1) == NULL ||
	    realpath(q->o->dir, real2) == NULL || strcmp(real1, real2) == 0)
		return pgb_fail(d, PGB_EUSAGE, "--archive must be another "
		    "folder than '%s'", q->o->dir);
	for (i = 0; i < q->nfiles; i++) {
		q->to[i] = join(q->o->archive, q->from[i]);
		if (access(q->to[i], F_OK) == 0)
			return pgb_fail(d, PGB_EUSAGE, "'%s' exists already: "
			    "squash does not overwrite the archive", q->to[i]);
	}
	if (access(q->final, F_OK) == 0)
		return pgb_fail(d, PGB_EUSAGE, "'%s' exists already", q->final);
	return 0;
}

/*
 * Apply 1..N on a new scratch database, read its schema into q->want and
 * write the baseline into q->text: the header, then pg_dump's output.
 */
static int
write_baseline(struct squash *q, struct pgb_diag *d)
{
	const struct pgb_squash_opts	*o = q->o;
	struct pgb_db			 db;
	struct pgb_buf			 raw;
	char				 name[96], pg_dump[PATH_MAX];
	char				**extra = NULL;
	size_t				 i, nextra = 0;
	int				 rc = -1, st;

	/* A pg_dump older than the server would only fail at the end. */
	if (pgb_pg_program_for("pg_dump", q->s->admin.server_version, pg_dump,
	    sizeof(pg_dump), d) == -1)
		return -1;
	if (pgb_server_newdb(q->s, &db, o->history, name, sizeof(name),
	    d) == -1)
		return -1;
	pgb_buf_init(&raw);
	if ((st = pgb_prove_apply(&db, q->m, o->through, o->dir, q->r,
	    d)) != 0) {
		if (st == 1)
			pgb_fail(d, PGB_ESOURCE, "migrations 1..%lld do not "
			    "apply on an empty database", o->through);
		goto out;
	}
	if (check_rows(&db, o, q->m, q->skip, d) == -1 ||
	    pgb_schema_read(&db, q->skip, &q->want, d) == -1 ||
	    data_args(&db, o, q->skip, &q->tables, &extra, &nextra, d) == -1 ||
	    dump(q->s, pg_dump, name, q->skip, o->ndata ? extra : NULL,
	    o->ndata ? nextra : 0, o->ndata == 0, &raw, d) == -1)
		goto out;
	if (pgb_sections_up_line(q->sc.layout) != NULL)
		pgb_buf_puts(&q->text, pgb_sections_up_line(q->sc.layout));
	header(q->m, q->k, o, q->tables.data ? q->tables.data : "", &q->text);
	sanitise(raw.data ? raw.data : "", raw.len, &q->text);
	rc = 0;
out:
	pgb_server_dropdb(q->s, &db, name);
	for (i = 0; i < nextra; i++)
		free(extra[i]);
	free(extra);
	pgb_buf_release(&raw);
	return rc;
}

/* Prove the baseline from a folder of its own before touching the real one. */
static int
prove_baseline(struct squash *q, struct pgb_diag *d)
{
	struct pgb_buf	 tmp;
	const char	*t = getenv("TMPDIR");
	int		 rc;

	snprintf(q->tmpdir, sizeof(q->tmpdir), "%s/pgbundle-squash-XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	if (mkdtemp(q->tmpdir) == NULL) {
		q->tmpdir[0] = '\0';
		return pgb_fail(d, PGB_EINTERNAL, "cannot make a temporary "
		    "folder: %s", strerror(errno));
	}
	pgb_buf_init(&tmp);
	pgb_buf_printf(&tmp, "%s/%s", q->tmpdir, q->base);
	rc = pgb_file_create(tmp.data, q->text.data, q->text.len, 0644, d) ==
	    -1 || prove_equal(q->s, q->o, q->sc.layout, q->tmpdir, &q->want,
	    q->skip, q->final, q->r, d) == -1 ? -1 : 0;
	pgb_buf_release(&tmp);
	return rc;
}

/*
 * Now the folder: the baseline staged beside, the replaced files into
 * the archive, then the baseline in.  On failure the moves are undone.
 */
static int
swap_in(struct squash *q, struct pgb_diag *d)
{
	struct pgb_buf	 tmp;
	char		 staged[PATH_MAX];
	size_t		 moved;
	int		 rc;

	pgb_buf_init(&tmp);
	pgb_buf_printf(&tmp, "%s/.%s", q->o->dir, q->base);
	rc = pgb_file_temp(tmp.data, q->text.data, q->text.len, 0644, staged,
	    sizeof(staged), d);
	pgb_buf_release(&tmp);
	if (rc == -1)
		return -1;
	for (moved = 0; moved < q->nfiles; moved++)
		if (move_file(q->from[moved], q->to[moved], d) == -1)
			break;
	if (moved < q->nfiles || pgb_file_rename(staged, q->final, d) == -1) {
		undo_moves(q->from, q->to, moved);
		unlink(staged);
		return -1;
	}
	return 0;
}

static void
squash_release(struct squash *q)
{
	struct pgb_buf	tmp;
	size_t		i;

	if (q->tmpdir[0] != '\0') {
		pgb_buf_init(&tmp);
		pgb_buf_printf(&tmp, "%s/%s", q->tmpdir, q->base);
		unlink(tmp.data);
		pgb_buf_release(&tmp);
		rmdir(q->tmpdir);
	}
	for (i = 0; i < q->nfiles; i++)
		free(q->to[i]);
	free(q->to);
	free(q->from);
	free(q->base);
	free(q->final);
	free(q->skip);
	pgb_schema_release(&q->want);
	pgb_scan_release(&q->sc);
	pgb_buf_release(&q->text);
	pgb_buf_release(&q->tables);
}

int
pgb_squash(struct pgb_server *s, const struct pgb_manifest *m,
    const struct pgb_squash_opts *o, struct pgb_report *r,
    struct pgb_squash_result *res, struct pgb_diag *d)
{
	struct squash		 q;
	struct pgb_report	 ignore;
	int			 rc = -1;

	memset(res, 0, sizeof(*res));
	memset(&q, 0, sizeof(q));
	q.s = s;
	q.m = m;
	q.o = o;
	q.r = r;
	pgb_buf_init(&q.text);
	pgb_buf_init(&q.tables);
	q.skip = pgb_xstrndup(o->history, strcspn(o->history, "."));
	pgb_report_init(&ignore, 0);
	if (pgb_scan_dir(o->dir, o->layout, &q.sc, &ignore, d) == -1 ||
	    check_request(m, &q.sc, o, &q.k, d) == -1 ||
	    plan_files(&q, d) == -1 || write_baseline(&q, d) == -1 ||
	    prove_baseline(&q, d) == -1 || swap_in(&q, d) == -1)
		goto out;
	snprintf(res->path, sizeof(res->path), "%s", q.final);
	res->first = m->migs[0].version;
	res->replaced = q.k + 1;
	res->moved = q.nfiles;
	res->sum = refresh_sum(o, q.sc.layout);
	rc = 0;
out:
	squash_release(&q);
	pgb_report_release(&ignore);
	return rc;
}
