/*
 * prove.c - pgbundle check against a real server: what static checks
 * cannot see (a DROP INDEX of an index only old databases have, a down
 * script that forgets a column, a verify query that is false, a
 * no-transaction migration that cannot run twice).
 *
 * Trusts: the server, and a manifest the runtime's verifier read back.
 * Migrations are applied and rolled back with the runtime's own code
 * (pgb_apply, pgb_rollback), one version at a time, on databases this
 * module creates and drops; statements run through the runtime's runner
 * (pgb_db_exec, pgb_run_stmt) and history rows change only through
 * history.c.  Schemas are compared with schema.c.
 * Findings name the source file and line; the server's words follow.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "bounds.h"
#include "buf.h"
#include "fileio.h"
#include "history.h"
#include "prove.h"
#include "schema.h"
#include "banned.h"

struct prover {
	struct pgb_server		*srv;
	const struct pgb_manifest	*m;
	const struct pgb_prove_opts	*o;
	struct pgb_report		*r;
	struct pgb_prove_result		*res;
	struct pgb_db			 db;
	char				 name[96];
	int				 open;
	char				*skip;	/* the history's schema */
};

/* Where a bundle entry ("migrations/PATH") came from: DIR/PATH. */
static char *
src_path(const char *dir, const char *entry)
{
	struct pgb_buf	 b;

	pgb_buf_init(&b);
	if (dir != NULL && strncmp(entry, "migrations/", 11) == 0)
		pgb_buf_printf(&b, "%s/%s", dir, entry + 11);
	else
		pgb_buf_puts(&b, entry);
	return pgb_buf_steal(&b, NULL);
}

/* The server's message: the detail's "SQLSTATE XXXXX: " line, else msg. */
static void
server_words(const struct pgb_diag *d, char *out, size_t len)
{
	const char	*s = d->detail;
	size_t		 n;

	if (strncmp(s, "SQLSTATE ", 9) == 0 && strlen(s) > 16 &&
	    s[14] == ':' && s[15] == ' ') {
		s += 16;
		n = strcspn(s, "\n");
		snprintf(out, len, "%.*s", (int)n, s);
	} else
		snprintf(out, len, "%s", d->msg);
}

/*
 * The "(file:line)" the runtime puts after "failed at statement N of M"
 * in a failed statement's message: at its end, before "; " and what
 * became of the transaction, or before ": " and the runtime's own reason.
 * 0 and *file (caller frees), *line and *why (that reason, or NULL), or
 * -1.
 */
static int
failed_at(const struct pgb_diag *d, char **file, unsigned *line,
    const char **why)
{
	const char	*open, *close, *colon, *at;
	char		*stop;
	unsigned long	 v;

	if ((at = strstr(d->msg, " failed at statement ")) == NULL ||
	    (open = strchr(at, '(')) == NULL ||
	    (close = strchr(open, ')')) == NULL || (close[1] != '\0' &&
	    strncmp(close + 1, ": ", 2) != 0 && strncmp(close + 1, "; ", 2) != 0))
		return -1;
	for (colon = close - 1; colon > open && *colon != ':'; colon--)
		;
	if (colon == open)
		return -1;
	errno = 0;
	v = strtoul(colon + 1, &stop, 10);
	if (errno || stop != close || v == 0 || v > 0xffffffffUL)
		return -1;
	*file = pgb_xstrndup(open + 1, (size_t)(colon - open - 1));
	*line = (unsigned)v;
	*why = close[1] == ':' ? close + 3 : NULL;
	return 0;
}

/* Line of the k-th (0-based) "-- verify:" comment of 'path', or 0. */
static unsigned
verify_line(const char *path, size_t k)
{
	struct pgb_diag	 ignore;
	char		*text;
	const char	*p, *e;
	size_t		 len;
	unsigned	 line = 0, found = 0;

	if (pgb_file_read(NULL, path, PGB_SQL_MAX, 0, PGB_EINTERNAL, &text,
	    &len, &ignore) == -1)
		return 0;
	for (p = text; *p != '\0' && found == 0; p = *e != '\0' ? e + 1 : e) {
		e = p + strcspn(p, "\n");
		line++;
		p += strspn(p, " \t");
		if (strncmp(p, "--", 2) == 0) {
			p += 2 + strspn(p + 2, " \t");
			if (strncmp(p, "verify:", 7) == 0 && k-- == 0)
				found = line;
		}
	}
	free(text);
	return found;
}

/* Index (0-based) from "verify query N of ...", or -1. */
static long
verify_index(const char *msg)
{
	char	*end;
	long	 n;

	if (strncmp(msg, "verify query ", 13) != 0)
		return -1;
	n = strtol(msg + 13, &end, 10);
	return end != msg + 13 && n >= 1 ? n - 1 : -1;
}

static int
is_migration_error(const struct pgb_diag *d)
{
	return d->code == PGB_ESQL || d->code == PGB_EOPERATOR;
}

/*
 * Report a failed pgb_apply() of 'mig' at the statement or verify query
 * that failed, as "file:line: <sev>: <prefix><server message>".
 */
static void
report_failure(struct prover *p, const char *dir,
    const struct pgb_migration *mig, enum pgb_sev sev, const char *prefix,
    const struct pgb_diag *d)
{
	char		 words[sizeof(d->detail)], *file = NULL, *where;
	const char	*q, *why;
	unsigned	 line = 0;
	long		 k;

	server_words(d, words, sizeof(words));
	where = src_path(dir, mig->up.path);
	if ((k = verify_index(d->msg)) >= 0) {
		line = verify_line(where, (size_t)k);
		q = (size_t)k < mig->nverify ? mig->verify[k] : "";
		if (strstr(d->msg, "did not return true") != NULL)
			pgb_report_add(p->r, sev, where, line, NULL, "%sverify "
			    "query did not return true: %s", prefix, q);
		else
			pgb_report_add(p->r, sev, where, line, NULL, "%sverify "
			    "query failed: %s", prefix, words);
	} else if (failed_at(d, &file, &line, &why) == 0) {
		free(where);
		where = src_path(dir, file);
		pgb_report_add(p->r, sev, where, line, NULL, "%s%s", prefix,
		    why != NULL ? why : words);
	} else
		pgb_report_add(p->r, sev, where, 0, NULL, "%s%s", prefix,
		    d->msg);
	pgb_report_explain(p->r, d->server_detail, d->hint);
	free(file);
	free(where);
}

static void
close_db(struct prover *p)
{
	if (p->open)
		pgb_server_dropdb(p->srv, &p->db, p->name);
	p->open = 0;
}

static int
new_db(struct prover *p, struct pgb_diag *d)
{
	close_db(p);
	if (pgb_server_newdb(p->srv, &p->db, p->o->history, p->name,
	    sizeof(p->name), d) == -1)
		return -1;
	p->open = 1;
	return 0;
}

static void
apply_opts(const struct pgb_manifest *m, long long to,
    struct pgb_apply_opts *ao)
{
	memset(ao, 0, sizeof(*ao));
	ao->to = to;
	ao->has_to = 1;
	ao->lock_wait = 10;
	ao->bundle_id = m->bundle_id;
}

/* pgb_apply() up to and including 'to'. */
static int
apply_to(struct pgb_db *db, const struct pgb_manifest *m, long long to,
    struct pgb_diag *d)
{
	struct pgb_apply_opts	ao;

	apply_opts(m, to, &ao);
	pgb_diag_clear(d);
	return pgb_apply(db, m, &ao, d);
}

/* A new database holding migrations through 'to', after a mishap. */
static int
rebuild(struct prover *p, long long to, struct pgb_diag *d)
{
	if (new_db(p, d) == -1)
		return -1;
	if (apply_to(&p->db, p->m, to, d) == -1) {
		snprintf(d->msg, sizeof(d->msg), "migrations that applied "
		    "once fail on a fresh database");
		return -1;
	}
	return 0;
}

/* Report each difference from 'a' to 'b' as "<lead><verb> <object>". */
static size_t
report_diff(struct prover *p, const struct pgb_schema *a,
    const struct pgb_schema *b, const char *file, enum pgb_sev sev,
    const char *lead, const char *const verbs[3])
{
	struct pgb_schema_diff	*v;
	struct pgb_buf		 what;
	size_t			 n, i;

	n = pgb_schema_diff(a, b, &v);
	for (i = 0; i < n; i++) {
		pgb_buf_init(&what);
		pgb_schema_describe(&v[i], &what);
		pgb_report_add(p->r, sev, file, 0, NULL, "%s%s %s", lead,
		    verbs[v[i].change], what.data);
		pgb_buf_release(&what);
	}
	free(v);
	return n;
}

/*
 * Roll 'mig' back with the runtime's pgb_rollback(), compare the schema
 * with 'before', then apply it again.  0, or -1 when the server failed us.
 */
static int
prove_down(struct prover *p, const struct pgb_migration *mig,
    const struct pgb_schema *before, struct pgb_diag *d)
{
	static const char *const verbs[3] = { "leaves", "drops",
	    "does not restore" };
	struct pgb_apply_opts	 ao;
	struct pgb_schema	 after;
	char			*down = src_path(p->o->dir, mig->down.path);
	int			 rc = 0;

	apply_opts(p->m, mig->version - 1, &ao);
	pgb_diag_clear(d);
	p->res->downs++;
	if (pgb_rollback(&p->db, p->m, &ao, d) == -1) {
		if (d->code == PGB_ECONFLICT) {
			/* Refused before it changed anything. */
			pgb_report_add(p->r, PGB_SEV_WARNING, down, 0, NULL,
			    "pgapply rollback refuses it: %s", d->msg);
			free(down);
			return 0;
		}
		if (is_migration_error(d))
			report_failure(p, p->o->dir, mig, PGB_SEV_ERROR,
			    "down script fails: ", d);
		else {
			free(down);
			return -1;
		}
		free(down);
		return rebuild(p, mig->version, d);
	}
	if (pgb_schema_read(&p->db, p->skip, &after, d) == -1) {
		free(down);
		return -1;
	}
	report_diff(p, before, &after, down, PGB_SEV_ERROR, "down script ",
	    verbs);
	pgb_schema_release(&after);
	free(down);
	if (apply_to(&p->db, p->m, mig->version, d) == -1) {
		if (!is_migration_error(d))
			return -1;
		report_failure(p, p->o->dir, mig, PGB_SEV_ERROR, "does not "
		    "apply again after its down script: ", d);
		rc = rebuild(p, mig->version, d);
	}
	return rc;
}

/*
 * Run a no-transaction migration a second time (its history row removed,
 * so the runtime runs it again from its first statement).  A failure, or
 * a schema that changes, is a warning (an error with --strict).
 */
static int
prove_rerun(struct prover *p, const struct pgb_migration *mig,
    const struct pgb_schema *once, struct pgb_diag *d)
{
	static const char *const verbs[3] = { "adds", "drops", "changes" };
	struct pgb_schema	 twice;
	char			*up = src_path(p->o->dir, mig->up.path);
	size_t			 n;
	int			 failed = 0;

	p->res->reruns++;
	if (pgb_history_delete(&p->db, mig->version, d) == -1)
		goto fail;
	if (apply_to(&p->db, p->m, mig->version, d) == -1) {
		if (!is_migration_error(d))
			goto fail;
		report_failure(p, p->o->dir, mig, PGB_SEV_WARNING,
		    "no-transaction migration is not idempotent: a second "
		    "run fails: ", d);
		failed = 1;
	}
	if (pgb_schema_read(&p->db, p->skip, &twice, d) == -1)
		goto fail;
	n = report_diff(p, once, &twice, up, PGB_SEV_WARNING,
	    "no-transaction migration is not idempotent: a second run ",
	    verbs);
	pgb_schema_release(&twice);
	free(up);
	if (n > 0)
		return rebuild(p, mig->version, d);
	if (failed)
		return pgb_history_set_applied(&p->db, mig->version, d);
	return 0;
fail:
	free(up);
	return -1;
}

static const char *
lock_words(const char *mode)
{
	if (strcmp(mode, "AccessExclusiveLock") == 0)
		return "an ACCESS EXCLUSIVE lock (reads and writes wait)";
	if (strcmp(mode, "ExclusiveLock") == 0)
		return "an EXCLUSIVE lock (writes wait)";
	if (strcmp(mode, "ShareRowExclusiveLock") == 0)
		return "a SHARE ROW EXCLUSIVE lock (writes wait)";
	return "a SHARE lock (writes wait)";
}

/*
 * After statement 'i', the write-blocking locks this session holds on
 * tables that existed before the migration ('tables', an oid[] literal)
 * and hold rows; each (table, mode) is reported once per migration in
 * 'seen'.
 */
static int
watch_locks(struct prover *p, const struct pgb_migration *mig, size_t i,
    const char *tables, struct pgb_buf *seen, struct pgb_diag *d)
{
	const char	*params[1] = { tables };
	PGresult	*res, *rows;
	struct pgb_buf	 key, sql;
	char		*up;
	int		 k, n, full, known;

	if (pgb_db_exec(&p->db, "SELECT c.oid::pg_catalog.regclass::text, "
	    "l.mode FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_class c "
	    "ON c.oid = l.relation WHERE l.pid = pg_catalog.pg_backend_pid() "
	    "AND l.locktype = 'relation' AND l.granted AND l.mode IN "
	    "('AccessExclusiveLock', 'ExclusiveLock', 'ShareRowExclusiveLock', "
	    "'ShareLock') AND c.oid = ANY ($1::pg_catalog.oid[]) ORDER BY 1, 2",
	    1, params, &res, d) == -1)
		return -1;
	n = PQntuples(res);
	for (k = 0; k < n; k++) {
		/* 'seen' is "\n" then one "table mode\n" per entry. */
		pgb_buf_init(&key);
		pgb_buf_printf(&key, "\n%s %s\n", PQgetvalue(res, k, 0),
		    PQgetvalue(res, k, 1));
		known = strstr(seen->data, key.data) != NULL;
		if (!known)
			pgb_buf_append(seen, key.data + 1, key.len - 1);
		pgb_buf_release(&key);
		if (known)
			continue;
		pgb_buf_init(&sql);
		pgb_buf_printf(&sql, "SELECT EXISTS (SELECT 1 FROM %s)",
		    PQgetvalue(res, k, 0));
		if (pgb_db_exec(&p->db, sql.data, 0, NULL, &rows, d) == -1) {
			pgb_buf_release(&sql);
			PQclear(res);
			return -1;
		}
		pgb_buf_release(&sql);
		full = PQgetvalue(rows, 0, 0)[0] == 't';
		PQclear(rows);
		if (!full)
			continue;
		up = src_path(p->o->dir, mig->up.stmts[i].src ?
		    mig->up.stmts[i].src : mig->up.path);
		pgb_report_add(p->r, PGB_SEV_WARNING, up, mig->up.stmts[i].line,
		    NULL, "takes %s on '%s', which an earlier migration filled",
		    lock_words(PQgetvalue(res, k, 1)), PQgetvalue(res, k, 0));
		free(up);
	}
	PQclear(res);
	return 0;
}

/*
 * --locks: run every migration again on a new database, statement by
 * statement in its transaction, and look at pg_locks after each one.
 * No-transaction migrations run as they are, unwatched.
 */
static int
lock_pass(struct prover *p, size_t upto, struct pgb_diag *d)
{
	const struct pgb_migration *mig;
	struct pgb_buf	 seen;
	PGresult	*res;
	char		*tables;
	size_t		 i, k;
	int		 tx, rc = 0;

	if (new_db(p, d) == -1)
		return -1;
	for (i = 0; i < upto && rc == 0; i++) {
		mig = &p->m->migs[i];
		tx = mig->up.mode == PGB_MODE_TX;
		if (pgb_db_exec(&p->db, "SELECT coalesce(pg_catalog.array_agg("
		    "c.oid)::text, '{}') FROM pg_catalog.pg_class c JOIN "
		    "pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE "
		    "c.relkind IN ('r', 'p') AND n.nspname NOT IN "
		    "('pg_catalog', 'information_schema')", 0, NULL, &res,
		    d) == -1)
			return -1;
		tables = pgb_xstrdup(PQgetvalue(res, 0, 0));
		PQclear(res);
		pgb_buf_init(&seen);
		pgb_buf_puts(&seen, "\n");
		if (tx)
			rc = pgb_db_exec(&p->db, "BEGIN", 0, NULL, NULL, d);
		for (k = 0; k < mig->up.nstmts && rc == 0; k++) {
			rc = pgb_run_stmt(&p->db, &mig->up, k, d);
			if (rc == 0 && tx)
				rc = watch_locks(p, mig, k, tables, &seen, d);
		}
		if (rc == 0 && tx)
			rc = pgb_db_exec(&p->db, "COMMIT", 0, NULL, NULL, d);
		if (rc == 0)
			rc = pgb_db_reset_session(&p->db, d);
		pgb_buf_release(&seen);
		free(tables);
	}
	if (rc == -1 && is_migration_error(d)) {
		/* The main pass applied these; a difference is not ours. */
		pgb_report_add(p->r, PGB_SEV_NOTE, p->o->dir, 0, NULL, "lock "
		    "report stopped early: %s", d->msg);
		rc = 0;
	}
	return rc;
}

/*
 * A baseline against the migrations it replaces: the archive must hold
 * each of them unchanged, and applying them must give the schema the
 * baseline gave ('sb').
 */
static int
prove_baseline(struct prover *p, const struct pgb_migration *b,
    const struct pgb_schema *sb, struct pgb_diag *d)
{
	static const char *const verbs[3] = { "adds", "lacks", "changes" };
	const struct pgb_manifest *am = p->o->archive;
	const struct pgb_migration *orig = NULL;
	struct pgb_schema	 so;
	char			*file = src_path(p->o->dir, b->up.path);
	size_t			 i, j, bad = 0;

	if (am == NULL) {
		pgb_report_add(p->r, PGB_SEV_NOTE, file, 0, NULL, "baseline of "
		    "%lld..%lld not compared with the migrations it replaces: "
		    "pass --archive DIR", b->baseline_first, b->version);
		free(file);
		return 0;
	}
	for (i = 0; i < b->nreplaces; i++) {
		for (j = 0, orig = NULL; j < am->nmigs; j++)
			if (am->migs[j].version == b->replaces[i].version)
				orig = &am->migs[j];
		if (orig == NULL)
			pgb_report_add(p->r, PGB_SEV_ERROR, file, 0, NULL,
			    "'%s' has no migration %lld '%s', which the "
			    "baseline replaces", p->o->archive_dir,
			    b->replaces[i].version, b->replaces[i].name);
		else if (memcmp(orig->up.sha256, b->replaces[i].sha256,
		    PGB_SHA256_LEN) != 0)
			pgb_report_add(p->r, PGB_SEV_ERROR, file, 0, NULL,
			    "'%s' in '%s' changed since the baseline replaced "
			    "it", strrchr(orig->up.path, '/') ?
			    strrchr(orig->up.path, '/') + 1 : orig->up.path,
			    p->o->archive_dir);
		else
			continue;
		bad++;
	}
	if (bad > 0) {
		free(file);
		return 0;
	}
	p->res->baselines++;
	if (new_db(p, d) == -1) {
		free(file);
		return -1;
	}
	for (j = 0; j < am->nmigs && am->migs[j].version <= b->version; j++) {
		if (apply_to(&p->db, am, am->migs[j].version, d) == 0)
			continue;
		if (is_migration_error(d))
			report_failure(p, p->o->archive_dir, &am->migs[j],
			    PGB_SEV_ERROR, "", d);
		free(file);
		return is_migration_error(d) ? 0 : -1;
	}
	if (pgb_schema_read(&p->db, p->skip, &so, d) == -1) {
		free(file);
		return -1;
	}
	report_diff(p, &so, sb, file, PGB_SEV_ERROR, "the schema after the "
	    "baseline differs from the migrations it replaces: it ", verbs);
	pgb_schema_release(&so);
	free(file);
	return 0;
}

struct saved {
	const struct pgb_migration	*mig;
	struct pgb_schema		 s;
};

int
pgb_prove(struct pgb_server *s, const struct pgb_manifest *m,
    const struct pgb_prove_opts *o, struct pgb_report *r,
    struct pgb_prove_result *res, struct pgb_diag *d)
{
	struct prover		 p;
	struct pgb_schema	 before, after;
	struct saved		*bases = NULL;
	const struct pgb_migration *mig;
	size_t			 i, nbases = 0, done;
	int			 rc = -1;

	memset(&p, 0, sizeof(p));
	memset(res, 0, sizeof(*res));
	memset(&before, 0, sizeof(before));
	p.srv = s;
	p.m = m;
	p.o = o;
	p.r = r;
	p.res = res;
	p.skip = pgb_xstrndup(o->history, strcspn(o->history, "."));
	if (new_db(&p, d) == -1 ||
	    pgb_schema_read(&p.db, p.skip, &before, d) == -1)
		goto out;
	for (i = 0; i < m->nmigs; i++) {
		mig = &m->migs[i];
		if (pgb_interrupted) {
			pgb_fail(d, PGB_ECANCEL, "interrupted");
			goto out;
		}
		if (apply_to(&p.db, m, mig->version, d) == -1) {
			if (!is_migration_error(d))
				goto out;
			report_failure(&p, o->dir, mig, PGB_SEV_ERROR, "", d);
			break;
		}
		res->applied++;
		if (pgb_schema_read(&p.db, p.skip, &after, d) == -1)
			goto out;
		if (mig->baseline) {
			bases = pgb_xreallocarray(bases, nbases + 1,
			    sizeof(*bases));
			bases[nbases].mig = mig;
			bases[nbases++].s = after;
			memset(&after, 0, sizeof(after));
			if (pgb_schema_read(&p.db, p.skip, &after, d) == -1)
				goto out;
		}
		if (mig->has_down && prove_down(&p, mig, &before, d) == -1)
			goto out;
		if (mig->up.mode == PGB_MODE_NOTX &&
		    prove_rerun(&p, mig, &after, d) == -1)
			goto out;
		pgb_schema_release(&before);
		before = after;
		memset(&after, 0, sizeof(after));
	}
	done = i;
	res->skipped = m->nmigs - res->applied;
	if (res->skipped > 1) {
		char *up = src_path(o->dir, m->migs[done].up.path);

		pgb_report_add(r, PGB_SEV_NOTE, up, 0, NULL, "the %zu "
		    "migration%s after it %s not checked", res->skipped - 1,
		    res->skipped - 1 == 1 ? "" : "s",
		    res->skipped - 1 == 1 ? "was" : "were");
		free(up);
	}
	if (o->locks && lock_pass(&p, done, d) == -1)
		goto out;
	for (i = 0; i < nbases; i++)
		if (prove_baseline(&p, bases[i].mig, &bases[i].s, d) == -1)
			goto out;
	rc = 0;
out:
	close_db(&p);
	pgb_schema_release(&before);
	for (i = 0; i < nbases; i++)
		pgb_schema_release(&bases[i].s);
	free(bases);
	free(p.skip);
	return rc;
}

int
pgb_prove_apply(struct pgb_db *db, const struct pgb_manifest *m,
    long long to, const char *dir, struct pgb_report *r, struct pgb_diag *d)
{
	struct prover	p;
	size_t		i;

	memset(&p, 0, sizeof(p));
	p.r = r;
	for (i = 0; i < m->nmigs && m->migs[i].version <= to; i++) {
		if (apply_to(db, m, m->migs[i].version, d) == 0)
			continue;
		if (!is_migration_error(d))
			return -1;
		report_failure(&p, dir, &m->migs[i], PGB_SEV_ERROR, "", d);
		return 1;
	}
	return 0;
}
