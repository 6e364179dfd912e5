/*
 * pack.c - deterministic tar.gz in memory.
 *
 * libarchive writes the ustar stream; zlib compresses it, because
 * libarchive's gzip filter stamps the current time into the header.
 * zlib's own gzip header has a zero time and no name.
 */
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include "pack.h"
#include "banned.h"

static int
cmp_entry(const void *a, const void *b)
{
	const struct pgb_pack_entry *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static la_ssize_t
write_cb(struct archive *a, void *ctx, const void *p, size_t n)
{
	(void)a;
	pgb_buf_append(ctx, p, n);
	return (la_ssize_t)n;
}

static int
write_tar(struct pgb_pack_entry *v, size_t n, long long mtime,
    struct pgb_buf *tar, struct pgb_diag *d)
{
	struct archive		*a;
	struct archive_entry	*e;
	size_t			 i;
	int			 rc = 0;

	a = archive_write_new();
	e = archive_entry_new();
	if (a == NULL || e == NULL)
		return pgb_fail(d, PGB_EINTERNAL, "cannot create archive");
	if (archive_write_set_format_ustar(a) != ARCHIVE_OK ||
	    archive_write_add_filter_none(a) != ARCHIVE_OK ||
	    archive_write_open(a, tar, NULL, write_cb, NULL) != ARCHIVE_OK) {
		rc = pgb_fail(d, PGB_EINTERNAL, "cannot write archive: %s",
		    archive_error_string(a));
		goto out;
	}
	for (i = 0; i < n; i++) {
		archive_entry_clear(e);
		archive_entry_set_pathname(e, v[i].name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)v[i].len);
		archive_entry_set_mtime(e, (time_t)mtime, 0);
		archive_entry_set_uid(e, 0);
		archive_entry_set_gid(e, 0);
		if (archive_write_header(a, e) != ARCHIVE_OK ||
		    (v[i].len > 0 && archive_write_data(a, v[i].data, v[i].len) !=
		    (la_ssize_t)v[i].len)) {
			rc = pgb_fail(d, PGB_EINTERNAL, "cannot add '%s' to the "
			    "archive: %s", v[i].name, archive_error_string(a));
			goto out;
		}
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		rc = pgb_fail(d, PGB_EINTERNAL, "cannot finish archive: %s",
		    archive_error_string(a));
out:
	archive_entry_free(e);
	archive_write_free(a);
	return rc;
}

static int
gzip_buf(const struct pgb_buf *in, struct pgb_buf *out, struct pgb_diag *d)
{
	z_stream	z;
	int		zr;

	memset(&z, 0, sizeof(z));
	/* 15 + 16: a gzip wrapper with zlib's default header (time 0). */
	if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return pgb_fail(d, PGB_EINTERNAL, "cannot start gzip");
	z.next_in = (Bytef *)in->data;
	z.avail_in = (uInt)in->len;
	do {
		pgb_buf_reserve(out, 65536);
		z.next_out = (Bytef *)out->data + out->len;
		z.avail_out = 65536;
		zr = deflate(&z, Z_FINISH);
		out->len += 65536 - z.avail_out;
	} while (zr == Z_OK || zr == Z_BUF_ERROR);
	deflateEnd(&z);
	if (zr != Z_STREAM_END)
		return pgb_fail(d, PGB_EINTERNAL, "gzip failed (%d)", zr);
	return 0;
}

int
pgb_pack(struct pgb_pack_entry *v, size_t n, long long mtime,
    struct pgb_buf *out, struct pgb_diag *d)
{
	struct pgb_buf	tar;
	int		rc;

	qsort(v, n, sizeof(*v), cmp_entry);
	pgb_buf_init(&tar);
	rc = write_tar(v, n, mtime, &tar, d);
	if (rc == 0 && tar.len > 0xffffffffu)
		rc = pgb_fail(d, PGB_EINTERNAL, "archive over 4 GB");
	if (rc == 0)
		rc = gzip_buf(&tar, out, d);
	pgb_buf_release(&tar);
	return rc;
}
