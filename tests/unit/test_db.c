/*
 * test_db.c - pgb_db_parse_ms(), which reads --statement-timeout the way
 * PostgreSQL 15 reads statement_timeout.  Every expected value here was
 * checked against the server: SET statement_timeout = '<value>', then
 * the setting in pg_settings, or the error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "db.h"

static long long
ms_of(const char *s)
{
	long long	ms = -42;

	assert_int_equal(pgb_db_parse_ms(s, &ms), 0);
	return ms;
}

static void
refused(const char *s)
{
	long long	ms = -42;

	if (pgb_db_parse_ms(s, &ms) != -1)
		fail_msg("'%s' was accepted as %lld ms", s, ms);
	assert_int_equal(ms, -42);	/* untouched */
}

static void
test_db_parse_ms_plain_is_milliseconds(void **state)
{
	(void)state;
	assert_int_equal(ms_of("0"), 0);
	assert_int_equal(ms_of("1500"), 1500);
	assert_int_equal(ms_of("2147483647"), 2147483647LL);
	/* strtol() with base 0, as guc.c: octal and hexadecimal. */
	assert_int_equal(ms_of("010"), 8);
	assert_int_equal(ms_of("0x10"), 16);
	assert_int_equal(ms_of("+5"), 5);
}

static void
test_db_parse_ms_units(void **state)
{
	(void)state;
	assert_int_equal(ms_of("2ms"), 2);
	assert_int_equal(ms_of("2s"), 2000);
	assert_int_equal(ms_of("30s"), 30000);
	assert_int_equal(ms_of("5min"), 300000);
	assert_int_equal(ms_of("1h"), 3600000);
	assert_int_equal(ms_of("1d"), 86400000);
	assert_int_equal(ms_of("24d"), 2073600000LL);
	assert_int_equal(ms_of("501us"), 1);
	assert_int_equal(ms_of("1us"), 0);
}

static void
test_db_parse_ms_spaces(void **state)
{
	(void)state;
	assert_int_equal(ms_of("1 s"), 1000);
	assert_int_equal(ms_of(" 1s "), 1000);
	assert_int_equal(ms_of("1s\t"), 1000);
	assert_int_equal(ms_of("5 min"), 300000);
}

static void
test_db_parse_ms_fractions_round_as_the_server(void **state)
{
	(void)state;
	/* Half to even, as rint(). */
	assert_int_equal(ms_of("1.5"), 2);
	assert_int_equal(ms_of("2.5"), 2);
	assert_int_equal(ms_of("3.5"), 4);
	assert_int_equal(ms_of("0.5"), 0);
	assert_int_equal(ms_of("-0.4"), 0);
	assert_int_equal(ms_of("-0.5"), 0);
	assert_int_equal(ms_of("1.5ms"), 2);
	assert_int_equal(ms_of("1500us"), 2);
	assert_int_equal(ms_of("2500us"), 2);
	assert_int_equal(ms_of("1.5s"), 1500);
	assert_int_equal(ms_of("1.5min"), 90000);
	/* First to the next smaller unit: 1.7 h is 102 min. */
	assert_int_equal(ms_of("1.7h"), 6120000);
	assert_int_equal(ms_of("1.0001s"), 1000);
	/* 8.64 s rounds to whole hours: 0. */
	assert_int_equal(ms_of("0.0001d"), 0);
	assert_int_equal(ms_of("1e3"), 1000);
	assert_int_equal(ms_of("1E3s"), 1000000);
	assert_int_equal(ms_of("1e-3s"), 1);
	assert_int_equal(ms_of(".5s"), 500);
	assert_int_equal(ms_of("5.s"), 5000);
	/* strtol stops at '.', so strtod reads a hexadecimal float. */
	assert_int_equal(ms_of("0x1.8p1"), 3);
	assert_int_equal(ms_of("2147483647.4"), 2147483647LL);
}

static void
test_db_parse_ms_refuses(void **state)
{
	(void)state;
	refused("");
	refused(" ");
	refused("abc");
	refused("s");
	refused("5x");
	refused("5mins");
	refused("5 sec");
	refused("5S");		/* units are case-sensitive */
	refused("5MS");
	refused("1s x");
	refused("1 s s");
	refused("1h30min");
	refused("- 5");
	refused("inf");
	refused("nan");
	refused("1..2");
	refused("0x");
}

static void
test_db_parse_ms_refuses_out_of_range(void **state)
{
	(void)state;
	refused("-1");
	refused("-1s");
	refused("2147483648");
	refused("2147483647.5");
	refused("25d");
	refused("9999999999999999999");
	refused("1e300");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_db_parse_ms_plain_is_milliseconds),
		cmocka_unit_test(test_db_parse_ms_units),
		cmocka_unit_test(test_db_parse_ms_spaces),
		cmocka_unit_test(test_db_parse_ms_fractions_round_as_the_server),
		cmocka_unit_test(test_db_parse_ms_refuses),
		cmocka_unit_test(test_db_parse_ms_refuses_out_of_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
