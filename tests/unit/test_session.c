/*
 * test_session.c - the session reset pgapply skips: for every kind of
 * statement that can leave the session other than its transaction found
 * it, the compiler's classifier names it (classify.h, 'session'), the
 * script is not marked keeps-session, the mark survives the manifest
 * (written and parsed again), and the runtime's decision
 * (pgb_db_script_resets) asks for the reset.  Look-alikes that end with
 * their transaction, or sit in strings, function bodies and comments,
 * keep the session.  A manifest without the mark (an older compiler's)
 * asks for a reset, as does any no-transaction script.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "classify.h"
#include "db.h"
#include "hash.h"
#include "manifest.h"
#include "banned.h"

/* A statement, what classify names, and the reset the runtime decides. */
struct kind {
	const char	*sql;
	const char	*session;	/* NULL: keeps the session */
};

static const struct kind changing[] = {
	/* SET for the session, in its spellings */
	{ "SET search_path = app, public;", "SET" },
	{ "set SESSION statement_timeout TO 0", "SET" },
	{ "SET TIME ZONE 'UTC'", "SET" },
	{ "SET NAMES 'UTF8'", "SET" },
	{ "SET SCHEMA 'app'", "SET" },
	{ "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", "SET" },
	{ "/* why */ SET app.tenant = 'x'", "SET" },
	{ "SET ROLE app_owner", "SET ROLE" },
	{ "SET SESSION ROLE app_owner", "SET ROLE" },
	{ "SET SESSION AUTHORIZATION bob", "SET SESSION AUTHORIZATION" },
	/* RESET of anything: the runtime's own settings too */
	{ "RESET search_path", "RESET" },
	{ "RESET ROLE", "RESET" },
	{ "RESET SESSION AUTHORIZATION", "RESET" },
	{ "reset all", "RESET" },
	/* set_config() not provably local */
	{ "SELECT set_config('search_path', 'app', false)",
	    "set_config(..., false)" },
	{ "SELECT pg_catalog.set_config('a.b', 'x', 'off')",
	    "set_config(..., false)" },
	{ "SELECT \"set_config\"('a.b', 'x', is_local) FROM t",
	    "set_config(..., false)" },
	{ "SELECT set_config('a.b', 'x', true), set_config('c.d', 'y', f())",
	    "set_config(..., false)" },
	{ "SELECT set_config('a.b', 'x', true::boolean)",
	    "set_config(..., false)" },
	{ "SELECT SET_CONFIG('a.b', 'x')", "set_config(..., false)" },
	/* temporary objects */
	{ "CREATE TEMP TABLE t (a int)", "a temporary object" },
	{ "CREATE TEMPORARY VIEW v AS SELECT 1", "a temporary object" },
	{ "CREATE GLOBAL TEMPORARY TABLE t (a int)", "a temporary object" },
	{ "CREATE LOCAL TEMP SEQUENCE s", "a temporary object" },
	{ "CREATE OR REPLACE TEMP VIEW v AS SELECT 1", "a temporary object" },
	{ "CREATE UNLOGGED TEMP TABLE t (a int)", "a temporary object" },
	{ "CREATE TABLE pg_temp.t (a int)", "a temporary object" },
	{ "CREATE FUNCTION pg_temp.f() RETURNS int LANGUAGE sql "
	    "AS 'SELECT 1'", "a temporary object" },
	{ "CREATE VIEW PG_TEMP_3.v AS SELECT 1", "a temporary object" },
	{ "SELECT 1 AS a INTO TEMP t", "a temporary object" },
	{ "SELECT * INTO TEMPORARY TABLE t FROM x", "a temporary object" },
	{ "SELECT * INTO LOCAL TEMP t FROM x", "a temporary object" },
	{ "DISCARD TEMP", "DISCARD" },
	/* prepared statements, notifications, cursors */
	{ "PREPARE q (int) AS SELECT $1", "PREPARE" },
	{ "DEALLOCATE q", "DEALLOCATE" },
	{ "DEALLOCATE ALL", "DEALLOCATE" },
	{ "LISTEN jobs", "LISTEN" },
	{ "UNLISTEN *", "UNLISTEN" },
	{ "DECLARE c CURSOR WITH HOLD FOR SELECT 1", "a cursor WITH HOLD" },
	{ "DECLARE c BINARY NO SCROLL CURSOR WITH HOLD FOR SELECT 1",
	    "a cursor WITH HOLD" },
	/* session-level advisory locks, taken or released */
	{ "SELECT pg_advisory_lock(42)", "a session advisory lock" },
	{ "SELECT pg_try_advisory_lock_shared(1, 2)",
	    "a session advisory lock" },
	{ "SELECT pg_catalog.pg_advisory_unlock(42)",
	    "a session advisory lock" },
	{ "SELECT pg_advisory_unlock_all()", "a session advisory lock" },
	/* discarding session state, loading code into it */
	{ "DISCARD ALL", "DISCARD" },
	{ "DISCARD PLANS", "DISCARD" },
	{ "DISCARD SEQUENCES", "DISCARD" },
	{ "LOAD 'auto_explain'", "LOAD" },
	{ "SELECT setseed(0.5)", "setseed()" },
	{ "SELECT dblink_connect('c', 'dbname=other')",
	    "a dblink connection" },
	/* code the compiler does not read */
	{ "DO $$BEGIN PERFORM 1; END$$", "DO" },
	{ "CALL refresh_totals()", "CALL" },
};

static const struct kind keeping[] = {
	/* ends with the transaction */
	{ "SET LOCAL search_path = app", NULL },
	{ "SET LOCAL ROLE app_owner", NULL },
	{ "SET CONSTRAINTS ALL DEFERRED", NULL },
	{ "SELECT set_config('search_path', 'app', true)", NULL },
	{ "SELECT pg_catalog.set_config('a.b', 'x', 'on')", NULL },
	{ "SELECT set_config('a.b', 'x', TRUE), set_config('c', 'y', 't')",
	    NULL },
	{ "SELECT pg_advisory_xact_lock(42)", NULL },
	{ "DECLARE c CURSOR FOR SELECT 1", NULL },
	{ "DECLARE c CURSOR WITHOUT HOLD FOR SELECT 1", NULL },
	/* SET that is not a command of its own */
	{ "UPDATE t SET a = 1", NULL },
	{ "ALTER ROLE app SET search_path = app", NULL },
	{ "ALTER DATABASE d SET timezone = 'UTC'", NULL },
	{ "ALTER TABLE t ALTER COLUMN a SET DEFAULT 0", NULL },
	{ "CREATE FUNCTION f() RETURNS int LANGUAGE sql "
	    "SET search_path = app AS 'SELECT 1'", NULL },
	/* inside a body, a string, a comment or a quoted name */
	{ "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$BEGIN "
	    "SET search_path = x; PERFORM set_config('a', 'b', false); "
	    "CREATE TEMP TABLE t (a int); END$$", NULL },
	{ "COMMENT ON TABLE t IS 'SET ROLE x; set_config(a, b, false)'",
	    NULL },
	{ "SELECT 1 -- SET ROLE x\n", NULL },
	{ "SELECT \"SET\", 'pg_temp.x' FROM t", NULL },
	/* plain statements and look-alike names */
	{ "CREATE TABLE t (a int)", NULL },
	{ "CREATE UNLOGGED TABLE t (a int)", NULL },
	{ "CREATE TABLE temp (a int)", NULL },
	{ "SELECT * INTO t2 FROM t", NULL },
	{ "INSERT INTO temp_rows SELECT 1", NULL },
	{ "CREATE INDEX t_a_idx ON t (a)", NULL },
	{ "SELECT my_set_config('a', 'b', false)", NULL },
	{ "SELECT nextval('s')", NULL },
	{ "NOTIFY jobs", NULL },
	{ "COPY t FROM stdin", NULL },
};

static const char *
session_of(const char *sql)
{
	struct pgb_class	 c;
	size_t			 n = strlen(sql);
	char			*t = malloc(n ? n : 1);

	assert_non_null(t);
	memcpy(t, sql, n);	/* no NUL: the classifier keeps to 'n' */
	memset(&c, 0x5a, sizeof(c));
	assert_int_equal(pgb_classify(t, n, &c), 0);
	free(t);
	return c.session;
}

/*
 * A one-migration manifest whose script is 'sql', marked as the compiler
 * marks it, written and parsed again: the runtime's view of it.
 */
static int
runtime_resets(const char *sql, enum pgb_mode mode, int *marked)
{
	struct pgb_manifest	 m, p;
	struct pgb_migration	*mg;
	struct pgb_diag		 d;
	struct pgb_buf		 b;
	unsigned char		 zero[PGB_SHA256_LEN];
	int			 r;

	pgb_manifest_init(&m);
	m.project = pgb_xstrdup("demo");
	m.compiler = pgb_xstrdup("pgbundle 0.1.0");
	m.migs = pgb_xcalloc(1, sizeof(*m.migs));
	m.nmigs = 1;
	mg = &m.migs[0];
	mg->version = 1;
	mg->name = pgb_xstrdup("one");
	mg->up.path = pgb_xstrdup("migrations/001_one.sql");
	mg->up.size = strlen(sql);
	pgb_sha256(sql, strlen(sql), mg->up.sha256);
	mg->up.mode = mode;
	mg->up.keeps_session = session_of(sql) == NULL;
	mg->up.stmts = pgb_xcalloc(1, sizeof(*mg->up.stmts));
	mg->up.stmts[0].len = strlen(sql);
	mg->up.stmts[0].line = 1;
	mg->up.nstmts = 1;
	memset(zero, 0, sizeof(zero));
	pgb_chain(zero, 1, mg->up.sha256, mg->chain);
	pgb_buf_init(&b);
	pgb_manifest_write(&m, &b);
	assert_int_equal(pgb_manifest_parse(b.data, b.len, &p, &d), 0);
	*marked = strstr(b.data, "keeps-session") != NULL;
	r = pgb_db_script_resets(&p.migs[0].up);
	assert_int_equal(p.migs[0].up.keeps_session, m.migs[0].up.keeps_session);
	pgb_buf_release(&b);
	pgb_manifest_release(&p);
	pgb_manifest_release(&m);
	return r;
}

static void
test_session_changing_kinds_are_named(void **state)
{
	const char	*got;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(changing) / sizeof(changing[0]); i++) {
		got = session_of(changing[i].sql);
		if (got == NULL || strcmp(got, changing[i].session) != 0)
			fail_msg("'%s': session '%s', want '%s'",
			    changing[i].sql, got ? got : "(none)",
			    changing[i].session);
	}
}

static void
test_session_changing_kinds_reset(void **state)
{
	size_t	i;
	int	marked;

	(void)state;
	for (i = 0; i < sizeof(changing) / sizeof(changing[0]); i++) {
		if (runtime_resets(changing[i].sql, PGB_MODE_TX,
		    &marked) != 1 || marked)
			fail_msg("'%s': no reset after it", changing[i].sql);
	}
}

static void
test_session_look_alikes_keep_it(void **state)
{
	const char	*got;
	size_t		 i;
	int		 marked;

	(void)state;
	for (i = 0; i < sizeof(keeping) / sizeof(keeping[0]); i++) {
		if ((got = session_of(keeping[i].sql)) != NULL)
			fail_msg("'%s': session '%s', want none",
			    keeping[i].sql, got);
		if (runtime_resets(keeping[i].sql, PGB_MODE_TX,
		    &marked) != 0 || !marked)
			fail_msg("'%s': reset after it", keeping[i].sql);
	}
}

/* Outside a transaction, pgapply's own session settings may stay. */
static void
test_session_no_transaction_resets(void **state)
{
	int	marked;

	(void)state;
	assert_int_equal(runtime_resets("CREATE INDEX CONCURRENTLY i ON t (a)",
	    PGB_MODE_NOTX, &marked), 1);
	assert_int_equal(marked, 1);
	assert_int_equal(pgb_db_script_resets(NULL), 1);
}

/* A manifest from before the mark: every script asks for the reset. */
static void
test_session_old_manifest_resets(void **state)
{
	static const char	 sql[] = "CREATE TABLE t (a int)";
	struct pgb_manifest	 m, p;
	struct pgb_migration	*mg;
	struct pgb_diag		 d;
	struct pgb_buf		 b;
	unsigned char		 zero[PGB_SHA256_LEN];
	char			*at;

	(void)state;
	pgb_manifest_init(&m);
	m.project = pgb_xstrdup("demo");
	m.compiler = pgb_xstrdup("pgbundle 0.1.0");
	m.migs = pgb_xcalloc(1, sizeof(*m.migs));
	m.nmigs = 1;
	mg = &m.migs[0];
	mg->version = 1;
	mg->name = pgb_xstrdup("one");
	mg->up.path = pgb_xstrdup("migrations/001_one.sql");
	mg->up.size = sizeof(sql) - 1;
	pgb_sha256(sql, sizeof(sql) - 1, mg->up.sha256);
	mg->up.keeps_session = 1;
	mg->up.stmts = pgb_xcalloc(1, sizeof(*mg->up.stmts));
	mg->up.stmts[0].len = sizeof(sql) - 1;
	mg->up.stmts[0].line = 1;
	mg->up.nstmts = 1;
	memset(zero, 0, sizeof(zero));
	pgb_chain(zero, 1, mg->up.sha256, mg->chain);
	/* Written without the mark, as pgbundle wrote it before. */
	mg->up.keeps_session = 0;
	pgb_buf_init(&b);
	pgb_manifest_write(&m, &b);
	at = strstr(b.data, "\nmode transaction\n");
	assert_non_null(at);
	assert_int_equal(pgb_manifest_parse(b.data, b.len, &p, &d), 0);
	assert_int_equal(p.migs[0].up.keeps_session, 0);
	assert_int_equal(pgb_db_script_resets(&p.migs[0].up), 1);
	pgb_buf_release(&b);
	pgb_manifest_release(&p);
	pgb_manifest_release(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session_changing_kinds_are_named),
		cmocka_unit_test(test_session_changing_kinds_reset),
		cmocka_unit_test(test_session_look_alikes_keep_it),
		cmocka_unit_test(test_session_no_transaction_resets),
		cmocka_unit_test(test_session_old_manifest_resets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
