/*
 * test_bundle.c - pgb_bundle_open/pgb_bundle_load against the valid
 * bundle and every hostile fixture of tests/gen-hostile.pl (one test
 * case each), plus bundles built here with pgb_manifest_write and
 * pgb_keys_sign.  Run from the top of the tree (it reads tests/data/keys
 * and runs the generator into a temporary directory).
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>

#include "bounds.h"
#include "buf.h"
#include "bundle.h"
#include "diag.h"
#include "fileio.h"
#include "hash.h"
#include "keys.h"
#include "manifest.h"
#include "sig.h"
#include "banned.h"

#define KEYS	"tests/data/keys/"

struct fixture {
	char	name[64];
	char	expect[256];	/* "" : must be accepted */
};

static char		 dir[] = "/tmp/pgb-test-bundle-XXXXXX";
static struct fixture	*fixtures;
static size_t		 nfixtures;

static char *
fixture_path(const char *name, const char *ext)
{
	struct pgb_buf	b;

	pgb_buf_init(&b);
	pgb_buf_printf(&b, "%s/%s%s", dir, name, ext);
	return pgb_buf_steal(&b, NULL);
}

static int
open_fixture(const char *name, int allow_unsigned, const char *target,
    struct pgb_bundle **b, struct pgb_diag *d)
{
	struct pgb_bundle_opts	 o;
	const char		*keys[1];
	char			*path, *pub;
	struct stat		 st;
	int			 rc;

	path = fixture_path(name, ".pgb");
	pub = fixture_path(name, ".pub");
	keys[0] = stat(pub, &st) == 0 ? pub : KEYS "test.pub";
	memset(&o, 0, sizeof(o));
	o.path = path;
	o.pubkeys = keys;
	o.npubkeys = 1;
	o.allow_unsigned = allow_unsigned;
	o.expect_target = target;
	pgb_diag_clear(d);
	rc = pgb_bundle_open(&o, b, d);
	free(path);
	free(pub);
	return rc;
}

/* One generated fixture: accepted when 'expect' is empty, else refused. */
static void
test_bundle_fixture(void **state)
{
	const struct fixture	*f = *state;
	struct pgb_bundle	*b = NULL;
	struct pgb_diag		 d;
	int			 rc;

	rc = open_fixture(f->name, 0, NULL, &b, &d);
	if (f->expect[0] == '\0') {
		if (rc != 0)
			print_error("%s: %s (%s)\n", f->name, d.msg, d.detail);
		assert_int_equal(rc, 0);
		assert_non_null(b);
		pgb_bundle_free(b);
		return;
	}
	if (rc != -1 || strstr(d.msg, f->expect) == NULL)
		print_error("%s: got '%s', want '%s'\n", f->name,
		    rc == 0 ? "(accepted)" : d.msg, f->expect);
	assert_int_equal(rc, -1);
	assert_null(b);
	assert_true(d.code == PGB_EBUNDLE || d.code == PGB_EKEY);
	assert_non_null(strstr(d.msg, f->expect));
}

/* The generator keeps writing every kind of fixture the runtime refuses. */
static void
test_bundle_fixture_list(void **state)
{
	static const char *const need[] = {
		"valid", "dotdot-entry", "abs-path", "dot-slash",
		"double-slash", "control-char-name", "long-name", "symlink",
		"hardlink", "device", "fifo", "directory", "dup-name",
		"extra-entry", "missing-entry", "size-mismatch",
		"content-changed", "manifest-altered", "gzip-bomb",
		"ratio-bomb", "truncated-gzip", "altered-after-signing",
		"altered-sig", "other-key", "unsigned", "sig-empty", "sig-63",
		"sig-65", "sig-hex", "identity-key", "oversize-bundle",
		"gnu-longname-manifest", "gnu-longlink", "volume-header",
		"type-Z", "type-7", "type-N", "eoa-none", "eoa-one-block",
		"size-base256", "checksum-signed",
	};
	size_t	i, j;

	(void)state;
	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		for (j = 0; j < nfixtures; j++) {
			if (strcmp(fixtures[j].name, need[i]) == 0)
				break;
		}
		if (j == nfixtures)
			print_error("fixture '%s' missing\n", need[i]);
		assert_true(j < nfixtures);
	}
}

static void
test_bundle_valid_contents(void **state)
{
	struct pgb_bundle		*b;
	struct pgb_diag			 d;
	const struct pgb_manifest	*m;
	const struct pgb_script		*sc;
	const struct pgb_stmt		*st;
	unsigned char			 sha[PGB_SHA256_LEN];

	(void)state;
	assert_int_equal(open_fixture("valid", 0, "prod", &b, &d), 0);
	m = &b->manifest;
	assert_string_equal(b->key_id, "18ea5e58fa22921e");
	assert_int_equal(b->filelen, 877);
	assert_string_equal(m->project, "demo");
	assert_string_equal(m->target, "prod");
	assert_int_equal(m->nmigs, 2);
	assert_int_equal(m->migs[0].version, 1);
	assert_string_equal(m->migs[0].name, "create_users");
	sc = &m->migs[0].up;
	assert_non_null(sc->text);
	pgb_sha256(sc->text, sc->size, sha);
	assert_memory_equal(sha, sc->sha256, PGB_SHA256_LEN);
	assert_int_equal(sc->text[sc->size], '\0');
	assert_int_equal(sc->nstmts, 2);
	st = &sc->stmts[1];
	assert_true(st->is_copy);
	assert_memory_equal(sc->text + st->off,
	    "COPY users (id, email) FROM stdin;", st->len);
	assert_memory_equal(sc->text + st->copy_off, "1\talice@", 8);
	assert_true(m->migs[0].has_down);
	assert_memory_equal(m->migs[0].down.text, "DROP TABLE users;\n", 18);
	assert_int_equal(m->migs[0].nverify, 1);
	assert_int_equal(m->migs[1].up.mode, PGB_MODE_NOTX);
	assert_string_equal(m->migs[1].up.stmts[0].index, "users_email_idx");
	assert_null(m->migs[1].down.text);
	pgb_bundle_free(b);
}

static void
test_bundle_unsigned_allowed(void **state)
{
	struct pgb_bundle	*b;
	struct pgb_diag		 d;

	(void)state;
	assert_int_equal(open_fixture("unsigned", 1, NULL, &b, &d), 0);
	assert_string_equal(b->key_id, "");
	pgb_bundle_free(b);
	/* A signature that exists must verify, even when unsigned is allowed. */
	assert_int_equal(open_fixture("other-key", 1, NULL, &b, &d), -1);
	assert_string_equal(d.msg, "signature does not match any trusted key");
	assert_int_equal(open_fixture("sig-63", 1, NULL, &b, &d), -1);
	assert_int_equal(open_fixture("unsigned", 0, NULL, &b, &d), -1);
	assert_non_null(strstr(d.msg, "unsigned.pgb.sig'); pass "
	    "--insecure-allow-unsigned to accept it"));
}

static void
test_bundle_target(void **state)
{
	struct pgb_bundle	*b;
	struct pgb_diag		 d;

	(void)state;
	assert_int_equal(open_fixture("valid", 0, "staging", &b, &d), -1);
	assert_int_equal(d.code, PGB_EBUNDLE);
	assert_string_equal(d.msg, "bundle is for target 'prod', expected "
	    "'staging'");
	assert_null(b);
}

static void
test_bundle_key_choice(void **state)
{
	struct pgb_bundle_opts	 o;
	struct pgb_bundle	*b;
	struct pgb_diag		 d;
	const char		*keys[PGB_KEYS_MAX + 1];
	char			*path, *pem;
	size_t			 i, len;

	(void)state;
	path = fixture_path("valid", ".pgb");
	assert_int_equal(pgb_file_read("key", KEYS "test.pub", 4096, 0,
	    PGB_EKEY, &pem, &len, &d), 0);
	memset(&o, 0, sizeof(o));
	o.path = path;
	o.pubkeys = keys;

	/* Rotation: the second key verifies; PEM text works as a key. */
	keys[0] = KEYS "other.pub";
	keys[1] = pem;
	o.npubkeys = 2;
	assert_int_equal(pgb_bundle_open(&o, &b, &d), 0);
	assert_string_equal(b->key_id, "18ea5e58fa22921e");
	pgb_bundle_free(b);

	/* The wrong key alone: the ids tried are in the detail. */
	o.npubkeys = 1;
	assert_int_equal(pgb_bundle_open(&o, &b, &d), -1);
	assert_string_equal(d.msg, "signature does not match any trusted key");
	assert_non_null(strstr(d.detail, "5a18bdbf2bbb9966"));

	/* No key for a signed bundle. */
	o.npubkeys = 0;
	assert_int_equal(pgb_bundle_open(&o, &b, &d), -1);
	assert_int_equal(d.code, PGB_EBUNDLE);
	assert_non_null(strstr(d.msg, "pass --pubkey or set PGAPPLY_PUBKEY"));

	/* Keys that cannot be used are PGB_EKEY, before the bundle is read. */
	keys[0] = KEYS "test.key";
	o.npubkeys = 1;
	assert_int_equal(pgb_bundle_open(&o, &b, &d), -1);
	assert_int_equal(d.code, PGB_EKEY);
	assert_non_null(strstr(d.msg, "is a private key"));
	keys[0] = KEYS "rsa.pub";
	assert_int_equal(pgb_bundle_open(&o, &b, &d), -1);
	assert_int_equal(d.code, PGB_EKEY);
	for (i = 0; i < PGB_KEYS_MAX + 1; i++)
		keys[i] = KEYS "test.pub";
	o.npubkeys = PGB_KEYS_MAX + 1;
	assert_int_equal(pgb_bundle_open(&o, &b, &d), -1);
	assert_int_equal(d.code, PGB_EKEY);
	assert_non_null(strstr(d.msg, "too many trusted keys"));
	free(pem);
	free(path);
}

static void
test_bundle_paths(void **state)
{
	struct pgb_bundle_opts	 o;
	struct pgb_bundle	*b;
	struct pgb_diag		 d;
	const char		*keys[1] = { KEYS "test.pub" };
	const char		*sigs[1];
	char			*path, *sig;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.pubkeys = keys;
	o.npubkeys = 1;

	o.path = dir;
	assert_int_equal(pgb_bundle_open(&o, &b, &d), -1);
	assert_non_null(strstr(d.msg, "is not a regular file"));

	o.path = "tests/data/no-such.pgb";
	assert_int_equal(pgb_bundle_open(&o, &b, &d), -1);
	assert_string_equal(d.msg, "cannot read bundle 'tests/data/no-such.pgb':"
	    " No such file or directory");

	/* An explicit signature path must exist; it may be anywhere. */
	path = fixture_path("unsigned", ".pgb");
	sig = fixture_path("valid", ".pgb.sig");
	o.path = path;
	sigs[0] = sig;
	o.sigpaths = sigs;
	o.nsigpaths = 1;
	assert_int_equal(pgb_bundle_open(&o, &b, &d), 0);
	pgb_bundle_free(b);
	sigs[0] = "tests/data/no-such.sig";
	o.allow_unsigned = 1;
	assert_int_equal(pgb_bundle_open(&o, &b, &d), -1);
	assert_non_null(strstr(d.msg, "cannot read signature"));
	free(path);
	free(sig);
}

/* The gzip and ratio bombs are refused quickly, without inflating them. */
static void
test_bundle_bombs_stop_early(void **state)
{
	struct pgb_bundle	*b;
	struct pgb_diag		 d;
	clock_t			 t0;

	(void)state;
	t0 = clock();
	assert_int_equal(open_fixture("gzip-bomb", 0, NULL, &b, &d), -1);
	assert_int_equal(open_fixture("ratio-bomb", 0, NULL, &b, &d), -1);
	/* Inflating 2 GiB takes several seconds; the caps take far less. */
	assert_true(clock() - t0 < 2 * CLOCKS_PER_SEC);
}

/* ---- bundles built here: manifest writer -> tar.gz -> sign -> load ---- */

struct file {
	const char	*name;
	const char	*data;
	size_t		 len;
	int		 type;		/* AE_IFREG unless set */
};

static void
make_tgz(const struct file *f, size_t n, unsigned char **out, size_t *len)
{
	struct archive		*a;
	struct archive_entry	*ae;
	size_t			 cap = 1 << 20, used = 0, i;
	unsigned char		*buf;

	buf = pgb_xmalloc(cap);
	a = archive_write_new();
	assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_set_format_ustar(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, buf, cap, &used),
	    ARCHIVE_OK);
	for (i = 0; i < n; i++) {
		ae = archive_entry_new();
		archive_entry_set_pathname(ae, f[i].name);
		archive_entry_set_filetype(ae, f[i].type ? (unsigned)f[i].type :
		    AE_IFREG);
		archive_entry_set_perm(ae, 0644);
		archive_entry_set_size(ae, (la_int64_t)f[i].len);
		assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
		if (f[i].len)
			assert_int_equal(archive_write_data(a, f[i].data,
			    f[i].len), (la_ssize_t)f[i].len);
		archive_entry_free(ae);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	*out = buf;
	*len = used;
}

static const char up_sql[] = "CREATE TABLE t (a int);\nINSERT INTO t VALUES (1);\n";

/* A one-migration manifest for up_sql, without a target. */
static void
small_manifest(struct pgb_manifest *m)
{
	struct pgb_migration	*mg;
	unsigned char		 zero[PGB_SHA256_LEN];

	pgb_manifest_init(m);
	m->format = 1;
	m->project = pgb_xstrdup("tiny");
	m->compiler = pgb_xstrdup("pgbundle 0.1.0");
	m->key_id = pgb_xstrdup("18ea5e58fa22921e");
	m->created = 1;
	m->migs = pgb_xcalloc(1, sizeof(*m->migs));
	m->nmigs = 1;
	mg = &m->migs[0];
	mg->version = 7;
	mg->name = pgb_xstrdup("t");
	mg->up.path = pgb_xstrdup("migrations/007_t.sql");
	mg->up.size = strlen(up_sql);
	pgb_sha256(up_sql, mg->up.size, mg->up.sha256);
	mg->up.stmts = pgb_xcalloc(2, sizeof(*mg->up.stmts));
	mg->up.nstmts = 2;
	mg->up.stmts[0].off = 0;
	mg->up.stmts[0].len = 23;
	mg->up.stmts[0].line = 1;
	mg->up.stmts[1].off = 24;
	mg->up.stmts[1].len = 26;
	mg->up.stmts[1].line = 2;
	memset(zero, 0, sizeof(zero));
	pgb_chain(zero, mg->version, mg->up.sha256, mg->chain);
}

static void
test_bundle_load_roundtrip(void **state)
{
	struct pgb_manifest	 m;
	struct pgb_buf		 text;
	struct pgb_pubkey	 key;
	struct pgb_bundle	*b;
	struct pgb_diag		 d;
	struct file		 f[2];
	unsigned char		*tgz, sig[PGB_SIG_LEN];
	size_t			 len;
	char			 id[PGB_KEYID_LEN + 1];

	(void)state;
	small_manifest(&m);
	pgb_buf_init(&text);
	pgb_manifest_write(&m, &text);
	f[0] = (struct file){ PGB_MANIFEST_NAME, text.data, text.len, 0 };
	f[1] = (struct file){ "migrations/007_t.sql", up_sql, strlen(up_sql),
	    0 };
	make_tgz(f, 2, &tgz, &len);
	assert_int_equal(pgb_keys_sign(KEYS "test.key", tgz, len, sig, id,
	    &d), 0);
	assert_string_equal(id, "18ea5e58fa22921e");
	assert_int_equal(pgb_pubkey_load(KEYS "test.pub", &key, &d), 0);

	assert_int_equal(pgb_bundle_load(tgz, len, sig, sizeof(sig), &key, 1,
	    0, NULL, &b, &d), 0);
	assert_string_equal(b->manifest.bundle_id, m.bundle_id);
	assert_string_equal(b->key_id, id);
	assert_null(b->manifest.target);
	assert_memory_equal(b->manifest.migs[0].up.text, up_sql,
	    strlen(up_sql));
	pgb_bundle_free(b);

	/* No target in the bundle, one expected. */
	assert_int_equal(pgb_bundle_load(tgz, len, sig, sizeof(sig), &key, 1,
	    0, "prod", &b, &d), -1);
	assert_string_equal(d.msg, "bundle has no target, expected 'prod'");

	/* From memory: unsigned, short signature, no keys. */
	assert_int_equal(pgb_bundle_load(tgz, len, NULL, 0, &key, 1, 0, NULL,
	    &b, &d), -1);
	assert_string_equal(d.msg, "bundle is not signed; pass "
	    "--insecure-allow-unsigned to accept it");
	assert_int_equal(pgb_bundle_load(tgz, len, NULL, 0, NULL, 0, 1, NULL,
	    &b, &d), 0);
	pgb_bundle_free(b);
	assert_int_equal(pgb_bundle_load(tgz, len, sig, 63, &key, 1, 0, NULL,
	    &b, &d), -1);
	assert_string_equal(d.msg, "signature is 63 bytes, expected 64");
	assert_int_equal(pgb_bundle_load(tgz, len, sig, sizeof(sig), NULL, 0,
	    0, NULL, &b, &d), -1);
	assert_non_null(strstr(d.msg, "no trusted key was given"));

	pgb_pubkey_release(&key);
	free(tgz);
	pgb_buf_release(&text);
	pgb_manifest_release(&m);
}

/* Archive shapes the Perl fixtures do not cover, built with libarchive. */
static void
test_bundle_load_shapes(void **state)
{
	struct pgb_manifest	 m;
	struct pgb_buf		 text;
	struct pgb_bundle	*b;
	struct pgb_diag		 d;
	struct file		 f[3];
	unsigned char		*tgz;
	size_t			 len;

	(void)state;
	small_manifest(&m);
	pgb_buf_init(&text);
	pgb_manifest_write(&m, &text);
	f[0] = (struct file){ PGB_MANIFEST_NAME, text.data, text.len, 0 };
	f[1] = (struct file){ "migrations/007_t.sql", up_sql, strlen(up_sql),
	    0 };

	/* An empty entry the manifest does not know. */
	f[2] = (struct file){ "migrations/zzz.sql", "", 0, 0 };
	make_tgz(f, 3, &tgz, &len);
	assert_int_equal(pgb_bundle_load(tgz, len, NULL, 0, NULL, 0, 1, NULL,
	    &b, &d), -1);
	assert_string_equal(d.msg, "'migrations/zzz.sql' is present in bundle "
	    "but not in manifest");
	free(tgz);

	/* A shorter script than the manifest says. */
	f[1].len--;
	make_tgz(f, 2, &tgz, &len);
	assert_int_equal(pgb_bundle_load(tgz, len, NULL, 0, NULL, 0, 1, NULL,
	    &b, &d), -1);
	assert_string_equal(d.msg, "'migrations/007_t.sql' has size 49 but "
	    "manifest says 50");
	free(tgz);

	/* A corrupt manifest is refused with its line. */
	text.data[0] = 'P';
	f[1].len++;
	make_tgz(f, 2, &tgz, &len);
	assert_int_equal(pgb_bundle_load(tgz, len, NULL, 0, NULL, 0, 1, NULL,
	    &b, &d), -1);
	assert_int_equal(d.code, PGB_EBUNDLE);
	assert_non_null(strstr(d.msg, "manifest line 1: not a pgbundle "
	    "manifest"));
	free(tgz);

	/* Over the size cap in memory. */
	assert_int_equal(pgb_bundle_load((const unsigned char *)"",
	    (size_t)PGB_BUNDLE_MAX + 1, NULL, 0, NULL, 0, 1, NULL, &b, &d),
	    -1);
	assert_non_null(strstr(d.msg, "over the limit"));

	pgb_buf_release(&text);
	pgb_manifest_release(&m);
}

static int
read_list(void)
{
	struct pgb_buf	 cmd;
	FILE		*fp;
	char		 line[512], *tab, *nl;
	size_t		 cap = 0;
	int		 rc;

	if (mkdtemp(dir) == NULL)
		return -1;
	pgb_buf_init(&cmd);
	pgb_buf_printf(&cmd, "perl tests/gen-hostile.pl %s > %s/list.txt", dir,
	    dir);
	rc = system(cmd.data);
	pgb_buf_release(&cmd);
	if (rc != 0)
		return -1;
	pgb_buf_init(&cmd);
	pgb_buf_printf(&cmd, "%s/list.txt", dir);
	fp = fopen(cmd.data, "r");
	pgb_buf_release(&cmd);
	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl = '\0';
		if ((tab = strchr(line, '\t')) == NULL)
			continue;
		*tab = '\0';
		if (nfixtures == cap) {
			cap = cap ? cap * 2 : 64;
			fixtures = pgb_xreallocarray(fixtures, cap,
			    sizeof(*fixtures));
		}
		if (strlen(line) >= sizeof(fixtures->name) ||
		    strlen(tab + 1) >= sizeof(fixtures->expect))
			continue;
		memcpy(fixtures[nfixtures].name, line, strlen(line) + 1);
		memcpy(fixtures[nfixtures].expect, tab + 1,
		    strlen(tab + 1) + 1);
		nfixtures++;
	}
	fclose(fp);
	return nfixtures ? 0 : -1;
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_bundle_fixture_list),
		cmocka_unit_test(test_bundle_valid_contents),
		cmocka_unit_test(test_bundle_unsigned_allowed),
		cmocka_unit_test(test_bundle_target),
		cmocka_unit_test(test_bundle_key_choice),
		cmocka_unit_test(test_bundle_paths),
		cmocka_unit_test(test_bundle_bombs_stop_early),
		cmocka_unit_test(test_bundle_load_roundtrip),
		cmocka_unit_test(test_bundle_load_shapes),
	};
	struct CMUnitTest	*tests;
	struct pgb_buf		 cmd;
	size_t			 nfixed = sizeof(fixed) / sizeof(fixed[0]), i;
	char			**names;
	int			 rc;

	if (read_list() == -1) {
		fprintf(stderr, "test_bundle: cannot run tests/gen-hostile.pl "
		    "(run from the top of the tree)\n");
		return 1;
	}
	tests = pgb_xcalloc(nfixed + nfixtures, sizeof(*tests));
	names = pgb_xcalloc(nfixtures, sizeof(*names));
	memcpy(tests, fixed, sizeof(fixed));
	for (i = 0; i < nfixtures; i++) {
		pgb_buf_init(&cmd);
		pgb_buf_printf(&cmd, "test_bundle_fixture_%s", fixtures[i].name);
		names[i] = pgb_buf_steal(&cmd, NULL);
		tests[nfixed + i].name = names[i];
		tests[nfixed + i].test_func = test_bundle_fixture;
		tests[nfixed + i].initial_state = &fixtures[i];
	}
	rc = _cmocka_run_group_tests("test_bundle", tests, nfixed + nfixtures,
	    NULL, NULL);
	pgb_buf_init(&cmd);
	pgb_buf_printf(&cmd, "rm -rf %s", dir);
	if (system(cmd.data) != 0)
		fprintf(stderr, "test_bundle: cannot remove %s\n", dir);
	pgb_buf_release(&cmd);
	for (i = 0; i < nfixtures; i++)
		free(names[i]);
	free(names);
	free(tests);
	free(fixtures);
	return rc;
}
