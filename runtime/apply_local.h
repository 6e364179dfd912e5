#ifndef PGB_APPLY_LOCAL_H
#define PGB_APPLY_LOCAL_H

/*
 * apply_local.h - what compare.c, apply.c, revert.c and accept.c share
 * among themselves.  No other file includes it (but their unit test,
 * tests/unit/test_decide.c): apply.h stays their face to main.c, adopt.c
 * and the compiler.  (OpenBSD names such a module-private
 * header *_local.h, as in libcrypto's bn_local.h.)
 */
#include <stddef.h>

#include "apply.h"
#include "db.h"
#include "diag.h"
#include "history.h"
#include "manifest.h"

/* compare.c */

/* An event with these fields (the rest zero) to o->emit, if set. */
void	pgb_emit(const struct pgb_apply_opts *, enum pgb_ev,
	    const struct pgb_migration *, const struct pgb_hrow *,
	    const char *state, long long ms, size_t count);
/* The history row of 'version', or NULL. */
const struct pgb_hrow *pgb_find_row(const struct pgb_history *,
	    long long version);
/* The bundle's migration of 'version', or NULL. */
const struct pgb_migration *pgb_find_mig(const struct pgb_manifest *,
	    long long version);
/*
 * 1 when the row's checksum is not the migration's (nor, for a baseline,
 * that of the migration it replaced at its own version), else 0.
 */
int	pgb_drifted(const struct pgb_migration *, const struct pgb_hrow *);
/*
 * The baseline's entry that replaced 'version' (not its own), or NULL;
 * sets *base to that baseline when 'base' is not NULL.
 */
const struct pgb_replaced *pgb_find_replaced(const struct pgb_manifest *,
	    long long version, const struct pgb_migration **base);
/*
 * A row held only through a baseline: 1 matches, 0 not one, -1 conflict
 * ('bundle': its path, for the way past drift; may be NULL).
 */
int	pgb_check_replaced(const struct pgb_manifest *, const struct pgb_hrow *,
	    const char *bundle, struct pgb_diag *);
/*
 * What apply would do with bundle 'm' and history 'h': compare.c's
 * verdict, decided from them and the options alone (no connection), so
 * that tests/unit/test_decide.c covers each case without a server.
 */
struct pgb_decision {
	size_t		*pending;	/* indexes into m->migs, ascending */
	size_t		 npending;
	long long	 maxapplied;	/* highest version applied; -1: none */
};
/*
 * 0 and 'out' (release it with pgb_decision_release()), or -1 with the
 * first conflict in 'd' and 'out' empty: a row the bundle does not hold
 * (the database is ahead), drift, a row that does not fit its migration,
 * a failed no-transaction migration (without o->retry_failed), a
 * baseline the database ran only part of, a pending migration older
 * than an applied one (without o->allow_out_of_order).
 */
int	pgb_decide(const struct pgb_manifest *m, const struct pgb_history *h,
	    const struct pgb_apply_opts *o, struct pgb_decision *out,
	    struct pgb_diag *);
void	pgb_decision_release(struct pgb_decision *);

/* One line of status: a history row, or a pending migration. */
struct pgb_status_line {
	const struct pgb_migration *mig;	/* NULL: only in history */
	const struct pgb_hrow	*row;		/* NULL: pending */
	const char	*state;	/* applied pending drifted failed missing */
};
struct pgb_status_plan {
	struct pgb_status_line *v;	/* history rows, then pending */
	size_t	 n;
	size_t	 npending, nfailed, ndrifted;	/* ndrifted: or missing */
};
/*
 * What status shows for 'h' against 'm' (NULL: history only): 0 and
 * 'out' (release it with pgb_status_plan_release(); it points into 'm'
 * and 'h'), or -1 when a row does not fit its migration (nothing to
 * show then).  No connection.
 */
int	pgb_decide_status(const struct pgb_manifest *m,
	    const struct pgb_history *h, struct pgb_status_plan *out,
	    struct pgb_diag *);
void	pgb_status_plan_release(struct pgb_status_plan *);
/*
 * status --check, as a CI gate: 0 when every line is applied, else the
 * worst first: a failed migration needs an operator (PGB_EOPERATOR),
 * drift or a vanished migration is a conflict (PGB_ECONFLICT), pending
 * ones are last (PGB_EPENDING).
 */
int	pgb_status_verdict(const struct pgb_status_plan *, struct pgb_diag *);
/*
 * Read the history into 'h' (release it whatever this returns) and list
 * the pending migrations: '*pending' indexes m->migs, the caller frees it.
 * 0, or -1 with the first conflict in 'd'.
 */
int	pgb_read_and_compare(struct pgb_db *, const struct pgb_manifest *,
	    const struct pgb_apply_opts *, struct pgb_history *h,
	    size_t **pending, size_t *npending, struct pgb_diag *);

/* apply.c */

/*
 * Rewrite 'd' to name statement 'i' of 'sc' ('what': "migration", ...),
 * with the server's words and the SQL in the detail; returns -1.
 */
int	pgb_stmt_failed(const struct pgb_migration *,
	    const struct pgb_script *sc, size_t i, const char *what,
	    struct pgb_diag *);
/*
 * Run the verify queries of 'mig': 0 when each returned true, else -1
 * naming the query (PGB_ESQL, the query's SQL in the detail).
 */
int	pgb_run_verify(struct pgb_db *, const struct pgb_migration *,
	    struct pgb_diag *);
/*
 * o's lock and statement timeouts, for the transaction if 'local'; a
 * transaction is marked, for pgb_own_writes(), so call it first thing.
 */
int	pgb_set_timeouts(struct pgb_db *, const struct pgb_apply_opts *,
	    int local, struct pgb_diag *);
/*
 * Before pgapply's own writes in a migration's transaction (its history
 * row, COMMIT): lift the statement_timeout the migration may have set,
 * with 'async' let the COMMIT skip waiting for its flush, and fail with
 * SQLSTATE 22012 unless the transaction is still the one
 * pgb_set_timeouts() marked.  Only queued in pipeline mode.
 */
int	pgb_own_writes(struct pgb_db *, int async, struct pgb_diag *);
/*
 * After pgb_own_writes() failed: when its check did (not the connection),
 * say so in 'd' ('what' names the script: "migration", "down script of")
 * and return 1; else 0.
 */
int	pgb_ended_tx(const char *what, const struct pgb_migration *,
	    struct pgb_diag *);
/*
 * ROLLBACK an open transaction, if the connection is up; errors ignored.
 * Not pgb_rollback(), which reverts migrations.
 */
void	pgb_rollback_tx(struct pgb_db *);

/* revert.c */

/* pgb_plan() with --to below the database: what a rollback would revert. */
int	pgb_plan_rollback(struct pgb_db *, const struct pgb_manifest *,
	    const struct pgb_apply_opts *, struct pgb_diag *);

#endif /* PGB_APPLY_LOCAL_H */
