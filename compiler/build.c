/*
 * build.c - from a migrations folder to a signed bundle on disk.
 *
 * Trusts: nothing in the folder (source.c validates it).  After signing,
 * the bundle is read back through the runtime's own verifier, so the
 * compiler never writes a bundle that pgapply would refuse.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "build.h"
#include "bundle.h"
#include "fileio.h"
#include "keys.h"
#include "manifest.h"
#include "pack.h"
#include "scan.h"
#include "source.h"
#include "sum.h"
#include "banned.h"

/* The project name: --project, else the folder holding 'dir'. */
static void
project_name(const char *dir, const char *given, char *out, size_t len)
{
	char		 real[PATH_MAX], *slash;
	const char	*src = given;
	size_t		 i, k = 0;

	if (src == NULL && realpath(dir, real) != NULL) {
		if ((slash = strrchr(real, '/')) != NULL && slash != real) {
			*slash = '\0';
			src = (slash = strrchr(real, '/')) ? slash + 1 : real;
		}
	}
	for (i = 0; src != NULL && src[i] != '\0' && k + 1 < len && k < 64; i++) {
		char c = src[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')
			out[k++] = c;
	}
	out[k] = '\0';
	if (k == 0 || out[0] == '.')
		snprintf(out, len, "app");
}

int
pgb_now_or_epoch(long long *t, struct pgb_diag *d)
{
	const char	*s = getenv("SOURCE_DATE_EPOCH");
	char		*end;

	if (s == NULL || *s == '\0') {
		*t = (long long)time(NULL);
		return 0;
	}
	errno = 0;
	*t = strtoll(s, &end, 10);
	if (errno || *end != '\0' || *t < 0 || s[0] == '-' || s[0] == '+')
		return pgb_fail(d, PGB_EUSAGE, "SOURCE_DATE_EPOCH '%s' is not "
		    "a number of seconds", s);
	return 0;
}

/* Replace or add the line for 'base' in the SHA256SUMS beside 'path'. */
static int
update_sums(const char *path, const unsigned char *data, size_t len,
    struct pgb_diag *d)
{
	char		 sums[PATH_MAX], hex[PGB_HEX256_LEN + 1];
	const char	*base = strrchr(path, '/');
	unsigned char	 h[PGB_SHA256_LEN];
	struct pgb_buf	 out;
	char		*text;
	const char	*line, *e;
	size_t		 dirlen, tlen, n;
	int		 rc;

	base = base ? base + 1 : path;
	dirlen = (size_t)(base - path);
	if ((size_t)snprintf(sums, sizeof(sums), "%.*sSHA256SUMS", (int)dirlen,
	    path) >= sizeof(sums))
		return pgb_fail(d, PGB_EUSAGE, "path too long: '%s'", path);
	pgb_sha256(data, len, h);
	pgb_hex(h, sizeof(h), hex);
	/* None there, or not a file: a new one.  Too big: not dropped. */
	if (pgb_file_read(NULL, sums, PGB_MANIFEST_MAX, 0, PGB_EINTERNAL,
	    &text, &tlen, d) == -1) {
		if (errno == EFBIG)
			return -1;
		pgb_diag_clear(d);
	}
	pgb_buf_init(&out);
	for (line = text; line != NULL && *line != '\0'; line = e) {
		e = line + strcspn(line, "\n");
		e += *e == '\n';
		n = (size_t)(e - line);
		if (n > 66 && strncmp(line + 66, base, strlen(base)) == 0 &&
		    (line[66 + strlen(base)] == '\n' ||
		    line[66 + strlen(base)] == '\0'))
			continue;
		pgb_buf_append(&out, line, n);
	}
	free(text);
	pgb_buf_printf(&out, "%s  %s\n", hex, base);
	rc = pgb_file_replace(sums, out.data, out.len, 0644, d);
	pgb_buf_release(&out);
	return rc;
}

/* DIR/pgbundle.sum into 'out'. */
static int
sum_path(const char *dir, char *out, size_t len, struct pgb_diag *d)
{
	size_t	n = strlen(dir);

	if ((size_t)snprintf(out, len, "%s%s%s", dir, n > 0 &&
	    dir[n - 1] == '/' ? "" : "/", PGB_SUM_NAME) >= len)
		return pgb_fail(d, PGB_EUSAGE, "path too long: '%s'", dir);
	return 0;
}

/* Write the sum file 'sum' as DIR/pgbundle.sum. */
static int
write_sum(const char *dir, const struct pgb_buf *sum, struct pgb_diag *d)
{
	char	path[PATH_MAX];

	if (sum_path(dir, path, sizeof(path), d) == -1)
		return -1;
	return pgb_file_replace(path, sum->data, sum->len, 0644, d);
}

struct texts {
	struct pgb_buf	*v;
	size_t		 n;
};

/* The versions DIR/pgbundle.sum records: migrations already released. */
struct pgb_released {
	long long	*v;		/* sorted */
	size_t		 n;
	int		 exists;	/* there is a sum file */
};

static void
texts_release(struct texts *t)
{
	size_t	i;

	for (i = 0; i < t->n; i++)
		pgb_buf_release(&t->v[i]);
	free(t->v);
}

/*
 * Compare DIR/pgbundle.sum with the first 'valid' migrations of 'm' as
 * o->sum says; 'sum' gets the text to write when the file must change
 * (and o->sum is not CHECK).
 */
static int
check_sum(const struct pgb_build_opts *o, const struct pgb_manifest *m,
    const struct pgb_scan *s, size_t valid, struct pgb_buf *sum,
    struct pgb_report *r, struct pgb_diag *d)
{
	char	path[PATH_MAX];
	int	rc;

	if (sum_path(o->dir, path, sizeof(path), d) == -1)
		return -1;
	if ((rc = pgb_sum_compare(path, m, s, valid, o->sum, r, d)) == -1)
		return -1;
	if (rc == 1 && o->sum != PGB_SUM_CHECK)
		pgb_sum_render(m, sum);
	return 0;
}

static int
cmp_ll(const void *a, const void *b)
{
	long long	x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/*
 * The released versions: those DIR/pgbundle.sum records, sorted, when
 * o->sum reads it.  0 (none when there is no file), or -1.
 */
static int
released(const struct pgb_build_opts *o, struct pgb_released *rel,
    struct pgb_diag *d)
{
	char	path[PATH_MAX];
	int	rc;

	memset(rel, 0, sizeof(*rel));
	if (o->sum == PGB_SUM_IGNORE)
		return 0;
	if (sum_path(o->dir, path, sizeof(path), d) == -1 ||
	    (rc = pgb_sum_recorded(path, &rel->v, &rel->n, d)) == -1)
		return -1;
	rel->exists = rc == 1;
	if (rel->n > 1)
		qsort(rel->v, rel->n, sizeof(*rel->v), cmp_ll);
	return 0;
}

static int
is_released(const struct pgb_released *rel, long long version)
{
	return rel->n > 0 && bsearch(&version, rel->v, rel->n,
	    sizeof(*rel->v), cmp_ll) != NULL;
}

/*
 * Compile the files that share a version with another (scan.c reported
 * them) for their own problems; nothing of them is kept.
 */
static void
compile_dups(const struct pgb_scan *s, const struct pgb_source_opts *so,
    struct pgb_report *r)
{
	struct pgb_tableset	seen = { NULL, 0 };
	struct pgb_manifest	one;
	struct pgb_buf		up, down;
	size_t			i;

	for (i = 0; i < s->ndups; i++) {
		pgb_buf_init(&up);
		pgb_buf_init(&down);
		pgb_manifest_init(&one);
		one.migs = pgb_xcalloc(1, sizeof(*one.migs));
		one.nmigs = 1;
		pgb_source_compile(&s->dups[i], so, &seen, &one.migs[0], &up,
		    &down, r);
		pgb_manifest_release(&one);
		pgb_buf_release(&up);
		pgb_buf_release(&down);
	}
	pgb_tableset_release(&seen);
}

/*
 * Compile migration 'i' of 's' into m->migs[i]; a released one is not
 * linted unless o->lint_all.  Returns its number of errors.
 */
static size_t
compile_one(const struct pgb_build_opts *o, const struct pgb_scan *s,
    size_t i, const struct pgb_source_opts *so, struct pgb_tableset *seen,
    const struct pgb_released *rel, struct pgb_manifest *m, struct texts *t,
    struct pgb_build_result *res, struct pgb_report *r)
{
	size_t	from = r->n, errors;

	pgb_buf_init(&t->v[2 * i]);
	pgb_buf_init(&t->v[2 * i + 1]);
	errors = pgb_source_compile(&s->v[i], so, seen, &m->migs[i],
	    &t->v[2 * i], &t->v[2 * i + 1], r);
	m->nmigs++;
	if (!is_released(rel, s->v[i].version)) {
		if (rel->exists)
			res->nnew++;
	} else if (!o->lint_all) {
		pgb_report_drop_lint(r, from);
		res->unlinted++;
	}
	return errors;
}

/*
 * Compile every migration into 'm'; texts[2i] up, texts[2i+1] down.
 * 'sum' gets the sum file's new text when it must be written.
 */
static int
compile_all(const struct pgb_build_opts *o, struct pgb_manifest *m,
    struct texts *t, struct pgb_buf *sum, struct pgb_build_result *res,
    struct pgb_report *r, struct pgb_diag *d)
{
	struct pgb_scan		s;
	struct pgb_tableset	seen = { NULL, 0 };
	struct pgb_source_opts	so;
	struct pgb_released	rel;
	unsigned char		prev[PGB_SHA256_LEN];
	size_t			i, valid;
	int			rc = -1;

	if (pgb_scan_dir(o->dir, o->layout, &s, r, d) == -1)
		return -1;
	snprintf(res->layout, sizeof(res->layout), "%s",
	    pgb_layout_label(s.layout));
	if (s.n == 0 && r->nerrors == 0) {
		pgb_scan_release(&s);
		return pgb_fail(d, PGB_ESOURCE, "no migrations in '%s' (expected "
		    "files named NNN_name.sql)", o->dir);
	}
	if (s.n > PGB_MIGRATIONS_MAX) {
		pgb_scan_release(&s);
		return pgb_fail(d, PGB_ESOURCE, "more than %u migrations",
		    PGB_MIGRATIONS_MAX);
	}
	if (released(o, &rel, d) == -1) {
		pgb_scan_release(&s);
		return -1;
	}
	memset(&so, 0, sizeof(so));
	so.include_root = o->include_root;
	so.layout = s.layout;
	so.scan = &s;
	m->migs = pgb_xcalloc(s.n, sizeof(*m->migs));
	t->v = pgb_xcalloc(2 * s.n, sizeof(*t->v));
	t->n = 2 * s.n;
	memset(prev, 0, sizeof(prev));
	valid = s.n;
	for (i = 0; i < s.n; i++) {
		if (compile_one(o, &s, i, &so, &seen, &rel, m, t, res, r) > 0 &&
		    valid == s.n)
			valid = i;
		pgb_chain(prev, m->migs[i].version, m->migs[i].up.sha256,
		    m->migs[i].chain);
		memcpy(prev, m->migs[i].chain, sizeof(prev));
		/* A baseline stands alone for the versions it replaces. */
		if (i > 0 && m->migs[i].baseline &&
		    m->migs[i - 1].version >= m->migs[i].baseline_first)
			pgb_report_add(r, PGB_SEV_ERROR, s.v[i].up, 0, NULL,
			    "baseline of %lld..%lld, but '%s' is still here: "
			    "move the migrations it replaces out of the folder",
			    m->migs[i].baseline_first, m->migs[i].version,
			    s.v[i - 1].up);
	}
	compile_dups(&s, &so, r);
	/* Every problem of the run: the sum file too, as far as it compiled. */
	if (o->sum != PGB_SUM_IGNORE && s.n > 0 &&
	    check_sum(o, m, &s, valid, sum, r, d) == -1)
		goto out;
	if (pgb_report_failures(r) > 0) {
		pgb_fail(d, PGB_ESOURCE, "%zu problem%s in '%s'",
		    pgb_report_failures(r), pgb_report_failures(r) == 1 ? "" :
		    "s", o->dir);
		goto out;
	}
	rc = 0;
out:
	free(rel.v);
	pgb_tableset_release(&seen);
	pgb_scan_release(&s);
	return rc;
}

static void
default_path(const struct pgb_manifest *m, char *out, size_t len)
{
	snprintf(out, len, "bundles/%s%s%s-%lld.pgb", m->project,
	    m->target ? "-" : "", m->target ? m->target : "",
	    m->migs[m->nmigs - 1].version);
}

/*
 * Sign, then read the bundle back through the runtime's verifier.  An
 * unsigned bundle read back goes to *keep when 'keep' is not NULL.
 */
static int
sign_and_verify(const struct pgb_build_opts *o, const struct pgb_buf *bundle,
    unsigned char sig[PGB_SIG_LEN], struct pgb_build_result *res,
    struct pgb_bundle **keep, struct pgb_diag *d)
{
	struct pgb_pubkey	 pub;
	struct pgb_bundle	*b = NULL;
	char			 id[PGB_KEYID_LEN + 1];
	int			 rc;

	if (o->key == NULL) {
		if (pgb_bundle_load((const unsigned char *)bundle->data,
		    bundle->len, NULL, 0, NULL, 0, 1, o->target, &b, d) == -1)
			return -1;
		if (keep != NULL)
			*keep = b;
		else
			pgb_bundle_free(b);
		return 0;
	}
	if (pgb_keys_sign(o->key, bundle->data, bundle->len, sig, id, d) == -1)
		return -1;
	if (pgb_keys_load_public(o->key, &pub, d) == -1)
		return -1;
	rc = pgb_bundle_load((const unsigned char *)bundle->data, bundle->len,
	    sig, PGB_SIG_LEN, &pub, 1, 0, o->target, &b, d);
	pgb_bundle_free(b);
	pgb_pubkey_release(&pub);
	if (rc == -1) {
		d->code = PGB_EINTERNAL;
		return -1;
	}
	memcpy(res->key_id, id, sizeof(res->key_id));
	return 0;
}

/*
 * Whether the bundle at 'path' gets a SHA256SUMS line: asked for with
 * --sums, or the folder is named "bundles" (the default -o), a folder
 * of releases.  A shared folder (/tmp, a home folder) never grows one.
 * Called once the folder exists.
 */
static int
wants_sums(const char *path, int asked)
{
	char		 dir[PATH_MAX], real[PATH_MAX];
	const char	*slash = strrchr(path, '/'), *base;

	if (asked)
		return 1;
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if ((size_t)snprintf(dir, sizeof(dir), "%.*s",
	    (int)(slash - path + 1), path) >= sizeof(dir))
		return 0;
	if (realpath(dir, real) == NULL)
		return 0;
	base = strrchr(real, '/');
	return strcmp(base ? base + 1 : real, "bundles") == 0;
}

static int
write_outputs(const char *path, const struct pgb_buf *bundle,
    const unsigned char *sig, int sums, struct pgb_diag *d)
{
	char		 sigpath[PATH_MAX], dir[PATH_MAX];
	const char	*slash;

	if ((size_t)snprintf(sigpath, sizeof(sigpath), "%s.sig", path) >=
	    sizeof(sigpath))
		return pgb_fail(d, PGB_EUSAGE, "path too long: '%s'", path);
	if ((slash = strrchr(path, '/')) != NULL && slash != path) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
		if (pgb_file_mkdirs(dir, d) == -1)
			return -1;
	}
	if (pgb_file_replace(path, bundle->data, bundle->len, 0644, d) == -1)
		return -1;
	if (sig != NULL) {
		if (pgb_file_replace(sigpath, sig, PGB_SIG_LEN, 0644, d) == -1)
			return -1;
	} else if (unlink(sigpath) == -1 && errno != ENOENT)
		return pgb_fail(d, PGB_EINTERNAL, "cannot remove stale '%s': %s",
		    sigpath, strerror(errno));
	if (!wants_sums(path, sums))
		return 0;
	return update_sums(path, (const unsigned char *)bundle->data,
	    bundle->len, d);
}

static int
build(const struct pgb_build_opts *o, struct pgb_report *r,
    struct pgb_build_result *res, struct pgb_bundle **keep,
    struct pgb_diag *d)
{
	struct pgb_manifest	 m;
	struct texts		 t = { NULL, 0 };
	struct pgb_pack_entry	*e = NULL;
	struct pgb_buf		 man, bundle, sum;
	struct pgb_pubkey	 pub;
	unsigned char		 sig[PGB_SIG_LEN];
	char			 project[72];
	size_t			 i, ne = 0;
	long long		 mtime;
	int			 rc = -1;

	memset(res, 0, sizeof(*res));
	pgb_manifest_init(&m);
	pgb_buf_init(&man);
	pgb_buf_init(&bundle);
	pgb_buf_init(&sum);
	if (o->key == NULL && !o->unsigned_ok && !o->sum_only)
		return pgb_fail(d, PGB_EUSAGE, "no signing key: pass --key KEY "
		    "(or --unsigned to build an unsigned bundle)");
	if (pgb_now_or_epoch(&m.created, d) == -1)
		return -1;
	mtime = getenv("SOURCE_DATE_EPOCH") ? m.created : 0;
	if (compile_all(o, &m, &t, &sum, res, r, d) == -1)
		goto out;
	if (o->sum_only) {
		if (sum.len > 0 && write_sum(o->dir, &sum, d) == -1)
			goto out;
		res->sum_written = sum.len > 0;
		res->nmigs = m.nmigs;
		res->last = m.migs[m.nmigs - 1].version;
		rc = 0;
		goto out;
	}
	m.format = PGB_FORMAT_VERSION;
	project_name(o->dir, o->project, project, sizeof(project));
	m.project = pgb_xstrdup(project);
	m.target = o->target ? pgb_xstrdup(o->target) : NULL;
	m.compiler = pgb_xstrdup("pgbundle " PGB_VERSION);
	if (o->key != NULL || o->signer != NULL) {
		/* The key that signs, or that will sign (--signer). */
		if ((o->key != NULL ? pgb_keys_load_public(o->key, &pub, d) :
		    pgb_pubkey_load(o->signer, &pub, d)) == -1)
			goto out;
		m.key_id = pgb_xstrdup(pub.id);
		memcpy(res->signer, pub.id, sizeof(res->signer));
		pgb_pubkey_release(&pub);
	} else
		m.key_id = pgb_xstrdup("unsigned");
	pgb_manifest_write(&m, &man);

	e = pgb_xcalloc(2 * m.nmigs + 1, sizeof(*e));
	e[ne].name = PGB_MANIFEST_NAME;
	e[ne].data = man.data;
	e[ne++].len = man.len;
	for (i = 0; i < m.nmigs; i++) {
		e[ne].name = m.migs[i].up.path;
		e[ne].data = t.v[2 * i].data ? t.v[2 * i].data : "";
		e[ne++].len = t.v[2 * i].len;
		res->nstmts += m.migs[i].up.nstmts;
		if (!m.migs[i].has_down)
			continue;
		e[ne].name = m.migs[i].down.path;
		e[ne].data = t.v[2 * i + 1].data ? t.v[2 * i + 1].data : "";
		e[ne++].len = t.v[2 * i + 1].len;
	}
	if (pgb_pack(e, ne, mtime, &bundle, d) == -1)
		goto out;
	if (bundle.len > PGB_BUNDLE_MAX) {
		pgb_fail(d, PGB_ESOURCE, "bundle would be %zu bytes, over the "
		    "limit of %u", bundle.len, PGB_BUNDLE_MAX);
		goto out;
	}
	if (sign_and_verify(o, &bundle, sig, res, keep, d) == -1)
		goto out;
	if (o->out != NULL)
		snprintf(res->path, sizeof(res->path), "%s", o->out);
	else
		default_path(&m, res->path, sizeof(res->path));
	if (o->write && write_outputs(res->path, &bundle,
	    o->key ? sig : NULL, o->sums, d) == -1)
		goto out;
	if (o->write && sum.len > 0) {
		if (write_sum(o->dir, &sum, d) == -1)
			goto out;
		res->sum_written = 1;
	}
	if (o->key == NULL)
		snprintf(res->key_id, sizeof(res->key_id), "unsigned");
	memcpy(res->bundle_id, m.bundle_id, sizeof(res->bundle_id));
	res->nmigs = m.nmigs;
	res->size = bundle.len;
	res->last = m.migs[m.nmigs - 1].version;
	rc = 0;
out:
	if (rc == -1 && keep != NULL && *keep != NULL) {
		pgb_bundle_free(*keep);
		*keep = NULL;
	}
	free(e);
	pgb_buf_release(&sum);
	pgb_buf_release(&bundle);
	pgb_buf_release(&man);
	texts_release(&t);
	pgb_manifest_release(&m);
	return rc;
}

int
pgb_build(const struct pgb_build_opts *o, struct pgb_report *r,
    struct pgb_build_result *res, struct pgb_diag *d)
{
	return build(o, r, res, NULL, d);
}

int
pgb_build_bundle(const struct pgb_build_opts *o, struct pgb_report *r,
    struct pgb_build_result *res, struct pgb_bundle **out,
    struct pgb_diag *d)
{
	struct pgb_build_opts	mem = *o;

	*out = NULL;
	mem.key = NULL;
	mem.unsigned_ok = 1;
	mem.write = 0;
	return build(&mem, r, res, out, d);
}
