/*
 * test_lex.c - statement splitting as psql 15 does it, meta-commands,
 * psql variable references, directives, COPY data, errors with their
 * lines, and UTF-8 checks.
 * Inputs are copied into buffers of their exact length, so that a read
 * past the end shows up under AddressSanitizer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bounds.h"
#include "diag.h"
#include "lex.h"
#include "banned.h"

/* The text of every case, copied without a NUL; freed in teardown. */
static char	*cur_text;

static const char *
own(const char *s, size_t n)
{
	free(cur_text);
	cur_text = malloc(n ? n : 1);
	assert_non_null(cur_text);
	memcpy(cur_text, s, n);
	return cur_text;
}

static int
teardown(void **state)
{
	(void)state;
	free(cur_text);
	cur_text = NULL;
	return 0;
}

/* Split 's' (a C string, NUL not included); expect success. */
static const char *
split_ok(const char *s, struct pgb_lex *lx)
{
	struct pgb_diag	d;
	unsigned	errline = 99;
	const char	*t = own(s, strlen(s));
	int		rc;

	memset(&d, 0, sizeof(d));
	rc = pgb_lex_split(t, strlen(s), lx, &errline, &d);
	if (rc != 0)
		fail_msg("split failed at line %u: %s", errline, d.msg);
	assert_int_equal(errline, 0);
	return t;
}

/* Split the first n bytes of 's'; expect failure with 'msg' at 'line'. */
static void
split_fail_n(const char *s, size_t n, const char *msg, unsigned line)
{
	struct pgb_lex	lx;
	struct pgb_diag	d;
	unsigned	errline = 0;
	const char	*t = own(s, n);

	memset(&d, 0, sizeof(d));
	assert_int_equal(pgb_lex_split(t, n, &lx, &errline, &d), -1);
	assert_string_equal(d.msg, msg);
	assert_int_equal(d.code, PGB_ESOURCE);
	assert_int_equal(errline, line);
	pgb_lex_release(&lx);
}

static void
split_fail(const char *s, const char *msg, unsigned line)
{
	split_fail_n(s, strlen(s), msg, line);
}

/* Statement i is exactly 'want' and starts on 'line'. */
static void
check_stmt(const char *t, const struct pgb_lex *lx, size_t i,
    const char *want, unsigned line)
{
	assert_true(i < lx->nstmts);
	if (lx->stmts[i].len != strlen(want) ||
	    memcmp(t + lx->stmts[i].off, want, strlen(want)) != 0)
		fail_msg("statement %zu is '%.*s', want '%s'", i,
		    (int)lx->stmts[i].len, t + lx->stmts[i].off, want);
	assert_int_equal(lx->stmts[i].line, line);
}

/* The text splits into exactly the statements in 'want' (NULL-ended). */
static void
check_split(const char *s, const char *const *want)
{
	struct pgb_lex	 lx;
	const char	*t = split_ok(s, &lx);
	size_t		 n = 0;

	while (want[n] != NULL)
		n++;
	if (lx.nstmts != n)
		fail_msg("%zu statements, want %zu", lx.nstmts, n);
	for (n = 0; want[n] != NULL; n++) {
		if (lx.stmts[n].len != strlen(want[n]) ||
		    memcmp(t + lx.stmts[n].off, want[n], strlen(want[n])) != 0)
			fail_msg("statement %zu is '%.*s', want '%s'", n,
			    (int)lx.stmts[n].len, t + lx.stmts[n].off, want[n]);
		assert_int_equal(lx.stmts[n].is_copy, 0);
	}
	assert_int_equal(lx.nmetas, 0);
	pgb_lex_release(&lx);
}

static void
test_lex_simple_statements(void **state)
{
	struct pgb_lex	 lx;
	const char	*t;

	(void)state;
	t = split_ok("SELECT 1;\nSELECT 2;\n\n  SELECT 3 ;\n", &lx);
	assert_int_equal(lx.nstmts, 3);
	assert_int_equal(lx.stmts[0].off, 0);
	assert_int_equal(lx.stmts[0].len, 9);
	check_stmt(t, &lx, 0, "SELECT 1;", 1);
	assert_int_equal(lx.stmts[1].off, 10);
	check_stmt(t, &lx, 1, "SELECT 2;", 2);
	assert_int_equal(lx.stmts[2].off, 23);
	check_stmt(t, &lx, 2, "SELECT 3 ;", 4);
	assert_int_equal(lx.nmetas, 0);
	assert_int_equal(lx.ndirs, 0);
	pgb_lex_release(&lx);
}

static void
test_lex_leading_comments_skipped(void **state)
{
	struct pgb_lex	 lx;
	const char	*t;

	(void)state;
	t = split_ok("-- one\n/* two\n */  \tSELECT 1; -- after\n"
	    "/* x */ SELECT /* in */ 2 -- in\n;", &lx);
	assert_int_equal(lx.nstmts, 2);
	check_stmt(t, &lx, 0, "SELECT 1;", 3);
	assert_int_equal(lx.stmts[0].off, 20);
	check_stmt(t, &lx, 1, "SELECT /* in */ 2 -- in\n;", 4);
	pgb_lex_release(&lx);
}

static void
test_lex_final_statement_without_semicolon(void **state)
{
	struct pgb_lex	 lx;
	const char	*t;

	(void)state;
	t = split_ok("SELECT 1;\nSELECT 2\n  -- tail ;\n /* more */\n\n", &lx);
	assert_int_equal(lx.nstmts, 2);
	check_stmt(t, &lx, 1, "SELECT 2", 2);
	pgb_lex_release(&lx);

	t = split_ok("SELECT 1;\nSELECT 2", &lx);
	assert_int_equal(lx.nstmts, 2);
	check_stmt(t, &lx, 1, "SELECT 2", 2);
	pgb_lex_release(&lx);
}

static void
test_lex_comment_only_is_empty(void **state)
{
	struct pgb_lex	lx;

	(void)state;
	split_ok("", &lx);
	assert_int_equal(lx.nstmts, 0);
	pgb_lex_release(&lx);
	split_ok("  \n\t-- nothing ; here\n/* /* ; */ */\n\f\r\n", &lx);
	assert_int_equal(lx.nstmts, 0);
	pgb_lex_release(&lx);
}

static void
test_lex_empty_statements_skipped(void **state)
{
	static const char *const want[] = { "SELECT 1;", "SELECT 2;", NULL };

	(void)state;
	check_split(";;\n ; SELECT 1;;/* c */ ;\nSELECT 2; ;", want);
}

static void
test_lex_standard_string(void **state)
{
	static const char *const want[] = {
		"SELECT 'a;b', 'it''s; fine', '';", "SELECT 2;", NULL
	};
	/* standard_conforming_strings: a backslash does not escape */
	static const char *const want2[] = {
		"SELECT 'a\\';", "SELECT ';\\';", NULL
	};
	static const char *const want3[] = {
		"SELECT 'line one;\nline two;';", "SELECT 2;", NULL
	};

	(void)state;
	check_split("SELECT 'a;b', 'it''s; fine', '';SELECT 2;", want);
	check_split("SELECT 'a\\';SELECT ';\\';", want2);
	check_split("SELECT 'line one;\nline two;';\nSELECT 2;", want3);
}

static void
test_lex_escape_string(void **state)
{
	static const char *const want[] = {
		"SELECT E'\\';', e'\\\\';", "SELECT E'a''b;\\\\\\';';",
		"SELECT 2;", NULL
	};
	/* only E directly before the quote starts one; xe'...' does not */
	static const char *const want2[] = {
		"SELECT xe'\\';", "SELECT 1;", NULL
	};

	(void)state;
	check_split("SELECT E'\\';', e'\\\\';SELECT E'a''b;\\\\\\';';"
	    "SELECT 2;", want);
	check_split("SELECT xe'\\';SELECT 1;", want2);
}

/* Split 's' from a session whose standard_conforming_strings is 'std'. */
static const char *
split_std_ok(const char *s, int std, struct pgb_lex *lx)
{
	struct pgb_diag	d;
	unsigned	errline = 99;
	const char	*t = own(s, strlen(s));

	memset(&d, 0, sizeof(d));
	if (pgb_lex_split_std(t, strlen(s), std, lx, &errline, &d) != 0)
		fail_msg("split failed at line %u: %s", errline, d.msg);
	return t;
}

/* 's' splits into exactly 'want' when the session starts with 'std'. */
static void
check_split_std(const char *s, int std, const char *const *want)
{
	struct pgb_lex	 lx;
	const char	*t = split_std_ok(s, std, &lx);
	size_t		 n;

	for (n = 0; want[n] != NULL; n++) {
		if (n >= lx.nstmts)
			fail_msg("%zu statements, want more", lx.nstmts);
		if (lx.stmts[n].len != strlen(want[n]) ||
		    memcmp(t + lx.stmts[n].off, want[n], strlen(want[n])) != 0)
			fail_msg("statement %zu is '%.*s', want '%s'", n,
			    (int)lx.stmts[n].len, t + lx.stmts[n].off, want[n]);
	}
	assert_int_equal(lx.nstmts, n);
	pgb_lex_release(&lx);
}

static void
test_lex_std_strings_off(void **state)
{
	/* off: a backslash escapes in '...' and N'...', as in E'...' */
	static const char *const off[] = {
		"SELECT 'a\\';', N'b\\';';", "SELECT 2;", NULL
	};
	/* never in B'', X'', U&'' or dollar quotes */
	static const char *const raw[] = {
		"SELECT B'1\\', X'f\\', U&'\\0041\\', $$\\$$;",
		"SELECT 2;", NULL
	};

	(void)state;
	check_split_std("SELECT 'a\\';', N'b\\';';SELECT 2;", 0, off);
	check_split_std("SELECT B'1\\', X'f\\', U&'\\0041\\', $$\\$$;"
	    "SELECT 2;", 0, raw);
}

static void
test_lex_std_strings_follow_set(void **state)
{
	/* from the line after the SET, as psql reads line by line */
	static const char *const next_line[] = {
		"SET standard_conforming_strings = off;",
		"SELECT 'a\\';', 1;", "SELECT 2;", NULL
	};
	static const char *const same_line[] = {
		"SET standard_conforming_strings = off;", "SELECT 'a\\';",
		"SELECT 'b\\';', 2;", NULL
	};
	/* RESET goes back to the session's value, here off */
	static const char *const reset[] = {
		"SET standard_conforming_strings TO on;", "SELECT 'a\\';",
		"RESET standard_conforming_strings;", "SELECT 'b\\';', 2;",
		NULL
	};
	/* a string that spans the switch keeps the rules it started with */
	static const char *const spans[] = {
		"SET standard_conforming_strings = off;", "SELECT 'x\n\\';",
		"SELECT 1;", NULL
	};
	struct pgb_lex	lx;

	(void)state;
	check_split_std("SET standard_conforming_strings = off;\n"
	    "SELECT 'a\\';', 1;\nSELECT 2;", 1, next_line);
	check_split_std("SET standard_conforming_strings = off; "
	    "SELECT 'a\\';\nSELECT 'b\\';', 2;", 1, same_line);
	check_split_std("SET standard_conforming_strings TO on;\n"
	    "SELECT 'a\\';\nRESET standard_conforming_strings;\n"
	    "SELECT 'b\\';', 2;", 0, reset);
	check_split_std("SET standard_conforming_strings = off; SELECT 'x\n"
	    "\\';\nSELECT 1;", 1, spans);
	(void)split_std_ok("SELECT 1;\nSET standard_conforming_strings = 0;", 1,
	    &lx);
	assert_int_equal(lx.stmts[0].sets_std, PGB_STD_KEEP);
	assert_int_equal(lx.stmts[1].sets_std, PGB_STD_OFF);
	pgb_lex_release(&lx);
}

/* What the one statement 's' does to standard_conforming_strings. */
static enum pgb_std
sets_std(const char *s)
{
	struct pgb_lex	lx;
	enum pgb_std	e;

	(void)split_std_ok(s, 1, &lx);
	assert_int_equal(lx.nstmts, 1);
	e = lx.stmts[0].sets_std;
	pgb_lex_release(&lx);
	return e;
}

static void
test_lex_std_strings_forms(void **state)
{
	static const struct {
		const char	*sql;
		enum pgb_std	 e;
	} c[] = {
		{ "SET standard_conforming_strings = off;", PGB_STD_OFF },
		{ "set session STANDARD_CONFORMING_STRINGS to 'on'", PGB_STD_ON },
		{ "SET LOCAL standard_conforming_strings = false;", PGB_STD_OFF },
		{ "SET standard_conforming_strings = 1;", PGB_STD_ON },
		{ "SET standard_conforming_strings = 0;", PGB_STD_OFF },
		{ "SET standard_conforming_strings = t;", PGB_STD_ON },
		{ "SET standard_conforming_strings = 'TRUE';", PGB_STD_ON },
		{ "SET standard_conforming_strings = E'yes';", PGB_STD_ON },
		{ "SET \"standard_conforming_strings\" = \"on\";", PGB_STD_ON },
		{ "SET standard_conforming_strings = 'of';", PGB_STD_OFF },
		/* the server refuses these; none is plainly on */
		{ "SET standard_conforming_strings = o;", PGB_STD_OFF },
		{ "SET standard_conforming_strings = 'truex';", PGB_STD_OFF },
		{ "SET standard_conforming_strings = on, off;", PGB_STD_OFF },
		{ "SET standard_conforming_strings FROM CURRENT;", PGB_STD_OFF },
		{ "SET /* c */ standard_conforming_strings -- c\n= off;",
		    PGB_STD_OFF },
		{ "SET standard_conforming_strings TO DEFAULT;", PGB_STD_DEFAULT },
		{ "RESET standard_conforming_strings;", PGB_STD_DEFAULT },
		{ "RESET ALL;", PGB_STD_DEFAULT },
		{ "discard all", PGB_STD_DEFAULT },
		{ "SELECT pg_catalog.set_config('standard_conforming_strings', "
		    "'off', false);", PGB_STD_OFF },
		{ "SELECT 1, set_config('STANDARD_CONFORMING_STRINGS', 'on', "
		    "true);", PGB_STD_ON },
		{ "SELECT set_config('standard_conforming_strings', $1, false);",
		    PGB_STD_OFF },
		{ "SELECT set_config('standard_conforming_strings', 'on', false), "
		    "set_config('standard_conforming_strings', 'off', false);",
		    PGB_STD_OFF },
		{ "SELECT set_config('search_path', 'off', false);", PGB_STD_KEEP },
		{ "SET search_path = off;", PGB_STD_KEEP },
		{ "SET SESSION AUTHORIZATION DEFAULT;", PGB_STD_KEEP },
		{ "ALTER ROLE r SET standard_conforming_strings = off;",
		    PGB_STD_KEEP },
		{ "SHOW standard_conforming_strings;", PGB_STD_KEEP },
		{ "RESET search_path;", PGB_STD_KEEP },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		if (sets_std(c[i].sql) != c[i].e)
			fail_msg("'%s': %d, want %d", c[i].sql,
			    (int)sets_std(c[i].sql), (int)c[i].e);
}

static void
test_lex_no_string_continuation(void **state)
{
	/*
	 * The server would continue E'a' into the next line's string and
	 * read \' as a quote; psql lexes line by line and never does.
	 */
	static const char *const want[] = {
		"SELECT E'a'\n'b\\';", "SELECT 2;", NULL
	};

	(void)state;
	check_split("SELECT E'a'\n'b\\';SELECT 2;", want);
}

static void
test_lex_unicode_strings(void **state)
{
	static const char *const want[] = {
		"SELECT U&'a;b' UESCAPE '!', u&'d\\0061t;';",
		"SELECT U&\"x;y\"\"z\" FROM t;", "SELECT U&1;", NULL
	};

	(void)state;
	check_split("SELECT U&'a;b' UESCAPE '!', u&'d\\0061t;';"
	    "SELECT U&\"x;y\"\"z\" FROM t;SELECT U&1;", want);
}

static void
test_lex_bit_hex_national_strings(void **state)
{
	static const char *const want[] = {
		"SELECT B'0;1', x'1f;', N'n;''x', b'';", "SELECT 2;", NULL
	};

	(void)state;
	check_split("SELECT B'0;1', x'1f;', N'n;''x', b'';SELECT 2;", want);
}

static void
test_lex_quoted_identifier(void **state)
{
	static const char *const want[] = {
		"SELECT \"a;b\"\"c;\", \"'\" FROM \"--x\";",
		"SELECT \"/*\";", NULL
	};

	(void)state;
	check_split("SELECT \"a;b\"\"c;\", \"'\" FROM \"--x\";"
	    "SELECT \"/*\";", want);
}

static void
test_lex_dollar_quotes(void **state)
{
	static const char *const want[] = {
		"SELECT $$a;b$$;",
		"DO $fn$ BEGIN PERFORM 1; RAISE NOTICE $$x;$$; END $fn$;",
		"SELECT $a$ $b$ ; $b$ $a$;",
		"SELECT $a$ $ab$ $a$;",
		"SELECT $_x9$;$x$;$_x9$, $é$;$é$;",
		NULL
	};

	(void)state;
	check_split("SELECT $$a;b$$;"
	    "DO $fn$ BEGIN PERFORM 1; RAISE NOTICE $$x;$$; END $fn$;"
	    "SELECT $a$ $b$ ; $b$ $a$;"
	    "SELECT $a$ $ab$ $a$;"
	    "SELECT $_x9$;$x$;$_x9$, $é$;$é$;", want);
}

static void
test_lex_dollar_not_a_quote(void **state)
{
	/* $1 is a parameter, a$b an identifier, $ alone just a byte */
	static const char *const want[] = {
		"SELECT $1;", "SELECT a$b$;", "SELECT $1$a$ ; $a$;",
		"SELECT $ ;", "SELECT $x ;", "PREPARE p AS SELECT $12+$2;",
		NULL
	};

	(void)state;
	check_split("SELECT $1;SELECT a$b$;SELECT $1$a$ ; $a$;SELECT $ ;"
	    "SELECT $x ;PREPARE p AS SELECT $12+$2;", want);
}

static void
test_lex_number_trailing_junk(void **state)
{
	/* psql 15 takes an identifier stuck to a number into its token */
	static const char *const want[] = {
		"SELECT 1e5$$a;", "b$$;", "SELECT 1$$a;b$$;",
		"SELECT 1e+5$$;$$;", "SELECT 1.5$$;$$, .5e$$a;", "b$$;",
		"SELECT $1e$$x;", "y$$;", "SELECT 1e--x;",
		"SELECT 1.5E+--y;SELECT 2 --z;\n;", NULL
	};

	(void)state;
	check_split("SELECT 1e5$$a;b$$;SELECT 1$$a;b$$;SELECT 1e+5$$;$$;"
	    "SELECT 1.5$$;$$, .5e$$a;b$$;SELECT $1e$$x;y$$;SELECT 1e--x;"
	    "SELECT 1.5E+--y;SELECT 2 --z;\n;", want);
}

static void
test_lex_nested_block_comments(void **state)
{
	static const char *const want[] = {
		"SELECT 1;", "SELECT 2 /* ; /* ; */ ; */;", "SELECT /*/ ; */ 3;",
		NULL
	};

	(void)state;
	check_split("/* /* ; */ ; */ SELECT 1; /**/SELECT 2 /* ; /* ; */ ; */;"
	    "SELECT /*/ ; */ 3;", want);
}

static void
test_lex_line_comments(void **state)
{
	static const char *const want[] = {
		"SELECT 1 -- ;\n + 1;", "SELECT 2 +-- x;\n 2;",
		"SELECT 3 */* ; */ 3;", "SELECT '--' || 4;", NULL
	};

	(void)state;
	check_split("SELECT 1 -- ;\n + 1;SELECT 2 +-- x;\n 2;"
	    "SELECT 3 */* ; */ 3;SELECT '--' || 4;", want);
}

static void
test_lex_parentheses(void **state)
{
	/* psql does not end a statement inside parentheses */
	static const char *const want[] = {
		"CREATE RULE r AS ON INSERT TO t DO ALSO (\n"
		"  INSERT INTO log VALUES (1);\n  NOTIFY t;\n);",
		"SELECT (1;\n2));", "SELECT 3;", NULL
	};

	(void)state;
	check_split("CREATE RULE r AS ON INSERT TO t DO ALSO (\n"
	    "  INSERT INTO log VALUES (1);\n  NOTIFY t;\n);"
	    "SELECT (1;\n2));SELECT 3;", want);
}

static void
test_lex_begin_atomic(void **state)
{
	static const char *const want[] = {
		"CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql\n"
		"BEGIN ATOMIC\n"
		"  SELECT CASE WHEN a > 0 THEN 1 ELSE CASE a WHEN 0 THEN 0 END END;\n"
		"  SELECT 2;\n"
		"END;",
		"SELECT 3;",
		"create or replace procedure p() begin atomic insert into t "
		"values (1); end;",
		"CREATE OR REPLACE FUNCTION g() RETURNS int BEGIN ATOMIC "
		"SELECT (CASE WHEN true THEN 1 END); END;",
		NULL
	};

	(void)state;
	check_split("CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql\n"
	    "BEGIN ATOMIC\n"
	    "  SELECT CASE WHEN a > 0 THEN 1 ELSE CASE a WHEN 0 THEN 0 END END;\n"
	    "  SELECT 2;\n"
	    "END;SELECT 3;"
	    "create or replace procedure p() begin atomic insert into t "
	    "values (1); end;"
	    "CREATE OR REPLACE FUNCTION g() RETURNS int BEGIN ATOMIC "
	    "SELECT (CASE WHEN true THEN 1 END); END;", want);
}

static void
test_lex_begin_outside_function(void **state)
{
	/* BEGIN and CASE count only after CREATE [OR REPLACE] FUNCTION|PROC */
	static const char *const want[] = {
		"BEGIN;", "SELECT CASE WHEN true THEN 1 END;", "END;",
		"CREATE TABLE begin_log (a int);",
		"CREATE FUNCTION f() RETURNS int RETURN CASE WHEN true THEN 1 "
		"END;",
		"CREATE FUNCTION g() RETURNS int LANGUAGE plpgsql AS $$ BEGIN "
		"RETURN 1; END $$;",
		"CREATE OR REPLACE VIEW v AS SELECT 1 AS \"begin\";",
		"SELECT 4;", NULL
	};

	(void)state;
	check_split("BEGIN;SELECT CASE WHEN true THEN 1 END;END;"
	    "CREATE TABLE begin_log (a int);"
	    "CREATE FUNCTION f() RETURNS int RETURN CASE WHEN true THEN 1 "
	    "END;"
	    "CREATE FUNCTION g() RETURNS int LANGUAGE plpgsql AS $$ BEGIN "
	    "RETURN 1; END $$;"
	    "CREATE OR REPLACE VIEW v AS SELECT 1 AS \"begin\";"
	    "SELECT 4;", want);
}

/*
 * The head that makes BEGIN open a body: the first identifiers of the
 * statement are CREATE [OR REPLACE] FUNCTION|PROCEDURE, comments and
 * other tokens between them not counting, quoted identifiers not being
 * keywords; it starts again with each statement, and a BEGIN inside
 * parentheses opens nothing.
 */
static void
test_lex_routine_head(void **state)
{
	static const char *const want[] = {
		"CREATE /* c */ OR -- c\n REPLACE PROCEDURE p() BEGIN ATOMIC "
		"SELECT 1; END;",
		"CREATE OR FUNCTION f() BEGIN;", "END;",
		"CREATE REPLACE FUNCTION f() BEGIN;", "END;",
		"CREATE \"function\" f() BEGIN;", "END;",
		"CREATE TABLE function (a int);", "BEGIN;", "END;",
		"CREATE FUNCTION f(begin int) RETURNS int RETURN 1;",
		"create procedure p() begin atomic select case when true then 1 "
		"end; end;",
		"SELECT 1 BEGIN;", "CREATE FUNCTION g() BEGIN ATOMIC SELECT 2; "
		"END;",
		NULL
	};

	(void)state;
	check_split("CREATE /* c */ OR -- c\n REPLACE PROCEDURE p() BEGIN "
	    "ATOMIC SELECT 1; END;"
	    "CREATE OR FUNCTION f() BEGIN;END;"
	    "CREATE REPLACE FUNCTION f() BEGIN;END;"
	    "CREATE \"function\" f() BEGIN;END;"
	    "CREATE TABLE function (a int);BEGIN;END;"
	    "CREATE FUNCTION f(begin int) RETURNS int RETURN 1;"
	    "create procedure p() begin atomic select case when true then 1 "
	    "end; end;"
	    "SELECT 1 BEGIN;;CREATE FUNCTION g() BEGIN ATOMIC SELECT 2; END;",
	    want);
}

/*
 * Only COPY ... FROM stdin|stdout, FROM outside parentheses and just
 * before the word, takes data lines; other statements reading "stdin"
 * do not.
 */
static void
test_lex_copy_state(void **state)
{
	struct pgb_lex	 lx;
	const char	*t;
	size_t		 i;

	(void)state;
	t = split_ok("SELECT a FROM stdin;\n"
	    "COPY t FROM x stdin;\n"
	    "COPY t FROM (stdin);\n"
	    "COPY t (\"from\") FROM 'stdin';\n"
	    "WITH c AS (SELECT 1) COPY t FROM stdin;\n"
	    "COPY t (a) FROM STDIN;\n1\n\\.\n", &lx);
	assert_int_equal(lx.nstmts, 6);
	for (i = 0; i < 5; i++)
		if (lx.stmts[i].is_copy)
			fail_msg("statement %zu takes COPY data", i);
	check_stmt(t, &lx, 5, "COPY t (a) FROM STDIN;", 6);
	assert_int_equal(lx.stmts[5].is_copy, 1);
	assert_memory_equal(t + lx.stmts[5].copy_off, "1\n", 2);
	assert_int_equal(lx.stmts[5].copy_len, 2);
	pgb_lex_release(&lx);
}

static void
test_lex_begin_atomic_trailing_junk(void **state)
{
	/* "1end" is one (bad) number for psql 15, not END */
	static const char *const want[] = {
		"CREATE FUNCTION f() RETURNS int BEGIN ATOMIC SELECT 1end; "
		"SELECT 2; END;",
		"SELECT 3;", NULL
	};

	(void)state;
	check_split("CREATE FUNCTION f() RETURNS int BEGIN ATOMIC SELECT 1end; "
	    "SELECT 2; END;SELECT 3;", want);
}

static void
test_lex_copy_stdin(void **state)
{
	struct pgb_lex	 lx;
	const char	*t;
	const char	*s = "CREATE TABLE t (a int, b text);\n"
	    "COPY t (a, b) FROM stdin;\n"
	    "1\tback\\\\slash\n"
	    "2\t\\N\n"
	    "3\tquote ' and $$ and /* and ;\n"
	    "\\.\n"
	    "SELECT 1;\n";

	(void)state;
	t = split_ok(s, &lx);
	assert_int_equal(lx.nstmts, 3);
	check_stmt(t, &lx, 1, "COPY t (a, b) FROM stdin;", 2);
	assert_int_equal(lx.stmts[0].is_copy, 0);
	assert_int_equal(lx.stmts[1].is_copy, 1);
	assert_int_equal(lx.stmts[1].copy_off, 58);
	assert_int_equal(lx.stmts[1].copy_len,
	    strlen("1\tback\\\\slash\n2\t\\N\n3\tquote ' and $$ and /* and ;\n"));
	assert_memory_equal(t + lx.stmts[1].copy_off,
	    "1\tback\\\\slash\n2\t\\N\n3\tquote ' and $$ and /* and ;\n",
	    lx.stmts[1].copy_len);
	check_stmt(t, &lx, 2, "SELECT 1;", 7);
	assert_int_equal(lx.stmts[2].is_copy, 0);
	pgb_lex_release(&lx);
}

static void
test_lex_copy_variants(void **state)
{
	struct pgb_lex	 lx;
	const char	*t;

	(void)state;
	t = split_ok("copy t(a,b) from STDIN with (format csv, header);\n"
	    "a,b\n1,\"x\n\\.\n"
	    "COPY t FROM Stdin WITH CSV;\n\\.\n"
	    "COPY t TO stdout;\n"
	    "COPY (SELECT a FROM stdin) TO STDOUT;\n"
	    "COPY t FROM '/tmp/x';\n"
	    "COPY /* c */ t FROM -- c\n stdin;\nx\n\\.\n", &lx);
	assert_int_equal(lx.nstmts, 6);
	assert_int_equal(lx.stmts[0].is_copy, 1);
	assert_memory_equal(t + lx.stmts[0].copy_off, "a,b\n1,\"x\n",
	    lx.stmts[0].copy_len);
	assert_int_equal(lx.stmts[0].copy_len, 9);
	check_stmt(t, &lx, 1, "COPY t FROM Stdin WITH CSV;", 5);
	assert_int_equal(lx.stmts[1].is_copy, 1);
	assert_int_equal(lx.stmts[1].copy_len, 0);
	assert_int_equal(lx.stmts[1].copy_off, 90);
	check_stmt(t, &lx, 2, "COPY t TO stdout;", 7);
	assert_int_equal(lx.stmts[2].is_copy, 0);
	assert_int_equal(lx.stmts[3].is_copy, 0);
	assert_int_equal(lx.stmts[4].is_copy, 0);
	check_stmt(t, &lx, 5, "COPY /* c */ t FROM -- c\n stdin;", 10);
	assert_int_equal(lx.stmts[5].is_copy, 1);
	assert_memory_equal(t + lx.stmts[5].copy_off, "x\n", 2);
	assert_int_equal(lx.stmts[5].copy_len, 2);
	pgb_lex_release(&lx);
}

/* COPY ... FROM stdout is COPY ... FROM stdin to the server and to psql. */
static void
test_lex_copy_from_stdout(void **state)
{
	struct pgb_lex	 lx;
	const char	*t;

	(void)state;
	t = split_ok("COPY t FROM STDOUT;\n1\n\\.\nCOPY t TO stdin;\n", &lx);
	assert_int_equal(lx.nstmts, 2);
	check_stmt(t, &lx, 0, "COPY t FROM STDOUT;", 1);
	assert_int_equal(lx.stmts[0].is_copy, 1);
	assert_memory_equal(t + lx.stmts[0].copy_off, "1\n", 2);
	assert_int_equal(lx.stmts[0].copy_len, 2);
	check_stmt(t, &lx, 1, "COPY t TO stdin;", 4);
	assert_int_equal(lx.stmts[1].is_copy, 0);
	pgb_lex_release(&lx);
}

static void
test_lex_copy_terminator_forms(void **state)
{
	struct pgb_lex	 lx;
	const char	*t;

	(void)state;
	/* "\." only alone on its line ends the data */
	t = split_ok("COPY t FROM stdin;\n\\.x\n \\.\nx\\.\n\\.\nSELECT 1;", &lx);
	assert_int_equal(lx.nstmts, 2);
	assert_memory_equal(t + lx.stmts[0].copy_off, "\\.x\n \\.\nx\\.\n",
	    lx.stmts[0].copy_len);
	assert_int_equal(lx.stmts[0].copy_len, 12);
	check_stmt(t, &lx, 1, "SELECT 1;", 6);
	pgb_lex_release(&lx);

	/* the file may end right after "\." */
	t = split_ok("COPY t FROM stdin;\n1\n\\.", &lx);
	assert_int_equal(lx.nstmts, 1);
	assert_int_equal(lx.stmts[0].copy_off, 19);
	assert_int_equal(lx.stmts[0].copy_len, 2);
	pgb_lex_release(&lx);

	/* CRLF: "\.\r" ends it too, data keeps its \r */
	t = split_ok("COPY t FROM stdin;\r\n1\r\n\\.\r\nSELECT 2;\r\n", &lx);
	assert_int_equal(lx.nstmts, 2);
	assert_int_equal(lx.stmts[0].copy_off, 20);
	assert_int_equal(lx.stmts[0].copy_len, 3);
	check_stmt(t, &lx, 1, "SELECT 2;", 4);
	pgb_lex_release(&lx);

	t = split_ok("COPY t FROM stdin;\n\\.\r", &lx);
	assert_int_equal(lx.stmts[0].copy_len, 0);
	pgb_lex_release(&lx);
}

static void
test_lex_copy_rest_of_line(void **state)
{
	struct pgb_lex	 lx;
	const char	*t;

	(void)state;
	/* psql runs the rest of the COPY line after the data */
	t = split_ok("COPY t FROM stdin; SELECT 1; -- pgbundle:x\n"
	    "data\n\\.\nSELECT 2;\n", &lx);
	assert_int_equal(lx.nstmts, 3);
	check_stmt(t, &lx, 0, "COPY t FROM stdin;", 1);
	check_stmt(t, &lx, 1, "SELECT 1;", 1);
	check_stmt(t, &lx, 2, "SELECT 2;", 4);
	assert_int_equal(lx.stmts[0].is_copy, 1);
	assert_int_equal(lx.stmts[0].copy_off, 43);
	assert_int_equal(lx.stmts[0].copy_len, 5);
	assert_int_equal(lx.stmts[1].is_copy, 0);
	assert_int_equal(lx.ndirs, 1);
	assert_string_equal(lx.dirs[0].text, "pgbundle:x");
	pgb_lex_release(&lx);

	split_fail("COPY t FROM stdin; SELECT\n1;\n\\.\n",
	    "statement after COPY ... FROM stdin continues past its line", 1);
	split_fail("COPY t FROM stdin; SELECT '\n';\n\\.\n",
	    "statement after COPY ... FROM stdin continues past its line", 1);
	split_fail("\nCOPY t FROM stdin; COPY u FROM stdin;\n\\.\n\\.\n",
	    "second COPY ... FROM stdin on one line", 2);
	split_fail("COPY t FROM stdin; \\echo x\n\\.\n",
	    "psql meta-command after COPY ... FROM stdin on its line", 1);
}

static void
test_lex_copy_unterminated(void **state)
{
	(void)state;
	split_fail("SELECT 1;\n\nCOPY t FROM stdin;\n1\n2\n",
	    "unterminated COPY data", 3);
	split_fail("SELECT 1;\nCOPY t FROM stdin;", "unterminated COPY data", 2);
	split_fail("SELECT 1;\nCOPY t FROM stdin", "unterminated COPY data", 2);
	split_fail("COPY t FROM stdin;\n\\.\nCOPY t FROM stdin;\n\\. \n",
	    "unterminated COPY data", 3);
}

static void
test_lex_crlf(void **state)
{
	struct pgb_lex	 lx;
	const char	*t;

	(void)state;
	t = split_ok("-- pgbundle:no-transaction\r\n\r\nSELECT 1;\r\n"
	    "\\i other.sql\r\nSELECT 'a\r\nb';\r\n", &lx);
	assert_int_equal(lx.nstmts, 2);
	check_stmt(t, &lx, 0, "SELECT 1;", 3);
	check_stmt(t, &lx, 1, "SELECT 'a\r\nb';", 5);
	assert_int_equal(lx.ndirs, 1);
	assert_string_equal(lx.dirs[0].text, "pgbundle:no-transaction");
	assert_int_equal(lx.nmetas, 1);
	assert_int_equal(lx.metas[0].line, 4);
	assert_int_equal(lx.metas[0].len, 12);	/* without \r */
	assert_int_equal(lx.metas[0].line_off, 41);
	assert_int_equal(lx.metas[0].line_end, 55);
	pgb_lex_release(&lx);
}

static void
test_lex_meta_include(void **state)
{
	struct pgb_lex	 lx;
	const char	*t;

	(void)state;
	t = split_ok("\\i foo.sql\nSELECT 1;\n  \\ir sub/bar.sql\n", &lx);
	assert_int_equal(lx.nstmts, 1);
	check_stmt(t, &lx, 0, "SELECT 1;", 2);
	assert_int_equal(lx.nmetas, 2);
	assert_int_equal(lx.metas[0].off, 0);
	assert_int_equal(lx.metas[0].len, 10);
	assert_int_equal(lx.metas[0].line_off, 0);
	assert_int_equal(lx.metas[0].line_end, 11);
	assert_int_equal(lx.metas[0].line, 1);
	assert_int_equal(lx.metas[0].mid_stmt, 0);
	assert_int_equal(lx.metas[0].before, 0);
	assert_int_equal(lx.metas[1].off, 23);
	assert_int_equal(lx.metas[1].len, 15);
	assert_memory_equal(t + lx.metas[1].off, "\\ir sub/bar.sql", 15);
	assert_int_equal(lx.metas[1].line_off, 21);
	assert_int_equal(lx.metas[1].line_end, 39);
	assert_int_equal(lx.metas[1].line, 3);
	assert_int_equal(lx.metas[1].before, 1);
	pgb_lex_release(&lx);
}

static void
test_lex_meta_after_statement(void **state)
{
	struct pgb_lex	 lx;
	const char	*t;

	(void)state;
	t = split_ok("SELECT 1; \\set ON_ERROR_STOP on\nSELECT 2;", &lx);
	assert_int_equal(lx.nstmts, 2);
	check_stmt(t, &lx, 1, "SELECT 2;", 2);
	assert_int_equal(lx.nmetas, 1);
	assert_int_equal(lx.metas[0].off, 10);
	assert_int_equal(lx.metas[0].len, 21);
	assert_int_equal(lx.metas[0].line_off, 0);
	assert_int_equal(lx.metas[0].line_end, 32);
	assert_int_equal(lx.metas[0].mid_stmt, 0);
	assert_int_equal(lx.metas[0].before, 1);
	pgb_lex_release(&lx);
}

static void
test_lex_meta_mid_statement(void **state)
{
	struct pgb_lex	 lx;
	const char	*t;

	(void)state;
	t = split_ok("SELECT 1;\nSELECT 2\n\\g\n", &lx);
	assert_int_equal(lx.nstmts, 2);
	check_stmt(t, &lx, 1, "SELECT 2", 2);
	assert_int_equal(lx.nmetas, 1);
	assert_int_equal(lx.metas[0].off, 19);
	assert_int_equal(lx.metas[0].len, 2);
	assert_int_equal(lx.metas[0].line, 3);
	assert_int_equal(lx.metas[0].mid_stmt, 1);
	assert_int_equal(lx.metas[0].before, 1);
	assert_int_equal(lx.metas[0].line_end, 22);
	pgb_lex_release(&lx);

	/* a comment alone does not make a statement */
	split_ok("/* c */ -- d\n\\echo x", &lx);
	assert_int_equal(lx.nmetas, 1);
	assert_int_equal(lx.metas[0].mid_stmt, 0);
	assert_int_equal(lx.metas[0].line_end, 20);	/* end of text */
	pgb_lex_release(&lx);
}

static void
test_lex_meta_rest_of_line(void **state)
{
	struct pgb_lex	 lx;
	const char	*t;

	(void)state;
	/* "\\" separates meta-commands; we take the whole line */
	t = split_ok("\\echo a \\\\ SELECT 1;\nSELECT 2;\n", &lx);
	assert_int_equal(lx.nstmts, 1);
	check_stmt(t, &lx, 0, "SELECT 2;", 2);
	assert_int_equal(lx.nmetas, 1);
	assert_int_equal(lx.metas[0].len, 20);
	pgb_lex_release(&lx);

	/* psql's \; is a meta-command for us too */
	split_ok("SELECT 1 \\; SELECT 2;\n", &lx);
	assert_int_equal(lx.nmetas, 1);
	assert_int_equal(lx.metas[0].off, 9);
	assert_int_equal(lx.metas[0].mid_stmt, 1);
	pgb_lex_release(&lx);
}

static void
test_lex_backslash_inside_quotes_is_not_meta(void **state)
{
	static const char *const want[] = {
		"SELECT '\\i x';", "SELECT $$\\i y$$;", "SELECT E'\\\\i z';",
		"SELECT \"\\i\";", NULL
	};

	(void)state;
	check_split("SELECT '\\i x';SELECT $$\\i y$$;-- \\i no\n"
	    "/* \\i no */SELECT E'\\\\i z';SELECT \"\\i\";", want);
}

static void
test_lex_directives(void **state)
{
	struct pgb_lex	 lx;

	(void)state;
	split_ok("-- pgbundle:no-transaction\n"
	    "--verify: SELECT true  \t\r\n"
	    "-- migrate:up\n"
	    "-- not a directive: pgbundle:x\n"
	    "-- Pgbundle:caps\n"
	    "  --  \tpgbundle:allow drop-table\n"
	    "SELECT 1; -- verify: select 1\n"
	    "SELECT '-- pgbundle:in-string';\n"
	    "/* -- pgbundle:in-comment */\n"
	    "-- migrate:down\n"
	    "-- Verify : x", &lx);
	/* Almost directives come as written, for the compiler to refuse. */
	assert_int_equal(lx.ndirs, 8);
	assert_int_equal(lx.dirs[0].line, 1);
	assert_string_equal(lx.dirs[0].text, "pgbundle:no-transaction");
	assert_false(lx.dirs[0].near);
	assert_int_equal(lx.dirs[1].line, 2);
	assert_string_equal(lx.dirs[1].text, "--verify: SELECT true");
	assert_true(lx.dirs[1].near);
	assert_int_equal(lx.dirs[2].line, 3);
	assert_string_equal(lx.dirs[2].text, "migrate:up");
	assert_int_equal(lx.dirs[3].line, 5);
	assert_string_equal(lx.dirs[3].text, "-- Pgbundle:caps");
	assert_true(lx.dirs[3].near);
	assert_int_equal(lx.dirs[4].line, 6);
	assert_string_equal(lx.dirs[4].text, "pgbundle:allow drop-table");
	assert_false(lx.dirs[4].near);
	assert_int_equal(lx.dirs[5].line, 7);
	assert_string_equal(lx.dirs[5].text, "verify: select 1");
	assert_int_equal(lx.dirs[6].line, 10);
	assert_string_equal(lx.dirs[6].text, "migrate:down");
	assert_false(lx.dirs[6].near);
	assert_string_equal(lx.dirs[7].text, "-- Verify : x");
	assert_true(lx.dirs[7].near);
	assert_int_equal(lx.nstmts, 2);
	pgb_lex_release(&lx);
}

static void
test_lex_error_unterminated_string(void **state)
{
	(void)state;
	split_fail("SELECT 1;\n\nSELECT 'abc;\n;\n", "unterminated quoted string",
	    3);
	split_fail("SELECT E'abc\\';\n", "unterminated quoted string", 1);
	split_fail("SELECT E'\\", "unterminated quoted string", 1);
	split_fail("\nSELECT U&'x", "unterminated quoted string", 2);
	split_fail("SELECT B'01", "unterminated quoted string", 1);
	split_fail("SELECT 'it''", "unterminated quoted string", 1);
}

static void
test_lex_error_unterminated_identifier(void **state)
{
	(void)state;
	split_fail("SELECT 1 AS \"a\n\n", "unterminated quoted identifier", 1);
	split_fail("SELECT 1;\nSELECT U&\"a\"\"", "unterminated quoted identifier",
	    2);
}

static void
test_lex_error_unterminated_dollar(void **state)
{
	(void)state;
	split_fail("SELECT 1;\nDO $fn$\nBEGIN\nEND\n$f$;\n",
	    "unterminated dollar-quoted string $fn$", 2);
	split_fail("SELECT $$;", "unterminated dollar-quoted string $$", 1);
	split_fail("SELECT $a$ $A$", "unterminated dollar-quoted string $a$", 1);
}

static void
test_lex_error_unterminated_comment(void **state)
{
	(void)state;
	split_fail("SELECT 1;\n/* a /* b */ c\n;\n", "unterminated block comment",
	    2);
	split_fail("SELECT 1 /*", "unterminated block comment", 1);
	split_fail("/*/", "unterminated block comment", 1);
}

static void
test_lex_error_too_many_statements(void **state)
{
	struct pgb_lex	 lx;
	struct pgb_diag	 d;
	unsigned	 errline = 0;
	size_t		 n = (size_t)PGB_STMTS_MAX + 1, i;
	char		*s;

	(void)state;
	s = malloc(n * 3);
	assert_non_null(s);
	for (i = 0; i < n; i++)
		memcpy(s + i * 3, "x;\n", 3);
	assert_int_equal(pgb_lex_split(s, (n - 1) * 3, &lx, &errline, &d), 0);
	assert_int_equal(lx.nstmts, PGB_STMTS_MAX);
	assert_int_equal(lx.stmts[PGB_STMTS_MAX - 1].line, PGB_STMTS_MAX);
	pgb_lex_release(&lx);
	assert_int_equal(pgb_lex_split(s, n * 3, &lx, &errline, &d), -1);
	assert_string_equal(d.msg, "too many statements (more than 100000)");
	assert_int_equal(errline, PGB_STMTS_MAX + 1);
	pgb_lex_release(&lx);
	free(s);
}

static void
test_lex_truncated_inputs(void **state)
{
	static const char *const cut[] = {
		"-", "--", "/", "/*", "/**", "'", "E", "E'", "E'\\", "U", "U&",
		"U&'", "U&\"", "\"", "$", "$a", "$a$", "$1", "1", "1.", "1e",
		"1e+", ".", ":", "x", "b'", "\\", "(", ";", "é", ":a", ":'",
		":'a", ":'a'", ":\"", ":\"a", ":{", ":{?", ":{?a", ":{?a}"
	};
	struct pgb_lex	lx;
	struct pgb_diag	d;
	unsigned	errline;
	size_t		i;

	(void)state;
	/* each one ends the exact-size buffer; ASan watches the reads */
	for (i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
		const char *t = own(cut[i], strlen(cut[i]));

		(void)pgb_lex_split(t, strlen(cut[i]), &lx, &errline, &d);
		pgb_lex_release(&lx);
		(void)pgb_lex_check_text(t, strlen(cut[i]), &errline, &d);
	}
	pgb_lex_release(NULL);
}

static void
test_lex_token_kinds(void **state)
{
	static const struct {
		enum pgb_tok	 kind;
		const char	*text;
	} want[] = {
		{ PGB_TOK_IDENT, "Select" }, { PGB_TOK_QIDENT, "\"a\"\"b\"" },
		{ PGB_TOK_CHAR, "," }, { PGB_TOK_STRING, "E'x\\''" },
		{ PGB_TOK_STRING, "U&'y'" }, { PGB_TOK_QIDENT, "u&\"z\"" },
		{ PGB_TOK_DOLLAR, "$t$;$t$" }, { PGB_TOK_PARAM, "$1" },
		{ PGB_TOK_NUMBER, "1.5e-3" }, { PGB_TOK_NUMBER, "1" },
		{ PGB_TOK_OP, ".." }, { PGB_TOK_NUMBER, "2" }, { PGB_TOK_OP, "::" },
		{ PGB_TOK_IDENT, "a$b" }, { PGB_TOK_OP, "+" },
		{ PGB_TOK_COMMENT, "-- c" }, { PGB_TOK_OP, "<=" },
		{ PGB_TOK_BLOCK, "/* x /* y */ */" }, { PGB_TOK_CHAR, "(" },
		{ PGB_TOK_BACKSLASH, "\\" }, { PGB_TOK_IDENT, "i" },
		{ PGB_TOK_CHAR, ";" },
	};
	const char	*s = "Select \"a\"\"b\", E'x\\'' U&'y' u&\"z\" $t$;$t$ $1 "
	    "1.5e-3 1..2::a$b+-- c\n<=/* x /* y */ */(\\i;";
	struct pgb_lex_token tok;
	struct pgb_diag	 d;
	size_t		 pos = 0, i;
	const char	*t;

	(void)state;
	t = own(s, strlen(s));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(pgb_lex_token(t, strlen(s), &pos, &tok, &d), 0);
		if (tok.kind != want[i].kind || tok.len != strlen(want[i].text) ||
		    memcmp(t + tok.off, want[i].text, tok.len) != 0)
			fail_msg("token %zu: kind %d '%.*s', want %d '%s'", i,
			    (int)tok.kind, (int)tok.len, t + tok.off,
			    (int)want[i].kind, want[i].text);
	}
	assert_int_equal(pgb_lex_token(t, strlen(s), &pos, &tok, &d), 0);
	assert_int_equal(tok.kind, PGB_TOK_EOF);
	assert_int_equal(pos, strlen(s));

	pos = 0;
	t = own("  'abc", 6);
	assert_int_equal(pgb_lex_token(t, 6, &pos, &tok, &d), -1);
	assert_int_equal(tok.off, 2);
	assert_string_equal(d.msg, "unterminated quoted string");
}

/* The variable references of 's' are exactly 'want' (NULL-ended). */
static void
check_vars(const char *s, const char *const *want)
{
	struct pgb_lex	 lx;
	const char	*t = split_ok(s, &lx);
	size_t		 n = 0;

	while (want[n] != NULL)
		n++;
	if (lx.nvars != n)
		fail_msg("'%s': %zu variables, want %zu", s, lx.nvars, n);
	for (n = 0; want[n] != NULL; n++)
		if (lx.vars[n].len != strlen(want[n]) ||
		    memcmp(t + lx.vars[n].off, want[n], strlen(want[n])) != 0)
			fail_msg("'%s': variable %zu is '%.*s', want '%s'", s, n,
			    (int)lx.vars[n].len, t + lx.vars[n].off, want[n]);
	pgb_lex_release(&lx);
}

static void
test_lex_psql_vars(void **state)
{
	static const char *const none[] = { NULL };
	static const char *const forms[] = { ":name", ":'lit'", ":\"id\"",
	    ":{?def}", ":_1", ":9", ":caf\xc3\xa9", NULL };
	static const char *const slice[] = { ":n", ":n", NULL };
	static const char *const cut[] = { ":a", ":b", ":'c'", NULL };
	struct pgb_lex	 lx;
	const char	*t;

	(void)state;
	check_vars("SELECT :name, :'lit', :\"id\", :{?def}, :_1, :9, "
	    ":caf\xc3\xa9;", forms);
	/* array slices: psql sees a variable it leaves as written */
	check_vars("SELECT a[1:n], a[n:n+1] FROM t;", slice);
	/* the name stops at '$' and at anything not a name */
	check_vars("SELECT :a$b, :b.c, :'c''d';", cut);
	/* casts, :=, quotes, comments and a ':' before no name */
	check_vars("SELECT x::int, f(a := 1), ':PORT', E':x', \":y\", "
	    "$$:z$$, $q$:'w'$q$ /* :\"v\" */, a[1 : 2], a[1:2], x:::int;"
	    " -- :u\n", (const char *const[]){ ":2", ":int", NULL });
	check_vars("SELECT :'', :\"\", :\"b c\", :{, :{?}, :{?x, :{x}, "
	    ":'a b';", none);
	check_vars("SELECT :'a, b';", none);

	t = split_ok("SELECT 1;\n\nSELECT\n  :'DBNAME';\n", &lx);
	assert_int_equal(lx.nvars, 1);
	assert_int_equal(lx.vars[0].off, 20);
	assert_int_equal(lx.vars[0].len, 9);
	assert_int_equal(lx.vars[0].line, 4);
	assert_memory_equal(t + lx.vars[0].off, ":'DBNAME'", 9);
	pgb_lex_release(&lx);
}

/*
 * psql lexes ":name" as one token, so what follows the name starts a
 * token of its own (":n$a$" opens a dollar quote, ":e'\'" an ordinary
 * string) and ":end" closes no BEGIN ATOMIC body: split the same way.
 */
static void
test_lex_psql_var_splits(void **state)
{
	static const char *const dollar[] = {
		"SELECT 1 :n$a$; SELECT 2; $a$;", "SELECT 3;", NULL };
	static const char *const estr[] = {
		"SELECT :e'\\' AS x, '; SELECT 1;';", "SELECT 2;", NULL };
	static const char *const body[] = {
		"CREATE FUNCTION f(a int[]) RETURNS int[] BEGIN ATOMIC "
		"SELECT a[1:end]; END;", "SELECT 1;", NULL };
	static const char *const quoted[] = {
		"SELECT :'a''; SELECT 1; ';", "SELECT :\"b\"\"; x\";", NULL };

	(void)state;
	check_split("SELECT 1 :n$a$; SELECT 2; $a$;\nSELECT 3;\n", dollar);
	check_split("SELECT :e'\\' AS x, '; SELECT 1;';\nSELECT 2;\n", estr);
	check_split("CREATE FUNCTION f(a int[]) RETURNS int[] BEGIN ATOMIC "
	    "SELECT a[1:end]; END;\nSELECT 1;\n", body);
	check_split("SELECT :'a''; SELECT 1; ';\nSELECT :\"b\"\"; x\";\n",
	    quoted);
}

static void
test_lex_psql_builtin(void **state)
{
	static const char *const yes[] = { "DBNAME", "USER", "HOST", "PORT",
	    "ENCODING", "VERSION", "VERSION_NAME", "VERSION_NUM",
	    "SERVER_VERSION_NAME", "SERVER_VERSION_NUM", "AUTOCOMMIT",
	    "ON_ERROR_STOP", "ECHO", "QUIET", "ROW_COUNT", "SQLSTATE",
	    "ERROR", "LAST_ERROR_MESSAGE", "SHOW_ALL_RESULTS" };
	static const char *const no[] = { "", "dbname", "Port", "DBNAM",
	    "DBNAMEX", "n", "x1", "ON_ERROR_STOPS", "HOSTNAME" };
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!pgb_lex_psql_builtin(own(yes[i], strlen(yes[i])),
		    strlen(yes[i])))
			fail_msg("'%s' is psql's", yes[i]);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (pgb_lex_psql_builtin(own(no[i], strlen(no[i])),
		    strlen(no[i])))
			fail_msg("'%s' is not psql's", no[i]);
	/* a prefix of the text, as the lexer passes it */
	assert_int_equal(pgb_lex_psql_builtin("PORTX", 4), 1);
}

static void
check_text_fail(const char *s, size_t n, unsigned line, const char *msg)
{
	struct pgb_diag	d;
	unsigned	errline = 0;
	const char	*t = own(s, n);

	memset(&d, 0, sizeof(d));
	assert_int_equal(pgb_lex_check_text(t, n, &errline, &d), -1);
	assert_string_equal(d.msg, msg);
	assert_int_equal(d.code, PGB_ESOURCE);
	assert_int_equal(errline, line);
}

static void
test_lex_check_text_valid(void **state)
{
	static const char *const ok[] = {
		"", "SELECT 1;\n", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x98",
		"\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80"
		"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf",
		"long ascii run, long ascii run, long ascii run\n\xc3\xa9",
	};
	struct pgb_diag	d;
	unsigned	errline = 7;
	size_t		i;
	const char	*t;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		t = own(ok[i], strlen(ok[i]));
		assert_int_equal(pgb_lex_check_text(t, strlen(ok[i]), &errline,
		    &d), 0);
		assert_int_equal(errline, 0);
	}
}

static void
test_lex_check_text_invalid(void **state)
{
	(void)state;
	check_text_fail("SELECT 1;\nSELECT '\0';", 21, 2, "NUL byte");
	check_text_fail("0123456789abcdef\0", 17, 1, "NUL byte");
	check_text_fail("a\n\n\xc0\x80", 5, 3, "invalid UTF-8 byte 0xc0");
	check_text_fail("\xc1\xbf", 2, 1, "invalid UTF-8 byte 0xc1");
	check_text_fail("\xe0\x80\x80", 3, 1, "invalid UTF-8 byte 0xe0");
	check_text_fail("\xf0\x80\x80\x80", 4, 1, "invalid UTF-8 byte 0xf0");
	check_text_fail("x\n\xed\xa0\x80", 5, 2, "invalid UTF-8 byte 0xed");
	check_text_fail("\xed\xbf\xbf", 3, 1, "invalid UTF-8 byte 0xed");
	check_text_fail("\xf4\x90\x80\x80", 4, 1, "invalid UTF-8 byte 0xf4");
	check_text_fail("\xf5\x80\x80\x80", 4, 1, "invalid UTF-8 byte 0xf5");
	check_text_fail("\xff", 1, 1, "invalid UTF-8 byte 0xff");
	check_text_fail("ab\x80", 3, 1, "invalid UTF-8 byte 0x80");
	check_text_fail("\xc3\x28", 2, 1, "invalid UTF-8 byte 0xc3");
	check_text_fail("\xe2\x82\x28", 3, 1, "invalid UTF-8 byte 0xe2");
	/* truncated at the end of the text */
	check_text_fail("ok\n\xc3", 4, 2, "invalid UTF-8 byte 0xc3");
	check_text_fail("\xe2\x82", 2, 1, "invalid UTF-8 byte 0xe2");
	check_text_fail("\xf0\x9f\x90", 3, 1, "invalid UTF-8 byte 0xf0");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_lex_simple_statements, teardown),
		cmocka_unit_test_teardown(test_lex_leading_comments_skipped,
		    teardown),
		cmocka_unit_test_teardown(
		    test_lex_final_statement_without_semicolon, teardown),
		cmocka_unit_test_teardown(test_lex_comment_only_is_empty,
		    teardown),
		cmocka_unit_test_teardown(test_lex_empty_statements_skipped,
		    teardown),
		cmocka_unit_test_teardown(test_lex_standard_string, teardown),
		cmocka_unit_test_teardown(test_lex_escape_string, teardown),
		cmocka_unit_test_teardown(test_lex_std_strings_off, teardown),
		cmocka_unit_test_teardown(test_lex_std_strings_follow_set,
		    teardown),
		cmocka_unit_test_teardown(test_lex_std_strings_forms, teardown),
		cmocka_unit_test_teardown(test_lex_no_string_continuation,
		    teardown),
		cmocka_unit_test_teardown(test_lex_unicode_strings, teardown),
		cmocka_unit_test_teardown(test_lex_bit_hex_national_strings,
		    teardown),
		cmocka_unit_test_teardown(test_lex_quoted_identifier, teardown),
		cmocka_unit_test_teardown(test_lex_dollar_quotes, teardown),
		cmocka_unit_test_teardown(test_lex_dollar_not_a_quote, teardown),
		cmocka_unit_test_teardown(test_lex_number_trailing_junk,
		    teardown),
		cmocka_unit_test_teardown(test_lex_nested_block_comments,
		    teardown),
		cmocka_unit_test_teardown(test_lex_line_comments, teardown),
		cmocka_unit_test_teardown(test_lex_parentheses, teardown),
		cmocka_unit_test_teardown(test_lex_begin_atomic, teardown),
		cmocka_unit_test_teardown(test_lex_begin_outside_function,
		    teardown),
		cmocka_unit_test_teardown(test_lex_routine_head, teardown),
		cmocka_unit_test_teardown(test_lex_copy_state, teardown),
		cmocka_unit_test_teardown(test_lex_begin_atomic_trailing_junk,
		    teardown),
		cmocka_unit_test_teardown(test_lex_copy_stdin, teardown),
		cmocka_unit_test_teardown(test_lex_copy_variants, teardown),
		cmocka_unit_test_teardown(test_lex_copy_from_stdout, teardown),
		cmocka_unit_test_teardown(test_lex_copy_terminator_forms,
		    teardown),
		cmocka_unit_test_teardown(test_lex_copy_rest_of_line, teardown),
		cmocka_unit_test_teardown(test_lex_copy_unterminated, teardown),
		cmocka_unit_test_teardown(test_lex_crlf, teardown),
		cmocka_unit_test_teardown(test_lex_meta_include, teardown),
		cmocka_unit_test_teardown(test_lex_meta_after_statement,
		    teardown),
		cmocka_unit_test_teardown(test_lex_meta_mid_statement, teardown),
		cmocka_unit_test_teardown(test_lex_meta_rest_of_line, teardown),
		cmocka_unit_test_teardown(
		    test_lex_backslash_inside_quotes_is_not_meta, teardown),
		cmocka_unit_test_teardown(test_lex_directives, teardown),
		cmocka_unit_test_teardown(test_lex_error_unterminated_string,
		    teardown),
		cmocka_unit_test_teardown(test_lex_error_unterminated_identifier,
		    teardown),
		cmocka_unit_test_teardown(test_lex_error_unterminated_dollar,
		    teardown),
		cmocka_unit_test_teardown(test_lex_error_unterminated_comment,
		    teardown),
		cmocka_unit_test_teardown(test_lex_error_too_many_statements,
		    teardown),
		cmocka_unit_test_teardown(test_lex_truncated_inputs, teardown),
		cmocka_unit_test_teardown(test_lex_token_kinds, teardown),
		cmocka_unit_test_teardown(test_lex_psql_vars, teardown),
		cmocka_unit_test_teardown(test_lex_psql_var_splits, teardown),
		cmocka_unit_test_teardown(test_lex_psql_builtin, teardown),
		cmocka_unit_test_teardown(test_lex_check_text_valid, teardown),
		cmocka_unit_test_teardown(test_lex_check_text_invalid, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
