#ifndef PGB_HASH_H
#define PGB_HASH_H

/*
 * hash.h - SHA-256 and the hex forms the manifest and history use.
 */
#include <stddef.h>

#define PGB_SHA256_LEN	32
#define PGB_HEX256_LEN	64	/* without the NUL */

void	pgb_sha256(const void *, size_t, unsigned char out[PGB_SHA256_LEN]);
/*
 * SHA-256 of a message that comes in pieces: pgb_sha256_start, then
 * pgb_sha256_add for each piece, then pgb_sha256_done; the context is
 * reused from one message to the next.  pgb_sha256_new aborts when out
 * of memory, as pgb_xmalloc does.
 */
struct pgb_sha256;
struct pgb_sha256 *pgb_sha256_new(void);
void	pgb_sha256_free(struct pgb_sha256 *);	/* accepts NULL */
void	pgb_sha256_start(struct pgb_sha256 *);
void	pgb_sha256_add(struct pgb_sha256 *, const void *, size_t);
void	pgb_sha256_done(struct pgb_sha256 *, unsigned char out[PGB_SHA256_LEN]);
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
