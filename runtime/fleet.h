#ifndef PGB_FLEET_H
#define PGB_FLEET_H

/*
 * fleet.h - one verified bundle, many databases.  targets.c reads the
 * list of targets (a file, stdin, or the rows of a query) and picks one
 * shard of it; fleet.c runs a command on each target in a child process
 * of its own, -j N at a time, relays each child's lines prefixed with
 * the target's name, and sums the results up.  The command itself is
 * main.c's: fleet.c only calls it back, so any command joins a fleet by
 * being listed in pgb_fleet_cmd_ok().
 */
#include <stddef.h>

#include "apply.h"
#include "bounds.h"
#include "diag.h"

struct pgb_target {
	char	*name;		/* printable ASCII, no blank; prefixes its
				   lines */
	char	*conninfo;	/* as written: may hold a password, so it is
				   never printed nor put into a diag */
	size_t	 index;		/* 0-based place in the whole list */
	size_t	 line;		/* line of the list, or row of the query */
};

struct pgb_targets {
	struct pgb_target *v;
	size_t	 n;
	size_t	 total;		/* targets in the list, before --shard */
};

/* The fleet options as given on the command line. */
struct pgb_fleet_opts {
	const char	*list;		/* --targets FILE, "-": stdin */
	const char	*query;		/* --targets-query SQL (needs --db) */
	long long	 jobs;		/* -j N; 0: 1 */
	int		 fail_fast;	/* --fail-fast (else --keep-going) */
	long long	 canary;	/* --canary K; 0: none */
	long long	 shard_i;	/* --shard I/N */
	long long	 shard_n;	/* 0: no --shard */
	int		 any;		/* some fleet option was given */
};

/*
 * What one target's run came to, filled in the child by the callback
 * (through pgb_fleet_note and pgb_fleet_failed) and sent to the parent.
 */
struct pgb_fleet_result {
	int	 code;		/* PGB_E* class; 0: success */
	int	 exit;		/* the exit status of that run */
	int	 connected;	/* reached the database */
	size_t	 count;		/* migrations applied, planned, reverted */
	long long at;		/* the migration that was running when it
				   failed; -1: none */
	char	 at_label[PGB_NAME_MAX + 8];
	long long version;	/* status: highest applied version; -1 */
	size_t	 pending, drifted, failed, missing;	/* status */
	int	 listed;	/* status: every row was counted (--check may
				   still fail it) */
	char	 msg[256];	/* the error, as main.c printed it; for a
				   connection retrying will not make, why */
};

/*
 * What main.c lends the fleet: 'run' runs the command on target 't' in
 * this (child) process and returns its exit status, 'r' starting zeroed
 * (at and version -1); 'exit_for' maps a PGB_E* class to its exit status.
 */
struct pgb_fleet_hooks {
	int	(*run)(void *ctx, const struct pgb_target *t,
		    struct pgb_fleet_result *r);
	int	(*exit_for)(int code);
	void	*ctx;
};

/* 1 if 'cmd' runs on a fleet (plan, apply, status, rollback, accept). */
int	pgb_fleet_cmd_ok(const char *cmd);

/*
 * Take one fleet option ('name' as in the long option, "jobs" for -j).
 * 0, or -1 with PGB_EUSAGE and a message that quotes 'arg'.
 */
int	pgb_fleet_opt(struct pgb_fleet_opts *, const char *name,
	    const char *arg, struct pgb_diag *);
/*
 * Check the fleet options together with the command and --db.  0 (also
 * when no fleet option was given), or -1 with PGB_EUSAGE.
 */
int	pgb_fleet_check(const struct pgb_fleet_opts *, const char *cmd,
	    const char *db, struct pgb_diag *);

/* targets.c */

/*
 * Parse a target list: one target per line, "NAME CONNINFO" or just a
 * conninfo or postgres:// URL (its name is then host/dbname), '#'
 * comment lines and blank lines.  'src' names the list in messages
 * ("targets.txt:3: ...").  Appends to 'ts' (zeroed first by the caller).
 * 0, or -1 with PGB_EUSAGE naming the line; the conninfo is never
 * quoted.  Names must be unique.
 */
int	pgb_targets_parse(const char *text, size_t len, const char *src,
	    struct pgb_targets *ts, struct pgb_diag *);
/*
 * The targets of 'o': the list file (or stdin), or the rows (columns
 * name, conninfo) of o->query run on 'control'; then o's shard.
 * 'history' is the history table the connection would use.
 */
int	pgb_targets_load(const struct pgb_fleet_opts *o, const char *control,
	    int wait, const char *history, struct pgb_targets *ts,
	    struct pgb_diag *);
/* Keep the targets whose index k has k mod n == i. */
void	pgb_targets_shard(struct pgb_targets *, size_t i, size_t n);
void	pgb_targets_release(struct pgb_targets *);

/* fleet.c */

/*
 * Run h->run on every target of 'ts', each in a child process of its own,
 * at most o->jobs at a time, with o's --fail-fast and --canary.  SIGTERM
 * or SIGINT (pgb_interrupted) stops starting targets and is passed on to
 * the running ones.  Prints each child's lines prefixed with its target,
 * a JSON event per target and the summary (the status matrix for
 * "status").  Returns the worst PGB_E* class over all targets (0 when
 * all succeeded): see pgb_fleet_worse().
 */
int	pgb_fleet_run(const char *cmd, const struct pgb_fleet_opts *o,
	    const struct pgb_targets *ts, int json, int quiet,
	    const struct pgb_fleet_hooks *h);

/*
 * The worse of two PGB_E* classes.  From best to worst: success,
 * status --check's pending, retryable, interrupted, cannot connect,
 * conflict, SQL failure, needs an operator, bundle or key, usage,
 * internal.
 */
int	pgb_fleet_worse(int a, int b);

/*
 * In the child: count 'ev' into 'r'.  1 when main.c should not print it
 * (status rows, which the matrix sums up), else 0.
 */
int	pgb_fleet_note(struct pgb_fleet_result *r, const struct pgb_event *ev);
/*
 * In the child: the error main.c is about to print, and its exit status.
 * For PGB_ECONNECT the message kept is the server's or libpq's reason
 * (from the detail, whose password pgb_conninfo_mask already hid).
 */
void	pgb_fleet_failed(struct pgb_fleet_result *r, const struct pgb_diag *,
	    int exit);

#endif /* PGB_FLEET_H */
