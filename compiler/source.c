/*
 * source.c - compile one migration: read its files, resolve \i and \ir,
 * split statements, read directives, decide the transaction mode, lint.
 *
 * Trusts: the file names from scan.c.  Rejects: unreadable or oversize
 * files, anything but a regular file, an include that resolves (after
 * symlinks) outside the include root, text that holds a PEM private key,
 * invalid UTF-8, unterminated quotes, unsupported psql
 * meta-commands, psql variable references that psql would replace (or
 * that plainly mean to be), include cycles, transaction control other
 * than a whole BEGIN ... COMMIT wrapper, COPY ... TO STDOUT, verify
 * queries that are not one statement or that are transaction control, and
 * statements PostgreSQL refuses inside a transaction block unless the
 * file says "-- pgbundle:no-transaction".
 * Every problem goes to the report with its file and line.  A dbmate,
 * goose or sql-migrate file compiles as two scripts, its up and down
 * sections (sections.c finds them), whose lines count from the file's
 * top; a marker of another tool in any file is refused at its line.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "classify.h"
#include "directive.h"
#include "fileio.h"
#include "hash.h"
#include "lex.h"
#include "liquibase.h"
#include "sections.h"
#include "source.h"
#include "banned.h"

/* One script being assembled: its shipped text and its statements. */
struct script_acc {
	struct pgb_buf	 text;
	struct pgb_stmt	*stmts;
	size_t		 nstmts;
	char		*stack[PGB_INCLUDE_DEPTH + 1];	/* realpaths being read */
	size_t		 depth;
	char		 root[PATH_MAX];	/* the include root's realpath */
	int		 root_errno;	/* why it has none, or 0 */
	const struct pgb_source_opts *opts;
	struct pgb_report *r;
	size_t		 errors;
	int		 broken;	/* the top file could not be read or
					   split: nothing more to check */
	int		 idempotent;	/* every statement can run twice */
	int		 keeps_session;	/* no statement outlives its
					   transaction in the session */
	const struct pgb_section *sec;	/* the part of the top file (dbmate,
					   goose, sql-migrate), or NULL */
};

static void	acc_error(struct script_acc *, const char *, unsigned,
		    const char *, ...) __attribute__((format(printf, 4, 5)));

static void
acc_error(struct script_acc *a, const char *file, unsigned line,
    const char *fmt, ...)
{
	char	msg[PGB_LINE_MAX];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pgb_report_add(a->r, PGB_SEV_ERROR, file, line, NULL, "%s", msg);
	a->errors++;
}

/*
 * Read a whole file under PGB_SQL_MAX.  0 and a NUL-terminated buffer
 * the caller frees, or -1 with the reason in 'why'.
 */
static int
read_file(const char *path, char **out, size_t *len, char *why, size_t whylen)
{
	struct pgb_diag	ignore;

	if (pgb_file_read(NULL, path, PGB_SQL_MAX, 0, PGB_ESOURCE, out, len,
	    &ignore) == 0)
		return 0;
	if (errno == EINVAL)
		snprintf(why, whylen, "not a regular file");
	else if (errno == EFBIG && *len > 0)
		snprintf(why, whylen, "file is %zu bytes, over the limit of %u",
		    *len, PGB_SQL_MAX);
	else if (errno == EFBIG)
		snprintf(why, whylen, "file is over the limit of %u bytes",
		    PGB_SQL_MAX);
	else
		snprintf(why, whylen, "cannot open: %s", strerror(errno));
	return -1;
}

static void
add_stmt(struct script_acc *a, const struct pgb_lex_stmt *ls, size_t shift,
    const char *src)
{
	struct pgb_stmt	*s;

	a->stmts = pgb_xreallocarray(a->stmts, a->nstmts + 1, sizeof(*a->stmts));
	s = &a->stmts[a->nstmts++];
	memset(s, 0, sizeof(*s));
	s->off = ls->off + shift;
	s->len = ls->len;
	s->line = ls->line;
	s->is_copy = ls->is_copy;
	if (ls->is_copy) {
		s->copy_off = ls->copy_off + shift;
		s->copy_len = ls->copy_len;
	}
	s->src = src ? pgb_xstrdup(src) : NULL;
}

/* The first word of a meta-command, without its backslash. */
static size_t
meta_word(const char *m, size_t len)
{
	size_t	i;

	for (i = 1; i < len && m[i] != ' ' && m[i] != '\t' && m[i] != '\r' &&
	    m[i] != '\\'; i++)
		;
	return i - 1;
}

/* The argument of "\i arg", unquoted; NULL when there is none. */
static char *
meta_arg(const char *m, size_t len, size_t word)
{
	size_t	i = 1 + word, j;

	while (i < len && (m[i] == ' ' || m[i] == '\t'))
		i++;
	j = len;
	while (j > i && (m[j - 1] == ' ' || m[j - 1] == '\t' || m[j - 1] == '\r'))
		j--;
	if (j - i >= 2 && m[i] == '\'' && m[j - 1] == '\'')
		i++, j--;
	return j > i ? pgb_xstrndup(m + i, j - i) : NULL;
}

static int
is_on_error_stop(const char *m, size_t len, size_t word)
{
	char	*arg = meta_arg(m, len, word);
	int	 yes;

	yes = arg != NULL && strncmp(arg, "ON_ERROR_STOP", 13) == 0 &&
	    (arg[13] == '\0' || arg[13] == ' ' || arg[13] == '\t');
	free(arg);
	return yes;
}

static void	expand_file(struct script_acc *, const char *path,
		    const char *display, int top);

/*
 * The variable references of one file that psql would replace with a
 * value: pgapply sends the text as written, so the migration would run
 * differently.  ":'name'", ":\"name\"" and ":{?name}" are refused
 * whatever the name (nobody writes them but to interpolate; psql always
 * answers ":{?name}"), ":name" only for psql's built-in variables:
 * psql leaves any other as written, as in the slice "a[1:n]".
 */
static void
check_vars(struct script_acc *a, const char *file, const char *text,
    const struct pgb_lex *lx, unsigned line0)
{
	const struct pgb_lex_var *v;
	const char	*p;
	size_t		 i, n;

	for (i = 0; i < lx->nvars; i++) {
		v = &lx->vars[i];
		p = text + v->off;
		/* at most 64 bytes of it, cut on a character boundary */
		if ((n = v->len) > 64) {
			n = 64;
			while (n > 0 && ((unsigned char)p[n] & 0xc0) == 0x80)
				n--;
		}
		if (p[1] == '\'' || p[1] == '"' || p[1] == '{')
			acc_error(a, file, v->line + line0, "psql variable "
			    "interpolation %.*s is not supported: pgapply "
			    "sends the text as written", (int)n, p);
		else if (pgb_lex_psql_builtin(p + 1, v->len - 1))
			acc_error(a, file, v->line + line0, "psql would "
			    "replace %.*s with the value of its built-in "
			    "variable, but pgapply sends the text as written",
			    (int)n, p);
	}
}

/*
 * pgbundle splits every script as psql does with standard_conforming_strings
 * on, and pgapply runs every migration with it on: a statement that turns
 * it off would have the server read the statements after it otherwise
 * ('a\'' is a whole string then), so it is refused.
 */
static void
check_std(struct script_acc *a, const char *file, const struct pgb_lex *lx)
{
	size_t	i;

	for (i = 0; i < lx->nstmts; i++)
		if (lx->stmts[i].sets_std == PGB_STD_OFF)
			acc_error(a, file, lx->stmts[i].line, "turning "
			    "standard_conforming_strings off is not supported: "
			    "pgbundle splits statements, and pgapply runs them, "
			    "with it on (write E'...' strings for backslash "
			    "escapes)");
}

/* Whether the PEM label lab[0..n) names a private key. */
static int
says_private_key(const char *lab, size_t n)
{
	static const char	want[] = "PRIVATE KEY";
	size_t			i;

	for (i = 0; i + sizeof(want) - 1 <= n; i++)
		if (memcmp(lab + i, want, sizeof(want) - 1) == 0)
			return 1;
	return 0;
}

/*
 * The line of the first PEM private key block in text[0..len) ("-----BEGIN
 * PRIVATE KEY-----", "-----BEGIN OPENSSH PRIVATE KEY-----", "-----BEGIN
 * ENCRYPTED PRIVATE KEY-----", "-----BEGIN PGP PRIVATE KEY BLOCK-----",
 * ...), its label in 'label'; 0 when there is none.
 */
static unsigned
private_key_line(const char *text, size_t len, char *label, size_t lablen)
{
	static const char	begin[] = "-----BEGIN ";
	const char		*p = text, *end = text + len, *q, *lab;
	unsigned		 line = 1;
	size_t			 n;

	while (p < end && (q = memchr(p, '-', (size_t)(end - p))) != NULL) {
		for (; p < q; p++)
			line += *p == '\n';
		if ((size_t)(end - q) < sizeof(begin) - 1 ||
		    memcmp(q, begin, sizeof(begin) - 1) != 0) {
			p = q + 1;
			continue;
		}
		lab = q + sizeof(begin) - 1;
		/* The label: capitals, digits, spaces, then "-----". */
		for (n = 0; lab + n < end && n < 64 && ((lab[n] >= 'A' &&
		    lab[n] <= 'Z') || (lab[n] >= '0' && lab[n] <= '9') ||
		    lab[n] == ' '); n++)
			;
		if ((size_t)(end - lab) - n >= 5 && memcmp(lab + n, "-----",
		    5) == 0 && says_private_key(lab, n)) {
			snprintf(label, lablen, "%.*s", (int)n, lab);
			return line;
		}
		p = lab;
	}
	return 0;
}

/* Report a private key in 'text'; 1 when there is one. */
static int
refuse_private_key(struct script_acc *a, const char *display,
    const char *text, size_t len, unsigned line0)
{
	char		label[80];
	unsigned	line;

	if ((line = private_key_line(text, len, label, sizeof(label))) == 0)
		return 0;
	acc_error(a, display, line + line0, "holds a PEM private key "
	    "('-----BEGIN %s-----'): a private key must never ship in a "
	    "bundle", label);
	return 1;
}

/* Whether the realpath 'real' lies inside the realpath 'root'. */
static int
inside_root(const char *real, const char *root)
{
	size_t	n = strlen(root);

	if (strcmp(root, "/") == 0)
		return 1;
	return strncmp(real, root, n) == 0 &&
	    (real[n] == '/' || real[n] == '\0');
}

/* Resolve \i (relative to the include root) or \ir (to 'file's folder). */
static char *
include_path(struct script_acc *a, const char *file, const char *arg, int rel)
{
	struct pgb_buf	 b;
	const char	*slash;

	pgb_buf_init(&b);
	if (arg[0] == '/') {
		pgb_buf_puts(&b, arg);
	} else if (rel) {
		if ((slash = strrchr(file, '/')) != NULL)
			pgb_buf_append(&b, file, (size_t)(slash - file + 1));
		pgb_buf_puts(&b, arg);
	} else {
		if (a->opts->include_root != NULL) {
			pgb_buf_puts(&b, a->opts->include_root);
			pgb_buf_puts(&b, "/");
		}
		pgb_buf_puts(&b, arg);
	}
	return pgb_buf_steal(&b, NULL);
}

/*
 * 1 (reported) when 'real' is a script of another migration of the
 * folder: included, it would run once in this migration and once as
 * its own (the "master file" that \i's every numbered file).
 */
static int
other_migration(struct script_acc *a, const char *file, unsigned line,
    const char *real)
{
	const struct pgb_scan	*s = a->opts->scan;
	const char		*hit = NULL;
	size_t			 i;

	if (a->depth > 0 && strcmp(a->stack[0], real) == 0)
		return 0;	/* itself: a cycle, reported as one */
	for (i = 0; s != NULL && hit == NULL && i < s->n; i++) {
		if (s->v[i].up_real != NULL &&
		    strcmp(s->v[i].up_real, real) == 0)
			hit = s->v[i].up;
		else if (s->v[i].down_real != NULL &&
		    strcmp(s->v[i].down_real, real) == 0)
			hit = s->v[i].down;
	}
	if (hit == NULL)
		return 0;
	acc_error(a, file, line, "includes '%s', another migration of the "
	    "folder: it would run twice, here and as itself", hit);
	return 1;
}

static void
do_include(struct script_acc *a, const char *file, unsigned line,
    const char *arg, int rel)
{
	struct stat	 st;
	char		*path, real[PATH_MAX];
	size_t		 i;

	path = include_path(a, file, arg, rel);
	if (realpath(path, real) == NULL) {
		acc_error(a, file, line, "cannot include '%s': %s", path,
		    strerror(errno));
		free(path);
		return;
	}
	if (a->root_errno != 0) {
		acc_error(a, file, line, "cannot include '%s': the include "
		    "root '%s' cannot be resolved: %s", path,
		    a->opts->include_root ? a->opts->include_root : ".",
		    strerror(a->root_errno));
		free(path);
		return;
	}
	/* A migration must not reach the rest of the build machine. */
	if (!inside_root(real, a->root)) {
		acc_error(a, file, line, "cannot include '%s': it resolves to "
		    "'%s', outside the include root '%s' (--include-root)",
		    path, real, a->root);
		free(path);
		return;
	}
	if (stat(real, &st) == -1 || !S_ISREG(st.st_mode)) {
		acc_error(a, file, line, "cannot include '%s': '%s' is not a "
		    "regular file", path, real);
		free(path);
		return;
	}
	if (other_migration(a, file, line, real)) {
		free(path);
		return;
	}
	for (i = 0; i < a->depth; i++) {
		if (strcmp(a->stack[i], real) == 0) {
			acc_error(a, file, line, "include cycle: '%s' is "
			    "already being read", path);
			free(path);
			return;
		}
	}
	if (a->depth == PGB_INCLUDE_DEPTH) {
		acc_error(a, file, line, "includes nest deeper than %u at '%s'",
		    PGB_INCLUDE_DEPTH, path);
		free(path);
		return;
	}
	/* Read what was checked; the manifest names it as written. */
	expand_file(a, real, path, 0);
	free(path);
}

/*
 * Handle one meta-command.  Returns 1 when it was an include (its line is
 * replaced by the included text), 0 when it stays in the text unexecuted.
 */
static int
do_meta(struct script_acc *a, const char *file, const char *text,
    const struct pgb_lex_meta *m)
{
	const char	*p = text + m->off;
	size_t		 w = meta_word(p, m->len);
	char		*arg, name[32];
	int		 rel;

	snprintf(name, sizeof(name), "%.*s", (int)(w < 20 ? w : 20), p + 1);
	if (m->mid_stmt) {
		acc_error(a, file, m->line, "psql meta-command '\\%s' inside "
		    "a statement is not supported", name);
		return 0;
	}
	if (strcmp(name, "set") == 0 || strcmp(name, "unset") == 0) {
		if (is_on_error_stop(p, m->len, w))
			return 0;	/* pgapply always stops at the first error */
		acc_error(a, file, m->line, "psql variable commands are not "
		    "supported: only '\\set ON_ERROR_STOP' is accepted");
		return 0;
	}
	rel = strcmp(name, "ir") == 0 || strcmp(name, "include_relative") == 0;
	if (!rel && strcmp(name, "i") != 0 && strcmp(name, "include") != 0) {
		acc_error(a, file, m->line, "psql meta-command '\\%s' is not "
		    "supported (only \\i, \\ir and \\set ON_ERROR_STOP)", name);
		return 0;
	}
	if ((arg = meta_arg(p, m->len, w)) == NULL) {
		acc_error(a, file, m->line, "'\\%s' needs a file name", name);
		return 0;
	}
	do_include(a, file, m->line, arg, rel);
	free(arg);
	return 1;
}

/*
 * Append 'path' to the script: its text, with each \i line replaced by
 * the included file's own expansion (psql runs an included file as a
 * script of its own, so statements never span files).
 */
static void
expand_file(struct script_acc *a, const char *path, const char *display,
    int top)
{
	struct pgb_lex	 lx;
	struct pgb_diag	 d;
	char		*text, why[256], real[PATH_MAX];
	size_t		 len, cursor = 0, si = 0, mi, shift;
	unsigned	 errline = 0, line0 = 0;
	const char	*src = top ? NULL : display;

	if (read_file(path, &text, &len, why, sizeof(why)) == -1) {
		acc_error(a, display, 0, "%s", why);
		a->broken |= top;
		return;
	}
	if (top && a->sec != NULL && a->sec->text != NULL) {
		/* Built from the file (Liquibase's rollback lines). */
		free(text);
		text = pgb_xmalloc(a->sec->len + 1);
		memcpy(text, a->sec->text, a->sec->len);
		len = a->sec->len;
		text[len] = '\0';
		line0 = a->sec->line0;
	} else if (top && a->sec != NULL) {
		/* A section: its text alone, lines as in the file. */
		memmove(text, text + a->sec->off, a->sec->len);
		len = a->sec->len;
		text[len] = '\0';
		line0 = a->sec->line0;
	}
	if (refuse_private_key(a, display, text, len, line0)) {
		a->broken |= top;
		free(text);
		return;
	}
	if (pgb_lex_check_text(text, len, &errline, &d) == -1) {
		acc_error(a, display, errline + line0, "%s", d.msg);
		a->broken |= top;
		free(text);
		return;
	}
	if (pgb_lex_split(text, len, &lx, &errline, &d) == -1) {
		acc_error(a, display, errline + line0, "%s", d.msg);
		a->broken |= top;
		pgb_lex_release(&lx);
		free(text);
		return;
	}
	if (pgb_sections_foreign(a->opts->layout, top, text, len, &lx,
	    &errline, why, sizeof(why)) == -1)
		acc_error(a, display, errline + line0, "%s", why);
	for (mi = 0; line0 > 0 && mi < lx.nstmts; mi++)
		lx.stmts[mi].line += line0;
	for (mi = 0; line0 > 0 && mi < lx.nmetas; mi++)
		lx.metas[mi].line += line0;
	check_vars(a, display, text, &lx, line0);
	check_std(a, display, &lx);
	a->stack[a->depth++] = pgb_xstrdup(realpath(path, real) ? real : path);
	for (mi = 0; mi < lx.nmetas; mi++) {
		const struct pgb_lex_meta *m = &lx.metas[mi];
		size_t base = a->text.len;

		/* Text up to the backslash, and the statements in it. */
		pgb_buf_append(&a->text, text + cursor, m->off - cursor);
		shift = base - cursor;
		for (; si < m->before && si < lx.nstmts; si++)
			add_stmt(a, &lx.stmts[si], shift, src);
		if (do_meta(a, display, text, m)) {
			if (a->text.len > 0 && a->text.data[a->text.len - 1] != '\n')
				pgb_buf_puts(&a->text, "\n");
			cursor = m->line_end;
		} else
			cursor = m->off;
	}
	shift = a->text.len - cursor;
	pgb_buf_append(&a->text, text + cursor, len - cursor);
	for (; si < lx.nstmts; si++)
		add_stmt(a, &lx.stmts[si], shift, src);
	free(a->stack[--a->depth]);
	pgb_lex_release(&lx);
	free(text);
}

/* Directives of a migration's own file. */
struct directives {
	int	 notx;
	char	**allow;
	size_t	 nallow;
	char	**verify;
	unsigned *verify_line;	/* the line of each "-- verify:" */
	size_t	 nverify;
	unsigned baseline;	/* line of "pgbundle:baseline-of", or 0 */
	long long bfirst, blast;
	struct pgb_replaced *rep;	/* "pgbundle:replaces" lines */
	size_t	 nrep;
	unsigned repline;	/* line of the first one */
};

static void
directives_release(struct directives *dv)
{
	size_t	i;

	for (i = 0; i < dv->nallow; i++)
		free(dv->allow[i]);
	free(dv->allow);
	for (i = 0; i < dv->nverify; i++)
		free(dv->verify[i]);
	free(dv->verify);
	free(dv->verify_line);
	for (i = 0; i < dv->nrep; i++)
		free(dv->rep[i].name);
	free(dv->rep);
	memset(dv, 0, sizeof(*dv));
}

/* A version: 1 to PGB_VERSION_DIGITS_MAX digits; the rest in *end. */
static int
parse_version(const char *s, long long *v, const char **end)
{
	size_t	i;

	*v = 0;
	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (i == PGB_VERSION_DIGITS_MAX)
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	*end = s + i;
	return i == 0 ? -1 : 0;
}

/* "pgbundle:baseline-of FIRST..LAST" (pgbundle squash writes it). */
static void
add_baseline(struct directives *dv, const char *arg, const char *file,
    unsigned line, struct script_acc *a)
{
	const char	*p;

	arg += strspn(arg, " \t");
	if (dv->baseline) {
		acc_error(a, file, line, "'pgbundle:baseline-of' given twice "
		    "(first on line %u)", dv->baseline);
		return;
	}
	if (parse_version(arg, &dv->bfirst, &p) == -1 ||
	    strncmp(p, "..", 2) != 0 ||
	    parse_version(p + 2, &dv->blast, &p) == -1 || *p != '\0') {
		acc_error(a, file, line, "'pgbundle:baseline-of' takes "
		    "FIRST..LAST (two versions)");
		return;
	}
	dv->baseline = line;
}

/* "pgbundle:replaces VERSION SHA256 [NAME]": one migration replaced. */
static void
add_replaces(struct directives *dv, const char *arg, const char *file,
    unsigned line, struct script_acc *a)
{
	struct pgb_replaced	 rp;
	const char		*p, *q;
	char			 hex[PGB_HEX256_LEN + 1];
	size_t			 n;

	memset(&rp, 0, sizeof(rp));
	arg += strspn(arg, " \t");
	if (parse_version(arg, &rp.version, &p) == -1 ||
	    (*p != ' ' && *p != '\t'))
		goto bad;
	p += strspn(p, " \t");
	if ((n = strcspn(p, " \t")) != PGB_HEX256_LEN)
		goto bad;
	memcpy(hex, p, n);
	hex[n] = '\0';
	if (pgb_unhex(hex, PGB_SHA256_LEN, rp.sha256) == -1)
		goto bad;
	p += n + strspn(p + n, " \t");
	q = p + strcspn(p, " \t");
	if (*q != '\0' || (size_t)(q - p) > PGB_NAME_MAX)
		goto bad;
	for (q = p; *q != '\0'; q++) {
		if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
			goto bad;
	}
	if (dv->nrep > 0 && rp.version <= dv->rep[dv->nrep - 1].version) {
		acc_error(a, file, line, "replaced version %lld does not follow "
		    "%lld (versions must ascend)", rp.version,
		    dv->rep[dv->nrep - 1].version);
		return;
	}
	if (dv->nrep == PGB_MIGRATIONS_MAX) {
		acc_error(a, file, line, "more than %u replaced migrations",
		    PGB_MIGRATIONS_MAX);
		return;
	}
	rp.name = pgb_xstrdup(p);
	dv->rep = pgb_xreallocarray(dv->rep, dv->nrep + 1, sizeof(*dv->rep));
	dv->rep[dv->nrep++] = rp;
	if (dv->repline == 0)
		dv->repline = line;
	return;
bad:
	acc_error(a, file, line, "'pgbundle:replaces' takes a version, the "
	    "sha256 of its up script (64 lowercase hex digits) and its name");
}

static int
allowed(const struct directives *dv, const char *rule)
{
	size_t	i;

	for (i = 0; i < dv->nallow; i++)
		if (strcmp(dv->allow[i], rule) == 0)
			return 1;
	return 0;
}

static const char *const known_rules[] = {
	"drop-table", "drop-column", "index-locks", "not-null-no-default",
	"alter-type", "no-down", "not-idempotent", "empty-up", "empty-down",
	NULL
};

static void
add_allow(struct directives *dv, const char *list, const char *file,
    unsigned line, struct script_acc *a)
{
	const char	*p = list;
	size_t		 n, i;
	char		*rule;

	while (*p != '\0') {
		p += strspn(p, " \t,");
		if ((n = strcspn(p, " \t,")) == 0)
			break;
		rule = pgb_xstrndup(p, n);
		for (i = 0; known_rules[i] != NULL; i++)
			if (strcmp(known_rules[i], rule) == 0)
				break;
		if (known_rules[i] == NULL) {
			acc_error(a, file, line, "unknown lint rule '%s' in "
			    "'pgbundle:allow'", rule);
			free(rule);
		} else {
			dv->allow = pgb_xreallocarray(dv->allow, dv->nallow + 1,
			    sizeof(*dv->allow));
			dv->allow[dv->nallow++] = rule;
		}
		p += n;
	}
}

/*
 * A directive pgbundle does not read as written: "-- Verify:" and the
 * like ('near', text as written), or an unknown "pgbundle:" word.
 */
static void
misspelled(struct script_acc *a, const char *file, unsigned line,
    const char *text, int near)
{
	char	want[PGB_LINE_MAX];
	int	known;

	known = pgb_directive_expect(text, want, sizeof(want));
	acc_error(a, file, line, "%s directive '%s%.80s': %s%s%s",
	    near ? "misspelled" : "unknown", near ? "" : "-- ", text,
	    known ? "write '" : "pgbundle reads ", want, known ? "'" : "");
}

/*
 * A verify query runs inside the migration's transaction, before its
 * history row: it must be one statement, and not transaction control,
 * which would commit the migration without its row (or end it).  0, or
 * -1 after reporting why at 'line'.
 */
static int
check_verify(struct script_acc *a, const char *file, unsigned line,
    const char *q)
{
	struct pgb_lex	 lx;
	struct pgb_diag	 d;
	struct pgb_class c;
	unsigned	 errline;
	int		 rc = -1;

	if (pgb_lex_split(q, strlen(q), &lx, &errline, &d) == -1)
		acc_error(a, file, line, "verify query: %s", d.msg);
	else if (lx.nmetas > 0)
		acc_error(a, file, line, "verify query holds a psql "
		    "meta-command");
	else if (lx.nstmts != 1)
		acc_error(a, file, line, "verify query must be one statement, "
		    "not %zu", lx.nstmts);
	else if (pgb_classify(q + lx.stmts[0].off, lx.stmts[0].len, &c) == 0 &&
	    c.txctl != PGB_TXCTL_NONE)
		acc_error(a, file, line, "transaction control not allowed in a "
		    "verify query: it runs inside the migration's transaction");
	else
		rc = 0;
	pgb_lex_release(&lx);
	return rc;
}

static void
read_directives(struct script_acc *a, const char *file, const char *text,
    size_t len, int is_down, struct directives *dv)
{
	struct pgb_lex	 lx;
	struct pgb_diag	 d;
	unsigned	 errline;
	size_t		 i;
	const char	*t, *q;

	memset(dv, 0, sizeof(*dv));
	if (pgb_lex_split(text, len, &lx, &errline, &d) == -1) {
		pgb_lex_release(&lx);
		return;		/* already reported by expand_file */
	}
	for (i = 0; a->sec != NULL && i < lx.ndirs; i++)
		lx.dirs[i].line += a->sec->line0;
	for (i = 0; i < lx.ndirs; i++) {
		t = lx.dirs[i].text;
		if (lx.dirs[i].near)
			misspelled(a, file, lx.dirs[i].line, t, 1);
		else if (strncmp(t, "verify:", 7) == 0) {
			q = t + 7 + strspn(t + 7, " \t");
			if (is_down)
				acc_error(a, file, lx.dirs[i].line, "verify "
				    "queries belong in the up script");
			else if (*q == '\0')
				acc_error(a, file, lx.dirs[i].line, "empty "
				    "verify query");
			else if (dv->nverify == PGB_VERIFY_MAX)
				acc_error(a, file, lx.dirs[i].line, "more than "
				    "%u verify queries", PGB_VERIFY_MAX);
			else if (strlen(q) > PGB_LINE_MAX - 16)
				acc_error(a, file, lx.dirs[i].line, "verify "
				    "query is too long");
			else if (check_verify(a, file, lx.dirs[i].line, q) == 0) {
				dv->verify = pgb_xreallocarray(dv->verify,
				    dv->nverify + 1, sizeof(*dv->verify));
				dv->verify_line = pgb_xreallocarray(
				    dv->verify_line, dv->nverify + 1,
				    sizeof(*dv->verify_line));
				dv->verify_line[dv->nverify] = lx.dirs[i].line;
				dv->verify[dv->nverify++] = pgb_xstrdup(q);
			}
		} else if (strncmp(t, "pgbundle:", 9) == 0) {
			t += 9;
			if (strcmp(t, "no-transaction") == 0)
				dv->notx = 1;
			else if (strncmp(t, "allow", 5) == 0 &&
			    (t[5] == ' ' || t[5] == '\t'))
				add_allow(dv, t + 6, file, lx.dirs[i].line, a);
			else if (strncmp(t, "baseline-of", 11) == 0 &&
			    (t[11] == ' ' || t[11] == '\t') && !is_down)
				add_baseline(dv, t + 12, file,
				    lx.dirs[i].line, a);
			else if (strncmp(t, "replaces", 8) == 0 &&
			    (t[8] == ' ' || t[8] == '\t') && !is_down)
				add_replaces(dv, t + 9, file,
				    lx.dirs[i].line, a);
			else
				misspelled(a, file, lx.dirs[i].line, t - 9, 0);
		}
	}
	pgb_lex_release(&lx);
}

static void
warn(struct script_acc *a, const struct directives *dv, const char *file,
    unsigned line, const char *rule, const char *msg)
{
	if (allowed(dv, rule))
		return;
	pgb_report_add(a->r, PGB_SEV_WARNING, file, line, rule, "%s", msg);
}

static int
table_seen(const struct pgb_tableset *ts, const char *t)
{
	size_t		 i;
	const char	*bare;

	bare = strncmp(t, "public.", 7) == 0 ? t + 7 : t;
	for (i = 0; i < ts->n; i++) {
		const char *s = ts->v[i];
		if (strncmp(s, "public.", 7) == 0)
			s += 7;
		if (strcmp(s, bare) == 0)
			return 1;
	}
	return 0;
}

static void
tableset_add(struct pgb_tableset *ts, const char *t)
{
	if (table_seen(ts, t))
		return;
	ts->v = pgb_xreallocarray(ts->v, ts->n + 1, sizeof(*ts->v));
	ts->v[ts->n++] = pgb_xstrdup(t);
}

void
pgb_tableset_release(struct pgb_tableset *ts)
{
	size_t	i;

	for (i = 0; i < ts->n; i++)
		free(ts->v[i]);
	free(ts->v);
	ts->v = NULL;
	ts->n = 0;
}

static void
drop_stmt(struct script_acc *a, size_t i)
{
	free(a->stmts[i].src);
	free(a->stmts[i].index);
	memmove(&a->stmts[i], &a->stmts[i + 1],
	    (a->nstmts - i - 1) * sizeof(*a->stmts));
	a->nstmts--;
}

/* The file a statement came from, for messages. */
static const char *
stmt_file(const struct pgb_stmt *s, const char *file)
{
	return s->src ? s->src : file;
}

/* 1 when statement 'i' is a bare ROLLBACK (or ABORT). */
static int
is_rollback(const struct script_acc *a, size_t i)
{
	const char		*t = a->text.data + a->stmts[i].off;
	struct pgb_lex_token	 tok;
	struct pgb_diag		 d;
	size_t			 pos = 0, n = a->stmts[i].len;

	if (pgb_lex_token(t, n, &pos, &tok, &d) == -1 ||
	    tok.kind != PGB_TOK_IDENT ||
	    !(pgb_lex_kw_eq(t + tok.off, tok.len, "rollback") ||
	    pgb_lex_kw_eq(t + tok.off, tok.len, "abort")))
		return 0;
	if (pgb_lex_token(t, n, &pos, &tok, &d) == -1)
		return 0;
	return tok.kind == PGB_TOK_EOF || (tok.kind == PGB_TOK_CHAR &&
	    t[tok.off] == ';');
}

/*
 * A file that wraps itself in BEGIN; ... COMMIT; loses the wrapper: the
 * statements from 'from' on are that file's.  'rollback': BEGIN; ...
 * ROLLBACK; too, as Sqitch's verify scripts end.
 */
static void
drop_wrapper(struct script_acc *a, const char *file, size_t from, int notx,
    int rollback)
{
	struct pgb_class	c, last;
	const char		*f;
	int			 commit;

	if (a->nstmts < from + 2)
		return;
	f = stmt_file(&a->stmts[from], file);
	pgb_classify(a->text.data + a->stmts[from].off, a->stmts[from].len,
	    &c);
	pgb_classify(a->text.data + a->stmts[a->nstmts - 1].off,
	    a->stmts[a->nstmts - 1].len, &last);
	commit = last.txctl == PGB_TXCTL_COMMIT;
	if (c.txctl != PGB_TXCTL_BEGIN || !(commit || (rollback &&
	    is_rollback(a, a->nstmts - 1))))
		return;
	if (notx)
		acc_error(a, f, a->stmts[from].line, "a no-transaction "
		    "migration cannot wrap itself in BEGIN ... COMMIT");
	pgb_report_add(a->r, PGB_SEV_NOTE, f, a->stmts[from].line, NULL,
	    "BEGIN ... %s wrapper dropped: pgapply runs each migration in "
	    "its own transaction", commit ? "COMMIT" : "ROLLBACK");
	drop_stmt(a, a->nstmts - 1);
	drop_stmt(a, from);
}

/*
 * Sqitch: the verify script runs after the deploy script, in the
 * migration's transaction, and fails it by raising an error.  Both lose
 * their wrappers first.
 */
static void
append_verify(struct script_acc *a, const struct pgb_srcmig *sm,
    const char *path, int notx)
{
	size_t	from;

	drop_wrapper(a, path, 0, notx, 0);
	from = a->nstmts;
	expand_file(a, sm->verify, sm->verify, 0);
	drop_wrapper(a, sm->verify, from, notx, 1);
}

/*
 * Decide the mode and check every statement against it; lint.  'created'
 * collects tables this script creates.
 */
static void
check_statements(struct script_acc *a, const char *file, int is_down,
    const struct directives *dv, const struct pgb_tableset *seen,
    struct pgb_tableset *created)
{
	struct pgb_class c;
	size_t		 i;
	char		 msg[PGB_NAME_MAX + 128];

	drop_wrapper(a, file, 0, dv->notx, 0);
	/*
	 * Only comments: psql runs it as a no-op, and so does pgapply (a
	 * migration of zero statements is recorded like any other).
	 */
	if (a->nstmts == 0) {
		/* A file that could not be split is reported already. */
		if (a->errors > 0)
			return;
		a->idempotent = 1;
		i = a->sec != NULL ? a->sec->line0 + 1 : 0;	/* the marker */
		if (is_down)
			warn(a, dv, file, (unsigned)i, "empty-down", "down script has no "
			    "statements: rolling back this migration changes "
			    "nothing");
		else
			warn(a, dv, file, (unsigned)i, "empty-up", "migration has no "
			    "statements: applying it changes nothing");
		return;
	}
	a->idempotent = 1;
	a->keeps_session = 1;
	for (i = 0; i < a->nstmts; i++) {
		struct pgb_stmt *s = &a->stmts[i];
		const char *f = stmt_file(s, file);

		pgb_classify(a->text.data + s->off, s->len, &c);
		if (!c.idempotent)
			a->idempotent = 0;
		if (c.session != NULL)
			a->keeps_session = 0;
		if (c.txctl != PGB_TXCTL_NONE) {
			acc_error(a, f, s->line, "transaction control statement "
			    "not allowed: pgapply runs each migration in its own "
			    "transaction");
			continue;
		}
		if (c.copy_out != NULL)
			acc_error(a, f, s->line, "%s writes to the client, "
			    "which a migration cannot use", c.copy_out);
		if (c.notx != NULL && !dv->notx) {
			snprintf(msg, sizeof(msg), "%s cannot run inside a "
			    "transaction block: mark the migration "
			    "'-- pgbundle:no-transaction'", c.notx);
			acc_error(a, f, s->line, "%s", msg);
		}
		if (dv->notx && !c.idempotent)
			warn(a, dv, f, s->line, "not-idempotent", "statement in "
			    "a no-transaction migration is not idempotent (add "
			    "IF NOT EXISTS / IF EXISTS): a retry may repeat it");
		if (c.index[0] != '\0' && c.notx != NULL)
			s->index = pgb_xstrdup(c.index);
		/* Down scripts drop what their up created: that is their job. */
		if (is_down)
			c.lint &= ~(unsigned)(PGB_LINT_DROP_TABLE | PGB_LINT_DROP_COLUMN);
		if (c.lint & PGB_LINT_DROP_TABLE)
			warn(a, dv, f, s->line, "drop-table", "DROP TABLE loses "
			    "data");
		if (c.lint & PGB_LINT_DROP_COLUMN)
			warn(a, dv, f, s->line, "drop-column", "DROP COLUMN "
			    "loses data");
		if ((c.lint & PGB_LINT_INDEX_LOCKS) && table_seen(seen, c.table)) {
			snprintf(msg, sizeof(msg), "CREATE INDEX without "
			    "CONCURRENTLY blocks writes to '%s', which an earlier "
			    "migration created", c.table);
			warn(a, dv, f, s->line, "index-locks", msg);
		}
		if (c.lint & PGB_LINT_NOT_NULL)
			warn(a, dv, f, s->line, "not-null-no-default", "ADD "
			    "COLUMN ... NOT NULL without DEFAULT fails on a "
			    "table that has rows");
		if (c.lint & PGB_LINT_ALTER_TYPE)
			warn(a, dv, f, s->line, "alter-type", "ALTER COLUMN ... "
			    "TYPE may rewrite the table under an exclusive lock");
		if (c.creates_table && c.table[0] != '\0')
			tableset_add(created, c.table);
	}
}

/*
 * Compile the up or down script of 'sm' into 'sc' and 'text'.  'sec' is
 * the part of the file that holds it (dbmate), or NULL for all of it.
 */
static void
compile_script(const struct pgb_srcmig *sm, int is_down,
    const struct pgb_section *sec, const struct pgb_source_opts *o,
    const struct pgb_tableset *seen, struct pgb_tableset *created,
    struct pgb_script *sc, struct directives *dv, struct pgb_buf *text,
    struct pgb_report *r, size_t *errors)
{
	struct script_acc	a;
	struct pgb_buf		name;
	char			*own;
	size_t			 ownlen;
	char			 why[256];
	const char		*path, *base, *own_base;
	size_t			 i;

	path = is_down && !sm->sections ? sm->down : sm->up;
	base = is_down ? sm->down_base : sm->up_base;
	memset(&a, 0, sizeof(a));
	pgb_buf_init(&a.text);
	a.opts = o;
	a.r = r;
	a.sec = sec;
	if (realpath(o->include_root ? o->include_root : ".", a.root) == NULL)
		a.root_errno = errno;
	expand_file(&a, path, path, 1);
	if (!is_down && sm->verify != NULL && a.errors == 0)
		append_verify(&a, sm, path, sm->notx);
	memset(dv, 0, sizeof(*dv));
	/* Every problem in one run: other errors do not stop these checks. */
	if (!a.broken && read_file(path, &own, &ownlen, why,
	    sizeof(why)) == 0) {
		if (sec != NULL)
			read_directives(&a, path, sec->text != NULL ?
			    sec->text : own + sec->off, sec->len, is_down, dv);
		else
			read_directives(&a, path, own, ownlen, is_down, dv);
		free(own);
	}
	if (sm->notx || (sec != NULL && sec->notx))
		dv->notx = 1;
	if (a.text.len > PGB_SQL_MAX) {
		acc_error(&a, path, 0, "script with its includes is %zu bytes, "
		    "over the limit of %u", a.text.len, PGB_SQL_MAX);
		a.broken = 1;
	}
	if (!a.broken)
		check_statements(&a, path, is_down, dv, seen, created);
	/*
	 * Shipped under another name (a dbmate section, a Diesel up.sql):
	 * the statements name the file their lines count in.
	 */
	own_base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	for (i = 0; strcmp(own_base, base) != 0 && i < a.nstmts; i++)
		if (a.stmts[i].src == NULL)
			a.stmts[i].src = pgb_xstrdup(path);

	memset(sc, 0, sizeof(*sc));
	pgb_buf_init(&name);
	pgb_buf_printf(&name, "migrations/%s", base);
	sc->path = pgb_buf_steal(&name, NULL);
	sc->mode = dv->notx ? PGB_MODE_NOTX : PGB_MODE_TX;
	sc->idempotent = a.idempotent;
	/* Outside a transaction the runtime resets anyway: no mark. */
	sc->keeps_session = a.keeps_session && !dv->notx;
	sc->stmts = a.stmts;
	sc->nstmts = a.nstmts;
	sc->size = a.text.len;
	pgb_sha256(a.text.data ? a.text.data : "", a.text.len, sc->sha256);
	pgb_buf_release(text);
	*text = a.text;
	*errors += a.errors;
}

/*
 * Move a baseline's directives into 'out' once they agree with each
 * other and with the migration.  Returns the number of errors reported.
 */
static size_t
set_baseline(const struct pgb_srcmig *sm, struct directives *dv,
    struct pgb_migration *out, struct pgb_report *r)
{
	const char	*why = NULL;

	if (dv->baseline == 0) {
		pgb_report_add(r, PGB_SEV_ERROR, sm->up, dv->repline, NULL,
		    "'pgbundle:replaces' without 'pgbundle:baseline-of'");
		return 1;
	}
	if (dv->blast != sm->version)
		why = "must end at this migration's own version";
	else if (dv->bfirst > dv->blast)
		why = "is an empty range";
	else if (out->up.mode != PGB_MODE_TX)
		why = "cannot be a no-transaction migration";
	else if (sm->down != NULL)
		why = "cannot have a down script (rolling back stops at it)";
	else if (dv->nrep == 0)
		why = "needs one '-- pgbundle:replaces VERSION SHA256 NAME' "
		    "line per migration it replaces (pgbundle squash writes "
		    "them)";
	else if (dv->rep[0].version != dv->bfirst ||
	    dv->rep[dv->nrep - 1].version != dv->blast)
		why = "needs 'pgbundle:replaces' lines that start at FIRST "
		    "and end at LAST";
	if (why != NULL) {
		pgb_report_add(r, PGB_SEV_ERROR, sm->up, dv->baseline, NULL,
		    "baseline-of %lld..%lld %s (%lld)", dv->bfirst, dv->blast,
		    why, sm->version);
		return 1;
	}
	out->baseline = 1;
	out->baseline_first = dv->bfirst;
	out->replaces = dv->rep;
	out->nreplaces = dv->nrep;
	dv->rep = NULL;
	dv->nrep = 0;
	return 0;
}

/*
 * Liquibase: changeset sm->part of the file; sec[1].text, its rollback,
 * is the caller's to free.
 */
static int
changeset(const struct pgb_srcmig *sm, const char *text, size_t len,
    struct pgb_section sec[2], unsigned *line, char *why, size_t whylen)
{
	struct pgb_changeset	*v;
	size_t			 n;

	if (pgb_liquibase_parse(text, len, &v, &n, line, why, whylen) == -1)
		return -1;
	if (sm->part == 0 || sm->part > n) {
		pgb_liquibase_free(v, n);
		*line = 0;
		snprintf(why, whylen, "the file changed while it was read");
		return -1;
	}
	sec[0] = v[sm->part - 1].up;
	sec[1] = v[sm->part - 1].down;
	v[sm->part - 1].down.text = NULL;
	pgb_liquibase_free(v, n);
	return 0;
}

/*
 * The up and down sections of a dbmate, goose, sql-migrate or Liquibase
 * file into sec[0] and sec[1] (free sec[1].text).  0, or -1 once the
 * problem is reported.
 */
static int
find_sections(const struct pgb_srcmig *sm, enum pgb_layout layout,
    struct pgb_section sec[2], struct pgb_report *r)
{
	char		*text, why[256];
	size_t		 len;
	unsigned	 line = 0;
	int		 rc;

	if (read_file(sm->up, &text, &len, why, sizeof(why)) == -1) {
		pgb_report_add(r, PGB_SEV_ERROR, sm->up, 0, NULL, "%s", why);
		return -1;
	}
	if (layout == PGB_LAYOUT_LIQUIBASE)
		rc = changeset(sm, text, len, sec, &line, why, sizeof(why));
	else
		rc = pgb_sections_find(layout, text, len, &sec[0], &sec[1],
		    &line, why, sizeof(why));
	if (rc == -1)
		pgb_report_add(r, PGB_SEV_ERROR, sm->up, line, NULL, "%s", why);
	free(text);
	return rc;
}

size_t
pgb_source_compile(const struct pgb_srcmig *sm,
    const struct pgb_source_opts *o, struct pgb_tableset *seen,
    struct pgb_migration *out, struct pgb_buf *uptext,
    struct pgb_buf *downtext, struct pgb_report *r)
{
	struct pgb_tableset	created = { NULL, 0 };
	struct directives	dv, ddv;
	struct pgb_section	sec[2], *upsec = NULL, *downsec = NULL;
	size_t			errors = 0, i;

	memset(out, 0, sizeof(*out));
	out->version = sm->version;
	out->name = pgb_xstrdup(sm->name);
	if (sm->sections) {
		if (find_sections(sm, o->layout, sec, r) == -1)
			return 1;
		upsec = &sec[0];
		/* An empty down section is a no-down-op, as dbmate runs it. */
		if (sec[1].present)
			downsec = &sec[1];
	}
	compile_script(sm, 0, upsec, o, seen, &created, &out->up,
	    &dv, uptext, r, &errors);
	out->verify = dv.verify;
	out->verify_line = dv.verify_line;
	out->nverify = dv.nverify;
	dv.verify = NULL;
	dv.verify_line = NULL;
	dv.nverify = 0;
	if (errors == 0 && (dv.baseline || dv.nrep > 0))
		errors += set_baseline(sm, &dv, out, r);
	if (sm->down != NULL || downsec != NULL) {
		struct pgb_tableset ignored = { NULL, 0 };

		out->has_down = 1;
		compile_script(sm, 1, downsec, o, seen, &ignored,
		    &out->down, &ddv, downtext, r, &errors);
		pgb_tableset_release(&ignored);
		directives_release(&ddv);
	} else if (!allowed(&dv, "no-down"))
		pgb_report_add(r, PGB_SEV_WARNING, sm->up, 0, "no-down",
		    "migration has no down script");
	directives_release(&dv);
	if (upsec != NULL)
		free(sec[1].text);
	for (i = 0; i < created.n; i++)
		tableset_add(seen, created.v[i]);
	pgb_tableset_release(&created);
	return errors;
}
