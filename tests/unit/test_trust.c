/*
 * test_trust.c - the signature policy (trust.c): trust files, the
 * signature files read beside a bundle, and the threshold check over
 * several signatures, against the keys in tests/data/keys.  Run from the
 * top of the tree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bounds.h"
#include "buf.h"
#include "diag.h"
#include "fileio.h"
#include "keys.h"
#include "sig.h"
#include "trust.h"
#include "banned.h"

#define KEYS		"tests/data/keys/"
#define TEST_ID		"18ea5e58fa22921e"
#define OTHER_ID	"5a18bdbf2bbb9966"

static char	dir[] = "/tmp/pgb-test-trust-XXXXXX";
static const char msg[] = "the exact bytes of a bundle";

static char *
tmp_path(const char *name)
{
	struct pgb_buf	b;

	pgb_buf_init(&b);
	pgb_buf_printf(&b, "%s/%s", dir, name);
	return pgb_buf_steal(&b, NULL);
}

static void
write_file(const char *path, const void *p, size_t n)
{
	FILE	*fp;

	assert_non_null(fp = fopen(path, "wb"));
	assert_int_equal(fwrite(p, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

static char *
slurp(const char *path)
{
	struct pgb_diag	 d;
	char		*s;
	size_t		 len;

	if (pgb_file_read("file", path, 1 << 20, 0, PGB_EINTERNAL, &s, &len,
	    &d) == -1)
		fail_msg("%s", d.msg);
	return s;
}

/* A trust file made of 'head', the two test keys and 'tail'. */
static char *
trust_file(const char *name, const char *head, const char *tail)
{
	struct pgb_buf	 b;
	char		*path = tmp_path(name), *t = slurp(KEYS "test.pub"),
			*o = slurp(KEYS "other.pub");

	pgb_buf_init(&b);
	pgb_buf_printf(&b, "%s%s%s%s", head, t, o, tail);
	write_file(path, b.data, b.len);
	pgb_buf_release(&b);
	free(t);
	free(o);
	return path;
}

static void
sign_with(const char *key, unsigned char sig[PGB_SIG_LEN])
{
	struct pgb_diag	d;
	char		id[PGB_KEYID_LEN + 1];

	if (pgb_keys_sign(key, msg, sizeof(msg), sig, id, &d) == -1)
		fail_msg("%s", d.msg);
}

static void
test_trust_file(void **state)
{
	struct pgb_trust	 t;
	struct pgb_diag		 d;
	char			*path;

	(void)state;
	path = trust_file("good.pem", "# approvers\n\nmin-signatures 2\n", "");
	assert_int_equal(pgb_trust_load(&t, path, &d), 0);
	assert_int_equal(t.nkeys, 2);
	assert_int_equal(t.min, 2);
	assert_string_equal(t.keys[0].id, TEST_ID);
	assert_string_equal(t.keys[1].id, OTHER_ID);
	assert_string_equal(t.keys[0].label, "good.pem:4");
	assert_string_equal(t.keys[1].label, "good.pem:7");
	pgb_trust_release(&t);
	pgb_trust_release(&t);		/* idempotent */
	free(path);

	/* No min-signatures line: one signature. */
	path = trust_file("one.pem", "", "# end\n");
	assert_int_equal(pgb_trust_load(&t, path, &d), 0);
	assert_int_equal(t.min, 1);
	pgb_trust_release(&t);
	free(path);
}

static void
trust_refused(const char *name, const char *head, const char *tail,
    const char *want)
{
	struct pgb_trust	 t;
	struct pgb_diag		 d;
	char			*path = trust_file(name, head, tail);

	pgb_diag_clear(&d);
	if (pgb_trust_load(&t, path, &d) != -1 || strstr(d.msg, want) == NULL)
		fail_msg("%s: want '%s', got '%s'", name, want, d.msg);
	assert_int_equal(d.code, PGB_EKEY);
	assert_int_equal(t.nkeys, 0);
	free(path);
}

static void
test_trust_file_refusals(void **state)
{
	char	*key = slurp(KEYS "test.key"), *pub = slurp(KEYS "test.pub");

	(void)state;
	trust_refused("garbage.pem", "min-signatures 1\nalice\n", "",
	    "line 2: expected a PEM public key, 'min-signatures N' or a "
	    "comment, got 'alice'");
	trust_refused("twice.pem", "min-signatures 1\nmin-signatures 2\n", "",
	    "line 2: min-signatures is given twice");
	trust_refused("zero.pem", "min-signatures 0\n", "",
	    "line 1: min-signatures takes a number from 1 to 16");
	trust_refused("big.pem", "min-signatures 99999999999999999999\n", "",
	    "line 1: min-signatures takes a number from 1 to 16");
	trust_refused("word.pem", "min-signatures two\n", "",
	    "line 1: min-signatures takes a number from 1 to 16");
	trust_refused("three.pem", "min-signatures 3\n", "",
	    "asks for 3 signatures but lists 2 keys");
	trust_refused("dup.pem", "", pub, "line 7: key " TEST_ID " is listed "
	    "twice");
	trust_refused("private.pem", "", key, "line 7: '(PEM text)' is a "
	    "private key, not a public key");
	trust_refused("open.pem", "", "-----BEGIN PUBLIC KEY-----\nMCow\n",
	    "line 7: the PEM block has no END line");
	free(key);
	free(pub);
}

static void
test_trust_file_empty(void **state)
{
	struct pgb_trust	 t;
	struct pgb_diag		 d;
	char			*path = tmp_path("empty.pem");

	(void)state;
	write_file(path, "# nobody\nmin-signatures 1\n", 26);
	assert_int_equal(pgb_trust_load(&t, path, &d), -1);
	assert_string_equal(d.msg + strlen(d.msg) - 19, "lists no public key");
	free(path);
	assert_int_equal(pgb_trust_load(&t, "tests/data/no-such.pem", &d), -1);
	assert_non_null(strstr(d.msg, "cannot read trust file"));
}

static void
test_trust_add_dedupes(void **state)
{
	struct pgb_trust	 t;
	struct pgb_diag		 d;
	char			*pem = slurp(KEYS "test.pub");

	(void)state;
	pgb_trust_init(&t);
	assert_int_equal(pgb_trust_add(&t, KEYS "test.pub", &d), 0);
	assert_int_equal(pgb_trust_add(&t, pem, &d), 0);
	assert_int_equal(pgb_trust_add(&t, KEYS "other.pub", &d), 0);
	assert_int_equal(t.nkeys, 2);
	assert_string_equal(t.keys[0].label, KEYS "test.pub");
	assert_int_equal(pgb_trust_add(&t, KEYS "rsa.pub", &d), -1);
	assert_int_equal(d.code, PGB_EKEY);
	pgb_trust_release(&t);
	free(pem);
}

/*
 * Two keys, two required: one signature is refused naming who signed
 * and who is missing; the same key twice counts once; both are enough.
 */
static void
test_trust_check_threshold(void **state)
{
	struct pgb_trust	 t;
	struct pgb_sigset	 s;
	struct pgb_signers	 who;
	struct pgb_diag		 d;
	unsigned char		 a[PGB_SIG_LEN], b[PGB_SIG_LEN];

	(void)state;
	pgb_trust_init(&t);
	assert_int_equal(pgb_trust_add(&t, KEYS "test.pub", &d), 0);
	assert_int_equal(pgb_trust_add(&t, KEYS "other.pub", &d), 0);
	sign_with(KEYS "test.key", a);
	sign_with(KEYS "other.key", b);

	memset(&s, 0, sizeof(s));
	assert_int_equal(pgb_sigset_add(&s, "app.pgb.sig", a, PGB_ANY_KEY), 0);
	assert_int_equal(pgb_trust_check(t.keys, 2, 2, msg, sizeof(msg), &s,
	    &who, &d), -1);
	assert_int_equal(d.code, PGB_EBUNDLE);
	assert_string_equal(d.msg, "signed by 1 trusted key, 2 required");
	assert_string_equal(d.detail, "signed: " TEST_ID " (" KEYS
	    "test.pub)\nmissing: " OTHER_ID " (" KEYS "other.pub)");

	/* A copy of the same signature as FILE.<keyid>.sig: still one. */
	assert_int_equal(pgb_sigset_add(&s, "app.pgb." TEST_ID ".sig", a, 0),
	    0);
	assert_int_equal(pgb_trust_check(t.keys, 2, 2, msg, sizeof(msg), &s,
	    &who, &d), -1);
	assert_string_equal(d.msg, "signed by 1 trusted key, 2 required");

	/* A file named for a key but holding another's: not counted. */
	assert_int_equal(pgb_sigset_add(&s, "app.pgb." OTHER_ID ".sig", a, 1),
	    0);
	assert_int_equal(pgb_trust_check(t.keys, 2, 2, msg, sizeof(msg), &s,
	    &who, &d), -1);
	assert_non_null(strstr(d.detail, "\nnot counted: 'app.pgb." OTHER_ID
	    ".sig' does not verify with key " OTHER_ID));
	pgb_sigset_release(&s);

	assert_int_equal(pgb_sigset_add(&s, "app.pgb.sig", a, PGB_ANY_KEY), 0);
	assert_int_equal(pgb_sigset_add(&s, "app.pgb." OTHER_ID ".sig", b, 1),
	    0);
	assert_int_equal(pgb_trust_check(t.keys, 2, 2, msg, sizeof(msg), &s,
	    &who, &d), 0);
	assert_int_equal(who.n, 2);
	assert_int_equal(who.key[0], 0);
	assert_int_equal(who.key[1], 1);
	/* Over other bytes, neither verifies. */
	assert_int_equal(pgb_trust_check(t.keys, 2, 1, msg, sizeof(msg) - 1,
	    &s, &who, &d), -1);
	assert_string_equal(d.msg, "signature does not match any trusted key");
	assert_non_null(strstr(d.detail, PGB_SIG_CAUSE "\ntrusted keys: "));
	assert_non_null(strstr(d.detail, "\nnot counted: 'app.pgb.sig' "
	    "matches no trusted key"));
	pgb_sigset_release(&s);
	pgb_trust_release(&t);
}

/* One signature, one key needed: the message pgapply always gave. */
static void
test_trust_check_single(void **state)
{
	struct pgb_pubkey	 k;
	struct pgb_sigset	 s;
	struct pgb_signers	 who;
	struct pgb_diag		 d;
	unsigned char		 a[PGB_SIG_LEN];

	(void)state;
	assert_int_equal(pgb_pubkey_load(KEYS "other.pub", &k, &d), 0);
	sign_with(KEYS "test.key", a);
	memset(&s, 0, sizeof(s));
	assert_int_equal(pgb_sigset_add(&s, "app.pgb.sig", a, PGB_ANY_KEY), 0);
	assert_int_equal(pgb_trust_check(&k, 1, 1, msg, sizeof(msg), &s, &who,
	    &d), -1);
	assert_string_equal(d.msg, "signature does not match any trusted key");
	assert_string_equal(d.detail, PGB_SIG_CAUSE "\ntrusted key: "
	    OTHER_ID " (" KEYS "other.pub)");
	pgb_sigset_release(&s);
	pgb_pubkey_release(&k);
}

/* FILE.sig, then FILE.<keyid>.sig of each trusted key; nothing else. */
static void
test_trust_sigset_read(void **state)
{
	struct pgb_trust	 t;
	struct pgb_sigset	 s;
	struct pgb_diag		 d;
	unsigned char		 a[PGB_SIG_LEN];
	char			*bundle = tmp_path("app.pgb"),
				*sig = tmp_path("app.pgb.sig"),
				*co = tmp_path("app.pgb." OTHER_ID ".sig"),
				*stray = tmp_path("app.pgb.0123456789abcdef.sig");
	const char		*paths[1];

	(void)state;
	pgb_trust_init(&t);
	assert_int_equal(pgb_trust_add(&t, KEYS "test.pub", &d), 0);
	assert_int_equal(pgb_trust_add(&t, KEYS "other.pub", &d), 0);
	sign_with(KEYS "test.key", a);
	assert_int_equal(pgb_sigset_read(&s, bundle, NULL, 0, t.keys, 2, &d),
	    0);
	assert_int_equal(s.n, 0);
	write_file(sig, a, sizeof(a));
	write_file(co, a, sizeof(a));
	write_file(stray, a, sizeof(a));
	assert_int_equal(pgb_sigset_read(&s, bundle, NULL, 0, t.keys, 2, &d),
	    0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.v[0].path, sig);
	assert_true(s.v[0].key == PGB_ANY_KEY);
	assert_string_equal(s.v[1].path, co);
	assert_int_equal(s.v[1].key, 1);
	pgb_sigset_release(&s);

	/* An explicit path must exist, and replaces FILE.sig. */
	paths[0] = stray;
	assert_int_equal(pgb_sigset_read(&s, bundle, paths, 1, t.keys, 2, &d),
	    0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.v[0].path, stray);
	pgb_sigset_release(&s);
	paths[0] = bundle;
	assert_int_equal(pgb_sigset_read(&s, bundle, paths, 1, t.keys, 2, &d),
	    -1);
	assert_non_null(strstr(d.msg, "cannot read signature"));

	/* A signature file of another size is refused, not skipped. */
	write_file(co, a, 63);
	assert_int_equal(pgb_sigset_read(&s, bundle, NULL, 0, t.keys, 2, &d),
	    -1);
	assert_non_null(strstr(d.msg, "is 63 bytes, expected 64"));
	assert_int_equal(s.n, 0);
	unlink(sig);
	unlink(co);
	unlink(stray);
	pgb_trust_release(&t);
	free(bundle);
	free(sig);
	free(co);
	free(stray);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	struct pgb_buf	b;
	int		rc;

	(void)state;
	pgb_buf_init(&b);
	pgb_buf_printf(&b, "rm -rf '%s'", dir);
	rc = system(b.data);
	pgb_buf_release(&b);
	return rc == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trust_file),
		cmocka_unit_test(test_trust_file_refusals),
		cmocka_unit_test(test_trust_file_empty),
		cmocka_unit_test(test_trust_add_dedupes),
		cmocka_unit_test(test_trust_check_threshold),
		cmocka_unit_test(test_trust_check_single),
		cmocka_unit_test(test_trust_sigset_read),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
