/*
 * scan.c - find migration files and pair them by version.
 *
 * Trusts: nothing about the directory; names are parsed strictly.
 * Rejects: names that do not parse, two files with one version (both
 * named), a down script without its up.  Reports them all, not the first.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "buf.h"
#include "scan.h"
#include "banned.h"

/* Room for the widest version we accept: 18 digits fit a long long. */
#define VERSION_DIGITS_MAX	18

static int
ends_with(const char *s, size_t n, const char *suffix)
{
	size_t	k = strlen(suffix);

	return n >= k && strncmp(s + n - k, suffix, k) == 0;
}

static int
is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

int
pgb_scan_name(const char *base, long long *version, size_t *nameoff,
    size_t *namelen, int *is_down)
{
	size_t		n = strlen(base), i, end;
	long long	v = 0;

	if (base[0] == '.' || ends_with(base, n, ".md") ||
	    ends_with(base, n, ".markdown") || strncmp(base, "README", 6) == 0)
		return 0;
	if (!ends_with(base, n, ".sql"))
		return 0;
	*is_down = ends_with(base, n, ".down.sql");
	end = n - (*is_down ? 9 : 4);
	for (i = 0; i < end && base[i] >= '0' && base[i] <= '9'; i++) {
		if (i == VERSION_DIGITS_MAX)
			return -1;
		v = v * 10 + (base[i] - '0');
	}
	if (i == 0 || i >= end || base[i] != '_' || i + 1 == end)
		return -1;
	*nameoff = i + 1;
	for (i = i + 1; i < end; i++)
		if (!is_name_char(base[i]))
			return -1;
	*version = v;
	*namelen = end - *nameoff;
	return 1;
}

static int
cmp_base(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names of the regular files in 'dir'. */
static int
list_dir(const char *dir, char ***out, size_t *n, struct pgb_diag *d)
{
	DIR		*dp;
	struct dirent	*de;
	char		**v = NULL;
	size_t		 k = 0;

	if ((dp = opendir(dir)) == NULL)
		return pgb_fail(d, PGB_EUSAGE, "cannot open migrations directory "
		    "'%s': %s", dir, strerror(errno));
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (k == PGB_MIGRATIONS_MAX * 4) {
			closedir(dp);
			while (k > 0)
				free(v[--k]);
			free(v);
			return pgb_fail(d, PGB_ESOURCE, "'%s' holds more than "
			    "%u files", dir, PGB_MIGRATIONS_MAX * 4);
		}
		v = pgb_xreallocarray(v, k + 1, sizeof(*v));
		v[k++] = pgb_xstrdup(de->d_name);
	}
	closedir(dp);
	if (k > 1)
		qsort(v, k, sizeof(*v), cmp_base);
	*out = v;
	*n = k;
	return 0;
}

static struct pgb_srcmig *
find_version(struct pgb_scan *s, long long version)
{
	size_t	i;

	/* Files arrive sorted by name, so the match is usually the last. */
	for (i = s->n; i > 0; i--)
		if (s->v[i - 1].version == version)
			return &s->v[i - 1];
	return NULL;
}

static char *
join(const char *dir, const char *base)
{
	struct pgb_buf	b;
	size_t		n = strlen(dir);

	pgb_buf_init(&b);
	pgb_buf_puts(&b, dir);
	if (n > 0 && dir[n - 1] != '/')
		pgb_buf_puts(&b, "/");
	pgb_buf_puts(&b, base);
	return pgb_buf_steal(&b, NULL);
}

static int
is_regular(const char *path)
{
	struct stat	st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void
add_file(struct pgb_scan *s, const char *dir, const char *base,
    struct pgb_report *r)
{
	struct pgb_srcmig	*m;
	long long		 version;
	size_t			 off, len;
	int			 down, kind;
	char			*path;

	kind = pgb_scan_name(base, &version, &off, &len, &down);
	if (kind == 0)
		return;
	path = join(dir, base);
	if (!is_regular(path)) {
		free(path);
		return;
	}
	if (kind < 0 || strlen(base) > 100) {
		pgb_report_add(r, PGB_SEV_ERROR, path, 0, NULL,
		    kind < 0 ? "cannot parse migration file name: expected "
		    "NNN_name.sql or NNN_name.down.sql (name: letters, digits, "
		    "'_' and '-')" : "file name is longer than 100 bytes");
		free(path);
		return;
	}
	if ((m = find_version(s, version)) != NULL) {
		const char *other = down ? m->down : m->up;

		if (other != NULL) {
			pgb_report_add(r, PGB_SEV_ERROR, path, 0, NULL,
			    "duplicate version %lld: also used by '%s'",
			    version, other);
			free(path);
			return;
		}
	} else {
		s->v = pgb_xreallocarray(s->v, s->n + 1, sizeof(*s->v));
		m = &s->v[s->n++];
		memset(m, 0, sizeof(*m));
		m->version = version;
		m->name = pgb_xstrndup(base + off, len);
	}
	if (down) {
		m->down = path;
		m->down_base = pgb_xstrdup(base);
	} else {
		m->up = path;
		m->up_base = pgb_xstrdup(base);
		free(m->name);
		m->name = pgb_xstrndup(base + off, len);
	}
}

static void
free_mig(struct pgb_srcmig *m)
{
	free(m->name);
	free(m->up);
	free(m->up_base);
	free(m->down);
	free(m->down_base);
}

/* "001_a.sql" goes with "001_a.down.sql" and nothing else. */
static int
same_stem(const struct pgb_srcmig *m)
{
	size_t	up = strlen(m->up_base) - 4, down = strlen(m->down_base) - 9;

	return up == down && strncmp(m->up_base, m->down_base, up) == 0;
}

static int
cmp_version(const void *a, const void *b)
{
	const struct pgb_srcmig *x = a, *y = b;

	return x->version < y->version ? -1 : x->version > y->version;
}

int
pgb_scan_dir(const char *dir, struct pgb_scan *out, struct pgb_report *r,
    struct pgb_diag *d)
{
	char	**names = NULL;
	size_t	  n = 0, i, j;

	memset(out, 0, sizeof(*out));
	if (list_dir(dir, &names, &n, d) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		add_file(out, dir, names[i], r);
		free(names[i]);
	}
	free(names);

	/* A down script alone is an error; drop it so later stages agree. */
	for (i = j = 0; i < out->n; i++) {
		if (out->v[i].up == NULL) {
			pgb_report_add(r, PGB_SEV_ERROR, out->v[i].down, 0, NULL,
			    "down script without an up migration for version "
			    "%lld", out->v[i].version);
			free_mig(&out->v[i]);
			continue;
		}
		if (out->v[i].down != NULL && !same_stem(&out->v[i]))
			pgb_report_add(r, PGB_SEV_ERROR, out->v[i].down, 0, NULL,
			    "down script name does not match its up script '%s'",
			    out->v[i].up);
		out->v[j++] = out->v[i];
	}
	out->n = j;
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), cmp_version);
	return 0;
}

void
pgb_scan_release(struct pgb_scan *s)
{
	size_t	i;

	for (i = 0; i < s->n; i++)
		free_mig(&s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}
