/*
 * fuzz_manifest.c - libFuzzer target: pgb_manifest_parse() on any bytes.
 *
 * Trusts: nothing.  Each input is parsed twice: as it is, and with its
 * "bundle-id" line (when it has one) rewritten to the hash of the other
 * lines, so that mutations get past that check to the rules behind it.
 * A manifest that parses is written back with pgb_manifest_write() and
 * must parse again (FORMAT.md: the parser reads what the writer wrote).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"
#include "hash.h"
#include "manifest.h"
#include "banned.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
parse_and_roundtrip(const char *text, size_t len)
{
	struct pgb_manifest	m, again;
	struct pgb_diag		d;
	struct pgb_buf		out;

	pgb_diag_clear(&d);
	if (pgb_manifest_parse(text, len, &m, &d) == -1)
		return;
	pgb_buf_init(&out);
	pgb_manifest_write(&m, &out);
	if (pgb_manifest_parse(out.data, out.len, &again, &d) == -1)
		abort();	/* the writer wrote what the parser refuses */
	pgb_manifest_release(&again);
	pgb_buf_release(&out);
	pgb_manifest_release(&m);
}

/* A copy of 'text' whose bundle-id line holds the right hash. */
static int
fix_bundle_id(const char *text, size_t len, struct pgb_buf *out)
{
	static const char	 key[] = "\nbundle-id ";
	const char		*p = NULL, *eol;
	struct pgb_buf		 rest;
	unsigned char		 h[PGB_SHA256_LEN];
	char			 hex[PGB_HEX256_LEN + 1];
	size_t			 i, start, end;

	for (i = 0; i + sizeof(key) - 1 <= len; i++) {
		if (memcmp(text + i, key, sizeof(key) - 1) == 0) {
			p = text + i + 1;
			break;
		}
	}
	if (p == NULL)
		return -1;
	start = (size_t)(p - text);
	eol = memchr(p, '\n', len - start);
	end = eol ? (size_t)(eol - text) + 1 : len;
	pgb_buf_init(&rest);
	pgb_buf_append(&rest, text, start);
	pgb_buf_append(&rest, text + end, len - end);
	pgb_sha256(rest.data, rest.len, h);
	pgb_hex(h, PGB_SHA256_LEN, hex);
	pgb_buf_append(out, text, start);
	pgb_buf_printf(out, "bundle-id %s\n", hex);
	pgb_buf_append(out, text + end, len - end);
	pgb_buf_release(&rest);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct pgb_buf	fixed;

	parse_and_roundtrip((const char *)data, len);
	pgb_buf_init(&fixed);
	if (fix_bundle_id((const char *)data, len, &fixed) == 0)
		parse_and_roundtrip(fixed.data, fixed.len);
	pgb_buf_release(&fixed);
	return 0;
}
