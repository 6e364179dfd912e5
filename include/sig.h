#ifndef PGB_SIG_H
#define PGB_SIG_H

/*
 * sig.h - trusted Ed25519 public keys, their ids, and detached signature
 * checks.  A key is the PEM "PUBLIC KEY" (SubjectPublicKeyInfo) file that
 * `openssl pkey -pubout` writes, or that PEM text itself (as a Kubernetes
 * Secret puts it in PGAPPLY_PUBKEY).
 */
#include <stddef.h>
#include <stdio.h>

#include <openssl/evp.h>

#include "bounds.h"
#include "diag.h"

#define PGB_KEYID_LEN	16	/* hex digits, without the NUL */
#define PGB_ED25519_LEN	32	/* raw public key */
#define PGB_KEYLABEL_MAX 64	/* where a key came from, for messages */

struct pgb_pubkey {
	EVP_PKEY	*pkey;
	unsigned char	 raw[PGB_ED25519_LEN];
	char		 id[PGB_KEYID_LEN + 1];
	char		 label[PGB_KEYLABEL_MAX];	/* its file (cut to
					   fit), "(PEM text)", or FILE:LINE */
};

/*
 * Load a trusted key.  'path_or_pem' is PEM text when it starts with
 * "-----BEGIN", else a file path (read up to PGB_KEYFILE_MAX bytes).
 * Only an Ed25519 "PUBLIC KEY" block is accepted: a private key, another
 * key type, a file holding two PEM blocks, garbage or a truncated PEM is
 * refused, and so is a small-order key (with one, a forged signature
 * verifies on any message).  0: 'k' holds the key, release it with
 * pgb_pubkey_release().  -1: PGB_EKEY, 'k' holds nothing.
 */
int	pgb_pubkey_load(const char *path_or_pem, struct pgb_pubkey *k,
	    struct pgb_diag *d);
void	pgb_pubkey_release(struct pgb_pubkey *);	/* idempotent */

/*
 * Make a pgb_pubkey from a raw 32-byte key (as keys.c derives it from a
 * private key).  Same checks and results as pgb_pubkey_load(); 'label'
 * names the key in messages.
 */
int	pgb_pubkey_from_raw(const unsigned char raw[PGB_ED25519_LEN],
	    const char *label, struct pgb_pubkey *k, struct pgb_diag *d);

/* 1 if 'raw' is one of the small-order points (any encoding). */
int	pgb_pubkey_small_order(const unsigned char raw[PGB_ED25519_LEN]);

/* The first 16 hex digits of SHA-256 of the raw key, NUL-terminated. */
void	pgb_key_id(const unsigned char raw[PGB_ED25519_LEN],
	    char out[PGB_KEYID_LEN + 1]);

/*
 * Why a signature does not verify.  Ed25519 cannot tell the two causes
 * apart, and the manifest that names the signer is not read before the
 * signature verifies, so the messages name both.
 */
#define PGB_SIG_CAUSE	"the bundle or its signature changed after " \
			"signing, or it was signed by a key not trusted here"

/*
 * Check the Ed25519 signature 'sig' of 'siglen' bytes over 'msg' with
 * each of the 'n' keys in turn.  0: *which (when not NULL) is the index of
 * the key that verified it.  -1 with PGB_EBUNDLE: "signature is N bytes,
 * expected 64", or "signature does not match any trusted key" with
 * PGB_SIG_CAUSE and the trusted keys ("trusted key(s): ID (label), ...")
 * in the detail, or "no trusted key was given" when 'n' is 0.
 */
int	pgb_sig_verify(const struct pgb_pubkey *keys, size_t n,
	    const void *msg, size_t len, const unsigned char *sig,
	    size_t siglen, size_t *which, struct pgb_diag *d);

/*
 * Append "ID (label), ID (label)" for keys[idx[0..n-1]] (idx NULL: the
 * first 'n' keys) to 'b', a label over 40 bytes as "..." and its last
 * 37, labels left out when 'labels' is 0; "none" when 'n' is 0.
 */
struct pgb_buf;
void	pgb_keys_list(struct pgb_buf *b, const struct pgb_pubkey *keys,
	    const size_t *idx, size_t n, int labels);

/*
 * 1 if 'sig' is k's Ed25519 signature of the 'len' bytes at 'msg'; 0 if
 * not, or when 'k' is empty or of small order.
 */
int	pgb_sig_ok(const struct pgb_pubkey *k, const void *msg, size_t len,
	    const unsigned char sig[PGB_SIG_LEN]);

#endif /* PGB_SIG_H */
