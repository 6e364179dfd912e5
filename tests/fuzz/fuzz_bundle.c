/*
 * fuzz_bundle.c - libFuzzer target: the bundle reader behind the
 * signature, as pgapply runs it once a signature has verified.
 *
 * Trusts: nothing; the input is the whole bundle file.  The signature
 * check is skipped (no signature, unsigned allowed), so every byte
 * reaches the ustar reader, the caps, the manifest parser, the entry checks and
 * the trailing-data check.  A crash, leak or sanitizer report is a bug;
 * a refusal is the expected outcome for almost every input.
 */
#include <stddef.h>
#include <stdint.h>

#include "bundle.h"
#include "diag.h"
#include "banned.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct pgb_bundle	*b = NULL;
	struct pgb_diag		 d;

	pgb_diag_clear(&d);
	if (pgb_bundle_load(data, len, NULL, 0, NULL, 0, 1, NULL, &b,
	    &d) == 0)
		pgb_bundle_free(b);
	return 0;
}
