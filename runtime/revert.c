/*
 * revert.c - go back and move over: run down scripts (rollback, and the
 * plan of one), or record migrations as applied without running them
 * (baseline, and adopt for adopt.c).
 *
 * Trusts: a manifest that bundle.c verified, and the history table read
 * under the runner lock.  Refuses, changing nothing: a history row the
 * bundle does not hold or whose checksum drifted, a missing down script,
 * a no-transaction down script that is not idempotent, a baseline below
 * the database's history, and adopted versions the bundle does not hold.
 * A transactional down script and the removal of its history row commit
 * together; a no-transaction one's row goes after its last statement.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply_local.h"
#include "bounds.h"
#include "buf.h"
#include "clock.h"
#include "banned.h"

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
		if ((mig = pgb_find_mig(m, r->version)) == NULL &&
		    pgb_find_replaced(m, r->version, NULL) != NULL)
			continue;
		if (mig == NULL) {
			pgb_fail(d, PGB_ECONFLICT, "database has migration %lld "
			    "'%s' that the bundle does not hold", r->version,
			    r->name);
			pgb_detail(d, "roll back with a bundle that holds every "
			    "applied migration and its down script");
			return -1;
		}
		if (pgb_drifted(mig, r)) {
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
	    pgb_set_timeouts(db, o, 1, d) == -1))
		goto fail;
	if (!tx && pgb_set_timeouts(db, o, 0, d) == -1)
		return -1;
	for (i = 0; i < mig->down.nstmts; i++) {
		if (pgb_run_stmt(db, &mig->down, i, d) == -1) {
			pgb_stmt_failed(mig, &mig->down, i, "down script of",
			    d);
			if (!tx && d->code == PGB_ESQL)
				d->code = PGB_EOPERATOR;
			goto fail;
		}
	}
	if (tx && pgb_own_writes(db, 0, d) == -1) {
		pgb_ended_tx("down script of", mig, d);
		goto fail;
	}
	if (pgb_history_delete(db, mig->version, d) == -1)
		goto fail;
	if (tx && pgb_db_exec(db, "COMMIT", 0, NULL, NULL, d) == -1)
		return -1;
	if (!pgb_db_needs_reset(db, &mig->down))
		return 0;
	return pgb_db_reset_session(db, d);
fail:
	pgb_rollback_tx(db);
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
		t0 = pgb_clock_ms();
		pgb_emit(o, PGB_EV_BEGIN, t[i], NULL, "revert", 0, 0);
		if (revert_one(db, t[i], o, d) == -1)
			goto out;
		pgb_emit(o, PGB_EV_REVERTED, t[i], NULL, "reverted",
		    (long long)(pgb_clock_ms() - t0), 0);
	}
	pgb_emit(o, PGB_EV_SUMMARY, NULL, NULL, "rollback", 0, n);
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
int
pgb_plan_rollback(struct pgb_db *db, const struct pgb_manifest *m,
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
			pgb_emit(o, PGB_EV_DOWN, t[i], NULL, "down", 0, 0);
		pgb_emit(o, PGB_EV_SUMMARY, NULL, NULL, "plan-rollback", 0, n);
		rc = 0;
	}
	free(t);
	pgb_history_release(&h);
	return rc;
}

/*
 * Mark bundle migrations as applied without running them; 'at' (NULL,
 * or per version NULL) when another tool applied them.
 */
static int
record_unrun(struct pgb_db *db, const struct pgb_manifest *m,
    const struct pgb_history *h, const struct pgb_apply_opts *o,
    const long long *versions, const char *const *at, size_t nv,
    const char *origin, struct pgb_diag *d)
{
	const struct pgb_migration *mig;
	size_t	i, count = 0;

	if (pgb_db_exec(db, "BEGIN", 0, NULL, NULL, d) == -1)
		return -1;
	for (i = 0; i < nv; i++) {
		if ((mig = pgb_find_mig(m, versions[i])) == NULL ||
		    pgb_find_row(h, versions[i]) != NULL)
			continue;
		if (pgb_history_record(db, mig, o->bundle_id, PGB_H_APPLIED,
		    mig->up.nstmts, 0, origin, d) == -1 || (at != NULL &&
		    at[i] != NULL && pgb_history_set_applied_at(db, versions[i],
		    at[i], d) == -1)) {
			pgb_rollback_tx(db);
			return -1;
		}
		pgb_emit(o, PGB_EV_RECORDED, mig, NULL, origin, 0, 0);
		count++;
	}
	if (pgb_db_exec(db, "COMMIT", 0, NULL, NULL, d) == -1)
		return -1;
	pgb_emit(o, PGB_EV_SUMMARY, NULL, NULL, origin, 0, count);
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
		if ((mig = pgb_find_mig(m, h->v[i].version)) == NULL &&
		    (k = pgb_check_replaced(m, &h->v[i], NULL, d)) != 0) {
			if (k == -1)
				return -1;
			continue;
		}
		if (mig == NULL)
			return pgb_fail(d, PGB_ECONFLICT, "database has "
			    "migration %lld '%s' that the bundle does not hold",
			    h->v[i].version, h->v[i].name);
		if (pgb_drifted(mig, &h->v[i]))
			return pgb_fail(d, PGB_ECONFLICT, "checksum mismatch "
			    "for applied migration '%s'", pgb_mig_label(mig,
			    label, sizeof(label)));
	}
	return 0;
}

/*
 * Before baseline records versions 'v' as applied: their verify queries
 * must return true on the database as it is, in a transaction rolled
 * back whatever they do.  0, or -1 (PGB_ECONFLICT) naming the query.
 */
static int
verify_unrun(struct pgb_db *db, const struct pgb_manifest *m,
    const long long *v, size_t n, struct pgb_diag *d)
{
	const struct pgb_migration *mig;
	struct pgb_buf	 b;
	size_t		 i;
	int		 rc = 0;

	if (pgb_db_exec(db, "BEGIN", 0, NULL, NULL, d) == -1)
		return -1;
	for (i = 0; i < n && rc == 0; i++)
		if ((mig = pgb_find_mig(m, v[i])) != NULL)
			rc = pgb_run_verify(db, mig, d);
	pgb_rollback_tx(db);
	if (rc == 0 || d->code != PGB_ESQL)
		return rc;
	d->code = PGB_ECONFLICT;
	pgb_buf_init(&b);
	pgb_buf_printf(&b, "%s\nthe database does not hold what the migration "
	    "builds, so baseline records nothing; fix the database, or pass "
	    "--no-verify to record the migrations without checking", d->detail);
	pgb_detail(d, "%s", b.data);
	pgb_buf_release(&b);
	return -1;
}

int
pgb_baseline(struct pgb_db *db, const struct pgb_manifest *m,
    const struct pgb_apply_opts *o, long long version, struct pgb_diag *d)
{
	struct pgb_history	 h;
	long long		*v;
	size_t			 i, n = 0;
	int			 rc = -1;

	if (pgb_find_mig(m, version) == NULL)
		return pgb_fail(d, PGB_EUSAGE, "the bundle has no migration "
		    "%lld to baseline at", version);
	memset(&h, 0, sizeof(h));
	v = pgb_xcalloc(m->nmigs, sizeof(*v));
	if (pgb_db_lock(db, o->lock_wait, d) == -1) {
		free(v);
		return -1;
	}
	/* Read (not create) first: a refusal leaves the database as it was. */
	if (pgb_db_read_history(db, &h, 0, d) == -1)
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
		if (pgb_find_row(&h, m->migs[i].version) == NULL)
			v[n++] = m->migs[i].version;
	if ((!o->no_verify && verify_unrun(db, m, v, n, d) == -1) ||
	    pgb_db_ensure_history(db, d) == -1)
		goto out;
	rc = record_unrun(db, m, &h, o, v, NULL, n, "baseline", d);
out:
	free(v);
	pgb_history_release(&h);
	pgb_db_unlock(db);
	return rc;
}

/*
 * Record 'v' (versions another tool ran) as applied: every one must be in
 * the bundle, and what we already recorded must agree with the bundle.
 * The caller holds the runner lock.
 */
int
pgb_adopt_versions(struct pgb_db *db, const struct pgb_manifest *m,
    const struct pgb_apply_opts *o, const long long *v, const char *const *at,
    size_t n, const char *origin, struct pgb_diag *d)
{
	struct pgb_history	h;
	struct pgb_buf		missing;
	size_t			i;
	int			rc = -1;

	pgb_buf_init(&missing);
	for (i = 0; i < n; i++)
		if (pgb_find_mig(m, v[i]) == NULL && missing.len < 400)
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
	if (pgb_db_ensure_history(db, d) == 0 &&
	    pgb_db_read_history(db, &h, 0, d) == 0 &&
	    check_no_drift(m, &h, d) == 0)
		rc = record_unrun(db, m, &h, o, v, at, n, origin, d);
	pgb_history_release(&h);
	return rc;
}
