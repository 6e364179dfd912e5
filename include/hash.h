#ifndef PGB_HASH_H
#define PGB_HASH_H

/*
 * hash.h - SHA-256 and the hex forms the manifest and history use.
 */
#include <stddef.h>

#define PGB_SHA256_LEN	32
#define PGB_HEX256_LEN	64	/* without the NUL */

void	pgb_sha256(const void *, size_t, unsigned char out[PGB_SHA256_LEN]);
/* Writes 2*n hex digits and a NUL into 'out' (room for 2*n+1). */
void	pgb_hex(const unsigned char *, size_t, char *out);
/* Parses exactly 2*n lowercase hex digits; -1 on anything else. */
int	pgb_unhex(const char *, size_t n, unsigned char *out);
/* Constant-time equality of two digests. */
int	pgb_digest_eq(const unsigned char *, const unsigned char *, size_t);
/*
 * The chained hash of a migration: SHA-256 over the previous link, the
 * version in decimal and the migration's own SHA-256.  The first link's
 * 'prev' is all zero.  A database whose history chain matches a bundle's
 * chain at version V holds exactly the bundle's prefix up to V.
 */
void	pgb_chain(const unsigned char prev[PGB_SHA256_LEN], long long version,
	    const unsigned char sha[PGB_SHA256_LEN],
	    unsigned char out[PGB_SHA256_LEN]);

#endif /* PGB_HASH_H */
