#ifndef PGB_MANIFEST_H
#define PGB_MANIFEST_H

/*
 * manifest.h - the signed description of a bundle (docs/FORMAT.md).
 * The compiler fills one and writes it; the runtime parses one out of a
 * verified archive.  Every decision the runtime needs is in here: order,
 * statement boundaries, transaction mode, checksums, verify queries and
 * down scripts.
 */
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "diag.h"
#include "hash.h"

#define PGB_FORMAT_VERSION	1
#define PGB_MANIFEST_NAME	"MANIFEST"

enum pgb_mode { PGB_MODE_TX = 0, PGB_MODE_NOTX = 1 };

struct pgb_stmt {
	size_t	 off;		/* byte range in the script */
	size_t	 len;
	unsigned line;		/* line of the first token in its source file */
	int	 is_copy;	/* COPY ... FROM stdin with inline data */
	size_t	 copy_off;	/* the data, without the final \. line */
	size_t	 copy_len;
	char	*index;		/* CREATE INDEX CONCURRENTLY: index name, else NULL */
	char	*src;		/* source file when the text came from \i, else NULL */
};

struct pgb_script {
	char	*path;		/* entry name in the archive */
	unsigned char sha256[PGB_SHA256_LEN];
	size_t	 size;
	enum pgb_mode mode;
	int	 idempotent;	/* every statement can run twice safely */
	/*
	 * The compiler found nothing in it that outlives its transaction in
	 * the session (classify.h, 'session'): pgapply need not reset the
	 * session after it.  0 in a manifest that does not say so.
	 */
	int	 keeps_session;
	struct pgb_stmt *stmts;
	size_t	 nstmts;
	const unsigned char *text;	/* set by bundle.c once the entry
					   verified, followed by a NUL not
					   counted in 'size'; not owned */
};

/* One migration a baseline stands for (manifest "replaces" line). */
struct pgb_replaced {
	long long version;
	char	*name;		/* "" when the file name had none */
	unsigned char sha256[PGB_SHA256_LEN];	/* of its up script */
	unsigned char chain[PGB_SHA256_LEN];	/* its link in the bundles
						   that held it; computed by
						   the parser, not written */
};

struct pgb_migration {
	long long version;
	char	*name;		/* descriptive part, e.g. "create_users";
				   "" when the file name has none */
	struct pgb_script up;
	int	 has_down;
	struct pgb_script down;
	unsigned char chain[PGB_SHA256_LEN];
	char	**verify;	/* verify queries, run after the statements */
	unsigned *verify_line;	/* each one's line in the up script's
				   source file; 0: not known (a manifest
				   written before verify-line existed) */
	size_t	 nverify;
	/*
	 * A baseline (pgbundle squash) replaces migrations baseline_first
	 * through 'version': 'replaces' lists them, ascending, the first
	 * being baseline_first and the last 'version' itself.
	 */
	int	 baseline;
	long long baseline_first;
	struct pgb_replaced *replaces;
	size_t	 nreplaces;
};

struct pgb_manifest {
	unsigned format;
	char	*project;
	char	*target;	/* NULL when built without --target */
	char	*compiler;	/* "pgbundle 0.1.0" */
	char	*key_id;	/* 16 hex digits, or "unsigned" */
	long long created;	/* seconds since the epoch */
	char	 bundle_id[PGB_HEX256_LEN + 1];
	struct pgb_migration *migs;	/* ascending version */
	size_t	 nmigs;
};

void	pgb_manifest_init(struct pgb_manifest *);
void	pgb_manifest_release(struct pgb_manifest *);

/*
 * Parse 'len' bytes of manifest text into 'm' (initialised by the call).
 * Every field is range-checked: statement ranges against the script size,
 * versions strictly ascending, counts under bounds.h.  0 or -1 with 'd'
 * naming the line; on -1 'm' holds nothing that needs releasing.
 */
int	pgb_manifest_parse(const char *, size_t, struct pgb_manifest *,
	    struct pgb_diag *);

/*
 * Append 'm' as manifest text to 'out'.  Computes m->bundle_id (a hash
 * of every other line) and writes it too.  'm' must already satisfy what
 * the parser checks (names, bounds, ranges, chain): the writer does not
 * check, and pgb_manifest_parse() reads back exactly what it wrote.
 * key_id NULL is written as "unsigned".
 */
void	pgb_manifest_write(struct pgb_manifest *, struct pgb_buf *out);

/* "transaction" or "no-transaction", as in the manifest. */
const char *pgb_mode_name(enum pgb_mode);

/*
 * 1 if the 'n' bytes at 's' are a safe entry path: 1..PGB_NAME_MAX bytes
 * of printable ASCII other than space and backslash, not absolute, and
 * no empty, "." or ".." component.  Both the manifest's paths and the
 * archive's entry names must pass.
 */
int	pgb_manifest_path_ok(const char *s, size_t n);

#endif /* PGB_MANIFEST_H */
