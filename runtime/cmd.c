/*
 * cmd.c - the command table both programs are driven by: parse a
 * command's options against what it declares it takes, refuse the rest
 * as usage errors, and print every help page from the same table.
 *
 * Trusts: the program's table (static, written by hand).
 * Rejects: an option the command does not take, a missing or stray
 * argument, a missing required option; each as one usage error that
 * names what is wrong and the command.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "json.h"
#include "text.h"
#include "banned.h"

#define HELP_WIDTH	79	/* help lines stay under 80 columns */
#define LONGOPTS_MAX	96	/* options a program may have */
#define LONG_BASE	1000	/* getopt's value for table entry i */

const struct pgb_command *
pgb_cmd_find(const struct pgb_prog *p, const char *name)
{
	const struct pgb_command	*c;

	for (c = p->cmds; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int
pgb_cmd_takes(const struct pgb_command *c, const struct pgb_opt *o)
{
	const int	*k;

	if (o->every)
		return 1;
	for (k = c->opts; *k != 0; k++)
		if (*k == o->key)
			return 1;
	return 0;
}

/* The table's entry with key 'key', or NULL. */
static const struct pgb_opt *
opt_by_key(const struct pgb_prog *p, int key)
{
	const struct pgb_opt	*o;

	for (o = p->opts; o->name != NULL; o++)
		if (o->key == key)
			return o;
	return NULL;
}

/*
 * Print 'text' from column 'at' on, words wrapped under HELP_WIDTH,
 * later lines starting at column 'col'; a '\n' in it breaks the line.
 */
static void
wrap(FILE *f, const char *text, unsigned at, unsigned col)
{
	const char	*p = text;
	size_t		 n;
	int		 first = 1;

	while (*p != '\0') {
		if (*p == '\n' || *p == ' ') {
			if (*p == '\n') {
				fprintf(f, "\n%*s", (int)col, "");
				at = col;
				first = 1;
			}
			p++;
			continue;
		}
		n = strcspn(p, " \n");
		if (!first && at + 1 + n > HELP_WIDTH) {
			fprintf(f, "\n%*s", (int)col, "");
			at = col;
			first = 1;
		}
		fprintf(f, "%s%.*s", first ? "" : " ", (int)n, p);
		at += (unsigned)n + (first ? 0 : 1);
		first = 0;
		p += n;
	}
	fputc('\n', f);
}

/* "  LABEL" padded to 'col' (or two spaces past a long one), then 'text'. */
static void
item(FILE *f, const char *label, const char *text, unsigned col)
{
	int	n = fprintf(f, "  %s", label);

	if (n < 0)
		return;
	if ((unsigned)n + 2 > col) {
		fputs("  ", f);
		wrap(f, text, (unsigned)n + 2, col);
	} else {
		fprintf(f, "%*s", (int)(col - (unsigned)n), "");
		wrap(f, text, col, col);
	}
}

static void
opt_label(const struct pgb_prog *p, const struct pgb_opt *o, char *buf,
    size_t len)
{
	if (o->key < 256)
		snprintf(buf, len, "-%c, --%s%s%s", o->key, o->name,
		    o->arg ? " " : "", o->arg ? o->arg : "");
	else
		snprintf(buf, len, "%s--%s%s%s", p->align_long ? "    " : "",
		    o->name, o->arg ? " " : "", o->arg ? o->arg : "");
}

static void
print_opt(const struct pgb_prog *p, const struct pgb_opt *o, FILE *f)
{
	char	label[96];

	opt_label(p, o, label, sizeof(label));
	item(f, label, o->help, p->opt_col);
}

static void
print_exit(const struct pgb_exit *e, FILE *f)
{
	char	label[16];

	snprintf(label, sizeof(label), "%d", e->code);
	item(f, label, e->text, 6);
}

/* A synopsis: "usage: PROG " or the same width of spaces first. */
static void
synopsis(const struct pgb_prog *p, const char *lead, const char *s, FILE *f)
{
	fprintf(f, "%s%s %s", lead, p->name, s);
	if (s[0] != '\0' && s[strlen(s) - 1] != '\n')
		fputc('\n', f);
}

static void
usage_lines(const struct pgb_prog *p, const struct pgb_command *c, FILE *f)
{
	const struct pgb_command	*k;

	if (c != NULL) {
		synopsis(p, "usage: ", c->synopsis, f);
		if (c->synopsis_more != NULL)
			synopsis(p, "       ", c->synopsis_more, f);
		return;
	}
	for (k = p->cmds; k->name != NULL; k++)
		synopsis(p, k == p->cmds ? "usage: " : "       ", k->synopsis,
		    f);
	if (p->synopsis_more != NULL)
		synopsis(p, "       ", p->synopsis_more, f);
}

static const struct pgb_exit *
exit_entry(const struct pgb_prog *p, int code)
{
	const struct pgb_exit	*e;

	for (e = p->exits; e->text != NULL; e++)
		if (e->code == code)
			return e;
	return NULL;
}

static void
overview(const struct pgb_prog *p, FILE *f)
{
	const struct pgb_command	*c;
	const struct pgb_opt	*o;
	const struct pgb_exit	*e;
	char			 label[64];

	usage_lines(p, NULL, f);
	fputc('\n', f);
	wrap(f, p->intro, 0, 0);
	fputs("\nCommands:\n", f);
	for (c = p->cmds; c->name != NULL; c++) {
		snprintf(label, sizeof(label), "%s%s%s", c->name,
		    c->args[0] ? " " : "", c->args);
		item(f, label, c->summary, p->cmd_col);
	}
	item(f, "help [COMMAND]", "show the options and exit statuses of "
	    "COMMAND (as COMMAND --help does), or this help", p->cmd_col);
	fputc('\n', f);
	for (o = p->opts; o->name != NULL; o++) {
		if (o == p->opts || o->section != NULL)
			fprintf(f, "%s:\n", o->section ? o->section : "Options");
		print_opt(p, o, f);
	}
	if (p->notes != NULL) {
		fputc('\n', f);
		fputs(p->notes, f);
	}
	fputs("\nExit status:\n", f);
	for (e = p->exits; e->text != NULL; e++)
		print_exit(e, f);
}

void
pgb_cmd_help(const struct pgb_prog *p, const struct pgb_command *c, FILE *f)
{
	const struct pgb_opt	*o;
	const struct pgb_exit	*e;
	const int		*k;

	if (c == NULL) {
		overview(p, f);
		return;
	}
	usage_lines(p, c, f);
	fputs("\n  ", f);
	wrap(f, c->summary, 2, 2);
	fputs("\nOptions:\n", f);
	for (o = p->opts; o->name != NULL; o++) {
		/* Two entries of one name: the one this command takes. */
		if (pgb_cmd_takes(c, o))
			print_opt(p, o, f);
	}
	fputs("\nExit status:\n", f);
	for (k = c->exits; *k != -1; k++)
		if ((e = exit_entry(p, *k)) != NULL)
			print_exit(e, f);
}

int
pgb_cmd_usage(const struct pgb_prog *p, const struct pgb_command *c, int json,
    const char *fmt, ...)
{
	char	msg[256];
	va_list	ap;

	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof(msg), fmt, ap) >= (int)sizeof(msg))
		pgb_utf8_trim(msg);
	va_end(ap);
	fprintf(stderr, "%s: ", p->name);
	pgb_text_write(stderr, msg, strlen(msg));
	fputc('\n', stderr);
	usage_lines(p, c, stderr);
	if (json) {
		printf("{\"event\":\"error\",\"exit\":%d,\"message\":",
		    p->usage_exit);
		pgb_json_str(stdout, msg);
		printf(",\"detail\":\"see %s --help\"}\n", p->name);
	}
	return p->usage_exit;
}

/* 1 if 'c' takes an option named as 'o' (either entry of a shared name). */
static int
takes_name(const struct pgb_prog *p, const struct pgb_command *c,
    const struct pgb_opt *o)
{
	const struct pgb_opt	*q;

	for (q = p->opts; q->name != NULL; q++)
		if (strcmp(q->name, o->name) == 0 && pgb_cmd_takes(c, q))
			return 1;
	return 0;
}

/* "only X does" or "X, Y and Z do": the commands that take 'o'. */
static void
takers(const struct pgb_prog *p, const struct pgb_opt *o, char *buf,
    size_t len)
{
	const struct pgb_command	*c;
	size_t			 n = 0, i = 0, used;

	for (c = p->cmds; c->name != NULL; c++)
		n += (size_t)takes_name(p, c, o);
	used = (size_t)snprintf(buf, len, "%s", n == 1 ? "only " : "");
	for (c = p->cmds; c->name != NULL && used < len; c++) {
		if (!takes_name(p, c, o))
			continue;
		i++;
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
		    i == 1 ? "" : i == n ? " and " : ", ", c->name);
	}
	if (used < len)
		snprintf(buf + used, len - used, "%s", n == 1 ? " does" :
		    " do");
}

/* Why 'c' refuses option 'o', as the user wrote it ('given'). */
static void
refuse(const struct pgb_prog *p, const struct pgb_command *c,
    const struct pgb_opt *o, const char *given, char *why, size_t len)
{
	char	who[160];

	if (p->refuse != NULL && p->refuse(p, c, o, given, why, len))
		return;
	takers(p, o, who, sizeof(who));
	snprintf(why, len, "%s does not take %s (%s)", c->name, given, who);
}

/* The missing required options of 'c' as "--a A and --b B", or "". */
static void
missing(const struct pgb_prog *p, const struct pgb_command *c,
    const unsigned char *seen, char *buf, size_t len)
{
	const struct pgb_opt	*o;
	const int		*k;
	char			 name[72];
	size_t			 n = 0, i = 0, used = 0;

	buf[0] = '\0';
	for (k = c->required; k != NULL && *k != 0; k++)
		n += (size_t)!seen[opt_by_key(p, *k) - p->opts];
	for (k = c->required; k != NULL && *k != 0 && used < len; k++) {
		o = opt_by_key(p, *k);
		if (seen[o - p->opts])
			continue;
		i++;
		if (o->key < 256)
			snprintf(name, sizeof(name), "-%c", o->key);
		else
			snprintf(name, sizeof(name), "--%s", o->name);
		used += (size_t)snprintf(buf + used, len - used, "%s%s%s%s",
		    i == 1 ? "" : i == n ? " and " : ", ", name,
		    o->arg ? " " : "", o->arg ? o->arg : "");
	}
}

/* 1 if 'q', which shares its name with 'o', is the one 'c' parses. */
static int
preferred(const struct pgb_command *c, const struct pgb_opt *q,
    const struct pgb_opt *o)
{
	int	tq = pgb_cmd_takes(c, q), to = pgb_cmd_takes(c, o);

	/* Neither: the bare one, so that a value does not follow it. */
	if (tq != to)
		return tq;
	return q->has_arg != o->has_arg ? !q->has_arg : q < o;
}

/*
 * getopt_long's table for 'c': one entry per name, the one 'c' takes
 * where two share it (pgapply's "--version N").  The short options go
 * into 'shorts'.
 */
static void
getopt_table(const struct pgb_prog *p, const struct pgb_command *c,
    struct option *lo, char *shorts, size_t slen)
{
	const struct pgb_opt	*o, *q;
	size_t			 n = 0, s = 0;

	shorts[s++] = ':';
	for (o = p->opts; o->name != NULL && n < LONGOPTS_MAX; o++) {
		for (q = p->opts; q->name != NULL; q++)
			if (q != o && strcmp(q->name, o->name) == 0 &&
			    preferred(c, q, o))
				break;
		if (q->name != NULL)
			continue;	/* the other entry of this name wins */
		lo[n].name = o->name;
		lo[n].has_arg = o->has_arg ? required_argument : no_argument;
		lo[n].flag = NULL;
		lo[n].val = LONG_BASE + (int)(o - p->opts);
		n++;
		if (o->key < 256 && s + 3 < slen) {
			shorts[s++] = (char)o->key;
			if (o->has_arg)
				shorts[s++] = ':';
		}
	}
	memset(&lo[n], 0, sizeof(lo[n]));
	shorts[s] = '\0';
}

int
pgb_cmd_parse(const struct pgb_prog *p, const struct pgb_command *c, int argc,
    char *argv[], pgb_cmd_set_fn set, struct pgb_cmd_args *a,
    const char *pos[PGB_CMD_POS_MAX], size_t *npos, char *why, size_t len)
{
	struct option		 lo[LONGOPTS_MAX + 1];
	unsigned char		 seen[LONGOPTS_MAX];
	char			 shorts[64], given[72], need[160];
	const struct pgb_opt	*o;
	int			 ch, rc;

	memset(seen, 0, sizeof(seen));
	getopt_table(p, c, lo, shorts, sizeof(shorts));
	*npos = 0;
	optind = 1;
	opterr = 0;		/* the reasons go through 'why' */
	while ((ch = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		if (ch == ':') {
			snprintf(why, len, "option '%.60s' needs a value",
			    argv[optind - 1]);
			return -1;
		}
		if (ch == '?') {
			if (optopt > 0 && optopt < 256)
				snprintf(why, len, "unknown option '-%c'",
				    optopt);
			else
				snprintf(why, len, "unknown option '%.60s'",
				    argv[optind - 1]);
			return -1;
		}
		if (ch >= LONG_BASE) {
			o = &p->opts[ch - LONG_BASE];
			snprintf(given, sizeof(given), "--%s", o->name);
		} else {
			o = opt_by_key(p, ch);
			snprintf(given, sizeof(given), "-%c", ch);
		}
		if (!pgb_cmd_takes(c, o)) {
			refuse(p, c, o, given, why, len);
			return -1;
		}
		if (o->key == 'h') {
			pgb_cmd_help(p, c, stdout);
			return 1;
		}
		seen[o - p->opts] = 1;
		if ((rc = set(a, o, optarg, why, len)) != 0)
			return rc;
	}
	while (optind < argc && *npos < c->npos_max &&
	    *npos < PGB_CMD_POS_MAX)
		pos[(*npos)++] = argv[optind++];
	if (optind < argc)
		snprintf(why, len, "unexpected argument '%.60s'", argv[optind]);
	else if (*npos < c->npos_min)
		snprintf(why, len, "%s needs %s", c->name, c->needs);
	else if (missing(p, c, seen, need, sizeof(need)), need[0] != '\0')
		snprintf(why, len, "%s needs %s", c->name, need);
	else
		return 0;
	return -1;
}

int
pgb_cmd_wants_json(int argc, char *argv[])
{
	int	i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--json") == 0)
			return 1;
	return 0;
}

int
pgb_cmd_front(const struct pgb_prog *p, int argc, char *argv[], int json,
    const char *version, const struct pgb_command **c)
{
	*c = NULL;
	if (argc < 2)
		return pgb_cmd_usage(p, NULL, json, "no command given");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    (strcmp(argv[1], "help") == 0 && argc == 2)) {
		pgb_cmd_help(p, NULL, stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("%s %s\n", p->name, version);
		return 0;
	}
	if (strcmp(argv[1], "help") == 0) {
		if (argc > 3)
			return pgb_cmd_usage(p, NULL, json, "unexpected "
			    "argument '%.60s'", argv[3]);
		if ((*c = pgb_cmd_find(p, argv[2])) == NULL)
			return pgb_cmd_usage(p, NULL, json, "unknown command "
			    "'%.60s'", argv[2]);
		pgb_cmd_help(p, *c, stdout);
		*c = NULL;
		return 0;
	}
	if ((*c = pgb_cmd_find(p, argv[1])) == NULL)
		return pgb_cmd_usage(p, NULL, json, "unknown command '%.60s'",
		    argv[1]);
	return -1;
}
