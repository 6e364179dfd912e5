#ifndef PGB_SECTIONS_H
#define PGB_SECTIONS_H

/*
 * sections.h - the markers migration tools write in SQL comments, and
 * the up and down sections of the layouts that keep both in one file:
 *
 *   dbmate       -- migrate:up [transaction:false]   -- migrate:down
 *   goose        -- +goose Up   -- +goose Down   -- +goose StatementBegin
 *                -- +goose StatementEnd   -- +goose NO TRANSACTION
 *   sql-migrate  -- +migrate Up [notransaction]   -- +migrate Down
 *                -- +migrate StatementBegin   -- +migrate StatementEnd
 *   liquibase    --liquibase formatted sql   --changeset AUTHOR:ID
 *
 * A marker is a line comment that starts its line.
 */
#include <stddef.h>

#include "layout.h"
#include "lex.h"

enum pgb_mark {
	PGB_MARK_NONE = 0,	/* no marker of any tool */
	PGB_MARK_UP,		/* starts an up section */
	PGB_MARK_DOWN,		/* starts a down section */
	PGB_MARK_CHANGESET,	/* Liquibase: starts a changeset */
	PGB_MARK_HEADER,	/* "--liquibase formatted sql" */
	PGB_MARK_OTHER		/* any other of the tool's annotations */
};

/*
 * What the directive 'body' (a comment's text after "--" and blanks, as
 * lex.h gives it) marks, and for which tool: *owner is the layout (AUTO
 * when it is no marker).  Loose on purpose: any spacing, any case.
 */
enum pgb_mark pgb_sections_marker(const char *body, enum pgb_layout *owner);

/* 1 when 'layout' keeps a migration's up and down in one file. */
int	pgb_sections_layout(enum pgb_layout);

/* "-- +goose Up\n" and so on: the line that opens an up section. */
const char *pgb_sections_up_line(enum pgb_layout);

/*
 * The layout whose up marker (or Liquibase header) comes first in 'len'
 * bytes of 'text', read as comments by the lexer; AUTO when none.  What
 * tells a dbmate, goose or sql-migrate file from a plain one.
 */
enum pgb_layout pgb_sections_sniff(const char *text, size_t len);

/*
 * The first marker in 'lx' (the lexed 'text') that does not belong in a
 * file read in 'layout': one of another tool, or in an included file
 * ('top' 0) any up, down or changeset marker.  0 when there is none, -1
 * with *line and 'why' naming it: a down section must never run as part
 * of an up.
 */
int	pgb_sections_foreign(enum pgb_layout layout, int top, const char *text,
	    size_t len, const struct pgb_lex *lx, unsigned *line, char *why,
	    size_t whylen);

/* One section of a file: the lines from its marker to the next. */
struct pgb_section {
	int	 present;	/* the marker was found */
	size_t	 off;		/* start of the marker's line */
	size_t	 len;		/* up to the next marker's line or the end */
	unsigned line0;		/* lines before it: file line = line0 + n */
	size_t	 nstmts;	/* statements that start inside it */
	int	 notx;		/* no transaction, as the tool spells it */
	char	*text;		/* or its text, built (Liquibase's rollback
				   lines): 'len' bytes, lines as in the file */
};

/*
 * Find the up and down sections of a file of 'layout' (dbmate, goose or
 * sql-migrate) in 'len' bytes of 'text', each marker spelt exactly as
 * the tool reads it.  -1 with *errline and 'why' (at most 'whylen'
 * bytes) on a file the lexer refuses, a missing or repeated marker, a
 * down section before the up one, a statement before the up marker, an
 * unknown annotation or option, or a StatementBegin without its
 * StatementEnd.
 */
int	pgb_sections_find(enum pgb_layout layout, const char *text, size_t len,
	    struct pgb_section *up, struct pgb_section *down, unsigned *errline,
	    char *why, size_t whylen);

#endif /* PGB_SECTIONS_H */
