/*
 * test_classify.c - transaction control, statements PostgreSQL refuses in
 * a transaction block, idempotence, the names the compiler compares, and
 * every lint rule with the look-alikes that must not trip it.  Each
 * statement is copied into a buffer of its exact length (no NUL).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "classify.h"
#include "banned.h"

static struct pgb_class
cls(const char *sql)
{
	struct pgb_class c;
	size_t		 n = strlen(sql);
	char		*t = malloc(n ? n : 1);

	assert_non_null(t);
	memcpy(t, sql, n);
	memset(&c, 0x5a, sizeof(c));
	assert_int_equal(pgb_classify(t, n, &c), 0);
	free(t);
	return c;
}

static void
expect_txctl(const char *sql, enum pgb_txctl want)
{
	struct pgb_class c = cls(sql);

	if (c.txctl != want)
		fail_msg("'%s': txctl %d, want %d", sql, (int)c.txctl,
		    (int)want);
}

static void
expect_notx(const char *sql, const char *want)
{
	struct pgb_class c = cls(sql);

	if (want == NULL && c.notx != NULL)
		fail_msg("'%s': notx '%s', want none", sql, c.notx);
	if (want != NULL && (c.notx == NULL || strcmp(c.notx, want) != 0))
		fail_msg("'%s': notx '%s', want '%s'", sql,
		    c.notx ? c.notx : "(none)", want);
}

static void
expect_idem(const char *sql, int want)
{
	struct pgb_class c = cls(sql);

	if (c.idempotent != want)
		fail_msg("'%s': idempotent %d, want %d", sql, c.idempotent,
		    want);
}

static void
expect_lint(const char *sql, unsigned want)
{
	struct pgb_class c = cls(sql);

	if (c.lint != want)
		fail_msg("'%s': lint 0x%x, want 0x%x", sql, c.lint, want);
}

static void
test_classify_plain(void **state)
{
	static const char *const plain[] = {
		"", ";", "   -- only a comment\n", "/* x */", "SELECT 1;",
		"INSERT INTO t VALUES (1)", "'unterminated", "(((", "\xff\xfe",
		"DO $$ BEGIN DROP TABLE t; COMMIT; END $$;",
	};
	struct pgb_class c;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		c = cls(plain[i]);
		assert_int_equal(c.txctl, PGB_TXCTL_NONE);
		assert_null(c.notx);
		assert_int_equal(c.idempotent, 0);
		assert_int_equal(c.is_copy_stdin, 0);
		assert_null(c.copy_out);
		assert_string_equal(c.index, "");
		assert_string_equal(c.table, "");
		assert_int_equal(c.creates_table, 0);
		assert_int_equal(c.lint, 0);
	}
}

static void
test_classify_txctl_begin(void **state)
{
	(void)state;
	expect_txctl("BEGIN;", PGB_TXCTL_BEGIN);
	expect_txctl("begin", PGB_TXCTL_BEGIN);
	expect_txctl("BEGIN WORK;", PGB_TXCTL_BEGIN);
	expect_txctl("Begin Transaction Isolation Level Serializable;",
	    PGB_TXCTL_BEGIN);
	expect_txctl("START TRANSACTION READ ONLY;", PGB_TXCTL_BEGIN);
	expect_txctl("/* c */ -- d\n  BEGIN;", PGB_TXCTL_BEGIN);
	expect_txctl("BEGIN ATOMIC SELECT 1; END", PGB_TXCTL_NONE);
	expect_txctl("\"begin\";", PGB_TXCTL_NONE);
	expect_txctl("begin_work();", PGB_TXCTL_NONE);
	expect_txctl("START x;", PGB_TXCTL_NONE);
}

static void
test_classify_txctl_commit(void **state)
{
	(void)state;
	expect_txctl("COMMIT;", PGB_TXCTL_COMMIT);
	expect_txctl("commit work", PGB_TXCTL_COMMIT);
	expect_txctl("COMMIT TRANSACTION;", PGB_TXCTL_COMMIT);
	expect_txctl("END;", PGB_TXCTL_COMMIT);
	expect_txctl("end", PGB_TXCTL_COMMIT);
	expect_txctl("END TRANSACTION;", PGB_TXCTL_COMMIT);
	expect_txctl("COMMIT AND NO CHAIN;", PGB_TXCTL_COMMIT);
	expect_txctl("COMMIT AND CHAIN;", PGB_TXCTL_OTHER);
	expect_txctl("END AND CHAIN;", PGB_TXCTL_OTHER);
	expect_txctl("ending();", PGB_TXCTL_NONE);
}

static void
test_classify_txctl_other(void **state)
{
	(void)state;
	expect_txctl("ROLLBACK;", PGB_TXCTL_OTHER);
	expect_txctl("ROLLBACK TO SAVEPOINT a;", PGB_TXCTL_OTHER);
	expect_txctl("ABORT;", PGB_TXCTL_OTHER);
	expect_txctl("SAVEPOINT a;", PGB_TXCTL_OTHER);
	expect_txctl("RELEASE SAVEPOINT a;", PGB_TXCTL_OTHER);
	expect_txctl("release a", PGB_TXCTL_OTHER);
	expect_txctl("PREPARE TRANSACTION 'x';", PGB_TXCTL_OTHER);
	expect_txctl("COMMIT PREPARED 'x';", PGB_TXCTL_OTHER);
	expect_txctl("ROLLBACK PREPARED 'x';", PGB_TXCTL_OTHER);
	expect_txctl("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;",
	    PGB_TXCTL_OTHER);
	expect_txctl("PREPARE p AS SELECT 1;", PGB_TXCTL_NONE);
	expect_txctl("SET search_path = x;", PGB_TXCTL_NONE);
	expect_txctl("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY;",
	    PGB_TXCTL_NONE);
	expect_txctl("SELECT 'COMMIT';", PGB_TXCTL_NONE);
}

static void
test_classify_notx_index(void **state)
{
	(void)state;
	expect_notx("CREATE INDEX CONCURRENTLY i ON t (a);",
	    "CREATE INDEX CONCURRENTLY");
	expect_notx("create unique index concurrently if not exists i on t(a)",
	    "CREATE INDEX CONCURRENTLY");
	expect_notx("CREATE INDEX CONCURRENTLY ON t (a);",
	    "CREATE INDEX CONCURRENTLY");
	expect_notx("DROP INDEX CONCURRENTLY IF EXISTS i;",
	    "DROP INDEX CONCURRENTLY");
	expect_notx("REINDEX INDEX CONCURRENTLY i;", "REINDEX CONCURRENTLY");
	expect_notx("REINDEX TABLE CONCURRENTLY t;", "REINDEX CONCURRENTLY");
	expect_notx("REINDEX (VERBOSE, CONCURRENTLY) TABLE t;",
	    "REINDEX CONCURRENTLY");
	expect_notx("REINDEX DATABASE d;", "REINDEX DATABASE");
	expect_notx("REINDEX SYSTEM d;", "REINDEX SYSTEM");
	expect_notx("REINDEX SCHEMA s;", "REINDEX SCHEMA");
	expect_notx("CREATE INDEX i ON t (a);", NULL);
	expect_notx("CREATE INDEX concurrently_idx ON t (a);", NULL);
	expect_notx("DROP INDEX i;", NULL);
	expect_notx("REINDEX TABLE t;", NULL);
	expect_notx("REINDEX (CONCURRENTLY false) TABLE t;", NULL);
	expect_notx("REINDEX (VERBOSE) INDEX i;", NULL);
	expect_notx("SELECT 'CREATE INDEX CONCURRENTLY i ON t(a)';", NULL);
	expect_notx("DO $$ BEGIN EXECUTE 'VACUUM'; END $$;", NULL);
}

static void
test_classify_notx_other(void **state)
{
	(void)state;
	expect_notx("VACUUM;", "VACUUM");
	expect_notx("vacuum (analyze, verbose) t;", "VACUUM");
	expect_notx("CREATE DATABASE d;", "CREATE DATABASE");
	expect_notx("DROP DATABASE IF EXISTS d WITH (FORCE);", "DROP DATABASE");
	expect_notx("ALTER DATABASE d SET TABLESPACE ts;",
	    "ALTER DATABASE ... SET TABLESPACE");
	expect_notx("CREATE TABLESPACE ts LOCATION '/x';", "CREATE TABLESPACE");
	expect_notx("DROP TABLESPACE ts;", "DROP TABLESPACE");
	expect_notx("ALTER SYSTEM SET work_mem = '64MB';", "ALTER SYSTEM");
	expect_notx("ALTER SYSTEM RESET ALL;", "ALTER SYSTEM");
	expect_notx("CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p;",
	    "CREATE SUBSCRIPTION");
	expect_notx("DROP SUBSCRIPTION s;", "DROP SUBSCRIPTION");
	expect_notx("ALTER SUBSCRIPTION s REFRESH PUBLICATION;",
	    "ALTER SUBSCRIPTION ... REFRESH PUBLICATION");
	expect_notx("ALTER SUBSCRIPTION s SET PUBLICATION p;",
	    "ALTER SUBSCRIPTION ... SET PUBLICATION");
	expect_notx("ALTER SUBSCRIPTION s ADD PUBLICATION p WITH (copy_data "
	    "= false);", "ALTER SUBSCRIPTION ... ADD PUBLICATION");
	expect_notx("ALTER SUBSCRIPTION s DROP PUBLICATION p;",
	    "ALTER SUBSCRIPTION ... DROP PUBLICATION");
	expect_notx("DISCARD ALL;", "DISCARD ALL");
	expect_notx("CLUSTER;", "CLUSTER");
	expect_notx("CLUSTER VERBOSE", "CLUSTER");
	expect_notx("CLUSTER (VERBOSE);", "CLUSTER");
	expect_notx("ALTER TABLE p DETACH PARTITION c CONCURRENTLY;",
	    "ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY");
	expect_notx("COMMIT PREPARED 'x';", "COMMIT PREPARED");
	expect_notx("ROLLBACK PREPARED 'x';", "ROLLBACK PREPARED");
}

static void
test_classify_notx_negative(void **state)
{
	(void)state;
	expect_notx("ANALYZE t;", NULL);
	expect_notx("CLUSTER t;", NULL);
	expect_notx("CLUSTER VERBOSE t USING i;", NULL);
	expect_notx("DISCARD PLANS;", NULL);
	expect_notx("ALTER TYPE mood ADD VALUE 'meh';", NULL);
	expect_notx("ALTER TABLE p DETACH PARTITION c;", NULL);
	expect_notx("ALTER TABLE p DETACH PARTITION c FINALIZE;", NULL);
	expect_notx("ALTER DATABASE d SET search_path TO s;", NULL);
	expect_notx("ALTER DATABASE d RENAME TO e;", NULL);
	expect_notx("CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p "
	    "WITH (connect = false);", NULL);
	expect_notx("CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p "
	    "WITH (create_slot = 'off', enabled = false);", NULL);
	expect_notx("ALTER SUBSCRIPTION s SET PUBLICATION p WITH (refresh = "
	    "false);", NULL);
	expect_notx("ALTER SUBSCRIPTION s DISABLE;", NULL);
	expect_notx("ALTER TABLESPACE ts SET (seq_page_cost = 1);", NULL);
	expect_notx("REFRESH MATERIALIZED VIEW CONCURRENTLY m;", NULL);
	expect_notx("CREATE TABLE vacuum (a int);", NULL);
}

static void
test_classify_idempotent_create(void **state)
{
	(void)state;
	expect_idem("CREATE TABLE IF NOT EXISTS t (a int);", 1);
	expect_idem("CREATE TEMP TABLE IF NOT EXISTS t (a int);", 1);
	expect_idem("CREATE INDEX IF NOT EXISTS i ON t (a);", 1);
	expect_idem("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON t(a)",
	    1);
	expect_idem("CREATE SCHEMA IF NOT EXISTS s;", 1);
	expect_idem("CREATE EXTENSION IF NOT EXISTS pgcrypto;", 1);
	expect_idem("CREATE SEQUENCE IF NOT EXISTS s;", 1);
	expect_idem("CREATE MATERIALIZED VIEW IF NOT EXISTS m AS SELECT 1;", 1);
	expect_idem("CREATE OR REPLACE FUNCTION f() RETURNS int AS $$ SELECT "
	    "1 $$ LANGUAGE sql;", 1);
	expect_idem("CREATE OR REPLACE VIEW v AS SELECT 1;", 1);
	expect_idem("CREATE TABLE t (a int);", 0);
	expect_idem("CREATE INDEX CONCURRENTLY i ON t (a);", 0);
	expect_idem("CREATE FUNCTION f() RETURNS int AS 'select 1' LANGUAGE "
	    "sql;", 0);
	expect_idem("CREATE VIEW v AS SELECT 1 WHERE NOT EXISTS (SELECT 1);",
	    0);
	expect_idem("CREATE TYPE mood AS ENUM ('a');", 0);
	expect_idem("CREATE DATABASE d;", 0);
}

static void
test_classify_idempotent_drop(void **state)
{
	(void)state;
	expect_idem("DROP TABLE IF EXISTS t;", 1);
	expect_idem("DROP INDEX CONCURRENTLY IF EXISTS i;", 1);
	expect_idem("DROP SCHEMA IF EXISTS s CASCADE;", 1);
	expect_idem("DROP FUNCTION IF EXISTS f(int);", 1);
	expect_idem("DROP MATERIALIZED VIEW IF EXISTS m;", 1);
	expect_idem("DROP DATABASE IF EXISTS d;", 1);
	expect_idem("DROP TABLE t;", 0);
	expect_idem("DROP INDEX CONCURRENTLY i;", 0);
	expect_idem("DROP VIEW v;", 0);
}

static void
test_classify_idempotent_natural(void **state)
{
	(void)state;
	expect_idem("VACUUM ANALYZE t;", 1);
	expect_idem("ANALYZE t;", 1);
	expect_idem("analyse;", 1);
	expect_idem("ALTER SYSTEM SET work_mem = '64MB';", 1);
	expect_idem("REINDEX INDEX CONCURRENTLY i;", 1);
	expect_idem("CLUSTER t USING i;", 1);
	expect_idem("SET search_path = s;", 1);
	expect_idem("RESET ALL;", 1);
	expect_idem("COMMENT ON TABLE t IS 'x';", 1);
	expect_idem("SECURITY LABEL ON TABLE t IS 'x';", 1);
	expect_idem("GRANT SELECT ON t TO r;", 1);
	expect_idem("REVOKE ALL ON t FROM PUBLIC;", 1);
	expect_idem("REFRESH MATERIALIZED VIEW m;", 1);
	expect_idem("DISCARD ALL;", 1);
	expect_idem("INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING;", 1);
	expect_idem("INSERT INTO t VALUES (1) ON CONFLICT (a) DO UPDATE SET "
	    "n = t.n + 1;", 0);
	expect_idem("INSERT INTO t SELECT 1 WHERE 'do nothing' <> '';", 0);
	expect_idem("INSERT INTO t VALUES (1);", 0);
	expect_idem("UPDATE t SET a = a + 1;", 0);
	expect_idem("SELECT 1;", 0);
	expect_idem("CALL p();", 0);
	expect_idem("COMMENT t;", 0);
}

static void
test_classify_idempotent_alter(void **state)
{
	(void)state;
	expect_idem("ALTER TABLE t ADD COLUMN IF NOT EXISTS a int;", 1);
	expect_idem("ALTER TABLE t ADD COLUMN IF NOT EXISTS a int, "
	    "DROP COLUMN IF EXISTS b, DROP CONSTRAINT IF EXISTS c;", 1);
	expect_idem("ALTER TABLE t ALTER COLUMN a SET DEFAULT 0, ALTER a "
	    "DROP NOT NULL, ALTER COLUMN b TYPE bigint;", 1);
	expect_idem("ALTER TABLE IF EXISTS t RENAME TO u;", 1);
	expect_idem("ALTER TABLE t OWNER TO r;", 1);
	expect_idem("ALTER TABLE t SET (fillfactor = 70), RESET "
	    "(autovacuum_enabled);", 1);
	expect_idem("ALTER TABLE t ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL "
	    "SECURITY;", 1);
	expect_idem("ALTER TABLE t VALIDATE CONSTRAINT c;", 1);
	expect_idem("ALTER TABLE IF EXISTS a.t SET SCHEMA b;", 1);
	expect_idem("ALTER TABLE t ADD COLUMN a int;", 0);
	expect_idem("ALTER TABLE t ADD COLUMN IF NOT EXISTS a int, ADD b int;",
	    0);
	expect_idem("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);", 0);
	expect_idem("ALTER TABLE t DROP COLUMN b;", 0);
	expect_idem("ALTER TABLE t RENAME TO u;", 0);
	expect_idem("ALTER TABLE IF EXISTS t RENAME COLUMN a TO b;", 0);
	expect_idem("ALTER TABLE t SET SCHEMA b;", 0);
	expect_idem("ALTER TABLE p ATTACH PARTITION c DEFAULT;", 0);
	expect_idem("ALTER TABLE t NO INHERIT p;", 0);
	expect_idem("ALTER TABLE t ALTER COLUMN a ADD GENERATED ALWAYS AS "
	    "IDENTITY;", 0);
	expect_idem("ALTER TABLE t ALTER COLUMN a DROP IDENTITY IF EXISTS;", 1);
	expect_idem("ALTER TABLE t ALTER COLUMN a DROP EXPRESSION;", 0);
	expect_idem("ALTER TYPE mood ADD VALUE IF NOT EXISTS 'x' BEFORE 'y';",
	    1);
	expect_idem("ALTER TYPE mood ADD VALUE 'x';", 0);
	expect_idem("ALTER TYPE mood RENAME VALUE 'a' TO 'b';", 0);
	expect_idem("ALTER INDEX IF EXISTS i RENAME TO j;", 1);
	expect_idem("ALTER INDEX i RENAME TO j;", 0);
	expect_idem("ALTER INDEX i SET TABLESPACE ts;", 1);
	expect_idem("ALTER SEQUENCE s RESTART WITH 10;", 1);
	expect_idem("ALTER ROLE r SET work_mem = '1MB';", 1);
	expect_idem("ALTER FUNCTION f(int) SET SCHEMA s;", 0);
	expect_idem("ALTER EXTENSION e UPDATE;", 1);
	expect_idem("ALTER EXTENSION e ADD TABLE t;", 0);
	expect_idem("ALTER DATABASE d SET TABLESPACE ts;", 1);
	expect_idem("ALTER SUBSCRIPTION s SET PUBLICATION p;", 1);
	expect_idem("ALTER SUBSCRIPTION s ADD PUBLICATION p;", 0);
	expect_idem("ALTER SUBSCRIPTION s REFRESH PUBLICATION;", 1);
}

static void
test_classify_copy_stdin(void **state)
{
	(void)state;
	assert_int_equal(cls("COPY t FROM stdin;").is_copy_stdin, 1);
	assert_int_equal(cls("copy t (a, b) from STDIN with (format csv);")
	    .is_copy_stdin, 1);
	assert_int_equal(cls("COPY t TO stdout;").is_copy_stdin, 0);
	assert_int_equal(cls("COPY t FROM '/tmp/x';").is_copy_stdin, 0);
	assert_int_equal(cls("COPY (SELECT a FROM stdin) TO stdout;")
	    .is_copy_stdin, 0);
	assert_int_equal(cls("SELECT 1 FROM stdin;").is_copy_stdin, 0);
	/* the server takes FROM STDOUT as FROM STDIN */
	assert_int_equal(cls("COPY t FROM STDOUT;").is_copy_stdin, 1);
	assert_int_equal(cls("COPY t FROM '/tmp/x' WHERE a IN (SELECT 1 "
	    "FROM stdin);").is_copy_stdin, 0);
}

static void
expect_copy_out(const char *sql, const char *want)
{
	struct pgb_class c = cls(sql);

	if (want == NULL && c.copy_out != NULL)
		fail_msg("'%s': copy_out '%s', want none", sql, c.copy_out);
	if (want != NULL && (c.copy_out == NULL ||
	    strcmp(c.copy_out, want) != 0))
		fail_msg("'%s': copy_out '%s', want '%s'", sql,
		    c.copy_out ? c.copy_out : "(none)", want);
}

static void
test_classify_copy_out(void **state)
{
	static const char *const out[] = {
		"COPY t TO STDOUT;", "copy t to stdout", "Copy t To StdOut;",
		"COPY t (a, b) TO STDOUT WITH (FORMAT csv, HEADER);",
		"COPY (SELECT a FROM t WHERE b TO c) TO STDOUT;",
		"COPY/*x*/t\n-- c\nTO\n  stdout;",
		"COPY (SELECT 1) TO STDOUT (FORMAT binary);",
		"COPY BINARY t TO STDOUT;",
	};
	static const char *const not_out[] = {
		"COPY t FROM STDIN;", "COPY t TO '/tmp/x';",
		"COPY t TO PROGRAM 'cat';", "COPY t TO 'stdout';",
		"COPY t TO \"stdout\";", "COPY t FROM stdin; -- TO STDOUT",
		"COPY t FROM '/x' WHERE a = 'TO STDOUT';",
		"SELECT 1 TO STDOUT;", "COPY (SELECT 1 TO stdout) TO '/x';",
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(out) / sizeof(out[0]); i++)
		expect_copy_out(out[i], "COPY ... TO STDOUT");
	for (i = 0; i < sizeof(not_out) / sizeof(not_out[0]); i++)
		expect_copy_out(not_out[i], NULL);
	/* the grammar's copy_file_name: STDIN there is the client too */
	expect_copy_out("COPY t TO STDIN;", "COPY ... TO STDIN");
	assert_int_equal(cls("COPY t TO STDIN;").is_copy_stdin, 0);
}

static void
expect_index(const char *sql, const char *index, const char *table)
{
	struct pgb_class c = cls(sql);

	if (strcmp(c.index, index) != 0 || strcmp(c.table, table) != 0)
		fail_msg("'%s': index '%s' table '%s', want '%s' '%s'", sql,
		    c.index, c.table, index, table);
}

static void
test_classify_index_name(void **state)
{
	(void)state;
	expect_index("CREATE INDEX CONCURRENTLY i ON t (a);", "i", "t");
	expect_index("CREATE INDEX CONCURRENTLY Idx ON S.T (a);", "S.Idx",
	    "s.t");
	expect_index("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS \"My Idx\" "
	    "ON ONLY \"Sch\".\"T\" USING btree (a);", "\"Sch\".\"My Idx\"",
	    "Sch.T");
	expect_index("CREATE INDEX CONCURRENTLY i ON db.s.t (a);", "s.i",
	    "db.s.t");
	expect_index("CREATE INDEX CONCURRENTLY U&\"i\\0064\\+000078\" "
	    "ON t (a);", "\"idx\"", "t");
	expect_index("CREATE INDEX CONCURRENTLY U&\"q!0022\" UESCAPE '!' "
	    "ON t (a);", "\"q\"\"\"", "t");
	expect_index("CREATE INDEX CONCURRENTLY ON s.t (a);", "", "s.t");
	expect_index("CREATE INDEX i ON s.t (a);", "", "s.t");
	expect_index("CREATE INDEX CONCURRENTLY /* c */ i -- c\n ON t(a)",
	    "i", "t");
	expect_index("CREATE INDEX CONCURRENTLY i ON (a);", "", "");
}

static void
test_classify_index_name_too_long(void **state)
{
	char	sql[600], name[300];

	(void)state;
	memset(name, 'a', 250);
	name[250] = '\0';
	snprintf(sql, sizeof(sql), "CREATE INDEX CONCURRENTLY %s ON t (a);",
	    name);
	expect_index(sql, "", "t");
	name[200] = '\0';
	snprintf(sql, sizeof(sql), "CREATE INDEX CONCURRENTLY %s ON t (a);",
	    name);
	expect_index(sql, name, "t");
	snprintf(sql, sizeof(sql), "CREATE INDEX CONCURRENTLY %s ON s.t (a);",
	    name);
	expect_index(sql, "", "s.t");
}

static void
expect_table(const char *sql, const char *table, int creates)
{
	struct pgb_class c = cls(sql);

	if (strcmp(c.table, table) != 0 || c.creates_table != creates)
		fail_msg("'%s': table '%s' creates %d, want '%s' %d", sql,
		    c.table, c.creates_table, table, creates);
}

static void
test_classify_creates_table(void **state)
{
	char	sql[300], want[80];

	(void)state;
	expect_table("CREATE TABLE t (a int);", "t", 1);
	expect_table("create table Public.Orders (a int);", "public.orders", 1);
	expect_table("CREATE TABLE \"Public\".\"Or\"\"ders\" (a int);",
	    "Public.Or\"ders", 1);
	expect_table("CREATE UNLOGGED TABLE IF NOT EXISTS x.y ();", "x.y", 1);
	expect_table("CREATE GLOBAL TEMPORARY TABLE t (a int);", "t", 1);
	expect_table("CREATE TEMP TABLE t AS SELECT 1;", "t", 1);
	expect_table("CREATE TABLE c PARTITION OF p FOR VALUES IN (1);", "c",
	    1);
	expect_table("CREATE MATERIALIZED VIEW m AS SELECT 1;", "m", 1);
	expect_table("CREATE TABLE U&\"d\\0061t\" (a int);", "dat", 1);
	expect_table("CREATE TABLE U&\"d!0061t\" UESCAPE '!' (a int);", "dat",
	    1);
	expect_table("CREATE TABLE \"a.b\" (a int);", "a.b", 1);
	expect_table("CREATE FOREIGN TABLE f (a int) SERVER s;", "", 0);
	expect_table("CREATE VIEW v AS SELECT 1;", "", 0);
	expect_table("CREATE TABLE (a int);", "", 1);
	expect_table("CREATE TABLE U&\"bad\\00\" (a int);", "", 1);

	/* identifiers are cut to 63 bytes, on a character boundary */
	snprintf(sql, sizeof(sql), "CREATE TABLE %s%s (a int);",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "\xc3\xa9xyz");
	snprintf(want, sizeof(want), "%s",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	expect_table(sql, want, 1);
	snprintf(sql, sizeof(sql), "CREATE TABLE %s (a int);",
	    "ABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDE");
	expect_table(sql,
	    "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabc",
	    1);
}

static void
test_classify_lint_drop_table(void **state)
{
	(void)state;
	expect_lint("DROP TABLE t;", PGB_LINT_DROP_TABLE);
	expect_lint("drop table if exists a, b cascade", PGB_LINT_DROP_TABLE);
	expect_lint("DROP FOREIGN TABLE f;", 0);
	expect_lint("DROP VIEW v;", 0);
	expect_lint("CREATE FUNCTION f() RETURNS void AS $$ DROP TABLE t; $$ "
	    "LANGUAGE sql;", 0);
	expect_lint("SELECT 'DROP TABLE t';", 0);
	expect_lint("-- DROP TABLE t\nSELECT 1;", 0);
	expect_lint("/* DROP TABLE t; */ SELECT 1;", 0);
}

static void
test_classify_lint_drop_column(void **state)
{
	(void)state;
	expect_lint("ALTER TABLE t DROP COLUMN a;", PGB_LINT_DROP_COLUMN);
	expect_lint("ALTER TABLE t DROP a;", PGB_LINT_DROP_COLUMN);
	expect_lint("ALTER TABLE IF EXISTS ONLY t DROP COLUMN IF EXISTS a "
	    "CASCADE;", PGB_LINT_DROP_COLUMN);
	expect_lint("ALTER TABLE t DROP \"Col\";", PGB_LINT_DROP_COLUMN);
	expect_lint("ALTER TABLE t ADD COLUMN b int, DROP COLUMN a;",
	    PGB_LINT_DROP_COLUMN);
	expect_lint("ALTER TABLE t DROP CONSTRAINT c;", 0);
	expect_lint("ALTER TABLE t DROP CONSTRAINT IF EXISTS c;", 0);
	expect_lint("ALTER TABLE t ALTER COLUMN a DROP DEFAULT;", 0);
	expect_lint("ALTER TABLE t ALTER COLUMN a DROP NOT NULL;", 0);
	expect_lint("ALTER TABLE t ALTER a DROP IDENTITY;", 0);
	expect_lint("ALTER FOREIGN TABLE f DROP COLUMN a;", 0);
	expect_lint("ALTER TABLE t ADD CONSTRAINT drop_x CHECK (a > 0);", 0);
}

static void
test_classify_lint_index_locks(void **state)
{
	struct pgb_class c;

	(void)state;
	expect_lint("CREATE INDEX i ON t (a);", PGB_LINT_INDEX_LOCKS);
	expect_lint("create unique index on S.T (a)", PGB_LINT_INDEX_LOCKS);
	expect_lint("CREATE INDEX IF NOT EXISTS i ON ONLY t (a);",
	    PGB_LINT_INDEX_LOCKS);
	c = cls("CREATE UNIQUE INDEX i ON \"Sch\".Tab USING gin (a);");
	assert_int_equal(c.lint, PGB_LINT_INDEX_LOCKS);
	assert_string_equal(c.table, "Sch.tab");
	assert_string_equal(c.index, "");
	assert_null(c.notx);
	assert_int_equal(c.creates_table, 0);
	expect_lint("CREATE INDEX CONCURRENTLY i ON t (a);", 0);
	expect_lint("CREATE UNIQUE INDEX CONCURRENTLY ON t (a);", 0);
	expect_lint("CREATE TABLE index_t (a int);", 0);
}

static void
test_classify_lint_not_null(void **state)
{
	(void)state;
	expect_lint("ALTER TABLE t ADD COLUMN a int NOT NULL;",
	    PGB_LINT_NOT_NULL);
	expect_lint("ALTER TABLE t ADD a numeric(10, 2) CONSTRAINT nn NOT NULL;",
	    PGB_LINT_NOT_NULL);
	expect_lint("ALTER TABLE t ADD COLUMN IF NOT EXISTS a int PRIMARY KEY;",
	    PGB_LINT_NOT_NULL);
	expect_lint("ALTER TABLE t ADD COLUMN a int DEFAULT NULL NOT NULL;",
	    PGB_LINT_NOT_NULL);
	expect_lint("ALTER TABLE t ADD COLUMN a int NOT NULL REFERENCES u "
	    "ON DELETE SET DEFAULT;", PGB_LINT_NOT_NULL);
	expect_lint("ALTER TABLE t ADD COLUMN a int DEFAULT 0, ADD COLUMN b "
	    "int NOT NULL;", PGB_LINT_NOT_NULL);
	expect_lint("ALTER TABLE t ADD COLUMN a int NOT NULL DEFAULT 0;", 0);
	expect_lint("ALTER TABLE t ADD COLUMN a int DEFAULT 0 NOT NULL;", 0);
	expect_lint("ALTER TABLE t ADD COLUMN a serial;", 0);
	expect_lint("ALTER TABLE t ADD COLUMN a bigserial NOT NULL;", 0);
	expect_lint("ALTER TABLE t ADD a smallserial PRIMARY KEY;", 0);
	expect_lint("ALTER TABLE t ADD COLUMN a int NOT NULL GENERATED ALWAYS "
	    "AS IDENTITY;", 0);
	expect_lint("ALTER TABLE t ADD COLUMN a int GENERATED ALWAYS AS (b * 2) "
	    "STORED NOT NULL;", 0);
	expect_lint("ALTER TABLE t ADD COLUMN a int CHECK (a IS NOT NULL);", 0);
	expect_lint("ALTER TABLE t ADD CONSTRAINT c CHECK (a IS NOT NULL);", 0);
	expect_lint("ALTER TABLE t ADD PRIMARY KEY (a);", 0);
	expect_lint("ALTER TABLE t ADD COLUMN a int;", 0);
	expect_lint("ALTER TABLE t ALTER COLUMN a SET NOT NULL;", 0);
	expect_lint("CREATE TABLE t (a int NOT NULL);", 0);
}

static void
test_classify_lint_alter_type(void **state)
{
	(void)state;
	expect_lint("ALTER TABLE t ALTER COLUMN a TYPE bigint;",
	    PGB_LINT_ALTER_TYPE);
	expect_lint("ALTER TABLE t ALTER a SET DATA TYPE text USING a::text;",
	    PGB_LINT_ALTER_TYPE);
	expect_lint("ALTER TABLE t ALTER COLUMN a SET DEFAULT 1, ALTER COLUMN "
	    "b TYPE int;", PGB_LINT_ALTER_TYPE);
	expect_lint("ALTER TABLE t ALTER COLUMN a SET DEFAULT 1;", 0);
	expect_lint("ALTER TABLE t ALTER COLUMN a SET STATISTICS 100;", 0);
	expect_lint("ALTER TABLE t ALTER CONSTRAINT c DEFERRABLE;", 0);
	expect_lint("ALTER TYPE mood ADD VALUE 'x';", 0);
	expect_lint("ALTER TYPE t ALTER ATTRIBUTE a TYPE int;", 0);
	expect_lint("ALTER TABLE t ADD COLUMN type int;", 0);
}

static void
test_classify_lint_several_actions(void **state)
{
	(void)state;
	expect_lint("ALTER TABLE t\n"
	    "  ADD COLUMN a int NOT NULL,\n"
	    "  DROP COLUMN b,\n"
	    "  ALTER COLUMN c TYPE numeric(12, 2),\n"
	    "  ADD CONSTRAINT u UNIQUE (a, c);",
	    PGB_LINT_NOT_NULL | PGB_LINT_DROP_COLUMN | PGB_LINT_ALTER_TYPE);
}

static void
test_classify_lint_rule_names(void **state)
{
	(void)state;
	assert_string_equal(pgb_lint_rule(PGB_LINT_DROP_TABLE), "drop-table");
	assert_string_equal(pgb_lint_rule(PGB_LINT_DROP_COLUMN), "drop-column");
	assert_string_equal(pgb_lint_rule(PGB_LINT_INDEX_LOCKS), "index-locks");
	assert_string_equal(pgb_lint_rule(PGB_LINT_NOT_NULL),
	    "not-null-no-default");
	assert_string_equal(pgb_lint_rule(PGB_LINT_ALTER_TYPE), "alter-type");
	assert_null(pgb_lint_rule(0));
	assert_null(pgb_lint_rule(0x20));
	assert_null(pgb_lint_rule(PGB_LINT_DROP_TABLE | PGB_LINT_NOT_NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify_plain),
		cmocka_unit_test(test_classify_txctl_begin),
		cmocka_unit_test(test_classify_txctl_commit),
		cmocka_unit_test(test_classify_txctl_other),
		cmocka_unit_test(test_classify_notx_index),
		cmocka_unit_test(test_classify_notx_other),
		cmocka_unit_test(test_classify_notx_negative),
		cmocka_unit_test(test_classify_idempotent_create),
		cmocka_unit_test(test_classify_idempotent_drop),
		cmocka_unit_test(test_classify_idempotent_natural),
		cmocka_unit_test(test_classify_idempotent_alter),
		cmocka_unit_test(test_classify_copy_stdin),
		cmocka_unit_test(test_classify_copy_out),
		cmocka_unit_test(test_classify_index_name),
		cmocka_unit_test(test_classify_index_name_too_long),
		cmocka_unit_test(test_classify_creates_table),
		cmocka_unit_test(test_classify_lint_drop_table),
		cmocka_unit_test(test_classify_lint_drop_column),
		cmocka_unit_test(test_classify_lint_index_locks),
		cmocka_unit_test(test_classify_lint_not_null),
		cmocka_unit_test(test_classify_lint_alter_type),
		cmocka_unit_test(test_classify_lint_several_actions),
		cmocka_unit_test(test_classify_lint_rule_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
