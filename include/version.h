#ifndef PGB_VERSION_H
#define PGB_VERSION_H

/*
 * version.h - how version labels of other tools map to pgbundle's integer
 * versions.  The compiler uses it to read Flyway folders and the runtime
 * to read Flyway's history table, so both always agree.
 */

/*
 * Flyway: "1", "1.2", "1.2.3" (also "1_2_3") become a*10^12 + b*10^6 + c,
 * so dotted order is integer order and "1" equals "1.0" as in Flyway.  At
 * most three parts, each below 10^6.  0 or -1 for anything else.
 */
int	pgb_version_flyway(const char *s, long long *out);

/* Plain decimal digits, at most 18 of them.  0 or -1. */
int	pgb_version_plain(const char *s, long long *out);

#endif /* PGB_VERSION_H */
