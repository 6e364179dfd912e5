#ifndef PGB_DB_H
#define PGB_DB_H

/*
 * db.h - the runtime's connection: connect (waiting for a starting
 * server), the advisory lock, and statement execution with errors turned
 * into diags: the one statement runner, with its cancel, deadline and
 * COPY handling, that the runtime and pgbundle check both use.  The
 * history table is history.h's.  Every query of the runtime's own names
 * its objects with their schema.
 */
#include <sys/types.h>

#include <signal.h>

#include <libpq-fe.h>

#include "diag.h"
#include "manifest.h"

struct pgb_db {
	PGconn	*conn;
	int	 server_version;
	char	*schema;	/* history table, unquoted */
	char	*table;
	char	*qname;		/* quoted "schema"."table" */
	char	*qrole;		/* --role, quoted; NULL: none */
	long long lock_key;
	int	 locked;
	int	 history_seen;	/* the history table exists and was checked
				   (under the lock) */
	int	 pid;		/* backend pid seen when the lock was taken */
	PGcancel *cancel;
	pid_t	 canceller;	/* child sending a cancel request; 0: none */
	double	 bound;		/* seconds an answer may take; 0: no bound */
	char	 what[96];	/* names 'bound' in messages */
	double	 deadline;	/* CLOCK_MONOTONIC seconds the answer in
				   flight is due; 0: none */
	double	 stop_at;	/* a cancel request went out: hang up then */
	int	 gave_up;	/* past 'deadline': the command counts as
				   failed, whatever the server answers */
	int	 hung_up;	/* socket shut: 1 a cancel after a signal went
				   unanswered, 2 one past 'deadline' did */
	int	 cleanup;	/* commands run even once pgb_interrupted is
				   set (pgb_db_cleanup) */
	int	 copy_in_ok;	/* the next COPY FROM STDIN is the one the
				   statement announced: pgb_db_copy() feeds it */
	const char *stray;	/* the command started a COPY the bundle did
				   not announce (what it was), which pgapply
				   ended: it fails, whatever the server says */
	int	 ended;		/* PGB_ENDED_* bits: what the results read
				   since the command went out (pipeline: since
				   it began) ended a transaction with */
	unsigned prepared;	/* bit i: own statement i is prepared in the
				   session (pgb_db_prepare); a reset clears */
	char	*reported;	/* the reported settings after the last reset
				   (pgb_db_needs_reset) */
	int	 fresh;		/* a new session: its reset goes out with the
				   first command */
	int	 ending;	/* pgb_db_release() ran: only close follows */
};

/* One command of a pgb_db_batch(). */
struct pgb_cmd {
	const char		*sql;
	int			 n;
	const char *const	*params;
};

/* The runtime's own prepared statements, one name each. */
enum pgb_prep { PGB_PREP_RECORD, PGB_PREP_OWN, PGB_PREP_COUNT };

#define PGB_ENDED_COMMIT	1	/* COMMIT, END, PREPARE TRANSACTION */
#define PGB_ENDED_ROLLBACK	2	/* ROLLBACK, ABORT */

/* Set by the SIGTERM/SIGINT handler; polled between steps. */
extern volatile sig_atomic_t pgb_interrupted;

/*
 * Parse a duration as PostgreSQL parses statement_timeout: a number of
 * milliseconds, or a number with a unit (us, ms, s, min, h, d), with
 * spaces allowed around the unit; fractions are rounded as the server
 * rounds them.  0 and *ms set, or -1 when the server would refuse it
 * (not a number, an unknown unit, below 0 or above INT_MAX ms).
 */
int	pgb_db_parse_ms(const char *, long long *ms);

/*
 * A wait in progress, reported when it starts and every PGB_WAIT_REPORT
 * seconds after, so that a runner never waits silently.  'what' is
 * "server" (connecting: 'message' is why the last attempt failed, the
 * password masked) or "lock" (the runner lock: the holder's 'pid',
 * 'addr' (NULL: a Unix socket), 'since' and 'app', NULL when unknown).
 */
#define PGB_WAIT_REPORT	5
struct pgb_wait {
	const char	*what;
	int		 elapsed;	/* seconds waited so far */
	int		 limit;		/* seconds it may wait in all */
	const char	*message;
	const char	*pid, *addr, *since, *app;
};
typedef void	(*pgb_wait_fn)(void *ctx, const struct pgb_wait *);
/* Who hears of waits (NULL: nobody); for the whole process. */
void	pgb_db_on_wait(pgb_wait_fn, void *ctx);

/*
 * Connect with 'conninfo' (a conninfo string or URL; NULL: libpq's PG*
 * environment), retrying with backoff for up to 'wait' seconds while the
 * server is unreachable or starting up, or the database does not exist
 * yet.  'history' is "schema.table".
 */
int	pgb_db_connect(struct pgb_db *, const char *conninfo, int wait,
	    const char *history, struct pgb_diag *);
void	pgb_db_close(struct pgb_db *);

/*
 * --role: SET ROLE 'role' now and again after every reset of the session,
 * so that migrations, and the history table's checks, run as that role.
 * 0, or -1 with 'd' (PGB_EUSAGE when the server refused the role).
 */
int	pgb_db_set_role(struct pgb_db *, const char *role, struct pgb_diag *);

/*
 * Poll pg_try_advisory_lock for up to 'wait' seconds; name the holder.
 * A new session's reset rides in the first poll's round trip.
 */
int	pgb_db_lock(struct pgb_db *, int wait, struct pgb_diag *);
void	pgb_db_unlock(struct pgb_db *);
/*
 * Give the lock back at the end of the session: the unlock is sent but
 * not waited for (a round trip less), so nothing but pgb_db_close() may
 * follow.  In a transaction (a failure), as pgb_db_unlock().
 */
void	pgb_db_release(struct pgb_db *);
/*
 * Refuse when the backend changed under us (a transaction pooler).  The
 * reset and the history lookup after the lock check it too, in their own
 * round trips.
 */
int	pgb_db_check_backend(struct pgb_db *, struct pgb_diag *);
/* 0 when 'pid' is the session's backend, else -1 and the refusal. */
int	pgb_db_same_backend(struct pgb_db *, int pid, struct pgb_diag *);
/* Put the session back to its connection-time settings (and --role). */
int	pgb_db_reset_session(struct pgb_db *, struct pgb_diag *);
/*
 * Whether the script itself asks for a reset of the session after it: 1
 * unless it ran in a transaction and the compiler marked it
 * keeps-session (a manifest without the mark asks for one).  'sc' NULL:
 * 1.
 */
int	pgb_db_script_resets(const struct pgb_script *sc);
/*
 * Whether the session needs pgb_db_reset_session() after 'sc' ran: when
 * the script asks for it, or a setting the server reports (role,
 * search_path from PostgreSQL 18, encoding, DateStyle, TimeZone, ...)
 * changed since the last reset, as code the compiler does not read (a
 * function the script calls) could do.
 */
int	pgb_db_needs_reset(struct pgb_db *, const struct pgb_script *sc);

/*
 * The runtime's own statements, parsed once per session.  pgb_db_prepare
 * makes statement 'which' (text 'sql', 'n' parameters) ready: nothing
 * when the session has it (since its last reset), else a Parse, a round
 * trip of its own outside pipeline mode.  In pipeline mode the Parse is
 * only queued: returns 1 then (one more result to read), else 0; -1 with
 * 'd' on failure.  pgb_db_exec_prepared runs it as pgb_db_exec would, or
 * queues it in pipeline mode.
 */
int	pgb_db_prepare(struct pgb_db *, enum pgb_prep which, const char *sql,
	    int n, struct pgb_diag *);
int	pgb_db_exec_prepared(struct pgb_db *, enum pgb_prep which, int n,
	    const char *const *params, PGresult **res, struct pgb_diag *);

/*
 * Run one command (no parameters: PQexec; else PQexecParams).  On error
 * 'd' gets the SQLSTATE, message, detail and hint; a lost connection is
 * PGB_ERETRY, a cancel after a signal PGB_ECANCEL, else PGB_ESQL.
 * '*res' (may be NULL) receives a result the caller PQclear()s.
 */
int	pgb_db_exec(struct pgb_db *, const char *sql, int n,
	    const char *const *params, PGresult **res, struct pgb_diag *);
/*
 * Bound every later command: one whose answer has not come 'ms'
 * milliseconds plus 5 s after it went out (after the answer before it,
 * in a pipeline or a string of several statements) gets a cancel
 * request, and 5 s later pgapply hangs up.  'timeout' is the text the
 * user gave, for messages.  ms 0: no bound (the default).
 */
void	pgb_db_bound(struct pgb_db *, long long ms, const char *timeout);
/* The next answer is due 'bound' from now (pipeline mode). */
void	pgb_db_due(struct pgb_db *);
/*
 * From now on, commands on 'db' run even after SIGTERM or SIGINT, each
 * bounded by 'seconds' (then cancelled, and hung up on 5 s later): for
 * clean-up that must happen once interrupted, such as dropping a
 * scratch database.
 */
void	pgb_db_cleanup(struct pgb_db *, int seconds);

/*
 * Run 'sql' as one statement of the extended protocol, and only if the
 * server, once it parsed it, says that it returns 'ncols' columns:
 * transaction control (COMMIT, ROLLBACK, ...) returns none, so it never
 * runs, and several statements are refused by the server.  For verify
 * queries.  0 and '*res' (the caller PQclear()s it), or -1 with 'd'.
 */
int	pgb_db_exec_one(struct pgb_db *, const char *sql, int ncols,
	    PGresult **res, struct pgb_diag *);
/*
 * PQexec (n == 0 and params NULL) or PQexecParams, and PQgetResult, with
 * waits that end: once pgb_interrupted is set, or the answer is past its
 * deadline, pgapply sends a cancel request (from a child process: a
 * frozen postmaster would block PQcancel), and a server that has not
 * answered 5 s later is hung up on; the call then returns as for a lost
 * connection.  A command past its deadline fails even if an answer comes
 * after the cancel went out (pgb_db_error says why).  pgb_db_query
 * returns what PQexec would; NULL when the command could not be sent or
 * missed its deadline.
 */
PGresult *pgb_db_query(struct pgb_db *, const char *sql, int n,
	    const char *const *params);
/*
 * The next result of the command in flight, as PQgetResult, with the same
 * waits.  A COPY is handed back only when it is the COPY FROM STDIN that
 * db->copy_in_ok announced; any other (COPY TO STDOUT, COPY FROM STDIN
 * without data, COPY BOTH) is ended here, the command is marked failed
 * (db->stray) and its final result follows: a COPY FROM STDIN gets a
 * CopyFail, a COPY TO STDOUT a cancel request, its rows are dropped
 * unread, and a server that has not ended it 5 s later is hung up on.
 */
PGresult *pgb_db_result(struct pgb_db *);
/*
 * After a COPY ... FROM STDIN answered PGRES_COPY_IN: send 'len' bytes
 * of data, end the COPY and read its result, with the same waits (the
 * connection is non-blocking, so a server that stops reading cannot
 * block pgapply in a send).  0, or -1 with 'd' filled.
 */
int	pgb_db_copy(struct pgb_db *, const unsigned char *data, size_t len,
	    struct pgb_diag *);
/*
 * Send 'n' commands in one round trip (libpq's pipeline mode, extended
 * protocol, one sync) and read their answers, with the waits of
 * pgb_db_query.  res[i] is command i's result (the caller PQclear()s
 * each; NULL for one the server skipped after a failure).  0 when every
 * command succeeded, else -1 with 'd' from the first failure and *bad
 * its index.
 */
int	pgb_db_batch(struct pgb_db *, const struct pgb_cmd *, size_t n,
	    PGresult **res, size_t *bad, struct pgb_diag *);
/* Fill 'd' (and d->sqlstate) from a failed result or the connection. */
int	pgb_db_error(struct pgb_db *, const PGresult *, struct pgb_diag *);

#endif /* PGB_DB_H */
