#ifndef PGB_KEYS_H
#define PGB_KEYS_H

/*
 * keys.h - the compiler's side of signing: make an Ed25519 key pair and
 * sign a bundle with the private half.  The files are the PEM that
 * `openssl genpkey -algorithm ed25519` ("PRIVATE KEY", PKCS#8) and
 * `openssl pkey -pubout` ("PUBLIC KEY", SubjectPublicKeyInfo) write, so
 * keys made by either tool work with the other.
 */
#include <stddef.h>

#include "bounds.h"
#include "buf.h"
#include "diag.h"
#include "sig.h"

/*
 * Write a new key pair: NAME.key (private, mode 0600) and NAME.pub
 * (public, mode 0644), both created exclusively: an existing file is
 * never overwritten ("key file 'NAME.key' already exists").  0 with the
 * new key's id in 'id'; -1 with PGB_EKEY (or PGB_EINTERNAL for an I/O
 * error), and then neither file is left behind.
 */
int	pgb_keys_generate(const char *name, char id[PGB_KEYID_LEN + 1],
	    struct pgb_diag *d);

/*
 * The permission bits of private key 'path' when group or others may
 * read or write it (as ssh warns of), else 0; 0 too when it cannot be
 * stat'ed (loading it then says why).
 */
unsigned	pgb_keys_loose_mode(const char *path);

/*
 * Sign 'len' bytes at 'msg' with the Ed25519 private key in the PEM file
 * 'keypath' (at most PGB_KEYFILE_MAX bytes, unencrypted).  Ed25519 is
 * deterministic: the same key and message give the same signature.
 * 0 with the signature in 'sig' and the key id of its public half in
 * 'id'.  -1 with PGB_EKEY for an unreadable file, a public key, an
 * encrypted key or another key type.  Key bytes never reach 'd'.
 */
int	pgb_keys_sign(const char *keypath, const void *msg, size_t len,
	    unsigned char sig[PGB_SIG_LEN], char id[PGB_KEYID_LEN + 1],
	    struct pgb_diag *d);

/*
 * The public half of the private key in 'keypath', as a trusted key (to
 * re-verify what was just signed).  Release with pgb_pubkey_release().
 */
int	pgb_keys_load_public(const char *keypath, struct pgb_pubkey *pub,
	    struct pgb_diag *d);

/*
 * The public key of 'path', which holds either half: a private key (its
 * public half, as pgb_keys_load_public()) or a public key (as
 * pgb_pubkey_load()).  Release with pgb_pubkey_release().
 */
int	pgb_keys_load_either(const char *path, struct pgb_pubkey *pub,
	    struct pgb_diag *d);

/* Append k as a PEM "PUBLIC KEY" block, as `openssl pkey -pubout`. */
int	pgb_pubkey_pem(const struct pgb_pubkey *k, struct pgb_buf *out,
	    struct pgb_diag *d);

#endif /* PGB_KEYS_H */
