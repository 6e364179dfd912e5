/*
 * sum.c - write and check DIR/pgbundle.sum (sum.h).
 *
 * Trusts: the compiled manifest.  Rejects (reports): a sum file line that
 * does not parse, git's conflict markers, and the first line that
 * disagrees with the folder: a migration that changed, was renamed, was
 * removed, or was added before migrations already recorded.  Only the
 * first, since every later chain follows from it.  Migrations after the
 * last recorded one are new, not a disagreement: they are what a build
 * adds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "fileio.h"
#include "hash.h"
#include "sum.h"
#include "banned.h"

/* A sum file is a line per migration; twice the manifest's cap is absurd. */
#define SUM_MAX		PGB_MANIFEST_MAX

static const char header[] = "# pgbundle.sum: VERSION NAME CHAIN, one line "
    "per migration (see 'pgbundle sum')\n";

struct sum_line {
	long long	 version;
	char		 name[PGB_NAME_MAX + 1];
	char		 chain[PGB_HEX256_LEN + 1];
};

void
pgb_sum_render(const struct pgb_manifest *m, struct pgb_buf *out)
{
	char	hex[PGB_HEX256_LEN + 1];
	size_t	i;

	pgb_buf_puts(out, header);
	for (i = 0; i < m->nmigs; i++) {
		pgb_hex(m->migs[i].chain, PGB_SHA256_LEN, hex);
		pgb_buf_printf(out, "%lld %s %s\n", m->migs[i].version,
		    m->migs[i].name[0] != '\0' ? m->migs[i].name : "-", hex);
	}
}

/* Read 'path' whole: 1 and a NUL-terminated buffer, 0 missing, -1 error. */
static int
read_sum(const char *path, char **out, size_t *len, struct pgb_diag *d)
{
	if (pgb_file_read(NULL, path, SUM_MAX, 0, PGB_EINTERNAL, out, len,
	    d) == 0)
		return 1;
	if (errno == ENOENT) {
		pgb_diag_clear(d);
		return 0;
	}
	if (errno == EINVAL)
		return pgb_fail(d, PGB_EINTERNAL, "cannot read '%s': not a "
		    "regular file", path);
	if (errno == EFBIG)
		return pgb_fail(d, PGB_ESOURCE, "'%s' is over %u bytes", path,
		    SUM_MAX);
	return -1;
}

/*
 * Parse "VERSION NAME CHAIN" ('n' bytes at 'p', no newline) into 'sl'.
 * 0, or -1 with what is wrong in 'why'.
 */
static int
parse_line(const char *p, size_t n, struct sum_line *sl, const char **why)
{
	size_t		 i = 0, k;
	const char	*name;

	if (n >= 7 && (strncmp(p, "<<<<<<<", 7) == 0 ||
	    strncmp(p, "=======", 7) == 0 || strncmp(p, ">>>>>>>", 7) == 0 ||
	    strncmp(p, "|||||||", 7) == 0)) {
		*why = "unresolved merge conflict: two branches added "
		    "migrations; keep both branches' migration files, check "
		    "their order, then run 'pgbundle sum --fix'";
		return -1;
	}
	*why = "expected 'VERSION NAME CHAIN' (the file is written by "
	    "'pgbundle build' and 'pgbundle sum --fix')";
	sl->version = 0;
	for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
		if (i == 18)
			return -1;
		sl->version = sl->version * 10 + (p[i] - '0');
	}
	if (i == 0 || i == n || p[i] != ' ')
		return -1;
	name = p + ++i;
	for (k = 0; i < n && p[i] > ' ' && p[i] < 0x7f; i++, k++)
		;
	if (k == 0 || k > PGB_NAME_MAX || i == n || p[i] != ' ' ||
	    n - i - 1 != PGB_HEX256_LEN)
		return -1;
	memcpy(sl->name, name, k);
	sl->name[k] = '\0';
	memcpy(sl->chain, p + i + 1, PGB_HEX256_LEN);
	sl->chain[PGB_HEX256_LEN] = '\0';
	for (k = 0; k < PGB_HEX256_LEN; k++)
		if (strchr("0123456789abcdef", sl->chain[k]) == NULL)
			return -1;
	return 0;
}

/* Report 'msg' about the sum file at 'line' unless 'mode' is FIX. */
static void
finding(const char *path, unsigned line, enum pgb_sum_mode mode,
    struct pgb_report *r, const char *msg)
{
	if (mode == PGB_SUM_CHECK || mode == PGB_SUM_UPDATE)
		pgb_report_add(r, PGB_SEV_ERROR, path, line, NULL, "%s", msg);
}

/*
 * Compare one recorded line with migration 'k'.  0 when they agree,
 * else -1 with the message in 'msg'.
 */
static int
compare_line(const struct sum_line *sl, const struct pgb_manifest *m,
    const struct pgb_scan *s, size_t k, char *msg, size_t len)
{
	const struct pgb_migration *g = &m->migs[k];
	const char	*name = g->name[0] != '\0' ? g->name : "-";
	char		 hex[PGB_HEX256_LEN + 1];
	size_t		 j;

	if (sl->version > g->version) {
		snprintf(msg, len, "'%s' (migration %lld) is missing here, "
		    "before migrations already recorded: it was added out of "
		    "order, or two branches added migrations", s->v[k].up,
		    g->version);
		return -1;
	}
	if (sl->version < g->version) {
		for (j = 0; j < k && m->migs[j].version != sl->version; j++)
			;
		snprintf(msg, len, "migration %lld '%s' is recorded here, but "
		    "%s", sl->version, sl->name, j < k ? "twice" :
		    "no file in the folder has that version any more");
		return -1;
	}
	if (strcmp(sl->name, name) != 0) {
		snprintf(msg, len, "migration %lld is recorded as '%s', but its "
		    "file is now '%s'", g->version, sl->name, s->v[k].up);
		return -1;
	}
	pgb_hex(g->chain, PGB_SHA256_LEN, hex);
	if (strcmp(sl->chain, hex) != 0) {
		snprintf(msg, len, "'%s' (migration %lld '%s') changed after "
		    "pgbundle.sum recorded it: a released migration must not "
		    "change; restore it, or accept the change with 'pgbundle "
		    "sum --fix' (and 'pgapply accept' on the databases that "
		    "ran it)", s->v[k].up, g->version, name);
		return -1;
	}
	return 0;
}

/*
 * Walk the file's lines against the first 'valid' migrations (those that
 * compiled: the chains of the others mean nothing); report the first
 * miss, or the new migrations after the last line.
 */
static void
walk(const char *path, const char *text, size_t len,
    const struct pgb_manifest *m, const struct pgb_scan *s, size_t valid,
    enum pgb_sum_mode mode, struct pgb_report *r)
{
	struct sum_line	 sl;
	const char	*p = text, *nl, *why;
	char		 msg[PGB_LINE_MAX];
	size_t		 n, k = 0;
	unsigned	 line = 0;

	while (p < text + len) {
		nl = memchr(p, '\n', (size_t)(text + len - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(text + len - p);
		line++;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0 || p[0] == '#')
			goto next;
		if (parse_line(p, n, &sl, &why) == -1) {
			finding(path, line, mode, r, why);
			return;
		}
		if (k >= valid && k < m->nmigs)
			return;
		if (k == m->nmigs) {
			snprintf(msg, sizeof(msg), "migration %lld '%s' is "
			    "recorded here, but no file in the folder has that "
			    "version any more", sl.version, sl.name);
			finding(path, line, mode, r, msg);
			return;
		}
		if (compare_line(&sl, m, s, k, msg, sizeof(msg)) == -1) {
			finding(path, line, mode, r, msg);
			return;
		}
		k++;
next:
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	/* New migrations at the end are what a build adds: a note. */
	for (; k < m->nmigs && mode == PGB_SUM_CHECK; k++)
		pgb_report_add(r, PGB_SEV_NOTE, s->v[k].up, 0, NULL, "new "
		    "migration %lld, not yet in pgbundle.sum ('pgbundle build' "
		    "records it; commit pgbundle.sum with it)",
		    m->migs[k].version);
}

int
pgb_sum_recorded(const char *path, long long **v, size_t *n,
    struct pgb_diag *d)
{
	struct sum_line	 sl;
	const char	*p, *nl, *why;
	char		*text = NULL;
	size_t		 len = 0, k;
	int		 rc;

	*v = NULL;
	*n = 0;
	if ((rc = read_sum(path, &text, &len, d)) != 1)
		return rc;
	for (p = text; p < text + len; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(text + len - p));
		k = nl != NULL ? (size_t)(nl - p) : (size_t)(text + len - p);
		if (k > 0 && p[k - 1] == '\r')
			k--;
		if (k > 0 && p[0] != '#' && parse_line(p, k, &sl, &why) == 0) {
			*v = pgb_xreallocarray(*v, *n + 1, sizeof(**v));
			(*v)[(*n)++] = sl.version;
		}
		if (nl == NULL)
			break;
	}
	free(text);
	return 1;
}

int
pgb_sum_compare(const char *path, const struct pgb_manifest *m,
    const struct pgb_scan *s, size_t valid, enum pgb_sum_mode mode,
    struct pgb_report *r, struct pgb_diag *d)
{
	struct pgb_buf	 want;
	char		*text = NULL;
	size_t		 len = 0;
	int		 rc, differs;

	if ((rc = read_sum(path, &text, &len, d)) == -1)
		return -1;
	if (rc == 0) {
		if (mode == PGB_SUM_CHECK)
			pgb_report_add(r, PGB_SEV_NOTE, path, 0, NULL, "no "
			    "pgbundle.sum yet: 'pgbundle build' or 'pgbundle sum "
			    "--fix' writes it (commit it with the migrations)");
		return 1;
	}
	pgb_buf_init(&want);
	pgb_sum_render(m, &want);
	differs = want.len != len || memcmp(want.data, text, len) != 0;
	if (differs && mode != PGB_SUM_FIX)
		walk(path, text, len, m, s, valid, mode, r);
	pgb_buf_release(&want);
	free(text);
	return differs;
}
