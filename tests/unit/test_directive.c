/*
 * test_directive.c - directive comments that are almost right: which are
 * flagged, and the spelling the compiler shows for each.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "directive.h"

static int
near(const char *c)
{
	return pgb_directive_near(c, strlen(c));
}

static void
expect(const char *text, int known, const char *want)
{
	char	out[512];

	assert_int_equal(pgb_directive_expect(text, out, sizeof(out)), known);
	if (want != NULL)
		assert_string_equal(out, want);
}

static void
test_directive_exact_is_not_near(void **state)
{
	(void)state;
	assert_false(near("-- pgbundle:no-transaction"));
	assert_false(near("--\tpgbundle:allow drop-table"));
	assert_false(near("--   verify: SELECT true"));
	assert_false(near("-- verify:SELECT true"));
	assert_false(near("-- pgbundle:notx"));	/* unknown: source.c's */
}

static void
test_directive_prose_is_not_near(void **state)
{
	(void)state;
	assert_false(near("-- verify the rows by hand"));
	assert_false(near("-- note: pgbundle:no-transaction"));
	assert_false(near("-- pgbundle reads this"));
	assert_false(near("-- migrate:up"));
	assert_false(near("--"));
	assert_false(near("-- pgbundl"));
}

static void
test_directive_near_misses(void **state)
{
	(void)state;
	assert_true(near("-- Verify: SELECT 1"));
	assert_true(near("-- verify : SELECT 1"));
	assert_true(near("--verify: SELECT 1"));
	assert_true(near("--pgbundle:no-transaction"));
	assert_true(near("-- pgbundle: notx"));
	assert_true(near("-- PGBUNDLE:no-transaction"));
	assert_true(near("-- pgbundle:No-Transaction"));
	assert_true(near("--- pgbundle:no-transaction"));
	assert_true(near("-- pgbundle :allow drop-table"));
	assert_true(near("-- pgbundle:"));
}

static void
test_directive_expected_spelling(void **state)
{
	(void)state;
	expect("-- Verify: SELECT 1", 1, "-- verify: SELECT 1");
	expect("-- verify :  SELECT count(*) = 0 FROM t  ", 1,
	    "-- verify: SELECT count(*) = 0 FROM t");
	expect("-- Verify:", 1, "-- verify: QUERY");
	expect("--pgbundle:no-transaction", 1, "-- pgbundle:no-transaction");
	expect("-- pgbundle: notx", 1, "-- pgbundle:no-transaction");
	expect("pgbundle:notx", 1, "-- pgbundle:no-transaction");
	expect("pgbundle:no_transaction", 1, "-- pgbundle:no-transaction");
	expect("pgbundle:no-transation", 1, "-- pgbundle:no-transaction");
	expect("-- PGBUNDLE: Allow drop-table,drop-column", 1,
	    "-- pgbundle:allow drop-table,drop-column");
	expect("-- pgbundle: allow", 1, "-- pgbundle:allow RULE[,RULE]");
	expect("pgbundle:baseline 1..3", 1, "-- pgbundle:baseline-of 1..3");
	expect("pgbundle:frobnicate", 0, NULL);
	expect("-- pgbundle:", 0, NULL);
}

static void
test_directive_long_text_is_cut(void **state)
{
	char	text[300], out[64];

	(void)state;
	memset(text, 'x', sizeof(text));
	memcpy(text, "-- Verify: ", 11);
	text[sizeof(text) - 1] = '\0';
	assert_int_equal(pgb_directive_expect(text, out, sizeof(out)), 1);
	assert_int_equal(strlen(out), sizeof(out) - 1);
	memcpy(text, "-- pgbundle:", 12);
	assert_int_equal(pgb_directive_expect(text, out, sizeof(out)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_directive_exact_is_not_near),
		cmocka_unit_test(test_directive_prose_is_not_near),
		cmocka_unit_test(test_directive_near_misses),
		cmocka_unit_test(test_directive_expected_spelling),
		cmocka_unit_test(test_directive_long_text_is_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
