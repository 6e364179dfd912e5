/*
 * test_ustar.c - the ustar check against what the compiler's pack.c
 * writes: fed in pieces of every awkward size, cut at every length, with
 * any one header byte changed, and with bytes past the end.  The hostile
 * headers themselves are fixtures of tests/gen-hostile.pl (test_bundle).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <zlib.h>

#include "buf.h"
#include "diag.h"
#include "pack.h"
#include "ustar.h"
#include "banned.h"

/* Over 100 bytes: the ustar prefix field holds "migrations". */
#define LONG_NAME	"migrations/" \
	"012345678901234567890123456789012345678901234567890123456789" \
	"012345678901234567890123456789.sql"

static struct pgb_buf	tar;		/* the inflated stream */
static uint64_t		eoa;		/* where its end blocks end */

/* pgb_pack's output, inflated: exactly the stream pgapply checks. */
static int
setup(void **state)
{
	static char		 big[600];
	struct pgb_pack_entry	 v[4] = {
		{ "MANIFEST", "pgbundle-manifest 1\n", 20 },
		{ "migrations/001_a.sql", big, sizeof(big) },
		{ "migrations/002_b.sql", "", 0 },
		{ LONG_NAME, "SELECT 1;\n", 10 },
	};
	struct pgb_buf		 gz;
	struct pgb_diag		 d;
	z_stream		 z;
	int			 zr;

	(void)state;
	memset(big, 'x', sizeof(big));
	pgb_buf_init(&gz);
	pgb_buf_init(&tar);
	if (pgb_pack(v, 4, 0, &gz, &d) == -1)
		return -1;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return -1;
	z.next_in = (Bytef *)gz.data;
	z.avail_in = (uInt)gz.len;
	do {
		pgb_buf_reserve(&tar, 4096);
		z.next_out = (Bytef *)tar.data + tar.len;
		z.avail_out = 4096;
		zr = inflate(&z, Z_NO_FLUSH);
		tar.len += 4096 - z.avail_out;
	} while (zr == Z_OK);
	inflateEnd(&z);
	pgb_buf_release(&gz);
	/* Four headers, data in 512-byte blocks, two end blocks. */
	eoa = 4 * 512 + (512 + 1024 + 0 + 512) + 1024;
	return zr == Z_STREAM_END ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	pgb_buf_release(&tar);
	return 0;
}

/* Feed 'len' bytes of 'p' in pieces of 'piece'; the feed's result. */
static int
feed(struct pgb_ustar *t, const char *p, size_t len, size_t piece,
    struct pgb_diag *d)
{
	size_t	off, k;

	for (off = 0; off < len; off += k) {
		k = len - off < piece ? len - off : piece;
		if (pgb_ustar_feed(t, (const unsigned char *)p + off, k,
		    d) == -1)
			return -1;
	}
	return 0;
}

static void
test_ustar_pack_output_in_pieces(void **state)
{
	static const size_t	 pieces[] = { 1, 7, 511, 512, 513, 4096,
				     (size_t)-1 };
	const struct pgb_ustar_entry *e;
	struct pgb_ustar	 t;
	struct pgb_diag		 d;
	size_t			 i;

	(void)state;
	assert_int_equal(tar.len, 10240);	/* padded to the record */
	for (i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		pgb_ustar_init(&t);
		assert_int_equal(feed(&t, tar.data, tar.len, pieces[i], &d), 0);
		assert_int_equal(pgb_ustar_end(&t, &d), 0);
		assert_int_equal(pgb_ustar_count(&t), 4);
		assert_int_equal(pgb_ustar_eoa(&t), eoa);
		e = pgb_ustar_entry(&t, 0);
		assert_string_equal(e->name, "MANIFEST");
		assert_int_equal(e->off, 0);
		assert_int_equal(e->size, 20);
		e = pgb_ustar_entry(&t, 1);
		assert_string_equal(e->name, "migrations/001_a.sql");
		assert_int_equal(e->off, 1024);
		assert_int_equal(e->size, 600);
		e = pgb_ustar_entry(&t, 3);
		assert_string_equal(e->name, LONG_NAME);	/* prefix/name */
		assert_int_equal(e->off, 3072);
		assert_null(pgb_ustar_entry(&t, 4));
		pgb_ustar_release(&t);
	}
}

/* Cut anywhere before the end blocks end: refused; after: accepted. */
static void
test_ustar_every_cut(void **state)
{
	struct pgb_ustar	t;
	struct pgb_diag		d;
	size_t			len;

	(void)state;
	for (len = 0; len <= tar.len; len++) {
		pgb_ustar_init(&t);
		assert_int_equal(feed(&t, tar.data, len, 300, &d), 0);
		if (len < eoa) {
			assert_int_equal(pgb_ustar_end(&t, &d), -1);
			assert_int_equal(d.code, PGB_EBUNDLE);
			assert_non_null(strstr(d.msg, "tar archive "));
		} else {
			assert_int_equal(pgb_ustar_end(&t, &d), 0);
		}
		pgb_ustar_release(&t);
	}
}

/* No byte of a header can change unnoticed: the checksum covers it. */
static void
test_ustar_any_header_byte(void **state)
{
	struct pgb_ustar	 t;
	struct pgb_diag		 d;
	size_t			 i, h;
	static const size_t	 headers[] = { 0, 1024, 2560, 3072 };

	(void)state;
	for (h = 0; h < sizeof(headers) / sizeof(headers[0]); h++) {
		for (i = 0; i < 512; i++) {
			tar.data[headers[h] + i] ^= 1;
			pgb_ustar_init(&t);
			assert_int_equal(feed(&t, tar.data, tar.len, 4096, &d),
			    -1);
			assert_non_null(strstr(d.msg, "has a bad header "
			    "checksum"));
			pgb_ustar_release(&t);
			tar.data[headers[h] + i] ^= 1;
		}
	}
}

static void
test_ustar_nothing_after_the_end(void **state)
{
	struct pgb_ustar	t;
	struct pgb_diag		d;

	(void)state;
	/* A byte past the record. */
	pgb_ustar_init(&t);
	assert_int_equal(feed(&t, tar.data, tar.len, 4096, &d), 0);
	assert_int_equal(pgb_ustar_feed(&t, (const unsigned char *)"", 1, &d),
	    -1);
	assert_string_equal(d.msg, "data after the end of the archive");
	pgb_ustar_release(&t);
	/* A byte that is not zero in the padding. */
	tar.data[tar.len - 1] = 'x';
	pgb_ustar_init(&t);
	assert_int_equal(feed(&t, tar.data, tar.len, 4096, &d), -1);
	assert_string_equal(d.msg, "data after the end of the archive");
	assert_non_null(strstr(d.detail, "at offset 10239"));
	pgb_ustar_release(&t);
	tar.data[tar.len - 1] = '\0';
	/* Data where the second end block must be. */
	tar.data[eoa - 1] = 'x';
	pgb_ustar_init(&t);
	assert_int_equal(feed(&t, tar.data, tar.len, 4096, &d), -1);
	assert_string_equal(d.msg, "tar archive has a single zero block after "
	    "entry 4 '" LONG_NAME "'");
	pgb_ustar_release(&t);
	tar.data[eoa - 1] = '\0';
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ustar_pack_output_in_pieces),
		cmocka_unit_test(test_ustar_every_cut),
		cmocka_unit_test(test_ustar_any_header_byte),
		cmocka_unit_test(test_ustar_nothing_after_the_end),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
