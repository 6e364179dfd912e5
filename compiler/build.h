#ifndef PGB_BUILD_H
#define PGB_BUILD_H

/*
 * build.h - the compiler's pipeline: scan, compile, manifest, pack, sign,
 * re-verify with the runtime's own code, write.
 */
#include <stddef.h>

#include "diag.h"
#include "hash.h"
#include "layout.h"
#include "report.h"
#include "sig.h"
#include "sum.h"

struct pgb_build_opts {
	const char	*dir;		/* migrations folder */
	const char	*out;		/* bundle path; NULL: bundles/<name> */
	const char	*key;		/* private key; NULL with unsigned_ok */
	int		 unsigned_ok;
	const char	*signer;	/* unsigned: the public key that will
					   sign it (recorded as key-id) */
	const char	*project;	/* NULL: the folder above 'dir' */
	const char	*target;	/* NULL: none */
	const char	*include_root;	/* base of \i; NULL: the cwd */
	int		 write;		/* 0: check only, write nothing */
	enum pgb_layout	 layout;	/* AUTO: detect it from the names */
	enum pgb_sum_mode sum;		/* DIR/pgbundle.sum: IGNORE, CHECK
					   (check), UPDATE (build), FIX */
	int		 sum_only;	/* compile and do the sum file, no
					   bundle (pgbundle sum) */
	int		 lint_all;	/* lint released migrations too (those
					   DIR/pgbundle.sum records) */
	int		 sums;		/* a SHA256SUMS line beside the bundle
					   wherever it is; without it only in
					   a folder named "bundles" */
};

struct pgb_build_result {
	char	 path[4096];
	char	 key_id[PGB_KEYID_LEN + 1];	/* signed with; or "unsigned" */
	char	 signer[PGB_KEYID_LEN + 1];	/* recorded signer, or "" */
	char	 bundle_id[PGB_HEX256_LEN + 1];
	size_t	 nmigs;
	size_t	 nstmts;
	size_t	 size;
	long long last;
	char	 layout[16];	/* the layout read, e.g. "flyway" */
	int	 sum_written;	/* DIR/pgbundle.sum was (re)written */
	size_t	 unlinted;	/* released migrations not linted */
	size_t	 nnew;		/* migrations DIR/pgbundle.sum does not
				   record yet (0 without the file) */
};

/*
 * Problems in the sources go to 'r' (then -1 with PGB_ESOURCE); other
 * failures (I/O, keys) are -1 with 'd' saying why.
 */
int	pgb_build(const struct pgb_build_opts *, struct pgb_report *r,
	    struct pgb_build_result *, struct pgb_diag *);

struct pgb_bundle;

/*
 * The same compile, into an unsigned bundle kept in memory (o->key,
 * o->out and o->write are ignored): 0 and *out, the bundle as the
 * runtime's verifier read it back (its scripts carry their text; free it
 * with pgb_bundle_free()), or -1 and *out NULL, as pgb_build().
 */
int	pgb_build_bundle(const struct pgb_build_opts *, struct pgb_report *r,
	    struct pgb_build_result *, struct pgb_bundle **out,
	    struct pgb_diag *);

/*
 * The time a compile records: SOURCE_DATE_EPOCH when set, else now, in
 * seconds since the epoch.  0, or -1 (PGB_EUSAGE) when the variable is
 * not a number of seconds.
 */
int	pgb_now_or_epoch(long long *t, struct pgb_diag *);

#endif /* PGB_BUILD_H */
