/*
 * apply.c - plan, apply and status.
 *
 * Trusts: a manifest that bundle.c verified, and the database's history
 * table as the record of what ran.  Refuses, before changing anything:
 * drift (an applied checksum differs), a database ahead of the bundle,
 * out-of-order pending versions, and failed no-transaction migrations.
 * A transactional migration and its history row commit together or not
 * at all; a no-transaction one records its progress after each statement.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apply.h"
#include "bounds.h"
#include "buf.h"
#include "hash.h"
#include "banned.h"

#define PIPE_CHUNK	65536	/* SQL bytes queued between pipeline syncs */

static int	plan_rollback(struct pgb_db *, const struct pgb_manifest *,
		    const struct pgb_apply_opts *, struct pgb_diag *);

static double
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000 + ts.tv_nsec / 1e6;
}

const char *
pgb_mig_label(const struct pgb_migration *m, char *buf, size_t len)
{
	const char	*base = strrchr(m->up.path, '/');
	size_t		 n;

	base = base ? base + 1 : m->up.path;
	n = strlen(base);
	if (n > 4 && strcmp(base + n - 4, ".sql") == 0)
		n -= 4;
	snprintf(buf, len, "%.*s", (int)n, base);
	return buf;
}

static void
emit(const struct pgb_apply_opts *o, enum pgb_ev kind,
    const struct pgb_migration *m, const struct pgb_hrow *row,
    const char *state, long long ms, size_t count)
{
	struct pgb_event	ev;

	if (o->emit == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.mig = m;
	ev.row = row;
	ev.state = state;
	ev.duration_ms = ms;
	ev.count = count;
	o->emit(o->ctx, &ev);
}

static const struct pgb_hrow *
find_row(const struct pgb_history *h, long long version)
{
	size_t	lo = 0, hi = h->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (h->v[mid].version == version)
			return &h->v[mid];
		if (h->v[mid].version < version)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static const struct pgb_migration *
find_mig(const struct pgb_manifest *m, long long version)
{
	size_t	lo = 0, hi = m->nmigs, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (m->migs[mid].version == version)
			return &m->migs[mid];
		if (m->migs[mid].version < version)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int
drifted(const struct pgb_migration *m, const struct pgb_hrow *r)
{
	char	hex[PGB_HEX256_LEN + 1];

	pgb_hex(m->up.sha256, PGB_SHA256_LEN, hex);
	if (strcmp(hex, r->checksum) == 0)
		return 0;
	/* A baseline's own version may be the migration it replaced. */
	if (!m->baseline || m->nreplaces == 0)
		return 1;
	pgb_hex(m->replaces[m->nreplaces - 1].sha256, PGB_SHA256_LEN, hex);
	return strcmp(hex, r->checksum) != 0;
}

/*
 * The entry of a baseline's "replaces" list for 'version', other than the
 * baseline's own version, or NULL.  Ranges do not overlap (the parser
 * checks), so only the first migration at or above 'version' can cover it.
 */
static const struct pgb_replaced *
find_replaced(const struct pgb_manifest *m, long long version,
    const struct pgb_migration **base)
{
	const struct pgb_migration *b;
	size_t	lo = 0, hi = m->nmigs, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (m->migs[mid].version < version)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == m->nmigs)
		return NULL;
	b = &m->migs[lo];
	if (!b->baseline || b->version == version ||
	    version < b->baseline_first)
		return NULL;
	lo = 0;
	hi = b->nreplaces;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (b->replaces[mid].version == version) {
			if (base != NULL)
				*base = b;
			return &b->replaces[mid];
		}
		if (b->replaces[mid].version < version)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * A history row the bundle holds only through a baseline: 1 when it is
 * one and matches, 0 when it is not one, -1 (conflict in 'd') when its
 * checksum differs or it failed half way.
 */
static int
check_replaced(const struct pgb_manifest *m, const struct pgb_hrow *r,
    struct pgb_diag *d)
{
	const struct pgb_replaced	*rp;
	const struct pgb_migration	*base = NULL;
	char				 hex[PGB_HEX256_LEN + 1];
	char				 label[PGB_NAME_MAX + 8];

	if ((rp = find_replaced(m, r->version, &base)) == NULL)
		return 0;
	pgb_hex(rp->sha256, PGB_SHA256_LEN, hex);
	if (strcmp(hex, r->checksum) != 0) {
		pgb_fail(d, PGB_ECONFLICT, "checksum mismatch for applied "
		    "migration %lld '%s'", r->version, r->name);
		pgb_detail(d, "database has sha256:%s, baseline '%s' replaced "
		    "sha256:%s: the database ran another migration %lld than "
		    "the one the baseline stands for", r->checksum,
		    pgb_mig_label(base, label, sizeof(label)), hex, r->version);
		return -1;
	}
	if (r->status == PGB_H_FAILED) {
		pgb_fail(d, PGB_EOPERATOR, "no-transaction migration %lld '%s' "
		    "failed after %d of %d statements", r->version, r->name,
		    r->done, r->total);
		pgb_detail(d, "baseline '%s' replaced it, so this bundle cannot "
		    "resume it: finish it with a bundle built before the squash",
		    pgb_mig_label(base, label, sizeof(label)));
		return -1;
	}
	return 1;
}

/*
 * Where a database stands with baseline 'b': 0 none of its versions is in
 * the history (run it), 1 its own version is applied (the rest ran before
 * it, in order: skip it), -1 only part of them ran (conflict in 'd').
 */
static int
baseline_state(const struct pgb_migration *b, const struct pgb_history *h,
    struct pgb_diag *d)
{
	const struct pgb_hrow	*r, *last = NULL;
	char			 label[PGB_NAME_MAX + 8];
	size_t			 i;

	r = find_row(h, b->version);
	if (r != NULL && r->status == PGB_H_APPLIED)
		return 1;
	for (i = 0; i < h->n; i++) {
		if (h->v[i].version >= b->baseline_first &&
		    h->v[i].version <= b->version)
			last = &h->v[i];
	}
	if (last == NULL)
		return 0;
	pgb_fail(d, PGB_ECONFLICT, "baseline '%s' replaces migrations %lld to "
	    "%lld, and the database ran only part of them (up to %lld '%s')",
	    pgb_mig_label(b, label, sizeof(label)), b->baseline_first,
	    b->version, last->version, last->name);
	pgb_detail(d, "apply a bundle built before the squash (one that holds "
	    "the migrations up to %lld) first, then this one; nothing was "
	    "changed", b->version);
	return -1;
}

/*
 * Compare history and bundle.  Fills 'pending' (indexes into m->migs,
 * caller frees) and returns 0, or -1 with the first conflict in 'd'.
 */
static int
compare(const struct pgb_manifest *m, const struct pgb_history *h,
    const struct pgb_apply_opts *o, size_t **pending, size_t *npending,
    struct pgb_diag *d)
{
	const struct pgb_migration *mig;
	const struct pgb_hrow	*r;
	char			 hex[PGB_HEX256_LEN + 1], label[PGB_NAME_MAX + 8];
	long long		 maxapplied = -1;
	size_t			 i;
	int			 k;

	*pending = NULL;
	*npending = 0;
	for (i = 0; i < h->n; i++) {
		r = &h->v[i];
		if ((mig = find_mig(m, r->version)) == NULL &&
		    (k = check_replaced(m, r, d)) != 0) {
			if (k == -1)
				return -1;
			if (r->version > maxapplied)
				maxapplied = r->version;
			continue;
		}
		if (mig == NULL) {
			pgb_fail(d, PGB_ECONFLICT, "database has migration %lld "
			    "'%s' that the bundle does not hold", r->version,
			    r->name);
			pgb_detail(d, "the bundle is older than the database: "
			    "refusing (a rollback attack or a deploy out of "
			    "order); apply a bundle that holds every applied "
			    "migration");
			return -1;
		}
		if (drifted(mig, r)) {
			pgb_hex(mig->up.sha256, PGB_SHA256_LEN, hex);
			pgb_fail(d, PGB_ECONFLICT, "checksum mismatch for "
			    "applied migration '%s'", pgb_mig_label(mig, label,
			    sizeof(label)));
			pgb_detail(d, "database has sha256:%s, bundle has "
			    "sha256:%s: the migration changed after it was "
			    "applied", r->checksum, hex);
			return -1;
		}
		/*
		 * A no-transaction migration whose statements all ran (only
		 * its verify queries and final record are missing, e.g. the
		 * runner was killed just then) resumes by itself: nothing
		 * is run again.  Otherwise a human decides.
		 */
		if (r->status == PGB_H_FAILED && !o->retry_failed &&
		    (r->done < 0 || (size_t)r->done < mig->up.nstmts)) {
			/* The statement to resume at may have left an index. */
			const char *idx = r->done >= 0 &&
			    (size_t)r->done < mig->up.nstmts ?
			    mig->up.stmts[r->done].index : NULL;

			pgb_fail(d, PGB_EOPERATOR, "no-transaction migration "
			    "'%s' failed after %d of %d statements",
			    pgb_mig_label(mig, label, sizeof(label)), r->done,
			    r->total);
			if (idx != NULL)
				pgb_detail(d, "its statements commit one by one; "
				    "statement %d builds index '%s' "
				    "CONCURRENTLY, and an interrupted build "
				    "leaves it INVALID; fix the cause, then "
				    "re-run with --retry-failed, which drops "
				    "the INVALID index and resumes at statement "
				    "%d", r->done + 1, idx, r->done + 1);
			else
				pgb_detail(d, "its statements commit one by "
				    "one; fix the cause, then re-run with "
				    "--retry-failed to resume at statement %d",
				    r->done + 1);
			return -1;
		}
		if (r->status == PGB_H_APPLIED && r->version > maxapplied)
			maxapplied = r->version;
	}
	*pending = pgb_xcalloc(m->nmigs, sizeof(**pending));
	for (i = 0; i < m->nmigs; i++) {
		mig = &m->migs[i];
		if (o->has_to && mig->version > o->to)
			break;
		r = find_row(h, mig->version);
		if (mig->baseline && (k = baseline_state(mig, h, d)) != 0) {
			if (k == 1)
				continue;	/* counts as applied, unrun */
			free(*pending);
			*pending = NULL;
			return -1;
		}
		if (r != NULL && r->status == PGB_H_APPLIED)
			continue;
		if (mig->version < maxapplied && !o->allow_out_of_order) {
			free(*pending);
			*pending = NULL;
			pgb_fail(d, PGB_ECONFLICT, "pending migration '%s' is "
			    "older than applied migration %lld",
			    pgb_mig_label(mig, label, sizeof(label)), maxapplied);
			pgb_detail(d, "applying it now would run migrations out "
			    "of order; pass --allow-out-of-order if that is "
			    "intended");
			return -1;
		}
		(*pending)[(*npending)++] = i;
	}
	return 0;
}

static int
read_and_compare(struct pgb_db *db, const struct pgb_manifest *m,
    const struct pgb_apply_opts *o, struct pgb_history *h, size_t **pending,
    size_t *npending, struct pgb_diag *d)
{
	if (pgb_db_read_history(db, h, 0, d) == -1)
		return -1;
	return compare(m, h, o, pending, npending, d);
}

int
pgb_plan(struct pgb_db *db, const struct pgb_manifest *m,
    const struct pgb_apply_opts *o, struct pgb_diag *d)
{
	struct pgb_history	 h;
	size_t			*pending = NULL, n = 0, i;
	int			 rc, ahead;

	/* --to below what the database holds: show the rollback instead. */
	if (o->has_to) {
		if (pgb_db_read_history(db, &h, 0, d) == -1)
			return -1;
		ahead = h.n > 0 && h.v[h.n - 1].version > o->to;
		pgb_history_release(&h);
		if (ahead)
			return plan_rollback(db, m, o, d);
	}
	rc = read_and_compare(db, m, o, &h, &pending, &n, d);
	if (rc == 0) {
		for (i = 0; i < n; i++)
			emit(o, PGB_EV_PENDING, &m->migs[pending[i]],
			    find_row(&h, m->migs[pending[i]].version), "pending",
			    0, 0);
		emit(o, PGB_EV_SUMMARY, NULL, NULL, "plan", 0, n);
	}
	free(pending);
	pgb_history_release(&h);
	return rc;
}

int
pgb_status(struct pgb_db *db, const struct pgb_manifest *m,
    const struct pgb_apply_opts *o, struct pgb_diag *d)
{
	struct pgb_history	 h;
	const struct pgb_hrow	*r;
	const struct pgb_migration *mig;
	struct pgb_diag		 ignore;
	size_t			 i, npending = 0;

	if (pgb_db_read_history(db, &h, 1, d) == -1)
		return -1;
	for (i = 0; i < h.n; i++) {
		r = &h.v[i];
		mig = m ? find_mig(m, r->version) : NULL;
		emit(o, PGB_EV_STATUS, mig, r,
		    r->status == PGB_H_FAILED ? "failed" :
		    m == NULL ? "applied" : mig == NULL ?
		    (find_replaced(m, r->version, NULL) == NULL ? "missing" :
		    check_replaced(m, r, &ignore) == 1 ? "applied" : "drifted") :
		    drifted(mig, r) ? "drifted" : "applied", 0, 0);
	}
	for (i = 0; m != NULL && i < m->nmigs; i++) {
		if (find_row(&h, m->migs[i].version) != NULL)
			continue;
		emit(o, PGB_EV_STATUS, &m->migs[i], NULL, "pending", 0, 0);
		npending++;
	}
	emit(o, PGB_EV_SUMMARY, NULL, NULL, "status", 0, npending);
	pgb_history_release(&h);
	return 0;
}

/* Name the failing statement and keep the server's words in the detail. */
static int
stmt_failed(const struct pgb_migration *mig, const struct pgb_script *sc,
    size_t i, const char *what, struct pgb_diag *d)
{
	const struct pgb_stmt *s = &sc->stmts[i];
	char		 label[PGB_NAME_MAX + 8], server[sizeof(d->detail)];
	char		 excerpt[161], why[sizeof(d->msg)];
	size_t		 n, k;

	/*
	 * Without a SQLSTATE the reason is pgapply's own (the connection
	 * was lost, the server did not answer in time): it leads the line.
	 */
	why[0] = '\0';
	if (d->sqlstate[0] == '\0')
		snprintf(why, sizeof(why), ": %.200s", d->msg);
	snprintf(server, sizeof(server), "%s", d->detail[0] ? d->detail :
	    why[0] ? "" : d->msg);
	n = s->len < sizeof(excerpt) - 1 ? s->len : sizeof(excerpt) - 1;
	for (k = 0; k < n; k++) {
		char c = (char)sc->text[s->off + k];
		excerpt[k] = c == '\n' || c == '\t' || c == '\r' ? ' ' : c;
	}
	excerpt[n] = '\0';
	snprintf(d->msg, sizeof(d->msg), "%s '%s' failed at statement %zu "
	    "of %zu (%s:%u)%s", what, pgb_mig_label(mig, label, sizeof(label)),
	    i + 1, sc->nstmts, s->src ? s->src : sc->path, s->line, why);
	pgb_detail(d, "%s%sSQL: %s%s", server, server[0] ? "\n" : "", excerpt,
	    s->len > n ? " ..." : "");
	return -1;
}

/*
 * pgb_db_exec() without a result, or in pipeline mode only queue the
 * command: pipe_drain() reads its result later.
 */
static int
exec_or_send(struct pgb_db *db, const char *sql, int n,
    const char *const *params, struct pgb_diag *d)
{
	if (PQpipelineStatus(db->conn) == PQ_PIPELINE_OFF)
		return pgb_db_exec(db, sql, n, params, NULL, d);
	if (PQsendQueryParams(db->conn, sql, n, NULL, params, NULL, NULL,
	    0) != 1)
		return pgb_db_error(db, NULL, d);
	return 0;
}

/*
 * The history row and COMMIT are pgapply's own: a statement_timeout the
 * migration set for itself (SET, not SET LOCAL) must not cut them short.
 * Local to the migration's transaction, like the migration's own SET.
 */
static int
own_timeout(struct pgb_db *db, struct pgb_diag *d)
{
	return exec_or_send(db, "SELECT pg_catalog.set_config("
	    "'statement_timeout', '0', true)", 0, NULL, d);
}

/*
 * Something other than one of its statements failed: a deferred
 * constraint at COMMIT, or a setting.  Still name the migration.
 */
static void
mig_failed(const struct pgb_migration *mig, struct pgb_diag *d)
{
	char	label[PGB_NAME_MAX + 8], server[sizeof(d->msg)];

	snprintf(server, sizeof(server), "%s", d->msg);
	/* A server that stopped answering may have committed: no "failed". */
	snprintf(d->msg, sizeof(d->msg), "migration '%.60s' (%.40s)%s: "
	    "%.120s", pgb_mig_label(mig, label, sizeof(label)), mig->up.path,
	    d->code == PGB_ESQL ? " failed" : "", server);
}

/* Run one statement, streaming its COPY data when it has some. */
static int
run_stmt(struct pgb_db *db, const struct pgb_script *sc, size_t i,
    struct pgb_diag *d)
{
	const struct pgb_stmt *s = &sc->stmts[i];
	struct pgb_buf	 sql;
	PGresult	*res;
	ExecStatusType	 st;
	int		 rc = 0;

	pgb_buf_init(&sql);
	pgb_buf_append(&sql, sc->text + s->off, s->len);
	res = pgb_db_query(db, sql.data, 0, NULL);
	pgb_buf_release(&sql);
	st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st == PGRES_COPY_IN) {
		PQclear(res);
		return pgb_db_copy(db, sc->text + s->copy_off, s->copy_len, d);
	}
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK &&
	    st != PGRES_EMPTY_QUERY) {
		pgb_db_error(db, res, d);
		rc = -1;
	}
	PQclear(res);
	return rc;
}

static int
run_verify(struct pgb_db *db, const struct pgb_migration *mig,
    struct pgb_diag *d)
{
	PGresult	*res;
	char		 label[PGB_NAME_MAX + 8];
	size_t		 i;
	int		 ok;

	for (i = 0; i < mig->nverify; i++) {
		if (pgb_db_exec(db, mig->verify[i], 0, NULL, &res, d) == -1) {
			char server[sizeof(d->detail)];
			snprintf(server, sizeof(server), "%s", d->detail);
			snprintf(d->msg, sizeof(d->msg), "verify query %zu of "
			    "'%s' failed", i + 1, pgb_mig_label(mig, label,
			    sizeof(label)));
			pgb_detail(d, "%s\nSQL: %s", server, mig->verify[i]);
			return -1;
		}
		ok = PQntuples(res) == 1 && PQnfields(res) == 1 &&
		    !PQgetisnull(res, 0, 0) &&
		    strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		PQclear(res);
		if (!ok) {
			pgb_fail(d, PGB_ESQL, "verify query %zu of '%s' did not "
			    "return true", i + 1, pgb_mig_label(mig, label,
			    sizeof(label)));
			pgb_detail(d, "SQL: %s", mig->verify[i]);
			return -1;
		}
	}
	return 0;
}

static int
set_timeouts(struct pgb_db *db, const struct pgb_apply_opts *o, int local,
    struct pgb_diag *d)
{
	const char	*p[3];

	p[2] = local ? "true" : "false";
	if (o->lock_timeout != NULL) {
		p[0] = "lock_timeout";
		p[1] = o->lock_timeout;
		if (exec_or_send(db, "SELECT pg_catalog.set_config($1, $2, "
		    "$3::bool)", 3, p, d) == -1)
			return -1;
	}
	if (o->statement_timeout != NULL) {
		p[0] = "statement_timeout";
		p[1] = o->statement_timeout;
		if (exec_or_send(db, "SELECT pg_catalog.set_config($1, $2, "
		    "$3::bool)", 3, p, d) == -1)
			return -1;
	}
	return 0;
}

/*
 * Insert or update the history row of 'mig'; 'origin' says how it came
 * to be applied: "apply", "baseline" or "adopt:TOOL".
 */
static int
record_as(struct pgb_db *db, const struct pgb_migration *mig,
    const struct pgb_apply_opts *o, const char *status, size_t done,
    long long ms, const char *origin, struct pgb_diag *d)
{
	struct pgb_buf	 sql;
	char		 version[24], sha[PGB_HEX256_LEN + 8], chain[PGB_HEX256_LEN + 1];
	char		 sdone[24], stotal[24], sms[24];
	const char	*p[12];
	int		 rc;

	snprintf(version, sizeof(version), "%lld", mig->version);
	memcpy(sha, "sha256:", 7);
	pgb_hex(mig->up.sha256, PGB_SHA256_LEN, sha + 7);
	pgb_hex(mig->chain, PGB_SHA256_LEN, chain);
	snprintf(sdone, sizeof(sdone), "%zu", done);
	snprintf(stotal, sizeof(stotal), "%zu", mig->up.nstmts);
	snprintf(sms, sizeof(sms), "%lld", ms);
	p[0] = version;
	p[1] = mig->name;
	p[2] = sha;
	p[3] = o->bundle_id;
	p[4] = chain;
	p[5] = mig->up.mode == PGB_MODE_NOTX ? "no-transaction" : "transaction";
	p[6] = status;
	p[7] = sdone;
	p[8] = stotal;
	p[9] = ms < 0 ? NULL : sms;	/* NULL: time since BEGIN, server side */
	p[10] = "pgapply " PGB_VERSION;
	p[11] = origin;
	pgb_buf_init(&sql);
	pgb_buf_printf(&sql, "INSERT INTO %s (version, name, checksum, "
	    "bundle_id, chain, mode, status, statements_done, statements_total, "
	    "duration_ms, runtime_version, origin) VALUES ($1::bigint, $2, $3, "
	    "$4, $5, $6, $7, $8::integer, $9::integer, coalesce($10::bigint, "
	    "(pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() "
	    "OPERATOR(pg_catalog.-) pg_catalog.now()) OPERATOR(pg_catalog.*) "
	    "1000)::bigint), $11, $12) "
	    "ON CONFLICT (version) DO UPDATE SET status = EXCLUDED.status, "
	    "statements_done = EXCLUDED.statements_done, "
	    "duration_ms = EXCLUDED.duration_ms, bundle_id = EXCLUDED.bundle_id, "
	    "applied_at = pg_catalog.now(), applied_by = EXCLUDED.applied_by, "
	    "runtime_version = EXCLUDED.runtime_version, "
	    "origin = EXCLUDED.origin", db->qname);
	rc = exec_or_send(db, sql.data, 12, p, d);
	pgb_buf_release(&sql);
	return rc;
}

static int
record(struct pgb_db *db, const struct pgb_migration *mig,
    const struct pgb_apply_opts *o, const char *status, size_t done,
    long long ms, struct pgb_diag *d)
{
	return record_as(db, mig, o, status, done, ms, "apply", d);
}

/*
 * The rows a baseline stands for, other than its own: each replaced
 * migration's name and checksum, the chain it had in the bundles that
 * held it, no statements, origin "replaced:VERSION" (docs/FORMAT.md).
 */
static int
record_replaced(struct pgb_db *db, const struct pgb_migration *b,
    const struct pgb_apply_opts *o, struct pgb_diag *d)
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
	for (i = 0; i + 1 < b->nreplaces && rc == 0; i++) {
		snprintf(version, sizeof(version), "%lld",
		    b->replaces[i].version);
		memcpy(sha, "sha256:", 7);
		pgb_hex(b->replaces[i].sha256, PGB_SHA256_LEN, sha + 7);
		pgb_hex(b->replaces[i].chain, PGB_SHA256_LEN, chain);
		p[0] = version;
		p[1] = b->replaces[i].name;
		p[2] = sha;
		p[3] = o->bundle_id;
		p[4] = chain;
		p[5] = "pgapply " PGB_VERSION;
		p[6] = origin;
		rc = pgb_db_exec(db, sql.data, 7, p, NULL, d);
	}
	pgb_buf_release(&sql);
	return rc;
}

static void
rollback(struct pgb_db *db)
{
	struct pgb_diag	ignore;

	if (PQstatus(db->conn) == CONNECTION_OK &&
	    PQtransactionStatus(db->conn) != PQTRANS_IDLE)
		(void)pgb_db_exec(db, "ROLLBACK", 0, NULL, NULL, &ignore);
}

/*
 * Whether 'mig' can go through libpq's pipeline mode: not with COPY data
 * (refused in a pipeline), verify queries (their answer decides the
 * COMMIT) or a baseline's extra history rows.
 */
/*
 * In a pipeline the server keeps one statement_timeout armed until the
 * next Sync, so a migration that sets it would time the statements after
 * it together, and pgapply's own bookkeeping with them; psql times each
 * statement alone.  Such migrations take the one-statement-a-trip path.
 */
static int
mentions_statement_timeout(const struct pgb_script *sc, size_t i)
{
	static const char	 word[] = "statement_timeout";
	const unsigned char	*p = sc->text + sc->stmts[i].off;
	size_t			 n = sc->stmts[i].len, k, j;

	for (k = 0; k + sizeof(word) - 1 <= n; k++) {
		for (j = 0; j < sizeof(word) - 1; j++) {
			unsigned char c = p[k + j];

			if (c >= 'A' && c <= 'Z')
				c = (unsigned char)(c - 'A' + 'a');
			if (c != (unsigned char)word[j])
				break;
		}
		if (j == sizeof(word) - 1)
			return 1;
	}
	return 0;
}

static int
can_pipeline(const struct pgb_migration *mig)
{
	size_t	i;

	if (mig->nverify > 0 || mig->baseline)
		return 0;
	for (i = 0; i < mig->up.nstmts; i++)
		if (mig->up.stmts[i].is_copy ||
		    mentions_statement_timeout(&mig->up, i))
			return 0;
	return 1;
}

/*
 * Pipeline mode: send a sync and read every result up to it.  The queued
 * commands were 'npre' of the runtime's own, statements s0 to s1 - 1,
 * then more of its own.  0, or -1 with 'd' from the first failure and
 * '*bad' the index of the statement that failed or did not answer
 * ((size_t)-1: none did).  Each answer is due db->bound after the one
 * before it, so a bound times each statement, as the server does.
 */
static int
pipe_drain(struct pgb_db *db, size_t npre, size_t s0, size_t s1,
    size_t *bad, struct pgb_diag *d)
{
	PGresult	*res;
	ExecStatusType	 st;
	size_t		 k = 0;
	int		 rc = 0, nulls = 0;

	*bad = (size_t)-1;
	if (PQpipelineSync(db->conn) != 1)
		return pgb_db_error(db, NULL, d);
	for (;;) {
		pgb_db_due(db);
		if ((res = pgb_db_result(db)) == NULL) {
			/* One NULL ends each command; two: no sync is coming. */
			if (++nulls < 2 && PQstatus(db->conn) != CONNECTION_BAD)
				continue;
			if (rc == -1)
				return rc;
			if (k >= npre && k - npre < s1 - s0)
				*bad = s0 + (k - npre);
			return pgb_db_error(db, NULL, d);
		}
		nulls = 0;
		st = PQresultStatus(res);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			/* Every answer came, the last one after a cancel. */
			if (rc == 0 && db->gave_up)
				rc = pgb_db_error(db, NULL, d);
			return rc;
		}
		if (rc == 0 && ((st != PGRES_COMMAND_OK &&
		    st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY &&
		    st != PGRES_PIPELINE_ABORTED) || db->gave_up)) {
			rc = pgb_db_error(db, res, d);
			if (k >= npre && k - npre < s1 - s0)
				*bad = s0 + (k - npre);
		}
		PQclear(res);
		k++;
	}
}

/*
 * apply_tx() in one round trip: BEGIN, the timeouts, every statement, the
 * history row and COMMIT go out in libpq's pipeline mode (extended
 * protocol, one statement per command), with a sync every PIPE_CHUNK
 * bytes so that neither side's buffers fill.  Results come back in order,
 * so the first failing one names its statement; the server skips the rest
 * and COMMIT with them.  Same returns as apply_tx(), and 2 when a
 * statement was refused as a syntax error: it may be several commands in
 * one (psql's split allows that, the extended protocol does not), so the
 * caller runs the migration again without a pipeline.
 */
static int
apply_tx_piped(struct pgb_db *db, const struct pgb_migration *mig,
    const struct pgb_apply_opts *o, struct pgb_diag *d)
{
	const struct pgb_script *sc = &mig->up;
	struct pgb_buf	 sql;
	struct pgb_diag	 ignore;
	size_t		 i, s0 = 0, npre, queued = 0, bad = (size_t)-1;
	int		 rc, retry;

	if (PQenterPipelineMode(db->conn) != 1)
		return pgb_db_error(db, NULL, d);
	npre = 1 + (o->lock_timeout != NULL) + (o->statement_timeout != NULL);
	rc = exec_or_send(db, "BEGIN", 0, NULL, d) == -1 ||
	    set_timeouts(db, o, 1, d) == -1 ? -1 : 0;
	pgb_buf_init(&sql);
	for (i = 0; i < sc->nstmts && rc == 0; i++) {
		if (queued >= PIPE_CHUNK) {
			if ((rc = pipe_drain(db, npre, s0, i, &bad, d)) == -1)
				break;
			npre = 0;
			s0 = i;
			queued = 0;
		}
		sql.len = 0;
		pgb_buf_append(&sql, sc->text + sc->stmts[i].off,
		    sc->stmts[i].len);
		if (PQsendQueryParams(db->conn, sql.data, 0, NULL, NULL, NULL,
		    NULL, 0) != 1)
			rc = pgb_db_error(db, NULL, d);
		/*
		 * Under a bound, each answer must come as its statement ends,
		 * not when the server's output buffer fills or at the sync.
		 */
		else if (db->bound > 0 && PQsendFlushRequest(db->conn) != 1)
			rc = pgb_db_error(db, NULL, d);
		queued += sc->stmts[i].len;
	}
	pgb_buf_release(&sql);
	if (rc == 0 && (own_timeout(db, d) == -1 ||
	    record(db, mig, o, "applied", sc->nstmts, -1, d) == -1 ||
	    exec_or_send(db, "COMMIT", 0, NULL, d) == -1))
		rc = -1;
	if (rc == 0)
		rc = pipe_drain(db, npre, s0, sc->nstmts, &bad, d);
	else if (bad == (size_t)-1 && PQstatus(db->conn) == CONNECTION_OK)
		(void)pipe_drain(db, 0, 0, 0, &i, &ignore);
	(void)PQexitPipelineMode(db->conn);
	if (rc == 0)
		return 0;
	retry = strcmp(d->sqlstate, "55P03") == 0 && d->code == PGB_ESQL;
	if (d->code != PGB_ERETRY)
		rollback(db);
	if (bad == (size_t)-1) {
		if (d->code == PGB_ESQL || d->sqlstate[0] == '\0')
			mig_failed(mig, d);
		return -1;
	}
	if (strcmp(d->sqlstate, "42601") == 0 && d->code == PGB_ESQL &&
	    PQtransactionStatus(db->conn) == PQTRANS_IDLE)
		return 2;
	stmt_failed(mig, sc, bad, "migration", d);
	return retry ? 1 : -1;
}

/*
 * One transactional migration: BEGIN, statements, verify queries, history
 * row, COMMIT.  Returns 1 when lock_timeout cut it short (retry), 0, -1.
 */
static int
apply_tx(struct pgb_db *db, const struct pgb_migration *mig,
    const struct pgb_apply_opts *o, int in_outer_tx, struct pgb_diag *d)
{
	double	t0 = now_ms();
	size_t	i;
	int	rc;

	if (!in_outer_tx && can_pipeline(mig)) {
		if ((rc = apply_tx_piped(db, mig, o, d)) != 2)
			return rc;
		pgb_diag_clear(d);
	}
	if (!in_outer_tx && pgb_db_exec(db, "BEGIN", 0, NULL, NULL, d) == -1)
		return -1;
	if (!in_outer_tx && set_timeouts(db, o, 1, d) == -1)
		goto fail;
	for (i = 0; i < mig->up.nstmts; i++) {
		if (run_stmt(db, &mig->up, i, d) == -1) {
			int retry = strcmp(d->sqlstate, "55P03") == 0 &&
			    d->code == PGB_ESQL;
			stmt_failed(mig, &mig->up, i, "migration", d);
			rollback(db);
			return retry ? 1 : -1;
		}
	}
	if (run_verify(db, mig, d) == -1)
		goto fail;
	if (own_timeout(db, d) == -1 || record(db, mig, o, "applied",
	    mig->up.nstmts, (long long)(now_ms() - t0), d) == -1 ||
	    (mig->baseline && record_replaced(db, mig, o, d) == -1)) {
		mig_failed(mig, d);
		goto fail;
	}
	if (!in_outer_tx && pgb_db_exec(db, "COMMIT", 0, NULL, NULL, d) == -1) {
		mig_failed(mig, d);
		/* A lost connection here leaves the outcome to the history. */
		if (d->code != PGB_ERETRY)
			rollback(db);
		return -1;
	}
	return 0;
fail:
	rollback(db);
	return -1;
}

/* Drop an INVALID index a failed CREATE INDEX CONCURRENTLY left behind. */
static int
drop_invalid_index(struct pgb_db *db, const char *index, struct pgb_diag *d)
{
	const char	*p[1] = { index };
	PGresult	*res;
	struct pgb_buf	 sql;
	char		*qn, *qi;
	int		 rc;

	if (pgb_db_exec(db, "SELECT n.nspname, c.relname FROM "
	    "pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = "
	    "i.indexrelid JOIN pg_catalog.pg_namespace n ON n.oid = "
	    "c.relnamespace WHERE c.oid = pg_catalog.to_regclass($1) AND NOT "
	    "i.indisvalid", 1, p, &res, d) == -1)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	qn = PQescapeIdentifier(db->conn, PQgetvalue(res, 0, 0),
	    strlen(PQgetvalue(res, 0, 0)));
	qi = PQescapeIdentifier(db->conn, PQgetvalue(res, 0, 1),
	    strlen(PQgetvalue(res, 0, 1)));
	PQclear(res);
	pgb_buf_init(&sql);
	pgb_buf_printf(&sql, "DROP INDEX CONCURRENTLY IF EXISTS %s.%s",
	    qn ? qn : "", qi ? qi : "");
	rc = qn && qi ? pgb_db_exec(db, sql.data, 0, NULL, NULL, d) : -1;
	PQfreemem(qn);
	PQfreemem(qi);
	pgb_buf_release(&sql);
	return rc;
}

/*
 * A no-transaction migration: each statement commits alone and the
 * history row says how far it got, so a retry resumes after the last
 * statement that succeeded.
 */
static int
apply_notx(struct pgb_db *db, const struct pgb_migration *mig,
    const struct pgb_apply_opts *o, const struct pgb_hrow *prev,
    struct pgb_diag *d)
{
	double		t0 = now_ms();
	size_t		i, from = prev ? (size_t)prev->done : 0;
	struct pgb_diag	keep;

	if (from > mig->up.nstmts)
		from = mig->up.nstmts;
	if (record(db, mig, o, "failed", from, 0, d) == -1)
		return -1;
	if (set_timeouts(db, o, 0, d) == -1)
		return -1;
	for (i = from; i < mig->up.nstmts; i++) {
		if (prev != NULL && i == from && mig->up.stmts[i].index != NULL &&
		    drop_invalid_index(db, mig->up.stmts[i].index, d) == -1)
			return stmt_failed(mig, &mig->up, i, "migration", d);
		if (run_stmt(db, &mig->up, i, d) == -1) {
			stmt_failed(mig, &mig->up, i, "no-transaction migration",
			    d);
			if (d->code == PGB_ESQL)
				d->code = PGB_EOPERATOR;
			keep = *d;
			(void)pgb_db_reset_session(db, d);
			*d = keep;
			return -1;
		}
		if (record(db, mig, o, "failed", i + 1, 0, d) == -1)
			return -1;
	}
	if (run_verify(db, mig, d) == -1) {
		d->code = PGB_EOPERATOR;
		return -1;
	}
	return record(db, mig, o, "applied", mig->up.nstmts,
	    (long long)(now_ms() - t0), d);
}

static void
sleep_backoff(int attempt)
{
	struct timespec	ts;
	long		ms = 200L << (attempt < 5 ? attempt : 5);

	ms += random() % (ms / 2 + 1);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

static int
apply_one(struct pgb_db *db, const struct pgb_migration *mig,
    const struct pgb_hrow *prev, const struct pgb_apply_opts *o,
    struct pgb_diag *d)
{
	double	t0 = now_ms();
	int	attempt, rc;

	for (attempt = 0;; attempt++) {
		if (pgb_interrupted)
			return pgb_fail(d, PGB_ECANCEL, "interrupted");
		/* The reset or the history lookup before checked it. */
		if (attempt > 0 && pgb_db_check_backend(db, d) == -1)
			return -1;
		emit(o, PGB_EV_BEGIN, mig, prev, NULL, 0, 0);
		if (mig->up.mode == PGB_MODE_NOTX)
			rc = apply_notx(db, mig, o, prev, d);
		else
			rc = apply_tx(db, mig, o, 0, d);
		if (rc != 1)
			break;
		if (attempt >= o->lock_retries) {
			d->code = PGB_ERETRY;
			return -1;
		}
		emit(o, PGB_EV_RETRY, mig, prev, NULL, 0, (size_t)attempt + 1);
		sleep_backoff(attempt);
	}
	if (rc == -1)
		return -1;
	if (pgb_db_reset_session(db, d) == -1)
		return -1;
	emit(o, PGB_EV_APPLIED, mig, NULL, "applied",
	    (long long)(now_ms() - t0), 0);
	return 0;
}

/* --single-transaction: every pending migration in one transaction. */
static int
apply_all_in_one(struct pgb_db *db, const struct pgb_manifest *m,
    const size_t *pending, size_t n, const struct pgb_apply_opts *o,
    struct pgb_diag *d)
{
	size_t	i;
	double	t0;

	if (pgb_db_exec(db, "BEGIN", 0, NULL, NULL, d) == -1)
		return -1;
	if (set_timeouts(db, o, 1, d) == -1) {
		rollback(db);
		return -1;
	}
	for (i = 0; i < n; i++) {
		t0 = now_ms();
		emit(o, PGB_EV_BEGIN, &m->migs[pending[i]], NULL, NULL, 0, 0);
		if (apply_tx(db, &m->migs[pending[i]], o, 1, d) != 0) {
			if (d->code == 0 || strcmp(d->sqlstate, "55P03") == 0)
				d->code = PGB_ERETRY;
			rollback(db);
			return -1;
		}
		emit(o, PGB_EV_APPLIED, &m->migs[pending[i]], NULL, "applied",
		    (long long)(now_ms() - t0), 0);
	}
	return pgb_db_exec(db, "COMMIT", 0, NULL, NULL, d);
}

int
pgb_apply(struct pgb_db *db, const struct pgb_manifest *m,
    const struct pgb_apply_opts *o, struct pgb_diag *d)
{
	struct pgb_history	 h;
	size_t			*pending = NULL, n = 0, i;
	char			 label[PGB_NAME_MAX + 8];
	int			 rc = -1;

	memset(&h, 0, sizeof(h));
	/* The history table is created, and read, only under the lock. */
	if (pgb_db_lock(db, o->lock_wait, d) == -1)
		return -1;
	if (pgb_db_ensure_history(db, d) == -1)
		goto out;
	if (read_and_compare(db, m, o, &h, &pending, &n, d) == -1)
		goto out;
	if (o->single_tx) {
		for (i = 0; i < n; i++) {
			if (m->migs[pending[i]].up.mode == PGB_MODE_NOTX) {
				pgb_fail(d, PGB_EUSAGE, "--single-transaction "
				    "cannot include no-transaction migration "
				    "'%s'", pgb_mig_label(&m->migs[pending[i]],
				    label, sizeof(label)));
				goto out;
			}
		}
		if (n > 0 && apply_all_in_one(db, m, pending, n, o, d) == -1)
			goto out;
	} else {
		for (i = 0; i < n; i++) {
			const struct pgb_migration *mig = &m->migs[pending[i]];

			if (apply_one(db, mig, find_row(&h, mig->version), o,
			    d) == -1)
				goto out;
		}
	}
	emit(o, PGB_EV_SUMMARY, NULL, NULL, "apply", 0, n);
	rc = 0;
out:
	if (rc == -1 && pgb_interrupted && d->code != PGB_EOPERATOR)
		d->code = PGB_ECANCEL;
	free(pending);
	pgb_history_release(&h);
	pgb_db_unlock(db);
	return rc;
}

/*
 * The applied migrations to revert, newest first, after checking that the
 * bundle holds every applied one unchanged.  'out' is freed by the caller.
 */
static int
rollback_targets(const struct pgb_manifest *m, const struct pgb_history *h,
    const struct pgb_apply_opts *o, const struct pgb_migration ***out,
    size_t *n, struct pgb_diag *d)
{
	const struct pgb_migration *mig;
	char		 label[PGB_NAME_MAX + 8];
	size_t		 i;

	*out = pgb_xcalloc(h->n, sizeof(**out));
	*n = 0;
	for (i = h->n; i > 0; i--) {
		const struct pgb_hrow *r = &h->v[i - 1];

		/* Below a baseline, which has no down script: never reached. */
		if ((mig = find_mig(m, r->version)) == NULL &&
		    find_replaced(m, r->version, NULL) != NULL)
			continue;
		if (mig == NULL) {
			pgb_fail(d, PGB_ECONFLICT, "database has migration %lld "
			    "'%s' that the bundle does not hold", r->version,
			    r->name);
			pgb_detail(d, "roll back with a bundle that holds every "
			    "applied migration and its down script");
			return -1;
		}
		if (drifted(mig, r)) {
			pgb_fail(d, PGB_ECONFLICT, "checksum mismatch for "
			    "applied migration '%s'", pgb_mig_label(mig, label,
			    sizeof(label)));
			pgb_detail(d, "its down script may not undo what ran; "
			    "refusing to roll back");
			return -1;
		}
		if (o->has_to ? r->version > o->to :
		    (long long)*n < o->steps)
			(*out)[(*n)++] = mig;
	}
	return 0;
}

/* Refuse, naming every one, when a down script is missing or unsafe. */
static int
check_downs(const struct pgb_migration *const *t, size_t n,
    struct pgb_diag *d)
{
	struct pgb_buf	 missing, unsafe;
	char		 label[PGB_NAME_MAX + 8];
	size_t		 i;
	int		 rc = 0;

	pgb_buf_init(&missing);
	pgb_buf_init(&unsafe);
	for (i = 0; i < n; i++) {
		pgb_mig_label(t[i], label, sizeof(label));
		if (!t[i]->has_down)
			pgb_buf_printf(&missing, "%s'%s'", missing.len ? ", " :
			    "", label);
		else if (t[i]->up.mode == PGB_MODE_NOTX &&
		    !t[i]->down.idempotent)
			pgb_buf_printf(&unsafe, "%s'%s'", unsafe.len ? ", " : "",
			    label);
	}
	if (missing.len > 0) {
		rc = pgb_fail(d, PGB_ECONFLICT, "cannot roll back: no down "
		    "script for %s", missing.data);
		pgb_detail(d, "nothing was changed");
	} else if (unsafe.len > 0) {
		rc = pgb_fail(d, PGB_ECONFLICT, "cannot roll back "
		    "no-transaction migration %s: its down script is not "
		    "idempotent", unsafe.data);
		pgb_detail(d, "a no-transaction down script that fails half "
		    "way must be safe to run again (IF EXISTS); nothing was "
		    "changed");
	}
	pgb_buf_release(&missing);
	pgb_buf_release(&unsafe);
	return rc;
}

static int
delete_row(struct pgb_db *db, long long version, struct pgb_diag *d)
{
	struct pgb_buf	 sql;
	char		 v[24];
	const char	*p[1] = { v };
	int		 rc;

	snprintf(v, sizeof(v), "%lld", version);
	pgb_buf_init(&sql);
	pgb_buf_printf(&sql, "DELETE FROM %s WHERE version = $1::bigint",
	    db->qname);
	rc = pgb_db_exec(db, sql.data, 1, p, NULL, d);
	pgb_buf_release(&sql);
	return rc;
}

/* One down script, with the removal of its history row. */
static int
revert_one(struct pgb_db *db, const struct pgb_migration *mig,
    const struct pgb_apply_opts *o, struct pgb_diag *d)
{
	int	tx = mig->down.mode == PGB_MODE_TX;
	size_t	i;

	if (pgb_db_check_backend(db, d) == -1)
		return -1;
	if (tx && (pgb_db_exec(db, "BEGIN", 0, NULL, NULL, d) == -1 ||
	    set_timeouts(db, o, 1, d) == -1))
		goto fail;
	if (!tx && set_timeouts(db, o, 0, d) == -1)
		return -1;
	for (i = 0; i < mig->down.nstmts; i++) {
		if (run_stmt(db, &mig->down, i, d) == -1) {
			stmt_failed(mig, &mig->down, i, "down script of", d);
			if (!tx && d->code == PGB_ESQL)
				d->code = PGB_EOPERATOR;
			goto fail;
		}
	}
	if (delete_row(db, mig->version, d) == -1)
		goto fail;
	if (tx && pgb_db_exec(db, "COMMIT", 0, NULL, NULL, d) == -1)
		return -1;
	return pgb_db_reset_session(db, d);
fail:
	rollback(db);
	return -1;
}

int
pgb_rollback(struct pgb_db *db, const struct pgb_manifest *m,
    const struct pgb_apply_opts *o, struct pgb_diag *d)
{
	const struct pgb_migration **t = NULL;
	struct pgb_history	 h;
	size_t			 n = 0, i;
	double			 t0;
	int			 rc = -1;

	memset(&h, 0, sizeof(h));
	if (pgb_db_lock(db, o->lock_wait, d) == -1)
		return -1;
	if (pgb_db_read_history(db, &h, 0, d) == -1 ||
	    rollback_targets(m, &h, o, &t, &n, d) == -1 ||
	    check_downs(t, n, d) == -1)
		goto out;
	for (i = 0; i < n; i++) {
		if (pgb_interrupted) {
			pgb_fail(d, PGB_ECANCEL, "interrupted");
			goto out;
		}
		t0 = now_ms();
		emit(o, PGB_EV_BEGIN, t[i], NULL, "revert", 0, 0);
		if (revert_one(db, t[i], o, d) == -1)
			goto out;
		emit(o, PGB_EV_REVERTED, t[i], NULL, "reverted",
		    (long long)(now_ms() - t0), 0);
	}
	emit(o, PGB_EV_SUMMARY, NULL, NULL, "rollback", 0, n);
	rc = 0;
out:
	if (rc == -1 && pgb_interrupted && d->code != PGB_EOPERATOR)
		d->code = PGB_ECANCEL;
	free(t);
	pgb_history_release(&h);
	pgb_db_unlock(db);
	return rc;
}

/* What a rollback to o->to would revert (plan --to below the database). */
static int
plan_rollback(struct pgb_db *db, const struct pgb_manifest *m,
    const struct pgb_apply_opts *o, struct pgb_diag *d)
{
	const struct pgb_migration **t = NULL;
	struct pgb_history	 h;
	size_t			 n = 0, i;
	int			 rc = -1;

	if (pgb_db_read_history(db, &h, 0, d) == -1)
		return -1;
	if (rollback_targets(m, &h, o, &t, &n, d) == 0 &&
	    check_downs(t, n, d) == 0) {
		for (i = 0; i < n; i++)
			emit(o, PGB_EV_DOWN, t[i], NULL, "down", 0, 0);
		emit(o, PGB_EV_SUMMARY, NULL, NULL, "plan-rollback", 0, n);
		rc = 0;
	}
	free(t);
	pgb_history_release(&h);
	return rc;
}

/* Mark bundle migrations as applied without running them. */
static int
record_unrun(struct pgb_db *db, const struct pgb_manifest *m,
    const struct pgb_history *h, const struct pgb_apply_opts *o,
    const long long *versions, size_t nv, const char *origin,
    struct pgb_diag *d)
{
	const struct pgb_migration *mig;
	size_t	i, count = 0;

	if (pgb_db_exec(db, "BEGIN", 0, NULL, NULL, d) == -1)
		return -1;
	for (i = 0; i < nv; i++) {
		if ((mig = find_mig(m, versions[i])) == NULL ||
		    find_row(h, versions[i]) != NULL)
			continue;
		if (record_as(db, mig, o, "applied", mig->up.nstmts, 0, origin,
		    d) == -1) {
			rollback(db);
			return -1;
		}
		emit(o, PGB_EV_RECORDED, mig, NULL, origin, 0, 0);
		count++;
	}
	if (pgb_db_exec(db, "COMMIT", 0, NULL, NULL, d) == -1)
		return -1;
	emit(o, PGB_EV_SUMMARY, NULL, NULL, origin, 0, count);
	return 0;
}

/* History rows must match the bundle before anything is recorded. */
static int
check_no_drift(const struct pgb_manifest *m, const struct pgb_history *h,
    struct pgb_diag *d)
{
	const struct pgb_migration *mig;
	char	label[PGB_NAME_MAX + 8];
	size_t	i;
	int	k;

	for (i = 0; i < h->n; i++) {
		if ((mig = find_mig(m, h->v[i].version)) == NULL &&
		    (k = check_replaced(m, &h->v[i], d)) != 0) {
			if (k == -1)
				return -1;
			continue;
		}
		if (mig == NULL)
			return pgb_fail(d, PGB_ECONFLICT, "database has "
			    "migration %lld '%s' that the bundle does not hold",
			    h->v[i].version, h->v[i].name);
		if (drifted(mig, &h->v[i]))
			return pgb_fail(d, PGB_ECONFLICT, "checksum mismatch "
			    "for applied migration '%s'", pgb_mig_label(mig,
			    label, sizeof(label)));
	}
	return 0;
}

int
pgb_baseline(struct pgb_db *db, const struct pgb_manifest *m,
    const struct pgb_apply_opts *o, long long version, struct pgb_diag *d)
{
	struct pgb_history	 h;
	long long		*v;
	size_t			 i, n = 0;
	int			 rc = -1;

	if (find_mig(m, version) == NULL)
		return pgb_fail(d, PGB_EUSAGE, "the bundle has no migration "
		    "%lld to baseline at", version);
	memset(&h, 0, sizeof(h));
	v = pgb_xcalloc(m->nmigs, sizeof(*v));
	if (pgb_db_lock(db, o->lock_wait, d) == -1) {
		free(v);
		return -1;
	}
	if (pgb_db_ensure_history(db, d) == -1 ||
	    pgb_db_read_history(db, &h, 0, d) == -1)
		goto out;
	if (h.n > 0 && h.v[h.n - 1].version > version) {
		pgb_fail(d, PGB_ECONFLICT, "database already has history past "
		    "%lld: migration %lld '%s'", version, h.v[h.n - 1].version,
		    h.v[h.n - 1].name);
		pgb_detail(d, "baseline only records migrations on a database "
		    "that has not run them; nothing was changed");
		goto out;
	}
	if (check_no_drift(m, &h, d) == -1)
		goto out;
	for (i = 0; i < m->nmigs && m->migs[i].version <= version; i++)
		v[n++] = m->migs[i].version;
	rc = record_unrun(db, m, &h, o, v, n, "baseline", d);
out:
	free(v);
	pgb_history_release(&h);
	pgb_db_unlock(db);
	return rc;
}

/*
 * Record 'v' (versions another tool ran) as applied: every one must be in
 * the bundle, and what we already recorded must agree with the bundle.
 */
int
pgb_adopt_versions(struct pgb_db *db, const struct pgb_manifest *m,
    const struct pgb_apply_opts *o, const long long *v, size_t n,
    const char *origin, struct pgb_diag *d)
{
	struct pgb_history	h;
	struct pgb_buf		missing;
	size_t			i;
	int			rc = -1;

	pgb_buf_init(&missing);
	for (i = 0; i < n; i++)
		if (find_mig(m, v[i]) == NULL && missing.len < 400)
			pgb_buf_printf(&missing, "%s%lld", missing.len ? ", " :
			    "", v[i]);
	if (missing.len > 0) {
		pgb_fail(d, PGB_ECONFLICT, "the database ran version%s %s, "
		    "which the bundle does not hold", strchr(missing.data, ',') ?
		    "s" : "", missing.data);
		pgb_detail(d, "adopt with a bundle built from the same "
		    "migrations; nothing was changed");
		pgb_buf_release(&missing);
		return -1;
	}
	pgb_buf_release(&missing);
	memset(&h, 0, sizeof(h));
	if (pgb_db_lock(db, o->lock_wait, d) == -1)
		return -1;
	if (pgb_db_ensure_history(db, d) == 0 &&
	    pgb_db_read_history(db, &h, 0, d) == 0 &&
	    check_no_drift(m, &h, d) == 0)
		rc = record_unrun(db, m, &h, o, v, n, origin, d);
	pgb_history_release(&h);
	pgb_db_unlock(db);
	return rc;
}
