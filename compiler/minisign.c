/*
 * minisign.c - minisign's public key and signature files, written from
 * minisign's documented formats, so that `minisign -Vm FILE -p KEY.pub`
 * checks a bundle with the same Ed25519 key that pgapply trusts.
 *
 * A public key file is an "untrusted comment:" line, then the base64 of
 * the algorithm "Ed", an 8-byte key id and the 32-byte public key.  A
 * signature file is an "untrusted comment:" line; the base64 of "Ed"
 * (a signature over the raw file; "ED" would be over its BLAKE2b hash),
 * the key id and the 64-byte signature; a "trusted comment:" line; and
 * the base64 of the global signature, Ed25519 over the 64-byte signature
 * followed by the trusted comment's text.  So the signature inside is
 * the very one in FILE.sig.  minisign shows a key id as a little-endian
 * 64-bit number in hex: the id bytes are pgbundle's key id reversed, and
 * both tools show the same id.
 *
 * Trusts: keys.c to sign.  Rejects: a trusted comment that is not one
 * line of printable text.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "bounds.h"
#include "buf.h"
#include "diag.h"
#include "hash.h"
#include "keys.h"
#include "sig.h"
#include "sign.h"
#include "banned.h"

#define MS_ALG		"Ed"
#define MS_IDLEN	8
#define MS_COMMENT_MAX	1024	/* minisign's limit on a trusted comment */

#if PGB_KEYID_LEN != 2 * MS_IDLEN
#error "the minisign key id is pgbundle's key id"
#endif

void
pgb_base64_append(struct pgb_buf *out, const void *p, size_t len)
{
	size_t	need = 4 * ((len + 2) / 3);

	pgb_buf_reserve(out, need);
	EVP_EncodeBlock((unsigned char *)out->data + out->len, p, (int)len);
	out->len += need;
	out->data[out->len] = '\0';
}

/* The key id as minisign stores it: the bytes of k->id, reversed. */
static void
minisign_id(const struct pgb_pubkey *k, unsigned char id[MS_IDLEN])
{
	unsigned char	be[MS_IDLEN];
	size_t		i;

	(void)pgb_unhex(k->id, MS_IDLEN, be);
	for (i = 0; i < MS_IDLEN; i++)
		id[i] = be[MS_IDLEN - 1 - i];
}

/* k->id in upper case, as minisign prints key ids. */
static void
upper_id(const struct pgb_pubkey *k, char out[PGB_KEYID_LEN + 1])
{
	size_t	i;

	for (i = 0; i < PGB_KEYID_LEN; i++)
		out[i] = k->id[i] >= 'a' && k->id[i] <= 'f' ?
		    (char)(k->id[i] - 'a' + 'A') : k->id[i];
	out[PGB_KEYID_LEN] = '\0';
}

void
pgb_minisign_pubkey(const struct pgb_pubkey *k, struct pgb_buf *out)
{
	unsigned char	blob[2 + MS_IDLEN + PGB_ED25519_LEN];
	char		id[PGB_KEYID_LEN + 1];

	upper_id(k, id);
	memcpy(blob, MS_ALG, 2);
	minisign_id(k, blob + 2);
	memcpy(blob + 2 + MS_IDLEN, k->raw, PGB_ED25519_LEN);
	pgb_buf_printf(out, "untrusted comment: minisign public key %s\n", id);
	pgb_base64_append(out, blob, sizeof(blob));
	pgb_buf_puts(out, "\n");
}

int
pgb_minisign_sig(const char *keypath, const struct pgb_pubkey *k,
    const unsigned char sig[PGB_SIG_LEN], const char *comment,
    struct pgb_buf *out, struct pgb_diag *d)
{
	unsigned char	 blob[2 + MS_IDLEN + PGB_SIG_LEN];
	unsigned char	 global[PGB_SIG_LEN];
	unsigned char	*msg;
	char		 id[PGB_KEYID_LEN + 1], gid[PGB_KEYID_LEN + 1];
	size_t		 clen = strlen(comment), i;
	int		 rc;

	if (clen > MS_COMMENT_MAX)
		return pgb_fail(d, PGB_EINTERNAL, "trusted comment is %zu bytes, "
		    "over minisign's limit of %u", clen, MS_COMMENT_MAX);
	for (i = 0; i < clen; i++)
		if ((unsigned char)comment[i] < 0x20 && comment[i] != '\t')
			return pgb_fail(d, PGB_EINTERNAL, "trusted comment "
			    "holds a control character");
	/* The global signature covers the signature and the comment. */
	msg = pgb_xmalloc(PGB_SIG_LEN + clen);
	memcpy(msg, sig, PGB_SIG_LEN);
	memcpy(msg + PGB_SIG_LEN, comment, clen);
	rc = pgb_keys_sign(keypath, msg, PGB_SIG_LEN + clen, global, gid, d);
	free(msg);
	if (rc == -1)
		return -1;
	if (strcmp(gid, k->id) != 0)
		return pgb_fail(d, PGB_EKEY, "'%s' is key %s, not key %s",
		    keypath, gid, k->id);
	upper_id(k, id);
	memcpy(blob, MS_ALG, 2);
	minisign_id(k, blob + 2);
	memcpy(blob + 2 + MS_IDLEN, sig, PGB_SIG_LEN);
	pgb_buf_printf(out, "untrusted comment: signature from pgbundle, "
	    "minisign key %s\n", id);
	pgb_base64_append(out, blob, sizeof(blob));
	pgb_buf_printf(out, "\ntrusted comment: %s\n", comment);
	pgb_base64_append(out, global, sizeof(global));
	pgb_buf_puts(out, "\n");
	return 0;
}
