#ifndef PGB_REPORT_H
#define PGB_REPORT_H

/*
 * report.h - the compiler's list of findings about source files.
 *
 * Validation goes on past the first problem so that one run shows them
 * all; each finding is printed by main.c as "file:line: error: message",
 * the form compilers use and editors and CI annotate.
 */
#include <stddef.h>

enum pgb_sev { PGB_SEV_NOTE, PGB_SEV_WARNING, PGB_SEV_ERROR };

struct pgb_finding {
	enum pgb_sev sev;
	char	*file;
	unsigned line;		/* 0: the file as a whole */
	char	*rule;		/* lint rule name, or NULL */
	char	*msg;
	char	*detail;	/* the server's DETAIL, or NULL */
	char	*hint;		/* what to do (the server's HINT), or NULL */
};

struct pgb_report {
	struct pgb_finding *v;
	size_t	 n;
	size_t	 nerrors;
	size_t	 nwarnings;
	int	 strict;	/* warnings count as errors */
};

void	pgb_report_init(struct pgb_report *, int strict);
void	pgb_report_release(struct pgb_report *);
void	pgb_report_add(struct pgb_report *, enum pgb_sev, const char *file,
	    unsigned line, const char *rule, const char *fmt, ...)
	    __attribute__((format(printf, 6, 7)));
/*
 * Attach the server's DETAIL and a HINT (either may be NULL or "") to the
 * last finding added.
 */
void	pgb_report_explain(struct pgb_report *, const char *detail,
	    const char *hint);
/*
 * Remove the lint warnings (those with a rule) added since finding
 * 'from'; returns how many went.
 */
size_t	pgb_report_drop_lint(struct pgb_report *, size_t from);
/* Errors, plus warnings when strict. */
size_t	pgb_report_failures(const struct pgb_report *);
/* Sort by file, then line, keeping insertion order among equals. */
void	pgb_report_sort(struct pgb_report *);

#endif /* PGB_REPORT_H */
