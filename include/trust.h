#ifndef PGB_TRUST_H
#define PGB_TRUST_H

/*
 * trust.h - whose signatures a bundle needs, and the check of them.  The
 * trusted keys come from --pubkey (or PGAPPLY_PUBKEY) or from a trust
 * file, which also says how many distinct keys must have signed
 * (min-signatures).  Every signature is a detached 64-byte Ed25519
 * signature over the exact bundle bytes in a file of its own: FILE.sig
 * (or the files --signature names), and FILE.<keyid>.sig for each trusted
 * key (pgbundle cosign).  All of them are checked before any archive code
 * sees a byte of the bundle (DESIGN.md principle 2).
 */
#include <stddef.h>

#include "bounds.h"
#include "diag.h"
#include "sig.h"

#define PGB_ANY_KEY	((size_t)-1)

struct pgb_trust {
	struct pgb_pubkey keys[PGB_KEYS_MAX];	/* distinct keys */
	size_t	 nkeys;
	size_t	 min;		/* distinct keys that must have signed */
};

struct pgb_sigfile {
	char		*path;		/* for messages; owned */
	unsigned char	 sig[PGB_SIG_LEN];
	size_t		 key;		/* the trusted key its name is for
					   (FILE.<keyid>.sig), or
					   PGB_ANY_KEY */
};

struct pgb_sigset {
	struct pgb_sigfile v[PGB_SIGFILES_MAX];
	size_t	 n;
};

/* The distinct trusted keys whose signature verified, in key order. */
struct pgb_signers {
	size_t	 key[PGB_KEYS_MAX];	/* indexes into the keys checked */
	size_t	 n;
};

void	pgb_trust_init(struct pgb_trust *);		/* no key, min 1 */
void	pgb_trust_release(struct pgb_trust *);		/* idempotent */

/*
 * Add the key 'src' (a path or PEM text, as pgb_pubkey_load() reads it)
 * unless 't' holds it already.  -1 with PGB_EKEY as pgb_pubkey_load(), or
 * "too many trusted keys (at most 16)".
 */
int	pgb_trust_add(struct pgb_trust *t, const char *src,
	    struct pgb_diag *d);

/*
 * Read the trust file 'path' (at most PGB_TRUSTFILE_MAX bytes) into the
 * empty 't': one PEM "PUBLIC KEY" block per trusted key, an optional
 * "min-signatures N" line, '#' comments and blank lines.  Each key is
 * labelled FILE:LINE.  -1 with PGB_EKEY naming the file and line: an
 * unreadable file, another line, a key that pgb_pubkey_load() refuses, a
 * key listed twice, no key, or min-signatures above the number of keys.
 */
int	pgb_trust_load(struct pgb_trust *t, const char *path,
	    struct pgb_diag *d);

/*
 * Read the signatures of the bundle file 'bundle' into 's': each of the
 * 'npaths' files 'paths' (each must exist), or with none 'bundle'.sig
 * when it exists; then 'bundle'.<keyid>.sig for each of the 'nkeys'
 * keys, when it exists.  Every file read must be a regular file of
 * exactly PGB_SIG_LEN bytes.  0; or -1 with PGB_EBUNDLE, and 's' holds
 * nothing.  Release with pgb_sigset_release().
 */
int	pgb_sigset_read(struct pgb_sigset *s, const char *bundle,
	    const char *const *paths, size_t npaths,
	    const struct pgb_pubkey *keys, size_t nkeys, struct pgb_diag *d);
void	pgb_sigset_release(struct pgb_sigset *);	/* idempotent */

/* Add one signature held in memory; -1 when 's' is full. */
int	pgb_sigset_add(struct pgb_sigset *s, const char *path,
	    const unsigned char sig[PGB_SIG_LEN], size_t key);

/*
 * Check the signatures in 's' over the 'len' bytes at 'msg': a file
 * named for a key is checked with that key, any other with each key.
 * 0 when at least 'min' distinct keys signed; *who lists them.  -1 with
 * PGB_EBUNDLE otherwise: "signature does not match any trusted key" when
 * one signature was needed and none verified, else "signed by N trusted
 * key(s), M required", the detail naming the keys that signed, those
 * missing and the files that did not verify.
 */
int	pgb_trust_check(const struct pgb_pubkey *keys, size_t nkeys,
	    size_t min, const void *msg, size_t len,
	    const struct pgb_sigset *s, struct pgb_signers *who,
	    struct pgb_diag *d);

#endif /* PGB_TRUST_H */
