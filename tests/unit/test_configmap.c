/*
 * test_configmap.c - ConfigMap names, and the 1 MiB limit exactly at its
 * edge: a bundle whose data is one byte over is refused with its size
 * before it is parsed; one that fits goes on to the bundle checks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounds.h"
#include "configmap.h"

/* The bytes Kubernetes counts besides the bundle itself. */
#define OVERHEAD	(sizeof(PGB_CONFIGMAP_BUNDLE) - 1 + \
			 sizeof(PGB_CONFIGMAP_SIG) - 1 + PGB_SIG_LEN)

static char	dir[] = "/tmp/pgb-configmap-XXXXXX";
static char	path[sizeof(dir) + 16];

static void
write_bytes(const char *p, size_t len)
{
	FILE	*f = fopen(p, "wb");
	char	 zero[4096];
	size_t	 n;

	assert_non_null(f);
	memset(zero, 'x', sizeof(zero));
	while (len > 0) {
		n = len < sizeof(zero) ? len : sizeof(zero);
		assert_int_equal(fwrite(zero, 1, n, f), n);
		len -= n;
	}
	assert_int_equal(fclose(f), 0);
}

/* A "bundle" of 'len' bytes of junk with a 64-byte signature beside it. */
static void
make_files(size_t len)
{
	char	sig[sizeof(path) + 4];

	snprintf(path, sizeof(path), "%s/b.pgb", dir);
	snprintf(sig, sizeof(sig), "%s.sig", path);
	write_bytes(path, len);
	write_bytes(sig, PGB_SIG_LEN);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char	sig[sizeof(path) + 4];

	(void)state;
	snprintf(sig, sizeof(sig), "%s.sig", path);
	unlink(path);
	unlink(sig);
	return rmdir(dir);
}

static void
test_configmap_names(void **state)
{
	char	long_name[PGB_CONFIGMAP_NAME_MAX + 2];

	(void)state;
	assert_true(pgb_configmap_name_ok("shop-bundle-13"));
	assert_true(pgb_configmap_name_ok("a"));
	assert_true(pgb_configmap_name_ok("shop.v1.2"));
	assert_true(pgb_configmap_name_ok("0abc9"));
	assert_false(pgb_configmap_name_ok(""));
	assert_false(pgb_configmap_name_ok("Shop"));
	assert_false(pgb_configmap_name_ok("shop_13"));
	assert_false(pgb_configmap_name_ok("-shop"));
	assert_false(pgb_configmap_name_ok("shop-"));
	assert_false(pgb_configmap_name_ok(".shop"));
	assert_false(pgb_configmap_name_ok("shop."));
	assert_false(pgb_configmap_name_ok("shop 13"));
	assert_false(pgb_configmap_name_ok("shop/13"));
	memset(long_name, 'a', sizeof(long_name));
	long_name[PGB_CONFIGMAP_NAME_MAX] = '\0';
	assert_true(pgb_configmap_name_ok(long_name));
	long_name[PGB_CONFIGMAP_NAME_MAX] = 'a';
	long_name[PGB_CONFIGMAP_NAME_MAX + 1] = '\0';
	assert_false(pgb_configmap_name_ok(long_name));
}

static void
test_configmap_limit_edge(void **state)
{
	struct pgb_configmap_opts	o;
	struct pgb_buf			out;
	struct pgb_diag			d;
	size_t				total;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.name = "x";
	o.path = path;
	pgb_buf_init(&out);

	/* One byte over: refused for its size, with the size. */
	make_files(PGB_CONFIGMAP_MAX - OVERHEAD + 1);
	pgb_diag_clear(&d);
	assert_int_equal(pgb_configmap_write(&o, &out, &total, &d), -1);
	assert_int_equal(d.code, PGB_EBUNDLE);
	assert_int_equal(total, PGB_CONFIGMAP_MAX + 1);
	assert_non_null(strstr(d.msg, "does not fit in a ConfigMap: 1048577 "
	    "bytes, over the limit of 1048576"));
	assert_int_equal(out.len, 0);

	/* Exactly at the limit: past the size check, refused as a bundle. */
	make_files(PGB_CONFIGMAP_MAX - OVERHEAD);
	pgb_diag_clear(&d);
	assert_int_equal(pgb_configmap_write(&o, &out, &total, &d), -1);
	assert_int_equal(d.code, PGB_EBUNDLE);
	assert_int_equal(total, PGB_CONFIGMAP_MAX);
	assert_null(strstr(d.msg, "does not fit"));
	assert_int_equal(out.len, 0);

	/* A bad name is a usage error, before any file is read. */
	o.name = "Bad";
	pgb_diag_clear(&d);
	assert_int_equal(pgb_configmap_write(&o, &out, &total, &d), -1);
	assert_int_equal(d.code, PGB_EUSAGE);
	assert_int_equal(total, 0);
	pgb_buf_release(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_configmap_names),
		cmocka_unit_test(test_configmap_limit_edge),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
