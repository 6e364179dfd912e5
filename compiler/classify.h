#ifndef PGB_CLASSIFY_H
#define PGB_CLASSIFY_H

/*
 * classify.h - what one SQL statement does, as far as its tokens tell.
 *
 * The classifier reads the tokens of one statement (pgb_lex_token(), so
 * quoting and comments follow psql's rules: a DROP TABLE inside a
 * function body is not one) and answers the questions the compiler asks:
 * is it transaction control, can it run inside a transaction block, can
 * it be repeated safely, and which lint rules does it trip.  It is a
 * recogniser of statement heads, not a parser: anything it does not know
 * classifies as plain.
 */
#include <stddef.h>

#include "bounds.h"

enum pgb_txctl {
	PGB_TXCTL_NONE = 0,
	PGB_TXCTL_BEGIN,	/* BEGIN, START TRANSACTION */
	PGB_TXCTL_COMMIT,	/* COMMIT, END (not AND CHAIN, not PREPARED) */
	PGB_TXCTL_OTHER		/* ROLLBACK, ABORT, SAVEPOINT, RELEASE,
				   PREPARE TRANSACTION, COMMIT/ROLLBACK
				   PREPARED, COMMIT AND CHAIN, SET TRANSACTION */
};

#define PGB_LINT_DROP_TABLE	0x01	/* DROP TABLE */
#define PGB_LINT_DROP_COLUMN	0x02	/* ALTER TABLE ... DROP [COLUMN] x */
#define PGB_LINT_INDEX_LOCKS	0x04	/* CREATE INDEX without CONCURRENTLY */
#define PGB_LINT_NOT_NULL	0x08	/* ADD COLUMN ... NOT NULL (or PRIMARY
					   KEY) without DEFAULT */
#define PGB_LINT_ALTER_TYPE	0x10	/* ALTER COLUMN ... [SET DATA] TYPE */

struct pgb_class {
	enum pgb_txctl txctl;
	/*
	 * Static text naming what PostgreSQL refuses to run inside a
	 * transaction block ("CREATE INDEX CONCURRENTLY", "VACUUM", ...),
	 * else NULL.
	 */
	const char	*notx;
	/*
	 * 1 when running it twice leaves the same state as running it once:
	 * IF [NOT] EXISTS where the command takes it, CREATE OR REPLACE, or
	 * a naturally repeatable command (VACUUM, ANALYZE, REINDEX, CLUSTER,
	 * ALTER SYSTEM, SET, RESET, COMMENT ON, GRANT, REVOKE, REFRESH
	 * MATERIALIZED VIEW, INSERT ... ON CONFLICT DO NOTHING, ALTER TABLE whose
	 * every action is repeatable, ...).
	 */
	int		 idempotent;
	int		 is_copy_stdin;	/* COPY ... FROM STDIN (or STDOUT) */
	/*
	 * "COPY ... TO STDOUT" (or the "TO STDIN" the server takes as the
	 * same): the rows go to the client, which psql prints.  Else NULL.
	 */
	const char	*copy_out;
	/*
	 * CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] name ON table:
	 * the index as SQL text for to_regclass() and DROP INDEX: as written
	 * (quoted identifiers keep their quotes; a U&"" one is re-quoted
	 * plainly), prefixed with the table's schema when the table is
	 * qualified.  Empty otherwise, for a nameless index, or if it would
	 * not fit.
	 */
	char		 index[PGB_NAME_MAX + 1];
	/*
	 * The table of any CREATE INDEX, and the relation a CREATE TABLE
	 * (or CREATE MATERIALIZED VIEW) creates, normalised for comparison:
	 * unquoted identifiers lowercased, quotes removed, each part cut to
	 * 63 bytes as the server does, parts joined by '.' ("schema.name").
	 * Empty otherwise.
	 */
	char		 table[PGB_NAME_MAX + 1];
	/*
	 * CREATE [GLOBAL|LOCAL] [TEMP|TEMPORARY|UNLOGGED] TABLE (also AS and
	 * PARTITION OF) or CREATE MATERIALIZED VIEW: nobody else can hold
	 * locks on it yet.
	 */
	int		 creates_table;
	/*
	 * Static text naming how the statement may leave the session other
	 * than its transaction found it ("SET", "RESET", "set_config(...,
	 * false)", "a temporary object", "PREPARE", "LISTEN", "a session
	 * advisory lock", "a cursor WITH HOLD", "DISCARD", "LOAD", "DO",
	 * "CALL", ...), else NULL.  What its text shows, no more: code it
	 * only calls (a function, a trigger) is not read.  SET LOCAL, SET
	 * TRANSACTION and SET CONSTRAINTS end with the transaction.
	 */
	const char	*session;
	unsigned	 lint;		/* PGB_LINT_* bits */
};

/*
 * Classify the statement in 'len' bytes of 'sql' (no NUL needed) into
 * *out.  Always 0: odd or unknown input classifies as plain.
 */
int		 pgb_classify(const char *sql, size_t len, struct pgb_class *out);

/*
 * The rule name of one PGB_LINT_* bit: "drop-table", "drop-column",
 * "index-locks", "not-null-no-default", "alter-type"; NULL for others.
 */
const char	*pgb_lint_rule(unsigned bit);

#endif /* PGB_CLASSIFY_H */
