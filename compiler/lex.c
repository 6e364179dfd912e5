/*
 * lex.c - split a SQL file into the statements psql would send.
 *
 * Trusts: nothing about the text.  It need not be NUL-terminated and may
 * be any bytes; every loop is bounded by 'len' and every look-ahead checks
 * it first.  One pass, no backtracking beyond a token, arrays grow
 * geometrically, so the cost is linear in the input.
 *
 * Follows psql 15 (src/fe_utils/psqlscan.l and MainLoop), not the server:
 * psql feeds its lexer one line at a time, so it never sees the newline a
 * string continuation ('a'<newline>'b') needs and never continues one; we
 * do not either.  A ';' ends a statement only outside parentheses and
 * outside a BEGIN ... END body that follows CREATE [OR REPLACE]
 * FUNCTION/PROCEDURE, counted with psql's own heuristic.  COPY ... FROM
 * stdin takes the lines after the one holding its ';' up to a line that
 * is exactly "\." ("\.\r" too); the rest of the COPY line runs after the
 * data, as in psql.  A backslash outside quotes and comments starts a
 * meta-command that runs to the end of its line; psql's "\;" and "\:"
 * (a literal ';' or ':' in the query) are reported as meta-commands too.
 * A ':' before a name (":name", ":'name'", ":\"name\"", ":{?name}") is a
 * psql variable reference and one token, as in psql, whether or not psql
 * defines the variable: so in ":n$a$" the "$a$" opens a dollar quote and
 * in ":e'\'" the 'e' starts no E'' string.  The references are reported.
 * A ';' with no token before it is no statement (psql sends it, to no
 * effect).  "COPY ... FROM stdout" is the same as FROM stdin to the
 * server, so psql reads its data from the script as well.
 *
 * Rejects: unterminated strings, quoted identifiers, dollar quotes, block
 * comments and COPY data; more than PGB_STMTS_MAX statements; on the line
 * of a COPY ... FROM stdin, after its ';': a statement continued past the
 * line (psql would splice the data into it), a second COPY ... FROM stdin
 * or a meta-command (the caller could not place them around the data).
 * pgb_lex_check_text() rejects NUL bytes and invalid UTF-8.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "buf.h"
#include "diag.h"
#include "directive.h"
#include "lex.h"
#include "text.h"
#include "banned.h"

/* Why scan_token() stopped short. */
enum {
	SCAN_OK = 0,
	SCAN_QUOTE,		/* '...' of any kind */
	SCAN_IDENT,		/* "..." */
	SCAN_DOLLAR,		/* $tag$...; tok->len is the tag's length */
	SCAN_COMMENT		/* slash-star ... */
};

/* What pgb_lex_split_std()'s loop does after a token. */
enum step {
	STEP_FAIL = -1,		/* 'd' and *errline say why */
	STEP_NEXT,		/* read the next token */
	STEP_DONE		/* the text is split */
};

/*
 * psql's heuristic for routine bodies: once a statement's identifiers
 * start CREATE [OR REPLACE] FUNCTION|PROCEDURE (other tokens between them
 * do not count), BEGIN (and CASE inside one) opens a body that END
 * closes, and a ';' in a body ends no statement.
 */
enum head_state {
	HEAD_START = 0,		/* no identifier yet */
	HEAD_CREATE,		/* CREATE */
	HEAD_CREATE_OR,		/* CREATE OR */
	HEAD_CREATE_OR_REPLACE,	/* CREATE OR REPLACE */
	HEAD_ROUTINE,		/* ... FUNCTION or PROCEDURE: bodies count */
	HEAD_OTHER		/* any other statement */
};

/* Where the open statement stands on its way to COPY ... FROM stdin. */
enum copy_state {
	COPY_NONE = 0,		/* not a COPY */
	COPY_STMT,		/* COPY, and no FROM just before */
	COPY_FROM,		/* the last token was FROM, outside parentheses */
	COPY_STDIN		/* FROM stdin or stdout: data follows its line */
};

/* How much of set_config ( 'standard_conforming_strings' , VALUE is seen. */
enum cfg_state {
	CFG_NONE = 0,		/* no such call under way */
	CFG_CALL,		/* set_config */
	CFG_PAREN,		/* set_config ( */
	CFG_NAME,		/* set_config ( 'standard_conforming_strings' */
	CFG_COMMA		/* ... , : the next token is the value */
};

/*
 * The first tokens of a statement std_effect() reads, the longest form
 * being "SET SESSION standard_conforming_strings TO on ;": private to
 * this file, not a cap on input.
 */
#define STD_TOKS	6

struct lexer {
	const char	*s;
	size_t		 len;
	struct pgb_lex	*out;
	size_t		 cap_stmts;
	size_t		 cap_metas;
	size_t		 cap_vars;
	size_t		 cap_dirs;
	size_t		 lpos;	/* line_at() cache: 'lline' is the line of */
	unsigned	 lline;	/* byte 'lpos' */
	unsigned	*errline;
	struct pgb_diag	*d;
	/* where the split is */
	size_t		 pos;		/* the next byte to lex */
	size_t		 lim;		/* lex up to here: 'len', or the end of
					   the line of a COPY ... FROM stdin */
	size_t		 data;		/* then: that COPY's first data line */
	size_t		 copy_si;	/* and its statement */
	/* the open statement */
	int		 open;		/* a token of it was read */
	size_t		 st_off;	/* its first token */
	size_t		 last_end;	/* the end of its last token */
	size_t		 paren;		/* parentheses open */
	size_t		 begin;		/* routine bodies open */
	enum head_state	 head;
	enum copy_state	 copy;
	/* standard_conforming_strings, as psql follows it */
	int		 std;		/* in effect: 1 on, 0 off */
	int		 std0;		/* the session's (RESET's) */
	int		 std_next;	/* from byte std_at on; -1: no change */
	size_t		 std_at;
	struct pgb_lex_token std_tok[STD_TOKS];	/* the open statement's */
	size_t		 std_n;		/* first tokens, comments left out */
	enum cfg_state	 cfg;		/* a set_config() call in it */
	enum pgb_std	 cfg_set;	/* what its calls set */
};

static size_t	scan_quoted(const char *, size_t, size_t, char, int);
static int	scan_dollar(const char *, size_t, size_t, size_t, size_t *);
static int	scan_block(const char *, size_t, size_t, size_t *);
static size_t	skip_ident(const char *, size_t, size_t);
static size_t	scan_number(const char *, size_t, size_t);
static size_t	scan_var(const char *, size_t, size_t);
static int	scan_word(const char *, size_t, size_t, int,
		    struct pgb_lex_token *, size_t *);
static int	scan_dollar_token(const char *, size_t, size_t,
		    struct pgb_lex_token *, size_t *);
static int	scan_punct(const char *, size_t, size_t, int,
		    struct pgb_lex_token *, size_t *);
static int	scan_token(const char *, size_t, size_t *, int,
		    struct pgb_lex_token *);
static int	scan_fail(const char *, const struct pgb_lex_token *, int,
		    struct pgb_diag *);
static unsigned	line_at(struct lexer *, size_t);
static int	lex_fail(struct lexer *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	add_stmt(struct lexer *, size_t, size_t, int);
static void	add_meta(struct lexer *, size_t, size_t, int);
static void	add_var(struct lexer *, size_t, size_t);
static void	add_directive(struct lexer *, size_t, size_t);
static int	take_copy(struct lexer *, size_t, size_t, size_t *);
static void	std_track(struct lexer *, const struct pgb_lex_token *);
static enum pgb_std std_effect(struct lexer *);
static void	std_switch(struct lexer *, enum pgb_std, size_t);
static void	std_apply(struct lexer *);
static void	lexer_init(struct lexer *, const char *, size_t);
static int	on_copy_line(const struct lexer *);
static int	close_stmt(struct lexer *);
static enum head_state next_head(enum head_state, const char *, size_t);
static void	track_word(struct lexer *, const struct pgb_lex_token *);
static enum step at_token(struct lexer *, const struct pgb_lex_token *);
static enum step at_semicolon(struct lexer *);
static enum step at_backslash(struct lexer *, const struct pgb_lex_token *);
static enum step at_end(struct lexer *);

/*
 * Byte classes, as in PostgreSQL's scanner: {space} (no \v), {ident_start}
 * (letters, '_' and every byte >= 0x80), digits, {op_chars}, and
 * {ident_cont}, which adds digits and '$' to {ident_start}.
 */
#define C_SPACE		0x01
#define C_ISTART	0x02
#define C_DIGIT		0x04
#define C_OP		0x08
#define C_ICONT		0x10

/* 1 space, 8 operator, 16 '$', 18 letter, '_' or high byte, 20 digit */
static const unsigned char cls[256] = {
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  1,  1,  0,  1,  1,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 1,  8,  0,  8, 16,  8,  8,  0,  0,  0,  8,  8,  0,  8,  0,  8,
	20, 20, 20, 20, 20, 20, 20, 20, 20, 20,  0,  0,  8,  8,  8,  8,
	 8, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18,
	18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18,  0,  0,  0,  8, 18,
	 8, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18,
	18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18,  0,  8,  0,  8,  0,
	18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18,
	18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18,
	18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18,
	18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18,
	18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18,
	18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18,
	18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18,
	18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18,
};

#define IS(c, bits)	((cls[(unsigned char)(c)] & (bits)) != 0)
/* psqlscan.l's {variable_char}: {ident_cont} without '$' */
#define C_VAR		(C_ISTART | C_DIGIT)

/*
 * The variables psql 15 sets by itself: what "\set" lists in a fresh
 * session, and ERROR, SQLSTATE and ROW_COUNT, which every query sets.
 * \set and \unset of anything but ON_ERROR_STOP are refused, so these
 * are the only variables a migration can reference.
 */
static const char *const psql_builtins[] = {
	"AUTOCOMMIT", "COMP_KEYWORD_CASE", "DBNAME", "ECHO", "ECHO_HIDDEN",
	"ENCODING", "ERROR", "FETCH_COUNT", "HIDE_TABLEAM",
	"HIDE_TOAST_COMPRESSION", "HISTCONTROL", "HISTSIZE", "HOST",
	"IGNOREEOF", "LAST_ERROR_MESSAGE", "LAST_ERROR_SQLSTATE",
	"ON_ERROR_ROLLBACK", "ON_ERROR_STOP", "PORT", "PROMPT1", "PROMPT2",
	"PROMPT3", "QUIET", "ROW_COUNT", "SERVER_VERSION_NAME",
	"SERVER_VERSION_NUM", "SHOW_ALL_RESULTS", "SHOW_CONTEXT",
	"SINGLELINE", "SINGLESTEP", "SQLSTATE", "USER", "VERBOSITY",
	"VERSION", "VERSION_NAME", "VERSION_NUM", NULL
};

int
pgb_lex_psql_builtin(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; psql_builtins[i] != NULL; i++)
		if (strlen(psql_builtins[i]) == n &&
		    memcmp(psql_builtins[i], s, n) == 0)
			return 1;
	return 0;
}

int
pgb_lex_kw_eq(const char *s, size_t n, const char *kw)
{
	size_t	i;
	unsigned char c;

	for (i = 0; i < n; i++) {
		if (kw[i] == '\0')
			return 0;
		c = (unsigned char)s[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c != (unsigned char)kw[i])
			return 0;
	}
	return kw[n] == '\0';
}

/*
 * Scan a quoted body that starts at 'i' (just after the opening quote
 * 'q') to just past its closing quote; a doubled quote stands for one,
 * and with 'bs' a backslash escapes the next byte (E'' strings).
 * Returns 0 if the text ends first (no valid end is 0).
 */
static size_t
scan_quoted(const char *s, size_t len, size_t i, char q, int bs)
{
	const char *p;

	for (;;) {
		if (!bs) {
			if (i >= len ||
			    (p = memchr(s + i, q, len - i)) == NULL)
				return 0;
			i = (size_t)(p - s);
		} else {
			while (i < len && s[i] != q && s[i] != '\\')
				i++;
			if (i >= len)
				return 0;
			if (s[i] == '\\') {
				i += 2;
				continue;
			}
		}
		/* s[i] is the quote */
		if (i + 1 < len && s[i + 1] == q) {
			i += 2;
			continue;
		}
		return i + 1;
	}
}

/*
 * The dollar quote whose delimiter is s[d..d+n) ("$tag$") and whose body
 * starts at d + n: set *end past the closing delimiter.  -1 if none.
 */
static int
scan_dollar(const char *s, size_t len, size_t d, size_t n, size_t *end)
{
	size_t	 i = d + n;
	const char *p;

	while (i < len && (p = memchr(s + i, '$', len - i)) != NULL) {
		i = (size_t)(p - s);
		if (len - i >= n && memcmp(s + i, s + d, n) == 0) {
			*end = i + n;
			return 0;
		}
		i++;
	}
	return -1;
}

/* The block comment opening at 'i': set *end past its close.  -1 if none. */
static int
scan_block(const char *s, size_t len, size_t i, size_t *end)
{
	size_t	depth = 0;

	i += 2;
	while (i < len) {
		if (s[i] == '*' && i + 1 < len && s[i + 1] == '/') {
			i += 2;
			if (depth == 0) {
				*end = i;
				return 0;
			}
			depth--;
		} else if (s[i] == '/' && i + 1 < len && s[i + 1] == '*') {
			i += 2;
			depth++;
		} else
			i++;
	}
	return -1;
}

/* Past the identifier characters from 'i', if an identifier starts there. */
static size_t
skip_ident(const char *s, size_t len, size_t i)
{
	if (i < len && IS(s[i], C_ISTART))
		while (i < len && IS(s[i], C_ICONT))
			i++;
	return i;
}

/*
 * A number starting at 'i' (a digit, or '.' before a digit), with
 * PostgreSQL 15's rules: "1..5" stops before the "..", "1e-" without
 * digits is a token of its own (so "1e--x" holds no comment), and an
 * identifier stuck to the number is part of the token (the server's
 * "trailing junk": "1end" holds no END and "1e5$$x" opens no dollar
 * quote).  Flex takes the longest of these.  Returns the end.
 */
static size_t
scan_number(const char *s, size_t len, size_t i)
{
	size_t	j, real;

	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	if (i < len && s[i] == '.' && !(i + 1 < len && s[i + 1] == '.')) {
		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	real = i;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		j = i + 1;
		if (j < len && (s[j] == '+' || s[j] == '-')) {
			/* "1e-" with no digit is one (bad) token: no "--" */
			j++;
			real = j;
		}
		if (j < len && s[j] >= '0' && s[j] <= '9') {
			while (j < len && s[j] >= '0' && s[j] <= '9')
				j++;
			real = skip_ident(s, len, j);
		}
	}
	j = skip_ident(s, len, i);
	return j > real ? j : real;
}

/*
 * psqlscan.l's variable reference at the ':' at 'i': ":name", ":'name'",
 * ":\"name\"" or ":{?name}", a name being one or more {variable_char}.
 * Returns its end, or 0 when there is none: psql then takes the ':' alone
 * and lexes on from the next byte.
 */
static size_t
scan_var(const char *s, size_t len, size_t i)
{
	size_t	j = i + 1, name;
	char	close;

	if (j < len && IS(s[j], C_VAR)) {
		while (j < len && IS(s[j], C_VAR))
			j++;
		return j;
	}
	if (j < len && (s[j] == '\'' || s[j] == '"')) {
		close = s[j];
		name = j + 1;
	} else if (len - j >= 2 && s[j] == '{' && s[j + 1] == '?') {
		close = '}';
		name = j + 2;
	} else
		return 0;
	j = name;
	while (j < len && IS(s[j], C_VAR))
		j++;
	if (j == name || j >= len || s[j] != close)
		return 0;
	return j + 1;
}

/*
 * A token that starts with a letter, '_' or a high byte at 'i': a keyword
 * or identifier, or a string or quoted identifier behind its prefix (E'',
 * B'', X'', N'', U&'', U&"").  Its end in *end; a SCAN_* code.
 */
static int
scan_word(const char *s, size_t len, size_t i, int std,
    struct pgb_lex_token *t, size_t *end)
{
	unsigned char	c = (unsigned char)s[i], lc = (unsigned char)(c | 0x20);
	unsigned char	c1 = i + 1 < len ? (unsigned char)s[i + 1] : '\0';
	unsigned char	c2 = i + 2 < len ? (unsigned char)s[i + 2] : '\0';
	size_t		j;

	if (c1 == '\'' && (lc == 'e' || lc == 'b' || lc == 'x' || lc == 'n')) {
		/*
		 * psql takes the N alone, then a '...' string: with the
		 * setting off, a backslash escapes in it as in E''.
		 */
		t->kind = PGB_TOK_STRING;
		*end = scan_quoted(s, len, i + 2, '\'',
		    lc == 'e' || (!std && lc == 'n'));
		return *end == 0 ? SCAN_QUOTE : SCAN_OK;
	}
	if (lc == 'u' && c1 == '&' && (c2 == '\'' || c2 == '"')) {
		t->kind = c2 == '"' ? PGB_TOK_QIDENT : PGB_TOK_STRING;
		if ((*end = scan_quoted(s, len, i + 3, (char)c2, 0)) == 0)
			return c2 == '"' ? SCAN_IDENT : SCAN_QUOTE;
		return SCAN_OK;
	}
	if (lc == 'u' && c1 == '&') {
		/* psql's {xufailed}: the U alone, not an identifier */
		t->kind = PGB_TOK_CHAR;
		*end = i + 1;
		return SCAN_OK;
	}
	j = i + 1;
	while (j < len && IS(s[j], C_ICONT))
		j++;
	t->kind = PGB_TOK_IDENT;
	*end = j;
	return SCAN_OK;
}

/*
 * A token that starts with '$' at 'i': a parameter ($1), a dollar quote
 * ($tag$ ... $tag$) or, as psql's {dolqfailed}, a lone '$'.  Its end in
 * *end; SCAN_DOLLAR with t->len the delimiter's length if the quote does
 * not close.
 */
static int
scan_dollar_token(const char *s, size_t len, size_t i,
    struct pgb_lex_token *t, size_t *end)
{
	size_t	j = i + 1;

	if (j < len && s[j] >= '0' && s[j] <= '9') {
		while (j < len && s[j] >= '0' && s[j] <= '9')
			j++;
		/* like a number, it takes an identifier stuck to it */
		t->kind = PGB_TOK_PARAM;
		*end = skip_ident(s, len, j);
		return SCAN_OK;
	}
	if (j < len && IS(s[j], C_ISTART))
		while (j < len && IS(s[j], C_ISTART | C_DIGIT))
			j++;
	if (j >= len || s[j] != '$') {
		t->kind = PGB_TOK_CHAR;		/* then lex on */
		*end = i + 1;
		return SCAN_OK;
	}
	t->kind = PGB_TOK_DOLLAR;
	if (scan_dollar(s, len, i, j + 1 - i, end) < 0) {
		t->len = j + 1 - i;
		return SCAN_DOLLAR;
	}
	return SCAN_OK;
}

/*
 * A token that starts with any other byte at 'i': a comment, a quoted
 * string or identifier, a number, a backslash, a psql variable, an
 * operator or one byte.  Its end in *end; a SCAN_* code.
 */
static int
scan_punct(const char *s, size_t len, size_t i, int std,
    struct pgb_lex_token *t, size_t *end)
{
	unsigned char	c = (unsigned char)s[i];
	unsigned char	c1 = i + 1 < len ? (unsigned char)s[i + 1] : '\0';
	size_t		j;

	if (c == '-' && c1 == '-') {
		j = i + 2;
		while (j < len && s[j] != '\n' && s[j] != '\r')
			j++;
		t->kind = PGB_TOK_COMMENT;
		*end = j;
	} else if (c == '/' && c1 == '*') {
		t->kind = PGB_TOK_BLOCK;
		if (scan_block(s, len, i, end) < 0)
			return SCAN_COMMENT;
	} else if (c == '\'' || c == '"') {
		t->kind = c == '"' ? PGB_TOK_QIDENT : PGB_TOK_STRING;
		if ((*end = scan_quoted(s, len, i + 1, (char)c,
		    c == '\'' && !std)) == 0)
			return c == '"' ? SCAN_IDENT : SCAN_QUOTE;
	} else if ((c >= '0' && c <= '9') || (c == '.' && c1 >= '0' &&
	    c1 <= '9')) {
		t->kind = PGB_TOK_NUMBER;
		*end = scan_number(s, len, i);
	} else if (c == '\\') {
		t->kind = PGB_TOK_BACKSLASH;
		*end = i + 1;
	} else if ((c == ':' && (c1 == ':' || c1 == '=')) ||
	    (c == '.' && c1 == '.')) {
		t->kind = PGB_TOK_OP;
		*end = i + 2;
	} else if (c == ':' && (*end = scan_var(s, len, i)) != 0) {
		t->kind = PGB_TOK_VAR;
	} else if (IS(c, C_OP)) {
		/* An operator stops where a comment starts. */
		j = i + 1;
		while (j < len && IS(s[j], C_OP) &&
		    !(j + 1 < len && ((s[j] == '-' && s[j + 1] == '-') ||
		    (s[j] == '/' && s[j + 1] == '*'))))
			j++;
		t->kind = PGB_TOK_OP;
		*end = j;
	} else {
		t->kind = PGB_TOK_CHAR;
		*end = i + 1;
	}
	return SCAN_OK;
}

/*
 * The token at or after *posp.  SCAN_OK with kind PGB_TOK_EOF at the end;
 * otherwise a SCAN_* code with t->off at the opening of the construct.
 * 'std' is standard_conforming_strings: off, a backslash escapes the next
 * byte in '...' and N'...' strings too, as in E'...'.
 */
static int
scan_token(const char *s, size_t len, size_t *posp, int std,
    struct pgb_lex_token *t)
{
	size_t	i = *posp, end = 0;
	int	rc;

	while (i < len && IS(s[i], C_SPACE))
		i++;
	t->off = i;
	t->len = 0;
	if (i >= len) {
		t->kind = PGB_TOK_EOF;
		*posp = len;
		return SCAN_OK;
	}
	if (IS(s[i], C_ISTART))
		rc = scan_word(s, len, i, std, t, &end);
	else if (s[i] == '$')
		rc = scan_dollar_token(s, len, i, t, &end);
	else
		rc = scan_punct(s, len, i, std, t, &end);
	if (rc != SCAN_OK)
		return rc;
	t->len = end - i;
	*posp = end;
	return SCAN_OK;
}

/* Fill 'd' for a SCAN_* failure of the token 't'. */
static int
scan_fail(const char *s, const struct pgb_lex_token *t, int rc,
    struct pgb_diag *d)
{
	switch (rc) {
	case SCAN_IDENT:
		return pgb_fail(d, PGB_ESOURCE,
		    "unterminated quoted identifier");
	case SCAN_DOLLAR:
		return pgb_fail(d, PGB_ESOURCE,
		    "unterminated dollar-quoted string %.*s",
		    t->len > 64 ? 64 : (int)t->len, s + t->off);
	case SCAN_COMMENT:
		return pgb_fail(d, PGB_ESOURCE, "unterminated block comment");
	default:
		return pgb_fail(d, PGB_ESOURCE, "unterminated quoted string");
	}
}

int
pgb_lex_token(const char *text, size_t len, size_t *pos,
    struct pgb_lex_token *tok, struct pgb_diag *d)
{
	int	rc;

	if (*pos > len)
		*pos = len;
	if ((rc = scan_token(text, len, pos, 1, tok)) != SCAN_OK)
		return scan_fail(text, tok, rc, d);
	return 0;
}

/* 1-based line of byte 'pos'; calls come mostly in increasing order. */
static unsigned
line_at(struct lexer *lx, size_t pos)
{
	const char *p, *e;

	if (pos > lx->len)
		pos = lx->len;
	if (pos < lx->lpos) {
		lx->lpos = 0;
		lx->lline = 1;
	}
	p = lx->s + lx->lpos;
	e = lx->s + pos;
	while (p < e && (p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
		p++;
		if (lx->lline < UINT_MAX)
			lx->lline++;
	}
	lx->lpos = pos;
	return lx->lline;
}

static int
lex_fail(struct lexer *lx, size_t at, const char *fmt, ...)
{
	va_list	ap;
	char	msg[sizeof(lx->d->msg)];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	*lx->errline = line_at(lx, at);
	return pgb_fail(lx->d, PGB_ESOURCE, "%s", msg);
}

/* The statement s[off..end); -1 past PGB_STMTS_MAX. */
static int
add_stmt(struct lexer *lx, size_t off, size_t end, int is_copy)
{
	struct pgb_lex		*o = lx->out;
	struct pgb_lex_stmt	*st;

	if (o->nstmts >= PGB_STMTS_MAX)
		return lex_fail(lx, off, "too many statements (more than %u)",
		    PGB_STMTS_MAX);
	if (o->nstmts == lx->cap_stmts) {
		lx->cap_stmts = lx->cap_stmts ? lx->cap_stmts * 2 : 64;
		o->stmts = pgb_xreallocarray(o->stmts, lx->cap_stmts,
		    sizeof(*o->stmts));
	}
	st = &o->stmts[o->nstmts++];
	st->off = off;
	st->len = end - off;
	st->line = line_at(lx, off);
	st->is_copy = is_copy;
	st->copy_off = 0;
	st->copy_len = 0;
	st->sets_std = PGB_STD_KEEP;
	return 0;
}

/* The meta-command whose backslash is at 'off'; the line ends at 'eol'. */
static void
add_meta(struct lexer *lx, size_t off, size_t eol, int mid_stmt)
{
	struct pgb_lex		*o = lx->out;
	struct pgb_lex_meta	*m;
	size_t			 ls, end;

	if (o->nmetas == lx->cap_metas) {
		lx->cap_metas = lx->cap_metas ? lx->cap_metas * 2 : 8;
		o->metas = pgb_xreallocarray(o->metas, lx->cap_metas,
		    sizeof(*o->metas));
	}
	ls = off;
	while (ls > 0 && lx->s[ls - 1] != '\n')
		ls--;
	end = eol;
	if (end > off && lx->s[end - 1] == '\r')
		end--;
	m = &o->metas[o->nmetas++];
	m->off = off;
	m->len = end - off;
	m->line_off = ls;
	m->line_end = eol < lx->len ? eol + 1 : eol;
	m->line = line_at(lx, off);
	m->mid_stmt = mid_stmt;
	m->before = o->nstmts;
}

/* The variable reference s[off..off+n). */
static void
add_var(struct lexer *lx, size_t off, size_t n)
{
	struct pgb_lex	*o = lx->out;

	if (o->nvars == lx->cap_vars) {
		lx->cap_vars = lx->cap_vars ? lx->cap_vars * 2 : 8;
		o->vars = pgb_xreallocarray(o->vars, lx->cap_vars,
		    sizeof(*o->vars));
	}
	o->vars[o->nvars].off = off;
	o->vars[o->nvars].len = n;
	o->vars[o->nvars].line = line_at(lx, off);
	o->nvars++;
}

/*
 * Record the "--" comment s[off..off+n) if it is a directive, or almost
 * one (then as written, from its "--", for the caller to refuse).
 */
static void
add_directive(struct lexer *lx, size_t off, size_t n)
{
	struct pgb_lex	*o = lx->out;
	const char	*p = lx->s + off + 2, *e = lx->s + off + n;
	size_t		 k;
	int		 near;

	if ((near = pgb_directive_near(lx->s + off, n)))
		p -= 2;
	while (!near && p < e && (*p == ' ' || *p == '\t'))
		p++;
	k = (size_t)(e - p);
	/* Also other tools' markers: "+goose", "+migrate", Liquibase's. */
	if (!near && !((k >= 9 && memcmp(p, "pgbundle:", 9) == 0) ||
	    (k >= 7 && memcmp(p, "verify:", 7) == 0) ||
	    (k >= 8 && memcmp(p, "migrate:", 8) == 0) ||
	    (k >= 1 && p[0] == '+') ||
	    (k >= 9 && (pgb_lex_kw_eq(p, 9, "liquibase") ||
	    pgb_lex_kw_eq(p, 9, "changeset")))))
		return;
	while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
	    e[-1] == '\f'))
		e--;
	if (o->ndirs == lx->cap_dirs) {
		lx->cap_dirs = lx->cap_dirs ? lx->cap_dirs * 2 : 8;
		o->dirs = pgb_xreallocarray(o->dirs, lx->cap_dirs,
		    sizeof(*o->dirs));
	}
	o->dirs[o->ndirs].line = line_at(lx, off);
	o->dirs[o->ndirs].text = pgb_xstrndup(p, (size_t)(e - p));
	o->dirs[o->ndirs].near = near;
	o->ndirs++;
}

/*
 * COPY data for statement 'si', from 'start' (a line start) to the line
 * that is exactly "\." or "\.\r".  Set *next past that line.
 */
static int
take_copy(struct lexer *lx, size_t si, size_t start, size_t *next)
{
	struct pgb_lex_stmt *st = &lx->out->stmts[si];
	const char	*s = lx->s, *nl;
	size_t		 ls = start, le, n;

	while (ls < lx->len) {
		nl = memchr(s + ls, '\n', lx->len - ls);
		le = nl != NULL ? (size_t)(nl - s) : lx->len;
		n = le - ls;
		if ((n == 2 || (n == 3 && s[ls + 2] == '\r')) &&
		    s[ls] == '\\' && s[ls + 1] == '.') {
			st->copy_off = start;
			st->copy_len = ls - start;
			*next = nl != NULL ? le + 1 : le;
			return 0;
		}
		if (nl == NULL)
			break;
		ls = le + 1;
	}
	*lx->errline = st->line;
	return pgb_fail(lx->d, PGB_ESOURCE, "unterminated COPY data");
}

/*
 * The server's parse_bool() on s[0..n): any case, a prefix of "true",
 * "false", "yes" or "no", "on", "of" or "off", "1" or "0".  1 true,
 * 0 false, -1 neither.
 */
static int
parse_bool(const char *s, size_t n)
{
	static const struct {
		const char	*word;
		size_t		 min;
		int		 val;
	} b[] = {
		{ "true", 1, 1 }, { "false", 1, 0 }, { "yes", 1, 1 },
		{ "no", 1, 0 }, { "on", 2, 1 }, { "off", 2, 0 }, { "1", 1, 1 },
		{ "0", 1, 0 }, { NULL, 0, 0 }
	};
	size_t	i, k;
	unsigned char c;

	for (i = 0; b[i].word != NULL; i++) {
		if (n < b[i].min || n > strlen(b[i].word))
			continue;
		for (k = 0; k < n; k++) {
			c = (unsigned char)s[k];
			if (c >= 'A' && c <= 'Z')
				c = (unsigned char)(c - 'A' + 'a');
			if (c != (unsigned char)b[i].word[k])
				break;
		}
		if (k == n)
			return b[i].val;
	}
	return -1;
}

/*
 * The text of a name or value token without its quotes: an identifier,
 * a "quoted identifier" or a '...' or E'...' string that holds no escape
 * or doubled quote.  0 and *p, *n; -1 for anything else.
 */
static int
plain_text(const struct lexer *lx, const struct pgb_lex_token *t,
    const char **p, size_t *n)
{
	const char	*s = lx->s + t->off;
	size_t		 k = t->len;

	if (t->kind == PGB_TOK_IDENT || t->kind == PGB_TOK_NUMBER) {
		*p = s;
		*n = k;
		return 0;
	}
	if (t->kind == PGB_TOK_STRING && (*s == 'e' || *s == 'E')) {
		s++;
		k--;
	}
	if ((t->kind != PGB_TOK_STRING && t->kind != PGB_TOK_QIDENT) ||
	    k < 2 || (*s != '\'' && *s != '"') ||
	    memchr(s + 1, *s, k - 2) != NULL || memchr(s, '\\', k) != NULL)
		return -1;
	*p = s + 1;
	*n = k - 2;
	return 0;
}

/* Is token 't' the name standard_conforming_strings (any case, quoted)? */
static int
std_name(const struct lexer *lx, const struct pgb_lex_token *t)
{
	const char	*p;
	size_t		 n;

	return t->kind != PGB_TOK_NUMBER && plain_text(lx, t, &p, &n) == 0 &&
	    pgb_lex_kw_eq(p, n, "standard_conforming_strings");
}

/* What setting standard_conforming_strings to token 't' does. */
static enum pgb_std
std_value(const struct lexer *lx, const struct pgb_lex_token *t)
{
	const char	*p;
	size_t		 n;

	if (t->kind == PGB_TOK_IDENT &&
	    pgb_lex_kw_eq(lx->s + t->off, t->len, "default"))
		return PGB_STD_DEFAULT;
	if (plain_text(lx, t, &p, &n) == -1)
		return PGB_STD_OFF;	/* not known to be on */
	return parse_bool(p, n) == 1 ? PGB_STD_ON : PGB_STD_OFF;
}

static int
is_char(const struct lexer *lx, const struct pgb_lex_token *t, char c)
{
	return t->kind == PGB_TOK_CHAR && lx->s[t->off] == c;
}

/*
 * Follow one token of the open statement (no comments): keep the first
 * STD_TOKS for std_effect(), and watch for
 * set_config ( 'standard_conforming_strings' , VALUE anywhere in it.
 */
static void
std_track(struct lexer *lx, const struct pgb_lex_token *t)
{
	enum cfg_state	next = CFG_NONE;

	if (lx->std_n < STD_TOKS)
		lx->std_tok[lx->std_n++] = *t;
	switch (lx->cfg) {
	case CFG_NONE:
		break;
	case CFG_CALL:
		next = is_char(lx, t, '(') ? CFG_PAREN : CFG_NONE;
		break;
	case CFG_PAREN:
		next = t->kind == PGB_TOK_STRING && std_name(lx, t) ?
		    CFG_NAME : CFG_NONE;
		break;
	case CFG_NAME:
		next = is_char(lx, t, ',') ? CFG_COMMA : CFG_NONE;
		break;
	case CFG_COMMA:
		if (lx->cfg_set != PGB_STD_OFF)
			lx->cfg_set = std_value(lx, t);
		break;
	}
	if (next == CFG_NONE && t->kind == PGB_TOK_IDENT &&
	    pgb_lex_kw_eq(lx->s + t->off, t->len, "set_config"))
		next = CFG_CALL;
	lx->cfg = next;
}

/*
 * What the statement just ended does to standard_conforming_strings:
 * SET [SESSION | LOCAL] name {= | TO} value, RESET name, RESET ALL,
 * DISCARD ALL, and set_config() calls; a SET of it that is not plainly
 * on counts as off.
 */
static enum pgb_std
std_effect(struct lexer *lx)
{
	const struct pgb_lex_token *t = lx->std_tok;
	size_t		 n = lx->std_n, k = 1;
	enum pgb_std	 e = PGB_STD_KEEP;

	if (n > 0 && is_char(lx, &t[n - 1], ';'))
		n--;
	if (n == 2 && t[0].kind == PGB_TOK_IDENT && t[1].kind ==
	    PGB_TOK_IDENT && ((pgb_lex_kw_eq(lx->s + t[0].off, t[0].len,
	    "reset") && (std_name(lx, &t[1]) || pgb_lex_kw_eq(lx->s +
	    t[1].off, t[1].len, "all"))) || (pgb_lex_kw_eq(lx->s + t[0].off,
	    t[0].len, "discard") && pgb_lex_kw_eq(lx->s + t[1].off, t[1].len,
	    "all"))))
		e = PGB_STD_DEFAULT;
	else if (n > 1 && t[0].kind == PGB_TOK_IDENT &&
	    pgb_lex_kw_eq(lx->s + t[0].off, t[0].len, "set")) {
		if (t[1].kind == PGB_TOK_IDENT &&
		    (pgb_lex_kw_eq(lx->s + t[1].off, t[1].len, "session") ||
		    pgb_lex_kw_eq(lx->s + t[1].off, t[1].len, "local")))
			k = 2;
		if (k < n && std_name(lx, &t[k]))
			e = n == k + 3 && ((t[k + 1].kind == PGB_TOK_OP &&
			    t[k + 1].len == 1 && lx->s[t[k + 1].off] == '=') ||
			    (t[k + 1].kind == PGB_TOK_IDENT && pgb_lex_kw_eq(
			    lx->s + t[k + 1].off, t[k + 1].len, "to"))) ?
			    std_value(lx, &t[k + 2]) : PGB_STD_OFF;
	}
	if (lx->cfg_set == PGB_STD_OFF || e == PGB_STD_KEEP)
		e = e == PGB_STD_OFF ? e : lx->cfg_set;
	lx->std_n = 0;
	lx->cfg = CFG_NONE;
	lx->cfg_set = PGB_STD_KEEP;
	return e;
}

/*
 * The statement that ended at 'end' set standard_conforming_strings:
 * psql reads on to the end of the line with the value it had, and the
 * next line with the new one.
 */
static void
std_switch(struct lexer *lx, enum pgb_std e, size_t end)
{
	const char	*nl;

	if (e == PGB_STD_KEEP)
		return;
	nl = memchr(lx->s + end, '\n', lx->len - end);
	lx->std_at = nl != NULL ? (size_t)(nl - lx->s) + 1 : lx->len;
	lx->std_next = e == PGB_STD_ON ? 1 : e == PGB_STD_OFF ? 0 : lx->std0;
}

/* Before the token at or after lx->pos: switch if it starts a later line. */
static void
std_apply(struct lexer *lx)
{
	size_t	pos = lx->pos;

	while (lx->std_next != -1 && pos < lx->lim && IS(lx->s[pos], C_SPACE))
		pos++;
	if (lx->std_next != -1 && pos >= lx->std_at) {
		lx->std = lx->std_next;
		lx->std_next = -1;
	}
}

/* A lexer over s[0..len), at its start, with nothing to report into. */
static void
lexer_init(struct lexer *lx, const char *s, size_t len)
{
	memset(lx, 0, sizeof(*lx));
	lx->s = s;
	lx->len = len;
	lx->lline = 1;
	lx->lim = len;
	lx->std_next = -1;
	lx->head = HEAD_START;
	lx->copy = COPY_NONE;
	lx->cfg = CFG_NONE;
}

/*
 * Is the lexer on the rest of the line of a COPY ... FROM stdin, whose
 * data starts on the next line?
 */
static int
on_copy_line(const struct lexer *lx)
{
	return lx->lim < lx->len;
}

/* Record the open statement, with what it does to the setting. */
static int
close_stmt(struct lexer *lx)
{
	if (add_stmt(lx, lx->st_off, lx->last_end,
	    lx->copy == COPY_STDIN) < 0)
		return -1;
	lx->out->stmts[lx->out->nstmts - 1].sets_std = std_effect(lx);
	return 0;
}

/* The statement head after its next identifier w[0..n). */
static enum head_state
next_head(enum head_state h, const char *w, size_t n)
{
	int	routine;

	if (h == HEAD_ROUTINE || h == HEAD_OTHER)
		return h;
	routine = pgb_lex_kw_eq(w, n, "function") ||
	    pgb_lex_kw_eq(w, n, "procedure");
	switch (h) {
	case HEAD_START:
		return pgb_lex_kw_eq(w, n, "create") ? HEAD_CREATE : HEAD_OTHER;
	case HEAD_CREATE:
		return routine ? HEAD_ROUTINE : pgb_lex_kw_eq(w, n, "or") ?
		    HEAD_CREATE_OR : HEAD_OTHER;
	case HEAD_CREATE_OR:
		return pgb_lex_kw_eq(w, n, "replace") ?
		    HEAD_CREATE_OR_REPLACE : HEAD_OTHER;
	case HEAD_CREATE_OR_REPLACE:
		return routine ? HEAD_ROUTINE : HEAD_OTHER;
	default:
		return h;
	}
}

/* An identifier of the open statement: its head, bodies and COPY state. */
static void
track_word(struct lexer *lx, const struct pgb_lex_token *t)
{
	const char	*w = lx->s + t->off;
	size_t		 n = t->len;

	lx->head = next_head(lx->head, w, n);
	if (lx->head == HEAD_ROUTINE && lx->paren == 0) {
		if (pgb_lex_kw_eq(w, n, "begin"))
			lx->begin++;
		else if (pgb_lex_kw_eq(w, n, "case")) {
			if (lx->begin > 0)
				lx->begin++;
		} else if (pgb_lex_kw_eq(w, n, "end")) {
			if (lx->begin > 0)
				lx->begin--;
		}
	}
	switch (lx->copy) {
	case COPY_STMT:
		if (lx->paren == 0 && pgb_lex_kw_eq(w, n, "from"))
			lx->copy = COPY_FROM;
		break;
	case COPY_FROM:
		/* the grammar takes both */
		lx->copy = pgb_lex_kw_eq(w, n, "stdin") ||
		    pgb_lex_kw_eq(w, n, "stdout") ? COPY_STDIN : COPY_STMT;
		break;
	case COPY_NONE:
	case COPY_STDIN:
		break;
	}
}

/* A token that is part of a statement: no comment, backslash or end. */
static enum step
at_token(struct lexer *lx, const struct pgb_lex_token *t)
{
	if (!lx->open) {
		if (is_char(lx, t, ';')) {
			/* an empty statement: psql's is a no-op */
			lx->head = HEAD_START;
			return STEP_NEXT;
		}
		lx->open = 1;
		lx->st_off = t->off;
		lx->copy = t->kind == PGB_TOK_IDENT &&
		    pgb_lex_kw_eq(lx->s + t->off, t->len, "copy") ?
		    COPY_STMT : COPY_NONE;
	}
	lx->last_end = t->off + t->len;
	std_track(lx, t);
	if (t->kind == PGB_TOK_IDENT) {
		track_word(lx, t);
		return STEP_NEXT;
	}
	if (lx->copy == COPY_FROM)
		lx->copy = COPY_STMT;
	if (t->kind == PGB_TOK_VAR)
		add_var(lx, t->off, t->len);
	if (t->kind != PGB_TOK_CHAR)
		return STEP_NEXT;
	if (lx->s[t->off] == '(')
		lx->paren++;
	else if (lx->s[t->off] == ')') {
		if (lx->paren > 0)
			lx->paren--;
	} else if (lx->s[t->off] == ';' && lx->paren == 0 && lx->begin == 0)
		return at_semicolon(lx);
	return STEP_NEXT;
}

/*
 * The ';' that ends the open statement.  After COPY ... FROM stdin, psql
 * reads the data from the next line on, then goes on with the rest of
 * this one: lex that first, bounded by its end (lx->lim), and take the
 * data at its end (at_end()).
 */
static enum step
at_semicolon(struct lexer *lx)
{
	const struct pgb_lex_stmt *st;
	const char	*nl;

	if (close_stmt(lx) < 0)
		return STEP_FAIL;
	st = &lx->out->stmts[lx->out->nstmts - 1];
	std_switch(lx, st->sets_std, lx->last_end);
	lx->open = 0;
	lx->head = HEAD_START;
	if (lx->copy != COPY_STDIN)
		return STEP_NEXT;
	if (on_copy_line(lx)) {
		lex_fail(lx, lx->st_off, "second COPY ... FROM stdin on one "
		    "line");
		return STEP_FAIL;
	}
	if ((nl = memchr(lx->s + lx->pos, '\n', lx->len - lx->pos)) == NULL) {
		*lx->errline = st->line;
		pgb_fail(lx->d, PGB_ESOURCE, "unterminated COPY data");
		return STEP_FAIL;
	}
	lx->lim = (size_t)(nl - lx->s);
	lx->data = lx->lim + 1;
	lx->copy_si = lx->out->nstmts - 1;
	return STEP_NEXT;
}

/* A meta-command: from the backslash 't' to the end of its line. */
static enum step
at_backslash(struct lexer *lx, const struct pgb_lex_token *t)
{
	const char	*nl;
	size_t		 eol;

	if (on_copy_line(lx)) {
		lex_fail(lx, t->off, "psql meta-command after COPY ... FROM "
		    "stdin on its line");
		return STEP_FAIL;
	}
	nl = memchr(lx->s + t->off, '\n', lx->lim - t->off);
	eol = nl != NULL ? (size_t)(nl - lx->s) : lx->lim;
	add_meta(lx, t->off, eol, lx->open);
	lx->pos = nl != NULL ? eol + 1 : eol;
	return STEP_NEXT;
}

/*
 * No more tokens up to lx->lim: either the rest of a COPY line is done
 * and its data comes next, or the text ends (with a statement that has
 * no ';', which psql sends too).
 */
static enum step
at_end(struct lexer *lx)
{
	if (on_copy_line(lx)) {
		if (lx->open) {
			lex_fail(lx, lx->st_off, "statement after COPY ... "
			    "FROM stdin continues past its line");
			return STEP_FAIL;
		}
		if (take_copy(lx, lx->copy_si, lx->data, &lx->pos) < 0)
			return STEP_FAIL;
		lx->lim = lx->len;
		return STEP_NEXT;
	}
	if (!lx->open)
		return STEP_DONE;
	if (close_stmt(lx) < 0)
		return STEP_FAIL;
	if (lx->copy == COPY_STDIN) {
		*lx->errline = lx->out->stmts[lx->out->nstmts - 1].line;
		pgb_fail(lx->d, PGB_ESOURCE, "unterminated COPY data");
		return STEP_FAIL;
	}
	return STEP_DONE;
}

int
pgb_lex_split(const char *text, size_t len, struct pgb_lex *out,
    unsigned *errline, struct pgb_diag *d)
{
	return pgb_lex_split_std(text, len, 1, out, errline, d);
}

int
pgb_lex_split_std(const char *text, size_t len, int std, struct pgb_lex *out,
    unsigned *errline, struct pgb_diag *d)
{
	struct lexer	 lx;
	struct pgb_lex_token t;
	enum step	 step;
	int		 rc;

	memset(out, 0, sizeof(*out));
	lexer_init(&lx, text, len);
	lx.out = out;
	lx.errline = errline;
	lx.d = d;
	lx.std = lx.std0 = std != 0;
	*errline = 0;
	do {
		std_apply(&lx);
		if ((rc = scan_token(text, lx.lim, &lx.pos, lx.std, &t)) !=
		    SCAN_OK) {
			if (on_copy_line(&lx))
				return lex_fail(&lx, t.off, "statement after "
				    "COPY ... FROM stdin continues past its "
				    "line");
			scan_fail(text, &t, rc, d);
			*errline = line_at(&lx, t.off);
			return -1;
		}
		switch (t.kind) {
		case PGB_TOK_EOF:
			step = at_end(&lx);
			break;
		case PGB_TOK_COMMENT:
			add_directive(&lx, t.off, t.len);
			step = STEP_NEXT;
			break;
		case PGB_TOK_BLOCK:
			step = STEP_NEXT;
			break;
		case PGB_TOK_BACKSLASH:
			step = at_backslash(&lx, &t);
			break;
		default:
			step = at_token(&lx, &t);
			break;
		}
	} while (step == STEP_NEXT);
	return step == STEP_DONE ? 0 : -1;
}

void
pgb_lex_release(struct pgb_lex *lx)
{
	size_t	i;

	if (lx == NULL)
		return;
	for (i = 0; i < lx->ndirs; i++)
		free(lx->dirs[i].text);
	free(lx->dirs);
	free(lx->metas);
	free(lx->vars);
	free(lx->stmts);
	memset(lx, 0, sizeof(*lx));
}

int
pgb_lex_check_text(const char *text, size_t len, unsigned *errline,
    struct pgb_diag *d)
{
	const unsigned char *s = (const unsigned char *)text;
	const uint64_t	 hi = UINT64_C(0x8080808080808080);
	const uint64_t	 ones = UINT64_C(0x0101010101010101);
	uint64_t	 w;
	size_t		 i = 0, n;
	struct lexer	 lx;

	*errline = 0;
	while (i < len) {
		/* Eight ASCII bytes, none of them NUL, at a time. */
		if (len - i >= 8) {
			memcpy(&w, s + i, 8);
			if (((w | ((w - ones) & ~w)) & hi) == 0) {
				i += 8;
				continue;
			}
		}
		if (s[i] == 0 || (n = pgb_utf8_seq(s + i, len - i, NULL)) == 0)
			break;
		i += n;
	}
	if (i >= len)
		return 0;
	lexer_init(&lx, text, len);
	*errline = line_at(&lx, i);
	if (s[i] == 0)
		return pgb_fail(d, PGB_ESOURCE, "NUL byte");
	return pgb_fail(d, PGB_ESOURCE, "invalid UTF-8 byte 0x%02x", s[i]);
}
