/*
 * cli.c - what pgbundle's commands share: an error, a usage error and a
 * report printed once, the in-memory compile that check and squash start
 * with, and the server they work on.
 *
 * Trusts: the command line main.c parsed.  Text from files and servers
 * is cleaned before it reaches a terminal (text.h).
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "text.h"
#include "banned.h"

int	pgb_cli_json;

void
pgb_cli_put(FILE *f, const char *s)
{
	pgb_text_write(f, s, strlen(s));
}

static void
json_error(int rc, const char *msg, const char *detail)
{
	printf("{\"event\":\"error\",\"exit\":%d,\"message\":", rc);
	pgb_json_str(stdout, msg);
	printf(",\"detail\":");
	pgb_json_str(stdout, detail);
	printf("}\n");
}

int
pgb_cli_usage(const struct pgb_cmd_args *a, const char *fmt, ...)
{
	char	msg[256];
	va_list	ap;

	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof(msg), fmt, ap) >= (int)sizeof(msg))
		pgb_utf8_trim(msg);
	va_end(ap);
	return pgb_cmd_usage(a->prog, a->c, pgb_cli_json, "%s", msg);
}

static int
exit_for(int code)
{
	switch (code) {
	case PGB_ESOURCE:
		return EXIT_SOURCE;
	case PGB_EUSAGE:
	case PGB_ECONNECT:	/* --db names what cannot connect */
		return EXIT_USAGE;
	case PGB_EKEY:
		return EXIT_KEY;
	case PGB_EBUNDLE:
		return EXIT_SOURCE;
	default:
		return EXIT_INTERNAL;
	}
}

/* Print 'd' once, as every error is printed; a detail line by line. */
int
pgb_cli_fail(const struct pgb_diag *d)
{
	const char	*p, *nl;

	fputs("pgbundle: ", stderr);
	pgb_cli_put(stderr, d->msg);
	fputs("\n", stderr);
	for (p = d->detail; *p != '\0'; p = *nl ? nl + 1 : nl) {
		nl = p + strcspn(p, "\n");
		fprintf(stderr, "  %s", p == d->detail ? "detail: " : "");
		pgb_text_write(stderr, p, (size_t)(nl - p));
		fputs("\n", stderr);
	}
	if (pgb_cli_json)
		json_error(exit_for(d->code), d->msg, d->detail);
	return exit_for(d->code);
}

/* "  label: TEXT", each line of TEXT indented the same, cleaned. */
static void
print_indented(const char *label, const char *text)
{
	const char	*p, *nl;

	for (p = text; *p != '\0'; p = *nl ? nl + 1 : nl) {
		nl = p + strcspn(p, "\n");
		fprintf(stderr, "  %s", p == text ? label : "");
		pgb_text_write(stderr, p, (size_t)(nl - p));
		fputs("\n", stderr);
	}
}

void
pgb_cli_report(struct pgb_report *r, int quiet)
{
	static const char *const sev[] = { "note", "warning", "error" };
	size_t	i;

	pgb_report_sort(r);
	for (i = 0; i < r->n; i++) {
		const struct pgb_finding *f = &r->v[i];
		enum pgb_sev s = f->sev;

		if (quiet && s == PGB_SEV_NOTE)
			continue;
		if (r->strict && s == PGB_SEV_WARNING)
			s = PGB_SEV_ERROR;
		/* File names and messages quote what the files hold. */
		pgb_cli_put(stderr, f->file);
		fprintf(stderr, ":%u: %s: ", f->line > 0 ? f->line : 1, sev[s]);
		pgb_cli_put(stderr, f->msg);
		if (f->rule)
			fprintf(stderr, " [%s]", f->rule);
		fputc('\n', stderr);
		if (f->detail)
			print_indented("detail: ", f->detail);
		if (f->hint)
			print_indented("hint: ", f->hint);
	}
}

/*
 * What build and check say about the sum file's view: the released
 * migrations they did not lint.
 */
void
pgb_cli_unlinted(const char *dir, const struct pgb_build_result *res, int quiet)
{
	if (quiet || res->unlinted == 0)
		return;
	fputs("pgbundle: ", stderr);
	pgb_cli_put(stderr, dir);
	fprintf(stderr, ": %zu released migration%s (in the sum file) not "
	    "linted; --lint-all lints them too\n", res->unlinted,
	    res->unlinted == 1 ? "" : "s");
}

static void
on_signal(int sig)
{
	(void)sig;
	pgb_interrupted = 1;
}

/* SIGINT/SIGTERM end the run between steps, so scratch state goes. */
void
pgb_cli_signals(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
}

int
pgb_cli_compile(const struct pgb_cmd_args *a, const char *dir,
    enum pgb_sum_mode sum, struct pgb_report *r,
    struct pgb_build_result *res, struct pgb_bundle **b, struct pgb_diag *d)
{
	struct pgb_build_opts	o;

	memset(&o, 0, sizeof(o));
	o.dir = dir;
	o.include_root = a->include_root;
	o.layout = a->layout;
	o.lint_all = a->lint_all;
	o.sum = sum;
	pgb_diag_clear(d);
	return pgb_build_bundle(&o, r, res, b, d);
}

int
pgb_cli_compile_failed(const struct pgb_cmd_args *a, const char *dir,
    struct pgb_report *r, const struct pgb_build_result *res,
    const struct pgb_diag *d)
{
	if (d->code == PGB_ESOURCE && r->n > 0) {
		pgb_cli_report(r, a->quiet);
		pgb_cli_unlinted(dir, res, a->quiet);
		fprintf(stderr, "pgbundle: %s: %zu error%s, %zu warning%s%s\n",
		    dir, r->nerrors, r->nerrors == 1 ? "" : "s", r->nwarnings,
		    r->nwarnings == 1 ? "" : "s",
		    r->strict && r->nwarnings ? " (--strict)" : "");
		return EXIT_SOURCE;
	}
	return pgb_cli_fail(d);
}

int
pgb_cli_server_open(const struct pgb_cmd_args *a, struct pgb_scratch *sc,
    struct pgb_server *srv, struct pgb_diag *d)
{
	const char	*db = a->db_read ? a->db_read : a->db;

	memset(sc, 0, sizeof(*sc));
	if (db == NULL && pgb_scratch_start(sc, d) == -1)
		return -1;
	if (pgb_server_open(srv, db ? db : sc->conninfo, d) == -1) {
		pgb_scratch_stop(sc);
		return -1;
	}
	return 0;
}

void
pgb_cli_server_close(struct pgb_scratch *sc, struct pgb_server *srv)
{
	pgb_server_close(srv);
	pgb_scratch_stop(sc);
}
