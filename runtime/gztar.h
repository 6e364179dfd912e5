#ifndef PGB_GZTAR_H
#define PGB_GZTAR_H

/*
 * gztar.h - the feeding half of the runtime's verify path: inflate a
 * bundle's one gzip member under the caps of bounds.h and pass every
 * inflated byte through the ustar check (ustar.h), which hands each
 * entry to a sink.  What the entries must be (the manifest, names,
 * sizes, hashes) is bundle.c's policy, in the sink.
 */
#include <stddef.h>

#include "diag.h"
#include "ustar.h"

/*
 * Inflate 'len' bytes of 'data' (at most PGB_BUNDLE_MAX) through the
 * ustar check into 'sink'.  'givable' is NULL, or 'data' itself when it
 * is writable and page-aligned: the compressed bytes already inflated are
 * then given back to the system as the reading goes on.
 * 0: the gzip member ended at the last byte of 'data', its trailer's CRC
 * and length right, and the tar stream ended as pgbundle ends it.
 * -1 (PGB_EBUNDLE, PGB_EINTERNAL when out of memory, or the sink's own
 * diag): 'd' says why; the sink may have taken some entries.
 */
int	pgb_gztar_read(const unsigned char *data, size_t len,
	    unsigned char *givable, const struct pgb_ustar_sink *sink,
	    struct pgb_diag *d);

#endif /* PGB_GZTAR_H */
