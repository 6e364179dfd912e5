#ifndef PGB_SOURCE_H
#define PGB_SOURCE_H

/*
 * source.h - turn one migration's source files into what a bundle ships:
 * the expanded script text and its manifest entry (statements, mode,
 * directives, lint findings).
 */
#include "buf.h"
#include "manifest.h"
#include "report.h"
#include "scan.h"

struct pgb_source_opts {
	const char *include_root;	/* base of \i paths; NULL: the cwd */
	enum pgb_layout layout;		/* the folder's, as scan.c read it */
	const struct pgb_scan *scan;	/* the folder's migrations, or NULL */
};

/* Tables created by the migrations compiled so far (for index lint). */
struct pgb_tableset {
	char	**v;
	size_t	  n;
};

void	pgb_tableset_release(struct pgb_tableset *);

/*
 * Compile migration 'sm': fills 'out' (everything but 'chain') and the
 * shipped texts of its up and down scripts.  Problems go to 'r'; returns
 * the number of errors found (0: 'out' is complete).  'seen' holds the
 * tables earlier migrations created and gains this one's.  'out' is
 * meant to be placed in a manifest, whose release frees it, whatever
 * the result.
 */
size_t	pgb_source_compile(const struct pgb_srcmig *sm,
	    const struct pgb_source_opts *, struct pgb_tableset *seen,
	    struct pgb_migration *out, struct pgb_buf *uptext,
	    struct pgb_buf *downtext, struct pgb_report *r);

#endif /* PGB_SOURCE_H */
