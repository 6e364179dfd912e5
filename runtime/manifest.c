/*
 * manifest.c - parse and write the MANIFEST of a bundle (docs/FORMAT.md).
 *
 * Trusts: nothing.  The runtime reaches the parser only after the bundle's
 * signature checked, but the text is parsed as if it were hostile anyway.
 * Rejects: lines over PGB_LINE_MAX, control characters, any key out of
 * place or unknown, numbers with signs, leading zeros or overflow, hex of
 * the wrong length or case, versions not strictly ascending, statement and
 * COPY ranges outside their script, counts over bounds.h, unsafe or
 * repeated paths, a chain that does not follow from the scripts, and a
 * bundle-id that is not the hash of the other lines.  Each kind of
 * mistake has its own message, "manifest line N: <what>".
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "bounds.h"
#include "buf.h"
#include "diag.h"
#include "hash.h"
#include "manifest.h"
#include "banned.h"

#if PGB_LINE_MAX > 65536
#error "PGB_LINE_MAX sizes a stack buffer in manifest.c"
#endif

/*
 * Fields on one line: "stmt" with all three options has 7.  Private to
 * the parser's representation of a line, not a cap on the input (a line
 * with more fields is refused for its key).
 */
#define MAXFIELDS	8

/* What reading a line found: next_line() and parse_header() return it. */
enum line {
	LINE_FAIL = -1,		/* the diag says why */
	LINE_EOF = 0,		/* the end of the text */
	LINE_READ = 1		/* a line, split into p->f */
};

/*
 * The options of a "stmt" line come in this order, each at most once:
 * the last one read.
 */
enum stmt_opt {
	OPT_NONE = 0,
	OPT_COPY,		/* copy=OFFSET:LENGTH */
	OPT_INDEX,		/* index=NAME */
	OPT_SRC			/* src=FILE */
};

/* Header keys, in the order pgb_manifest_write emits them. */
enum hdr {
	H_PROJECT, H_TARGET, H_CREATED, H_COMPILER, H_HASH, H_KEYID,
	H_BUNDLEID, H_COUNT
};
static const char *const hdr_names[H_COUNT] = {
	"project", "target", "created", "compiler", "hash", "key-id",
	"bundle-id"
};

struct pathref {
	const char	*path;
	unsigned	 line;
};

struct parser {
	const char	*text;
	size_t		 len;
	size_t		 pos;		/* start of the next line */
	unsigned	 lineno;	/* of the current line */
	size_t		 line_off;	/* where the current line starts */
	char		 line[PGB_LINE_MAX + 1];
	size_t		 linelen;
	char		*f[MAXFIELDS];	/* fields of the current line */
	size_t		 nf;
	struct pathref	*refs;		/* every script path, with its line */
	size_t		 nrefs;
	struct pgb_diag	*d;
};

static int	 perr(struct parser *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	 maybe_control(const char *);
static enum line next_line(struct parser *);
static int	 split(struct parser *);
static int	 is_token(const char *, size_t);
static int	 parse_num(struct parser *, const char *, const char *,
		    unsigned long long, unsigned long long *);
static int	 parse_size(struct parser *, const char *, const char *,
		    size_t, size_t *);
static int	 parse_hex(struct parser *, const char *, const char *,
		    unsigned char *, size_t);
static int	 parse_mode(struct parser *, const char *, enum pgb_mode *);
static int	 parse_mode_flags(struct parser *, size_t, size_t,
		    struct pgb_script *);
static int	 parse_path(struct parser *, const char *, char **);
static int	 pct_decode(struct parser *, const char *, const char *,
		    char **);
static int	 hexdigit(char);
static int	 is_plain(unsigned char);
static int	 parse_copy_opt(struct parser *, const char *,
		    const struct pgb_script *, struct pgb_stmt *);
static int	 parse_stmt_opts(struct parser *, const struct pgb_script *,
		    struct pgb_stmt *);
static int	 parse_stmt(struct parser *, struct pgb_script *);
static int	 parse_baseline(struct parser *, const struct pgb_manifest *,
		    struct pgb_migration *);
static int	 parse_replaces(struct parser *, struct pgb_migration *);
static int	 header_value(struct parser *, enum hdr, struct pgb_manifest *,
		    size_t *, size_t *);
static int	 header_line(struct parser *, struct pgb_manifest *,
		    unsigned *, size_t *, size_t *);
static enum line parse_header(struct parser *, struct pgb_manifest *,
		    size_t *, size_t *);
static int	 next_in(struct parser *, const struct pgb_migration *);
static struct pgb_migration *new_migration(struct parser *,
		    struct pgb_manifest *);
static int	 parse_up(struct parser *, struct pgb_migration *,
		    const unsigned char *, unsigned char *);
static int	 parse_replaced(struct parser *, const struct pgb_manifest *,
		    struct pgb_migration *);
static int	 parse_verify(struct parser *, struct pgb_migration *);
static int	 parse_down(struct parser *, struct pgb_migration *);
static int	 parse_end(struct parser *);
static int	 parse_migration(struct parser *, struct pgb_manifest *,
		    const unsigned char *, unsigned char *);
static int	 expect(struct parser *, const char *, size_t);
static int	 check_paths(struct parser *);
static int	 cmp_pathref(const void *, const void *);
static int	 hash_without(const char *, size_t, size_t, size_t,
		    unsigned char *);
static void	 script_release(struct pgb_script *);
static void	 migration_release(struct pgb_migration *);
static void	 pct_encode(struct pgb_buf *, const char *);
static void	 write_stmts(struct pgb_buf *, const char *,
		    const struct pgb_script *);

/* A "manifest line N: ..." error for the current line. */
static int
perr(struct parser *p, const char *fmt, ...)
{
	char	what[200];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return pgb_fail(p->d, PGB_EBUNDLE, "manifest line %u: %s",
	    p->lineno, what);
}

/*
 * Whether one of the 8 bytes at 's' may be below 0x20 or 0x7f: a word at
 * a time (no false negative; a byte of 0xa0 and more may look like one).
 */
static int
maybe_control(const char *s)
{
	const uint64_t	ones = 0x0101010101010101ULL;
	const uint64_t	highs = 0x8080808080808080ULL;
	uint64_t	w, x;

	memcpy(&w, s, sizeof(w));
	x = w ^ (ones * 0x7f);
	return (((w - ones * 0x20) & ~w) | ((x - ones) & ~x)) & highs ? 1 : 0;
}

/*
 * Copy the next line into p->line and split it.  Tabs are the only
 * control character a line may hold.
 */
static enum line
next_line(struct parser *p)
{
	const char	*s, *nl;
	size_t		 avail, i;
	unsigned char	 c;

	if (p->pos == p->len)
		return LINE_EOF;
	p->lineno++;
	p->line_off = p->pos;
	s = p->text + p->pos;
	avail = p->len - p->pos;
	nl = memchr(s, '\n', avail > PGB_LINE_MAX ? PGB_LINE_MAX + 1 : avail);
	if (nl == NULL) {
		if (avail > PGB_LINE_MAX)
			perr(p, "line is longer than %u bytes", PGB_LINE_MAX);
		else
			perr(p, "no newline at the end of the manifest");
		return LINE_FAIL;
	}
	p->linelen = (size_t)(nl - s);
	for (i = 0; i < p->linelen; i++) {
		/* Eight bytes at a time while none can be a control byte. */
		if (i + 8 <= p->linelen && !maybe_control(s + i)) {
			i += 7;
			continue;
		}
		c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			perr(p, "control character 0x%02x at byte %zu", c,
			    i + 1);
			return LINE_FAIL;
		}
	}
	memcpy(p->line, s, p->linelen);
	p->line[p->linelen] = '\0';
	p->pos += p->linelen + 1;
	return split(p) == -1 ? LINE_FAIL : LINE_READ;
}

/*
 * Split p->line on single spaces into p->f, NUL-terminating each field.
 * "verify" and "compiler" take the rest of the line as one field.  More
 * than MAXFIELDS fields leave the tail in the last one, which no key
 * accepts.
 */
static int
split(struct parser *p)
{
	char	*s, *sp;

	p->nf = 0;
	s = p->line;
	if (*s == '\0')
		return perr(p, "empty line");
	for (;;) {
		if (*s == ' ' || *s == '\0')
			return perr(p, "empty field (two spaces, or a space "
			    "at the start or end of the line)");
		p->f[p->nf++] = s;
		if (p->nf == MAXFIELDS || (sp = strchr(s, ' ')) == NULL)
			return 0;
		*sp = '\0';
		s = sp + 1;
		if (p->nf == 1 && (strcmp(p->f[0], "verify") == 0 ||
		    strcmp(p->f[0], "compiler") == 0)) {
			if (*s == '\0')
				return perr(p, "'%s' takes a value", p->f[0]);
			p->f[p->nf++] = s;
			return 0;
		}
	}
}

/* 1..PGB_NAME_MAX printable ASCII bytes other than space. */
static int
is_token(const char *s, size_t n)
{
	size_t	i;

	if (n == 0 || n > PGB_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	}
	return 1;
}

/* Decimal digits only, no leading zero, at most 'max'. */
static int
parse_num(struct parser *p, const char *what, const char *s,
    unsigned long long max, unsigned long long *out)
{
	unsigned long long	 v;
	const char		*q;
	char			*end;

	for (q = s; *q; q++) {
		if (*q < '0' || *q > '9')
			return perr(p, "%s '%.40s' is not a number", what, s);
	}
	if (q == s)
		return perr(p, "%s is empty", what);
	if (s[0] == '0' && s[1] != '\0')
		return perr(p, "%s '%.40s' has a leading zero", what, s);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE || *end != '\0' || v > max)
		return perr(p, "%s %.40s is over the limit of %llu", what, s,
		    max);
	*out = v;
	return 0;
}

static int
parse_size(struct parser *p, const char *what, const char *s, size_t max,
    size_t *out)
{
	unsigned long long	v;

	if (parse_num(p, what, s, max, &v) == -1)
		return -1;
	*out = (size_t)v;
	return 0;
}

/* Exactly 2*n lowercase hex digits. */
static int
parse_hex(struct parser *p, const char *what, const char *s,
    unsigned char *out, size_t n)
{
	if (strlen(s) != 2 * n || pgb_unhex(s, n, out) == -1)
		return perr(p, "%s must be %zu lowercase hex digits", what,
		    2 * n);
	return 0;
}

/*
 * "MODE [keeps-session]" from field 'i' of a "mode" or "down" line, up
 * to field 'end': the script's mode and whether it keeps the session.
 */
static int
parse_mode_flags(struct parser *p, size_t i, size_t end,
    struct pgb_script *sc)
{
	if (parse_mode(p, p->f[i], &sc->mode) == -1)
		return -1;
	sc->keeps_session = 0;
	if (i + 1 == end)
		return 0;
	if (i + 2 != end || strcmp(p->f[i + 1], "keeps-session") != 0)
		return perr(p, "unknown flag '%.40s' after the mode (only "
		    "'keeps-session')", p->f[i + 1]);
	sc->keeps_session = 1;
	return 0;
}

static int
parse_mode(struct parser *p, const char *s, enum pgb_mode *out)
{
	if (strcmp(s, "transaction") == 0)
		*out = PGB_MODE_TX;
	else if (strcmp(s, "no-transaction") == 0)
		*out = PGB_MODE_NOTX;
	else
		return perr(p, "mode must be 'transaction' or "
		    "'no-transaction', not '%.40s'", s);
	return 0;
}

static int
parse_path(struct parser *p, const char *s, char **out)
{
	if (!pgb_manifest_path_ok(s, strlen(s)))
		return perr(p, "unsafe path '%.80s'", s);
	if (strcmp(s, PGB_MANIFEST_NAME) == 0)
		return perr(p, "a script cannot be named '%s'",
		    PGB_MANIFEST_NAME);
	*out = pgb_xstrdup(s);
	if (p->nrefs == 0 || (p->nrefs & (p->nrefs - 1)) == 0)
		p->refs = pgb_xreallocarray(p->refs,
		    p->nrefs ? p->nrefs * 2 : 1, sizeof(*p->refs));
	p->refs[p->nrefs].path = *out;
	p->refs[p->nrefs++].line = p->lineno;
	return 0;
}

static int
hexdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
is_plain(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == ':' ||
	    c == '/' || c == '-';
}

/*
 * Decode a percent-encoded option value.  Only the canonical encoding is
 * accepted (what pct_encode writes): plain bytes as themselves, others as
 * %XX with upper-case digits, never %00.
 */
static int
pct_decode(struct parser *p, const char *what, const char *s, char **out)
{
	char	*v;
	size_t	 i, n;
	int	 hi, lo, c;

	if (*s == '\0')
		return perr(p, "%s= is empty", what);
	v = pgb_xmalloc(strlen(s) + 1);
	for (i = n = 0; s[i] != '\0'; n++) {
		if (s[i] != '%') {
			if (!is_plain((unsigned char)s[i]))
				goto bad;
			v[n] = s[i++];
			continue;
		}
		if ((hi = hexdigit(s[i + 1])) < 0 ||
		    (lo = hexdigit(s[i + 2])) < 0)
			goto bad;
		c = hi << 4 | lo;
		if (c == 0 || is_plain((unsigned char)c))
			goto bad;
		v[n] = (char)c;
		i += 3;
	}
	v[n] = '\0';
	*out = v;
	return 0;
bad:
	free(v);
	return perr(p, "bad percent-encoding in %s=", what);
}

/* The option "copy=OFFSET:LENGTH" of statement 'st' of script 'sc'. */
static int
parse_copy_opt(struct parser *p, const char *opt,
    const struct pgb_script *sc, struct pgb_stmt *st)
{
	const char	*colon;
	char		 num[24];	/* digits of a size_t, and more */
	size_t		 n;

	colon = strchr(opt + 5, ':');
	n = colon ? (size_t)(colon - (opt + 5)) : 0;
	if (colon == NULL || n >= sizeof(num))
		return perr(p, "copy= must be OFFSET:LENGTH");
	memcpy(num, opt + 5, n);
	num[n] = '\0';
	if (parse_size(p, "copy offset", num, PGB_SQL_MAX,
	    &st->copy_off) == -1 ||
	    parse_size(p, "copy length", colon + 1, PGB_SQL_MAX,
	    &st->copy_len) == -1)
		return -1;
	st->is_copy = 1;
	if (st->copy_off > sc->size || st->copy_len > sc->size - st->copy_off)
		return perr(p, "copy data %zu+%zu is outside the script (%zu "
		    "bytes)", st->copy_off, st->copy_len, sc->size);
	return 0;
}

/*
 * The options after the numbers of a statement line, in the order of
 * enum stmt_opt.  On -1, st->index and st->src may be set: the caller
 * frees them.
 */
static int
parse_stmt_opts(struct parser *p, const struct pgb_script *sc,
    struct pgb_stmt *st)
{
	const char	*opt;
	enum stmt_opt	 last = OPT_NONE;
	size_t		 i;

	for (i = 4; i < p->nf; i++) {
		opt = p->f[i];
		if (strncmp(opt, "copy=", 5) == 0 && last < OPT_COPY) {
			last = OPT_COPY;
			if (parse_copy_opt(p, opt, sc, st) == -1)
				return -1;
		} else if (strncmp(opt, "index=", 6) == 0 && last < OPT_INDEX) {
			last = OPT_INDEX;
			if (pct_decode(p, "index", opt + 6, &st->index) == -1)
				return -1;
		} else if (strncmp(opt, "src=", 4) == 0 && last < OPT_SRC) {
			last = OPT_SRC;
			if (pct_decode(p, "src", opt + 4, &st->src) == -1)
				return -1;
		} else
			return perr(p, "unknown, repeated or misplaced "
			    "statement option '%.40s' (order: copy= index= "
			    "src=)", opt);
	}
	return 0;
}

/* "stmt|down-stmt OFF LEN LINE [copy=O:L] [index=X] [src=X]" */
static int
parse_stmt(struct parser *p, struct pgb_script *sc)
{
	struct pgb_stmt		 st, *prev;
	unsigned long long	 line;

	if (p->nf < 4 || p->nf > 7)
		return perr(p, "'%s' takes 3 numbers and up to 3 options",
		    p->f[0]);
	if (sc->nstmts == PGB_STMTS_MAX)
		return perr(p, "more than %u statements in '%s'",
		    PGB_STMTS_MAX, sc->path);
	memset(&st, 0, sizeof(st));
	if (parse_size(p, "statement offset", p->f[1], PGB_SQL_MAX,
	    &st.off) == -1 ||
	    parse_size(p, "statement length", p->f[2], PGB_SQL_MAX,
	    &st.len) == -1 ||
	    parse_num(p, "statement line", p->f[3], UINT_MAX, &line) == -1)
		return -1;
	st.line = (unsigned)line;
	if (st.len == 0)
		return perr(p, "statement length is 0");
	if (st.line == 0)
		return perr(p, "statement line is 0 (lines count from 1)");
	if (st.off > sc->size || st.len > sc->size - st.off)
		return perr(p, "statement %zu+%zu is outside the script "
		    "(%zu bytes)", st.off, st.len, sc->size);
	if (sc->nstmts > 0) {
		prev = &sc->stmts[sc->nstmts - 1];
		if (st.off < prev->off + prev->len)
			return perr(p, "statement at %zu overlaps or precedes "
			    "the previous one", st.off);
	}
	if (parse_stmt_opts(p, sc, &st) == -1) {
		free(st.index);
		free(st.src);
		return -1;
	}
	if (sc->nstmts == 0 || (sc->nstmts & (sc->nstmts - 1)) == 0)
		sc->stmts = pgb_xreallocarray(sc->stmts,
		    sc->nstmts ? sc->nstmts * 2 : 1, sizeof(*sc->stmts));
	sc->stmts[sc->nstmts++] = st;
	return 0;
}

/*
 * "baseline-of FIRST LAST": the migration (always transactional) stands
 * for versions FIRST..LAST, LAST being its own version, and nothing the
 * bundle holds before it may fall inside that range.
 */
static int
parse_baseline(struct parser *p, const struct pgb_manifest *m,
    struct pgb_migration *mg)
{
	unsigned long long	first, last;

	if (p->nf != 3)
		return perr(p, "'baseline-of' takes 2 versions");
	if (parse_num(p, "baseline first version", p->f[1], LLONG_MAX,
	    &first) == -1 ||
	    parse_num(p, "baseline last version", p->f[2], LLONG_MAX,
	    &last) == -1)
		return -1;
	if ((long long)last != mg->version)
		return perr(p, "baseline-of must end at the migration's own "
		    "version %lld, not %llu", mg->version, last);
	if (first > last)
		return perr(p, "baseline-of range %llu..%llu is empty", first,
		    last);
	if (m->nmigs > 1 && m->migs[m->nmigs - 2].version >= (long long)first)
		return perr(p, "baseline-of %llu..%llu overlaps migration %lld",
		    first, last, m->migs[m->nmigs - 2].version);
	if (mg->up.mode != PGB_MODE_TX)
		return perr(p, "a baseline must be a transaction migration");
	mg->baseline = 1;
	mg->baseline_first = (long long)first;
	return 0;
}

/* "replaces VERSION SHA256 [NAME]": one migration a baseline stands for. */
static int
parse_replaces(struct parser *p, struct pgb_migration *mg)
{
	struct pgb_replaced	 rp;
	unsigned long long	 v;

	if (p->nf != 3 && p->nf != 4)
		return perr(p, "'replaces' takes a version, a sha256 and a "
		    "name");
	if (mg->nreplaces == PGB_MIGRATIONS_MAX)
		return perr(p, "more than %u replaced migrations",
		    PGB_MIGRATIONS_MAX);
	if (parse_num(p, "replaced version", p->f[1], LLONG_MAX, &v) == -1)
		return -1;
	if (mg->nreplaces == 0 && (long long)v != mg->baseline_first)
		return perr(p, "the first replaced version must be %lld, not "
		    "%llu", mg->baseline_first, v);
	if (mg->nreplaces > 0 &&
	    (long long)v <= mg->replaces[mg->nreplaces - 1].version)
		return perr(p, "replaced version %llu does not follow %lld "
		    "(versions must ascend)", v,
		    mg->replaces[mg->nreplaces - 1].version);
	if ((long long)v > mg->version)
		return perr(p, "replaced version %llu is outside baseline-of "
		    "%lld..%lld", v, mg->baseline_first, mg->version);
	memset(&rp, 0, sizeof(rp));
	rp.version = (long long)v;
	if (parse_hex(p, "replaced sha256", p->f[2], rp.sha256,
	    PGB_SHA256_LEN) == -1)
		return -1;
	if (p->nf == 4 && !is_token(p->f[3], strlen(p->f[3])))
		return perr(p, "bad replaced migration name (1 to %u printable "
		    "ASCII bytes)", PGB_NAME_MAX);
	rp.name = pgb_xstrdup(p->nf == 4 ? p->f[3] : "");
	if (mg->nreplaces == 0 || (mg->nreplaces & (mg->nreplaces - 1)) == 0)
		mg->replaces = pgb_xreallocarray(mg->replaces,
		    mg->nreplaces ? mg->nreplaces * 2 : 1,
		    sizeof(*mg->replaces));
	mg->replaces[mg->nreplaces++] = rp;
	return 0;
}

/* The current line must be 'key' with 'nf' fields in all. */
static int
expect(struct parser *p, const char *key, size_t nf)
{
	if (strcmp(p->f[0], key) != 0)
		return perr(p, "expected '%s', got '%.40s'", key, p->f[0]);
	if (p->nf != nf)
		return perr(p, "'%s' takes %zu field%s", key, nf - 1,
		    nf == 2 ? "" : "s");
	return 0;
}

/*
 * The value of header key 'k' on the current line (two fields); for the
 * bundle-id, the line's span too.
 */
static int
header_value(struct parser *p, enum hdr k, struct pgb_manifest *m,
    size_t *bid_off, size_t *bid_end)
{
	unsigned long long	v;

	switch (k) {
	case H_PROJECT:
	case H_TARGET:
		if (!is_token(p->f[1], strlen(p->f[1])))
			return perr(p, "bad %s name (1 to %u printable ASCII "
			    "bytes)", hdr_names[k], PGB_NAME_MAX);
		if (k == H_PROJECT)
			m->project = pgb_xstrdup(p->f[1]);
		else
			m->target = pgb_xstrdup(p->f[1]);
		break;
	case H_COMPILER:
		m->compiler = pgb_xstrdup(p->f[1]);
		break;
	case H_CREATED:
		if (parse_num(p, "created", p->f[1], LLONG_MAX, &v) == -1)
			return -1;
		m->created = (long long)v;
		break;
	case H_HASH:
		if (strcmp(p->f[1], "sha256") != 0)
			return perr(p, "hash '%.40s' is not supported (only "
			    "sha256)", p->f[1]);
		break;
	case H_KEYID:
		if (strcmp(p->f[1], "unsigned") != 0 &&
		    (strlen(p->f[1]) != 16 ||
		    strspn(p->f[1], "0123456789abcdef") != 16))
			return perr(p, "key-id must be 16 lowercase hex digits "
			    "or 'unsigned'");
		m->key_id = pgb_xstrdup(p->f[1]);
		break;
	case H_BUNDLEID:
		if (strlen(p->f[1]) != PGB_HEX256_LEN ||
		    strspn(p->f[1], "0123456789abcdef") != PGB_HEX256_LEN)
			return perr(p, "bundle-id must be %d lowercase hex "
			    "digits", PGB_HEX256_LEN);
		memcpy(m->bundle_id, p->f[1], PGB_HEX256_LEN + 1);
		*bid_off = p->line_off;
		*bid_end = p->pos;
		break;
	case H_COUNT:
		break;
	}
	return 0;
}

/*
 * One "KEY VALUE" line of the header (current).  'seen' holds the line
 * each key was given on, 0 for none yet.
 */
static int
header_line(struct parser *p, struct pgb_manifest *m, unsigned *seen,
    size_t *bid_off, size_t *bid_end)
{
	enum hdr	k;

	for (k = 0; k < H_COUNT; k++) {
		if (strcmp(p->f[0], hdr_names[k]) == 0)
			break;
	}
	if (k == H_COUNT)
		return perr(p, "unknown key '%.40s'", p->f[0]);
	if (seen[k])
		return perr(p, "'%s' given twice (first on line %u)",
		    hdr_names[k], seen[k]);
	seen[k] = p->lineno;
	if (p->nf != 2)
		return perr(p, "'%s' takes 1 field", hdr_names[k]);
	return header_value(p, k, m, bid_off, bid_end);
}

/*
 * The first line and the header keys, up to the first "migration" line
 * (left in p: LINE_READ) or the end of the text (LINE_EOF).  Sets the
 * bundle-id line's span.
 */
static enum line
parse_header(struct parser *p, struct pgb_manifest *m, size_t *bid_off,
    size_t *bid_end)
{
	unsigned		 seen[H_COUNT];
	unsigned long long	 v;
	enum line		 r;
	enum hdr		 k;

	memset(seen, 0, sizeof(seen));
	if ((r = next_line(p)) != LINE_READ || p->nf != 2 ||
	    strcmp(p->f[0], "pgbundle-manifest") != 0) {
		if (r == LINE_FAIL)
			return LINE_FAIL;
		p->lineno = 1;
		perr(p, "not a pgbundle manifest (expected "
		    "'pgbundle-manifest %d')", PGB_FORMAT_VERSION);
		return LINE_FAIL;
	}
	if (parse_num(p, "format", p->f[1], UINT_MAX, &v) == -1)
		return LINE_FAIL;
	if (v != PGB_FORMAT_VERSION) {
		perr(p, "format %llu is not supported (this is format %d)", v,
		    PGB_FORMAT_VERSION);
		return LINE_FAIL;
	}
	m->format = (unsigned)v;
	while ((r = next_line(p)) == LINE_READ &&
	    strcmp(p->f[0], "migration") != 0) {
		if (header_line(p, m, seen, bid_off, bid_end) == -1)
			return LINE_FAIL;
	}
	if (r == LINE_FAIL)
		return LINE_FAIL;
	for (k = 0; k < H_COUNT; k++) {
		if (!seen[k] && k != H_TARGET) {
			if (r == LINE_EOF)
				p->lineno++;
			perr(p, "the header has no '%s'", hdr_names[k]);
			return LINE_FAIL;
		}
	}
	return r;
}

/*
 * The next line of migration 'mg', which must not end the text.  0, or
 * -1 with the diag filled.
 */
static int
next_in(struct parser *p, const struct pgb_migration *mg)
{
	switch (next_line(p)) {
	case LINE_READ:
		return 0;
	case LINE_EOF:
		p->lineno++;
		return perr(p, "the manifest ends inside migration %lld",
		    mg->version);
	case LINE_FAIL:
		break;
	}
	return -1;
}

/* "migration VERSION [NAME]" (current): a new entry in 'm', or NULL. */
static struct pgb_migration *
new_migration(struct parser *p, struct pgb_manifest *m)
{
	struct pgb_migration	*mg, *last;
	unsigned long long	 v;

	if (m->nmigs == PGB_MIGRATIONS_MAX) {
		perr(p, "more than %u migrations", PGB_MIGRATIONS_MAX);
		return NULL;
	}
	if (p->nf != 2 && p->nf != 3) {
		perr(p, "'migration' takes a version and a name");
		return NULL;
	}
	if (parse_num(p, "version", p->f[1], LLONG_MAX, &v) == -1)
		return NULL;
	last = m->nmigs ? &m->migs[m->nmigs - 1] : NULL;
	if (last && (long long)v <= last->version) {
		perr(p, "version %llu does not follow version %lld (versions "
		    "must ascend)", v, last->version);
		return NULL;
	}
	if (p->nf == 3 && !is_token(p->f[2], strlen(p->f[2]))) {
		perr(p, "bad migration name (1 to %u printable ASCII bytes)",
		    PGB_NAME_MAX);
		return NULL;
	}
	if (m->nmigs == 0 || (m->nmigs & (m->nmigs - 1)) == 0)
		m->migs = pgb_xreallocarray(m->migs,
		    m->nmigs ? m->nmigs * 2 : 1, sizeof(*m->migs));
	mg = &m->migs[m->nmigs++];
	memset(mg, 0, sizeof(*mg));
	mg->version = (long long)v;
	mg->name = pgb_xstrdup(p->nf == 3 ? p->f[2] : "");
	return mg;
}

/*
 * The lines "file", "sha256", "size", "mode" and "chain" after the
 * migration line.  'prev' is the previous chain link; the new one is
 * written to 'chain' (which may be 'prev').
 */
static int
parse_up(struct parser *p, struct pgb_migration *mg,
    const unsigned char *prev, unsigned char *chain)
{
	unsigned char	want[PGB_SHA256_LEN];

	if (next_in(p, mg) == -1 || expect(p, "file", 2) == -1 ||
	    parse_path(p, p->f[1], &mg->up.path) == -1)
		return -1;
	if (next_in(p, mg) == -1 || expect(p, "sha256", 2) == -1 ||
	    parse_hex(p, "sha256", p->f[1], mg->up.sha256,
	    PGB_SHA256_LEN) == -1)
		return -1;
	if (next_in(p, mg) == -1 || expect(p, "size", 2) == -1 ||
	    parse_size(p, "size", p->f[1], PGB_SQL_MAX, &mg->up.size) == -1)
		return -1;
	if (next_in(p, mg) == -1)
		return -1;
	if (strcmp(p->f[0], "mode") == 0 && (p->nf == 2 || p->nf == 3)) {
		if (parse_mode_flags(p, 1, p->nf, &mg->up) == -1)
			return -1;
	} else if (expect(p, "mode", 2) == -1)
		return -1;
	if (next_in(p, mg) == -1 || expect(p, "chain", 2) == -1 ||
	    parse_hex(p, "chain", p->f[1], mg->chain, PGB_SHA256_LEN) == -1)
		return -1;
	pgb_chain(prev, mg->version, mg->up.sha256, want);
	if (!pgb_digest_eq(want, mg->chain, PGB_SHA256_LEN))
		return perr(p, "chain does not follow from the previous "
		    "migration and this script's sha256");
	memcpy(chain, mg->chain, PGB_SHA256_LEN);
	return 0;
}

/*
 * From a "baseline-of" line (current) through its "replaces" lines, and
 * the chain links of the migrations they stand for.  Leaves the next
 * line current.
 */
static int
parse_replaced(struct parser *p, const struct pgb_manifest *m,
    struct pgb_migration *mg)
{
	unsigned char	want[PGB_SHA256_LEN];
	size_t		i;

	if (parse_baseline(p, m, mg) == -1 || next_in(p, mg) == -1)
		return -1;
	while (strcmp(p->f[0], "replaces") == 0) {
		if (parse_replaces(p, mg) == -1 || next_in(p, mg) == -1)
			return -1;
	}
	if (mg->nreplaces == 0 ||
	    mg->replaces[mg->nreplaces - 1].version != mg->version)
		return perr(p, "the 'replaces' lines of baseline %lld must end "
		    "at version %lld", mg->version, mg->version);
	/* The previous migration's link: parse_up() overwrote 'prev'. */
	memset(want, 0, PGB_SHA256_LEN);
	if (m->nmigs > 1)
		memcpy(want, m->migs[m->nmigs - 2].chain, PGB_SHA256_LEN);
	for (i = 0; i < mg->nreplaces; i++) {
		pgb_chain(want, mg->replaces[i].version,
		    mg->replaces[i].sha256, mg->replaces[i].chain);
		memcpy(want, mg->replaces[i].chain, PGB_SHA256_LEN);
	}
	return 0;
}

/* "verify QUERY" (current). */
static int
parse_verify(struct parser *p, struct pgb_migration *mg)
{
	if (p->nf != 2)
		return perr(p, "'verify' takes a query");
	if (mg->nverify == PGB_VERIFY_MAX)
		return perr(p, "more than %u verify queries", PGB_VERIFY_MAX);
	mg->verify = pgb_xreallocarray(mg->verify, mg->nverify + 1,
	    sizeof(*mg->verify));
	mg->verify_line = pgb_xreallocarray(mg->verify_line,
	    mg->nverify + 1, sizeof(*mg->verify_line));
	mg->verify_line[mg->nverify] = 0;
	mg->verify[mg->nverify++] = pgb_xstrdup(p->f[1]);
	return 0;
}

/* "verify-line N" (current): the line of the last verify's comment. */
static int
parse_verify_line(struct parser *p, struct pgb_migration *mg)
{
	unsigned long long	vline;

	if (p->nf != 2)
		return perr(p, "'verify-line' takes a line number");
	if (parse_num(p, "verify line", p->f[1], UINT_MAX, &vline) == -1)
		return -1;
	if (vline == 0)
		return perr(p, "verify line is 0 (lines count from 1)");
	mg->verify_line[mg->nverify - 1] = (unsigned)vline;
	return 0;
}

/*
 * "down PATH SHA256 SIZE MODE [idempotent] [keeps-session]" (current)
 * and its "down-stmt" lines.  Leaves the next line current.
 */
static int
parse_down(struct parser *p, struct pgb_migration *mg)
{
	size_t	nf = p->nf;

	if (nf >= 6 && strcmp(p->f[5], "idempotent") == 0) {
		mg->down.idempotent = 1;
		memmove(&p->f[5], &p->f[6], (p->nf - 6) * sizeof(p->f[0]));
		nf--;
	}
	if (nf < 5 || nf > 6)
		return perr(p, "'down' takes a path, a sha256, a size and a "
		    "mode");
	mg->has_down = 1;
	if (parse_path(p, p->f[1], &mg->down.path) == -1 ||
	    parse_hex(p, "down sha256", p->f[2], mg->down.sha256,
	    PGB_SHA256_LEN) == -1 ||
	    parse_size(p, "down size", p->f[3], PGB_SQL_MAX,
	    &mg->down.size) == -1 ||
	    parse_mode_flags(p, 4, nf, &mg->down) == -1 ||
	    next_in(p, mg) == -1)
		return -1;
	while (strcmp(p->f[0], "down-stmt") == 0) {
		if (parse_stmt(p, &mg->down) == -1 || next_in(p, mg) == -1)
			return -1;
	}
	return 0;
}

/* The current line must be "end"; name what came out of order instead. */
static int
parse_end(struct parser *p)
{
	if (strcmp(p->f[0], "end") != 0) {
		if (strcmp(p->f[0], "stmt") == 0 ||
		    strcmp(p->f[0], "verify") == 0 ||
		    strcmp(p->f[0], "verify-line") == 0 ||
		    strcmp(p->f[0], "down") == 0 ||
		    strcmp(p->f[0], "down-stmt") == 0)
			return perr(p, "'%s' out of place (order: stmt, "
			    "verify, down, down-stmt, end)", p->f[0]);
		if (strcmp(p->f[0], "baseline-of") == 0 ||
		    strcmp(p->f[0], "replaces") == 0)
			return perr(p, "'%s' out of place (order: chain, "
			    "baseline-of, replaces, stmt)", p->f[0]);
		return perr(p, "expected 'end', got '%.40s'", p->f[0]);
	}
	if (p->nf != 1)
		return perr(p, "'end' takes no fields");
	return 0;
}

/*
 * One migration block, from its "migration" line (current) through "end",
 * in the order of docs/FORMAT.md.  'prev' is the previous chain link; the
 * new one is written to 'chain'.
 */
static int
parse_migration(struct parser *p, struct pgb_manifest *m,
    const unsigned char *prev, unsigned char *chain)
{
	struct pgb_migration	*mg;

	if ((mg = new_migration(p, m)) == NULL ||
	    parse_up(p, mg, prev, chain) == -1 || next_in(p, mg) == -1)
		return -1;
	if (strcmp(p->f[0], "baseline-of") == 0 &&
	    parse_replaced(p, m, mg) == -1)
		return -1;
	while (strcmp(p->f[0], "stmt") == 0) {
		if (parse_stmt(p, &mg->up) == -1 || next_in(p, mg) == -1)
			return -1;
	}
	while (strcmp(p->f[0], "verify") == 0) {
		if (parse_verify(p, mg) == -1 || next_in(p, mg) == -1)
			return -1;
		/* Optional: the line of its "-- verify:" comment. */
		if (strcmp(p->f[0], "verify-line") == 0 &&
		    (parse_verify_line(p, mg) == -1 || next_in(p, mg) == -1))
			return -1;
	}
	if (strcmp(p->f[0], "down") == 0 && parse_down(p, mg) == -1)
		return -1;
	return parse_end(p);
}

static int
cmp_pathref(const void *a, const void *b)
{
	const struct pathref	*x = a, *y = b;
	int			 c;

	if ((c = strcmp(x->path, y->path)) != 0)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* No script path twice. */
static int
check_paths(struct parser *p)
{
	size_t	i;

	if (p->nrefs < 2)
		return 0;
	qsort(p->refs, p->nrefs, sizeof(*p->refs), cmp_pathref);
	for (i = 1; i < p->nrefs; i++) {
		if (strcmp(p->refs[i].path, p->refs[i - 1].path) == 0) {
			p->lineno = p->refs[i].line;
			return perr(p, "'%.80s' is listed twice (first on line "
			    "%u)", p->refs[i].path, p->refs[i - 1].line);
		}
	}
	return 0;
}

/* SHA-256 of 'text' without bytes [cut, cut_end). */
static int
hash_without(const char *text, size_t len, size_t cut, size_t cut_end,
    unsigned char *out)
{
	EVP_MD_CTX	*ctx;
	unsigned int	 olen = PGB_SHA256_LEN;
	int		 ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, text, cut) == 1 &&
	    EVP_DigestUpdate(ctx, text + cut_end, len - cut_end) == 1 &&
	    EVP_DigestFinal_ex(ctx, out, &olen) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

int
pgb_manifest_parse(const char *text, size_t len, struct pgb_manifest *m,
    struct pgb_diag *d)
{
	struct parser	*p;
	unsigned char	 chain[PGB_SHA256_LEN], bid[PGB_SHA256_LEN];
	char		 hex[PGB_HEX256_LEN + 1];
	size_t		 bid_off = 0, bid_end = 0, i;
	unsigned	 bid_line = 1;
	enum line	 r;

	pgb_manifest_init(m);
	if (len > PGB_MANIFEST_MAX)
		return pgb_fail(d, PGB_EBUNDLE, "manifest is %zu bytes, over "
		    "the limit of %u", len, PGB_MANIFEST_MAX);
	p = pgb_xcalloc(1, sizeof(*p));
	p->text = text;
	p->len = len;
	p->d = d;
	memset(chain, 0, sizeof(chain));
	if ((r = parse_header(p, m, &bid_off, &bid_end)) == LINE_FAIL)
		goto fail;
	for (i = 0; i < bid_off; i++) {
		if (text[i] == '\n')
			bid_line++;
	}
	while (r == LINE_READ) {
		if (parse_migration(p, m, chain, chain) == -1)
			goto fail;
		if ((r = next_line(p)) == LINE_FAIL)
			goto fail;
		if (r == LINE_READ && strcmp(p->f[0], "migration") != 0) {
			perr(p, "expected 'migration', got '%.40s'", p->f[0]);
			goto fail;
		}
	}
	if (check_paths(p) == -1)
		goto fail;
	if (hash_without(text, len, bid_off, bid_end, bid) == -1) {
		pgb_fail(d, PGB_EINTERNAL, "cannot compute SHA-256");
		goto fail;
	}
	pgb_hex(bid, PGB_SHA256_LEN, hex);
	if (CRYPTO_memcmp(hex, m->bundle_id, PGB_HEX256_LEN) != 0) {
		p->lineno = bid_line;
		perr(p, "bundle-id does not match the other lines");
		goto fail;
	}
	free(p->refs);
	free(p);
	return 0;
fail:
	free(p->refs);
	free(p);
	pgb_manifest_release(m);
	return -1;
}

int
pgb_manifest_path_ok(const char *s, size_t n)
{
	size_t	i, start;

	if (n == 0 || n > PGB_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f ||
		    s[i] == '\\')
			return 0;
	}
	/* Every '/'-separated component is non-empty and not "." or "..". */
	for (start = 0; start <= n; start = i + 1) {
		for (i = start; i < n && s[i] != '/'; i++)
			continue;
		if (i == start)
			return 0;
		if (s[start] == '.' && (i - start == 1 ||
		    (i - start == 2 && s[start + 1] == '.')))
			return 0;
	}
	return 1;
}

const char *
pgb_mode_name(enum pgb_mode mode)
{
	return mode == PGB_MODE_NOTX ? "no-transaction" : "transaction";
}

void
pgb_manifest_init(struct pgb_manifest *m)
{
	memset(m, 0, sizeof(*m));
}

static void
script_release(struct pgb_script *sc)
{
	size_t	i;

	for (i = 0; i < sc->nstmts; i++) {
		free(sc->stmts[i].index);
		free(sc->stmts[i].src);
	}
	free(sc->stmts);
	free(sc->path);
}

static void
migration_release(struct pgb_migration *mg)
{
	size_t	i;

	free(mg->name);
	script_release(&mg->up);
	script_release(&mg->down);
	for (i = 0; i < mg->nverify; i++)
		free(mg->verify[i]);
	free(mg->verify);
	free(mg->verify_line);
	for (i = 0; i < mg->nreplaces; i++)
		free(mg->replaces[i].name);
	free(mg->replaces);
}

void
pgb_manifest_release(struct pgb_manifest *m)
{
	size_t	i;

	for (i = 0; i < m->nmigs; i++)
		migration_release(&m->migs[i]);
	free(m->migs);
	free(m->project);
	free(m->target);
	free(m->compiler);
	free(m->key_id);
	pgb_manifest_init(m);
}

static void
pct_encode(struct pgb_buf *b, const char *s)
{
	for (; *s; s++) {
		if (is_plain((unsigned char)*s))
			pgb_buf_append(b, s, 1);
		else
			pgb_buf_printf(b, "%%%02X", (unsigned char)*s);
	}
}

static void
write_stmts(struct pgb_buf *b, const char *key, const struct pgb_script *sc)
{
	const struct pgb_stmt	*st;
	size_t			 i;

	for (i = 0; i < sc->nstmts; i++) {
		st = &sc->stmts[i];
		pgb_buf_printf(b, "%s %zu %zu %u", key, st->off, st->len,
		    st->line);
		if (st->is_copy)
			pgb_buf_printf(b, " copy=%zu:%zu", st->copy_off,
			    st->copy_len);
		if (st->index) {
			pgb_buf_puts(b, " index=");
			pct_encode(b, st->index);
		}
		if (st->src) {
			pgb_buf_puts(b, " src=");
			pct_encode(b, st->src);
		}
		pgb_buf_puts(b, "\n");
	}
}

void
pgb_manifest_write(struct pgb_manifest *m, struct pgb_buf *out)
{
	const struct pgb_migration	*mg;
	struct pgb_buf			 b;
	unsigned char			 bid[PGB_SHA256_LEN];
	char				 hex[PGB_HEX256_LEN + 1];
	size_t				 i, j, cut;

	pgb_buf_init(&b);
	pgb_buf_printf(&b, "pgbundle-manifest %d\n", PGB_FORMAT_VERSION);
	pgb_buf_printf(&b, "project %s\n", m->project ? m->project : "");
	if (m->target)
		pgb_buf_printf(&b, "target %s\n", m->target);
	pgb_buf_printf(&b, "created %lld\n", m->created);
	pgb_buf_printf(&b, "compiler %s\n", m->compiler ? m->compiler : "");
	pgb_buf_puts(&b, "hash sha256\n");
	pgb_buf_printf(&b, "key-id %s\n", m->key_id ? m->key_id : "unsigned");
	cut = b.len;
	for (i = 0; i < m->nmigs; i++) {
		mg = &m->migs[i];
		pgb_buf_printf(&b, "migration %lld", mg->version);
		if (mg->name && mg->name[0])
			pgb_buf_printf(&b, " %s", mg->name);
		pgb_buf_puts(&b, "\n");
		pgb_buf_printf(&b, "file %s\n", mg->up.path);
		pgb_hex(mg->up.sha256, PGB_SHA256_LEN, hex);
		pgb_buf_printf(&b, "sha256 %s\n", hex);
		pgb_buf_printf(&b, "size %zu\n", mg->up.size);
		pgb_buf_printf(&b, "mode %s%s\n", pgb_mode_name(mg->up.mode),
		    mg->up.keeps_session ? " keeps-session" : "");
		pgb_hex(mg->chain, PGB_SHA256_LEN, hex);
		pgb_buf_printf(&b, "chain %s\n", hex);
		if (mg->baseline)
			pgb_buf_printf(&b, "baseline-of %lld %lld\n",
			    mg->baseline_first, mg->version);
		for (j = 0; mg->baseline && j < mg->nreplaces; j++) {
			pgb_hex(mg->replaces[j].sha256, PGB_SHA256_LEN, hex);
			pgb_buf_printf(&b, "replaces %lld %s%s%s\n",
			    mg->replaces[j].version, hex,
			    mg->replaces[j].name && mg->replaces[j].name[0] ?
			    " " : "", mg->replaces[j].name ?
			    mg->replaces[j].name : "");
		}
		write_stmts(&b, "stmt", &mg->up);
		for (j = 0; j < mg->nverify; j++) {
			pgb_buf_printf(&b, "verify %s\n", mg->verify[j]);
			if (mg->verify_line != NULL && mg->verify_line[j] > 0)
				pgb_buf_printf(&b, "verify-line %u\n",
				    mg->verify_line[j]);
		}
		if (mg->has_down) {
			pgb_hex(mg->down.sha256, PGB_SHA256_LEN, hex);
			pgb_buf_printf(&b, "down %s %s %zu %s%s%s\n",
			    mg->down.path, hex, mg->down.size,
			    pgb_mode_name(mg->down.mode),
			    mg->down.idempotent ? " idempotent" : "",
			    mg->down.keeps_session ? " keeps-session" : "");
			write_stmts(&b, "down-stmt", &mg->down);
		}
		pgb_buf_puts(&b, "end\n");
	}
	pgb_sha256(b.data, b.len, bid);
	pgb_hex(bid, PGB_SHA256_LEN, m->bundle_id);
	pgb_buf_append(out, b.data, cut);
	pgb_buf_printf(out, "bundle-id %s\n", m->bundle_id);
	pgb_buf_append(out, b.data + cut, b.len - cut);
	pgb_buf_release(&b);
}
