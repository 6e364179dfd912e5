/*
 * test_decide.c - compare.c's decisions without a server: given a bundle
 * and a history, what apply runs (pending, in order, up to --to) or why
 * it refuses (drift, a database ahead of the bundle, out of order, a
 * failed no-transaction migration, a baseline the database ran only part
 * of, a row that does not fit its migration), and what status shows and
 * its --check verdict.  Each refusal is checked by code and message.
 * The end-to-end files (020, 021, 024, 028, 081) run the same cases
 * against a real history table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply_local.h"
#include "hash.h"
#include "banned.h"

#define MAXM	8

/* A bundle and a history, built in place: no allocation to release. */
static struct fixture {
	struct pgb_manifest	 m;
	struct pgb_migration	 migs[MAXM];
	struct pgb_stmt		 stmts[MAXM][4];
	char			 paths[MAXM][64];
	char			 names[MAXM][32];
	struct pgb_replaced	 rep[MAXM];
	char			 repnames[MAXM][32];
	char			 index[32];
	struct pgb_history	 h;
	struct pgb_hrow		 rows[MAXM];
	char			 rownames[MAXM][32];
	struct pgb_apply_opts	 o;
	struct pgb_diag		 d;
} fx;

/* The up script's checksum of migration 'version' as first written. */
static void
sha_of(long long version, unsigned char sha[PGB_SHA256_LEN])
{
	memset(sha, (int)(version & 0x7f), PGB_SHA256_LEN);
}

static void
reset(void)
{
	memset(&fx, 0, sizeof(fx));
	fx.m.migs = fx.migs;
	fx.h.v = fx.rows;
	fx.h.exists = 1;
	fx.o.bundle = "app.pgb";
}

/* Bundle migration 'version' 'name', 'nstmts' statements in 'mode'. */
static struct pgb_migration *
add_mig(long long version, const char *name, enum pgb_mode mode,
    size_t nstmts)
{
	size_t			 i = fx.m.nmigs++;
	struct pgb_migration	*mig = &fx.migs[i];

	snprintf(fx.names[i], sizeof(fx.names[i]), "%s", name);
	snprintf(fx.paths[i], sizeof(fx.paths[i]), "migrations/%03lld_%s.sql",
	    version, name);
	mig->version = version;
	mig->name = fx.names[i];
	mig->up.path = fx.paths[i];
	mig->up.mode = mode;
	mig->up.stmts = fx.stmts[i];
	mig->up.nstmts = nstmts;
	sha_of(version, mig->up.sha256);
	memset(mig->chain, 0x40 + (int)i, PGB_SHA256_LEN);
	return mig;
}

/*
 * Make the last migration added a baseline of 'first' through its own
 * version: it replaced migrations first..version, whose checksums were
 * sha_of() each.
 */
static void
make_baseline(long long first)
{
	struct pgb_migration	*b = &fx.migs[fx.m.nmigs - 1];
	long long		 v;
	size_t			 k = 0;

	b->baseline = 1;
	b->baseline_first = first;
	b->replaces = fx.rep;
	memset(b->up.sha256, 0xba, PGB_SHA256_LEN);
	for (v = first; v <= b->version; v++, k++) {
		snprintf(fx.repnames[k], sizeof(fx.repnames[k]), "old%lld", v);
		fx.rep[k].version = v;
		fx.rep[k].name = fx.repnames[k];
		sha_of(v, fx.rep[k].sha256);
	}
	b->nreplaces = k;
}

/* History row for 'version' with checksum 'sha', as pgapply writes it. */
static struct pgb_hrow *
add_row_sha(long long version, const unsigned char sha[PGB_SHA256_LEN],
    enum pgb_mode mode, enum pgb_hstatus status, int done, int total)
{
	size_t		 i = fx.h.n++;
	struct pgb_hrow	*r = &fx.rows[i];

	snprintf(fx.rownames[i], sizeof(fx.rownames[i]), "row%lld", version);
	r->version = version;
	r->name = fx.rownames[i];
	pgb_hex(sha, PGB_SHA256_LEN, r->checksum);
	r->mode = mode;
	r->status = status;
	r->done = done;
	r->total = total;
	return r;
}

/* An applied transactional row of 'version', unchanged since. */
static struct pgb_hrow *
add_row(long long version, int total)
{
	unsigned char	sha[PGB_SHA256_LEN];

	sha_of(version, sha);
	return add_row_sha(version, sha, PGB_MODE_TX, PGB_H_APPLIED, total,
	    total);
}

/* pgb_decide() succeeds with pending versions 'want' ('n' of them). */
static void
pending_are(const long long *want, size_t n)
{
	struct pgb_decision	dc;
	size_t			i;

	assert_int_equal(pgb_decide(&fx.m, &fx.h, &fx.o, &dc, &fx.d), 0);
	assert_int_equal(dc.npending, n);
	for (i = 0; i < n; i++)
		assert_int_equal(fx.m.migs[dc.pending[i]].version, want[i]);
	pgb_decision_release(&dc);
}

/* pgb_decide() refuses with 'code' and 'msg'; the detail holds 'detail'. */
static void
refused(int code, const char *msg, const char *detail)
{
	struct pgb_decision	dc;

	assert_int_equal(pgb_decide(&fx.m, &fx.h, &fx.o, &dc, &fx.d), -1);
	assert_int_equal(fx.d.code, code);
	assert_string_equal(fx.d.msg, msg);
	if (detail != NULL && strstr(fx.d.detail, detail) == NULL)
		fail_msg("detail '%s' lacks '%s'", fx.d.detail, detail);
	assert_null(dc.pending);
	assert_int_equal(dc.npending, 0);
}

static void
test_decide_pending(void **state)
{
	const long long	all[] = { 1, 2, 3 }, rest[] = { 3 }, upto[] = { 2 };

	(void)state;
	reset();
	add_mig(1, "a", PGB_MODE_TX, 1);
	add_mig(2, "b", PGB_MODE_TX, 2);
	add_mig(3, "c", PGB_MODE_TX, 1);
	/* A new database: every migration, in order. */
	fx.h.exists = 0;
	pending_are(all, 3);
	/* Two applied: the third. */
	fx.h.exists = 1;
	add_row(1, 1);
	add_row(2, 2);
	pending_are(rest, 1);
	/* All applied: nothing. */
	add_row(3, 1);
	pending_are(NULL, 0);
	/* --to stops before a version. */
	fx.h.n = 1;
	fx.o.has_to = 1;
	fx.o.to = 2;
	pending_are(upto, 1);
}

static void
test_decide_drift(void **state)
{
	unsigned char	changed[PGB_SHA256_LEN];

	(void)state;
	reset();
	add_mig(1, "a", PGB_MODE_TX, 1);
	add_mig(2, "b", PGB_MODE_TX, 1);
	add_row(1, 1);
	memset(changed, 0xee, sizeof(changed));
	add_row_sha(2, changed, PGB_MODE_TX, PGB_H_APPLIED, 1, 1);
	refused(PGB_ECONFLICT, "checksum mismatch for applied migration "
	    "'002_b'", "the migration changed after it was applied; nothing "
	    "was changed. If the new text is a fix that this database does "
	    "not need to run, record it: pgapply accept app.pgb --version 2 "
	    "--reason TEXT");
	/* The database's checksum is named in full. */
	assert_non_null(strstr(fx.d.detail, "database has sha256:eeee"));
}

/*
 * A row 'pgapply accept' rewrote holds the bundle's checksum (the old
 * one is in previous_checksum, which compare.c does not read): applied,
 * not drifted, and the next migration is pending.
 */
static void
test_decide_accepted(void **state)
{
	const long long		 next[] = { 3 };
	struct pgb_status_plan	 p;
	struct pgb_hrow		*r;

	(void)state;
	reset();
	add_mig(1, "a", PGB_MODE_TX, 1);
	add_mig(2, "b", PGB_MODE_NOTX, 3);
	add_mig(3, "c", PGB_MODE_TX, 1);
	add_row(1, 1);
	r = add_row_sha(2, fx.migs[1].up.sha256, PGB_MODE_NOTX, PGB_H_APPLIED,
	    3, 3);
	/* Its chain is still the one of the text that ran: not compared. */
	memset(r->chain, 'f', PGB_HEX256_LEN);
	pending_are(next, 1);
	assert_int_equal(pgb_decide_status(&fx.m, &fx.h, &p, &fx.d), 0);
	assert_int_equal(p.n, 3);
	assert_string_equal(p.v[1].state, "applied");
	assert_ptr_equal(p.v[1].mig, &fx.migs[1]);
	assert_int_equal(p.ndrifted, 0);
	assert_int_equal(p.npending, 1);
	pgb_status_plan_release(&p);
}

static void
test_decide_database_ahead(void **state)
{
	(void)state;
	reset();
	add_mig(1, "a", PGB_MODE_TX, 1);
	add_row(1, 1);
	add_row(9, 1);
	refused(PGB_ECONFLICT, "database has migration 9 'row9' that the "
	    "bundle does not hold", "the bundle is older than the database: "
	    "refusing (a rollback attack or a deploy out of order)");
}

static void
test_decide_out_of_order(void **state)
{
	const long long	late[] = { 2 };

	(void)state;
	reset();
	add_mig(1, "a", PGB_MODE_TX, 1);
	add_mig(2, "b", PGB_MODE_TX, 1);
	add_mig(3, "c", PGB_MODE_TX, 1);
	add_row(1, 1);
	add_row(3, 1);
	refused(PGB_ECONFLICT, "pending migration '002_b' is older than "
	    "applied migration 3", "pass --allow-out-of-order if that is "
	    "intended");
	fx.o.allow_out_of_order = 1;
	pending_are(late, 1);
}

static void
test_decide_failed_notx(void **state)
{
	const long long	 again[] = { 2 };
	struct pgb_hrow	*r;

	(void)state;
	reset();
	add_mig(1, "a", PGB_MODE_TX, 1);
	add_mig(2, "b", PGB_MODE_NOTX, 3);
	add_row(1, 1);
	r = add_row_sha(2, fx.migs[1].up.sha256, PGB_MODE_NOTX, PGB_H_FAILED,
	    1, 3);
	refused(PGB_EOPERATOR, "no-transaction migration '002_b' failed after "
	    "1 of 3 statements", "fix the cause, then re-run with "
	    "--retry-failed to resume at statement 2");
	/* The statement to resume at builds an index CONCURRENTLY. */
	snprintf(fx.index, sizeof(fx.index), "users_email_idx");
	fx.stmts[1][1].index = fx.index;
	refused(PGB_EOPERATOR, "no-transaction migration '002_b' failed after "
	    "1 of 3 statements", "statement 2 builds index 'users_email_idx' "
	    "CONCURRENTLY, and an interrupted build leaves it INVALID");
	/* --retry-failed resumes it. */
	fx.o.retry_failed = 1;
	pending_are(again, 1);
	/* Every statement ran (killed before its last record): resumes. */
	fx.o.retry_failed = 0;
	r->done = 3;
	pending_are(again, 1);
}

/* A row whose mode or count is not that of the migration of its checksum. */
static void
test_decide_row_fits(void **state)
{
	struct pgb_status_plan	 p;
	struct pgb_hrow		*r;

	(void)state;
	reset();
	add_mig(1, "a", PGB_MODE_TX, 2);
	r = add_row(1, 2);
	r->mode = PGB_MODE_NOTX;
	refused(PGB_ECONFLICT, "corrupt history row for version 1: mode is "
	    "'no-transaction', but the migration of that checksum is "
	    "transactional", "nothing was run");
	/* Status checks every row before it shows any. */
	assert_int_equal(pgb_decide_status(&fx.m, &fx.h, &p, &fx.d), -1);
	assert_int_equal(fx.d.code, PGB_ECONFLICT);
	assert_null(p.v);
	r->mode = PGB_MODE_TX;
	r->total = r->done = 5;
	refused(PGB_ECONFLICT, "corrupt history row for version 1: "
	    "statements_total is 5, but the migration of that checksum has 2 "
	    "statements", NULL);
}

static void
test_decide_baseline(void **state)
{
	const long long	 fresh[] = { 1, 2, 5, 6 }, after[] = { 6 };

	(void)state;
	reset();
	add_mig(1, "a", PGB_MODE_TX, 1);
	add_mig(2, "b", PGB_MODE_TX, 1);
	add_mig(5, "base", PGB_MODE_TX, 4);
	make_baseline(3);
	add_mig(6, "f", PGB_MODE_TX, 1);
	/* A new database runs the baseline. */
	pending_are(fresh, 4);
	/* One that ran 3, 4 and 5 one by one skips it. */
	add_row(1, 1);
	add_row(2, 1);
	add_row(3, 1);
	add_row(4, 1);
	add_row(5, 1);
	pending_are(after, 1);
	/* Only part of them: refused. */
	fx.h.n = 3;
	refused(PGB_ECONFLICT, "baseline '005_base' replaces migrations 3 to "
	    "5, and the database ran only part of them (up to 3 'row3')",
	    "apply a bundle built before the squash (one that holds the "
	    "migrations up to 5) first");
}

static void
test_decide_baseline_replaced_rows(void **state)
{
	unsigned char	 changed[PGB_SHA256_LEN];
	struct pgb_hrow	*r;

	(void)state;
	reset();
	add_mig(5, "base", PGB_MODE_TX, 4);
	make_baseline(3);
	add_row(3, 1);
	memset(changed, 0xee, sizeof(changed));
	r = add_row_sha(4, changed, PGB_MODE_TX, PGB_H_APPLIED, 1, 1);
	add_row(5, 1);
	refused(PGB_ECONFLICT, "checksum mismatch for applied migration 4 "
	    "'row4'", "the database ran another migration 4 than the one the "
	    "baseline stands for");
	/* A replaced no-transaction migration that failed half way. */
	sha_of(4, changed);
	pgb_hex(changed, PGB_SHA256_LEN, r->checksum);
	r->mode = PGB_MODE_NOTX;
	r->status = PGB_H_FAILED;
	r->done = 0;
	refused(PGB_EOPERATOR, "no-transaction migration 4 'row4' failed "
	    "after 0 of 1 statements", "finish it with a bundle built before "
	    "the squash");
	/* As they were: nothing pending. */
	r->status = PGB_H_APPLIED;
	r->done = 1;
	pending_are(NULL, 0);
}

/* What status shows, and the order of status --check's verdicts. */
static void
test_decide_status(void **state)
{
	struct pgb_status_plan	 p;
	unsigned char		 changed[PGB_SHA256_LEN];

	(void)state;
	reset();
	add_mig(1, "a", PGB_MODE_TX, 1);
	add_mig(2, "b", PGB_MODE_NOTX, 2);
	add_mig(3, "c", PGB_MODE_TX, 1);
	add_mig(4, "d", PGB_MODE_TX, 1);
	add_row(1, 1);
	add_row_sha(2, fx.migs[1].up.sha256, PGB_MODE_NOTX, PGB_H_FAILED, 1,
	    2);
	memset(changed, 0xee, sizeof(changed));
	add_row_sha(3, changed, PGB_MODE_TX, PGB_H_APPLIED, 1, 1);
	add_row(7, 1);
	assert_int_equal(pgb_decide_status(&fx.m, &fx.h, &p, &fx.d), 0);
	assert_int_equal(p.n, 5);
	assert_string_equal(p.v[0].state, "applied");
	assert_string_equal(p.v[1].state, "failed");
	assert_string_equal(p.v[2].state, "drifted");
	assert_string_equal(p.v[3].state, "missing");
	assert_null(p.v[3].mig);
	assert_string_equal(p.v[4].state, "pending");
	assert_null(p.v[4].row);
	assert_int_equal(p.v[4].mig->version, 4);
	/* Worst first: failed, then drifted or missing, then pending. */
	assert_int_equal(pgb_status_verdict(&p, &fx.d), -1);
	assert_int_equal(fx.d.code, PGB_EOPERATOR);
	assert_string_equal(fx.d.msg, "status --check: 1 migration failed");
	p.nfailed = 0;
	assert_int_equal(pgb_status_verdict(&p, &fx.d), -1);
	assert_int_equal(fx.d.code, PGB_ECONFLICT);
	assert_string_equal(fx.d.msg, "status --check: 2 migrations drifted "
	    "or missing from the bundle");
	p.ndrifted = 0;
	assert_int_equal(pgb_status_verdict(&p, &fx.d), -1);
	assert_int_equal(fx.d.code, PGB_EPENDING);
	assert_string_equal(fx.d.msg, "status --check: 1 migration pending");
	p.npending = 0;
	assert_int_equal(pgb_status_verdict(&p, &fx.d), 0);
	pgb_status_plan_release(&p);
	/* Without a bundle: the history as it is, nothing pending. */
	assert_int_equal(pgb_decide_status(NULL, &fx.h, &p, &fx.d), 0);
	assert_int_equal(p.n, 4);
	assert_string_equal(p.v[1].state, "failed");
	assert_string_equal(p.v[2].state, "applied");
	assert_string_equal(p.v[3].state, "applied");
	assert_int_equal(p.npending, 0);
	pgb_status_plan_release(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide_pending),
		cmocka_unit_test(test_decide_drift),
		cmocka_unit_test(test_decide_accepted),
		cmocka_unit_test(test_decide_database_ahead),
		cmocka_unit_test(test_decide_out_of_order),
		cmocka_unit_test(test_decide_failed_notx),
		cmocka_unit_test(test_decide_row_fits),
		cmocka_unit_test(test_decide_baseline),
		cmocka_unit_test(test_decide_baseline_replaced_rows),
		cmocka_unit_test(test_decide_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
