#ifndef PGB_FLEET_LOCAL_H
#define PGB_FLEET_LOCAL_H

/*
 * fleet_local.h - what fleet.c (the children) and fleet_report.c (what
 * the parent prints about them) share.  No other file includes it.
 */
#include <sys/types.h>

#include <poll.h>
#include <stddef.h>

#include "fleet.h"

/* Where a target is. */
enum { PGB_T_WAITING, PGB_T_RUNNING, PGB_T_DONE, PGB_T_SKIPPED };

struct pgb_slot;	/* a running child; fields live in fleet.c */

struct pgb_fleet {
	const char	*cmd;
	const struct pgb_targets *ts;
	const struct pgb_fleet_opts *o;
	const struct pgb_fleet_hooks *h;
	struct pgb_fleet_result *res;	/* per target */
	unsigned char	*state;		/* per target: PGB_T_* */
	struct pgb_slot	*slots;
	size_t		 nslots;
	struct pollfd	*pfd;		/* 3 per slot */
	size_t		 running, next, canary;
	int		 json, quiet;
	int		 stop;		/* start no more targets */
	int		 forwarded;	/* SIGTERM passed on */
	int		 canary_failed;
	pid_t		 parent;
};

/* fleet_report.c */

/* "apply on 20 targets, 4 at a time" (not with -q or --json). */
void	pgb_fleet_announce(const struct pgb_fleet *);
/* --json: the "target" event of target 't', which ended or never ran. */
void	pgb_fleet_json_target(const struct pgb_fleet *, size_t t);
/*
 * At the end: the summary (one line per target, the counts) on stderr,
 * or the status matrix on stdout, or with --json the "fleet" event.
 * 'worst' is the run's PGB_E* class.
 */
void	pgb_fleet_summary(const struct pgb_fleet *, int worst);

#endif /* PGB_FLEET_LOCAL_H */
