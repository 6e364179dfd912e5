/*
 * test_layout.c - the file names of every layout pgbundle reads, the
 * versions they map to, dbmate's sections and Diesel's metadata.toml.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "diag.h"
#include "layout.h"
#include "lex.h"
#include "sections.h"

/* Parse 'base' under 'l' and check role, version and name. */
static void
expect(enum pgb_layout l, const char *base, int is_dir, enum pgb_role role,
    long long version, const char *name)
{
	struct pgb_layout_name	ln;

	pgb_layout_parse(l, base, is_dir, &ln);
	if (ln.role != role)
		fail_msg("%s (%s): role %d, expected %d", base,
		    pgb_layout_label(l), ln.role, role);
	if (role != PGB_ROLE_UP && role != PGB_ROLE_DOWN)
		return;
	assert_int_equal(ln.version, version);
	assert_int_equal(ln.namelen, strlen(name));
	assert_memory_equal(base + ln.nameoff, name, ln.namelen);
}

/* The stem of 'base' under 'l', for pairing up and down scripts. */
static void
expect_stem(enum pgb_layout l, const char *base, const char *stem)
{
	struct pgb_layout_name	ln;

	pgb_layout_parse(l, base, 0, &ln);
	assert_int_equal(ln.stemlen, strlen(stem));
	assert_memory_equal(base + ln.stemoff, stem, ln.stemlen);
}

static void
test_layout_pgbundle_names(void **state)
{
	enum pgb_layout	l = PGB_LAYOUT_PGBUNDLE;

	(void)state;
	expect(l, "001_create_users.sql", 0, PGB_ROLE_UP, 1, "create_users");
	expect(l, "001_create_users.down.sql", 0, PGB_ROLE_DOWN, 1,
	    "create_users");
	expect(l, "rollback_002_add_email.sql", 0, PGB_ROLE_DOWN, 2,
	    "add_email");
	expect(l, "003_add_index_ROLLBACK.sql", 0, PGB_ROLE_DOWN, 3,
	    "add_index");
	expect_stem(l, "001_a.sql", "001_a");
	expect_stem(l, "001_a.down.sql", "001_a");
	expect_stem(l, "rollback_001_a.sql", "001_a");
	expect_stem(l, "001_a_ROLLBACK.sql", "001_a");
	/* "_ROLLBACK" with nothing before it is a name, not a down script. */
	expect(l, "004_ROLLBACK.sql", 0, PGB_ROLE_UP, 4, "ROLLBACK");
	expect(l, "001_a.up.sql", 0, PGB_ROLE_BAD, 0, NULL);
	expect(l, "V1__a.sql", 0, PGB_ROLE_BAD, 0, NULL);
	expect(l, "rollback_a.sql", 0, PGB_ROLE_BAD, 0, NULL);
	expect(l, "README.md", 0, PGB_ROLE_IGNORE, 0, NULL);
	expect(l, "pgbundle.sum", 0, PGB_ROLE_IGNORE, 0, NULL);
	expect(l, "lib", 1, PGB_ROLE_IGNORE, 0, NULL);
}

static void
test_layout_golang_names(void **state)
{
	enum pgb_layout	l = PGB_LAYOUT_GOLANG;

	(void)state;
	expect(l, "000001_create_users.up.sql", 0, PGB_ROLE_UP, 1,
	    "create_users");
	expect(l, "000001_create_users.down.sql", 0, PGB_ROLE_DOWN, 1,
	    "create_users");
	expect(l, "20230705123456_x.up.sql", 0, PGB_ROLE_UP, 20230705123456LL,
	    "x");
	expect_stem(l, "000001_a.up.sql", "000001_a");
	expect_stem(l, "000001_a.down.sql", "000001_a");
	expect(l, "000001_a.sql", 0, PGB_ROLE_BAD, 0, NULL);
	expect(l, "a.up.sql", 0, PGB_ROLE_BAD, 0, NULL);
	expect(l, "notes.txt", 0, PGB_ROLE_IGNORE, 0, NULL);
}

static void
test_layout_diesel_names(void **state)
{
	enum pgb_layout	l = PGB_LAYOUT_DIESEL;

	(void)state;
	expect(l, "2023-07-05-000058_create_users", 1, PGB_ROLE_UP,
	    20230705000058LL, "create_users");
	expect(l, "00000000000000_diesel_initial_setup", 1, PGB_ROLE_UP, 0,
	    "diesel_initial_setup");
	expect(l, "2023-07-05-000058_bad name", 1, PGB_ROLE_BAD, 0, NULL);
	expect(l, "2023-07-05-_x", 1, PGB_ROLE_BAD, 0, NULL);
	expect(l, "1234567890-1234567890_too_long", 1, PGB_ROLE_BAD, 0, NULL);
	expect(l, "lib", 1, PGB_ROLE_IGNORE, 0, NULL);
	expect(l, "001_stray.sql", 0, PGB_ROLE_BAD, 0, NULL);
	expect(l, "README.md", 0, PGB_ROLE_IGNORE, 0, NULL);
}

static void
test_layout_flyway_names(void **state)
{
	enum pgb_layout	l = PGB_LAYOUT_FLYWAY;

	(void)state;
	expect(l, "V1__init.sql", 0, PGB_ROLE_UP, 1000000000000LL, "init");
	expect(l, "V1.2.3__add_email.sql", 0, PGB_ROLE_UP, 1000002000003LL,
	    "add_email");
	expect(l, "V1_2_3__add_email.sql", 0, PGB_ROLE_UP, 1000002000003LL,
	    "add_email");
	expect(l, "U1.2.3__add_email.sql", 0, PGB_ROLE_DOWN, 1000002000003LL,
	    "add_email");
	expect(l, "V001__a__b.sql", 0, PGB_ROLE_UP, 1000000000000LL, "a__b");
	/* "1" and "1.0" are one version, as in Flyway. */
	expect(l, "V1.0__x.sql", 0, PGB_ROLE_UP, 1000000000000LL, "x");
	expect(l, "R__views.sql", 0, PGB_ROLE_BAD, 0, NULL);
	expect(l, "V1.2.3.4__x.sql", 0, PGB_ROLE_BAD, 0, NULL);
	expect(l, "V1..2__x.sql", 0, PGB_ROLE_BAD, 0, NULL);
	expect(l, "V1__.sql", 0, PGB_ROLE_BAD, 0, NULL);
	expect(l, "V1_x.sql", 0, PGB_ROLE_BAD, 0, NULL);
	expect(l, "v1__x.sql", 0, PGB_ROLE_BAD, 0, NULL);
	expect(l, "001_x.sql", 0, PGB_ROLE_BAD, 0, NULL);
}

/* Flyway's dotted order is integer order. */
static void
test_layout_flyway_order(void **state)
{
	static const char *const sorted[] = {
		"V1__a.sql", "V1.1__a.sql", "V1.2__a.sql", "V1.2.1__a.sql",
		"V1.10__a.sql", "V2__a.sql", "V10__a.sql", "V999999.999999__a.sql"
	};
	struct pgb_layout_name	a, b;
	size_t			i;

	(void)state;
	for (i = 1; i < sizeof(sorted) / sizeof(sorted[0]); i++) {
		pgb_layout_parse(PGB_LAYOUT_FLYWAY, sorted[i - 1], 0, &a);
		pgb_layout_parse(PGB_LAYOUT_FLYWAY, sorted[i], 0, &b);
		assert_int_equal(a.role, PGB_ROLE_UP);
		assert_int_equal(b.role, PGB_ROLE_UP);
		assert_true(a.version < b.version);
	}
}

static void
test_layout_dbmate_names(void **state)
{
	enum pgb_layout	l = PGB_LAYOUT_DBMATE;

	(void)state;
	expect(l, "20230705123456_create_users.sql", 0, PGB_ROLE_UP,
	    20230705123456LL, "create_users");
	expect(l, "20230705123456_create_users.down.sql", 0, PGB_ROLE_BAD, 0,
	    NULL);
	expect(l, "create_users.sql", 0, PGB_ROLE_BAD, 0, NULL);
	expect_stem(l, "20230705123456_a.sql", "20230705123456_a");
}

static void
test_layout_labels(void **state)
{
	enum pgb_layout	l;

	(void)state;
	assert_int_equal(pgb_layout_lookup("golang-migrate", &l), 0);
	assert_int_equal(l, PGB_LAYOUT_GOLANG);
	assert_int_equal(pgb_layout_lookup("auto", &l), 0);
	assert_int_equal(l, PGB_LAYOUT_AUTO);
	assert_int_equal(pgb_layout_lookup("liquibase", &l), 0);
	assert_int_equal(l, PGB_LAYOUT_LIQUIBASE);
	assert_int_equal(pgb_layout_lookup("hibernate", &l), -1);
	assert_string_equal(pgb_layout_label(PGB_LAYOUT_DIESEL), "diesel");
	assert_null(pgb_layout_label((enum pgb_layout)99));
}

static void
test_layout_dbmate_sections(void **state)
{
	static const char text[] =
	    "-- a comment before is fine\n"		/* 1 */
	    "-- migrate:up transaction:false\n"		/* 2 */
	    "CREATE TABLE t (id int);\n"		/* 3 */
	    "SELECT '-- migrate:down';  -- migrate:down\n"	/* 4 */
	    "\n"					/* 5 */
	    "-- migrate:down\n"				/* 6 */
	    "DROP TABLE t;\n";				/* 7 */
	struct pgb_section	up, down;
	unsigned		line = 0;
	char			why[256];

	(void)state;
	assert_int_equal(pgb_sections_find(PGB_LAYOUT_DBMATE, text, sizeof(text) - 1, &up,
	    &down, &line, why, sizeof(why)), 0);
	assert_true(up.present);
	assert_int_equal(up.line0, 1);
	assert_int_equal(up.nstmts, 2);
	assert_true(up.notx);
	assert_int_equal(up.off, strlen("-- a comment before is fine\n"));
	assert_memory_equal(text + up.off + up.len, "-- migrate:down\nDROP", 20);
	assert_true(down.present);
	assert_int_equal(down.line0, 5);
	assert_int_equal(down.nstmts, 1);
	assert_false(down.notx);
	assert_int_equal(down.off + down.len, sizeof(text) - 1);
}

static void
test_layout_dbmate_sections_rejected(void **state)
{
	static const struct {
		const char	*text;
		unsigned	 line;
		const char	*msg;
	} bad[] = {
		{ "CREATE TABLE t ();\n", 1, "no '-- migrate:up'" },
		{ "SELECT 1;\n-- migrate:up\nSELECT 2;\n", 1, "before" },
		{ "-- migrate:up\nSELECT 1;\n-- migrate:up\n", 3, "second" },
		{ "-- migrate:down\nSELECT 1;\n-- migrate:up\n", 3, "after" },
		{ "-- migrate:up nope:1\nSELECT 1;\n", 1, "unknown dbmate option" },
		{ "-- migrate:sideways\nSELECT 1;\n", 1, "unknown dbmate marker" },
		{ "-- migrate:up\nSELECT 'x;\n", 2, "unterminated" },
	};
	struct pgb_section	up, down;
	unsigned		line;
	char			why[256];
	size_t			i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		line = 0;
		assert_int_equal(pgb_sections_find(PGB_LAYOUT_DBMATE, bad[i].text,
		    strlen(bad[i].text), &up, &down, &line, why, sizeof(why)),
		    -1);
		assert_int_equal(line, bad[i].line);
		if (strstr(why, bad[i].msg) == NULL)
			fail_msg("'%s': got '%s'", bad[i].msg, why);
	}
}

static void
test_layout_markers(void **state)
{
	static const char dbmate[] = "\n  --   migrate:up\nSELECT 1;\n";
	static const char not1[] = "SELECT 1; -- migrate:up\n";
	static const char not2[] = "-- migrate:upgrade\n";
	static const char toml[] = "# diesel\nrun_in_transaction = false\n";
	static const char toml2[] = "run_in_transaction = true\n";

	(void)state;
	assert_int_equal(pgb_sections_sniff(dbmate, sizeof(dbmate) - 1), PGB_LAYOUT_DBMATE);
	assert_int_equal(pgb_sections_sniff(not1, sizeof(not1) - 1), PGB_LAYOUT_AUTO);
	assert_int_equal(pgb_sections_sniff(not2, sizeof(not2) - 1), PGB_LAYOUT_AUTO);
	assert_true(pgb_layout_diesel_notx(toml, sizeof(toml) - 1));
	assert_false(pgb_layout_diesel_notx(toml2, sizeof(toml2) - 1));
}

static void
test_layout_goose_sql_migrate_names(void **state)
{
	(void)state;
	expect(PGB_LAYOUT_GOOSE, "00001_create_users.sql", 0, PGB_ROLE_UP, 1,
	    "create_users");
	expect(PGB_LAYOUT_GOOSE, "20230705123456_a.sql", 0, PGB_ROLE_UP,
	    20230705123456LL, "a");
	expect(PGB_LAYOUT_GOOSE, "00002_backfill.go", 0, PGB_ROLE_BAD, 0, NULL);
	expect(PGB_LAYOUT_GOOSE, "00002_backfill_test.go", 0, PGB_ROLE_IGNORE,
	    0, NULL);
	expect(PGB_LAYOUT_GOOSE, "embed.go", 0, PGB_ROLE_IGNORE, 0, NULL);
	expect(PGB_LAYOUT_GOOSE, "00001_a.down.sql", 0, PGB_ROLE_BAD, 0, NULL);
	expect(PGB_LAYOUT_SQL_MIGRATE, "12_add_users.sql", 0, PGB_ROLE_UP, 12,
	    "add_users");
	expect(PGB_LAYOUT_SQL_MIGRATE, "add_users.sql", 0, PGB_ROLE_BAD, 0,
	    NULL);
	expect(PGB_LAYOUT_PGBUNDLE, "00002_backfill.go", 0, PGB_ROLE_IGNORE, 0,
	    NULL);
}

/* Every tool's markers, loosely read: spacing and case do not hide one. */
static void
test_layout_marker_kinds(void **state)
{
	static const struct {
		const char	*body;
		enum pgb_layout	 owner;
		enum pgb_mark	 kind;
	} v[] = {
		{ "migrate:up", PGB_LAYOUT_DBMATE, PGB_MARK_UP },
		{ "migrate:down transaction:false", PGB_LAYOUT_DBMATE,
		    PGB_MARK_DOWN },
		{ "migrate:upgrade", PGB_LAYOUT_DBMATE, PGB_MARK_OTHER },
		{ "+goose Up", PGB_LAYOUT_GOOSE, PGB_MARK_UP },
		{ "+GOOSE   down", PGB_LAYOUT_GOOSE, PGB_MARK_DOWN },
		{ "+goose StatementBegin", PGB_LAYOUT_GOOSE, PGB_MARK_OTHER },
		{ "+migrate Down notransaction", PGB_LAYOUT_SQL_MIGRATE,
		    PGB_MARK_DOWN },
		{ "+migrate up", PGB_LAYOUT_SQL_MIGRATE, PGB_MARK_UP },
		{ "liquibase formatted sql", PGB_LAYOUT_LIQUIBASE,
		    PGB_MARK_HEADER },
		{ "changeset alice:1 runInTransaction:false",
		    PGB_LAYOUT_LIQUIBASE, PGB_MARK_CHANGESET },
		{ "changeset: adds users", PGB_LAYOUT_AUTO, PGB_MARK_NONE },
		{ "changeset for users", PGB_LAYOUT_AUTO, PGB_MARK_NONE },
		{ "+gooseberry", PGB_LAYOUT_AUTO, PGB_MARK_NONE },
		{ "pgbundle:no-transaction", PGB_LAYOUT_AUTO, PGB_MARK_NONE },
	};
	enum pgb_layout	owner;
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (pgb_sections_marker(v[i].body, &owner) != v[i].kind ||
		    owner != v[i].owner)
			fail_msg("'%s': kind %d owner %d", v[i].body,
			    pgb_sections_marker(v[i].body, &owner), owner);
	}
}

static void
test_layout_goose_sections(void **state)
{
	static const char text[] =
	    "-- +goose NO TRANSACTION\n"			/* 1 */
	    "-- +goose Up\n"					/* 2 */
	    "-- +goose StatementBegin\n"			/* 3 */
	    "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$\n"	/* 4 */
	    "LANGUAGE sql;\n"					/* 5 */
	    "-- +goose StatementEnd\n"				/* 6 */
	    "-- +goose Down\n"					/* 7 */
	    "DROP FUNCTION f();\n";				/* 8 */
	static const char sm[] =
	    "-- +migrate Up\n"
	    "SELECT 1;\n"
	    "-- +migrate Down notransaction\n"
	    "SELECT 2;\n"
	    "SELECT 3;\n";
	struct pgb_section	up, down;
	unsigned		line = 0;
	char			why[256];

	(void)state;
	assert_int_equal(pgb_sections_find(PGB_LAYOUT_GOOSE, text,
	    sizeof(text) - 1, &up, &down, &line, why, sizeof(why)), 0);
	assert_int_equal(up.line0, 1);
	assert_int_equal(up.nstmts, 1);
	assert_true(up.notx);
	assert_int_equal(down.line0, 6);
	assert_int_equal(down.nstmts, 1);
	assert_true(down.notx);
	assert_int_equal(pgb_sections_find(PGB_LAYOUT_SQL_MIGRATE, sm,
	    sizeof(sm) - 1, &up, &down, &line, why, sizeof(why)), 0);
	assert_false(up.notx);
	assert_true(down.notx);
	assert_int_equal(down.nstmts, 2);
	assert_int_equal(pgb_sections_find(PGB_LAYOUT_FLYWAY, sm,
	    sizeof(sm) - 1, &up, &down, &line, why, sizeof(why)), -1);
	assert_int_equal(pgb_sections_sniff(text, sizeof(text) - 1),
	    PGB_LAYOUT_GOOSE);
	assert_int_equal(pgb_sections_sniff(sm, sizeof(sm) - 1),
	    PGB_LAYOUT_SQL_MIGRATE);
	assert_string_equal(pgb_sections_up_line(PGB_LAYOUT_GOOSE),
	    "-- +goose Up\n");
	assert_null(pgb_sections_up_line(PGB_LAYOUT_PGBUNDLE));
}

/* A marker of another tool, or any in an included file, is refused. */
static void
test_layout_foreign_markers(void **state)
{
	static const char text[] =
	    "SELECT '-- migrate:down';\n"	/* in a string: no marker */
	    "SELECT 1; -- +goose Down\n"	/* after SQL: a comment */
	    "-- +goose StatementBegin\n"	/* not up, down or changeset */
	    "  -- migrate:down\n";		/* 4 */
	struct pgb_lex	 lx;
	struct pgb_diag	 d;
	unsigned	 line = 0;
	char		 why[512];

	(void)state;
	assert_int_equal(pgb_lex_split(text, sizeof(text) - 1, &lx, &line,
	    &d), 0);
	assert_int_equal(pgb_sections_foreign(PGB_LAYOUT_DBMATE, 1, text,
	    sizeof(text) - 1, &lx, &line, why, sizeof(why)), 0);
	assert_int_equal(pgb_sections_foreign(PGB_LAYOUT_PGBUNDLE, 1, text,
	    sizeof(text) - 1, &lx, &line, why, sizeof(why)), -1);
	assert_int_equal(line, 4);
	assert_string_equal(why, "dbmate marker '-- migrate:down' in a file "
	    "read in the pgbundle layout: a down section must never run as "
	    "part of an up (pass --layout dbmate if the folder is dbmate's)");
	assert_int_equal(pgb_sections_foreign(PGB_LAYOUT_DBMATE, 0, text,
	    sizeof(text) - 1, &lx, &line, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "in an included file"));
	pgb_lex_release(&lx);
}

static void
test_layout_prisma_atlas_names(void **state)
{
	(void)state;
	expect(PGB_LAYOUT_PRISMA, "20230705123456_init", 1, PGB_ROLE_UP,
	    20230705123456LL, "init");
	expect(PGB_LAYOUT_PRISMA, "migration_lock.toml", 0, PGB_ROLE_IGNORE, 0,
	    NULL);
	expect(PGB_LAYOUT_PRISMA, "init.sql", 0, PGB_ROLE_BAD, 0, NULL);
	expect(PGB_LAYOUT_ATLAS, "20230705123456_init.sql", 0, PGB_ROLE_UP,
	    20230705123456LL, "init");
	expect(PGB_LAYOUT_ATLAS, "20230706000000.sql", 0, PGB_ROLE_UP,
	    20230706000000LL, "20230706000000");
	expect(PGB_LAYOUT_ATLAS, "atlas.sum", 0, PGB_ROLE_IGNORE, 0, NULL);
	expect(PGB_LAYOUT_ATLAS, "1_a.down.sql", 0, PGB_ROLE_BAD, 0, NULL);
	expect(PGB_LAYOUT_SQITCH, "deploy", 1, PGB_ROLE_IGNORE, 0, NULL);
}

static void
test_layout_atlas_header(void **state)
{
	static const char none[] = "-- atlas:txmode none\n\n-- atlas:nolint\n"
	    "CREATE INDEX CONCURRENTLY i ON t (a);\n-- atlas:delimiter x\n";
	static const char file[] = "-- atlas:txmode file\nSELECT 1;\n";
	static const char bad[] = "-- a comment\n-- atlas:delimiter ;;\n";
	unsigned	line = 0;
	int		notx = 0;
	char		why[256];

	(void)state;
	assert_int_equal(pgb_layout_atlas_header(none, sizeof(none) - 1, &notx,
	    &line, why, sizeof(why)), 0);
	assert_true(notx);
	assert_int_equal(pgb_layout_atlas_header(file, sizeof(file) - 1, &notx,
	    &line, why, sizeof(why)), 0);
	assert_false(notx);
	assert_int_equal(pgb_layout_atlas_header(bad, sizeof(bad) - 1, &notx,
	    &line, why, sizeof(why)), -1);
	assert_int_equal(line, 2);
	assert_non_null(strstr(why, "'atlas:delimiter ;;'"));
}

static void
test_layout_sqitch_plan(void **state)
{
	static const char plan[] =
	    "%syntax-version=1.0.0\n"				/* 1 */
	    "%project=shop\n"					/* 2 */
	    "\n"						/* 3 */
	    "users 2024-01-01T00:00:00Z T <t@e> # users\n"	/* 4 */
	    "# a note\n"					/* 5 */
	    "+orders [users] 2024-01-01T00:00:01Z T <t@e>\n"	/* 6 */
	    "@v1 2024-01-01T00:00:02Z T <t@e> # tag\n"		/* 7 */
	    "users [users@v1] 2024-01-02T00:00:00Z T <t@e>\n";	/* 8 */
	static const char odd[] = "a.b 2024-01-01T00:00:00Z T <t@e>\n";
	struct pgb_sqitch_plan	 p;
	struct pgb_sqitch_change c;
	char			 why[256];

	(void)state;
	memset(&p, 0, sizeof(p));
	assert_int_equal(pgb_layout_sqitch_next(plan, sizeof(plan) - 1, &p,
	    &c, why, sizeof(why)), 1);
	assert_string_equal(c.name, "users");
	assert_int_equal(c.line, 4);
	assert_int_equal(pgb_layout_sqitch_next(plan, sizeof(plan) - 1, &p,
	    &c, why, sizeof(why)), 1);
	assert_string_equal(c.name, "orders");
	assert_int_equal(c.line, 6);
	assert_int_equal(pgb_layout_sqitch_next(plan, sizeof(plan) - 1, &p,
	    &c, why, sizeof(why)), -1);
	assert_int_equal(c.line, 8);
	assert_non_null(strstr(why, "planned twice"));
	pgb_layout_sqitch_release(&p);
	assert_int_equal(pgb_layout_sqitch_next(odd, sizeof(odd) - 1, &p, &c,
	    why, sizeof(why)), -1);
	assert_non_null(strstr(why, "cannot be a migration name"));
	pgb_layout_sqitch_release(&p);
	assert_int_equal(pgb_layout_sqitch_next("", 0, &p, &c, why,
	    sizeof(why)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_pgbundle_names),
		cmocka_unit_test(test_layout_golang_names),
		cmocka_unit_test(test_layout_diesel_names),
		cmocka_unit_test(test_layout_flyway_names),
		cmocka_unit_test(test_layout_flyway_order),
		cmocka_unit_test(test_layout_dbmate_names),
		cmocka_unit_test(test_layout_labels),
		cmocka_unit_test(test_layout_dbmate_sections),
		cmocka_unit_test(test_layout_dbmate_sections_rejected),
		cmocka_unit_test(test_layout_markers),
		cmocka_unit_test(test_layout_goose_sql_migrate_names),
		cmocka_unit_test(test_layout_marker_kinds),
		cmocka_unit_test(test_layout_goose_sections),
		cmocka_unit_test(test_layout_foreign_markers),
		cmocka_unit_test(test_layout_prisma_atlas_names),
		cmocka_unit_test(test_layout_atlas_header),
		cmocka_unit_test(test_layout_sqitch_plan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
