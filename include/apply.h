#ifndef PGB_APPLY_H
#define PGB_APPLY_H

/*
 * apply.h - compare a database's history with a verified bundle, then
 * plan, apply or report.  Progress is reported through a callback so that
 * main.c alone decides between human lines and JSON.
 */
#include "db.h"
#include "diag.h"
#include "history.h"
#include "manifest.h"

enum pgb_ev {
	PGB_EV_PENDING,		/* plan: a migration apply would run */
	PGB_EV_BEGIN,		/* apply: a migration starts */
	PGB_EV_APPLIED,		/* apply: a migration committed */
	PGB_EV_RETRY,		/* apply: lock_timeout hit, trying again */
	PGB_EV_STATUS,		/* status: one migration's state */
	PGB_EV_SUMMARY,		/* end of plan/apply/status */
	PGB_EV_DOWN,		/* plan: a migration rollback would revert */
	PGB_EV_REVERTED,	/* rollback: a down script committed */
	PGB_EV_RECORDED,	/* baseline/adopt: marked applied, not run */
	PGB_EV_ACCEPTED		/* accept: a new checksum recorded, unrun */
};

struct pgb_event {
	enum pgb_ev	 kind;
	const struct pgb_migration *mig;	/* NULL when only in history */
	const struct pgb_hrow *row;		/* NULL when not in history */
	const char	*state;	/* status: applied pending drifted failed missing */
	long long	 duration_ms;
	size_t		 count;	/* summary: migrations applied or pending */
	size_t		 from;	/* begin: first statement (resuming) */
	int		 attempt;
	const char	*checksum;	/* accepted: the new one, "sha256:..." */
	const char	*previous;	/* accepted, status: the checksum it
					   replaced; NULL: none */
	const char	*reason;	/* accepted, status: why; NULL: none */
};

typedef void (*pgb_emit_fn)(void *ctx, const struct pgb_event *);

struct pgb_apply_opts {
	long long	 to;		/* highest version to apply / keep */
	int		 has_to;
	long long	 steps;		/* rollback: how many to revert */
	int		 has_steps;
	int		 allow_out_of_order;
	int		 retry_failed;
	int		 check;		/* status: fail unless all is applied */
	int		 single_tx;
	int		 sync_each;	/* every commit waits for its flush */
	const char	*lock_timeout;		/* e.g. "5s"; NULL: server's */
	const char	*statement_timeout;
	int		 lock_retries;
	int		 lock_wait;		/* seconds for the runner lock */
	const char	*bundle_id;
	const char	*bundle;	/* the bundle's path, for messages */
	int		 no_verify;	/* baseline: skip the verify queries */
	const char	*adopt_from;	/* apply --adopt-from TOOL, or NULL */
	const char	*adopt_table;	/* --table: the tool's table */
	const char	*adopt_map;	/* --map FILE (alembic) */
	/*
	 * The caller closes the session right after: apply's unlock is sent
	 * but not waited for (pgb_db_release), a round trip less.
	 */
	int		 session_ends;
	pgb_emit_fn	 emit;
	void		*ctx;
};

/* 0 after applying (or finding nothing to do); -1 with 'd' filled. */
int	pgb_apply(struct pgb_db *, const struct pgb_manifest *,
	    const struct pgb_apply_opts *, struct pgb_diag *);
/* What pgb_apply would do; changes nothing, takes no lock. */
int	pgb_plan(struct pgb_db *, const struct pgb_manifest *,
	    const struct pgb_apply_opts *, struct pgb_diag *);
/* The state of every migration; 'm' may be NULL (history only). */
int	pgb_status(struct pgb_db *, const struct pgb_manifest *,
	    const struct pgb_apply_opts *, struct pgb_diag *);

/*
 * Run the down scripts of applied migrations above o->to (or the last
 * o->steps), newest first, each in its own transaction together with the
 * removal of its history row.  Refuses, changing nothing, when a down
 * script is missing, a checksum drifted, or a no-transaction migration's
 * down script is not idempotent.
 */
int	pgb_rollback(struct pgb_db *, const struct pgb_manifest *,
	    const struct pgb_apply_opts *, struct pgb_diag *);
/*
 * Record the bundle's migrations up to 'version' as applied, unrun, once
 * their verify queries return true on the database (unless o->no_verify).
 */
int	pgb_baseline(struct pgb_db *, const struct pgb_manifest *,
	    const struct pgb_apply_opts *, long long version, struct pgb_diag *);
/*
 * Record as applied the versions another tool's history table holds,
 * with the time that tool applied each where its table keeps one:
 * 'tool' is golang-migrate, dbmate, sql-migrate, sqitch, flyway, diesel,
 * alembic (o->adopt_map names its map file), goose, prisma, atlas,
 * liquibase or custom; 'table' overrides its default table.  The other tool's table
 * is only read.  Takes the runner lock.
 */
int	pgb_adopt(struct pgb_db *, const struct pgb_manifest *,
	    const struct pgb_apply_opts *, const char *tool, const char *table,
	    struct pgb_diag *);

/*
 * apply's guard, under the runner lock and before apply writes anything.
 * When pgbundle's history is missing or empty: with o->adopt_from, adopt
 * that tool's table if it exists (else nothing to adopt); then, if
 * another tool's history table holds rows, refuse (PGB_ECONFLICT) naming
 * it and the command that adopts it.  0 when apply may go on.  Without
 * adopt_from, when pgbundle's history exists (the look that checks it,
 * which apply makes anyway), it returns 1 at once: the history read
 * says whether it is empty, and only then does pgb_adopt_guard_empty()
 * look for another tool's, so a no-op run costs no round trip more.
 */
int	pgb_adopt_guard_empty(struct pgb_db *, const struct pgb_manifest *,
	    const struct pgb_apply_opts *, struct pgb_diag *);
int	pgb_adopt_guard(struct pgb_db *, const struct pgb_manifest *,
	    const struct pgb_apply_opts *, struct pgb_diag *);

/*
 * Record 'v' as applied by another tool ('origin' "adopt:TOOL"), 'at'
 * (NULL, or per version NULL or a timestamptz) when it was.  Under the
 * runner lock, which the caller holds.
 */
int	pgb_adopt_versions(struct pgb_db *, const struct pgb_manifest *,
	    const struct pgb_apply_opts *, const long long *v,
	    const char *const *at, size_t n, const char *origin,
	    struct pgb_diag *);

/*
 * accept.c: record the bundle's checksum for applied migration 'version'
 * without running it, keeping the old checksum and 'reason' in its row
 * (origin "accepted"); the chains of the applied migrations after it
 * that did not change themselves follow.  Refuses a migration that is
 * not applied, one the bundle does not hold, and one after an earlier
 * migration that drifted.
 */
int	pgb_accept(struct pgb_db *, const struct pgb_manifest *,
	    const struct pgb_apply_opts *, long long version,
	    const char *reason, struct pgb_diag *);

/*
 * Run statement 'i' of 'sc' as pgapply does, streaming its COPY data
 * when the manifest announces some (any other COPY fails it, see
 * pgb_db_result); 0 or -1 with 'd' filled.  The one statement runner:
 * pgbundle check uses it too.
 */
int	pgb_run_stmt(struct pgb_db *, const struct pgb_script *sc, size_t i,
	    struct pgb_diag *);

/* "003_create_orders" into 'buf'. */
const char *pgb_mig_label(const struct pgb_migration *, char *buf, size_t);

#endif /* PGB_APPLY_H */
