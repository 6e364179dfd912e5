#ifndef PGB_DB_H
#define PGB_DB_H

/*
 * db.h - the runtime's connection: connect (waiting for a starting
 * server), the advisory lock, the history table, and statement execution
 * with errors turned into diags.  Every query of the runtime's own names
 * its objects with their schema.
 */
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
	long long lock_key;
	int	 locked;
	int	 pid;		/* backend pid seen when the lock was taken */
	PGcancel *cancel;
	int	 hung_up;	/* socket shut: 1 a cancel went unanswered,
				   2 no answer by 'deadline' */
	double	 deadline;	/* CLOCK_MONOTONIC seconds; 0: none */
};

enum pgb_hstatus { PGB_H_APPLIED, PGB_H_FAILED };

struct pgb_hrow {
	long long version;
	char	*name;
	char	 checksum[PGB_HEX256_LEN + 1];	/* hex, algorithm stripped */
	char	 chain[PGB_HEX256_LEN + 1];
	char	*bundle_id;
	enum pgb_mode mode;
	enum pgb_hstatus status;
	int	 done;		/* statements done (no-transaction) */
	int	 total;
	char	*applied_at;
	long long duration_ms;
	char	*applied_by;
};

struct pgb_history {
	struct pgb_hrow *v;	/* ascending version */
	size_t	 n;
	int	 exists;	/* the table exists */
};

/* Set by the SIGTERM/SIGINT handler; polled between steps. */
extern volatile sig_atomic_t pgb_interrupted;

/*
 * Connect with 'conninfo' (a conninfo string or URL; NULL: libpq's PG*
 * environment), retrying with backoff for up to 'wait' seconds while the
 * server is unreachable or starting.  'history' is "schema.table".
 */
int	pgb_db_connect(struct pgb_db *, const char *conninfo, int wait,
	    const char *history, struct pgb_diag *);
void	pgb_db_close(struct pgb_db *);

/* Poll pg_try_advisory_lock for up to 'wait' seconds; name the holder. */
int	pgb_db_lock(struct pgb_db *, int wait, struct pgb_diag *);
void	pgb_db_unlock(struct pgb_db *);
/* Refuse when the backend changed under us (a transaction pooler). */
int	pgb_db_check_backend(struct pgb_db *, struct pgb_diag *);
/* Put the session back to its connection-time settings. */
int	pgb_db_reset_session(struct pgb_db *, struct pgb_diag *);

int	pgb_db_ensure_history(struct pgb_db *, struct pgb_diag *);
int	pgb_db_read_history(struct pgb_db *, struct pgb_history *,
	    struct pgb_diag *);
void	pgb_history_release(struct pgb_history *);

/*
 * Run one command (no parameters: PQexec; else PQexecParams).  On error
 * 'd' gets the SQLSTATE, message, detail and hint; a lost connection is
 * PGB_ERETRY, a cancel after a signal PGB_ECANCEL, else PGB_ESQL.
 * '*res' (may be NULL) receives a result the caller PQclear()s.
 */
int	pgb_db_exec(struct pgb_db *, const char *sql, int n,
	    const char *const *params, PGresult **res, struct pgb_diag *);
/*
 * PQexec (n == 0 and params NULL) or PQexecParams, and PQgetResult, with
 * waits that SIGTERM/SIGINT can end: once pgb_interrupted is set (and
 * main.c has sent a cancel request), a server that has not answered
 * within 5 s is hung up on and the call returns as for a lost
 * connection.  So does a server that has not answered by db->deadline
 * when it is set (the lock wait).  pgb_db_query returns what PQexec
 * would; NULL when the command could not be sent.
 */
PGresult *pgb_db_query(struct pgb_db *, const char *sql, int n,
	    const char *const *params);
PGresult *pgb_db_result(struct pgb_db *);
/* Fill 'd' (and d->sqlstate) from a failed result or the connection. */
int	pgb_db_error(struct pgb_db *, const PGresult *, struct pgb_diag *);

#endif /* PGB_DB_H */
