/*
 * test_text.c - text that reaches a terminal or --json: UTF-8 cuts on
 * character boundaries, the terminal escapes, JSON that is valid UTF-8
 * whatever the bytes, and passwords masked in libpq's messages.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conninfo.h"
#include "diag.h"
#include "json.h"
#include "text.h"

#define EURO	"\xe2\x82\xac"

static void
test_text_utf8_seq_rejects_what_is_not_utf8(void **state)
{
	unsigned	cp;

	(void)state;
	assert_int_equal(pgb_utf8_seq((const unsigned char *)EURO, 3, &cp), 3);
	assert_int_equal(cp, 0x20ac);
	assert_int_equal(pgb_utf8_seq((const unsigned char *)EURO, 2, NULL), 0);
	assert_int_equal(pgb_utf8_seq((const unsigned char *)"\xc0\xaf", 2,
	    NULL), 0);		/* overlong */
	assert_int_equal(pgb_utf8_seq((const unsigned char *)"\xed\xa0\x80", 3,
	    NULL), 0);		/* surrogate */
	assert_int_equal(pgb_utf8_seq((const unsigned char *)"\xf4\x90\x80\x80",
	    4, NULL), 0);	/* above U+10FFFF */
	assert_int_equal(pgb_utf8_seq((const unsigned char *)"\x80", 1, NULL), 0);
	assert_int_equal(pgb_utf8_seq((const unsigned char *)"\xf0\x9f\x98\x80",
	    4, &cp), 4);
	assert_int_equal(cp, 0x1f600);
}

static void
test_text_utf8_cut_on_boundaries(void **state)
{
	const char	*s = "ab" EURO EURO;	/* 8 bytes */
	size_t		 max;

	(void)state;
	assert_int_equal(pgb_utf8_cut(s, 8, 100), 8);
	assert_int_equal(pgb_utf8_cut(s, 8, 8), 8);
	assert_int_equal(pgb_utf8_cut(s, 8, 7), 5);
	assert_int_equal(pgb_utf8_cut(s, 8, 6), 5);
	assert_int_equal(pgb_utf8_cut(s, 8, 5), 5);
	assert_int_equal(pgb_utf8_cut(s, 8, 4), 2);
	assert_int_equal(pgb_utf8_cut(s, 8, 2), 2);
	assert_int_equal(pgb_utf8_cut(s, 8, 0), 0);
	/* Whatever the limit, the cut is valid UTF-8. */
	for (max = 0; max <= 8; max++) {
		size_t n = pgb_utf8_cut(s, 8, max), i = 0, k;

		assert_true(n <= max);
		while (i < n) {
			k = pgb_utf8_seq((const unsigned char *)s + i, n - i,
			    NULL);
			assert_true(k > 0);
			i += k;
		}
	}
}

static void
test_text_utf8_trim_drops_a_broken_tail(void **state)
{
	char	s[16];

	(void)state;
	snprintf(s, sizeof(s), "a" EURO "\xe2\x82");
	pgb_utf8_trim(s);
	assert_string_equal(s, "a" EURO);
	snprintf(s, sizeof(s), "a" EURO);
	pgb_utf8_trim(s);
	assert_string_equal(s, "a" EURO);
	snprintf(s, sizeof(s), "ab\xe2");
	pgb_utf8_trim(s);
	assert_string_equal(s, "ab");
	snprintf(s, sizeof(s), "ab");
	pgb_utf8_trim(s);
	assert_string_equal(s, "ab");
	s[0] = '\0';
	pgb_utf8_trim(s);
	assert_string_equal(s, "");
}

static void
test_text_diag_cut_on_a_boundary(void **state)
{
	struct pgb_diag	d;
	char		long_text[600];
	size_t		i, n;

	(void)state;
	for (i = 0; i + 3 < sizeof(long_text); i += 3)
		memcpy(long_text + i, EURO, 3);
	long_text[i] = '\0';
	/* 1 byte of 'x' makes the 255-byte cut land inside a character. */
	pgb_fail(&d, PGB_ESQL, "x%s", long_text);
	n = strlen(d.msg);
	assert_true(n < sizeof(d.msg));
	assert_int_equal((n - 1) % 3, 0);
	pgb_detail(&d, "xy%s%s", long_text, long_text);
	n = strlen(d.detail);
	assert_int_equal((n - 2) % 3, 0);
}

static void
test_text_clean_escapes_controls(void **state)
{
	char	out[128];

	(void)state;
	assert_string_equal(pgb_text_clean(out, sizeof(out),
	    "a\x1b[31mb\r\nc\td\x7f"), "a\\x1b[31mb\\x0d\\x0ac\td\\x7f");
	/* C1 controls and bidi overrides are characters, escaped as such. */
	assert_string_equal(pgb_text_clean(out, sizeof(out),
	    "x\xc2\x9b" "1m\xe2\x80\xaey"), "x\\u009b1m\\u202ey");
	/* Bytes that are not UTF-8 are shown, valid ones pass. */
	assert_string_equal(pgb_text_clean(out, sizeof(out),
	    EURO "\xff\xe2\x82"), EURO "\\xff\\xe2\\x82");
	/* Cut short on a whole escape, never inside one. */
	assert_string_equal(pgb_text_clean(out, 7, "ab\x1b" "cd"), "ab\\x1b");
	assert_string_equal(pgb_text_clean(out, 6, "ab\x1b" "cd"), "ab");
	assert_string_equal(pgb_text_clean(out, 6, "ab" EURO), "ab" EURO);
	assert_string_equal(pgb_text_clean(out, 5, "ab" EURO), "ab");
}

/* pgb_json_str() of 's' as a string. */
static char *
json_of(const char *s)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f = open_memstream(&buf, &len);

	assert_non_null(f);
	pgb_json_str(f, s);
	fclose(f);
	return buf;
}

static void
test_text_json_is_valid_utf8(void **state)
{
	char	*j;

	(void)state;
	j = json_of("a\"b\\c\x1b[2J\n\x7f");
	assert_string_equal(j, "\"a\\\"b\\\\c\\u001b[2J\\u000a\\u007f\"");
	free(j);
	j = json_of(EURO "\xff\xe2\x82" "x\xc3");
	assert_string_equal(j, "\"" EURO "\\ufffd\\ufffd\\ufffdx\\ufffd\"");
	free(j);
	j = json_of("\xc2\x85\xe2\x80\xa8");
	assert_string_equal(j, "\"\\u0085\\u2028\"");
	free(j);
}

/* The conninfo's password masked in 'text'; the caller frees. */
static char *
masked(const char *conninfo, const char *password, const char *text)
{
	struct pgb_buf	b;

	pgb_buf_init(&b);
	pgb_conninfo_mask(conninfo, password, text, &b);
	return pgb_buf_steal(&b, NULL);
}

static void
test_text_conninfo_masks_passwords(void **state)
{
	char	*m;

	(void)state;
	m = masked("postgres://u:pa%ZZss@h/db", NULL,
	    "invalid percent-encoded token: \"pa%ZZss\"");
	assert_string_equal(m, "invalid percent-encoded token: \"***\"");
	free(m);
	/* Decoded too, and each reading of two '@'. */
	m = masked("postgresql://u:p%40w@rd@[::1", NULL,
	    "x \"postgresql://u:p%40w@rd@[::1\" p@w p@w@rd");
	assert_null(strstr(m, "p%40w"));
	assert_null(strstr(m, "p@w"));
	free(m);
	m = masked("postgres://u@h/db?sslmode=x&password=s%ZZ3", NULL,
	    "invalid percent-encoded token: \"s%ZZ3\"");
	assert_string_equal(m, "invalid percent-encoded token: \"***\"");
	free(m);
	/* key=value: quoted, escaped, unterminated. */
	m = masked("host=h password='it\\'s secret' bogus=1", NULL,
	    "it's secret / it\\'s secret");
	assert_string_equal(m, "*** / ***");
	free(m);
	m = masked("host=h password = s3cr3t", NULL, "said s3cr3t");
	assert_string_equal(m, "said ***");
	free(m);
	m = masked("host=h password='open", NULL, "open and open");
	assert_string_equal(m, "*** and ***");
	free(m);
	/* Shapes are masked whatever the conninfo said. */
	m = masked(NULL, NULL, "bad: \"postgres://me:hunter2@h/db\" "
	    "password=hunter2 password='a b'");
	assert_string_equal(m, "bad: \"postgres://me:***@h/db\" password=*** "
	    "password=***");
	free(m);
	/* The password a connection used, given apart. */
	m = masked("host=h", "t0ps3cret", "FATAL: t0ps3cret");
	assert_string_equal(m, "FATAL: ***");
	free(m);
	/* No password: the text as it came. */
	m = masked("host=h user=u", NULL, "could not connect to h");
	assert_string_equal(m, "could not connect to h");
	free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_utf8_seq_rejects_what_is_not_utf8),
		cmocka_unit_test(test_text_utf8_cut_on_boundaries),
		cmocka_unit_test(test_text_utf8_trim_drops_a_broken_tail),
		cmocka_unit_test(test_text_diag_cut_on_a_boundary),
		cmocka_unit_test(test_text_clean_escapes_controls),
		cmocka_unit_test(test_text_json_is_valid_utf8),
		cmocka_unit_test(test_text_conninfo_masks_passwords),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
