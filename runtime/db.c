/*
 * db.c - connection, advisory lock, the history table's name, and
 * statement execution (history.c creates, checks, reads and writes the
 * table itself).
 *
 * Trusts: the server to answer, but only for so long: every wait for it
 * goes through wait_step(), which a signal or a deadline ends.  Every
 * object the runtime itself names carries its schema (pg_catalog., the
 * history schema), and every operator is written OPERATOR(pg_catalog.x),
 * so neither a migration that changes search_path nor a database whose
 * search_path puts another schema before pg_catalog can redirect the
 * runtime's own queries.  Values travel as parameters, never formatted
 * into SQL.  Rejects: a history table in a system schema.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "conninfo.h"
#include "db.h"
#include "hash.h"
#include "banned.h"

volatile sig_atomic_t pgb_interrupted;

/* How long a cancel request may go unanswered before pgapply hangs up. */
#define CANCEL_GRACE	5
/* Seconds an attempt to connect may take, unless the user set one. */
#define CONNECT_TIMEOUT	"10"
#define CONNECT_PROBE	10	/* s: reading why a server refused us */
#define COPY_CHUNK	65536

static void
sleep_ms(long ms)
{
	struct timespec	ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR && !pgb_interrupted)
		;
}

/* Next backoff step: grow by half, cap at 'max', jitter by +-25%. */
static long
backoff(long *step, long max)
{
	long	ms = *step;

	*step = *step + *step / 2 > max ? max : *step + *step / 2;
	return pgb_jitter(ms - ms / 4, ms / 2);
}

/* rint() in the default rounding mode (half to even), without libm. */
static double
round_even(double v)
{
	double	t, f;

	if (v >= 9007199254740992.0 || v <= -9007199254740992.0)
		return v;	/* 2^53: integral already, or infinite */
	t = (double)(long long)v;
	f = v - t;
	if (f > 0.5 || (f == 0.5 && (long long)t % 2 != 0))
		t += 1;
	else if (f < -0.5 || (f == -0.5 && (long long)t % 2 != 0))
		t -= 1;
	return t;
}

/*
 * What guc.c's parse_int() and convert_to_base_unit() do for a setting
 * in milliseconds, step for step: strtol() with base 0 (so 0x10 and 010
 * are numbers), strtod() when that stops at '.', 'e' or 'E', units
 * case-sensitive, a fractional value rounded to the next smaller unit
 * and then to whole milliseconds.
 */
int
pgb_db_parse_ms(const char *s, long long *ms)
{
	static const struct {
		const char	*unit;
		double		 ms;
	} units[] = {
		{ "d", 86400000.0 }, { "h", 3600000.0 }, { "min", 60000.0 },
		{ "s", 1000.0 }, { "ms", 1.0 }, { "us", 0.001 }, { NULL, 0 }
	};
	char	*end;
	double	 v;
	size_t	 i, n;

	errno = 0;
	v = (double)strtol(s, &end, 0);
	if (*end == '.' || *end == 'e' || *end == 'E' || errno == ERANGE) {
		errno = 0;
		v = strtod(s, &end);
	}
	if (end == s || errno == ERANGE || v != v)
		return -1;
	while (isspace((unsigned char)*end))
		end++;
	if (*end != '\0') {
		n = strcspn(end, " \t\n\v\f\r");
		for (i = 0; units[i].unit != NULL; i++)
			if (strlen(units[i].unit) == n &&
			    strncmp(end, units[i].unit, n) == 0)
				break;
		if (units[i].unit == NULL)
			return -1;
		v *= units[i].ms;
		if (units[i + 1].unit != NULL)
			v = round_even(v / units[i + 1].ms) * units[i + 1].ms;
		for (end += n; isspace((unsigned char)*end); end++)
			;
		if (*end != '\0')
			return -1;
	}
	v = round_even(v);
	if (!(v >= 0 && v <= INT_MAX))
		return -1;
	*ms = (long long)v;
	return 0;
}

void
pgb_db_bound(struct pgb_db *db, long long ms, const char *timeout)
{
	db->bound = ms > 0 ? ms / 1000.0 + CANCEL_GRACE : 0;
	snprintf(db->what, sizeof(db->what), "the statement timeout %.40s "
	    "plus %d s", timeout, CANCEL_GRACE);
}

void
pgb_db_due(struct pgb_db *db)
{
	db->deadline = db->bound > 0 ? pgb_clock_s() + db->bound : 0;
}

void
pgb_db_cleanup(struct pgb_db *db, int seconds)
{
	db->cleanup = 1;
	db->bound = seconds;
	snprintf(db->what, sizeof(db->what), "%d s", seconds);
}

/* Whether a signal ends the command in flight. */
static int
interrupted(const struct pgb_db *db)
{
	return pgb_interrupted && !db->cleanup;
}

/* A new command goes out: it has its own deadline and its own fate. */
static void
arm(struct pgb_db *db)
{
	if (!interrupted(db)) {
		db->gave_up = 0;
		db->stop_at = 0;
	}
	db->stray = NULL;
	db->ended = 0;
	pgb_db_due(db);
}

/*
 * Reap the child that sends a cancel request once it is done; with
 * 'end', kill it first: it may be stuck on a postmaster that does not
 * answer, and pgapply never waits for it beyond its own grace.
 */
static void
reap(struct pgb_db *db, int end)
{
	pid_t	r;

	if (db->canceller == 0)
		return;
	if (end)
		(void)kill(db->canceller, SIGKILL);
	while ((r = waitpid(db->canceller, NULL, end ? 0 : WNOHANG)) == -1 &&
	    errno == EINTR)
		;
	if (r != 0)
		db->canceller = 0;
}

/*
 * Ask the server to cancel the command in flight, without waiting for
 * it: PQcancel connects to the postmaster and waits for it to hang up,
 * which a frozen postmaster never does.  A child does that; the caller
 * goes on waiting for the answer, bounded by stop_at.
 */
static void
send_cancel(struct pgb_db *db)
{
	char	errbuf[256];
	pid_t	pid;

	if (db->cancel == NULL || db->canceller != 0)
		return;
	if ((pid = fork()) == 0) {
		/* The session's socket is the parent's to close. */
		(void)close(PQsocket(db->conn));
		(void)PQcancel(db->cancel, errbuf, sizeof(errbuf));
		_exit(0);
	}
	if (pid > 0)
		db->canceller = pid;
}

/*
 * Shut the session's socket: libpq then reports a lost connection (and
 * leaves any COPY state) instead of waiting for the server for ever.
 */
static void
hang_up(struct pgb_db *db)
{
	(void)shutdown(PQsocket(db->conn), SHUT_RDWR);
	db->hung_up = interrupted(db) ? 1 : 2;
	(void)PQconsumeInput(db->conn);
}

/*
 * Wait at most 100 ms for the session's socket to be ready for 'events'.
 * This is where pgapply gives up on the server: once a signal came, or
 * the answer is past db->deadline, a cancel request goes out, and a
 * server that has still not answered CANCEL_GRACE seconds later is hung
 * up on (the socket is shut down, so libpq reports a lost connection
 * instead of waiting for ever).  Returns the poll revents, or -1 once
 * it hung up or poll failed.
 */
static int
wait_step(struct pgb_db *db, short events)
{
	struct pollfd	pfd;
	double		t = pgb_clock_s();

	reap(db, 0);
	if (db->hung_up)
		return -1;
	if (db->stop_at == 0 && (interrupted(db) ||
	    (db->deadline != 0 && t > db->deadline))) {
		db->gave_up = !interrupted(db);
		db->stop_at = t + CANCEL_GRACE;
		send_cancel(db);
	}
	if (db->stop_at != 0 && t > db->stop_at) {
		hang_up(db);
		return -1;
	}
	pfd.fd = PQsocket(db->conn);
	pfd.events = events;
	pfd.revents = 0;
	if (pfd.fd < 0 || (poll(&pfd, 1, 100) == -1 && errno != EINTR))
		return -1;
	return pfd.revents;
}

/*
 * Send what libpq holds for the server.  0 when all went out, -1 when
 * the connection failed or wait_step() gave up.
 */
static int
flush_out(struct pgb_db *db)
{
	int	r;

	while ((r = PQflush(db->conn)) == 1) {
		/* Read too: a server blocked writing to us reads nothing. */
		if (wait_step(db, POLLOUT | POLLIN) == -1 ||
		    PQconsumeInput(db->conn) == 0)
			return -1;
	}
	return r;
}

/*
 * Wait until the result of the command sent last can be read without
 * blocking, sending what is still queued for the server meanwhile.
 */
static void
wait_readable(struct pgb_db *db)
{
	int	out;

	while ((out = PQflush(db->conn)) == 1 ||
	    (out == 0 && PQisBusy(db->conn))) {
		if (wait_step(db, POLLIN | (out == 1 ? POLLOUT : 0)) == -1 ||
		    PQconsumeInput(db->conn) == 0)
			return;
	}
}

/*
 * End a COPY that no statement announced ('st' is what libpq answered):
 * a COPY FROM STDIN gets a CopyFail, so the server ends it with an error;
 * a COPY TO STDOUT gets a cancel request, and whatever rows come until
 * the server ends it are dropped.  Every wait goes through wait_step(),
 * so a signal, the deadline or CANCEL_GRACE ends it; on any failure the
 * connection is hung up on.  Either way libpq leaves the COPY state.
 */
static void
end_copy(struct pgb_db *db, ExecStatusType st)
{
	char	*row;
	int	 r;

	db->stray = st == PGRES_COPY_OUT ? "COPY ... TO STDOUT" :
	    st == PGRES_COPY_IN ? "COPY ... FROM STDIN without data" :
	    "COPY BOTH";
	if (st != PGRES_COPY_OUT) {
		while ((r = PQputCopyEnd(db->conn, "pgapply: the bundle carries "
		    "no data for this COPY")) == 0 && flush_out(db) == 0)
			;
		if (r != 1 || flush_out(db) == -1) {
			hang_up(db);
			return;
		}
		if (st == PGRES_COPY_IN)
			return;
	}
	if (db->stop_at == 0) {
		db->stop_at = pgb_clock_s() + CANCEL_GRACE;
		send_cancel(db);
	}
	while ((r = PQgetCopyData(db->conn, &row, 1)) != -1) {
		if (r > 0) {
			PQfreemem(row);
			continue;
		}
		if (r == -2 || wait_step(db, POLLIN) == -1 ||
		    PQconsumeInput(db->conn) == 0) {
			hang_up(db);
			return;
		}
	}
}

/* A command that ended a transaction, by its tag: db->ended. */
static void
note_end(struct pgb_db *db, const char *tag)
{
	if (strcmp(tag, "COMMIT") == 0 ||
	    strcmp(tag, "PREPARE TRANSACTION") == 0)
		db->ended |= PGB_ENDED_COMMIT;
	else if (strcmp(tag, "ROLLBACK") == 0)
		db->ended |= PGB_ENDED_ROLLBACK;
}

static PGresult	*answer(struct pgb_db *);

PGresult *
pgb_db_result(struct pgb_db *db)
{
	PGresult	*res;
	ExecStatusType	 st;

	for (;;) {
		wait_readable(db);
		if ((res = PQgetResult(db->conn)) == NULL)
			return NULL;
		st = PQresultStatus(res);
		if (st == PGRES_COMMAND_OK)
			note_end(db, PQcmdStatus(res));
		if (st != PGRES_COPY_IN && st != PGRES_COPY_OUT &&
		    st != PGRES_COPY_BOTH)
			return res;
		if (st == PGRES_COPY_IN && db->copy_in_ok) {
			db->copy_in_ok = 0;
			return res;
		}
		PQclear(res);
		/*
		 * Bounded: end_copy() leaves the COPY state, and libpq answers
		 * a lost connection with an error result, then NULL.
		 */
		end_copy(db, st);
	}
}

PGresult *
pgb_db_query(struct pgb_db *db, const char *sql, int n,
    const char *const *params)
{
	arm(db);
	if ((n == 0 && params == NULL ? PQsendQuery(db->conn, sql) :
	    PQsendQueryParams(db->conn, sql, n, NULL, params, NULL, NULL,
	    0)) == 0)
		return NULL;
	return answer(db);
}

/*
 * The answer to the command sent last, as PQexec would return it; NULL
 * when it missed its deadline.
 */
static PGresult *
answer(struct pgb_db *db)
{
	PGresult	*res, *last = NULL;
	ExecStatusType	 st;

	while ((res = pgb_db_result(db)) != NULL) {
		/* Several statements: each answer is due in turn. */
		pgb_db_due(db);
		st = PQresultStatus(res);
		if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT ||
		    st == PGRES_COPY_BOTH) {
			PQclear(last);
			return res;
		}
		/* As PQexec: the first error wins, else the last result. */
		if (last != NULL && PQresultStatus(last) == PGRES_FATAL_ERROR) {
			PQclear(res);
			continue;
		}
		PQclear(last);
		last = res;
	}
	/*
	 * An answer that came after the cancel request went out may be
	 * success, and that request may then cancel the next command
	 * instead: this one failed.
	 */
	if ((db->gave_up || db->stray) && last != NULL &&
	    PQresultStatus(last) != PGRES_FATAL_ERROR) {
		PQclear(last);
		last = NULL;
	}
	return last;
}

int
pgb_db_copy(struct pgb_db *db, const unsigned char *data, size_t len,
    struct pgb_diag *d)
{
	PGresult	*res;
	size_t		 off, n;
	int		 rc = 0, end;

	for (off = 0; off < len && rc == 0; off += n) {
		n = len - off < COPY_CHUNK ? len - off : COPY_CHUNK;
		if (PQputCopyData(db->conn, (const char *)data + off,
		    (int)n) != 1 || flush_out(db) == -1 || db->gave_up)
			rc = -1;
	}
	/* 0: libpq's buffer is full; it empties as the server reads. */
	while ((end = PQputCopyEnd(db->conn, rc == 0 ? NULL :
	    "pgapply could not send COPY data")) == 0 && flush_out(db) == 0)
		;
	if (end != 1)
		rc = -1;
	while ((res = pgb_db_result(db)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == 0)
			rc = pgb_db_error(db, res, d);
		PQclear(res);
	}
	if (rc == 0 && (db->gave_up || db->stray))
		rc = -1;
	if (rc == -1 && d->code == 0)
		pgb_db_error(db, NULL, d);
	return rc;
}

/* The command missed its deadline, and the server took the cancel. */
static int
cancelled(struct pgb_db *db, const PGresult *res, struct pgb_diag *d)
{
	const char	*state = NULL, *msg = NULL;

	if (res != NULL) {
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	}
	pgb_fail(d, PGB_ERETRY, "the server did not answer within %s; "
	    "pgapply cancelled the command", db->what);
	if (state != NULL)
		pgb_detail(d, "the server answered the cancel request: "
		    "SQLSTATE %s: %s", state, msg ? msg : "");
	else
		pgb_detail(d, "pgapply gave up on it then and sent a cancel "
		    "request; an answer that came later counts as a failure");
	return -1;
}

/* The command started a COPY the bundle did not announce: end_copy(). */
static int
stray_copy(struct pgb_db *db, struct pgb_diag *d)
{
	pgb_fail(d, PGB_ESQL, "it started %s, which the bundle does not "
	    "announce", db->stray);
	pgb_detail(d, "%s%s", strncmp(db->stray, "COPY ... TO", 11) == 0 ?
	    "a migration cannot send rows to pgapply: pgapply cancelled the "
	    "COPY and dropped what it sent" : "only a COPY ... FROM stdin "
	    "followed by its data lines and \\. carries data: pgapply ended "
	    "this one with an error", db->hung_up ? "; the server did not end "
	    "it in time, so pgapply closed the connection, and the server "
	    "rolls the transaction back" : "");
	return -1;
}

/*
 * libpq's message as the detail, its first line, with the password of
 * 'conninfo' (and the one the connection used) masked: libpq quotes
 * what it cannot parse, and a URL's password is part of it.
 */
static void
libpq_detail(const char *conninfo, PGconn *conn, struct pgb_diag *d)
{
	struct pgb_buf	b;

	pgb_buf_init(&b);
	pgb_conninfo_mask(conninfo, conn != NULL ? PQpass(conn) : NULL,
	    PQerrorMessage(conn), &b);
	pgb_detail(d, "%.*s", (int)strcspn(b.data, "\n"), b.data);
	pgb_buf_release(&b);
}

int
pgb_db_error(struct pgb_db *db, const PGresult *res, struct pgb_diag *d)
{
	const char	*state, *msg, *detail, *hint;
	struct pgb_buf	 b;

	if (db->stray != NULL && !pgb_interrupted)
		return stray_copy(db, d);
	if (db->hung_up == 2) {
		pgb_fail(d, PGB_ERETRY, "the server did not answer within %s; "
		    "pgapply closed the connection", db->what);
		pgb_detail(d, "a cancel request sent then went unanswered for "
		    "%d s too; the server rolls back what the session left "
		    "uncommitted once it notices", CANCEL_GRACE);
		return -1;
	}
	if (db->gave_up && !db->hung_up)
		return cancelled(db, res, d);
	if (db->hung_up) {
		pgb_fail(d, PGB_ECANCEL, "interrupted, and the server did not "
		    "answer the cancel request within %d s", CANCEL_GRACE);
		pgb_detail(d, "the server did not answer the cancel request "
		    "within %d s, so pgapply closed the connection; the server "
		    "ends the session, rolling back its transaction, when it "
		    "notices", CANCEL_GRACE);
		return -1;
	}
	if (res == NULL || PQstatus(db->conn) == CONNECTION_BAD) {
		pgb_fail(d, PGB_ERETRY, "connection to the database lost");
		libpq_detail(NULL, db->conn, d);
		return -1;
	}
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	/*
	 * Class 08 and 57P0x (57P01 fast shutdown or pg_terminate_backend,
	 * 57P02 crash, 57P03 starting up, ...) mean the session is ending,
	 * not that the SQL is wrong: retryable.
	 */
	pgb_fail(d, pgb_interrupted ? PGB_ECANCEL : state != NULL &&
	    (strncmp(state, "08", 2) == 0 || strncmp(state, "57P0", 4) == 0) ?
	    PGB_ERETRY : PGB_ESQL, "%s",
	    msg ? msg : PQresultErrorMessage(res));
	d->msg[strcspn(d->msg, "\n")] = '\0';
	snprintf(d->sqlstate, sizeof(d->sqlstate), "%s", state ? state : "");
	snprintf(d->server_detail, sizeof(d->server_detail), "%s",
	    detail ? detail : "");
	snprintf(d->hint, sizeof(d->hint), "%s", hint ? hint : "");
	pgb_buf_init(&b);
	pgb_buf_printf(&b, "SQLSTATE %s: %s", state ? state : "?????",
	    msg ? msg : "");
	if (detail)
		pgb_buf_printf(&b, "\nDETAIL: %s", detail);
	if (hint)
		pgb_buf_printf(&b, "\nHINT: %s", hint);
	pgb_detail(d, "%s", b.data);
	pgb_buf_release(&b);
	return -1;
}

/*
 * 'res' (NULL: the command failed to go out or missed its deadline) into
 * '*out' (or cleared, when 'out' is NULL); -1 and 'd' unless it says the
 * command succeeded.
 */
static int
succeeded(struct pgb_db *db, PGresult *res, PGresult **out,
    struct pgb_diag *d)
{
	ExecStatusType	 st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		pgb_db_error(db, res, d);
		PQclear(res);
		return -1;
	}
	if (out)
		*out = res;
	else
		PQclear(res);
	return 0;
}

int
pgb_db_exec(struct pgb_db *db, const char *sql, int n,
    const char *const *params, PGresult **out, struct pgb_diag *d)
{
	if (out)
		*out = NULL;
	if (db->fresh && pgb_db_reset_session(db, d) == -1)
		return -1;
	return succeeded(db, pgb_db_query(db, sql, n, params), out, d);
}

int
pgb_db_exec_one(struct pgb_db *db, const char *sql, int ncols,
    PGresult **out, struct pgb_diag *d)
{
	PGresult	*res;
	int		 n;

	*out = NULL;
	if (db->fresh && pgb_db_reset_session(db, d) == -1)
		return -1;
	/* Parse only: nothing runs until the answer to Describe is known. */
	arm(db);
	if (succeeded(db, PQsendPrepare(db->conn, "", sql, 0, NULL) == 1 ?
	    answer(db) : NULL, NULL, d) == -1)
		return -1;
	arm(db);
	if (succeeded(db, PQsendDescribePrepared(db->conn, "") == 1 ?
	    answer(db) : NULL, &res, d) == -1)
		return -1;
	n = PQnfields(res);
	PQclear(res);
	if (n != ncols)
		return pgb_fail(d, PGB_ESQL, "it returns %d column%s, not %d, "
		    "so it was not run", n, n == 1 ? "" : "s", ncols);
	arm(db);
	return succeeded(db, PQsendQueryPrepared(db->conn, "", 0, NULL, NULL,
	    NULL, 0) == 1 ? answer(db) : NULL, out, d);
}

int
pgb_db_batch(struct pgb_db *db, const struct pgb_cmd *cmds, size_t n,
    PGresult **res, size_t *bad, struct pgb_diag *d)
{
	PGresult	*r;
	ExecStatusType	 st;
	size_t		 i, k = 0;
	int		 rc = 0, nulls = 0;

	*bad = (size_t)-1;
	for (i = 0; i < n; i++)
		res[i] = NULL;
	arm(db);
	if (PQenterPipelineMode(db->conn) != 1)
		return pgb_db_error(db, NULL, d);
	for (i = 0; i < n && rc == 0; i++)
		if (PQsendQueryParams(db->conn, cmds[i].sql, cmds[i].n, NULL,
		    cmds[i].params, NULL, NULL, 0) != 1)
			rc = -1;
	if (rc == -1 || PQpipelineSync(db->conn) != 1) {
		pgb_db_error(db, NULL, d);
		(void)PQexitPipelineMode(db->conn);
		return -1;
	}
	for (;;) {
		pgb_db_due(db);
		if ((r = pgb_db_result(db)) == NULL) {
			/* One NULL ends each command; two: no sync is coming. */
			if (++nulls < 2 && PQstatus(db->conn) != CONNECTION_BAD)
				continue;
			if (rc == 0) {
				rc = pgb_db_error(db, NULL, d);
				*bad = k;
			}
			break;
		}
		nulls = 0;
		st = PQresultStatus(r);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			if (rc == 0 && db->gave_up)
				rc = pgb_db_error(db, NULL, d);
			break;
		}
		if (rc == 0 && ((st != PGRES_COMMAND_OK &&
		    st != PGRES_TUPLES_OK) || db->gave_up)) {
			rc = pgb_db_error(db, r, d);
			*bad = k;
		}
		if (k < n && st != PGRES_PIPELINE_ABORTED)
			res[k] = r;
		else
			PQclear(r);
		k++;
	}
	(void)PQexitPipelineMode(db->conn);
	return rc;
}

/* Split "schema.table" (unquoted names) and build the quoted form. */
static int
set_history_name(struct pgb_db *db, const char *history, struct pgb_diag *d)
{
	const char	*dot = strchr(history, '.');
	char		*qs, *qt;
	struct pgb_buf	 b;
	unsigned char	 h[PGB_SHA256_LEN];
	int		 i;

	if (dot == NULL || dot == history || dot[1] == '\0' ||
	    strchr(dot + 1, '.') != NULL || strlen(history) > 120)
		return pgb_fail(d, PGB_EUSAGE, "history table '%s' must be "
		    "written schema.table", history);
	db->schema = pgb_xstrndup(history, (size_t)(dot - history));
	db->table = pgb_xstrdup(dot + 1);
	/* pg_catalog, pg_toast, pg_temp..., information_schema. */
	if (strncmp(db->schema, "pg_", 3) == 0 ||
	    strcmp(db->schema, "information_schema") == 0) {
		pgb_fail(d, PGB_ECONFLICT, "history table '%s' is in system "
		    "schema '%s'", history, db->schema);
		pgb_detail(d, "pgapply keeps its history in a table of its own, "
		    "in a schema of its own (--history-table, default "
		    "pgbundle.history); nothing was run");
		return -1;
	}
	qs = PQescapeIdentifier(db->conn, db->schema, strlen(db->schema));
	qt = PQescapeIdentifier(db->conn, db->table, strlen(db->table));
	if (qs == NULL || qt == NULL) {
		PQfreemem(qs);
		PQfreemem(qt);
		return pgb_fail(d, PGB_EUSAGE, "invalid history table name '%s'",
		    history);
	}
	pgb_buf_init(&b);
	pgb_buf_printf(&b, "%s.%s", qs, qt);
	db->qname = pgb_buf_steal(&b, NULL);
	PQfreemem(qs);
	PQfreemem(qt);
	/* One lock per history table: runners of other tables never wait. */
	pgb_buf_init(&b);
	pgb_buf_printf(&b, "pgbundle:%s", db->qname);
	pgb_sha256(b.data, b.len, h);
	pgb_buf_release(&b);
	db->lock_key = 0;
	for (i = 0; i < 8; i++)
		db->lock_key = (long long)((unsigned long long)db->lock_key << 8 | h[i]);
	return 0;
}

/*
 * libpq's keywords for 'conninfo' (NULL: the PG* environment alone), at
 * most 4 with the NULL end.  libpq waits for ever for a server that
 * accepts the connection but never answers (a frozen postmaster); unless
 * the user chose a connect_timeout, each attempt gets CONNECT_TIMEOUT.
 * It comes first, so that one in 'conninfo' overrides it.
 */
static void
conn_params(const char *conninfo, const char **keys, const char **vals)
{
	const char	*env = getenv("PGCONNECT_TIMEOUT");
	int		 n = 0;

	if (env == NULL || *env == '\0') {
		keys[n] = "connect_timeout";
		vals[n++] = CONNECT_TIMEOUT;
	}
	if (conninfo != NULL) {
		keys[n] = "dbname";
		vals[n++] = conninfo;
	}
	keys[n] = NULL;
	vals[n] = NULL;
}

static PGconn *
connect_once(const char *conninfo)
{
	const char	*keys[5], *vals[5];
	size_t		 n;

	conn_params(conninfo, keys, vals);
	for (n = 0; keys[n] != NULL; n++)
		;
	keys[n] = "fallback_application_name";
	vals[n++] = "pgapply";
	keys[n] = NULL;
	vals[n] = NULL;
	return PQconnectdbParams(keys, vals, 1);
}

static PGPing
ping(const char *conninfo)
{
	const char	*keys[4], *vals[4];

	conn_params(conninfo, keys, vals);
	return PQpingParams(keys, vals, 1);
}

/*
 * The SQLSTATE a server that answers refused the connection with, into
 * 'state' (6 bytes); "" when none came within CONNECT_PROBE s.  libpq
 * keeps it to itself, but quotes it in verbose error messages
 * ("FATAL:  3D000: database ... does not exist"), so one more attempt
 * with verbose errors reads it; the last one quoted wins (several hosts).
 */
static void
refusal_state(const char *conninfo, char state[6])
{
	const char			*keys[4], *vals[4], *m, *p;
	PGconn				*c;
	PostgresPollingStatusType	 st = PGRES_POLLING_WRITING;
	double				 end = pgb_clock_s() + CONNECT_PROBE;
	struct pollfd			 pfd;

	state[0] = '\0';
	conn_params(conninfo, keys, vals);
	if ((c = PQconnectStartParams(keys, vals, 1)) == NULL)
		return;
	PQsetErrorVerbosity(c, PQERRORS_VERBOSE);
	while (PQstatus(c) != CONNECTION_BAD && st != PGRES_POLLING_OK &&
	    st != PGRES_POLLING_FAILED && pgb_clock_s() < end && !pgb_interrupted) {
		pfd.fd = PQsocket(c);
		pfd.events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT;
		pfd.revents = 0;
		if (pfd.fd >= 0 && poll(&pfd, 1, 100) == 0)
			continue;
		st = PQconnectPoll(c);
	}
	m = PQerrorMessage(c);
	while ((p = strstr(m, ":  ")) != NULL) {
		m = p + 3;
		if (strspn(m, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 5 &&
		    m[5] == ':')
			snprintf(state, 6, "%.5s", m);
	}
	PQfinish(c);
}

/*
 * What a failed attempt to connect is: PGB_ECONNECT when retrying will
 * not make it (parameters libpq cannot use, a database or role that does
 * not exist, a password refused), PGB_ERETRY otherwise.  '*again' tells
 * whether --wait should try again: a server still starting up, or a
 * database an init step may yet create.
 */
static int
connect_class(const char *conninfo, int *again)
{
	char	state[6];

	*again = 1;
	switch (ping(conninfo)) {
	case PQPING_NO_ATTEMPT:
		*again = 0;
		return PGB_ECONNECT;
	case PQPING_OK:
		break;		/* the server answered, and said no */
	default:
		return PGB_ERETRY;	/* down, or starting up */
	}
	refusal_state(conninfo, state);
	if (strcmp(state, "3D000") == 0)
		return PGB_ECONNECT;
	*again = 0;
	return strcmp(state, "28000") == 0 || strcmp(state, "28P01") == 0 ?
	    PGB_ECONNECT : PGB_ERETRY;
}

static pgb_wait_fn	 wait_fn;
static void		*wait_ctx;

void
pgb_db_on_wait(pgb_wait_fn fn, void *ctx)
{
	wait_fn = fn;
	wait_ctx = ctx;
}

/*
 * Tell of 'w' when the wait starts ('*next' 0) and every PGB_WAIT_REPORT
 * seconds after; 'start' is when it began.
 */
static int
wait_due(double start, double *next)
{
	double	t = pgb_clock_s();

	if (wait_fn == NULL || t < *next)
		return 0;
	*next = (*next == 0 ? start : *next) + PGB_WAIT_REPORT;
	if (*next < t)
		*next = t + PGB_WAIT_REPORT;
	return 1;
}

/* Why 'conn' failed, its first line, the password masked: to report. */
static void
report_connect_wait(const char *conninfo, PGconn *conn, double start,
    int wait)
{
	struct pgb_wait	w;
	struct pgb_buf	b;

	pgb_buf_init(&b);
	pgb_conninfo_mask(conninfo, PQpass(conn), PQerrorMessage(conn), &b);
	b.data[strcspn(b.data, "\n")] = '\0';
	memset(&w, 0, sizeof(w));
	w.what = "server";
	w.elapsed = (int)(pgb_clock_s() - start);
	w.limit = wait;
	w.message = b.data;
	wait_fn(wait_ctx, &w);
	pgb_buf_release(&b);
}

int
pgb_db_connect(struct pgb_db *db, const char *conninfo, int wait,
    const char *history, struct pgb_diag *d)
{
	double		 start = pgb_clock_s(), deadline = start + wait, next = 0;
	long		 step = 100;
	int		 code, again;

	memset(db, 0, sizeof(*db));
	if (pgb_conninfo_scheme(conninfo, d) == -1)
		return -1;
	for (;;) {
		db->conn = connect_once(conninfo);
		if (db->conn == NULL)
			return pgb_fail(d, PGB_EINTERNAL, "out of memory");
		if (PQstatus(db->conn) == CONNECTION_OK)
			break;
		code = connect_class(conninfo, &again);
		if (!again || pgb_clock_s() >= deadline || pgb_interrupted) {
			pgb_fail(d, code, "cannot connect to the database");
			libpq_detail(conninfo, db->conn, d);
			PQfinish(db->conn);
			db->conn = NULL;
			return -1;
		}
		if (wait_due(start, &next))
			report_connect_wait(conninfo, db->conn, start, wait);
		PQfinish(db->conn);
		db->conn = NULL;
		sleep_ms(backoff(&step, 2000));
	}
	db->server_version = PQserverVersion(db->conn);
	db->cancel = PQgetCancel(db->conn);
	/*
	 * Sends never block: what the server does not take yet waits in
	 * libpq's buffer, and wait_step() bounds the wait for it to go out.
	 */
	if (PQsetnonblocking(db->conn, 1) != 0)
		return pgb_fail(d, PGB_EINTERNAL, "cannot make the connection "
		    "non-blocking");
	if (set_history_name(db, history, d) == -1)
		return -1;
	/*
	 * A new session needs its reset only for the runtime's own settings:
	 * it goes out with the first command (in the first lock poll's round
	 * trip, or before any other).  The backend pid is learnt then.
	 */
	db->pid = 0;
	db->fresh = 1;
	return 0;
}

void
pgb_db_close(struct pgb_db *db)
{
	reap(db, 1);
	if (db->conn != NULL) {
		pgb_db_unlock(db);
		PQfinish(db->conn);
	}
	if (db->cancel != NULL)
		PQfreeCancel(db->cancel);
	free(db->schema);
	free(db->table);
	free(db->qname);
	free(db->qrole);
	free(db->reported);
	memset(db, 0, sizeof(*db));
}

static int	pooler_refusal(struct pgb_db *, int, struct pgb_diag *);
static char	*reported_now(PGconn *);

/*
 * The reset, command by command, into 'v' (RESET_MAX at most): what
 * DISCARD ALL does, less pg_advisory_unlock_all(), so that the next
 * migration starts as if psql had run its file alone.  'role' holds the
 * text of SET ROLE, when there is one.  Returns the number of commands.
 */
#define RESET_MAX	10
static size_t
reset_cmds(const struct pgb_db *db, const char **v, struct pgb_buf *role)
{
	static const char *const discard[] = {
		"SET SESSION AUTHORIZATION DEFAULT", "RESET ALL",
		"DEALLOCATE ALL", "CLOSE ALL", "DISCARD TEMP",
		"DISCARD SEQUENCES",
		/*
		 * Whatever the role's or database's default: pgbundle split
		 * the statements so (apply.c checks it before each that it
		 * matters to).
		 */
		"SET standard_conforming_strings = on", NULL
	};
	size_t	n;

	for (n = 0; discard[n] != NULL; n++)
		v[n] = discard[n];
	/* PostgreSQL 14+: a killed runner's backend and lock go in a second. */
	if (db->server_version >= 140000)
		v[n++] = "SET client_connection_check_interval = 1000";
	/* --role: SET SESSION AUTHORIZATION DEFAULT has just ended it. */
	if (db->qrole != NULL) {
		pgb_buf_printf(role, "SET ROLE %s", db->qrole);
		v[n++] = role->data;
	}
	return n;
}

/* After the reset's commands ran: what they dropped and what is now. */
static void
reset_done(struct pgb_db *db)
{
	db->fresh = 0;
	db->prepared = 0;
	free(db->reported);
	db->reported = reported_now(db->conn);
}

int
pgb_db_reset_session(struct pgb_db *db, struct pgb_diag *d)
{
	PGresult	*res;
	struct pgb_buf	 sql, role;
	const char	*v[RESET_MAX];
	size_t		 i, n;
	int		 pid, rc;

	/* The backend check rides in the same round trip. */
	pgb_buf_init(&role);
	n = reset_cmds(db, v, &role);
	pgb_buf_init(&sql);
	for (i = 0; i < n; i++)
		pgb_buf_printf(&sql, "%s; ", v[i]);
	pgb_buf_puts(&sql, "SELECT pg_catalog.pg_backend_pid()");
	db->fresh = 0;
	rc = pgb_db_exec(db, sql.data, 0, NULL, &res, d);
	pgb_buf_release(&sql);
	pgb_buf_release(&role);
	/* DEALLOCATE ALL went first: even on failure, nothing is prepared. */
	db->prepared = 0;
	if (rc == -1)
		return -1;
	reset_done(db);
	pid = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if (db->pid == 0)
		db->pid = pid;
	return pid != db->pid ? pooler_refusal(db, pid, d) : 0;
}

/*
 * Settings the server reports to the client as they change: a function
 * or trigger that set one of them for the session is seen without a
 * round trip (search_path is reported from PostgreSQL 18 on).
 */
static const char *const reported[] = { "session_authorization",
    "is_superuser", "search_path", "standard_conforming_strings",
    "client_encoding", "DateStyle", "IntervalStyle", "TimeZone",
    "application_name", "default_transaction_read_only", NULL };

/* The reported settings, one per line ("\001" for one not reported). */
static char *
reported_now(PGconn *conn)
{
	struct pgb_buf	 b;
	const char	*v;
	size_t		 i;

	pgb_buf_init(&b);
	for (i = 0; reported[i] != NULL; i++) {
		v = conn != NULL ? PQparameterStatus(conn, reported[i]) : NULL;
		pgb_buf_printf(&b, "%s\n", v != NULL ? v : "\001");
	}
	return pgb_buf_steal(&b, NULL);
}

int
pgb_db_script_resets(const struct pgb_script *sc)
{
	return sc == NULL || sc->mode != PGB_MODE_TX || !sc->keeps_session;
}

int
pgb_db_needs_reset(struct pgb_db *db, const struct pgb_script *sc)
{
	char	*now;
	int	 changed;

	if (pgb_db_script_resets(sc))
		return 1;
	now = reported_now(db->conn);
	changed = db->reported == NULL || strcmp(now, db->reported) != 0;
	free(now);
	return changed;
}

/* Statement names, one per enum pgb_prep. */
static const char *const prep_names[PGB_PREP_COUNT] = {
	"pgbundle_record", "pgbundle_own"
};

int
pgb_db_prepare(struct pgb_db *db, enum pgb_prep which, const char *sql,
    int n, struct pgb_diag *d)
{
	if (db->prepared & (1u << which))
		return 0;
	if (PQpipelineStatus(db->conn) != PQ_PIPELINE_OFF) {
		/*
		 * Queued first, before anything that could fail and skip it,
		 * so that a pipeline that ran at all prepared it.
		 */
		if (PQsendPrepare(db->conn, prep_names[which], sql, n,
		    NULL) != 1)
			return pgb_db_error(db, NULL, d);
		db->prepared |= 1u << which;
		return 1;
	}
	arm(db);
	if (succeeded(db, PQsendPrepare(db->conn, prep_names[which], sql, n,
	    NULL) == 1 ? answer(db) : NULL, NULL, d) == -1)
		return -1;
	db->prepared |= 1u << which;
	return 0;
}

int
pgb_db_exec_prepared(struct pgb_db *db, enum pgb_prep which, int n,
    const char *const *params, PGresult **res, struct pgb_diag *d)
{
	if (res != NULL)
		*res = NULL;
	if (PQpipelineStatus(db->conn) != PQ_PIPELINE_OFF) {
		if (PQsendQueryPrepared(db->conn, prep_names[which], n, params,
		    NULL, NULL, 0) != 1)
			return pgb_db_error(db, NULL, d);
		return 0;
	}
	arm(db);
	return succeeded(db, PQsendQueryPrepared(db->conn, prep_names[which],
	    n, params, NULL, NULL, 0) == 1 ? answer(db) : NULL, res, d);
}

static void
key_parts(long long key, char hi[16], char lo[16])
{
	unsigned long long	k = (unsigned long long)key;

	snprintf(hi, 16, "%llu", (k >> 32) & 0xffffffffULL);
	snprintf(lo, 16, "%llu", k & 0xffffffffULL);
}

/*
 * Who holds our lock: pid, application_name, state, backend_start,
 * client_addr, in one row (or none); NULL when the query failed.
 */
static PGresult *
lock_holder(struct pgb_db *db)
{
	char		 hi[16], lo[16];
	const char	*params[2] = { hi, lo };
	PGresult	*res;
	struct pgb_diag	 ignore;

	key_parts(db->lock_key, hi, lo);
	if (pgb_db_exec(db, "SELECT a.pid, a.application_name, a.state, "
	    "a.backend_start::pg_catalog.text, a.client_addr::pg_catalog.text "
	    "FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a "
	    "ON a.pid OPERATOR(pg_catalog.=) l.pid "
	    "WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory' AND l.granted "
	    "AND l.classid OPERATOR(pg_catalog.=) $1::pg_catalog.oid "
	    "AND l.objid OPERATOR(pg_catalog.=) $2::pg_catalog.oid "
	    "AND l.objsubid OPERATOR(pg_catalog.=) 1",
	    2, params, &res, &ignore) == -1)
		return NULL;
	return res;
}

/* Describe who holds our lock, for the timeout message. */
static void
describe_holder(struct pgb_db *db, struct pgb_diag *d)
{
	PGresult	*res;

	if ((res = lock_holder(db)) == NULL)
		return;
	if (PQntuples(res) > 0)
		pgb_detail(d, "held by pid %s (application_name '%s', state "
		    "'%s', connected since %s%s%s)", PQgetvalue(res, 0, 0),
		    PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
		    PQgetvalue(res, 0, 3), PQgetisnull(res, 0, 4) ? "" :
		    ", from ", PQgetvalue(res, 0, 4));
	PQclear(res);
}

/*
 * One poll for the lock.  --lock-wait bounds a hung server too: a poll
 * still out when the wait ends (or a second after it went out, when that
 * is later) gets a cancel request, and 5 s later pgapply hangs up.
 */
static int
poll_lock(struct pgb_db *db, double deadline, const char *const *params,
    PGresult **res, struct pgb_diag *d)
{
	static const char poll_sql[] = "SELECT CASE WHEN "
	    "pg_catalog.pg_backend_pid() OPERATOR(pg_catalog.=) $2::integer "
	    "THEN pg_catalog.pg_try_advisory_lock($1::bigint) END, "
	    "pg_catalog.pg_backend_pid()";
	struct pgb_cmd	 cmds[RESET_MAX + 1];
	PGresult	*r[RESET_MAX + 1];
	struct pgb_buf	 role;
	const char	*v[RESET_MAX];
	char		 what[sizeof(db->what)];
	double		 bound = db->bound;
	size_t		 i, n, bad;
	int		 rc;

	memcpy(what, db->what, sizeof(what));
	snprintf(db->what, sizeof(db->what), "the lock wait");
	db->bound = deadline - pgb_clock_s() > 1 ? deadline - pgb_clock_s() : 1;
	/*
	 * Only on our own backend: behind a transaction pooler the lock
	 * would stay with a server connection we cannot reach again to
	 * release it.  A new session's reset goes in the same round trip.
	 */
	if (!db->fresh) {
		rc = pgb_db_exec(db, poll_sql, 2, params, res, d);
	} else {
		pgb_buf_init(&role);
		n = reset_cmds(db, v, &role);
		for (i = 0; i < n; i++) {
			cmds[i].sql = v[i];
			cmds[i].n = 0;
			cmds[i].params = NULL;
		}
		cmds[n].sql = poll_sql;
		cmds[n].n = 2;
		cmds[n].params = params;
		rc = pgb_db_batch(db, cmds, n + 1, r, &bad, d);
		pgb_buf_release(&role);
		db->prepared = 0;
		for (i = 0; i < n; i++)
			PQclear(r[i]);
		*res = r[n];
		if (rc == 0)
			reset_done(db);
		else
			PQclear(r[n]);
	}
	db->bound = bound;
	memcpy(db->what, what, sizeof(what));
	return rc;
}

/* The lock wait goes on: say who holds the lock. */
static void
report_lock_wait(struct pgb_db *db, double start, int wait)
{
	struct pgb_wait	 w;
	PGresult	*res = lock_holder(db);
	int		 row = res != NULL && PQntuples(res) > 0;

	memset(&w, 0, sizeof(w));
	w.what = "lock";
	w.elapsed = (int)(pgb_clock_s() - start);
	w.limit = wait;
	w.message = db->qname;
	if (row) {
		w.pid = PQgetvalue(res, 0, 0);
		w.app = PQgetvalue(res, 0, 1);
		w.since = PQgetvalue(res, 0, 3);
		w.addr = PQgetisnull(res, 0, 4) ? NULL : PQgetvalue(res, 0, 4);
	}
	wait_fn(wait_ctx, &w);
	PQclear(res);
}

int
pgb_db_lock(struct pgb_db *db, int wait, struct pgb_diag *d)
{
	char		 key[24], pid[16];
	const char	*params[2] = { key, pid };
	double		 start = pgb_clock_s(), deadline = start + wait, next = 0;
	long		 step = 50;
	PGresult	*res;
	int		 got, moved, other, guess;

	snprintf(key, sizeof(key), "%lld", db->lock_key);
	/*
	 * Not yet known (a new session): the pid libpq got when connecting,
	 * the backend's own unless something stands in between; if it is
	 * not, the poll takes no lock and tells the pid, and the next poll
	 * uses that.
	 */
	guess = db->pid == 0;
	snprintf(pid, sizeof(pid), "%d", guess ? PQbackendPID(db->conn) :
	    db->pid);
	/*
	 * Poll rather than block: a blocked pg_advisory_lock() waiter would
	 * deadlock against another runner's CREATE INDEX CONCURRENTLY, which
	 * waits for every open transaction to finish.
	 */
	for (;;) {
		if (poll_lock(db, deadline, params, &res, d) == -1)
			return -1;
		moved = PQgetisnull(res, 0, 0);
		got = PQgetvalue(res, 0, 0)[0] == 't';
		other = (int)strtol(PQgetvalue(res, 0, 1), NULL, 10);
		PQclear(res);
		if (guess) {
			db->pid = other;
			snprintf(pid, sizeof(pid), "%d", other);
			guess = 0;
			if (moved)
				continue;
		}
		if (moved)
			return pooler_refusal(db, other, d);
		if (got)
			break;
		if (pgb_interrupted)
			return pgb_fail(d, PGB_ECANCEL, "interrupted while "
			    "waiting for the lock");
		if (pgb_clock_s() >= deadline) {
			pgb_fail(d, PGB_ERETRY, "another pgapply holds the lock "
			    "on %s; gave up after %d s", db->qname, wait);
			describe_holder(db, d);
			return -1;
		}
		if (wait_due(start, &next))
			report_lock_wait(db, start, wait);
		sleep_ms(backoff(&step, 1000));
	}
	/* The backend is checked again by the history lookup that follows
	 * every lock (history_exists), in its own round trip. */
	db->locked = 1;
	return 0;
}

void
pgb_db_release(struct pgb_db *db)
{
	char		 key[24];
	const char	*params[1] = { key };

	if (!db->locked || PQstatus(db->conn) != CONNECTION_OK ||
	    PQtransactionStatus(db->conn) != PQTRANS_IDLE) {
		pgb_db_unlock(db);
		return;
	}
	/*
	 * Sent, not waited for: the server runs it as it reads it, and the
	 * session's end (which ends the lock anyway) follows.
	 */
	snprintf(key, sizeof(key), "%lld", db->lock_key);
	if (PQsendQueryParams(db->conn, "SELECT "
	    "pg_catalog.pg_advisory_unlock($1::bigint)", 1, NULL, params, NULL,
	    NULL, 0) == 1)
		(void)flush_out(db);
	db->locked = 0;
	db->history_seen = 0;
	db->ending = 1;
}

void
pgb_db_unlock(struct pgb_db *db)
{
	char		 key[24];
	const char	*params[1] = { key };
	struct pgb_diag	 ignore;

	if (!db->locked || db->ending || PQstatus(db->conn) != CONNECTION_OK)
		return;
	snprintf(key, sizeof(key), "%lld", db->lock_key);
	if (PQtransactionStatus(db->conn) != PQTRANS_IDLE)
		(void)pgb_db_exec(db, "ROLLBACK", 0, NULL, NULL, &ignore);
	(void)pgb_db_exec(db, "SELECT pg_catalog.pg_advisory_unlock($1::bigint)",
	    1, params, NULL, &ignore);
	db->locked = 0;
	db->history_seen = 0;
}

static int
pooler_refusal(struct pgb_db *db, int pid, struct pgb_diag *d)
{
	return pgb_fail(d, PGB_ECONFLICT, "the database session moved from "
	    "backend %d to %d: a transaction pooler is in the way, and "
	    "session locks are unsafe there; connect to PostgreSQL directly or "
	    "through a session pooler", db->pid, pid);
}

int
pgb_db_check_backend(struct pgb_db *db, struct pgb_diag *d)
{
	PGresult	*res;
	int		 pid;

	if (pgb_db_exec(db, "SELECT pg_catalog.pg_backend_pid()", 0, NULL,
	    &res, d) == -1)
		return -1;
	pid = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return pid != db->pid ? pooler_refusal(db, pid, d) : 0;
}

int
pgb_db_set_role(struct pgb_db *db, const char *role, struct pgb_diag *d)
{
	char	*q;

	if ((q = PQescapeIdentifier(db->conn, role, strlen(role))) == NULL)
		return pgb_fail(d, PGB_EUSAGE, "invalid role name '%.64s'", role);
	free(db->qrole);
	db->qrole = pgb_xstrdup(q);
	PQfreemem(q);
	if (pgb_db_reset_session(db, d) == 0)
		return 0;
	/* The server's words (no such role, not a member) stay the detail. */
	if (d->code == PGB_ESQL) {
		snprintf(d->msg, sizeof(d->msg), "cannot SET ROLE '%.64s'",
		    role);
		d->code = PGB_EUSAGE;
	}
	return -1;
}

int
pgb_db_same_backend(struct pgb_db *db, int pid, struct pgb_diag *d)
{
	return pid != db->pid ? pooler_refusal(db, pid, d) : 0;
}
