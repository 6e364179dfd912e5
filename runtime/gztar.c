/*
 * gztar.c - inflate a bundle's gzip member and feed the tar stream to
 * the ustar check, which is also the reader: it hands each entry to the
 * sink bundle.c gives (no other tar reader ever parses a header).
 *
 * Trusts: zlib's inflate with bytes from memory; nothing in the bytes.
 * Rejects: anything but one gzip member (zlib checks its header and, at
 * the end, the trailer's CRC-32 and length), a truncated member,
 * decompression past PGB_RATIO_MAX times the compressed size (above
 * PGB_RATIO_FLOOR), a tar stream the ustar check refuses, and bytes after
 * the member (a second member or anything appended).
 *
 * The member is inflated once, through a window that is reused; when the
 * caller allows it, the compressed bytes already inflated are given back
 * to the system as the reading goes on, so a large bundle is not held
 * twice.
 */
#include <sys/mman.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ZLIB_CONST
#include <zlib.h>

#include "bounds.h"
#include "buf.h"
#include "diag.h"
#include "gztar.h"
#include "ustar.h"
#include "banned.h"

#define CHUNK		(64u * 1024)	/* tar bytes inflated at once */
#define GIVE_BACK	(1024u * 1024)	/* compressed bytes freed at once */

/* One inflation: the gzip member in, the ustar check out. */
struct feed {
	z_stream		 z;
	struct pgb_ustar	 tar;
	int			 zend;		/* the gzip member ended */
	unsigned char		*win;		/* inflated tar bytes */
	unsigned char		*data;		/* compressed; given back
						   when not NULL */
	size_t			 complen;
	size_t			 given;		/* bytes of data given back */
	struct pgb_diag		*d;
};

static int	inflate_failed(struct feed *, const char *);
static int	check_ratio(struct feed *);
static void	give_back(struct feed *);
static int	inflate_some(struct feed *, size_t *);
static int	feed_all(struct feed *);

static int
inflate_failed(struct feed *f, const char *why)
{
	pgb_fail(f->d, PGB_EBUNDLE, "bundle is not a valid tar.gz archive");
	pgb_detail(f->d, "zlib: %s", why);
	return -1;
}

/* Decompression so far against the ratio cap. */
static int
check_ratio(struct feed *f)
{
	uint64_t	out = f->z.total_out;

	if (out > PGB_RATIO_FLOOR && out > (uint64_t)f->complen * PGB_RATIO_MAX)
		return pgb_fail(f->d, PGB_EBUNDLE, "bundle expands more than "
		    "%u times: %llu bytes from %zu", PGB_RATIO_MAX,
		    (unsigned long long)out, f->complen);
	return 0;
}

/*
 * Compressed bytes zlib has consumed are never read again: give whole
 * pages of them back to the system.
 */
static void
give_back(struct feed *f)
{
	size_t	done, page, upto;

	if (f->data == NULL)
		return;
	done = (size_t)(f->z.next_in - f->data);
	if (done - f->given < GIVE_BACK)
		return;
	page = (size_t)sysconf(_SC_PAGESIZE);
	upto = done / page * page;
	if (upto > f->given &&
	    madvise(f->data + f->given, upto - f->given, MADV_DONTNEED) == 0)
		f->given = upto;
}

/*
 * Inflate up to CHUNK bytes into the window; *n is how many came.  0 with
 * *n == 0 only at the end of the gzip member.
 */
static int
inflate_some(struct feed *f, size_t *n)
{
	int	zr;

	*n = 0;
	if (f->zend)
		return 0;
	f->z.next_out = f->win;
	f->z.avail_out = CHUNK;
	do {
		zr = inflate(&f->z, Z_NO_FLUSH);
		if (zr == Z_STREAM_END)
			f->zend = 1;
		else if (zr == Z_BUF_ERROR ||
		    (zr == Z_OK && f->z.avail_in == 0 &&
		    f->z.avail_out == CHUNK))
			return inflate_failed(f, "truncated gzip stream");
		else if (zr != Z_OK)
			return inflate_failed(f, f->z.msg ? f->z.msg :
			    "invalid deflate data");
	} while (!f->zend && f->z.avail_out == CHUNK);
	*n = CHUNK - f->z.avail_out;
	give_back(f);
	return check_ratio(f);
}

/*
 * The whole member through the ustar check; the tar stream must end as
 * pgbundle ends it, and the member at the last byte.
 */
static int
feed_all(struct feed *f)
{
	size_t	n;

	do {
		if (inflate_some(f, &n) == -1 ||
		    (n > 0 && pgb_ustar_feed(&f->tar, f->win, n, f->d) == -1))
			return -1;
	} while (n > 0);
	if (pgb_ustar_end(&f->tar, f->d) == -1)
		return -1;
	if (f->z.avail_in != 0) {
		pgb_fail(f->d, PGB_EBUNDLE, "data after the end of the "
		    "archive");
		pgb_detail(f->d, "%u bytes after the end of the gzip stream (a "
		    "second member, or bytes appended)", f->z.avail_in);
		return -1;
	}
	return 0;
}

int
pgb_gztar_read(const unsigned char *data, size_t len, unsigned char *givable,
    const struct pgb_ustar_sink *sink, struct pgb_diag *d)
{
	struct feed	f;
	int		rc;

	/* The gzip magic: anything else is not what the compiler writes. */
	if (len < 2 || data[0] != 0x1f || data[1] != 0x8b)
		return pgb_fail(d, PGB_EBUNDLE, "bundle is not "
		    "gzip-compressed");
	if (len > PGB_BUNDLE_MAX)
		return pgb_fail(d, PGB_EBUNDLE, "bundle is %zu bytes, over the "
		    "limit of %u", len, PGB_BUNDLE_MAX);
	memset(&f, 0, sizeof(f));
	f.data = givable;
	f.complen = len;
	f.d = d;
	f.z.next_in = data;
	f.z.avail_in = (uInt)len;	/* len <= PGB_BUNDLE_MAX */
	if (inflateInit2(&f.z, 16 + MAX_WBITS) != Z_OK)
		return pgb_fail(d, PGB_EINTERNAL, "out of memory");
	pgb_ustar_init(&f.tar);
	pgb_ustar_sink(&f.tar, sink);
	f.win = pgb_xmalloc(CHUNK);
	rc = feed_all(&f);
	inflateEnd(&f.z);
	free(f.win);
	pgb_ustar_release(&f.tar);
	return rc;
}
