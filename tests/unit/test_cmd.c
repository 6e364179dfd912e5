/*
 * test_cmd.c - the command table (cmd.c) on a small program of its own:
 * an option of another command refused naming both, two options of one
 * name (one bare, one with a value), positional and required arguments,
 * and help lines that stay under 80 columns.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

struct pgb_cmd_args {
	int		 nset;
	const char	*last;		/* the last option's name */
	const char	*val;
};

enum { O_VERBOSE = 256, O_LEVEL, O_VERSION, O_VERSION_N, O_NAME };

static const struct pgb_opt opts[] = {
	{ "output", 'o', 1, "FILE", "where to write it", NULL, 0 },
	{ "verbose", O_VERBOSE, 0, NULL, "say more", NULL, 0 },
	{ "level", O_LEVEL, 1, "N", "a level that is long enough to be wrapped "
	    "over more than one line of the help, word by word, under eighty "
	    "columns", NULL, 0 },
	{ "version", O_VERSION_N, 1, "N", "the version to use", NULL, 0 },
	{ "name", O_NAME, 1, "NAME", "its name", NULL, 0 },
	{ "help", 'h', 0, NULL, "show the help", NULL, 1 },
	{ "version", O_VERSION, 0, NULL, "show the version", NULL, 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 }
};

static int
run(struct pgb_cmd_args *a)
{
	(void)a;
	return 0;
}

static const int a_opts[] = { 'o', O_VERBOSE, O_LEVEL, 0 };
static const int b_opts[] = { O_VERSION_N, O_NAME, O_VERBOSE, 0 };
static const int b_need[] = { O_VERSION_N, O_NAME, 0 };
static const int exits_[] = { 0, 2, -1 };

static const struct pgb_command cmds[] = {
	{ "alpha", run, "[DIR]", "the first", "alpha [DIR] [-o FILE]\n", NULL,
	    a_opts, NULL, exits_, 0, 1, "" },
	{ "beta", run, "FILE", "the second", "beta FILE --version N --name "
	    "NAME\n", NULL, b_opts, b_need, exits_, 1, 1, "a FILE" },
	{ NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, NULL }
};

static const struct pgb_exit exits[] = {
	{ 0, "success" }, { 2, "usage error" }, { 0, NULL }
};

static const struct pgb_prog prog = {
	"prog", "prog does things.", NULL, NULL, opts, cmds, exits, 2, 20, 24,
	1, NULL
};

static int
set(struct pgb_cmd_args *a, const struct pgb_opt *o, const char *val,
    char *why, size_t len)
{
	(void)why;
	(void)len;
	a->nset++;
	a->last = o->name;
	a->val = val;
	return 0;
}

/*
 * Parse 'args' (NULL-terminated, args[0] the command) from copies that
 * live until the next call, as getopt permutes them; its result.
 */
static int
parse(const char *const *args, struct pgb_cmd_args *a, const char **pos,
    size_t *npos, char *why, size_t len)
{
	static char	 store[8][32];
	char		*argv[9];
	int		 argc;

	for (argc = 0; args[argc] != NULL && argc < 8; argc++) {
		snprintf(store[argc], sizeof(store[argc]), "%s", args[argc]);
		argv[argc] = store[argc];
	}
	argv[argc] = NULL;
	memset(a, 0, sizeof(*a));
	why[0] = '\0';
	return pgb_cmd_parse(&prog, pgb_cmd_find(&prog, argv[0]), argc, argv,
	    set, a, pos, npos, why, len);
}

static void
test_cmd_refuses_another_commands_option(void **state)
{
	struct pgb_cmd_args	 a;
	const char		*pos[PGB_CMD_POS_MAX];
	size_t			 npos;
	char			 why[256];
	static const char *const ok[] = { "alpha", "-o", "x", "--verbose", "d",
				    NULL };
	static const char *const bad[] = { "alpha", "--name", "n", NULL };
	static const char *const bare[] = { "alpha", "--version", "3", NULL };

	(void)state;
	assert_int_equal(parse(ok, &a, pos, &npos, why, sizeof(why)), 0);
	assert_int_equal(a.nset, 2);
	assert_int_equal(npos, 1);
	assert_string_equal(pos[0], "d");
	assert_int_equal(parse(bad, &a, pos, &npos, why, sizeof(why)), -1);
	assert_string_equal(why, "alpha does not take --name (only beta does)");
	assert_int_equal(a.nset, 0);
	/* Neither "--version" is alpha's: the bare one is refused. */
	assert_int_equal(parse(bare, &a, pos, &npos, why, sizeof(why)), -1);
	assert_string_equal(why, "alpha does not take --version (only beta "
	    "does)");
}

static void
test_cmd_takes_the_entry_of_its_own(void **state)
{
	struct pgb_cmd_args	 a;
	const char		*pos[PGB_CMD_POS_MAX];
	size_t			 npos;
	char			 why[256];
	static const char *const argv[] = { "beta", "f", "--version", "7",
				    "--name", "n", NULL };

	(void)state;
	assert_int_equal(parse(argv, &a, pos, &npos, why, sizeof(why)), 0);
	assert_int_equal(a.nset, 2);
	assert_string_equal(a.last, "name");
	assert_string_equal(a.val, "n");
}

static void
test_cmd_says_what_is_missing_or_stray(void **state)
{
	struct pgb_cmd_args	 a;
	const char		*pos[PGB_CMD_POS_MAX];
	size_t			 npos;
	char			 why[256];
	static const char *const nofile[] = { "beta", NULL };
	static const char *const noopts[] = { "beta", "f", NULL };
	static const char *const noname[] = { "beta", "f", "--version", "1",
				    NULL };
	static const char *const stray[] = { "alpha", "a", "b", NULL };
	static const char *const noval[] = { "alpha", "--level", NULL };
	static const char *const unknown[] = { "alpha", "--nope", NULL };

	(void)state;
	assert_int_equal(parse(nofile, &a, pos, &npos, why, sizeof(why)), -1);
	assert_string_equal(why, "beta needs a FILE");
	assert_int_equal(parse(noopts, &a, pos, &npos, why, sizeof(why)), -1);
	assert_string_equal(why, "beta needs --version N and --name NAME");
	assert_int_equal(parse(noname, &a, pos, &npos, why, sizeof(why)), -1);
	assert_string_equal(why, "beta needs --name NAME");
	assert_int_equal(parse(stray, &a, pos, &npos, why, sizeof(why)), -1);
	assert_string_equal(why, "unexpected argument 'b'");
	assert_int_equal(parse(noval, &a, pos, &npos, why, sizeof(why)), -1);
	assert_string_equal(why, "option '--level' needs a value");
	assert_int_equal(parse(unknown, &a, pos, &npos, why, sizeof(why)), -1);
	assert_string_equal(why, "unknown option '--nope'");
}

static void
test_cmd_help_stays_under_80_columns(void **state)
{
	char	*text = NULL, *line, *save = NULL;
	size_t	 len = 0;
	FILE	*f;

	(void)state;
	f = open_memstream(&text, &len);
	assert_non_null(f);
	pgb_cmd_help(&prog, NULL, f);
	pgb_cmd_help(&prog, pgb_cmd_find(&prog, "alpha"), f);
	fclose(f);
	assert_non_null(strstr(text, "usage: prog alpha [DIR] [-o FILE]\n"));
	assert_non_null(strstr(text, "\nExit status:\n  0   success\n"));
	/* alpha's help lists its options, not beta's. */
	assert_non_null(strstr(strstr(text, "usage: prog alpha [DIR] [-o "
	    "FILE]\n\n"), "--level N"));
	assert_null(strstr(strstr(text, "usage: prog alpha [DIR] [-o "
	    "FILE]\n\n"), "--name"));
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		assert_true(strlen(line) < 80);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmd_refuses_another_commands_option),
		cmocka_unit_test(test_cmd_takes_the_entry_of_its_own),
		cmocka_unit_test(test_cmd_says_what_is_missing_or_stray),
		cmocka_unit_test(test_cmd_help_stays_under_80_columns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
