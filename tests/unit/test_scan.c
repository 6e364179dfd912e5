/*
 * test_scan.c - migration file names: what is a migration, what is
 * ignored, what is an error; pairing a folder's files by version; and
 * reading (and detecting) the layouts of other tools.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>

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
	assert_int_equal(pgb_scan_dir(dir, PGB_LAYOUT_AUTO, &s, &r, &d), 0);
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
	assert_int_equal(pgb_scan_dir(dir, PGB_LAYOUT_AUTO, &s, &r, &d), 0);
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
	assert_int_equal(pgb_scan_dir("/nonexistent/pgb", PGB_LAYOUT_AUTO, &s,
	    &r, &d), -1);
	assert_int_equal(d.code, PGB_EUSAGE);
	assert_non_null(strstr(d.msg, "/nonexistent/pgb"));
	pgb_report_release(&r);
}

/* A file of a tree: its path under the folder and its text. */
struct tfile {
	const char	*path;
	const char	*text;
};

#define UPDOWN	"-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT 2;\n"

/* Write 'n' files (creating their folders) under a new temporary folder. */
static char *
make_tree(const struct tfile *f, size_t n)
{
	char	tmpl[] = "/tmp/pgb-scan-XXXXXX", path[512], *dir, *slash;
	FILE	*fp;
	size_t	 i;

	dir = mkdtemp(tmpl);
	assert_non_null(dir);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, f[i].path);
		if ((slash = strrchr(path, '/')) != NULL) {
			*slash = '\0';
			(void)mkdir(path, 0755);
			*slash = '/';
		}
		if (f[i].text == NULL)
			continue;	/* a folder alone */
		fp = fopen(path, "w");
		assert_non_null(fp);
		fputs(f[i].text, fp);
		fclose(fp);
	}
	return strdup(dir);
}

static void
remove_tree(char *dir)
{
	char	cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(dir);
}

/* Scan 'f' under 'layout'; the findings stay in 'r'. */
static char *
scan_tree(const struct tfile *f, size_t n, enum pgb_layout layout,
    struct pgb_scan *s, struct pgb_report *r)
{
	struct pgb_diag	 d;
	char		*dir = make_tree(f, n);

	pgb_report_init(r, 0);
	assert_int_equal(pgb_scan_dir(dir, layout, s, r, &d), 0);
	return dir;
}

/* 1 if some finding's message holds 'a' and 'b' (NULL: anything). */
static int
found(const struct pgb_report *r, const char *a, const char *b)
{
	size_t	i;

	for (i = 0; i < r->n; i++)
		if (strstr(r->v[i].msg, a) != NULL &&
		    (b == NULL || strstr(r->v[i].msg, b) != NULL))
			return 1;
	return 0;
}

static void
test_scan_layout_golang_detected(void **state)
{
	static const struct tfile f[] = {
		{ "000001_a.up.sql", "SELECT 1;\n" },
		{ "000001_a.down.sql", "SELECT 1;\n" },
		{ "000002_b.up.sql", "SELECT 1;\n" },
	};
	struct pgb_scan		s;
	struct pgb_report	r;
	char			*dir = scan_tree(f, 3, PGB_LAYOUT_AUTO, &s, &r);

	(void)state;
	assert_int_equal(r.nerrors, 0);
	assert_int_equal(s.layout, PGB_LAYOUT_GOLANG);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.v[0].up_base, "000001_a.up.sql");
	assert_string_equal(s.v[0].down_base, "000001_a.down.sql");
	assert_string_equal(s.v[1].name, "b");
	assert_null(s.v[1].down);
	pgb_scan_release(&s);
	pgb_report_release(&r);
	remove_tree(dir);
}

static void
test_scan_layout_flyway_detected(void **state)
{
	static const struct tfile f[] = {
		{ "V1__init.sql", "SELECT 1;\n" },
		{ "U1__init.sql", "SELECT 1;\n" },
		{ "V1.1__more.sql", "SELECT 1;\n" },
		{ "V1_10__later.sql", "SELECT 1;\n" },
		{ "V2__two.sql", "SELECT 1;\n" },
	};
	struct pgb_scan		s;
	struct pgb_report	r;
	char			*dir = scan_tree(f, 5, PGB_LAYOUT_AUTO, &s, &r);

	(void)state;
	assert_int_equal(r.nerrors, 0);
	assert_int_equal(s.layout, PGB_LAYOUT_FLYWAY);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.v[0].name, "init");
	assert_string_equal(s.v[0].down_base, "U1__init.sql");
	assert_string_equal(s.v[1].name, "more");
	assert_string_equal(s.v[2].name, "later");
	assert_string_equal(s.v[3].name, "two");
	assert_true(s.v[2].version == 1000010000000LL);
	pgb_scan_release(&s);
	pgb_report_release(&r);
	remove_tree(dir);
}

static void
test_scan_layout_flyway_duplicates_and_repeatable(void **state)
{
	static const struct tfile f[] = {
		{ "V1__a.sql", "SELECT 1;\n" },
		{ "V1.0__b.sql", "SELECT 1;\n" },
		{ "R__views.sql", "SELECT 1;\n" },
	};
	struct pgb_scan		s;
	struct pgb_report	r;
	char			*dir = scan_tree(f, 3, PGB_LAYOUT_AUTO, &s, &r);

	(void)state;
	assert_int_equal(s.layout, PGB_LAYOUT_FLYWAY);
	assert_true(found(&r, "duplicate version 1000000000000", "V1.0__b.sql"));
	assert_true(found(&r, "repeatable", NULL));
	assert_int_equal(r.nerrors, 2);
	pgb_scan_release(&s);
	pgb_report_release(&r);
	remove_tree(dir);
}

static void
test_scan_layout_dbmate_detected(void **state)
{
	static const struct tfile f[] = {
		{ "20230705123456_a.sql", UPDOWN },
		{ "20230706000000_b.sql", "-- migrate:up\nSELECT 1;\n" },
	};
	struct pgb_scan		s;
	struct pgb_report	r;
	char			*dir = scan_tree(f, 2, PGB_LAYOUT_AUTO, &s, &r);

	(void)state;
	assert_int_equal(r.nerrors, 0);
	assert_int_equal(s.layout, PGB_LAYOUT_DBMATE);
	assert_int_equal(s.n, 2);
	assert_true(s.v[0].sections);
	assert_null(s.v[0].down);
	assert_string_equal(s.v[0].down_base, "20230705123456_a.down.sql");
	pgb_scan_release(&s);
	pgb_report_release(&r);
	remove_tree(dir);
}

/* goose and sql-migrate files are told apart by their up marker. */
static void
test_scan_layout_goose_sql_migrate_detected(void **state)
{
	static const struct tfile g[] = {
		{ "00001_a.sql", "-- +goose NO TRANSACTION\n-- +goose Up\n"
		    "SELECT 1;\n-- +goose Down\nSELECT 2;\n" },
		{ "20230706000000_b.sql", "-- +goose up\nSELECT 1;\n" },
		{ "00003_c.go", "package migrations\n" },
	};
	static const struct tfile m[] = {
		{ "1_a.sql", "-- +migrate Up\nSELECT 1;\n" },
		{ "10_b.sql", "-- +migrate Up\nSELECT 1;\n-- +migrate Down\n" },
	};
	struct pgb_scan		s;
	struct pgb_report	r;
	char			*dir = scan_tree(g, 3, PGB_LAYOUT_AUTO, &s, &r);

	(void)state;
	assert_int_equal(s.layout, PGB_LAYOUT_GOOSE);
	assert_int_equal(r.nerrors, 1);	/* the Go migration */
	assert_int_equal(s.n, 2);
	assert_true(s.v[0].sections);
	assert_string_equal(s.v[0].down_base, "00001_a.down.sql");
	pgb_scan_release(&s);
	pgb_report_release(&r);
	remove_tree(dir);
	dir = scan_tree(m, 2, PGB_LAYOUT_AUTO, &s, &r);
	assert_int_equal(r.nerrors, 0);
	assert_int_equal(s.layout, PGB_LAYOUT_SQL_MIGRATE);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.v[1].version, 10);
	assert_true(s.v[1].sections);
	pgb_scan_release(&s);
	pgb_report_release(&r);
	remove_tree(dir);
}

static void
test_scan_layout_diesel_detected(void **state)
{
	static const struct tfile f[] = {
		{ "00000000000000_diesel_initial_setup/up.sql", "SELECT 1;\n" },
		{ "00000000000000_diesel_initial_setup/down.sql", "SELECT 1;\n" },
		{ "2023-07-05-000058_users/up.sql", "SELECT 1;\n" },
		{ "2023-07-05-000058_users/metadata.toml",
		    "run_in_transaction = false\n" },
		{ "2023-07-06-000000_orphan/down.sql", "SELECT 1;\n" },
		{ "lib/shared.sql", "SELECT 1;\n" },
	};
	struct pgb_scan		s;
	struct pgb_report	r;
	char			*dir = scan_tree(f, 6, PGB_LAYOUT_AUTO, &s, &r);

	(void)state;
	assert_int_equal(s.layout, PGB_LAYOUT_DIESEL);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.v[0].version, 0);
	assert_string_equal(s.v[0].down_base,
	    "00000000000000_diesel_initial_setup.down.sql");
	assert_true(s.v[1].version == 20230705000058LL);
	assert_string_equal(s.v[1].up_base, "2023-07-05-000058_users.sql");
	assert_true(s.v[1].notx);
	assert_false(s.v[0].notx);
	assert_true(found(&r, "down script without an up", NULL));
	assert_int_equal(r.nerrors, 1);
	pgb_scan_release(&s);
	pgb_report_release(&r);
	remove_tree(dir);
}

static void
test_scan_layout_rollback_files(void **state)
{
	static const struct tfile f[] = {
		{ "001_a.sql", "SELECT 1;\n" },
		{ "rollback_001_a.sql", "SELECT 1;\n" },
		{ "002_b.sql", "SELECT 1;\n" },
		{ "002_b_ROLLBACK.sql", "SELECT 1;\n" },
		{ "003_c.sql", "SELECT 1;\n" },
		{ "rollback_003_other.sql", "SELECT 1;\n" },
	};
	struct pgb_scan		s;
	struct pgb_report	r;
	char			*dir = scan_tree(f, 6, PGB_LAYOUT_AUTO, &s, &r);

	(void)state;
	assert_int_equal(s.layout, PGB_LAYOUT_PGBUNDLE);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.v[0].down_base, "rollback_001_a.sql");
	assert_string_equal(s.v[1].down_base, "002_b_ROLLBACK.sql");
	assert_string_equal(s.v[1].name, "b");
	assert_true(found(&r, "does not match its up script", "003_c.sql"));
	assert_int_equal(r.nerrors, 1);
	pgb_scan_release(&s);
	pgb_report_release(&r);
	remove_tree(dir);
}

static void
test_scan_layout_mixed(void **state)
{
	static const struct tfile f1[] = {
		{ "001_a.sql", "SELECT 1;\n" },
		{ "V2__b.sql", "SELECT 1;\n" },
	};
	static const struct tfile f2[] = {
		{ "001_a.sql", "SELECT 1;\n" },
		{ "002_b.sql", UPDOWN },
	};
	struct pgb_scan		s;
	struct pgb_report	r;
	char			*dir;

	(void)state;
	dir = scan_tree(f1, 2, PGB_LAYOUT_AUTO, &s, &r);
	assert_int_equal(r.nerrors, 1);
	assert_true(found(&r, "mix layouts", "V2__b.sql' is flyway"));
	assert_true(found(&r, "001_a.sql' is pgbundle", NULL));
	assert_int_equal(s.n, 0);
	pgb_scan_release(&s);
	pgb_report_release(&r);
	remove_tree(dir);

	dir = scan_tree(f2, 2, PGB_LAYOUT_AUTO, &s, &r);
	assert_true(found(&r, "002_b.sql' is dbmate", "001_a.sql' is pgbundle"));
	pgb_scan_release(&s);
	pgb_report_release(&r);
	remove_tree(dir);

	/* Told the layout, the folder is read as one. */
	dir = scan_tree(f2, 2, PGB_LAYOUT_PGBUNDLE, &s, &r);
	assert_int_equal(r.nerrors, 0);
	assert_int_equal(s.n, 2);
	assert_false(s.v[1].sections);
	pgb_scan_release(&s);
	pgb_report_release(&r);
	remove_tree(dir);
}

static void
test_scan_layout_told_wrong(void **state)
{
	static const struct tfile f[] = {
		{ "000001_a.up.sql", "SELECT 1;\n" },
		{ "000001_a.down.sql", "SELECT 1;\n" },
	};
	struct pgb_scan		s;
	struct pgb_report	r;
	char			*dir = scan_tree(f, 2, PGB_LAYOUT_FLYWAY, &s, &r);

	(void)state;
	assert_int_equal(r.nerrors, 2);
	assert_true(found(&r, "cannot parse migration file name: expected "
	    "V<version>__name.sql", NULL));
	assert_int_equal(s.n, 0);
	pgb_scan_release(&s);
	pgb_report_release(&r);
	remove_tree(dir);
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
		cmocka_unit_test(test_scan_layout_golang_detected),
		cmocka_unit_test(test_scan_layout_flyway_detected),
		cmocka_unit_test(test_scan_layout_flyway_duplicates_and_repeatable),
		cmocka_unit_test(test_scan_layout_dbmate_detected),
		cmocka_unit_test(test_scan_layout_goose_sql_migrate_detected),
		cmocka_unit_test(test_scan_layout_diesel_detected),
		cmocka_unit_test(test_scan_layout_rollback_files),
		cmocka_unit_test(test_scan_layout_mixed),
		cmocka_unit_test(test_scan_layout_told_wrong),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
