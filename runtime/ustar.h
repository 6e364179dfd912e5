#ifndef PGB_USTAR_H
#define PGB_USTAR_H

/*
 * ustar.h - check, as it streams past, that a tar stream is the plain
 * ustar pgbundle writes (docs/FORMAT.md, "The tar stream"), and read the
 * entries out of it: the runtime's bundle reader feeds it every inflated
 * byte and takes each entry from its sink, so no other tar reader ever
 * parses a header.
 */
#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "diag.h"

/* One header the check passed. */
struct pgb_ustar_entry {
	uint64_t	off;			/* tar offset of its header */
	uint64_t	size;			/* bytes of data */
	char		name[PGB_NAME_MAX + 1];	/* prefix "/" name, safe */
};

/*
 * Where the entries go when the check is also the reader (bundle.c): each
 * header the check passed, then its data in pieces as it streams past,
 * then its end, once its padding was checked too.  Each returns 0, or -1
 * with 'd' filled to stop the feed.
 */
struct pgb_ustar_sink {
	int	(*entry)(void *ctx, const struct pgb_ustar_entry *,
		    struct pgb_diag *);
	int	(*data)(void *ctx, const unsigned char *, size_t,
		    struct pgb_diag *);
	int	(*end)(void *ctx, struct pgb_diag *);
	void	*ctx;
};

/* The state of one check; on the stack, fields private to ustar.c. */
struct pgb_ustar {
	uint64_t		 pos;		/* tar bytes seen */
	uint64_t		 skip;		/* data bytes still to come */
	uint64_t		 zeros;		/* bytes that must be zero */
	uint64_t		 eoa;		/* end of the two zero blocks */
	int			 state;
	size_t			 have;		/* bytes of blk filled */
	unsigned char		 blk[512];
	struct pgb_ustar_entry	*v;
	size_t			 n, cap;	/* headers seen */
	const struct pgb_ustar_sink *sink;	/* NULL: check only */
	int			 open;		/* the sink's entry has not
						   ended yet */
};

void	pgb_ustar_init(struct pgb_ustar *);
void	pgb_ustar_release(struct pgb_ustar *);
/*
 * Hand every entry to 'sink' (kept by reference) as it streams past.  The
 * check then keeps only the last header: pgb_ustar_entry() knows no other.
 */
void	pgb_ustar_sink(struct pgb_ustar *, const struct pgb_ustar_sink *);

/*
 * The next 'n' bytes of the stream.  0, or -1 (PGB_EBUNDLE) at the first
 * thing that is not what pgbundle writes; 'd' names the entry (1-based,
 * counting every header) and what is wrong.
 */
int	pgb_ustar_feed(struct pgb_ustar *, const unsigned char *, size_t,
	    struct pgb_diag *);

/* The stream ended: 0 if it ended as pgbundle ends it, else -1. */
int	pgb_ustar_end(const struct pgb_ustar *, struct pgb_diag *);

/* Entry 'i' (0-based) of those seen so far, or NULL. */
const struct pgb_ustar_entry *pgb_ustar_entry(const struct pgb_ustar *,
	    size_t i);

/* Entries seen, and the offset after the end-of-archive blocks (0 before). */
size_t	pgb_ustar_count(const struct pgb_ustar *);
uint64_t pgb_ustar_eoa(const struct pgb_ustar *);

#endif /* PGB_USTAR_H */
