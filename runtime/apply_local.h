#ifndef PGB_APPLY_LOCAL_H
#define PGB_APPLY_LOCAL_H

/*
 * apply_local.h - what compare.c, apply.c, revert.c and accept.c share
 * among themselves.  No other file includes it: apply.h stays their face to
 * main.c, adopt.c and the compiler.  (OpenBSD names such a module-private
 * header *_local.h, as in libcrypto's bn_local.h.)
 */
#include <stddef.h>

#include "apply.h"
#include "db.h"
#include "diag.h"
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
 * Read the history into 'h' (release it whatever this returns) and list
 * the pending migrations: '*pending' indexes m->migs, the caller frees it.
 * 0, or -1 with the first conflict in 'd'.
 */
int	pgb_read_and_compare(struct pgb_db *, const struct pgb_manifest *,
	    const struct pgb_apply_opts *, struct pgb_history *h,
	    size_t **pending, size_t *npending, struct pgb_diag *);

/* apply.c */

double	pgb_now_ms(void);	/* CLOCK_MONOTONIC, in milliseconds */
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
 * Insert or update the history row of a migration; 'ms' -1: the server's
 * time since BEGIN; 'origin' "apply", "baseline" or "adopt:TOOL".
 */
int	pgb_record_as(struct pgb_db *, const struct pgb_migration *,
	    const struct pgb_apply_opts *, const char *status, size_t done,
	    long long ms, const char *origin, struct pgb_diag *);
/*
 * ROLLBACK an open transaction, if the connection is up; errors ignored.
 * Not pgb_rollback(), which reverts migrations.
 */
void	pgb_rollback_tx(struct pgb_db *);

/* accept.c */

/* A row 'pgapply accept' wrote: the checksum it had, and why. */
struct pgb_accepted {
	long long version;
	char	*previous;	/* "sha256:..." */
	char	*reason;
};

struct pgb_acceptlist {
	struct pgb_accepted *v;	/* ascending version */
	size_t	 n;
};

/* The accepted rows of the history table (which must exist); 0 or -1. */
int	pgb_accepted_read(struct pgb_db *, struct pgb_acceptlist *,
	    struct pgb_diag *);
const struct pgb_accepted *pgb_accepted_find(const struct pgb_acceptlist *,
	    long long version);
void	pgb_accepted_release(struct pgb_acceptlist *);

/* revert.c */

/* pgb_plan() with --to below the database: what a rollback would revert. */
int	pgb_plan_rollback(struct pgb_db *, const struct pgb_manifest *,
	    const struct pgb_apply_opts *, struct pgb_diag *);

#endif /* PGB_APPLY_LOCAL_H */
