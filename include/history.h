#ifndef PGB_HISTORY_H
#define PGB_HISTORY_H

/*
 * history.h - the history table, and the only module that touches it:
 * history.c creates it, checks it, reads its rows back checked, and
 * records, updates and deletes them.  apply, rollback, baseline, adopt,
 * accept and pgbundle check's prover call it; no SQL that writes history
 * appears anywhere else.
 *
 * The table is trusted only when it is exactly what pgapply creates, in
 * a schema and a table owned by the role pgapply runs as (current_user):
 * no trigger, rule, policy, default, constraint, index, inheritance or
 * grant of TRIGGER or REFERENCES besides.  Anything else is refused with
 * PGB_ECONFLICT before any of it can run.  Every write below runs on a
 * table so checked (pgb_db_ensure_history or pgb_db_read_history first),
 * in whatever transaction the caller has open.
 */
#include <stddef.h>

#include "db.h"
#include "diag.h"
#include "manifest.h"

enum pgb_hstatus { PGB_H_APPLIED, PGB_H_FAILED };

struct pgb_hrow {
	long long version;
	char	*name;
	char	 checksum[PGB_HEX256_LEN + 1];	/* hex, algorithm stripped */
	char	 chain[PGB_HEX256_LEN + 1];
	enum pgb_mode mode;
	enum pgb_hstatus status;
	int	 done;		/* statements done (no-transaction) */
	int	 total;		/* 0 <= done <= total */
	char	*applied_at;	/* "" unless read with 'times' */
};

struct pgb_history {
	struct pgb_hrow *v;	/* ascending version */
	size_t	 n;
	int	 exists;	/* the table exists */
};

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

/*
 * Whether the history table exists and, when it does, that pgapply may
 * use it (owners and shape), in one round trip; once seen under the
 * lock, without one.  0 with *exists set, or -1.
 */
int	pgb_db_history_exists(struct pgb_db *, int *exists, struct pgb_diag *);
/* Create the history table if it is missing; check it either way. */
int	pgb_db_ensure_history(struct pgb_db *, struct pgb_diag *);
/*
 * The checked history ('times': with applied_at, for status); every row
 * is checked with pgb_history_check_row().  On -1, 'h' is empty.
 */
int	pgb_db_read_history(struct pgb_db *, struct pgb_history *, int times,
	    struct pgb_diag *);
void	pgb_history_release(struct pgb_history *);
/*
 * Fill 'r' from one row's text: version, name, checksum, chain, mode,
 * status, statements_done, statements_total, as read (NULL: SQL null).
 * 0, or -1 with PGB_ECONFLICT naming the version and the field that is
 * not what pgapply writes; r->name is set only on success (caller frees).
 */
int	pgb_history_check_row(const char *const f[8], struct pgb_hrow *r,
	    struct pgb_diag *);
/*
 * Refuse a corrupt history row: PGB_ECONFLICT, "corrupt history row for
 * version V: WHAT".  Returns -1.
 */
int	pgb_history_corrupt(struct pgb_diag *, long long version,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * The accepted rows of the history table (which must exist), with the
 * checksum each had and why; release 'l' with pgb_accepted_release().
 * 0 or -1.
 */
int	pgb_accepted_read(struct pgb_db *, struct pgb_acceptlist *l,
	    struct pgb_diag *);
const struct pgb_accepted *pgb_accepted_find(const struct pgb_acceptlist *,
	    long long version);
void	pgb_accepted_release(struct pgb_acceptlist *);	/* accepts empty */

/*
 * Make the statement that records a row ready, once per session (see
 * pgb_db_prepare: in pipeline mode only queued, returning 1).  Before a
 * pipeline, so that it goes out first and nothing in it can skip it.
 */
int	pgb_history_prepare(struct pgb_db *, struct pgb_diag *);
/*
 * Insert or update the row of 'mig' ('status' of 'done' statements)
 * through the prepared statement; 'ms' -1: the server's time since BEGIN;
 * 'origin' "apply", "baseline" or "adopt:TOOL".  Queued in pipeline mode.
 */
int	pgb_history_record(struct pgb_db *, const struct pgb_migration *mig,
	    const char *bundle_id, enum pgb_hstatus status, size_t done,
	    long long ms, const char *origin, struct pgb_diag *);
/*
 * The rows baseline 'b' stands for besides its own: each replaced
 * migration's name, checksum and chain, origin "replaced:VERSION"
 * (docs/FORMAT.md).
 */
int	pgb_history_record_replaced(struct pgb_db *,
	    const struct pgb_migration *b, const char *bundle_id,
	    struct pgb_diag *);
/* Remove the row of 'version' (rollback; the prover's second run). */
int	pgb_history_delete(struct pgb_db *, long long version,
	    struct pgb_diag *);
/* The row of 'version' is applied, all its statements done (prover). */
int	pgb_history_set_applied(struct pgb_db *, long long version,
	    struct pgb_diag *);
/* Another tool's time 'at' (a timestamptz) for the row of 'version'. */
int	pgb_history_set_applied_at(struct pgb_db *, long long version,
	    const char *at, struct pgb_diag *);
/* The row of 'version' takes the chain 'chain' (accept's followers). */
int	pgb_history_set_chain(struct pgb_db *, long long version,
	    const unsigned char chain[PGB_SHA256_LEN], struct pgb_diag *);
/*
 * Rewrite the row of 'version' as it is: a write for a COMMIT that must
 * wait for the flush of those before it that did not.  Errors ignored.
 */
void	pgb_history_touch(struct pgb_db *, long long version);

/* What 'pgapply accept' writes into one row. */
struct pgb_haccept {
	long long	 version;
	const char	*name;
	const unsigned char *sha256;	/* the bundle's checksum */
	const unsigned char *chain;
	const char	*previous;	/* the row's checksum, hex */
	const char	*reason;
	const char	*bundle_id;
	/* Its own migration's script: its mode and count go into the
	   row; NULL (a replaced migration) keeps the row's. */
	const struct pgb_script *up;
};
/*
 * Record 'a' in its row, origin "accepted", adding the columns
 * previous_checksum and reason to a table made before accept existed
 * (quietly when they are there).  In the caller's transaction.
 */
int	pgb_history_accept(struct pgb_db *, const struct pgb_haccept *a,
	    struct pgb_diag *);

#endif /* PGB_HISTORY_H */
