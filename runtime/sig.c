/*
 * sig.c - trusted Ed25519 public keys and detached signature checks.
 *
 * Trusts: OpenSSL's PEM, DER and Ed25519 code, once a key file has been
 * read under PGB_KEYFILE_MAX and its PEM label checked.
 * Rejects: key files that are not regular or too large, private keys
 * given as trusted keys, any PEM block but "PUBLIC KEY", two blocks in
 * one file, key types other than Ed25519, and the small-order Ed25519
 * keys that make a forged signature verify on every message.  Never puts
 * key bytes in a diag; key ids are hashes.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "bounds.h"
#include "buf.h"
#include "diag.h"
#include "fileio.h"
#include "hash.h"
#include "sig.h"
#include "banned.h"

#define LABEL_CUT	40	/* a key's label in a list of keys */

_Static_assert(sizeof(PGB_SIG_CAUSE) + 16 + PGB_KEYS_MAX *
    (PGB_KEYID_LEN + 2) <= sizeof(((struct pgb_diag *)0)->detail),
    "the cause and the trusted key ids must fit in pgb_diag.detail");

#define PEM_TEXT_LABEL	"(PEM text)"

static void	 pem_label(const char *, size_t, char *, size_t, size_t *);
static int	 finish_key(struct pgb_pubkey *, const char *,
		    struct pgb_diag *);
static void	 ossl_detail(struct pgb_diag *);
static int	 spki_ed25519(const char *, size_t,
		    unsigned char [PGB_ED25519_LEN]);

/*
 * Small-order points of edwards25519 as 32-byte encodings, with the sign
 * bit (top bit of the last byte) cleared: the identity (y = 1), y = 0
 * (order 4), y = -1 (order 2), the two order-8 points, and the
 * non-canonical encodings of y = 0 (p) and y = 1 (p + 1).
 */
static const unsigned char small_order[][PGB_ED25519_LEN] = {
	{ 0x01 },
	{ 0x00 },
	{ 0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
	{ 0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
	  0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
	  0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a },
	{ 0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
	  0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
	  0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05 },
	{ 0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
	{ 0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
};

/*
 * Find the first "-----BEGIN <label>-----" line in 'text', copy the label
 * and count the BEGIN lines.
 */
static void
pem_label(const char *text, size_t len, char *label, size_t labsz,
    size_t *count_out)
{
	static const char	 begin[] = "-----BEGIN ";
	const char		*s, *e;
	size_t			 i, n, count = 0;

	label[0] = '\0';
	for (i = 0; i < len; i++) {
		if (i > 0 && text[i - 1] != '\n')
			continue;
		if (len - i < sizeof(begin) - 1 ||
		    memcmp(text + i, begin, sizeof(begin) - 1) != 0)
			continue;
		if (count++ > 0)
			continue;
		s = text + i + sizeof(begin) - 1;
		for (e = s; e < text + len && *e != '-' && *e != '\n'; e++)
			continue;
		n = (size_t)(e - s);
		if (n >= labsz)
			n = labsz - 1;
		memcpy(label, s, n);
		label[n] = '\0';
	}
	*count_out = count;
}

/*
 * The raw key of a PEM "PUBLIC KEY" block that is exactly an Ed25519
 * SubjectPublicKeyInfo (RFC 8410: a fixed 12-byte DER prefix, then the 32
 * key bytes), in base64 lines with nothing else between BEGIN and END.
 * -1 for anything else, which is then left to OpenSSL.
 */
static int
spki_ed25519(const char *text, size_t len, unsigned char raw[PGB_ED25519_LEN])
{
	static const char	 begin[] = "-----BEGIN PUBLIC KEY-----\n";
	static const char	 end[] = "-----END PUBLIC KEY-----";
	static const unsigned char prefix[12] = { 0x30, 0x2a, 0x30, 0x05, 0x06,
	    0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00 };
	unsigned char		 der[48];
	char			 b64[64];
	const char		*p, *e;
	size_t			 n = 0;

	if (len < sizeof(begin) - 1 || memcmp(text, begin, sizeof(begin) - 1))
		return -1;
	p = text + sizeof(begin) - 1;
	if ((e = strstr(p, end)) == NULL)
		return -1;
	for (; p < e; p++) {
		if (*p == '\n')
			continue;
		if (n == sizeof(b64) || !(isalnum((unsigned char)*p) ||
		    *p == '+' || *p == '/' || *p == '='))
			return -1;
		b64[n++] = *p;
	}
	/* 44 DER bytes are 60 base64 characters, the last one '='. */
	if (n != 60 || b64[59] != '=' || b64[58] == '=' ||
	    EVP_DecodeBlock(der, (const unsigned char *)b64, (int)n) != 45 ||
	    memcmp(der, prefix, sizeof(prefix)) != 0)
		return -1;
	memcpy(raw, der + sizeof(prefix), PGB_ED25519_LEN);
	return 0;
}

static void
ossl_detail(struct pgb_diag *d)
{
	unsigned long	 e;
	const char	*why;

	e = ERR_peek_last_error();
	why = e ? ERR_reason_error_string(e) : NULL;
	if (why)
		pgb_detail(d, "openssl: %s", why);
	ERR_clear_error();
}

/* Check the type and order of k->pkey, fill raw, id and label. */
static int
finish_key(struct pgb_pubkey *k, const char *label, struct pgb_diag *d)
{
	const char	*type;
	size_t		 rawlen = PGB_ED25519_LEN;

	snprintf(k->label, sizeof(k->label), "%s", label);
	if (EVP_PKEY_get_base_id(k->pkey) != EVP_PKEY_ED25519) {
		type = EVP_PKEY_get0_type_name(k->pkey);
		pgb_fail(d, PGB_EKEY, "unsupported key type '%s' in '%s' "
		    "(need Ed25519)", type ? type : "unknown", label);
		goto fail;
	}
	if (EVP_PKEY_get_raw_public_key(k->pkey, k->raw, &rawlen) != 1 ||
	    rawlen != PGB_ED25519_LEN) {
		pgb_fail(d, PGB_EKEY, "cannot read public key '%s'", label);
		ossl_detail(d);
		goto fail;
	}
	pgb_key_id(k->raw, k->id);
	if (pgb_pubkey_small_order(k->raw)) {
		pgb_fail(d, PGB_EKEY, "public key '%s' has small order", k->id);
		pgb_detail(d, "from '%s'; with such a key any forged signature "
		    "verifies", label);
		goto fail;
	}
	return 0;
fail:
	pgb_pubkey_release(k);
	return -1;
}

int
pgb_pubkey_load(const char *src, struct pgb_pubkey *k, struct pgb_diag *d)
{
	BIO		*bio;
	char		*text = NULL, label[64];
	unsigned char	 raw[PGB_ED25519_LEN];
	const char	*name;
	size_t		 len, nblocks;
	int		 is_pem;

	memset(k, 0, sizeof(*k));
	is_pem = strncmp(src, "-----BEGIN", 10) == 0;
	if (is_pem) {
		name = PEM_TEXT_LABEL;
		len = strlen(src);
		if (len > PGB_KEYFILE_MAX)
			return pgb_fail(d, PGB_EKEY, "public key %s is %zu "
			    "bytes, over the limit of %u", name, len,
			    PGB_KEYFILE_MAX);
		text = pgb_xstrdup(src);
	} else {
		name = src;
		if (pgb_file_read("public key", src, PGB_KEYFILE_MAX,
		    0, PGB_EKEY, &text, &len, d) == -1)
			return -1;
		if (strlen(text) != len) {
			free(text);
			return pgb_fail(d, PGB_EKEY, "cannot read public key "
			    "'%s'", name);
		}
	}
	pem_label(text, len, label, sizeof(label), &nblocks);
	if (nblocks == 0 || (strstr(label, "PRIVATE KEY") == NULL &&
	    strcmp(label, "PUBLIC KEY") != 0)) {
		pgb_fail(d, PGB_EKEY, "cannot read public key '%s'", name);
		if (nblocks)
			pgb_detail(d, "expected a PEM \"PUBLIC KEY\" block, "
			    "found \"%s\"", label);
		else
			pgb_detail(d, "no PEM block");
		goto fail;
	}
	if (strstr(label, "PRIVATE KEY") != NULL) {
		pgb_fail(d, PGB_EKEY, "'%s' is a private key, not a public "
		    "key", name);
		pgb_detail(d, "give the public half, made with "
		    "'openssl pkey -in KEY -pubout' or 'pgbundle keygen'");
		goto fail;
	}
	if (nblocks > 1) {
		pgb_fail(d, PGB_EKEY, "'%s' holds more than one PEM block",
		    name);
		pgb_detail(d, "give one public key per file");
		goto fail;
	}
	/* The common case without OpenSSL's decoders, which cost more than
	 * verifying a bundle of a hundred migrations; anything else goes the
	 * general way, with its own error. */
	if (spki_ed25519(text, len, raw) == 0) {
		k->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
		    raw, PGB_ED25519_LEN);
	} else {
		if ((bio = BIO_new_mem_buf(text, (int)len)) == NULL) {
			pgb_fail(d, PGB_EINTERNAL, "out of memory");
			goto fail;
		}
		k->pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	if (k->pkey == NULL) {
		pgb_fail(d, PGB_EKEY, "cannot read public key '%s'", name);
		ossl_detail(d);
		goto fail;
	}
	OPENSSL_cleanse(text, len);
	free(text);
	return finish_key(k, name, d);
fail:
	ERR_clear_error();
	OPENSSL_cleanse(text, len);
	free(text);
	return -1;
}

int
pgb_pubkey_from_raw(const unsigned char raw[PGB_ED25519_LEN],
    const char *label, struct pgb_pubkey *k, struct pgb_diag *d)
{
	memset(k, 0, sizeof(*k));
	k->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw,
	    PGB_ED25519_LEN);
	if (k->pkey == NULL) {
		pgb_fail(d, PGB_EKEY, "cannot read public key '%s'", label);
		ossl_detail(d);
		return -1;
	}
	return finish_key(k, label, d);
}

void
pgb_pubkey_release(struct pgb_pubkey *k)
{
	EVP_PKEY_free(k->pkey);
	memset(k, 0, sizeof(*k));
}

int
pgb_pubkey_small_order(const unsigned char raw[PGB_ED25519_LEN])
{
	unsigned char	 y[PGB_ED25519_LEN];
	size_t		 i;
	int		 hit = 0;

	memcpy(y, raw, sizeof(y));
	y[PGB_ED25519_LEN - 1] &= 0x7f;
	for (i = 0; i < sizeof(small_order) / sizeof(small_order[0]); i++)
		hit |= memcmp(y, small_order[i], sizeof(y)) == 0;
	return hit;
}

void
pgb_key_id(const unsigned char raw[PGB_ED25519_LEN],
    char out[PGB_KEYID_LEN + 1])
{
	unsigned char	 h[PGB_SHA256_LEN];

	pgb_sha256(raw, PGB_ED25519_LEN, h);
	pgb_hex(h, PGB_KEYID_LEN / 2, out);
}

int
pgb_sig_ok(const struct pgb_pubkey *k, const void *msg, size_t len,
    const unsigned char sig[PGB_SIG_LEN])
{
	EVP_MD_CTX	*ctx;
	int		 ok;

	if (k->pkey == NULL || pgb_pubkey_small_order(k->raw))
		return 0;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return 0;
	ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
	    EVP_DigestVerify(ctx, sig, PGB_SIG_LEN, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

int
pgb_sig_verify(const struct pgb_pubkey *keys, size_t n, const void *msg,
    size_t len, const unsigned char *sig, size_t siglen, size_t *which,
    struct pgb_diag *d)
{
	struct pgb_buf	 ids;
	size_t		 i;
	int		 labels;

	if (siglen != PGB_SIG_LEN)
		return pgb_fail(d, PGB_EBUNDLE, "signature is %zu bytes, "
		    "expected %u", siglen, PGB_SIG_LEN);
	for (i = 0; i < n; i++) {
		if (pgb_sig_ok(&keys[i], msg, len, sig)) {
			if (which)
				*which = i;
			return 0;
		}
	}
	pgb_fail(d, PGB_EBUNDLE, "signature does not match any trusted key");
	if (n == 0) {
		pgb_detail(d, "no trusted key was given");
		return -1;
	}
	pgb_buf_init(&ids);
	/* Labels help a reader; the key ids alone always fit. */
	for (labels = 1; labels >= 0; labels--) {
		ids.len = 0;
		pgb_buf_printf(&ids, "%s\ntrusted key%s: ", PGB_SIG_CAUSE,
		    n == 1 ? "" : "s");
		pgb_keys_list(&ids, keys, NULL, n, labels);
		if (ids.len < sizeof(d->detail))
			break;
	}
	pgb_detail(d, "%s", ids.data);
	pgb_buf_release(&ids);
	return -1;
}

void
pgb_keys_list(struct pgb_buf *b, const struct pgb_pubkey *keys,
    const size_t *idx, size_t n, int labels)
{
	const struct pgb_pubkey	*k;
	size_t			 i, len = 0;

	if (n == 0)
		pgb_buf_puts(b, "none");
	for (i = 0; i < n; i++) {
		k = &keys[idx != NULL ? idx[i] : i];
		pgb_buf_printf(b, "%s%s", i ? ", " : "", k->id);
		/* The end of a long path names the file. */
		if (labels && (len = strlen(k->label)) > LABEL_CUT)
			pgb_buf_printf(b, " (...%s)", k->label + len -
			    (LABEL_CUT - 3));
		else if (labels && len > 0)
			pgb_buf_printf(b, " (%s)", k->label);
	}
}
