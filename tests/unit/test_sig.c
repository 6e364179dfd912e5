/*
 * test_sig.c - trusted public keys (sig.c) and key pairs and signing
 * (keys.c), against the PEM files in tests/data/keys and the openssl
 * command-line tool, so that keys and signatures made by either side
 * work with the other.  Run from the top of the tree.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>

#include "bounds.h"
#include "buf.h"
#include "diag.h"
#include "fileio.h"
#include "hash.h"
#include "keys.h"
#include "sig.h"
#include "banned.h"

#define KEYS		"tests/data/keys/"
#define TEST_ID		"18ea5e58fa22921e"
#define OTHER_ID	"5a18bdbf2bbb9966"

static char	dir[] = "/tmp/pgb-test-sig-XXXXXX";

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
slurp(const char *path, size_t *len)
{
	struct pgb_diag	 d;
	char		*s;

	if (pgb_file_read("file", path, 1 << 20, 0, PGB_EINTERNAL, &s, len,
	    &d) == -1)
		fail_msg("%s", d.msg);
	return s;
}

static int
run(const char *fmt, ...)
{
	struct pgb_buf	b;
	va_list		ap;
	char		tmp[1024];
	int		rc;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	pgb_buf_init(&b);
	pgb_buf_printf(&b, "%s >/dev/null 2>&1", tmp);
	rc = system(b.data);
	pgb_buf_release(&b);
	return rc;
}

/* pgb_pubkey_load must refuse 'src' with PGB_EKEY and 'want' in msg. */
static void
key_refused(const char *src, const char *want)
{
	struct pgb_pubkey	k;
	struct pgb_diag		d;

	pgb_diag_clear(&d);
	if (pgb_pubkey_load(src, &k, &d) != -1 ||
	    strstr(d.msg, want) == NULL)
		fail_msg("'%.40s': want '%s', got '%s'", src, want, d.msg);
	assert_int_equal(d.code, PGB_EKEY);
	assert_null(k.pkey);
}

static void
test_sig_load_path_and_pem(void **state)
{
	struct pgb_pubkey	 a, b;
	struct pgb_diag		 d;
	char			*pem;
	size_t			 len;

	(void)state;
	assert_int_equal(pgb_pubkey_load(KEYS "test.pub", &a, &d), 0);
	assert_string_equal(a.id, TEST_ID);
	pem = slurp(KEYS "test.pub", &len);
	assert_int_equal(pgb_pubkey_load(pem, &b, &d), 0);
	assert_string_equal(b.id, TEST_ID);
	assert_memory_equal(a.raw, b.raw, PGB_ED25519_LEN);
	pgb_pubkey_release(&a);
	pgb_pubkey_release(&a);		/* idempotent */
	pgb_pubkey_release(&b);
	free(pem);
	assert_int_equal(pgb_pubkey_load(KEYS "other.pub", &a, &d), 0);
	assert_string_equal(a.id, OTHER_ID);
	pgb_pubkey_release(&a);
}

/*
 * A plain key file takes sig.c's own SPKI reader; the same key with CRLF
 * line ends, or with its base64 wrapped short, takes OpenSSL's decoders
 * or the reader's line handling: every way gives the same key, and the
 * same SPKI with a byte of its prefix changed is not taken for Ed25519.
 */
static void
test_sig_load_spki_paths(void **state)
{
	static const char crlf[] = "-----BEGIN PUBLIC KEY-----\r\n"
	    "MCowBQYDK2VwAyEAb+y6CiFQ9zt7V31tyn1W4DexCzjX+WGQmiRnUz+LNyI=\r\n"
	    "-----END PUBLIC KEY-----\r\n";
	static const char wrapped[] = "-----BEGIN PUBLIC KEY-----\n"
	    "MCowBQYDK2VwAyEAb+y6CiFQ9zt7V31tyn1W\n"
	    "4DexCzjX+WGQmiRnUz+LNyI=\n"
	    "-----END PUBLIC KEY-----\n";
	/* Prefix byte 0x70 (id-Ed25519's last OID byte) made 0x6e: X25519. */
	static const char x25519[] = "-----BEGIN PUBLIC KEY-----\n"
	    "MCowBQYDK2VuAyEAb+y6CiFQ9zt7V31tyn1W4DexCzjX+WGQmiRnUz+LNyI=\n"
	    "-----END PUBLIC KEY-----\n";
	struct pgb_pubkey	 a, b;
	struct pgb_diag		 d;

	(void)state;
	assert_int_equal(pgb_pubkey_load(KEYS "test.pub", &a, &d), 0);
	assert_int_equal(pgb_pubkey_load(crlf, &b, &d), 0);
	assert_string_equal(b.id, TEST_ID);
	assert_memory_equal(a.raw, b.raw, PGB_ED25519_LEN);
	pgb_pubkey_release(&b);
	assert_int_equal(pgb_pubkey_load(wrapped, &b, &d), 0);
	assert_memory_equal(a.raw, b.raw, PGB_ED25519_LEN);
	pgb_pubkey_release(&b);
	pgb_pubkey_release(&a);
	key_refused(x25519, "unsupported key type 'X25519'");
}

static void
test_sig_load_refusals(void **state)
{
	char	*p, *pem, big[PGB_KEYFILE_MAX + 2];
	size_t	 len;

	(void)state;
	key_refused(KEYS "test.key", "'" KEYS "test.key' is a private key, "
	    "not a public key");
	key_refused(KEYS "rsa.pub", "unsupported key type 'RSA' in '"
	    KEYS "rsa.pub' (need Ed25519)");
	key_refused(KEYS "x25519.pub", "unsupported key type 'X25519' in '"
	    KEYS "x25519.pub' (need Ed25519)");
	key_refused(KEYS "rsa.key", "is a private key");
	key_refused(KEYS "truncated.pub", "cannot read public key '"
	    KEYS "truncated.pub'");
	key_refused(KEYS "missing.pub", "cannot read public key '"
	    KEYS "missing.pub': No such file or directory");
	key_refused(KEYS, "public key '" KEYS "' is not a regular file");
	key_refused("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
	    "cannot read public key '(PEM text)'");
	key_refused("-----BEGIN PRIVATE KEY-----\n", "'(PEM text)' is a "
	    "private key");
	key_refused("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE"
	    "-----\n", "cannot read public key '(PEM text)'");

	p = tmp_path("garbage.pub");
	write_file(p, "this is not a key\n", 18);
	key_refused(p, "cannot read public key");
	free(p);

	p = tmp_path("two.pub");
	pem = slurp(KEYS "test.pub", &len);
	write_file(p, pem, len);
	{
		FILE	*fp = fopen(p, "ab");

		assert_non_null(fp);
		fwrite(pem, 1, len, fp);
		fclose(fp);
	}
	key_refused(p, "holds more than one PEM block");
	free(pem);
	free(p);

	p = tmp_path("nul.pub");
	write_file(p, "-----BEGIN PUBLIC KEY-----\n\0", 28);
	key_refused(p, "cannot read public key");
	free(p);

	p = tmp_path("big.pub");
	memset(big, 'A', sizeof(big));
	write_file(p, big, sizeof(big));
	key_refused(p, "bytes, over the limit of 16384");
	free(p);
}

static const char *const small_order_hex[] = {
	"0100000000000000000000000000000000000000000000000000000000000000",
	"0000000000000000000000000000000000000000000000000000000000000000",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};

static void
test_sig_small_order(void **state)
{
	struct pgb_pubkey	 k, good;
	struct pgb_diag		 d;
	unsigned char		 raw[PGB_ED25519_LEN];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(small_order_hex) / sizeof(*small_order_hex);
	    i++) {
		assert_int_equal(pgb_unhex(small_order_hex[i], 32, raw), 0);
		assert_true(pgb_pubkey_small_order(raw));
		/* The sign bit does not change the point's order. */
		raw[31] |= 0x80;
		assert_true(pgb_pubkey_small_order(raw));
		raw[31] &= 0x7f;
		if (pgb_pubkey_from_raw(raw, "t", &k, &d) == 0) {
			pgb_pubkey_release(&k);
			fail_msg("accepted small-order key %zu", i);
		}
		assert_int_equal(d.code, PGB_EKEY);
	}
	assert_int_equal(pgb_pubkey_load(KEYS "test.pub", &good, &d), 0);
	assert_false(pgb_pubkey_small_order(good.raw));
	assert_int_equal(pgb_pubkey_from_raw(good.raw, "t", &k, &d), 0);
	assert_string_equal(k.id, TEST_ID);
	pgb_pubkey_release(&k);
	pgb_pubkey_release(&good);

	/* The identity as a PEM public key. */
	key_refused("-----BEGIN PUBLIC KEY-----\n"
	    "MCowBQYDK2VwAyEAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
	    "-----END PUBLIC KEY-----\n",
	    "public key '01d0fabd251fcbbe' has small order");
}

/*
 * With the identity key, R = identity and S = 0 verify on any message.
 * A pgb_pubkey built around sig.c's checks is still never trusted.
 */
static void
test_sig_identity_forgery(void **state)
{
	struct pgb_pubkey	 k;
	struct pgb_diag		 d;
	unsigned char		 sig[PGB_SIG_LEN];

	(void)state;
	memset(&k, 0, sizeof(k));
	k.raw[0] = 1;
	k.pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, k.raw,
	    PGB_ED25519_LEN);
	assert_non_null(k.pkey);
	memset(sig, 0, sizeof(sig));
	sig[0] = 1;
	assert_int_equal(pgb_sig_verify(&k, 1, "anything", 8, sig,
	    sizeof(sig), NULL, &d), -1);
	assert_string_equal(d.msg, "signature does not match any trusted key");
	pgb_pubkey_release(&k);
}

static void
test_sig_key_id(void **state)
{
	unsigned char	raw[PGB_ED25519_LEN];
	char		id[PGB_KEYID_LEN + 1];

	(void)state;
	memset(raw, 0, sizeof(raw));
	raw[0] = 1;
	pgb_key_id(raw, id);
	/* printf '\001' + 31 NULs | sha256sum | cut -c1-16 */
	assert_string_equal(id, "01d0fabd251fcbbe");
	assert_int_equal(strlen(id), PGB_KEYID_LEN);
}

static void
test_sig_verify(void **state)
{
	struct pgb_pubkey	 keys[2];
	struct pgb_diag		 d;
	unsigned char		 sig[PGB_SIG_LEN];
	char			 id[PGB_KEYID_LEN + 1];
	static const char	 msg[] = "a bundle's bytes";
	size_t			 which = 99;

	(void)state;
	assert_int_equal(pgb_keys_sign(KEYS "test.key", msg, sizeof(msg), sig,
	    id, &d), 0);
	assert_string_equal(id, TEST_ID);
	assert_int_equal(pgb_pubkey_load(KEYS "other.pub", &keys[0], &d), 0);
	assert_int_equal(pgb_pubkey_load(KEYS "test.pub", &keys[1], &d), 0);

	assert_int_equal(pgb_sig_verify(keys, 2, msg, sizeof(msg), sig,
	    sizeof(sig), &which, &d), 0);
	assert_int_equal(which, 1);
	assert_int_equal(pgb_sig_verify(&keys[1], 1, msg, sizeof(msg), sig,
	    sizeof(sig), &which, &d), 0);
	assert_int_equal(which, 0);

	assert_int_equal(pgb_sig_verify(keys, 1, msg, sizeof(msg), sig,
	    sizeof(sig), &which, &d), -1);
	assert_int_equal(d.code, PGB_EBUNDLE);
	assert_string_equal(d.msg, "signature does not match any trusted key");
	assert_string_equal(d.detail, PGB_SIG_CAUSE "\ntrusted key: "
	    OTHER_ID " (" KEYS "other.pub)");

	assert_int_equal(pgb_sig_verify(keys, 2, msg, sizeof(msg) - 1, sig,
	    sizeof(sig), &which, &d), -1);
	assert_string_equal(d.detail, PGB_SIG_CAUSE "\ntrusted keys: "
	    OTHER_ID " (" KEYS "other.pub), " TEST_ID " (" KEYS "test.pub)");
	sig[5] ^= 1;
	assert_int_equal(pgb_sig_verify(keys, 2, msg, sizeof(msg), sig,
	    sizeof(sig), &which, &d), -1);
	sig[5] ^= 1;
	assert_int_equal(pgb_sig_verify(keys, 2, msg, sizeof(msg), sig, 63,
	    &which, &d), -1);
	assert_string_equal(d.msg, "signature is 63 bytes, expected 64");
	assert_int_equal(pgb_sig_verify(keys, 2, msg, sizeof(msg), sig, 0,
	    &which, &d), -1);
	assert_string_equal(d.msg, "signature is 0 bytes, expected 64");
	assert_int_equal(pgb_sig_verify(keys, 0, msg, sizeof(msg), sig,
	    sizeof(sig), &which, &d), -1);
	assert_string_equal(d.detail, "no trusted key was given");

	pgb_pubkey_release(&keys[0]);
	pgb_pubkey_release(&keys[1]);
}

/* Signatures made by `openssl pkeyutl` and by keys.c are the same bytes. */
static void
test_sig_openssl_interop(void **state)
{
	struct pgb_pubkey	 k;
	struct pgb_diag		 d;
	unsigned char		 sig[PGB_SIG_LEN];
	char			*msgp, *sigp, *osig, id[PGB_KEYID_LEN + 1];
	static const char	 msg[] = "signed by openssl\n";
	size_t			 len;

	(void)state;
	msgp = tmp_path("msg");
	sigp = tmp_path("msg.sig");
	write_file(msgp, msg, sizeof(msg) - 1);
	assert_int_equal(run("openssl pkeyutl -sign -rawin -inkey "
	    KEYS "test.key -in %s -out %s", msgp, sigp), 0);
	osig = slurp(sigp, &len);
	assert_int_equal(len, PGB_SIG_LEN);
	assert_int_equal(pgb_pubkey_load(KEYS "test.pub", &k, &d), 0);
	assert_int_equal(pgb_sig_verify(&k, 1, msg, sizeof(msg) - 1,
	    (unsigned char *)osig, len, NULL, &d), 0);
	assert_int_equal(pgb_keys_sign(KEYS "test.key", msg, sizeof(msg) - 1,
	    sig, id, &d), 0);
	assert_memory_equal(sig, osig, PGB_SIG_LEN);
	pgb_pubkey_release(&k);
	free(osig);
	free(msgp);
	free(sigp);
}

static void
test_sig_keygen(void **state)
{
	struct pgb_pubkey	 k, h;
	struct pgb_diag		 d;
	struct stat		 st;
	unsigned char		 sig[PGB_SIG_LEN];
	char			*name, *key, *pub, *pub2, *a, *b, *msgp, *sigp;
	char			 id[PGB_KEYID_LEN + 1], id2[PGB_KEYID_LEN + 1];
	size_t			 alen, blen;
	mode_t			 old;

	(void)state;
	name = tmp_path("ci");
	key = tmp_path("ci.key");
	pub = tmp_path("ci.pub");
	pub2 = tmp_path("ci.openssl.pub");
	old = umask(022);
	assert_int_equal(pgb_keys_generate(name, id, &d), 0);
	umask(old);
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(pub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(pgb_pubkey_load(pub, &k, &d), 0);
	assert_string_equal(k.id, id);
	assert_int_equal(pgb_keys_load_public(key, &h, &d), 0);
	assert_string_equal(h.id, id);
	pgb_pubkey_release(&h);

	/* openssl reads the private key and derives the same public PEM. */
	assert_int_equal(run("openssl pkey -in %s -pubout -out %s", key, pub2),
	    0);
	a = slurp(pub, &alen);
	b = slurp(pub2, &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	free(a);
	free(b);
	a = slurp(key, &alen);
	assert_non_null(strstr(a, "-----BEGIN PRIVATE KEY-----\n"));
	free(a);

	/* openssl verifies what keys.c signed with the new key. */
	msgp = tmp_path("m2");
	sigp = tmp_path("m2.sig");
	write_file(msgp, "hello", 5);
	assert_int_equal(pgb_keys_sign(key, "hello", 5, sig, id2, &d), 0);
	assert_string_equal(id2, id);
	write_file(sigp, sig, sizeof(sig));
	assert_int_equal(run("openssl pkeyutl -verify -pubin -inkey %s -rawin "
	    "-in %s -sigfile %s", pub, msgp, sigp), 0);

	/* Never overwritten; nothing left behind when refused. */
	a = slurp(key, &alen);
	assert_int_equal(pgb_keys_generate(name, id2, &d), -1);
	assert_int_equal(d.code, PGB_EKEY);
	assert_non_null(strstr(d.msg, "ci.key' already exists"));
	b = slurp(key, &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	free(a);
	free(b);
	assert_int_equal(unlink(key), 0);
	assert_int_equal(pgb_keys_generate(name, id2, &d), -1);
	assert_non_null(strstr(d.msg, "ci.pub' already exists"));
	assert_int_equal(stat(key, &st), -1);

	pgb_pubkey_release(&k);
	free(name);
	free(key);
	free(pub);
	free(pub2);
	free(msgp);
	free(sigp);
}

static void
sign_refused(const char *path, const char *want)
{
	struct pgb_diag	d;
	unsigned char	sig[PGB_SIG_LEN];
	char		id[PGB_KEYID_LEN + 1];

	pgb_diag_clear(&d);
	if (pgb_keys_sign(path, "x", 1, sig, id, &d) != -1 ||
	    strstr(d.msg, want) == NULL)
		fail_msg("'%s': want '%s', got '%s'", path, want, d.msg);
	assert_int_equal(d.code, PGB_EKEY);
	/* No key material in the diag: PEM bodies start with "MC4C"/"MII". */
	assert_null(strstr(d.msg, "MC4C"));
	assert_null(strstr(d.detail, "MC4C"));
	assert_null(strstr(d.msg, "MII"));
	assert_null(strstr(d.detail, "MII"));
}

static void
test_sig_sign_refusals(void **state)
{
	char	*enc, *junk;

	(void)state;
	sign_refused(KEYS "rsa.key", "unsupported key type 'RSA' in '"
	    KEYS "rsa.key' (need Ed25519)");
	sign_refused(KEYS "x25519.key", "unsupported key type 'X25519'");
	sign_refused(KEYS "test.pub", "'" KEYS "test.pub' is a public key; "
	    "signing needs the private key");
	sign_refused(KEYS "missing.key", "cannot read private key '"
	    KEYS "missing.key': No such file or directory");
	sign_refused(KEYS "truncated.pub", "is a public key");

	junk = tmp_path("junk.key");
	write_file(junk, "-----BEGIN PRIVATE KEY-----\nMC4CAQAw\n"
	    "-----END PRIVATE KEY-----\n", 62);
	sign_refused(junk, "cannot read private key");
	free(junk);

	enc = tmp_path("enc.key");
	assert_int_equal(run("openssl pkey -in " KEYS "test.key -aes256 "
	    "-passout pass:secret -out %s", enc), 0);
	sign_refused(enc, "is encrypted");
	free(enc);
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
	char	cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sig_load_path_and_pem),
		cmocka_unit_test(test_sig_load_spki_paths),
		cmocka_unit_test(test_sig_load_refusals),
		cmocka_unit_test(test_sig_small_order),
		cmocka_unit_test(test_sig_identity_forgery),
		cmocka_unit_test(test_sig_key_id),
		cmocka_unit_test(test_sig_verify),
		cmocka_unit_test(test_sig_openssl_interop),
		cmocka_unit_test(test_sig_keygen),
		cmocka_unit_test(test_sig_sign_refusals),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
