/*
 * clock.c - the monotonic clock and retry jitter (clock.h).
 *
 * Trusts: clock_gettime(CLOCK_MONOTONIC), which cannot fail for that
 * clock on the systems pgbundle runs on.  Jitter is random(), not for
 * secrets: it only keeps runners from retrying in step.
 */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "banned.h"

double
pgb_clock_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double
pgb_clock_ms(void)
{
	return pgb_clock_s() * 1000;
}

long
pgb_jitter(long base, long spread)
{
	static pid_t	seeded;
	struct timespec	ts;

	/* Per process: a forked runner must not repeat its parent's waits. */
	if (seeded != getpid()) {
		seeded = getpid();
		clock_gettime(CLOCK_MONOTONIC, &ts);
		srandom((unsigned)time(NULL) ^ (unsigned)ts.tv_nsec ^
		    (unsigned)seeded);
	}
	return base + (spread > 0 ? random() % (spread + 1) : 0);
}
