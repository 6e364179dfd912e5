#ifndef PGB_CLI_H
#define PGB_CLI_H

/*
 * cli.h - what pgbundle's commands share: the parsed command line, the
 * exit statuses, and printing an error, a usage error or a report once.
 * Only the commands (main.c, cmd_*.c) print; the pipeline stages return
 * their errors as values.
 */
#include "build.h"
#include "bundle.h"
#include "cmd.h"
#include "diag.h"
#include "layout.h"
#include "report.h"
#include "scratch.h"
#include "sum.h"

#define EXIT_SOURCE	1	/* problems in the migrations, a bad bundle */
#define EXIT_USAGE	2
#define EXIT_KEY	3
#define EXIT_INTERNAL	4	/* I/O or internal error */

#define DATA_MAX	64	/* --data tables, and --schema-only tables */

/* The command line of one run, as main.c parsed it from the table. */
struct pgb_cmd_args {
	const struct pgb_prog	 *prog;
	const struct pgb_command *c;	/* the command's table entry */
	const char	*cmd;		/* its name */
	const char	*pos;		/* DIR or FILE; new: NAME */
	const char	*pos2;		/* new: DIR */
	const char	*out;
	const char	*key;
	const char	*pubkey;
	const char	*project;
	const char	*target;
	const char	*include_root;
	const char	*name;		/* configmap --name */
	enum pgb_layout	 layout;	/* --layout; AUTO: detect */
	int		 unsigned_ok, strict, json, quiet, fix;
	const char	*db;		/* check, squash --db */
	const char	*db_file;	/* --db-file */
	char		*db_read;	/* the conninfo read from it */
	const char	*archive;
	const char	*data[DATA_MAX];
	size_t		 ndata;
	const char	*schema_only[DATA_MAX];
	size_t		 nschema_only;
	int		 lint_all;
	int		 sums;		/* build --sums */
	long long	 through;
	int		 scratch, locks;
	const char	*signer;	/* build --unsigned, sign, cosign */
	const char	*sigfrom;	/* sign, cosign --signature-from */
	int		 minisig, minisign;
};

/* --json was given: errors answer with one JSON object on stdout too. */
extern int	pgb_cli_json;

/* 's' to 'f', safe for a terminal. */
void	pgb_cli_put(FILE *f, const char *s);
/* A usage error of a->c: the reason and its synopsis.  EXIT_USAGE. */
int	pgb_cli_usage(const struct pgb_cmd_args *a, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Print 'd' once (and as JSON under --json); its exit status. */
int	pgb_cli_fail(const struct pgb_diag *d);
/* The findings on stderr, sorted; notes left out when 'quiet'. */
void	pgb_cli_report(struct pgb_report *r, int quiet);
/* The released migrations build and check did not lint, if any. */
void	pgb_cli_unlinted(const char *dir, const struct pgb_build_result *res,
	    int quiet);
/* SIGINT and SIGTERM end the run between steps, so scratch state goes. */
void	pgb_cli_signals(void);

/*
 * Compile 'dir' into a bundle in memory ('res' gets the counts).  0; or
 * -1 with 'd' filled and the problems in 'r'; nothing printed.
 */
int	pgb_cli_compile(const struct pgb_cmd_args *a, const char *dir,
	    enum pgb_sum_mode sum, struct pgb_report *r,
	    struct pgb_build_result *res, struct pgb_bundle **b,
	    struct pgb_diag *d);
/* pgb_cli_compile() failed: print why; EXIT_SOURCE or the failure's. */
int	pgb_cli_compile_failed(const struct pgb_cmd_args *a, const char *dir,
	    struct pgb_report *r, const struct pgb_build_result *res,
	    const struct pgb_diag *d);
/* Start the server check or squash works on: --db, else a scratch one. */
int	pgb_cli_server_open(const struct pgb_cmd_args *a,
	    struct pgb_scratch *sc, struct pgb_server *srv, struct pgb_diag *d);
void	pgb_cli_server_close(struct pgb_scratch *sc, struct pgb_server *srv);

/* The commands (the table's handlers), one file each or per small group. */
int	cmd_build(struct pgb_cmd_args *);	/* cmd_build.c */
int	cmd_check(struct pgb_cmd_args *);
int	cmd_sum(struct pgb_cmd_args *);
int	cmd_squash(struct pgb_cmd_args *);	/* cmd_squash.c */
int	cmd_new(struct pgb_cmd_args *);		/* cmd_new.c */
int	cmd_inspect(struct pgb_cmd_args *);	/* cmd_inspect.c */
int	cmd_configmap(struct pgb_cmd_args *);
int	cmd_keygen(struct pgb_cmd_args *);	/* cmd_keys.c */
int	cmd_sign(struct pgb_cmd_args *);
int	cmd_cosign(struct pgb_cmd_args *);
int	cmd_pubkey(struct pgb_cmd_args *);

#endif /* PGB_CLI_H */
