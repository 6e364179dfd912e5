#ifndef PGB_LEX_H
#define PGB_LEX_H

/*
 * lex.h - split one SQL file into statements the way psql does.
 *
 * The lexer follows PostgreSQL's scanner rules (standard and E'' strings,
 * U&'' strings and identifiers, quoted identifiers, dollar quotes, nested
 * block comments, line comments), keeps BEGIN ATOMIC ... END bodies and
 * CREATE RULE ... DO ( ...; ... ) together, and after a COPY ... FROM
 * stdin statement takes the data lines up to "\.".  It reports psql
 * meta-commands (a backslash outside quotes and comments, up to the end
 * of the line), psql variable references (":name", ":'name'", ":\"name\""
 * and ":{?name}") and directive comments ("-- pgbundle:...",
 * "-- verify: ...", and other tools' markers: dbmate's "-- migrate:...",
 * goose's and sql-migrate's "-- +...", Liquibase's "--liquibase" and
 * "--changeset") without acting on them:
 * expanding \i and judging variables is the caller's.  pgb_lex_token()
 * exposes the same token rules so that other modules never re-implement
 * quoting.
 */
#include <stddef.h>

#include "diag.h"

/* What a statement does to standard_conforming_strings. */
enum pgb_std {
	PGB_STD_KEEP = 0,	/* nothing */
	PGB_STD_ON,		/* SET ... = on (true, yes, 1, 'on', ...) */
	PGB_STD_OFF,		/* SET ... = off, or a value not known to be on */
	PGB_STD_DEFAULT		/* RESET, RESET ALL, DISCARD ALL, TO DEFAULT */
};

struct pgb_lex_stmt {
	size_t	 off;		/* first byte of the first token */
	size_t	 len;		/* through the terminating ';' if any */
	unsigned line;		/* line of the first token, 1-based */
	int	 is_copy;	/* COPY ... FROM stdin: data follows */
	size_t	 copy_off;	/* first byte of the data lines */
	size_t	 copy_len;	/* up to, not including, the "\." line */
	enum pgb_std sets_std;	/* SET [SESSION|LOCAL], RESET or set_config()
				   of standard_conforming_strings */
};

struct pgb_lex_meta {		/* a psql backslash command */
	size_t	 off;		/* the backslash */
	size_t	 len;		/* to the end of the line, without '\n' */
	size_t	 line_off;	/* start of the line holding it */
	size_t	 line_end;	/* after its '\n' (or end of text) */
	unsigned line;
	int	 mid_stmt;	/* a statement was partly typed before it */
	size_t	 before;	/* number of statements completed before it */
};

struct pgb_lex_var {		/* a psql variable reference, as written */
	size_t	 off;		/* the ':' */
	size_t	 len;
	unsigned line;
};

struct pgb_lex_directive {	/* "-- pgbundle:", "-- verify:", markers */
	unsigned line;
	char	*text;		/* after "--" and blanks, without '\n' */
	int	 near;		/* almost a directive ("-- Verify:", see
				   directive.h): 'text' is the comment as
				   written, from its "--" */
};

struct pgb_lex {
	struct pgb_lex_stmt	 *stmts;
	size_t			  nstmts;
	struct pgb_lex_meta	 *metas;
	size_t			  nmetas;
	struct pgb_lex_var	 *vars;
	size_t			  nvars;
	struct pgb_lex_directive *dirs;
	size_t			  ndirs;
};

/*
 * Split 'len' bytes of 'text' into 'out' (initialised by the call).
 * -1 on an unterminated string, quoted identifier, dollar quote, block
 * comment or COPY data: d->msg names the construct and the line where it
 * opened is in *errline.  Release 'out' with pgb_lex_release() either way.
 * The session starts with standard_conforming_strings on.
 */
int	pgb_lex_split(const char *text, size_t len, struct pgb_lex *out,
	    unsigned *errline, struct pgb_diag *d);
/*
 * pgb_lex_split() from a session whose standard_conforming_strings is
 * 'std' (1 on, 0 off), following it as psql does: off, a backslash
 * escapes the next byte in '...' strings too; a statement that changes
 * it (each one's sets_std) changes it from the next line on, since psql
 * reads a line with the value the server reported before it; RESET goes
 * back to 'std'.
 */
int	pgb_lex_split_std(const char *text, size_t len, int std,
	    struct pgb_lex *out, unsigned *errline, struct pgb_diag *d);
void	pgb_lex_release(struct pgb_lex *);

/*
 * Check that 'text' is valid UTF-8 with no NUL byte.  -1 with the line
 * of the first bad byte in *errline.
 */
int	pgb_lex_check_text(const char *text, size_t len, unsigned *errline,
	    struct pgb_diag *d);

/* What pgb_lex_token() found. */
enum pgb_tok {
	PGB_TOK_EOF = 0,	/* no more tokens */
	PGB_TOK_IDENT,		/* keyword or unquoted identifier (may hold '$') */
	PGB_TOK_QIDENT,		/* "quoted" or U&"quoted" identifier */
	PGB_TOK_STRING,		/* '', E'', B'', X'', N'' or U&'' literal */
	PGB_TOK_DOLLAR,		/* $tag$ ... $tag$ */
	PGB_TOK_NUMBER,
	PGB_TOK_PARAM,		/* $1 */
	PGB_TOK_VAR,		/* psql's :name, :'name', :"name", :{?name} */
	PGB_TOK_OP,		/* a run of operator characters, "::", ":=", ".." */
	PGB_TOK_CHAR,		/* one other byte: ( ) , ; . [ ] : and the rest */
	PGB_TOK_BACKSLASH,	/* starts a psql meta-command */
	PGB_TOK_COMMENT,	/* "--" up to, not including, the line end */
	PGB_TOK_BLOCK		/* a block comment, nested ones included */
};

struct pgb_lex_token {
	enum pgb_tok	 kind;
	size_t		 off;	/* first byte, e.g. the E of E'' */
	size_t		 len;
};

/*
 * Read the token at or after *pos in 'len' bytes of 'text', skipping
 * whitespace, and move *pos past it.  Comments are tokens too.  0, with
 * kind PGB_TOK_EOF at the end.  -1 when a string, quoted identifier,
 * dollar quote or block comment runs past 'len': tok->off is where it
 * opened and 'd' names it.  No meta-command or COPY handling: that is
 * pgb_lex_split()'s.
 */
int	pgb_lex_token(const char *text, size_t len, size_t *pos,
	    struct pgb_lex_token *tok, struct pgb_diag *d);

/*
 * Is s[0..n) the name of a variable psql 15 defines by itself (DBNAME,
 * PORT, VERSION, ON_ERROR_STOP, ...), so that psql replaces ":name" in
 * any script?  Names are case-sensitive, as in psql.
 */
int	pgb_lex_psql_builtin(const char *s, size_t n);

/* Does s[0..n) spell the lowercase ASCII keyword 'kw', in any case? */
int	pgb_lex_kw_eq(const char *s, size_t n, const char *kw);

#endif /* PGB_LEX_H */
