#ifndef PGB_CMD_H
#define PGB_CMD_H

#include <stddef.h>
#include <stdio.h>

/*
 * cmd.h - one table of commands per program, as git's builtins have it.
 * Each program (pgbundle, pgapply) lists its options, its commands (the
 * options each takes, its synopsis, its exit statuses) and its exit
 * statuses; option parsing, usage errors and every help page follow from
 * that table here, the same way in both programs.
 */

/*
 * What a command's handler gets: each program defines this struct for
 * itself (its parsed command line); this module never looks inside.
 */
struct pgb_cmd_args;

/* One option a program knows. */
struct pgb_opt {
	const char	*name;		/* long name, without "--" */
	int		 key;		/* a letter (also -X), or an id >= 256 */
	int		 has_arg;	/* 0 or 1 (getopt's required_argument) */
	const char	*arg;		/* the value's name in help: "FILE" */
	const char	*help;		/* one paragraph; wrapped when printed */
	const char	*section;	/* the overview starts a heading here */
	int		 every;		/* every command takes it (--help) */
};

/* One exit status and what it means. */
struct pgb_exit {
	int		 code;
	const char	*text;		/* one paragraph */
};

/* One command. */
struct pgb_command {
	const char	*name;
	int		(*run)(struct pgb_cmd_args *);
	const char	*args;		/* the overview's short form: "[DIR]" */
	const char	*summary;	/* one paragraph */
	const char	*synopsis;	/* after "usage: PROG ", lines; later
					   lines start with spaces */
	const char	*synopsis_more;	/* per-command help only, or NULL */
	const int	*opts;		/* keys of the options it takes; 0 ends */
	const int	*required;	/* keys it cannot run without; 0 ends */
	const int	*exits;		/* the statuses it can return; -1 ends */
	unsigned	 npos_min, npos_max;	/* positional arguments */
	const char	*needs;		/* the first positional, for "NAME needs
					   a bundle FILE" */
};

struct pgb_prog {
	const char		*name;		/* "pgbundle" */
	const char		*intro;		/* the overview's first paragraph */
	const char		*notes;		/* after the options, verbatim */
	const char		*synopsis_more;	/* the overview's last lines */
	const struct pgb_opt	*opts;		/* name NULL ends */
	const struct pgb_command	*cmds;		/* name NULL ends */
	const struct pgb_exit	*exits;		/* text NULL ends */
	int			 usage_exit;	/* the usage error's status */
	unsigned		 cmd_col;	/* help: where summaries start */
	unsigned		 opt_col;	/* help: where option texts start */
	int			 align_long;	/* "    --long" under "-x, --long" */
	/*
	 * Optional: the reason for refusing option 'o' to command 'c' when
	 * it is not the generic one; writes 'why' and returns 1, else 0.
	 */
	int	(*refuse)(const struct pgb_prog *, const struct pgb_command *c,
		    const struct pgb_opt *o, const char *given, char *why,
		    size_t len);
};

/* The command named 'name', or NULL. */
const struct pgb_command *pgb_cmd_find(const struct pgb_prog *, const char *name);

/* 1 if 'c' takes the option with key 'key' (the table's opts or every). */
int	pgb_cmd_takes(const struct pgb_command *c, const struct pgb_opt *o);

/*
 * Stores one option: 'o' is the table's entry, 'val' its value or NULL.
 * 0 to go on; 1 to stop with status 0 (it printed, as --version does);
 * -1 with a usage error's reason in 'why'.
 */
typedef int (*pgb_cmd_set_fn)(struct pgb_cmd_args *, const struct pgb_opt *o,
    const char *val, char *why, size_t len);

#define PGB_CMD_POS_MAX	4	/* positional arguments any command takes */

/*
 * Parse argv[1..argc) of command 'c' (argv[0] is its name): each option
 * it takes through 'set', the positional ones into pos[0..*npos), then
 * the table's rules: no option of another command, the positional count,
 * the required options.  0 to run; 1 when done with status 0 (--help
 * printed the command's help on stdout); -1 with the reason in 'why'.
 */
int	pgb_cmd_parse(const struct pgb_prog *, const struct pgb_command *c,
	    int argc, char *argv[], pgb_cmd_set_fn set, struct pgb_cmd_args *,
	    const char *pos[PGB_CMD_POS_MAX], size_t *npos, char *why,
	    size_t len);

/*
 * A usage error: "PROG: MSG" and the synopsis of 'c' (all of them when
 * 'c' is NULL) on stderr; with 'json' one error event on stdout too.
 * Returns the program's usage status.
 */
int	pgb_cmd_usage(const struct pgb_prog *, const struct pgb_command *c,
	    int json, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));

/* The overview (c NULL) or the help of command 'c', on 'f'. */
void	pgb_cmd_help(const struct pgb_prog *, const struct pgb_command *c, FILE *f);

/* 1 if "--json" is among the arguments before any "--". */
int	pgb_cmd_wants_json(int argc, char *argv[]);

/*
 * The front of both programs' main: no command, --help, --version,
 * "help [COMMAND]", an unknown command.  Returns -1 with *c the command
 * to run; else the exit status of what it did (help printed, or a usage
 * error).
 */
int	pgb_cmd_front(const struct pgb_prog *, int argc, char *argv[],
	    int json, const char *version, const struct pgb_command **c);

#endif /* PGB_CMD_H */
