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
 * of the line) and directive comments ("-- pgbundle:..." and
 * "-- verify: ...") without acting on them: expanding \i is the caller's.
 */
#include <stddef.h>

#include "diag.h"

struct pgb_lex_stmt {
	size_t	 off;		/* first byte of the first token */
	size_t	 len;		/* through the terminating ';' if any */
	unsigned line;		/* line of the first token, 1-based */
	int	 is_copy;	/* COPY ... FROM stdin: data follows */
	size_t	 copy_off;	/* first byte of the data lines */
	size_t	 copy_len;	/* up to, not including, the "\." line */
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

struct pgb_lex_directive {	/* "-- pgbundle:..." or "-- verify: ..." */
	unsigned line;
	char	*text;		/* after "--" and blanks, without '\n' */
};

struct pgb_lex {
	struct pgb_lex_stmt	 *stmts;
	size_t			  nstmts;
	struct pgb_lex_meta	 *metas;
	size_t			  nmetas;
	struct pgb_lex_directive *dirs;
	size_t			  ndirs;
};

/*
 * Split 'len' bytes of 'text' into 'out' (initialised by the call).
 * -1 on an unterminated string, quoted identifier, dollar quote, block
 * comment or COPY data: d->msg names the construct and the line where it
 * opened is in *errline.  Release 'out' with pgb_lex_release() either way.
 */
int	pgb_lex_split(const char *text, size_t len, struct pgb_lex *out,
	    unsigned *errline, struct pgb_diag *d);
void	pgb_lex_release(struct pgb_lex *);

/*
 * Check that 'text' is valid UTF-8 with no NUL byte.  -1 with the line
 * of the first bad byte in *errline.
 */
int	pgb_lex_check_text(const char *text, size_t len, unsigned *errline,
	    struct pgb_diag *d);

#endif /* PGB_LEX_H */
