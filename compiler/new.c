/*
 * new.c - pgbundle new NAME [DIR]: write the folder's next migration and
 * an empty down script.
 *
 * Trusts: scan.c's reading of the folder.  Rejects: a name that is not
 * letters, digits, '_' and '-'; a folder with problems (two layouts, a
 * name that does not parse, a duplicate version), since the next number
 * would be a guess; any file that exists already (pgb_file_create()
 * overwrites nothing).
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "buf.h"
#include "build.h"
#include "fileio.h"
#include "new.h"
#include "report.h"
#include "scan.h"
#include "banned.h"

#define TS_DIGITS	14		/* YYYYMMDDHHMMSS */
#define FLYWAY_MAJOR	1000000000000LL	/* V1 is 10^12 (version.h) */
#define SEQ_WIDTH	3		/* 001: a folder's first migration */

/* How the folder numbers its migrations. */
struct numbering {
	int	 timestamp;	/* YYYYMMDDHHMMSS */
	int	 width;		/* digits of a sequential number */
};

static int
name_ok(const char *s)
{
	size_t	n = strlen(s), i;

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

/* The digits of 'base' that hold its version (after flyway's 'V'). */
static size_t
version_digits(const char *base, enum pgb_layout layout)
{
	if (layout == PGB_LAYOUT_FLYWAY)
		base++;
	return strspn(base, "0123456789");
}

/* Does the 14-digit 'v' read as a date and time? */
static int
is_timestamp(long long v)
{
	int	mon = (int)(v / 100000000 % 100), day = (int)(v / 1000000 % 100);
	int	hour = (int)(v / 10000 % 100), min = (int)(v / 100 % 100);
	long long year = v / 10000000000LL;

	return year >= 1970 && year <= 2999 && mon >= 1 && mon <= 12 &&
	    day >= 1 && day <= 31 && hour < 24 && min < 60 && v % 100 < 61;
}

static void
numbering_of(const struct pgb_scan *s, struct numbering *nb)
{
	const struct pgb_srcmig	*last = s->n ? &s->v[s->n - 1] : NULL;
	size_t			 w;

	nb->timestamp = s->layout == PGB_LAYOUT_DIESEL ||
	    (last == NULL && s->layout == PGB_LAYOUT_DBMATE);
	nb->width = SEQ_WIDTH;
	if (last == NULL || s->layout == PGB_LAYOUT_DIESEL)
		return;
	w = version_digits(last->up_base, s->layout);
	if (s->layout != PGB_LAYOUT_FLYWAY && w == TS_DIGITS &&
	    is_timestamp(last->version))
		nb->timestamp = 1;
	nb->width = (int)w;
}

/*
 * The next version, and its digits as the file name spells them: a
 * timestamp (diesel's as YYYY-MM-DD-HHMMSS), else the number padded to
 * the folder's width.
 */
static void
next_version(const struct pgb_scan *s, const struct numbering *nb,
    long long now, long long *v, char *digits, size_t len)
{
	long long	 last = s->n ? s->v[s->n - 1].version : 0;
	time_t		 t = (time_t)now;
	struct tm	 tm;
	char		 ts[32];

	if (nb->timestamp) {
		gmtime_r(&t, &tm);
		strftime(ts, sizeof(ts), "%Y%m%d%H%M%S", &tm);
		*v = strtoll(ts, NULL, 10);
		if (*v <= last)
			*v = last + 1;
		snprintf(ts, sizeof(ts), "%014lld", *v);
		if (s->layout == PGB_LAYOUT_DIESEL)
			snprintf(digits, len, "%.4s-%.2s-%.2s-%.6s", ts,
			    ts + 4, ts + 6, ts + 8);
		else
			snprintf(digits, len, "%s", ts);
		return;
	}
	if (s->layout == PGB_LAYOUT_FLYWAY) {
		*v = (s->n ? last / FLYWAY_MAJOR + 1 : 1) * FLYWAY_MAJOR;
		snprintf(digits, len, "%0*lld", nb->width,
		    *v / FLYWAY_MAJOR);
		return;
	}
	*v = s->n ? last + 1 : 1;
	snprintf(digits, len, "%0*lld", nb->width, *v);
}

/* Fill res->up and res->down with the paths the layout gives. */
static int
paths(const struct pgb_new_opts *o, enum pgb_layout layout,
    const char *digits, struct pgb_new_result *res, char *folder,
    size_t len, struct pgb_diag *d)
{
	const char	*sep = o->dir[strlen(o->dir) - 1] == '/' ? "" : "/";
	int		 a, b = 0;

	folder[0] = '\0';
	switch (layout) {
	case PGB_LAYOUT_GOLANG:
		a = snprintf(res->up, sizeof(res->up), "%s%s%s_%s.up.sql",
		    o->dir, sep, digits, o->name);
		b = snprintf(res->down, sizeof(res->down),
		    "%s%s%s_%s.down.sql", o->dir, sep, digits, o->name);
		break;
	case PGB_LAYOUT_FLYWAY:
		a = snprintf(res->up, sizeof(res->up), "%s%sV%s__%s.sql",
		    o->dir, sep, digits, o->name);
		b = snprintf(res->down, sizeof(res->down), "%s%sU%s__%s.sql",
		    o->dir, sep, digits, o->name);
		break;
	case PGB_LAYOUT_DBMATE:
		a = snprintf(res->up, sizeof(res->up), "%s%s%s_%s.sql",
		    o->dir, sep, digits, o->name);
		res->down[0] = '\0';
		break;
	case PGB_LAYOUT_DIESEL:
		a = snprintf(folder, len, "%s%s%s_%s", o->dir, sep, digits,
		    o->name);
		if (a > 0 && (size_t)a < len)
			a = snprintf(res->up, sizeof(res->up), "%s/up.sql",
			    folder);
		b = snprintf(res->down, sizeof(res->down), "%s/down.sql",
		    folder);
		break;
	default:
		a = snprintf(res->up, sizeof(res->up), "%s%s%s_%s.sql",
		    o->dir, sep, digits, o->name);
		b = snprintf(res->down, sizeof(res->down),
		    "%s%s%s_%s.down.sql", o->dir, sep, digits, o->name);
		break;
	}
	if (a < 0 || (size_t)a >= sizeof(res->up) || b < 0 ||
	    (size_t)b >= sizeof(res->down))
		return pgb_fail(d, PGB_EUSAGE, "path too long in '%s'", o->dir);
	return 0;
}

/* The files, or none of them. */
static int
write_files(const struct pgb_new_result *res, const char *folder,
    struct pgb_diag *d)
{
	const char	*up = res->layout == PGB_LAYOUT_DBMATE ?
	    "-- migrate:up\n\n-- migrate:down\n" : "";

	if (folder[0] != '\0' && mkdir(folder, 0755) == -1)
		return pgb_fail(d, errno == EEXIST ? PGB_EUSAGE : PGB_EINTERNAL,
		    "cannot make '%s': %s", folder, strerror(errno));
	if (pgb_file_create(res->up, up, strlen(up), 0644, d) == -1)
		goto undo;
	if (res->down[0] == '\0' || pgb_file_create(res->down, "", 0, 0644,
	    d) == 0)
		return 0;
	unlink(res->up);
undo:
	if (folder[0] != '\0')
		rmdir(folder);
	return -1;
}

/* The folder's first problem, as "file:line: message". */
static int
folder_problem(const char *dir, const struct pgb_report *r,
    struct pgb_diag *d)
{
	size_t	i;

	for (i = 0; i < r->n && r->v[i].sev != PGB_SEV_ERROR; i++)
		;
	pgb_fail(d, PGB_ESOURCE, "'%s' has problems, so its next number "
	    "would be a guess: fix them first ('pgbundle check %s')", dir, dir);
	if (i < r->n)
		pgb_detail(d, "%s:%u: %s", r->v[i].file, r->v[i].line ?
		    r->v[i].line : 1, r->v[i].msg);
	return -1;
}

int
pgb_new(const struct pgb_new_opts *o, struct pgb_new_result *res,
    struct pgb_diag *d)
{
	struct pgb_scan		s;
	struct pgb_report	r;
	struct numbering	nb;
	char			digits[32], folder[PATH_MAX];
	int			rc = -1;

	memset(res, 0, sizeof(*res));
	if (!name_ok(o->name))
		return pgb_fail(d, PGB_EUSAGE, "migration name '%s': use 1 to "
		    "64 letters, digits, '_' and '-'", o->name);
	if (o->dir[0] == '\0')
		return pgb_fail(d, PGB_EUSAGE, "no migrations folder given");
	pgb_report_init(&r, 0);
	if (pgb_scan_dir(o->dir, o->layout, &s, &r, d) == -1) {
		pgb_report_release(&r);
		return -1;
	}
	if (r.nerrors > 0) {
		folder_problem(o->dir, &r, d);
		goto out;
	}
	res->layout = s.layout;
	numbering_of(&s, &nb);
	next_version(&s, &nb, o->now, &res->version, digits, sizeof(digits));
	if (paths(o, s.layout, digits, res, folder, sizeof(folder), d) == -1 ||
	    write_files(res, folder, d) == -1)
		goto out;
	rc = 0;
out:
	pgb_scan_release(&s);
	pgb_report_release(&r);
	return rc;
}
