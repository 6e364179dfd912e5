/*
 * test_clock.c - the monotonic clock never goes back and agrees with
 * itself in both units; the jitter stays within what it was given.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <time.h>

#include "clock.h"

static void
test_clock_is_monotonic(void **state)
{
	struct timespec	ts = { 0, 20 * 1000 * 1000 };
	double		a, b, ms;
	int		i;

	(void)state;
	a = pgb_clock_s();
	for (i = 0; i < 1000; i++) {
		b = pgb_clock_s();
		assert_true(b >= a);
		a = b;
	}
	nanosleep(&ts, NULL);
	ms = pgb_clock_ms();
	assert_true(ms / 1000 - a >= 0.019);
	assert_true(ms / 1000 - a < 5);
}

static void
test_clock_jitter_stays_in_range(void **state)
{
	long	v, lo = 1000, hi = 0;
	int	i;

	(void)state;
	for (i = 0; i < 2000; i++) {
		v = pgb_jitter(150, 100);
		assert_true(v >= 150 && v <= 250);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	/* It does spread. */
	assert_true(hi - lo > 50);
	assert_int_equal(pgb_jitter(7, 0), 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clock_is_monotonic),
		cmocka_unit_test(test_clock_jitter_stays_in_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
