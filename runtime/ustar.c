/*
 * ustar.c - check that a tar stream is the plain ustar pgbundle writes,
 * block by block as it streams past, and hand each entry it passed to a
 * sink: the runtime's only tar reader.
 *
 * Trusts: nothing; the stream comes in pieces of any size.
 * Accepts exactly what compiler/pack.c produces (libarchive's ustar
 * writer): headers of regular files (type '0') with magic "ustar\0" and
 * version "00", a right unsigned header checksum, numeric fields of octal
 * digits ended by NULs or spaces, a mode of at most 07777, a size within
 * its cap, a safe name (prefix "/" name), text fields ended by NULs only,
 * no link name; each entry's data padded with zeros to 512 bytes; then
 * two zero blocks and at most zeros up to the end of their 10240-byte
 * record (the padding pack.c's libarchive writes; written through a
 * compressing filter, libarchive leaves it out), and nothing more.
 * Rejects everything else, naming the entry and what is wrong: pax, GNU
 * and other headers, base-256 or space-padded numbers, signed checksums,
 * stray bytes, a lone zero block, a missing end: tar readers differ on
 * all of these, so none may reach one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "manifest.h"
#include "ustar.h"
#include "banned.h"

#define BLOCK	512u
#define RECORD	10240u		/* 20 blocks: what tar writers pad to */

enum { T_HEADER, T_ZERO1, T_END };	/* expecting; after one zero block;
					   after both */

/* A field of the header: its offset, length and name in messages. */
struct field {
	unsigned	 off, len;
	const char	*what;
};

/* Octal digits, then NULs or spaces. */
static const struct field numbers[] = {
	{ 100, 8, "mode" }, { 108, 8, "uid" }, { 116, 8, "gid" },
	{ 124, 12, "size" }, { 136, 12, "mtime" }, { 329, 8, "devmajor" },
	{ 337, 8, "devminor" },
};

/* Text, then only NULs: a reader may not find more after the first. */
static const struct field texts[] = {
	{ 0, 100, "name field" }, { 265, 32, "uname field" },
	{ 297, 32, "gname field" }, { 345, 155, "prefix field" },
	{ 500, 12, "last 12 bytes" },
};

static int	 octal(const unsigned char *, size_t, uint64_t *);
static int	 nuls_after_text(const unsigned char *, size_t);
static size_t	 zero_run(const unsigned char *, size_t);
static uint64_t	 checksum(const unsigned char *);
static const char *type_name(int);
static const struct pgb_ustar_entry *last(const struct pgb_ustar *);
static void	 last_name(const struct pgb_ustar *, char *, size_t);
static int	 bad(struct pgb_ustar *, const char *, struct pgb_diag *,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
static int	 fields(struct pgb_ustar *, const char *, struct pgb_diag *);
static int	 header(struct pgb_ustar *, struct pgb_diag *);
static int	 block(struct pgb_ustar *, struct pgb_diag *);
static int	 not_zero(struct pgb_ustar *, uint64_t, struct pgb_diag *);

void
pgb_ustar_init(struct pgb_ustar *t)
{
	memset(t, 0, sizeof(*t));
	t->state = T_HEADER;
}

void
pgb_ustar_sink(struct pgb_ustar *t, const struct pgb_ustar_sink *sink)
{
	t->sink = sink;
}

void
pgb_ustar_release(struct pgb_ustar *t)
{
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

/* An octal field: 1+ digits, then 1+ NULs or spaces to its end. */
static int
octal(const unsigned char *p, size_t n, uint64_t *v)
{
	size_t	i;

	*v = 0;
	for (i = 0; i < n && p[i] >= '0' && p[i] <= '7'; i++)
		*v = *v * 8 + (uint64_t)(p[i] - '0');	/* n <= 12: no overflow */
	if (i == 0 || i == n)
		return -1;
	for (; i < n; i++) {
		if (p[i] != '\0' && p[i] != ' ')
			return -1;
	}
	return 0;
}

/* 1 if after the first NUL of the 'n' bytes at 'p' there are only NULs. */
static int
nuls_after_text(const unsigned char *p, size_t n)
{
	size_t	len = strnlen((const char *)p, n);

	return zero_run(p + len, n - len) == n - len;
}

/* How many of the 'n' bytes at 'p' are zero before the first that is not. */
static size_t
zero_run(const unsigned char *p, size_t n)
{
	static const unsigned char	zeros[BLOCK];
	size_t				i = 0, k;

	/* A block at a time (memcmp is vectorised), then byte by byte. */
	while (i < n) {
		k = n - i < BLOCK ? n - i : BLOCK;
		if (memcmp(p + i, zeros, k) != 0)
			break;
		i += k;
	}
	while (i < n && p[i] == 0)
		i++;
	return i;
}

/* The header's unsigned byte sum, its checksum field counted as spaces. */
static uint64_t
checksum(const unsigned char *h)
{
	uint64_t	sum = 8 * ' ';
	size_t		i;

	for (i = 0; i < BLOCK; i++) {
		if (i < 148 || i >= 156)
			sum += h[i];
	}
	return sum;
}

static const char *
type_name(int c)
{
	switch (c) {
	case '\0':	return "old-style regular file";
	case '1':	return "hard link";
	case '2':	return "symbolic link";
	case '3':	return "character device";
	case '4':	return "block device";
	case '5':	return "directory";
	case '6':	return "FIFO";
	case '7':	return "contiguous file";
	case 'g':	return "pax global header";
	case 'x':	return "pax extended header";
	case 'X':	return "old pax extended header";
	case 'D':	return "GNU directory dump";
	case 'K':	return "GNU long link name";
	case 'L':	return "GNU long name";
	case 'M':	return "GNU multi-volume continuation";
	case 'N':	return "GNU old long names";
	case 'S':	return "GNU sparse file";
	case 'V':	return "GNU volume label";
	default:	return "unknown type";
	}
}

/* The last header passed (t->n > 0). */
static const struct pgb_ustar_entry *
last(const struct pgb_ustar *t)
{
	return &t->v[t->sink != NULL ? 0 : t->n - 1];
}

/* "entry N 'NAME'" for the last header passed, or "" before any. */
static void
last_name(const struct pgb_ustar *t, char *out, size_t n)
{
	char	e[PGB_ESC_MAX];

	if (t->n == 0) {
		out[0] = '\0';
		return;
	}
	pgb_esc(last(t)->name, e, sizeof(e));
	snprintf(out, n, "entry %zu '%s'", t->n, e);
}

/* "entry N 'NAME' <what>" about the header being read; returns -1. */
static int
bad(struct pgb_ustar *t, const char *name, struct pgb_diag *d,
    const char *fmt, ...)
{
	va_list	ap;
	char	e[PGB_ESC_MAX], what[128];

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	pgb_esc(name, e, sizeof(e));
	return pgb_fail(d, PGB_EBUNDLE, "entry %zu '%s' %s", t->n + 1, e,
	    what);
}

/* Every field but the name and size, in the order a reader meets them. */
static int
fields(struct pgb_ustar *t, const char *name, struct pgb_diag *d)
{
	const unsigned char	*h = t->blk;
	uint64_t		 v;
	size_t			 i;
	char			 c[8];

	if (octal(h + 148, 8, &v) == -1 || v != checksum(h))
		return bad(t, name, d, "has a bad header checksum");
	if (h[156] != '0') {
		if (h[156] > ' ' && h[156] < 0x7f && h[156] != '\\')
			snprintf(c, sizeof(c), "%c", h[156]);
		else
			snprintf(c, sizeof(c), "\\x%02x", h[156]);
		return bad(t, name, d, "is not a regular file: type '%s' (%s)",
		    c, type_name(h[156]));
	}
	if (memcmp(h + 257, "ustar\0" "00", 8) != 0)
		return bad(t, name, d, "is not a plain ustar header (%s)",
		    memcmp(h + 257, "ustar  \0", 8) == 0 ? "GNU tar magic" :
		    memcmp(h + 257, "ustar\0", 6) == 0 ? "version is not 00" :
		    "no ustar magic");
	for (i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		if (octal(h + numbers[i].off, numbers[i].len, &v) == -1 ||
		    (numbers[i].off == 100 && v > 07777))
			return bad(t, name, d, "has a bad %s field",
			    numbers[i].what);
	}
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		if (!nuls_after_text(h + texts[i].off, texts[i].len))
			return bad(t, name, d, "has stray bytes in its %s",
			    texts[i].what);
	}
	if (zero_run(h + 157, 100) != 100)
		return bad(t, name, d, "has a link name");
	return 0;
}

/* A block that is not all zeros, where a header must be. */
static int
header(struct pgb_ustar *t, struct pgb_diag *d)
{
	const unsigned char	*h = t->blk;
	struct pgb_ustar_entry	*en;
	char			 name[155 + 1 + 100 + 1], e[PGB_ESC_MAX];
	size_t			 nlen, plen, len;
	uint64_t		 size, cap;

	if (t->n == PGB_ENTRIES_MAX)
		return pgb_fail(d, PGB_EBUNDLE, "bundle has more than %u "
		    "entries", PGB_ENTRIES_MAX);
	nlen = strnlen((const char *)h, 100);
	plen = strnlen((const char *)h + 345, 155);
	len = 0;
	if (plen > 0) {
		memcpy(name, h + 345, plen);
		name[plen] = '/';
		len = plen + 1;
	}
	memcpy(name + len, h, nlen);
	len += nlen;
	name[len] = '\0';
	if (fields(t, name, d) == -1)
		return -1;
	if (!pgb_manifest_path_ok(name, len)) {
		pgb_esc(name, e, sizeof(e));
		return pgb_fail(d, PGB_EBUNDLE, "entry %zu has an unsafe path "
		    "'%s'", t->n + 1, e);
	}
	(void)octal(h + 124, 12, &size);	/* fields() checked it */
	cap = strcmp(name, PGB_MANIFEST_NAME) == 0 ? PGB_MANIFEST_MAX :
	    PGB_SQL_MAX;
	if (size > cap)
		return bad(t, name, d, "is %llu bytes, over the limit of %llu",
		    (unsigned long long)size, (unsigned long long)cap);
	/* A reader keeps only the header it reads (slot 0). */
	if (t->sink != NULL ? t->cap == 0 : t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : t->sink != NULL ? 1 : 64;
		t->v = pgb_xreallocarray(t->v, t->cap, sizeof(*t->v));
	}
	en = &t->v[t->sink != NULL ? 0 : t->n];
	t->n++;
	en->off = t->pos - BLOCK;
	en->size = size;
	memcpy(en->name, name, len + 1);	/* len <= PGB_NAME_MAX */
	t->skip = size;
	t->zeros = (BLOCK - size % BLOCK) % BLOCK;
	if (t->sink == NULL)
		return 0;
	if (t->sink->entry(t->sink->ctx, en, d) == -1)
		return -1;
	if (size == 0)
		return t->sink->end(t->sink->ctx, d);
	t->open = 1;
	return 0;
}

/* A whole block where a header or an end-of-archive block may be. */
static int
block(struct pgb_ustar *t, struct pgb_diag *d)
{
	char	after[PGB_ESC_MAX + 32];

	if (zero_run(t->blk, BLOCK) < BLOCK) {
		if (t->state == T_ZERO1) {
			last_name(t, after, sizeof(after));
			pgb_fail(d, PGB_EBUNDLE, "tar archive has a single zero "
			    "block %s%s", t->n ? "after " : "at its start",
			    after);
			pgb_detail(d, "the end of an archive is two zero blocks; "
			    "a header follows this one at offset %llu",
			    (unsigned long long)(t->pos - BLOCK));
			return -1;
		}
		return header(t, d);
	}
	if (t->state == T_HEADER) {
		t->state = T_ZERO1;
		return 0;
	}
	t->state = T_END;
	t->eoa = t->pos;
	t->zeros = (RECORD - t->pos % RECORD) % RECORD;
	return 0;
}

/* A byte at 'at' that must be zero is not. */
static int
not_zero(struct pgb_ustar *t, uint64_t at, struct pgb_diag *d)
{
	char	e[PGB_ESC_MAX];

	if (t->state == T_HEADER) {
		pgb_esc(last(t)->name, e, sizeof(e));
		pgb_fail(d, PGB_EBUNDLE, "entry %zu '%s' is longer than its "
		    "header says", t->n, e);
		pgb_detail(d, "the padding after its %llu bytes holds a byte "
		    "that is not zero, at offset %llu of the tar stream",
		    (unsigned long long)last(t)->size,
		    (unsigned long long)at);
		return -1;
	}
	pgb_fail(d, PGB_EBUNDLE, "data after the end of the archive");
	pgb_detail(d, "a byte that is not zero at offset %llu of the tar "
	    "stream, after its end-of-archive blocks at %llu",
	    (unsigned long long)at, (unsigned long long)t->eoa);
	return -1;
}

int
pgb_ustar_feed(struct pgb_ustar *t, const unsigned char *p, size_t n,
    struct pgb_diag *d)
{
	size_t	k, z;
	int	full;

	while (n > 0) {
		full = 0;
		if (t->skip > 0) {			/* data */
			k = n < t->skip ? n : (size_t)t->skip;
			t->skip -= k;
			if (t->sink != NULL && t->sink->data(t->sink->ctx, p,
			    k, d) == -1)
				return -1;
		} else if (t->zeros > 0) {		/* padding */
			k = n < t->zeros ? n : (size_t)t->zeros;
			z = zero_run(p, k);
			if (z < k)
				return not_zero(t, t->pos + z, d);
			t->zeros -= k;
		} else if (t->state == T_END) {
			pgb_fail(d, PGB_EBUNDLE, "data after the end of the "
			    "archive");
			pgb_detail(d, "more than the zero padding to a %u-byte "
			    "record after the end-of-archive blocks at %llu",
			    RECORD, (unsigned long long)t->eoa);
			return -1;
		} else {				/* a block */
			k = n < BLOCK - t->have ? n : BLOCK - t->have;
			memcpy(t->blk + t->have, p, k);
			t->have += k;
			full = t->have == BLOCK;
		}
		p += k;
		n -= k;
		t->pos += k;
		/* An entry ends after its padding: all of it was checked. */
		if (t->open && t->skip == 0 && t->zeros == 0) {
			t->open = 0;
			if (t->sink->end(t->sink->ctx, d) == -1)
				return -1;
		}
		if (full) {
			t->have = 0;
			if (block(t, d) == -1)
				return -1;
		}
	}
	return 0;
}

int
pgb_ustar_end(const struct pgb_ustar *t, struct pgb_diag *d)
{
	char	after[PGB_ESC_MAX + 32];

	if (t->state == T_END)		/* padding may stop short */
		return 0;
	last_name(t, after, sizeof(after));
	if (t->skip > 0 || t->zeros > 0)
		return pgb_fail(d, PGB_EBUNDLE, "tar archive ends inside %s",
		    after);
	if (t->have > 0)
		return pgb_fail(d, PGB_EBUNDLE, "tar archive ends inside a "
		    "header%s%s", t->n ? ", after " : "", after);
	if (t->state == T_ZERO1)
		return pgb_fail(d, PGB_EBUNDLE, "tar archive ends with a single "
		    "zero block, not two%s%s", t->n ? ", after " : "", after);
	return pgb_fail(d, PGB_EBUNDLE, "tar archive ends without its two "
	    "end-of-archive blocks%s%s", t->n ? ", after " : "", after);
}

const struct pgb_ustar_entry *
pgb_ustar_entry(const struct pgb_ustar *t, size_t i)
{
	if (t->sink != NULL)
		return t->n > 0 && i == t->n - 1 ? &t->v[0] : NULL;
	return i < t->n ? &t->v[i] : NULL;
}

size_t
pgb_ustar_count(const struct pgb_ustar *t)
{
	return t->n;
}

uint64_t
pgb_ustar_eoa(const struct pgb_ustar *t)
{
	return t->eoa;
}
