/*
 * test_hash.c - SHA-256 against known vectors, hex both ways, the
 * constant-time compare and the migration chain.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "hash.h"

static void
test_hash_sha256_vectors(void **state)
{
	unsigned char	h[PGB_SHA256_LEN];
	char		hex[PGB_HEX256_LEN + 1];

	(void)state;
	pgb_sha256("", 0, h);
	pgb_hex(h, sizeof(h), hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	pgb_sha256("abc", 3, h);
	pgb_hex(h, sizeof(h), hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
}

static void
test_hash_unhex_roundtrip_and_rejects(void **state)
{
	unsigned char	in[4] = { 0x00, 0x7f, 0xa5, 0xff }, out[4];
	char		hex[9];

	(void)state;
	pgb_hex(in, 4, hex);
	assert_string_equal(hex, "007fa5ff");
	assert_int_equal(pgb_unhex(hex, 4, out), 0);
	assert_memory_equal(in, out, 4);
	assert_int_equal(pgb_unhex("007FA5FF", 4, out), -1);	/* upper case */
	assert_int_equal(pgb_unhex("007fa5f", 4, out), -1);	/* short */
	assert_int_equal(pgb_unhex("007fa5ffa", 4, out), -1);	/* long */
	assert_int_equal(pgb_unhex("007fa5fg", 4, out), -1);
}

static void
test_hash_digest_eq(void **state)
{
	unsigned char	a[PGB_SHA256_LEN], b[PGB_SHA256_LEN];

	(void)state;
	pgb_sha256("x", 1, a);
	memcpy(b, a, sizeof(b));
	assert_true(pgb_digest_eq(a, b, sizeof(a)));
	b[31] ^= 1;
	assert_false(pgb_digest_eq(a, b, sizeof(a)));
}

static void
test_hash_chain_depends_on_everything(void **state)
{
	unsigned char	zero[PGB_SHA256_LEN], s1[PGB_SHA256_LEN];
	unsigned char	c1[PGB_SHA256_LEN], c2[PGB_SHA256_LEN], c3[PGB_SHA256_LEN];
	unsigned char	msg[PGB_SHA256_LEN * 2 + 1], want[PGB_SHA256_LEN];

	(void)state;
	memset(zero, 0, sizeof(zero));
	pgb_sha256("CREATE TABLE t ();", 18, s1);
	pgb_chain(zero, 1, s1, c1);
	/* SHA-256(prev || "1" || sha), as docs/FORMAT.md says. */
	memcpy(msg, zero, 32);
	msg[32] = '1';
	memcpy(msg + 33, s1, 32);
	pgb_sha256(msg, sizeof(msg), want);
	assert_memory_equal(c1, want, 32);
	pgb_chain(zero, 2, s1, c2);
	assert_memory_not_equal(c1, c2, 32);
	pgb_chain(c1, 1, s1, c3);
	assert_memory_not_equal(c1, c3, 32);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_sha256_vectors),
		cmocka_unit_test(test_hash_unhex_roundtrip_and_rejects),
		cmocka_unit_test(test_hash_digest_eq),
		cmocka_unit_test(test_hash_chain_depends_on_everything),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
