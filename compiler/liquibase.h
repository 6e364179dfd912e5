#ifndef PGB_LIQUIBASE_H
#define PGB_LIQUIBASE_H

/*
 * liquibase.h - Liquibase formatted SQL: a file that starts with
 * "--liquibase formatted sql" holds changesets, each from its
 * "--changeset AUTHOR:ID [attribute:value ...]" line to the next, with
 * its rollback in "--rollback SQL" lines.  Each changeset is a migration.
 */
#include <stddef.h>

#include "bounds.h"
#include "sections.h"

struct pgb_changeset {
	unsigned line;		/* of its --changeset line */
	char	 id[PGB_LIQUIBASE_ID_MAX + 1];
	struct pgb_section up;	/* its lines, to the next changeset */
	struct pgb_section down; /* present with --rollback lines; 'text'
				   holds them, each on its own line */
};

/*
 * The changesets of the formatted SQL file 'text' ('len' bytes) into a
 * new array *out of *n (free it with pgb_liquibase_free()); a changeset
 * marked "ignore:true" is left out, as Liquibase leaves it.  -1 with
 * *errline and 'why' (at most 'whylen' bytes) for: no header line, a
 * statement before the first changeset, a changeset line that does not
 * parse or whose id cannot name a migration, an attribute pgbundle
 * cannot honour (runAlways, runOnChange, failOnError:false, context,
 * labels, a dbms that leaves PostgreSQL out, an endDelimiter other than
 * ';'), preconditions, includes, and a multi-line rollback block.
 */
int	pgb_liquibase_parse(const char *text, size_t len,
	    struct pgb_changeset **out, size_t *n, unsigned *errline,
	    char *why, size_t whylen);
void	pgb_liquibase_free(struct pgb_changeset *, size_t);

#endif /* PGB_LIQUIBASE_H */
