#ifndef PGB_PROVE_H
#define PGB_PROVE_H

/*
 * prove.h - pgbundle check on a real server: apply every migration from
 * empty with the runtime's own code (pgb_apply, pgb_rollback), run the
 * verify queries, prove each down script restores the schema, run each
 * no-transaction migration twice, optionally watch the locks each
 * statement takes, and prove a baseline builds the schema of the
 * migrations it replaces.  Findings go to a report as file:line
 * messages, like the compiler's own.
 */
#include <stddef.h>

#include "diag.h"
#include "manifest.h"
#include "report.h"
#include "scratch.h"

struct pgb_prove_opts {
	const char	*dir;		/* the migrations folder (file names) */
	const char	*history;	/* "schema.table" for the runtime */
	/* The folder of the migrations baselines replace, compiled; NULL
	   when not given (baselines are then not compared). */
	const struct pgb_manifest *archive;
	const char	*archive_dir;
	int		 locks;		/* report lock-heavy statements */
};

struct pgb_prove_result {
	size_t	applied;	/* migrations applied from empty */
	size_t	downs;		/* down scripts proven (or found wanting) */
	size_t	reruns;		/* no-transaction migrations run twice */
	size_t	baselines;	/* baselines compared with what they replace */
	size_t	skipped;	/* not reached after a failure */
};

/*
 * Prove 'm' (a verified manifest: scripts carry their text) on new
 * databases of 's', each dropped afterwards.  Problems in the migrations
 * go to 'r'; returns 0 whatever they are.  -1 only when the server
 * fails us (a database cannot be made, the connection is lost, an
 * interrupt): 'd' says why.
 */
int	pgb_prove(struct pgb_server *s, const struct pgb_manifest *m,
	    const struct pgb_prove_opts *o, struct pgb_report *r,
	    struct pgb_prove_result *res, struct pgb_diag *d);

/*
 * Apply 'm' through version 'to' on 'db' with pgb_apply(), one migration
 * at a time.  0 done; 1 a migration failed, reported to 'r' at its file
 * ('dir' holds the sources) and line; -1 the server failed us ('d').
 */
int	pgb_prove_apply(struct pgb_db *db, const struct pgb_manifest *m,
	    long long to, const char *dir, struct pgb_report *r,
	    struct pgb_diag *d);

#endif /* PGB_PROVE_H */
