/*
 * apply.c - run the pending migrations that compare.c found, each with
 * its history row (written by history.c); also the statement runner that
 * revert.c and pgbundle check share.
 *
 * Trusts: a manifest that bundle.c verified, and compare.c's verdict on
 * a history read under the runner lock.  Refuses --single-transaction
 * with a no-transaction migration in it.  A transactional migration and
 * its history row commit together or not at all; a no-transaction one
 * records its progress after each statement.  A verify query runs alone
 * through the extended protocol and only when it returns one column, so
 * it cannot end the migration's transaction (pgb_db_exec_one).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apply_local.h"
#include "bounds.h"
#include "buf.h"
#include "clock.h"
#include "hash.h"
#include "text.h"
#include "banned.h"

#define PIPE_CHUNK	65536	/* SQL bytes queued between pipeline syncs */
#define FLUSH_WAIT	10	/* seconds the flush at a failure may take */

/*
 * A statement PostgreSQL refuses inside a transaction block (25001), or
 * that ends the transaction pgapply opened (2D000: a procedure that
 * commits), in a transactional script: say how to run it.  1 when the
 * hint is pgapply's own.
 */
static int
transaction_hint(const struct pgb_script *sc, struct pgb_diag *d)
{
	if (sc->mode != PGB_MODE_TX || d->hint[0] != '\0' ||
	    (strcmp(d->sqlstate, "25001") != 0 &&
	    strcmp(d->sqlstate, "2D000") != 0))
		return 0;
	snprintf(d->hint, sizeof(d->hint), "the statement cannot run inside "
	    "a transaction block: add '-- pgbundle:no-transaction' to '%s' "
	    "(its statements then run one by one in autocommit, so each must "
	    "be safe to repeat)", sc->path);
	return 1;
}

/*
 * A failed transactional migration (or down script): say that its
 * transaction rolled back, so the database is as it was before it.
 */
static void
rolled_back(struct pgb_diag *d, const char *what)
{
	size_t	n = strlen(d->msg);

	if (d->code == PGB_ESQL)
		snprintf(d->msg + n, sizeof(d->msg) - n, "; %s", what);
}

/* Name the failing statement and keep the server's words in the detail. */
int
pgb_stmt_failed(const struct pgb_migration *mig, const struct pgb_script *sc,
    size_t i, const char *what, struct pgb_diag *d)
{
	const struct pgb_stmt *s = &sc->stmts[i];
	char		 label[PGB_NAME_MAX + 8], server[sizeof(d->detail)];
	char		 excerpt[161], why[sizeof(d->msg)];
	size_t		 n, k;
	int		 own;

	/*
	 * Without a SQLSTATE the reason is pgapply's own (the connection
	 * was lost, the server did not answer in time): it leads the line.
	 */
	why[0] = '\0';
	if (d->sqlstate[0] == '\0')
		snprintf(why, sizeof(why), ": %.*s", PGB_CUT(d->msg, 200),
		    d->msg);
	/* The server's words, leaving room for the excerpt after them. */
	snprintf(server, sizeof(server), "%s", d->detail[0] ? d->detail :
	    why[0] ? "" : d->msg);
	own = transaction_hint(sc, d);
	server[PGB_CUT(server, sizeof(server) - sizeof(excerpt) - 16 -
	    (own ? strlen(d->hint) + 8 : 0))] = '\0';
	n = pgb_utf8_cut((const char *)sc->text + s->off, s->len,
	    sizeof(excerpt) - 1);
	for (k = 0; k < n; k++) {
		char c = (char)sc->text[s->off + k];
		excerpt[k] = c == '\n' || c == '\t' || c == '\r' ? ' ' : c;
	}
	excerpt[n] = '\0';
	snprintf(d->msg, sizeof(d->msg), "%s '%s' failed at statement %zu "
	    "of %zu (%s:%u)%s", what, pgb_mig_label(mig, label, sizeof(label)),
	    i + 1, sc->nstmts, s->src ? s->src : sc->path, s->line, why);
	pgb_detail(d, "%s%s%s%s%sSQL: %s%s", server, server[0] ? "\n" : "",
	    own ? "HINT: " : "", own ? d->hint : "", own ? "\n" : "", excerpt,
	    s->len > n ? " ..." : "");
	return -1;
}

/*
 * pgb_db_exec() without a result, or in pipeline mode only queue the
 * command: pipe_drain() reads its result later.
 */
static int
exec_or_send(struct pgb_db *db, const char *sql, int n,
    const char *const *params, struct pgb_diag *d)
{
	if (PQpipelineStatus(db->conn) == PQ_PIPELINE_OFF)
		return pgb_db_exec(db, sql, n, params, NULL, d);
	if (PQsendQueryParams(db->conn, sql, n, NULL, params, NULL, NULL,
	    0) != 1)
		return pgb_db_error(db, NULL, d);
	return 0;
}

/*
 * Mark the transaction pgapply just began with its id, for
 * pgb_own_writes(): local to it, so the mark goes when it ends.
 */
static int
mark_tx(struct pgb_db *db, struct pgb_diag *d)
{
	return exec_or_send(db, "SELECT pg_catalog.set_config('pgbundle.xact', "
	    "pg_catalog.txid_current()::pg_catalog.text, true)", 0, NULL, d);
}

/*
 * The history row and COMMIT are pgapply's own: a statement_timeout the
 * migration set for itself (SET, not SET LOCAL) must not cut them short;
 * local to the migration's transaction, like the migration's own SET.
 * The commit's durability: $1 'off', the COMMIT does not wait for its WAL
 * to be flushed (nor for a synchronous standby): a later commit that
 * waits covers it (docs/RELIABILITY.md, "Commits"); NULL, the session's
 * synchronous_commit stands.  Then 1 / 0 (SQLSTATE 22012) unless the
 * mark is this transaction's: a statement ended it (COMMIT, ROLLBACK; in
 * a pipeline the next ones then run in a transaction of their own, which
 * the error aborts).
 */
static const char own_sql[] = "SELECT pg_catalog.set_config("
    "'statement_timeout', '0', true), pg_catalog.set_config("
    "'synchronous_commit', COALESCE($1::pg_catalog.text, "
    "pg_catalog.current_setting('synchronous_commit')), true), "
    "1 OPERATOR(pg_catalog./) "
    "(COALESCE(pg_catalog.current_setting('pgbundle.xact', true), '') "
    "OPERATOR(pg_catalog.=) pg_catalog.txid_current()::"
    "pg_catalog.text)::pg_catalog.int4";

int
pgb_own_writes(struct pgb_db *db, int async, struct pgb_diag *d)
{
	const char	*p[1] = { async ? "off" : NULL };

	if (pgb_db_prepare(db, PGB_PREP_OWN, own_sql, 1, d) == -1)
		return -1;
	return pgb_db_exec_prepared(db, PGB_PREP_OWN, 1, p, NULL, d);
}

int
pgb_ended_tx(const char *what, const struct pgb_migration *mig,
    struct pgb_diag *d)
{
	char	label[PGB_NAME_MAX + 8];

	if (strcmp(d->sqlstate, "22012") != 0)
		return 0;
	pgb_fail(d, PGB_EOPERATOR, "%s '%s': a statement ended the "
	    "transaction pgapply runs it in", what, pgb_mig_label(mig, label,
	    sizeof(label)));
	pgb_detail(d, "a COMMIT, END or ROLLBACK in the script: what it "
	    "committed stays, without a history row, and the rest was rolled "
	    "back; look at the database before running it again");
	return 1;
}

/*
 * Make pgapply's own statements ready for a migration: once per session
 * (until a reset), and in pipeline mode queued first, so that nothing the
 * migration does can skip them.  Returns the results queued (pipeline
 * mode), or -1.
 */
static int
prepare_own(struct pgb_db *db, struct pgb_diag *d)
{
	int	a, b;

	if ((a = pgb_db_prepare(db, PGB_PREP_OWN, own_sql, 1, d)) == -1 ||
	    (b = pgb_history_prepare(db, d)) == -1)
		return -1;
	return a + b;
}

/*
 * Something other than one of its statements failed: a deferred
 * constraint at COMMIT, or a setting.  Still name the migration.
 */
static void
mig_failed(const struct pgb_migration *mig, struct pgb_diag *d)
{
	char	label[PGB_NAME_MAX + 8], server[121];

	snprintf(server, sizeof(server), "%.*s", PGB_CUT(d->msg, 120), d->msg);
	/* A server that stopped answering may have committed: no "failed". */
	snprintf(d->msg, sizeof(d->msg), "migration '%.60s' (%.40s)%s: %s",
	    pgb_mig_label(mig, label, sizeof(label)), mig->up.path,
	    d->code == PGB_ESQL ? " failed" : "", server);
}

/*
 * Whether statement 'i' holds a backslash: the only byte whose meaning
 * standard_conforming_strings changes (in '...' strings), so the only
 * statements the server could split otherwise than pgbundle did.
 */
static int
has_backslash(const struct pgb_script *sc, size_t i)
{
	return memchr(sc->text + sc->stmts[i].off, '\\',
	    sc->stmts[i].len) != NULL;
}

/*
 * pgbundle split the statements as the server does with
 * standard_conforming_strings on, which the session reset sets.  A
 * migration may have turned it off since (set_config(), RESET to a role's
 * default): the server reports every change, and a statement it would
 * read otherwise does not go out.
 */
static int
std_strings_ok(struct pgb_db *db, const struct pgb_script *sc, size_t i,
    struct pgb_diag *d)
{
	const char	*v;

	if (!has_backslash(sc, i))
		return 0;
	v = PQparameterStatus(db->conn, "standard_conforming_strings");
	if (v != NULL && strcmp(v, "on") == 0)
		return 0;
	pgb_fail(d, PGB_ESQL, "standard_conforming_strings is %s, and the "
	    "statement holds a backslash", v != NULL ? v : "unknown");
	pgb_detail(d, "pgbundle splits statements as the server does with "
	    "standard_conforming_strings on; pgapply sets it on for each "
	    "migration, and a statement before this one turned it off: "
	    "leave it on and write E'...' strings for backslash escapes");
	return -1;
}

/*
 * A command of the statements that failed committed part of the
 * migration (PGB_ENDED_COMMIT): no rollback undoes that, a human must
 * look.  Returns -1.
 */
static int
committed_part(int ended, struct pgb_diag *d)
{
	char	server[sizeof(d->detail)];

	if (!(ended & PGB_ENDED_COMMIT) || d->code != PGB_ESQL)
		return -1;
	d->code = PGB_EOPERATOR;
	snprintf(server, sizeof(server), "%s", d->detail);
	pgb_detail(d, "%s%sa COMMIT or END in the script ended the "
	    "transaction pgapply runs the migration in: what ran before it "
	    "stays, without a history row; look at the database before running "
	    "it again", server, server[0] ? "\n" : "");
	return -1;
}

/*
 * After a statement that succeeded: one of a transactional script runs in
 * pgapply's transaction and must leave it open, and commit nothing on the
 * way ("COMMIT; BEGIN"); one of a no-transaction script must leave none
 * open (pgapply records its progress after it).
 */
static int
tx_state_ok(struct pgb_db *db, const struct pgb_script *sc,
    struct pgb_diag *d)
{
	PGTransactionStatusType	ts = PQtransactionStatus(db->conn);

	if (sc->mode == PGB_MODE_NOTX) {
		if (ts == PQTRANS_IDLE)
			return 0;
		return pgb_fail(d, PGB_ESQL, "the statement left a transaction "
		    "open (BEGIN): in a no-transaction migration each "
		    "statement commits alone");
	}
	/*
	 * A ROLLBACK tag in a transaction still open is ROLLBACK TO
	 * SAVEPOINT, or "ROLLBACK; BEGIN", which pgb_own_writes() catches.
	 */
	if (ts == PQTRANS_INTRANS && !(db->ended & PGB_ENDED_COMMIT))
		return 0;
	pgb_fail(d, PGB_ESQL, "the statement %s the transaction pgapply runs "
	    "the migration in", db->ended == PGB_ENDED_ROLLBACK ? "rolled "
	    "back" : "ended");
	return committed_part(db->ended == PGB_ENDED_ROLLBACK ?
	    db->ended : PGB_ENDED_COMMIT, d);
}

/* Run one statement, streaming its COPY data when it has some. */
int
pgb_run_stmt(struct pgb_db *db, const struct pgb_script *sc, size_t i,
    struct pgb_diag *d)
{
	const struct pgb_stmt *s = &sc->stmts[i];
	struct pgb_buf	 sql;
	PGresult	*res;
	ExecStatusType	 st;
	int		 rc = 0;

	if (std_strings_ok(db, sc, i, d) == -1)
		return -1;
	pgb_buf_init(&sql);
	pgb_buf_append(&sql, sc->text + s->off, s->len);
	/* Only the COPY the manifest announced gets its data. */
	db->copy_in_ok = s->is_copy;
	res = pgb_db_query(db, sql.data, 0, NULL);
	db->copy_in_ok = 0;
	pgb_buf_release(&sql);
	st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st == PGRES_COPY_IN) {
		PQclear(res);
		rc = pgb_db_copy(db, sc->text + s->copy_off, s->copy_len, d);
	} else {
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK &&
		    st != PGRES_EMPTY_QUERY)
			rc = pgb_db_error(db, res, d);
		PQclear(res);
	}
	if (rc == 0)
		return tx_state_ok(db, sc, d);
	return sc->mode == PGB_MODE_TX ? committed_part(db->ended, d) : -1;
}

#define BOOL_OID	16	/* pg_type's boolean, the same in every release */

/*
 * Where verify query 'i' of 'mig' is written: "FILE:LINE" of its "--
 * verify:" comment, or FILE alone from a manifest without verify-line.
 */
static const char *
verify_where(const struct pgb_migration *mig, size_t i, char *buf,
    size_t len)
{
	if (mig->verify_line != NULL && mig->verify_line[i] > 0)
		snprintf(buf, len, "%s:%u", mig->up.path, mig->verify_line[i]);
	else
		snprintf(buf, len, "%s", mig->up.path);
	return buf;
}

/*
 * What a verify query that is not true returned, after "it returned":
 * one row of one column expected, a boolean true.
 */
static void
verify_result(const PGresult *res, char *buf, size_t len)
{
	char	value[64];
	int	n = PQntuples(res);

	if (n == 0)
		snprintf(buf, len, "no rows");
	else if (n > 1)
		snprintf(buf, len, "%d rows", n);
	else if (PQgetisnull(res, 0, 0))
		snprintf(buf, len, "NULL");
	else if (PQftype(res, 0) == BOOL_OID)
		snprintf(buf, len, "false");
	else
		snprintf(buf, len, "'%s', not a boolean", pgb_text_clean(value,
		    sizeof(value), PQgetvalue(res, 0, 0)));
}

int
pgb_run_verify(struct pgb_db *db, const struct pgb_migration *mig,
    struct pgb_diag *d)
{
	PGresult	*res;
	struct pgb_buf	 b;
	char		 label[PGB_NAME_MAX + 8], where[PGB_NAME_MAX + 32];
	char		 got[96];
	size_t		 i;
	int		 ok;

	/*
	 * One statement each, run only if it returns one column: a verify
	 * query can neither end the migration's transaction (COMMIT,
	 * ROLLBACK, ... return none) nor hide a second statement.
	 */
	for (i = 0; i < mig->nverify; i++) {
		pgb_mig_label(mig, label, sizeof(label));
		verify_where(mig, i, where, sizeof(where));
		if (pgb_db_exec_one(db, mig->verify[i], 1, &res, d) == -1) {
			char server[sizeof(d->detail)];
			/*
			 * Refused before it ran (another number of columns):
			 * pgapply's own words, no server's, so no detail.
			 */
			if (d->code == PGB_ESQL && d->sqlstate[0] == '\0' &&
			    d->detail[0] == '\0') {
				snprintf(got, sizeof(got), "%.*s",
				    PGB_CUT(d->msg, sizeof(got) - 1), d->msg);
				pgb_fail(d, PGB_ESQL, "verify query %zu of '%s' "
				    "(%s) did not return true: %s", i + 1,
				    label, where, got);
				pgb_detail(d, "SQL: %s", mig->verify[i]);
				return -1;
			}
			/* Keeps the server's SQLSTATE and words in 'd'. */
			snprintf(server, sizeof(server), "%s", d->detail[0] ?
			    d->detail : d->msg);
			pgb_buf_init(&b);
			pgb_buf_printf(&b, "verify query %zu of '%s' (%s) "
			    "failed", i + 1, label, where);
			snprintf(d->msg, sizeof(d->msg), "%.*s",
			    PGB_CUT(b.data, sizeof(d->msg) - 1), b.data);
			pgb_buf_release(&b);
			pgb_detail(d, "%s\nSQL: %s", server, mig->verify[i]);
			return -1;
		}
		ok = PQntuples(res) == 1 && PQnfields(res) == 1 &&
		    !PQgetisnull(res, 0, 0) &&
		    strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		if (!ok)
			verify_result(res, got, sizeof(got));
		PQclear(res);
		if (!ok) {
			pgb_fail(d, PGB_ESQL, "verify query %zu of '%s' (%s) did "
			    "not return true: it returned %s", i + 1, label,
			    where, got);
			pgb_detail(d, "SQL: %s", mig->verify[i]);
			return -1;
		}
	}
	return 0;
}

int
pgb_set_timeouts(struct pgb_db *db, const struct pgb_apply_opts *o, int local,
    struct pgb_diag *d)
{
	const char	*p[3];

	p[2] = local ? "true" : "false";
	if (local && mark_tx(db, d) == -1)
		return -1;
	if (o->lock_timeout != NULL) {
		p[0] = "lock_timeout";
		p[1] = o->lock_timeout;
		if (exec_or_send(db, "SELECT pg_catalog.set_config($1, $2, "
		    "$3::boolean)", 3, p, d) == -1)
			return -1;
	}
	if (o->statement_timeout != NULL) {
		p[0] = "statement_timeout";
		p[1] = o->statement_timeout;
		if (exec_or_send(db, "SELECT pg_catalog.set_config($1, $2, "
		    "$3::boolean)", 3, p, d) == -1)
			return -1;
	}
	return 0;
}

/* The history row of 'mig', applied by apply. */
static int
record(struct pgb_db *db, const struct pgb_migration *mig,
    const struct pgb_apply_opts *o, enum pgb_hstatus status, size_t done,
    long long ms, struct pgb_diag *d)
{
	return pgb_history_record(db, mig, o->bundle_id, status, done, ms,
	    "apply", d);
}

void
pgb_rollback_tx(struct pgb_db *db)
{
	struct pgb_diag	ignore;

	if (PQstatus(db->conn) == CONNECTION_OK &&
	    PQtransactionStatus(db->conn) != PQTRANS_IDLE)
		(void)pgb_db_exec(db, "ROLLBACK", 0, NULL, NULL, &ignore);
}

/*
 * In a pipeline the server keeps one statement_timeout armed until the
 * next Sync, so a migration that sets it would time the statements after
 * it together, and pgapply's own bookkeeping with them; psql times each
 * statement alone.  And a COPY to or from the client runs only as a
 * statement of its own, starting with the word: in a pipeline one would
 * send rows the COMMIT queued behind it does not wait for.  Statements
 * that mention either take the one-statement-a-trip path.
 */
static int
mentions(const struct pgb_script *sc, size_t i, const char *word)
{
	const unsigned char	*p = sc->text + sc->stmts[i].off;
	size_t			 n = sc->stmts[i].len, w = strlen(word), k, j;

	for (k = 0; k + w <= n; k++) {
		for (j = 0; j < w; j++) {
			unsigned char c = p[k + j];

			if (c >= 'A' && c <= 'Z')
				c = (unsigned char)(c - 'A' + 'a');
			if (c != (unsigned char)word[j])
				break;
		}
		if (j == w)
			return 1;
	}
	return 0;
}

/*
 * Whether 'mig' can go through libpq's pipeline mode: not with a COPY
 * (see mentions()), a baseline's extra history rows, a statement_timeout set, or a backslash
 * in a statement (std_strings_ok() looks at the session before each one
 * goes out).
 */
static int
can_pipeline(const struct pgb_migration *mig)
{
	size_t	i;

	if (mig->baseline)
		return 0;
	for (i = 0; i < mig->up.nstmts; i++)
		if (mig->up.stmts[i].is_copy || has_backslash(&mig->up, i) ||
		    mentions(&mig->up, i, "copy") ||
		    mentions(&mig->up, i, "statement_timeout"))
			return 0;
	return 1;
}

/*
 * Pipeline mode: send a sync and read every result up to it.  The queued
 * commands were 'npre' of the runtime's own, statements from s0 on, then
 * more of its own (verify guards, pgb_own_writes(), the history row,
 * COMMIT).  0, or -1 with 'd' from the first failure and
 * '*bad' the index of the command that failed or did not answer, counted
 * as statements are from s0 (so past the last statement for one queued
 * after them), (size_t)-1 for one of the first 'npre'.  Each answer is due
 * db->bound after the one before it, so a bound times each statement, as
 * the server does.
 */
static int
pipe_drain(struct pgb_db *db, size_t npre, size_t s0, size_t *bad,
    struct pgb_diag *d)
{
	PGresult	*res;
	ExecStatusType	 st;
	size_t		 k = 0;
	int		 rc = 0, nulls = 0;

	*bad = (size_t)-1;
	if (PQpipelineSync(db->conn) != 1)
		return pgb_db_error(db, NULL, d);
	for (;;) {
		pgb_db_due(db);
		if ((res = pgb_db_result(db)) == NULL) {
			/* One NULL ends each command; two: no sync is coming. */
			if (++nulls < 2 && PQstatus(db->conn) != CONNECTION_BAD)
				continue;
			if (rc == -1)
				return rc;
			if (k >= npre)
				*bad = s0 + (k - npre);
			return pgb_db_error(db, NULL, d);
		}
		nulls = 0;
		st = PQresultStatus(res);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			/* Every answer came, the last one after a cancel. */
			if (rc == 0 && db->gave_up)
				rc = pgb_db_error(db, NULL, d);
			return rc;
		}
		/*
		 * No COPY comes here: can_pipeline() keeps them out, and
		 * pgb_db_result() would end one.
		 */
		if (rc == 0 && ((st != PGRES_COMMAND_OK &&
		    st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY &&
		    st != PGRES_PIPELINE_ABORTED) || db->gave_up ||
		    db->stray)) {
			rc = pgb_db_error(db, res, d);
			if (k >= npre)
				*bad = s0 + (k - npre);
		}
		PQclear(res);
		k++;
	}
}

/*
 * Verify query 'q' as a command that fails unless it returns exactly one
 * row of one column, true: inside the migration's pipeline, its failure
 * skips the history row and COMMIT, as the server skips everything after
 * a failure up to the sync.  As a subquery it cannot be transaction
 * control, a second statement is refused by the extended protocol, and
 * the UNION refuses another number of columns before anything runs.  A
 * final ';' (a statement's end, or inside a final comment) is left out;
 * the query is on lines of its own, so a final comment ends there.
 */
static void
verify_guard(const char *q, struct pgb_buf *sql)
{
	size_t	n = strlen(q);

	while (n > 0 && (q[n - 1] == ';' || q[n - 1] == ' ' ||
	    q[n - 1] == '\t' || q[n - 1] == '\n' || q[n - 1] == '\r'))
		n--;
	sql->len = 0;
	pgb_buf_puts(sql, "SELECT 1 OPERATOR(pg_catalog./) "
	    "(pg_catalog.count(*) OPERATOR(pg_catalog.=) 2 AND "
	    "pg_catalog.every(v.ok IS TRUE))::pg_catalog.int4 "
	    "FROM (SELECT true UNION ALL (\n");
	pgb_buf_append(sql, q, n);
	pgb_buf_puts(sql, "\n)) AS v (ok)");
}

/*
 * apply_tx() in one round trip: BEGIN, the timeouts, every statement, the
 * verify queries, the history row and COMMIT go out in libpq's pipeline
 * mode (extended protocol, one statement per command), with a sync every
 * PIPE_CHUNK bytes so that neither side's buffers fill.  Results come
 * back in order, so the first failing one names its statement; the
 * server skips the rest and COMMIT with them.  Same returns as
 * apply_tx(), and 2 when the caller should run the migration again
 * without a pipeline: a statement refused as a syntax error may be
 * several commands in one (psql's split allows that, the extended
 * protocol does not), and a verify query that failed is run there alone
 * to say how (apply_tx() names its failure exactly).
 */
static int
apply_tx_piped(struct pgb_db *db, const struct pgb_migration *mig,
    const struct pgb_apply_opts *o, int async, struct pgb_diag *d)
{
	const struct pgb_script *sc = &mig->up;
	struct pgb_buf	 sql;
	struct pgb_diag	 ignore;
	size_t		 i, s0 = 0, npre, queued = 0, bad = (size_t)-1;
	int		 rc, retry, ended, k = 0;

	if (PQenterPipelineMode(db->conn) != 1)
		return pgb_db_error(db, NULL, d);
	db->ended = 0;
	npre = 2 + (o->lock_timeout != NULL) + (o->statement_timeout != NULL);
	rc = (k = prepare_own(db, d)) == -1 ||
	    exec_or_send(db, "BEGIN", 0, NULL, d) == -1 ||
	    pgb_set_timeouts(db, o, 1, d) == -1 ? -1 : 0;
	npre += k > 0 ? (size_t)k : 0;
	pgb_buf_init(&sql);
	for (i = 0; i < sc->nstmts && rc == 0; i++) {
		if (queued >= PIPE_CHUNK) {
			if ((rc = pipe_drain(db, npre, s0, &bad, d)) == -1)
				break;
			npre = 0;
			s0 = i;
			queued = 0;
		}
		sql.len = 0;
		pgb_buf_append(&sql, sc->text + sc->stmts[i].off,
		    sc->stmts[i].len);
		if (PQsendQueryParams(db->conn, sql.data, 0, NULL, NULL, NULL,
		    NULL, 0) != 1)
			rc = pgb_db_error(db, NULL, d);
		/*
		 * Under a bound, each answer must come as its statement ends,
		 * not when the server's output buffer fills or at the sync.
		 */
		else if (db->bound > 0 && PQsendFlushRequest(db->conn) != 1)
			rc = pgb_db_error(db, NULL, d);
		queued += sc->stmts[i].len;
	}
	for (i = 0; i < mig->nverify && rc == 0; i++) {
		verify_guard(mig->verify[i], &sql);
		if (PQsendQueryParams(db->conn, sql.data, 0, NULL, NULL, NULL,
		    NULL, 0) != 1 || (db->bound > 0 &&
		    PQsendFlushRequest(db->conn) != 1))
			rc = pgb_db_error(db, NULL, d);
	}
	pgb_buf_release(&sql);
	if (rc == 0 && (pgb_own_writes(db, async, d) == -1 ||
	    record(db, mig, o, PGB_H_APPLIED, sc->nstmts, -1, d) == -1 ||
	    exec_or_send(db, "COMMIT", 0, NULL, d) == -1))
		rc = -1;
	if (rc == 0)
		rc = pipe_drain(db, npre, s0, &bad, d);
	else if (bad == (size_t)-1 && PQstatus(db->conn) == CONNECTION_OK)
		(void)pipe_drain(db, 0, 0, &i, &ignore);
	(void)PQexitPipelineMode(db->conn);
	if (rc == 0)
		return 0;
	ended = db->ended;
	retry = strcmp(d->sqlstate, "55P03") == 0 && d->code == PGB_ESQL;
	if (d->code != PGB_ERETRY)
		pgb_rollback_tx(db);
	/* pgb_own_writes() failed: a statement ended the transaction. */
	if (bad == sc->nstmts + mig->nverify && pgb_ended_tx("migration", mig,
	    d))
		return -1;
	/* A verify query failed: say how, running it alone. */
	if (bad != (size_t)-1 && bad >= sc->nstmts &&
	    bad - sc->nstmts < mig->nverify && d->code == PGB_ESQL &&
	    PQtransactionStatus(db->conn) == PQTRANS_IDLE &&
	    !(ended & PGB_ENDED_COMMIT))
		return 2;
	if (bad >= sc->nstmts) {
		if (d->code == PGB_ESQL || d->sqlstate[0] == '\0')
			mig_failed(mig, d);
		return committed_part(ended, d);
	}
	if (strcmp(d->sqlstate, "42601") == 0 && d->code == PGB_ESQL &&
	    PQtransactionStatus(db->conn) == PQTRANS_IDLE &&
	    !(ended & PGB_ENDED_COMMIT))
		return 2;
	committed_part(ended, d);
	pgb_stmt_failed(mig, sc, bad, "migration", d);
	rolled_back(d, "it was rolled back");
	return retry && d->code == PGB_ESQL ? 1 : -1;
}

/*
 * One transactional migration: BEGIN, statements, verify queries, history
 * row, COMMIT ('async': not waiting for its flush, own_timeout()).
 * Returns 1 when lock_timeout cut it short (retry), 0, -1.
 */
static int
apply_tx(struct pgb_db *db, const struct pgb_migration *mig,
    const struct pgb_apply_opts *o, int in_outer_tx, int async,
    struct pgb_diag *d)
{
	double	t0 = pgb_clock_ms();
	size_t	i;
	int	rc;

	if (!in_outer_tx && can_pipeline(mig)) {
		if ((rc = apply_tx_piped(db, mig, o, async, d)) != 2)
			return rc;
		pgb_diag_clear(d);
	}
	if (!in_outer_tx && pgb_db_exec(db, "BEGIN", 0, NULL, NULL, d) == -1)
		return -1;
	if (!in_outer_tx && pgb_set_timeouts(db, o, 1, d) == -1)
		goto fail;
	for (i = 0; i < mig->up.nstmts; i++) {
		if (pgb_run_stmt(db, &mig->up, i, d) == -1) {
			int retry = strcmp(d->sqlstate, "55P03") == 0 &&
			    d->code == PGB_ESQL;
			pgb_stmt_failed(mig, &mig->up, i, "migration", d);
			rolled_back(d, in_outer_tx ? "the whole run was rolled "
			    "back (--single-transaction)" : "it was rolled back");
			pgb_rollback_tx(db);
			return retry ? 1 : -1;
		}
	}
	if (pgb_run_verify(db, mig, d) == -1)
		goto fail;
	if (pgb_own_writes(db, async, d) == -1) {
		if (!pgb_ended_tx("migration", mig, d))
			mig_failed(mig, d);
		goto fail;
	}
	if (record(db, mig, o, PGB_H_APPLIED, mig->up.nstmts,
	    (long long)(pgb_clock_ms() - t0), d) == -1 ||
	    (mig->baseline && pgb_history_record_replaced(db, mig,
	    o->bundle_id, d) == -1)) {
		mig_failed(mig, d);
		goto fail;
	}
	if (!in_outer_tx && pgb_db_exec(db, "COMMIT", 0, NULL, NULL, d) == -1) {
		mig_failed(mig, d);
		/* A lost connection here leaves the outcome to the history. */
		if (d->code != PGB_ERETRY)
			pgb_rollback_tx(db);
		return -1;
	}
	return 0;
fail:
	pgb_rollback_tx(db);
	return -1;
}

/* Drop an INVALID index a failed CREATE INDEX CONCURRENTLY left behind. */
static int
drop_invalid_index(struct pgb_db *db, const char *index, struct pgb_diag *d)
{
	const char	*p[1] = { index };
	PGresult	*res;
	struct pgb_buf	 sql;
	char		*qn, *qi;
	int		 rc;

	if (pgb_db_exec(db, "SELECT n.nspname, c.relname FROM "
	    "pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid "
	    "OPERATOR(pg_catalog.=) i.indexrelid JOIN pg_catalog.pg_namespace "
	    "n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace WHERE c.oid "
	    "OPERATOR(pg_catalog.=) pg_catalog.to_regclass($1) AND NOT "
	    "i.indisvalid", 1, p, &res, d) == -1)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	qn = PQescapeIdentifier(db->conn, PQgetvalue(res, 0, 0),
	    strlen(PQgetvalue(res, 0, 0)));
	qi = PQescapeIdentifier(db->conn, PQgetvalue(res, 0, 1),
	    strlen(PQgetvalue(res, 0, 1)));
	PQclear(res);
	pgb_buf_init(&sql);
	pgb_buf_printf(&sql, "DROP INDEX CONCURRENTLY IF EXISTS %s.%s",
	    qn ? qn : "", qi ? qi : "");
	rc = qn && qi ? pgb_db_exec(db, sql.data, 0, NULL, NULL, d) : -1;
	PQfreemem(qn);
	PQfreemem(qi);
	pgb_buf_release(&sql);
	return rc;
}

/*
 * A no-transaction migration: each statement commits alone and the
 * history row says how far it got, so a retry resumes after the last
 * statement that succeeded.
 */
static int
apply_notx(struct pgb_db *db, const struct pgb_migration *mig,
    const struct pgb_apply_opts *o, const struct pgb_hrow *prev,
    struct pgb_diag *d)
{
	double		t0 = pgb_clock_ms();
	size_t		i, from = prev ? (size_t)prev->done : 0;
	struct pgb_diag	keep;

	if (from > mig->up.nstmts)
		from = mig->up.nstmts;
	if (record(db, mig, o, PGB_H_FAILED, from, 0, d) == -1)
		return -1;
	if (pgb_set_timeouts(db, o, 0, d) == -1)
		return -1;
	for (i = from; i < mig->up.nstmts; i++) {
		if (prev != NULL && i == from && mig->up.stmts[i].index != NULL &&
		    drop_invalid_index(db, mig->up.stmts[i].index, d) == -1)
			return pgb_stmt_failed(mig, &mig->up, i, "migration",
			    d);
		if (pgb_run_stmt(db, &mig->up, i, d) == -1) {
			pgb_stmt_failed(mig, &mig->up, i,
			    "no-transaction migration", d);
			if (d->code == PGB_ESQL)
				d->code = PGB_EOPERATOR;
			keep = *d;
			/* A statement that left a transaction open. */
			pgb_rollback_tx(db);
			(void)pgb_db_reset_session(db, d);
			*d = keep;
			return -1;
		}
		if (record(db, mig, o, PGB_H_FAILED, i + 1, 0, d) == -1)
			return -1;
	}
	if (pgb_run_verify(db, mig, d) == -1) {
		d->code = PGB_EOPERATOR;
		return -1;
	}
	return record(db, mig, o, PGB_H_APPLIED, mig->up.nstmts,
	    (long long)(pgb_clock_ms() - t0), d);
}

static void
sleep_backoff(int attempt)
{
	struct timespec	ts;
	long		ms = 200L << (attempt < 5 ? attempt : 5);

	ms = pgb_jitter(ms, ms / 2);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

static int
apply_one(struct pgb_db *db, const struct pgb_migration *mig,
    const struct pgb_hrow *prev, const struct pgb_apply_opts *o, int async,
    struct pgb_diag *d)
{
	double	t0 = pgb_clock_ms();
	int	attempt, rc;

	for (attempt = 0;; attempt++) {
		if (pgb_interrupted)
			return pgb_fail(d, PGB_ECANCEL, "interrupted");
		/* The reset or the history lookup before checked it. */
		if (attempt > 0 && pgb_db_check_backend(db, d) == -1)
			return -1;
		pgb_emit(o, PGB_EV_BEGIN, mig, prev, NULL, 0, 0);
		if (mig->up.mode == PGB_MODE_NOTX)
			rc = apply_notx(db, mig, o, prev, d);
		else
			rc = apply_tx(db, mig, o, 0, async, d);
		if (rc != 1)
			break;
		if (attempt >= o->lock_retries) {
			d->code = PGB_ERETRY;
			return -1;
		}
		pgb_emit(o, PGB_EV_RETRY, mig, prev, NULL, 0,
		    (size_t)attempt + 1);
		sleep_backoff(attempt);
	}
	if (rc == -1)
		return -1;
	if (pgb_db_needs_reset(db, &mig->up) &&
	    pgb_db_reset_session(db, d) == -1)
		return -1;
	pgb_emit(o, PGB_EV_APPLIED, mig, NULL, "applied",
	    (long long)(pgb_clock_ms() - t0), 0);
	return 0;
}

/*
 * Whether pending migration 'i' of 'n' may commit without waiting for
 * its flush: not with --sync-each, not a no-transaction one (it commits
 * statement by statement), not the last of the run, and not the one
 * before a no-transaction migration, whose progress rows must not outlive
 * what came before them.  The commit that waits flushes (and, with
 * synchronous replication, has confirmed) all WAL before it.
 */
static int
commit_async(const struct pgb_manifest *m, const size_t *pending, size_t n,
    size_t i, const struct pgb_apply_opts *o)
{
	return !o->sync_each && m->migs[pending[i]].up.mode == PGB_MODE_TX &&
	    i + 1 < n && m->migs[pending[i + 1]].up.mode == PGB_MODE_TX;
}

/*
 * pgapply is giving up after migrations that committed without waiting
 * for their flush, 'last' the latest of them: before it exits, a commit
 * that waits, so that every migration it reported applied is durable.
 * A commit that wrote nothing would not wait, so it rewrites the history
 * row of 'last' as it is.  Even after a signal, bounded; a server that is
 * gone has nothing left to flush.
 */
static void
flush_commits(struct pgb_db *db, const struct pgb_migration *last)
{
	if (PQstatus(db->conn) != CONNECTION_OK || db->hung_up)
		return;
	pgb_db_cleanup(db, FLUSH_WAIT);
	pgb_rollback_tx(db);
	pgb_history_touch(db, last->version);
}

/* --single-transaction: every pending migration in one transaction. */
static int
apply_all_in_one(struct pgb_db *db, const struct pgb_manifest *m,
    const size_t *pending, size_t n, const struct pgb_apply_opts *o,
    struct pgb_diag *d)
{
	size_t	i;
	double	t0;

	if (pgb_db_exec(db, "BEGIN", 0, NULL, NULL, d) == -1)
		return -1;
	if (pgb_set_timeouts(db, o, 1, d) == -1) {
		pgb_rollback_tx(db);
		return -1;
	}
	for (i = 0; i < n; i++) {
		t0 = pgb_clock_ms();
		pgb_emit(o, PGB_EV_BEGIN, &m->migs[pending[i]], NULL, NULL, 0,
		    0);
		if (apply_tx(db, &m->migs[pending[i]], o, 1, 0, d) != 0) {
			if (d->code == 0 || strcmp(d->sqlstate, "55P03") == 0)
				d->code = PGB_ERETRY;
			pgb_rollback_tx(db);
			return -1;
		}
		pgb_emit(o, PGB_EV_APPLIED, &m->migs[pending[i]], NULL,
		    "applied", (long long)(pgb_clock_ms() - t0), 0);
	}
	return pgb_db_exec(db, "COMMIT", 0, NULL, NULL, d);
}

int
pgb_apply(struct pgb_db *db, const struct pgb_manifest *m,
    const struct pgb_apply_opts *o, struct pgb_diag *d)
{
	const struct pgb_migration *unflushed = NULL;
	struct pgb_history	 h;
	size_t			*pending = NULL, n = 0, i;
	char			 label[PGB_NAME_MAX + 8];
	int			 rc = -1, async, guard;

	memset(&h, 0, sizeof(h));
	/* The history table is created, and read, only under the lock. */
	if (pgb_db_lock(db, o->lock_wait, d) == -1)
		return -1;
	/* Another tool's history: adopt it (--adopt-from), or refuse. */
	if ((guard = pgb_adopt_guard(db, m, o, d)) == -1)
		goto out;
	if (pgb_db_ensure_history(db, d) == -1)
		goto out;
	if (pgb_read_and_compare(db, m, o, &h, &pending, &n, d) == -1)
		goto out;
	if (guard == 1 && h.n == 0 && pgb_adopt_guard_empty(db, m, o, d) == -1)
		goto out;
	if (o->single_tx) {
		for (i = 0; i < n; i++) {
			if (m->migs[pending[i]].up.mode == PGB_MODE_NOTX) {
				pgb_fail(d, PGB_EUSAGE, "--single-transaction "
				    "cannot include no-transaction migration "
				    "'%s'", pgb_mig_label(&m->migs[pending[i]],
				    label, sizeof(label)));
				goto out;
			}
		}
		if (n > 0 && apply_all_in_one(db, m, pending, n, o, d) == -1)
			goto out;
	} else {
		for (i = 0; i < n; i++) {
			const struct pgb_migration *mig = &m->migs[pending[i]];

			async = commit_async(m, pending, n, i, o);
			if (apply_one(db, mig, pgb_find_row(&h, mig->version),
			    o, async, d) == -1)
				goto out;
			unflushed = async ? mig : NULL;
		}
	}
	pgb_emit(o, PGB_EV_SUMMARY, NULL, NULL, "apply", 0, n);
	rc = 0;
out:
	if (rc == -1 && unflushed != NULL)
		flush_commits(db, unflushed);
	if (rc == -1 && pgb_interrupted && d->code != PGB_EOPERATOR)
		d->code = PGB_ECANCEL;
	free(pending);
	pgb_history_release(&h);
	if (o->session_ends)
		pgb_db_release(db);
	else
		pgb_db_unlock(db);
	return rc;
}
