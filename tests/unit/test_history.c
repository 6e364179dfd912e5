/*
 * test_history.c - pgb_history_check_row(), which reads one history row
 * back and refuses any field pgapply never writes, naming the version
 * and the field.  Fields the table's own constraints keep out of an
 * end-to-end test (an unknown mode or status, a SQL null) are covered
 * here; 056_history_rows.pl tampers with a real table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "history.h"

#define HEX	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* A row as pgapply writes it: a no-transaction migration, 1 of 3 done. */
static void
good(const char *f[8])
{
	f[0] = "2";
	f[1] = "users_email_idx";
	f[2] = "sha256:" HEX;
	f[3] = HEX;
	f[4] = "no-transaction";
	f[5] = "failed";
	f[6] = "1";
	f[7] = "3";
}

/* Row 'f' with field 'k' set to 'v' is refused with 'msg'. */
static void
refused(int k, const char *v, const char *msg)
{
	const char	*f[8];
	struct pgb_hrow	 r;
	struct pgb_diag	 d;

	good(f);
	f[k] = v;
	memset(&d, 0, sizeof(d));
	if (pgb_history_check_row(f, &r, &d) != -1)
		fail_msg("field %d '%s' was accepted", k, v ? v : "(null)");
	assert_int_equal(d.code, PGB_ECONFLICT);
	assert_string_equal(d.msg, msg);
	assert_non_null(strstr(d.detail, "nothing was run"));
	assert_null(r.name);
}

static void
test_history_row_as_written(void **state)
{
	const char	*f[8];
	struct pgb_hrow	 r;
	struct pgb_diag	 d;

	(void)state;
	good(f);
	memset(&d, 0, sizeof(d));
	assert_int_equal(pgb_history_check_row(f, &r, &d), 0);
	assert_int_equal(r.version, 2);
	assert_string_equal(r.name, "users_email_idx");
	assert_string_equal(r.checksum, HEX);
	assert_string_equal(r.chain, HEX);
	assert_int_equal(r.mode, PGB_MODE_NOTX);
	assert_int_equal(r.status, PGB_H_FAILED);
	assert_int_equal(r.done, 1);
	assert_int_equal(r.total, 3);
	free(r.name);
	/* A nameless migration, version 0, the largest version: fine. */
	f[0] = "0";
	f[1] = "";
	f[4] = "transaction";
	f[5] = "applied";
	f[6] = "3";
	assert_int_equal(pgb_history_check_row(f, &r, &d), 0);
	free(r.name);
	f[0] = "9223372036854775807";
	assert_int_equal(pgb_history_check_row(f, &r, &d), 0);
	assert_int_equal(r.version, 9223372036854775807LL);
	free(r.name);
}

static void
test_history_row_version(void **state)
{
	(void)state;
	refused(0, "-1", "corrupt history row: version -1 is not a number from "
	    "0 to 9223372036854775807");
	refused(0, "", "corrupt history row: version  is not a number from 0 "
	    "to 9223372036854775807");
	refused(0, "+2", "corrupt history row: version +2 is not a number from "
	    "0 to 9223372036854775807");
	refused(0, "02", "corrupt history row: version 02 is not a number from "
	    "0 to 9223372036854775807");
	refused(0, "9223372036854775808", "corrupt history row: version "
	    "9223372036854775808 is not a number from 0 to 9223372036854775807");
	refused(0, NULL, "corrupt history row: version null is not a number "
	    "from 0 to 9223372036854775807");
}

static void
test_history_row_null(void **state)
{
	(void)state;
	refused(1, NULL, "corrupt history row for version 2: name is null");
	refused(5, NULL, "corrupt history row for version 2: status is null");
	refused(7, NULL, "corrupt history row for version 2: statements_total "
	    "is null");
}

static void
test_history_row_name(void **state)
{
	char	long_name[202];

	(void)state;
	refused(1, "a b", "corrupt history row for version 2: name is not at "
	    "most 200 printable ASCII characters without blanks");
	refused(1, "a\x1b[31mb", "corrupt history row for version 2: name is "
	    "not at most 200 printable ASCII characters without blanks");
	refused(1, "caf\xc3\xa9", "corrupt history row for version 2: name is "
	    "not at most 200 printable ASCII characters without blanks");
	memset(long_name, 'a', 201);
	long_name[201] = '\0';
	refused(1, long_name, "corrupt history row for version 2: name is not "
	    "at most 200 printable ASCII characters without blanks");
}

static void
test_history_row_hashes(void **state)
{
	(void)state;
	refused(2, HEX, "corrupt history row for version 2: checksum is not "
	    "'sha256:' and 64 lowercase hex digits");
	refused(2, "sha256:" HEX "0", "corrupt history row for version 2: "
	    "checksum is not 'sha256:' and 64 lowercase hex digits");
	refused(2, "sha256:0123", "corrupt history row for version 2: "
	    "checksum is not 'sha256:' and 64 lowercase hex digits");
	refused(2, "sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef"
	    "0123456789abcdef", "corrupt history row for version 2: checksum is "
	    "not 'sha256:' and 64 lowercase hex digits");
	refused(3, "sha256:" HEX, "corrupt history row for version 2: chain is "
	    "not 64 lowercase hex digits");
	refused(3, "g123456789abcdef0123456789abcdef0123456789abcdef0123456789"
	    "abcdef", "corrupt history row for version 2: chain is not 64 "
	    "lowercase hex digits");
}

static void
test_history_row_mode_status(void **state)
{
	(void)state;
	refused(4, "notx", "corrupt history row for version 2: mode is neither "
	    "'transaction' nor 'no-transaction'");
	refused(5, "running", "corrupt history row for version 2: status is "
	    "neither 'applied' nor 'failed'");
	refused(4, "transaction", "corrupt history row for version 2: status "
	    "is 'failed' but mode is 'transaction': a transactional migration "
	    "commits together with its history row or not at all");
	refused(5, "applied", "corrupt history row for version 2: status is "
	    "'applied' after statements_done 1 of 3");
}

static void
test_history_row_counts(void **state)
{
	(void)state;
	refused(6, "-7", "corrupt history row for version 2: statements_done -7 "
	    "is not from 0 to statements_total 3");
	refused(6, "4", "corrupt history row for version 2: statements_done 4 "
	    "is not from 0 to statements_total 3");
	refused(6, "1x", "corrupt history row for version 2: statements_done 1x "
	    "is not from 0 to statements_total 3");
	refused(7, "-1", "corrupt history row for version 2: statements_total "
	    "-1 is not from 0 to 100000");
	refused(7, "100001", "corrupt history row for version 2: "
	    "statements_total 100001 is not from 0 to 100000");
	refused(7, "0", "corrupt history row for version 2: statements_done 1 "
	    "is not from 0 to statements_total 0");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_history_row_as_written),
		cmocka_unit_test(test_history_row_version),
		cmocka_unit_test(test_history_row_null),
		cmocka_unit_test(test_history_row_name),
		cmocka_unit_test(test_history_row_hashes),
		cmocka_unit_test(test_history_row_mode_status),
		cmocka_unit_test(test_history_row_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
