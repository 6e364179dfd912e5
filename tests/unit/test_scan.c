/*
 * test_scan.c - migration file names: what is a migration, what is
 * ignored, what is an error; and pairing a folder's files by version.
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

#include "report.h"
#include "scan.h"

static void
test_scan_name_up_and_down(void **state)
{
	long long	v;
	size_t		off, len;
	int		down;

	(void)state;
	assert_int_equal(pgb_scan_name("001_create_users.sql", &v, &off, &len,
	    &down), 1);
	assert_int_equal(v, 1);
	assert_int_equal(down, 0);
	assert_int_equal(off, 4);
	assert_int_equal(len, strlen("create_users"));
	assert_int_equal(pgb_scan_name("042_x-y.down.sql", &v, &off, &len,
	    &down), 1);
	assert_int_equal(v, 42);
	assert_int_equal(down, 1);
	assert_int_equal(len, 3);
}

static void
test_scan_name_leading_zeros_same_version(void **state)
{
	long long	a, b;
	size_t		off, len;
	int		down;

	(void)state;
	assert_int_equal(pgb_scan_name("1_a.sql", &a, &off, &len, &down), 1);
	assert_int_equal(pgb_scan_name("0001_a.sql", &b, &off, &len, &down), 1);
	assert_int_equal(a, b);
}

static void
test_scan_name_ignored(void **state)
{
	long long	v;
	size_t		off, len;
	int		down;

	(void)state;
	assert_int_equal(pgb_scan_name("README.md", &v, &off, &len, &down), 0);
	assert_int_equal(pgb_scan_name("README", &v, &off, &len, &down), 0);
	assert_int_equal(pgb_scan_name(".001_hidden.sql", &v, &off, &len,
	    &down), 0);
	assert_int_equal(pgb_scan_name("notes.txt", &v, &off, &len, &down), 0);
	assert_int_equal(pgb_scan_name("001_a.sql.orig", &v, &off, &len,
	    &down), 0);
}

static void
test_scan_name_rejected(void **state)
{
	static const char *const bad[] = {
		"create_users.sql", "001create.sql", "001_.sql", "_a.sql",
		"001_a b.sql", "001_a.b.sql", "v1_a.sql", "001_a.up.sql",
		"1234567890123456789_too_long.sql", "0001.sql", "001_.down.sql",
	};
	long long	v;
	size_t		off, len, i;
	int		down;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(pgb_scan_name(bad[i], &v, &off, &len, &down), -1);
}

static char *
make_dir(const char *const *names, size_t n)
{
	char	tmpl[] = "/tmp/pgb-scan-XXXXXX", path[512], *dir;
	FILE	*f;
	size_t	 i;

	dir = mkdtemp(tmpl);
	assert_non_null(dir);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		f = fopen(path, "w");
		assert_non_null(f);
		fputs("SELECT 1;\n", f);
		fclose(f);
	}
	return strdup(dir);
}

static void
remove_dir(char *dir, const char *const *names, size_t n)
{
	char	path[512];
	size_t	i;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
	free(dir);
}

static void
test_scan_dir_pairs_and_sorts(void **state)
{
	static const char *const names[] = { "010_c.sql", "002_b.sql",
	    "002_b.down.sql", "1_a.sql", "README.md" };
	struct pgb_scan		s;
	struct pgb_report	r;
	struct pgb_diag		d;
	char			*dir = make_dir(names, 5);

	(void)state;
	pgb_report_init(&r, 0);
	assert_int_equal(pgb_scan_dir(dir, &s, &r, &d), 0);
	assert_int_equal(r.nerrors, 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.v[0].version, 1);
	assert_int_equal(s.v[1].version, 2);
	assert_int_equal(s.v[2].version, 10);
	assert_string_equal(s.v[1].name, "b");
	assert_non_null(s.v[1].down);
	assert_null(s.v[0].down);
	pgb_scan_release(&s);
	pgb_report_release(&r);
	remove_dir(dir, names, 5);
}

static void
test_scan_dir_reports_every_problem(void **state)
{
	static const char *const names[] = { "001_initial_schema.sql",
	    "001_standardize_feature_flag_names.sql", "002_x.down.sql",
	    "bad name.sql", "003_a.sql", "003_b.down.sql" };
	struct pgb_scan		s;
	struct pgb_report	r;
	struct pgb_diag		d;
	char			*dir = make_dir(names, 6);
	size_t			i;
	int			dup = 0, orphan = 0, parse = 0, mismatch = 0;

	(void)state;
	pgb_report_init(&r, 0);
	assert_int_equal(pgb_scan_dir(dir, &s, &r, &d), 0);
	for (i = 0; i < r.n; i++) {
		dup += strstr(r.v[i].msg, "duplicate version 1") != NULL &&
		    strstr(r.v[i].msg, "001_initial_schema.sql") != NULL;
		orphan += strstr(r.v[i].msg, "without an up") != NULL;
		parse += strstr(r.v[i].msg, "cannot parse") != NULL;
		mismatch += strstr(r.v[i].msg, "does not match") != NULL;
	}
	assert_int_equal(dup, 1);
	assert_int_equal(orphan, 1);
	assert_int_equal(parse, 1);
	assert_int_equal(mismatch, 1);
	assert_int_equal(r.nerrors, 4);
	pgb_scan_release(&s);
	pgb_report_release(&r);
	remove_dir(dir, names, 6);
}

static void
test_scan_dir_missing(void **state)
{
	struct pgb_scan		s;
	struct pgb_report	r;
	struct pgb_diag		d;

	(void)state;
	pgb_report_init(&r, 0);
	assert_int_equal(pgb_scan_dir("/nonexistent/pgb", &s, &r, &d), -1);
	assert_int_equal(d.code, PGB_EUSAGE);
	assert_non_null(strstr(d.msg, "/nonexistent/pgb"));
	pgb_report_release(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan_name_up_and_down),
		cmocka_unit_test(test_scan_name_leading_zeros_same_version),
		cmocka_unit_test(test_scan_name_ignored),
		cmocka_unit_test(test_scan_name_rejected),
		cmocka_unit_test(test_scan_dir_pairs_and_sorts),
		cmocka_unit_test(test_scan_dir_reports_every_problem),
		cmocka_unit_test(test_scan_dir_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
