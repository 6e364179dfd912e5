/*
 * test_sign.c - the compiler's signing helpers: signatures in the forms
 * signers print (sign.c), minisign's key and signature formats
 * (minisign.c), and the signature files found beside a bundle.  Run from
 * the top of the tree.
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

#include <openssl/evp.h>

#include "bounds.h"
#include "buf.h"
#include "diag.h"
#include "hash.h"
#include "keys.h"
#include "sig.h"
#include "sign.h"
#include "banned.h"

#define KEYS		"tests/data/keys/"
#define TEST_ID		"18ea5e58fa22921e"

static char	dir[] = "/tmp/pgb-test-sign-XXXXXX";

static void
write_file(const char *path, const void *p, size_t n)
{
	FILE	*fp;

	assert_non_null(fp = fopen(path, "wb"));
	assert_int_equal(fwrite(p, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

/* 'text' must decode to 'want' as 'form'. */
static void
decodes(const char *text, size_t len, const unsigned char *want,
    const char *form)
{
	unsigned char	 sig[PGB_SIG_LEN];
	const char	*got = NULL;
	struct pgb_diag	 d;

	if (pgb_sig_decode("src", text, len, sig, &got, &d) == -1)
		fail_msg("%s: %s", form, d.msg);
	assert_string_equal(got, form);
	assert_memory_equal(sig, want, PGB_SIG_LEN);
}

static void
refused(const char *text)
{
	unsigned char	 sig[PGB_SIG_LEN];
	const char	*got = NULL;
	struct pgb_diag	 d;

	pgb_diag_clear(&d);
	if (pgb_sig_decode("src", text, strlen(text), sig, &got, &d) != -1)
		fail_msg("'%.40s' was read as %s", text, got);
	assert_int_equal(d.code, PGB_EKEY);
	assert_string_equal(d.msg, "cannot read a signature in 'src'");
}

static void
test_sign_decode_forms(void **state)
{
	unsigned char	 raw[PGB_SIG_LEN];
	struct pgb_buf	 b;
	char		 hex[2 * PGB_SIG_LEN + 1], b64[100];
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(raw); i++)
		raw[i] = (unsigned char)(i * 37 + 250);
	/* Raw bytes, even with white space at the ends. */
	raw[0] = '\n';
	raw[63] = ' ';
	decodes((const char *)raw, sizeof(raw), raw, "raw");
	pgb_hex(raw, sizeof(raw), hex);
	decodes(hex, strlen(hex), raw, "hex");
	for (i = 0; i < strlen(hex); i++)
		if (hex[i] >= 'a')
			hex[i] = (char)(hex[i] - 'a' + 'A');
	pgb_buf_init(&b);
	pgb_buf_printf(&b, "  %s\n", hex);
	decodes(b.data, b.len, raw, "hex");
	EVP_EncodeBlock((unsigned char *)b64, raw, sizeof(raw));
	decodes(b64, strlen(b64), raw, "base64");
	/* base64(1) wraps at 76 columns; padding may be left out. */
	b.len = 0;
	pgb_buf_printf(&b, "%.76s\n%s\n", b64, b64 + 76);
	decodes(b.data, b.len, raw, "base64");
	b.len = 0;
	pgb_buf_printf(&b, "%.86s", b64);
	decodes(b.data, b.len, raw, "base64");
	b.len = 0;
	pgb_buf_printf(&b, "vault:v1:%s\n", b64);
	decodes(b.data, b.len, raw, "vault");
	b.len = 0;
	pgb_buf_printf(&b, "vault:v12:%s", b64);
	decodes(b.data, b.len, raw, "vault");

	refused("");
	refused("\n");
	refused(hex + 2);				/* 63 bytes of hex */
	b.len = 0;
	pgb_buf_printf(&b, "%.84s", b64);		/* 63 bytes */
	refused(b.data);
	b.len = 0;
	pgb_buf_printf(&b, "%sAAAA", b64);		/* 67 bytes */
	refused(b.data);
	b.len = 0;
	pgb_buf_printf(&b, "%.40s=%s", b64, b64 + 41);	/* = inside */
	refused(b.data);
	b.len = 0;
	pgb_buf_printf(&b, "vault:v:%s", b64);
	refused(b.data);
	b.len = 0;
	pgb_buf_printf(&b, "vault:v1%s", b64);
	refused(b.data);
	b.len = 0;
	pgb_buf_printf(&b, "%.85s_", b64);		/* URL-safe alphabet */
	refused(b.data);
	pgb_buf_release(&b);
}

/*
 * minisign's public key: "Ed", the key id with its bytes reversed (so
 * minisign shows pgbundle's id), the raw key; the comment names the id.
 */
static void
test_sign_minisign_pubkey(void **state)
{
	struct pgb_pubkey	 k;
	struct pgb_buf		 out;
	struct pgb_diag		 d;
	unsigned char		 blob[48];
	char			*nl;

	(void)state;
	assert_int_equal(pgb_pubkey_load(KEYS "test.pub", &k, &d), 0);
	pgb_buf_init(&out);
	pgb_minisign_pubkey(&k, &out);
	assert_non_null(nl = strchr(out.data, '\n'));
	assert_string_equal(nl + 1 + 56, "\n");
	*nl = '\0';
	assert_string_equal(out.data, "untrusted comment: minisign public key "
	    "18EA5E58FA22921E");
	assert_int_equal(EVP_DecodeBlock(blob, (unsigned char *)nl + 1, 56),
	    42);
	assert_memory_equal(blob, "Ed", 2);
	assert_memory_equal(blob + 2, "\x1e\x92\x22\xfa\x58\x5e\xea\x18", 8);
	assert_memory_equal(blob + 10, k.raw, PGB_ED25519_LEN);
	pgb_buf_release(&out);
	pgb_pubkey_release(&k);
}

/*
 * A .minisig: the file's own signature inside, and a global signature
 * over it and the trusted comment, by the same key.
 */
static void
test_sign_minisign_sig(void **state)
{
	static const char	 msg[] = "bundle bytes";
	struct pgb_pubkey	 k;
	struct pgb_buf		 out, g;
	struct pgb_diag		 d;
	unsigned char		 sig[PGB_SIG_LEN], blob[76], global[66];
	char			 id[PGB_KEYID_LEN + 1], *line[4], *p;
	size_t			 i;

	(void)state;
	assert_int_equal(pgb_keys_load_public(KEYS "test.key", &k, &d), 0);
	assert_int_equal(pgb_keys_sign(KEYS "test.key", msg, sizeof(msg), sig,
	    id, &d), 0);
	pgb_buf_init(&out);
	assert_int_equal(pgb_minisign_sig(KEYS "test.key", &k, sig,
	    "file:app.pgb\tbundle-id:00", &out, &d), 0);
	for (p = out.data, i = 0; i < 4; i++) {
		line[i] = p;
		assert_non_null(p = strchr(p, '\n'));
		*p++ = '\0';
	}
	assert_string_equal(p, "");
	assert_non_null(strstr(line[0], "18EA5E58FA22921E"));
	assert_int_equal(EVP_DecodeBlock(blob, (unsigned char *)line[1],
	    (int)strlen(line[1])), 75);
	assert_memory_equal(blob, "Ed", 2);
	assert_memory_equal(blob + 10, sig, PGB_SIG_LEN);
	assert_string_equal(line[2], "trusted comment: file:app.pgb\t"
	    "bundle-id:00");
	assert_int_equal(EVP_DecodeBlock(global, (unsigned char *)line[3],
	    (int)strlen(line[3])), 66);
	pgb_buf_init(&g);
	pgb_buf_append(&g, sig, PGB_SIG_LEN);
	pgb_buf_puts(&g, "file:app.pgb\tbundle-id:00");
	assert_true(pgb_sig_ok(&k, g.data, g.len, global));
	assert_true(pgb_sig_ok(&k, msg, sizeof(msg), blob + 10));

	/* The other key's private half cannot make k's global signature. */
	out.len = 0;
	assert_int_equal(pgb_minisign_sig(KEYS "other.key", &k, sig, "x", &out,
	    &d), -1);
	assert_int_equal(d.code, PGB_EKEY);
	assert_int_equal(pgb_minisign_sig(KEYS "test.key", &k, sig, "a\nb",
	    &out, &d), -1);
	pgb_buf_release(&g);
	pgb_buf_release(&out);
	pgb_pubkey_release(&k);
}

/* FILE.sig first, then FILE.<16 hex>.sig in name order; nothing else. */
static void
test_sign_sigfiles_find(void **state)
{
	static const char *const names[] = { "app.pgb.sig",
	    "app.pgb.ffffffffffffffff.sig", "app.pgb.0000000000000000.sig",
	    "app.pgb.0000000000000000.minisig", "app.pgb.ABCDEF0123456789.sig",
	    "app.pgb.000000000000000.sig", "app.pgbx.0000000000000000.sig",
	    "app.pgb.sig.sig" };
	struct pgb_buf	  p;
	struct pgb_diag	  d;
	char		**v;
	size_t		  n, i;

	(void)state;
	pgb_buf_init(&p);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		p.len = 0;
		pgb_buf_printf(&p, "%s/%s", dir, names[i]);
		write_file(p.data, "", 0);
	}
	p.len = 0;
	pgb_buf_printf(&p, "%s/app.pgb", dir);
	assert_int_equal(pgb_sigfiles_find(p.data, &v, &n, &d), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0] + strlen(dir), "/app.pgb.sig");
	assert_string_equal(v[1] + strlen(dir),
	    "/app.pgb.0000000000000000.sig");
	assert_string_equal(v[2] + strlen(dir),
	    "/app.pgb.ffffffffffffffff.sig");
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	pgb_buf_release(&p);
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
		cmocka_unit_test(test_sign_decode_forms),
		cmocka_unit_test(test_sign_minisign_pubkey),
		cmocka_unit_test(test_sign_minisign_sig),
		cmocka_unit_test(test_sign_sigfiles_find),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
