/*
 * version.c - map other tools' version labels to integers.
 *
 * Trusts: nothing; labels come from file names and foreign tables.
 */
#include <stddef.h>

#include "version.h"
#include "banned.h"

#define PART_LIMIT	1000000LL
#define PARTS_MAX	3

int
pgb_version_plain(const char *s, long long *out)
{
	long long	v = 0;
	size_t		i;

	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (i == 18)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (i == 0 || s[i] != '\0')
		return -1;
	*out = v;
	return 0;
}

int
pgb_version_flyway(const char *s, long long *out)
{
	long long	part[PARTS_MAX] = { 0, 0, 0 };
	size_t		n = 0, digits = 0;

	for (;; s++) {
		if (*s >= '0' && *s <= '9') {
			part[n] = part[n] * 10 + (*s - '0');
			if (part[n] >= PART_LIMIT)
				return -1;
			digits++;
			continue;
		}
		if (digits == 0)
			return -1;
		if (*s == '\0')
			break;
		if ((*s != '.' && *s != '_') || ++n == PARTS_MAX)
			return -1;
		digits = 0;
	}
	*out = part[0] * PART_LIMIT * PART_LIMIT + part[1] * PART_LIMIT +
	    part[2];
	return 0;
}
