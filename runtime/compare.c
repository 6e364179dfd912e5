/*
 * compare.c - compare a database's history with a verified bundle: which
 * migrations are pending, and the plan and status built on that answer.
 *
 * Trusts: a manifest that bundle.c verified, and the database's history
 * table as the record of what ran.  Refuses: drift (an applied checksum
 * differs), a database ahead of the bundle, out-of-order pending
 * versions, failed no-transaction migrations, a baseline of which the
 * database ran only part, and a history row whose mode or statement count
 * is not its migration's (history.c checks each field on its own).
 * Writes nothing: apply.c and revert.c act on its answers.  The decisions
 * themselves (pgb_decide, pgb_decide_status, pgb_status_verdict) take a
 * manifest, history rows and options, and no connection, so that
 * tests/unit/test_decide.c covers each case without a server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply_local.h"
#include "bounds.h"
#include "buf.h"
#include "hash.h"
#include "banned.h"

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

void
pgb_emit(const struct pgb_apply_opts *o, enum pgb_ev kind,
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

const struct pgb_hrow *
pgb_find_row(const struct pgb_history *h, long long version)
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

const struct pgb_migration *
pgb_find_mig(const struct pgb_manifest *m, long long version)
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

int
pgb_drifted(const struct pgb_migration *m, const struct pgb_hrow *r)
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
const struct pgb_replaced *
pgb_find_replaced(const struct pgb_manifest *m, long long version,
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

/* The way past drift, for the detail of every drift refusal. */
static void
accept_hint(struct pgb_buf *b, const char *bundle, long long version)
{
	pgb_buf_printf(b, "; nothing was changed. If the new text is a fix "
	    "that this database does not need to run, record it: pgapply "
	    "accept %s --version %lld --reason TEXT", bundle ? bundle : "FILE",
	    version);
}

/*
 * Refuse row 'r', whose checksum is not that of 'mig'.  A baseline's own
 * version names the migration it replaced there: that is the text that
 * changed, not the baseline.
 */
static int
drift_refusal(const struct pgb_migration *mig, const struct pgb_hrow *r,
    const char *bundle, struct pgb_diag *d)
{
	const struct pgb_replaced	*rp;
	char				 hex[PGB_HEX256_LEN + 1];
	char				 label[PGB_NAME_MAX + 8];
	struct pgb_buf			 b;

	pgb_buf_init(&b);
	pgb_mig_label(mig, label, sizeof(label));
	if (mig->baseline) {
		rp = &mig->replaces[mig->nreplaces - 1];
		pgb_hex(rp->sha256, PGB_SHA256_LEN, hex);
		pgb_fail(d, PGB_ECONFLICT, "checksum mismatch for applied "
		    "migration %lld '%s'", r->version, rp->name);
		pgb_buf_printf(&b, "database has sha256:%s, baseline '%s' "
		    "replaced sha256:%s: migration %lld changed after it was "
		    "applied", r->checksum, label, hex, r->version);
	} else {
		pgb_hex(mig->up.sha256, PGB_SHA256_LEN, hex);
		pgb_fail(d, PGB_ECONFLICT, "checksum mismatch for applied "
		    "migration '%s'", label);
		pgb_buf_printf(&b, "database has sha256:%s, bundle has "
		    "sha256:%s: the migration changed after it was applied",
		    r->checksum, hex);
	}
	accept_hint(&b, bundle, r->version);
	pgb_detail(d, "%s", b.data);
	pgb_buf_release(&b);
	return -1;
}

/*
 * A history row the bundle holds only through a baseline: 1 when it is
 * one and matches, 0 when it is not one, -1 (conflict in 'd') when its
 * checksum differs or it failed half way.
 */
int
pgb_check_replaced(const struct pgb_manifest *m, const struct pgb_hrow *r,
    const char *bundle, struct pgb_diag *d)
{
	const struct pgb_replaced	*rp;
	const struct pgb_migration	*base = NULL;
	char				 hex[PGB_HEX256_LEN + 1];
	char				 label[PGB_NAME_MAX + 8];

	if ((rp = pgb_find_replaced(m, r->version, &base)) == NULL)
		return 0;
	pgb_hex(rp->sha256, PGB_SHA256_LEN, hex);
	if (strcmp(hex, r->checksum) != 0) {
		struct pgb_buf b;

		pgb_fail(d, PGB_ECONFLICT, "checksum mismatch for applied "
		    "migration %lld '%s'", r->version, r->name);
		pgb_buf_init(&b);
		pgb_buf_printf(&b, "database has sha256:%s, baseline '%s' "
		    "replaced sha256:%s: the database ran another migration "
		    "%lld than the one the baseline stands for", r->checksum,
		    pgb_mig_label(base, label, sizeof(label)), hex, r->version);
		accept_hint(&b, bundle, r->version);
		pgb_detail(d, "%s", b.data);
		pgb_buf_release(&b);
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
 * A row written for 'm' itself (its checksum, not that of a migration a
 * baseline replaced) has its mode and statement count: 0, or -1 naming
 * the field that differs.  Resuming trusts statements_done against them.
 */
static int
row_fits(const struct pgb_migration *m, const struct pgb_hrow *r,
    struct pgb_diag *d)
{
	char	hex[PGB_HEX256_LEN + 1];

	pgb_hex(m->up.sha256, PGB_SHA256_LEN, hex);
	if (strcmp(hex, r->checksum) != 0)
		return 0;
	if (r->mode != m->up.mode)
		return pgb_history_corrupt(d, r->version, "mode is '%s', but "
		    "the migration of that checksum is %s",
		    r->mode == PGB_MODE_NOTX ? "no-transaction" : "transaction",
		    m->up.mode == PGB_MODE_NOTX ? "no-transaction" :
		    "transactional");
	if ((size_t)r->total != m->up.nstmts)
		return pgb_history_corrupt(d, r->version, "statements_total "
		    "is %d, but the migration of that checksum has %zu "
		    "statements", r->total, m->up.nstmts);
	return 0;
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

	r = pgb_find_row(h, b->version);
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
 * Row 'r' is in the history but not in the bundle: the bundle is older
 * than the database.
 */
static int
refuse_ahead(const struct pgb_hrow *r, struct pgb_diag *d)
{
	pgb_fail(d, PGB_ECONFLICT, "database has migration %lld '%s' that "
	    "the bundle does not hold", r->version, r->name);
	pgb_detail(d, "the bundle is older than the database: refusing (a "
	    "rollback attack or a deploy out of order); apply a bundle that "
	    "holds every applied migration");
	return -1;
}

/*
 * A no-transaction migration whose statements did not all run: a human
 * decides (--retry-failed).  One whose statements all ran (only its
 * verify queries and final record are missing, e.g. the runner was
 * killed just then) resumes by itself: nothing is run again.  1 when
 * 'r' stops the run (the refusal in 'd'), else 0.
 */
static int
refuse_failed(const struct pgb_migration *mig, const struct pgb_hrow *r,
    const struct pgb_apply_opts *o, struct pgb_diag *d)
{
	const char	*idx;
	char		 label[PGB_NAME_MAX + 8];

	if (r->status != PGB_H_FAILED || o->retry_failed ||
	    (r->done >= 0 && (size_t)r->done >= mig->up.nstmts))
		return 0;
	/* The statement to resume at may have left an index. */
	idx = r->done >= 0 && (size_t)r->done < mig->up.nstmts ?
	    mig->up.stmts[r->done].index : NULL;
	pgb_fail(d, PGB_EOPERATOR, "no-transaction migration '%s' failed "
	    "after %d of %d statements", pgb_mig_label(mig, label,
	    sizeof(label)), r->done, r->total);
	if (idx != NULL)
		pgb_detail(d, "its statements commit one by one; statement %d "
		    "builds index '%s' CONCURRENTLY, and an interrupted build "
		    "leaves it INVALID; fix the cause, then re-run with "
		    "--retry-failed, which drops the INVALID index and resumes "
		    "at statement %d", r->done + 1, idx, r->done + 1);
	else
		pgb_detail(d, "its statements commit one by one; fix the "
		    "cause, then re-run with --retry-failed to resume at "
		    "statement %d", r->done + 1);
	return 1;
}

/*
 * One history row against the bundle: a row of a migration a baseline
 * replaced, else one of the bundle's own that has not drifted, fits its
 * migration and did not fail half way.  Raises *maxapplied to an
 * applied row's version.  0, or -1 with the conflict in 'd'.
 */
static int
check_row(const struct pgb_manifest *m, const struct pgb_hrow *r,
    const struct pgb_apply_opts *o, long long *maxapplied,
    struct pgb_diag *d)
{
	const struct pgb_migration *mig;
	int			 k;

	if ((mig = pgb_find_mig(m, r->version)) == NULL &&
	    (k = pgb_check_replaced(m, r, o->bundle, d)) != 0) {
		if (k == -1)
			return -1;
		if (r->version > *maxapplied)
			*maxapplied = r->version;
		return 0;
	}
	if (mig == NULL)
		return refuse_ahead(r, d);
	if (pgb_drifted(mig, r))
		return drift_refusal(mig, r, o->bundle, d);
	if (row_fits(mig, r, d) == -1)
		return -1;
	if (refuse_failed(mig, r, o, d))
		return -1;
	if (r->status == PGB_H_APPLIED && r->version > *maxapplied)
		*maxapplied = r->version;
	return 0;
}

/* Pending 'mig' is older than applied 'maxapplied'. */
static int
refuse_out_of_order(const struct pgb_migration *mig, long long maxapplied,
    struct pgb_diag *d)
{
	char	label[PGB_NAME_MAX + 8];

	pgb_fail(d, PGB_ECONFLICT, "pending migration '%s' is older than "
	    "applied migration %lld", pgb_mig_label(mig, label,
	    sizeof(label)), maxapplied);
	pgb_detail(d, "applying it now would run migrations out of order; "
	    "pass --allow-out-of-order if that is intended");
	return -1;
}

/*
 * The bundle's migrations up to o->to that are not applied, in order,
 * into 'v' (room for m->nmigs): a baseline the database ran all of, or
 * none of, and nothing older than 'maxapplied' unless out of order is
 * allowed.  0, or -1 with the conflict in 'd'.
 */
static int
list_pending(const struct pgb_manifest *m, const struct pgb_history *h,
    const struct pgb_apply_opts *o, long long maxapplied, size_t *v,
    size_t *n, struct pgb_diag *d)
{
	const struct pgb_migration *mig;
	const struct pgb_hrow	*r;
	size_t			 i;
	int			 k;

	for (i = 0; i < m->nmigs; i++) {
		mig = &m->migs[i];
		if (o->has_to && mig->version > o->to)
			break;
		if (mig->baseline && (k = baseline_state(mig, h, d)) != 0) {
			if (k == -1)
				return -1;
			continue;	/* counts as applied, unrun */
		}
		r = pgb_find_row(h, mig->version);
		if (r != NULL && r->status == PGB_H_APPLIED)
			continue;
		if (mig->version < maxapplied && !o->allow_out_of_order)
			return refuse_out_of_order(mig, maxapplied, d);
		v[(*n)++] = i;
	}
	return 0;
}

int
pgb_decide(const struct pgb_manifest *m, const struct pgb_history *h,
    const struct pgb_apply_opts *o, struct pgb_decision *out,
    struct pgb_diag *d)
{
	size_t	i;

	memset(out, 0, sizeof(*out));
	out->maxapplied = -1;
	for (i = 0; i < h->n; i++)
		if (check_row(m, &h->v[i], o, &out->maxapplied, d) == -1)
			return -1;
	out->pending = pgb_xcalloc(m->nmigs + 1, sizeof(*out->pending));
	if (list_pending(m, h, o, out->maxapplied, out->pending,
	    &out->npending, d) == -1) {
		pgb_decision_release(out);
		return -1;
	}
	return 0;
}

void
pgb_decision_release(struct pgb_decision *dc)
{
	free(dc->pending);
	memset(dc, 0, sizeof(*dc));
}

int
pgb_read_and_compare(struct pgb_db *db, const struct pgb_manifest *m,
    const struct pgb_apply_opts *o, struct pgb_history *h, size_t **pending,
    size_t *npending, struct pgb_diag *d)
{
	struct pgb_decision	dc;

	*pending = NULL;
	*npending = 0;
	if (pgb_db_read_history(db, h, 0, d) == -1 ||
	    pgb_decide(m, h, o, &dc, d) == -1)
		return -1;
	*pending = dc.pending;
	*npending = dc.npending;
	return 0;
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
			return pgb_plan_rollback(db, m, o, d);
	}
	rc = pgb_read_and_compare(db, m, o, &h, &pending, &n, d);
	if (rc == 0) {
		for (i = 0; i < n; i++)
			pgb_emit(o, PGB_EV_PENDING, &m->migs[pending[i]],
			    pgb_find_row(&h, m->migs[pending[i]].version),
			    "pending", 0, 0);
		pgb_emit(o, PGB_EV_SUMMARY, NULL, NULL, "plan", 0, n);
	}
	free(pending);
	pgb_history_release(&h);
	return rc;
}

/* The state status shows for history row 'r' ('mig' its migration). */
static const char *
row_state(const struct pgb_manifest *m, const struct pgb_migration *mig,
    const struct pgb_hrow *r)
{
	struct pgb_diag	ignore;

	if (r->status == PGB_H_FAILED)
		return "failed";
	if (m == NULL)
		return "applied";
	if (mig != NULL)
		return pgb_drifted(mig, r) ? "drifted" : "applied";
	if (pgb_find_replaced(m, r->version, NULL) == NULL)
		return "missing";
	return pgb_check_replaced(m, r, NULL, &ignore) == 1 ? "applied" :
	    "drifted";
}

int
pgb_decide_status(const struct pgb_manifest *m, const struct pgb_history *h,
    struct pgb_status_plan *out, struct pgb_diag *d)
{
	struct pgb_status_line	*l;
	size_t			 i;

	memset(out, 0, sizeof(*out));
	/* Every row is checked before any is shown. */
	for (i = 0; m != NULL && i < h->n; i++) {
		const struct pgb_migration *mig = pgb_find_mig(m,
		    h->v[i].version);

		if (mig != NULL && row_fits(mig, &h->v[i], d) == -1)
			return -1;
	}
	out->v = pgb_xcalloc(h->n + (m != NULL ? m->nmigs : 0) + 1,
	    sizeof(*out->v));
	for (i = 0; i < h->n; i++) {
		l = &out->v[out->n++];
		l->row = &h->v[i];
		l->mig = m != NULL ? pgb_find_mig(m, l->row->version) : NULL;
		l->state = row_state(m, l->mig, l->row);
		if (strcmp(l->state, "failed") == 0)
			out->nfailed++;
		else if (strcmp(l->state, "applied") != 0)
			out->ndrifted++;
	}
	for (i = 0; m != NULL && i < m->nmigs; i++) {
		if (pgb_find_row(h, m->migs[i].version) != NULL)
			continue;
		l = &out->v[out->n++];
		l->mig = &m->migs[i];
		l->state = "pending";
		out->npending++;
	}
	return 0;
}

int
pgb_status_verdict(const struct pgb_status_plan *p, struct pgb_diag *d)
{
	if (p->nfailed > 0)
		return pgb_fail(d, PGB_EOPERATOR, "status --check: %zu "
		    "migration%s failed", p->nfailed, p->nfailed == 1 ? "" :
		    "s");
	if (p->ndrifted > 0)
		return pgb_fail(d, PGB_ECONFLICT, "status --check: %zu "
		    "migration%s drifted or missing from the bundle",
		    p->ndrifted, p->ndrifted == 1 ? "" : "s");
	if (p->npending > 0)
		return pgb_fail(d, PGB_EPENDING, "status --check: %zu "
		    "migration%s pending", p->npending, p->npending == 1 ? "" :
		    "s");
	return 0;
}

void
pgb_status_plan_release(struct pgb_status_plan *p)
{
	free(p->v);
	memset(p, 0, sizeof(*p));
}

int
pgb_status(struct pgb_db *db, const struct pgb_manifest *m,
    const struct pgb_apply_opts *o, struct pgb_diag *d)
{
	struct pgb_history	 h;
	struct pgb_acceptlist	 acc;
	struct pgb_status_plan	 p;
	const struct pgb_accepted *a;
	struct pgb_event	 ev;
	size_t			 i;
	int			 rc = -1;

	memset(&acc, 0, sizeof(acc));
	memset(&p, 0, sizeof(p));
	if (pgb_db_read_history(db, &h, 1, d) == -1)
		return -1;
	if (pgb_decide_status(m, &h, &p, d) == -1 ||
	    (h.exists && pgb_accepted_read(db, &acc, d) == -1))
		goto out;
	for (i = 0; i < p.n; i++) {
		memset(&ev, 0, sizeof(ev));
		ev.kind = PGB_EV_STATUS;
		ev.mig = p.v[i].mig;
		ev.row = p.v[i].row;
		ev.state = p.v[i].state;
		if (ev.row != NULL &&
		    (a = pgb_accepted_find(&acc, ev.row->version)) != NULL) {
			ev.previous = a->previous;
			ev.reason = a->reason;
		}
		if (o->emit != NULL)
			o->emit(o->ctx, &ev);
	}
	pgb_emit(o, PGB_EV_SUMMARY, NULL, NULL, h.n == 0 && m == NULL ?
	    "status-empty" : "status", 0, p.npending);
	rc = o->check ? pgb_status_verdict(&p, d) : 0;
out:
	pgb_status_plan_release(&p);
	pgb_accepted_release(&acc);
	pgb_history_release(&h);
	return rc;
}
