#ifndef PGB_BUNDLE_H
#define PGB_BUNDLE_H

/*
 * bundle.h - read a bundle and prove it is what was signed, before any of
 * it is used (DESIGN.md principle 2).  The file is read whole under
 * PGB_BUNDLE_MAX, its detached Ed25519 signature is checked against the
 * trusted keys, and only then is the tar.gz read, under the caps of
 * bounds.h, with every entry matched against the manifest by name, size
 * and SHA-256.
 */
#include <stddef.h>

#include "diag.h"
#include "manifest.h"
#include "sig.h"

struct pgb_bundle_opts {
	const char	 *path;		/* the bundle file */
	const char *const *sigpaths;	/* signature files (--signature);
					   none: path + ".sig" */
	size_t		  nsigpaths;	/* at most PGB_KEYS_MAX */
	const char *const *pubkeys;	/* trusted keys: paths or PEM text */
	size_t		  npubkeys;	/* at most PGB_KEYS_MAX */
	const char	 *trust;	/* a trust file instead of pubkeys */
	size_t		  min_signatures; /* distinct keys that must sign;
					   0: 1, or the trust file's */
	int		  allow_unsigned; /* accept a bundle with no .sig */
	const char	 *expect_target; /* NULL: any target */
	int		  check_only;	/* check every script, keep none:
					   each 'text' stays NULL */
};

struct pgb_bundle {
	/* Verified manifest; each script's 'text' points at its bytes. */
	struct pgb_manifest manifest;
	char	 key_id[PGB_KEYID_LEN + 1];	/* first key that verified
						   it; "" when unsigned */
	/* Every trusted key whose signature verified, in trust order. */
	char	 signers[PGB_KEYS_MAX][PGB_KEYID_LEN + 1];
	size_t	 nsigners;
	size_t	 required;		/* signers that were required */
	size_t	 ntrusted;		/* distinct trusted keys */
	size_t	 filelen;		/* bytes of the bundle file */
	/*
	 * The script texts, each followed by a NUL: they belong to the
	 * bundle, in one mapping that pgb_bundle_free unmaps.
	 */
	unsigned char *arena;
	size_t	 arenalen;
};

/*
 * Read, verify and unpack the bundle that 'o' names.  Its signatures
 * (trust.h) are read and checked first: at least min_signatures distinct
 * trusted keys must have signed.  0: *out is a new bundle, release it
 * with pgb_bundle_free().  -1: *out is NULL and 'd' says why: PGB_EKEY
 * for a trusted key or trust file that cannot be used, PGB_EUSAGE for a
 * threshold above the number of keys, PGB_EBUNDLE for every fault of the
 * bundle or its signatures.  When a signature file exists, the
 * signatures must meet the threshold, even with allow_unsigned.
 */
int	pgb_bundle_open(const struct pgb_bundle_opts *o,
	    struct pgb_bundle **out, struct pgb_diag *d);

/*
 * The same checks on a bundle already in memory (the compiler re-verifies
 * what it just wrote).  'sig' NULL means unsigned.  'data' is only read
 * during the call; *out keeps no pointer into it.  'filelen' is 'len'.
 */
int	pgb_bundle_load(const unsigned char *data, size_t len,
	    const unsigned char *sig, size_t siglen,
	    const struct pgb_pubkey *keys, size_t nkeys, int allow_unsigned,
	    const char *expect_target, struct pgb_bundle **out,
	    struct pgb_diag *d);

void	pgb_bundle_free(struct pgb_bundle *);	/* accepts NULL */

#endif /* PGB_BUNDLE_H */
