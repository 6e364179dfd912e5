/*
 * hash.c - SHA-256 through libcrypto, hex, and the migration chain.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "hash.h"
#include "banned.h"

/*
 * Fetched once and kept for the life of the process: an implicit fetch on
 * every call (EVP_sha256()) costs about as much as hashing a small
 * migration, and a bundle has one hash per script and per chain link.
 */
static const EVP_MD *
sha256_md(void)
{
	static EVP_MD	*md;

	if (md == NULL && (md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		abort();
	return md;
}

/*
 * The EVP calls fail only on allocation failure or a broken provider:
 * abort, as pgb_xmalloc() does when out of memory.
 */
struct pgb_sha256 *
pgb_sha256_new(void)
{
	EVP_MD_CTX	*ctx;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		abort();
	return (struct pgb_sha256 *)ctx;
}

void
pgb_sha256_free(struct pgb_sha256 *h)
{
	EVP_MD_CTX_free((EVP_MD_CTX *)h);
}

void
pgb_sha256_start(struct pgb_sha256 *h)
{
	if (EVP_DigestInit_ex2((EVP_MD_CTX *)h, sha256_md(), NULL) != 1)
		abort();
}

void
pgb_sha256_add(struct pgb_sha256 *h, const void *p, size_t n)
{
	if (EVP_DigestUpdate((EVP_MD_CTX *)h, p, n) != 1)
		abort();
}

void
pgb_sha256_done(struct pgb_sha256 *h, unsigned char out[PGB_SHA256_LEN])
{
	unsigned int	len = PGB_SHA256_LEN;

	if (EVP_DigestFinal_ex((EVP_MD_CTX *)h, out, &len) != 1)
		abort();
}

/*
 * One context for the life of the process: a bundle has a hash per chain
 * link, and allocating one each time costs a fifth of hashing a link.
 */
void
pgb_sha256(const void *p, size_t n, unsigned char out[PGB_SHA256_LEN])
{
	static struct pgb_sha256	*h;

	if (h == NULL)
		h = pgb_sha256_new();
	pgb_sha256_start(h);
	pgb_sha256_add(h, p, n);
	pgb_sha256_done(h, out);
}

void
pgb_hex(const unsigned char *p, size_t n, char *out)
{
	static const char	digits[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Lowercase hex digit values, -1 for every other byte: a lookup, since a
 * 1000-migration manifest has 64,000 of them to read. */
static const signed char hexval[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6,
	['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12,
	['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

int
pgb_unhex(const char *s, size_t n, unsigned char *out)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i;
	int			 hi, lo;

	/* Stored one more than the value, so that 0 means "not a digit". */
	for (i = 0; i < n; i++) {
		hi = hexval[u[2 * i]] - 1;
		lo = hexval[u[2 * i + 1]] - 1;
		if ((hi | lo) < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return s[2 * n] == '\0' || s[2 * n] == ' ' || s[2 * n] == '\n' ? 0 : -1;
}

int
pgb_digest_eq(const unsigned char *a, const unsigned char *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void
pgb_chain(const unsigned char prev[PGB_SHA256_LEN], long long version,
    const unsigned char sha[PGB_SHA256_LEN], unsigned char out[PGB_SHA256_LEN])
{
	unsigned char	msg[PGB_SHA256_LEN * 2 + 24];
	int		n;

	memcpy(msg, prev, PGB_SHA256_LEN);
	n = snprintf((char *)msg + PGB_SHA256_LEN, 24, "%lld", version);
	memcpy(msg + PGB_SHA256_LEN + n, sha, PGB_SHA256_LEN);
	pgb_sha256(msg, PGB_SHA256_LEN * 2 + (size_t)n, out);
}
