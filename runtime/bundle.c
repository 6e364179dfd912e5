/*
 * bundle.c - read a bundle, check its signature, then unpack and verify
 * it entry by entry.  The security core of pgapply.
 *
 * Trusts: the trusted public keys it is given (checked by sig.c), and
 * after the signature verifies, OpenSSL, zlib's inflate and libarchive's
 * tar reader with bytes from memory.  Nothing else: the archive is read as
 * if hostile even though it is signed.
 * Rejects, before reading a byte of archive: a bundle that is not a
 * regular file or is over PGB_BUNDLE_MAX, signatures short of trust.c's
 * policy (64 bytes each, enough distinct trusted keys), an unsigned bundle
 * unless allowed.  While reading: anything but gzip'd tar,
 * decompression past PGB_RATIO_MAX or PGB_TOTAL_MAX, a tar stream that is
 * not the plain ustar pgbundle writes (ustar.c says what that is: regular
 * files only, no pax or GNU headers, two zero blocks at the end, zero
 * padding to the record, nothing after), a repeated name, a first entry
 * other than MANIFEST, an entry the manifest does not list or of another
 * size or SHA-256, a manifest file missing from the archive, a bundle for
 * another target, and after the tar stream a second gzip member, trailing
 * bytes, or a gzip trailer whose CRC or length is wrong.  Names in
 * messages are escaped.
 *
 * The gzip stream is inflated once, here, with zlib.  Every inflated byte
 * goes through the ustar check before libarchive reads it, and each entry
 * libarchive returns must be the one the check passed (same offset, name
 * and size): so libarchive only ever parses headers of that one plain
 * form.  The tail past the end-of-archive blocks (which libarchive never
 * reads) is inflated and checked in the same pass, and when the bundle
 * was read from a file, the compressed bytes already inflated are given
 * back to the system as the reading goes on.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#define ZLIB_CONST
#include <zlib.h>

#include "bounds.h"
#include "buf.h"
#include "bundle.h"
#include "diag.h"
#include "hash.h"
#include "manifest.h"
#include "sig.h"
#include "trust.h"
#include "ustar.h"
#include "banned.h"

#if PGB_SQL_MAX > PGB_TOTAL_MAX || PGB_MANIFEST_MAX > PGB_TOTAL_MAX
#error "one entry cannot be allowed more than the whole bundle"
#endif

#define CHUNK		(64u * 1024)	/* tar bytes inflated at once */
#define GIVE_BACK	(1024u * 1024)	/* compressed bytes freed at once */

/* A manifest script, by path, and whether its entry was seen. */
struct slot {
	const char		*path;
	struct pgb_script	*sc;
	int			 seen;
};

/*
 * State of one unpacking.  libarchive is handed the inflated stream in
 * two alternating windows: when it asks for the next one it has copied
 * what it still needed of the other.
 */
struct unpack {
	struct archive		*a;
	z_stream		 z;
	struct pgb_ustar	 tar;		/* sees every byte first */
	int			 zend;		/* the gzip member ended */
	int			 failed;	/* 'd' already says why */
	unsigned char		*win[2];
	int			 cur;
	unsigned char		*data;		/* compressed; may be given
						   back when 'give_back' */
	size_t			 complen;
	int			 give_back;
	size_t			 given;		/* bytes of data given back */
	size_t			 held;		/* entry bytes kept so far */
	struct slot		*slots;
	size_t			 nslots;
	struct pgb_diag		*d;
};

static int	 corrupt(struct unpack *);
static int	 inflate_failed(struct unpack *, const char *);
static int	 check_caps(struct unpack *);
static void	 give_back(struct unpack *);
static int	 inflate_some(struct unpack *, unsigned char *, size_t,
		    size_t *);
static int	 inflate_tar(struct unpack *, unsigned char *, size_t,
		    size_t *);
static la_ssize_t next_window(struct archive *, void *, const void **);
static int	 read_entry(struct unpack *, const char *, size_t,
		    unsigned char **, size_t *);
static void	 huge_pages(void *, size_t);
static int	 cmp_slot(const void *, const void *);
static int	 index_manifest(struct unpack *, struct pgb_manifest *);
static int	 take_manifest(struct unpack *, struct archive_entry *,
		    const char *, struct pgb_bundle *);
static int	 take_script(struct unpack *, struct archive_entry *,
		    const char *);
static int	 same_entry(struct unpack *, struct archive_entry *, size_t,
		    const char **);
static int	 check_tail(struct unpack *, size_t);
static int	 read_entries(struct unpack *, struct pgb_bundle *);
static int	 check_complete(struct unpack *, const struct pgb_bundle *,
		    const char *);
static int	 unpack(const unsigned char *, size_t, unsigned char *,
		    const char *, struct pgb_bundle *, struct pgb_diag *);
static int	 accept_sig(const unsigned char *, size_t,
		    const struct pgb_sigset *, const struct pgb_pubkey *,
		    size_t, size_t, struct pgb_bundle *, struct pgb_diag *);
static int	 load(const unsigned char *, size_t, unsigned char *,
		    const struct pgb_sigset *, const struct pgb_pubkey *,
		    size_t, size_t, int, const char *, struct pgb_bundle **,
		    struct pgb_diag *);
static int	 read_bundle(const char *, unsigned char **, size_t *,
		    struct pgb_diag *);
static int	 trusted_keys(const struct pgb_bundle_opts *,
		    struct pgb_trust *, struct pgb_diag *);
static void	 free_texts(struct pgb_manifest *);

/* libarchive refused the stream; its words go to the detail. */
static int
corrupt(struct unpack *u)
{
	const char	*why;
	char		 e[PGB_ESC_MAX];

	if (u->failed)		/* the inflating said why */
		return -1;
	why = archive_error_string(u->a);
	pgb_fail(u->d, PGB_EBUNDLE, "bundle is not a valid tar.gz archive");
	if (why) {
		pgb_esc(why, e, sizeof(e));
		pgb_detail(u->d, "libarchive: %s", e);
	}
	return -1;
}

static int
inflate_failed(struct unpack *u, const char *why)
{
	u->failed = 1;
	pgb_fail(u->d, PGB_EBUNDLE, "bundle is not a valid tar.gz archive");
	pgb_detail(u->d, "zlib: %s", why);
	return -1;
}

/* Decompression so far against the ratio cap. */
static int
check_caps(struct unpack *u)
{
	uint64_t	out = u->z.total_out;

	if (out > PGB_RATIO_FLOOR && out > (uint64_t)u->complen * PGB_RATIO_MAX) {
		u->failed = 1;
		return pgb_fail(u->d, PGB_EBUNDLE, "bundle expands more than "
		    "%u times: %llu bytes from %zu", PGB_RATIO_MAX,
		    (unsigned long long)out, u->complen);
	}
	return 0;
}

/*
 * Compressed bytes zlib has consumed are never read again: give whole
 * pages of them back to the system, so that the bundle is not held twice.
 */
static void
give_back(struct unpack *u)
{
	size_t	done, page, upto;

	if (!u->give_back)
		return;
	done = (size_t)(u->z.next_in - u->data);
	if (done - u->given < GIVE_BACK)
		return;
	page = (size_t)sysconf(_SC_PAGESIZE);
	upto = done / page * page;
	if (upto > u->given &&
	    madvise(u->data + u->given, upto - u->given, MADV_DONTNEED) == 0)
		u->given = upto;
}

/*
 * Inflate up to 'size' bytes into 'out'; *n is how many came.  0 with
 * *n == 0 only at the end of the gzip member.  zlib checks the gzip
 * header and, at the end, the trailer's CRC-32 and length.
 */
static int
inflate_some(struct unpack *u, unsigned char *out, size_t size, size_t *n)
{
	int	zr;

	*n = 0;
	if (u->zend)
		return 0;
	u->z.next_out = out;
	u->z.avail_out = (uInt)size;
	do {
		zr = inflate(&u->z, Z_NO_FLUSH);
		if (zr == Z_STREAM_END)
			u->zend = 1;
		else if (zr == Z_BUF_ERROR ||
		    (zr == Z_OK && u->z.avail_in == 0 &&
		    u->z.avail_out == size))
			return inflate_failed(u, "truncated gzip stream");
		else if (zr != Z_OK)
			return inflate_failed(u, u->z.msg ? u->z.msg :
			    "invalid deflate data");
	} while (!u->zend && u->z.avail_out == size);
	*n = size - u->z.avail_out;
	give_back(u);
	return check_caps(u);
}

/*
 * The next piece of the tar stream, into 'out' ('size' bytes); *n is how
 * many came, 0 at its end.  The ustar check sees it first, and the end.
 */
static int
inflate_tar(struct unpack *u, unsigned char *out, size_t size, size_t *n)
{
	if (inflate_some(u, out, size, n) == -1)
		return -1;
	if ((*n > 0 ? pgb_ustar_feed(&u->tar, out, *n, u->d) :
	    pgb_ustar_end(&u->tar, u->d)) == -1) {
		u->failed = 1;
		return -1;
	}
	return 0;
}

/* libarchive's read callback: the next window of the tar stream. */
static la_ssize_t
next_window(struct archive *a, void *arg, const void **buf)
{
	struct unpack	*u = arg;
	size_t		 n;

	(void)a;
	*buf = NULL;
	u->cur ^= 1;
	if (inflate_tar(u, u->win[u->cur], CHUNK, &n) == -1)
		return ARCHIVE_FATAL;
	*buf = u->win[u->cur];
	return (la_ssize_t)n;
}

/*
 * Read the current entry's data: exactly 'size' bytes (its header's size,
 * within its cap: the ustar check saw to it).  Every chunk is checked
 * against the caps as it is inflated, so a bomb stops at them.  *out is
 * NUL-terminated, caller frees.
 */
static int
read_entry(struct unpack *u, const char *name, size_t size,
    unsigned char **out, size_t *outlen)
{
	unsigned char	*buf;
	size_t		 got = 0, ask;
	la_ssize_t	 r;
	char		 e[PGB_ESC_MAX];

	*out = NULL;
	*outlen = 0;
	if (size > PGB_TOTAL_MAX - u->held)
		return pgb_fail(u->d, PGB_EBUNDLE, "bundle holds more than %u "
		    "bytes uncompressed", PGB_TOTAL_MAX);
	buf = pgb_xmalloc(size + 1);
	huge_pages(buf, size + 1);
	while (got < size) {
		ask = size - got < CHUNK ? size - got : CHUNK;
		r = archive_read_data(u->a, buf + got, ask);
		if (r < 0) {
			corrupt(u);
			free(buf);
			return -1;
		}
		if (r == 0) {
			pgb_esc(name, e, sizeof(e));
			pgb_fail(u->d, PGB_EBUNDLE, "'%s' has size %zu but its "
			    "header says %zu", e, got, size);
			free(buf);
			return -1;
		}
		got += (size_t)r;
	}
	buf[got] = '\0';
	u->held += got;
	*out = buf;
	*outlen = got;
	return 0;
}

/*
 * A script of many megabytes (COPY data) is faulted in page by page as it
 * is inflated: ask for transparent huge pages for its aligned middle, a
 * 512th of the page faults.  Only a hint; the kernel may say no.
 */
static void
huge_pages(void *p, size_t n)
{
	const uintptr_t	huge = 2u * 1024 * 1024;
	uintptr_t	from, to;

	if (n < 2 * huge)
		return;
	from = ((uintptr_t)p + huge - 1) & ~(huge - 1);
	to = ((uintptr_t)p + n) & ~(huge - 1);
	if (to > from)
		(void)madvise((void *)from, to - from, MADV_HUGEPAGE);
}

static int
cmp_slot(const void *a, const void *b)
{
	return strcmp(((const struct slot *)a)->path,
	    ((const struct slot *)b)->path);
}

/* Sorted slots for every script the manifest names. */
static int
index_manifest(struct unpack *u, struct pgb_manifest *m)
{
	size_t	i;

	u->slots = pgb_xreallocarray(NULL, m->nmigs * 2 + 1,
	    sizeof(*u->slots));
	u->nslots = 0;
	for (i = 0; i < m->nmigs; i++) {
		u->slots[u->nslots].path = m->migs[i].up.path;
		u->slots[u->nslots].sc = &m->migs[i].up;
		u->slots[u->nslots++].seen = 0;
		if (m->migs[i].has_down) {
			u->slots[u->nslots].path = m->migs[i].down.path;
			u->slots[u->nslots].sc = &m->migs[i].down;
			u->slots[u->nslots++].seen = 0;
		}
	}
	qsort(u->slots, u->nslots, sizeof(*u->slots), cmp_slot);
	return 0;
}

/*
 * libarchive's entry 'k' (0-based) must be the header the ustar check
 * passed: at the same offset, with the same name and size, a regular
 * file of a plain ustar archive.  It always is; checking it proves that
 * no header reaches libarchive in a form the check did not see.
 * *namep is the name, owned by the check.
 */
static int
same_entry(struct unpack *u, struct archive_entry *ae, size_t k,
    const char **namep)
{
	const struct pgb_ustar_entry	*t = pgb_ustar_entry(&u->tar, k);
	const char			*name = archive_entry_pathname(ae);
	char				 e[PGB_ESC_MAX];

	if (t == NULL || name == NULL || strcmp(name, t->name) != 0 ||
	    archive_read_header_position(u->a) != (la_int64_t)t->off ||
	    !archive_entry_size_is_set(ae) ||
	    archive_entry_size(ae) != (la_int64_t)t->size ||
	    archive_format(u->a) != ARCHIVE_FORMAT_TAR_USTAR ||
	    archive_entry_filetype(ae) != AE_IFREG ||
	    archive_entry_hardlink(ae) != NULL ||
	    archive_entry_symlink(ae) != NULL ||
	    archive_entry_sparse_count(ae) > 0) {
		pgb_esc(t ? t->name : name ? name : "", e, sizeof(e));
		return pgb_fail(u->d, PGB_EBUNDLE, "tar readers disagree about "
		    "entry %zu '%s'", k + 1, e);
	}
	*namep = t->name;
	return 0;
}

static int
take_manifest(struct unpack *u, struct archive_entry *ae, const char *name,
    struct pgb_bundle *b)
{
	unsigned char	*text;
	size_t		 len;
	int		 rc;

	if (read_entry(u, name, (size_t)archive_entry_size(ae), &text,
	    &len) == -1)
		return -1;
	rc = pgb_manifest_parse((const char *)text, len, &b->manifest, u->d);
	free(text);
	u->held -= len;		/* the parsed form replaces the text */
	if (rc == -1)
		return -1;
	return index_manifest(u, &b->manifest);
}

static int
take_script(struct unpack *u, struct archive_entry *ae, const char *name)
{
	struct slot	 key, *s;
	unsigned char	*text, sha[PGB_SHA256_LEN];
	size_t		 len;
	char		 e[PGB_ESC_MAX];

	key.path = name;
	s = bsearch(&key, u->slots, u->nslots, sizeof(*u->slots), cmp_slot);
	if (s == NULL || s->seen) {
		pgb_esc(name, e, sizeof(e));
		if (s == NULL)
			return pgb_fail(u->d, PGB_EBUNDLE, "'%s' is present in "
			    "bundle but not in manifest", e);
		return pgb_fail(u->d, PGB_EBUNDLE, "duplicate entry '%s'", e);
	}
	s->seen = 1;
	if ((uint64_t)archive_entry_size(ae) != s->sc->size) {
		pgb_esc(name, e, sizeof(e));
		return pgb_fail(u->d, PGB_EBUNDLE, "'%s' has size %lld but "
		    "manifest says %zu", e, (long long)archive_entry_size(ae),
		    s->sc->size);
	}
	if (read_entry(u, name, s->sc->size, &text, &len) == -1)
		return -1;
	pgb_sha256(text, len, sha);
	if (!pgb_digest_eq(sha, s->sc->sha256, PGB_SHA256_LEN)) {
		free(text);
		pgb_esc(name, e, sizeof(e));
		return pgb_fail(u->d, PGB_EBUNDLE, "checksum mismatch for "
		    "'%s'", e);
	}
	s->sc->text = text;
	return 0;
}

/*
 * libarchive read 'n' entries and stopped after the end-of-archive blocks:
 * where the ustar check saw them end.  Inflate the rest of the member
 * through the check (zeros to the end of the record, nothing more); the
 * member must end at the last byte of the bundle.
 */
static int
check_tail(struct unpack *u, size_t n)
{
	uint64_t	end = (uint64_t)archive_filter_bytes(u->a, 0);
	size_t		got;

	if (u->failed)
		return -1;
	if (n != pgb_ustar_count(&u->tar) || end != pgb_ustar_eoa(&u->tar))
		return pgb_fail(u->d, PGB_EBUNDLE, "tar readers disagree about "
		    "the end of the archive");
	do {
		if (inflate_tar(u, u->win[0], CHUNK, &got) == -1)
			return -1;
	} while (got > 0);
	if (u->z.avail_in != 0) {
		pgb_fail(u->d, PGB_EBUNDLE, "data after the end of the "
		    "archive");
		pgb_detail(u->d, "%u bytes after the end of the gzip stream (a "
		    "second member, or bytes appended)", u->z.avail_in);
		return -1;
	}
	return 0;
}

/* The entries, in order, each checked and kept or refused. */
static int
read_entries(struct unpack *u, struct pgb_bundle *b)
{
	struct archive_entry	*ae;
	const char		*name = NULL;
	char			 e[PGB_ESC_MAX];
	size_t			 nentries = 0;
	int			 r;

	for (;;) {
		r = archive_read_next_header(u->a, &ae);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK || u->failed)
			return corrupt(u);
		if (same_entry(u, ae, nentries++, &name) == -1)
			return -1;
		if (nentries == 1) {
			if (strcmp(name, PGB_MANIFEST_NAME) != 0) {
				pgb_esc(name, e, sizeof(e));
				return pgb_fail(u->d, PGB_EBUNDLE, "first entry "
				    "is '%s', expected '%s'", e,
				    PGB_MANIFEST_NAME);
			}
			if (take_manifest(u, ae, name, b) == -1)
				return -1;
			continue;
		}
		if (strcmp(name, PGB_MANIFEST_NAME) == 0)
			return pgb_fail(u->d, PGB_EBUNDLE, "duplicate entry "
			    "'%s'", PGB_MANIFEST_NAME);
		if (take_script(u, ae, name) == -1)
			return -1;
	}
	if (u->failed)		/* libarchive may shrug off a read error */
		return -1;
	if (nentries == 0)
		return pgb_fail(u->d, PGB_EBUNDLE, "bundle has no '%s' entry",
		    PGB_MANIFEST_NAME);
	return check_tail(u, nentries);
}

/* What the manifest lists must all have been there, for this target. */
static int
check_complete(struct unpack *u, const struct pgb_bundle *b,
    const char *expect_target)
{
	char	e[PGB_ESC_MAX];
	size_t	i;

	for (i = 0; i < u->nslots; i++) {
		if (!u->slots[i].seen) {
			pgb_esc(u->slots[i].path, e, sizeof(e));
			return pgb_fail(u->d, PGB_EBUNDLE, "'%s' is present in "
			    "manifest but not in bundle", e);
		}
	}
	if (expect_target == NULL)
		return 0;
	pgb_esc(expect_target, e, sizeof(e));
	if (b->manifest.target == NULL)
		return pgb_fail(u->d, PGB_EBUNDLE, "bundle has no target, "
		    "expected '%s'", e);
	if (strcmp(b->manifest.target, expect_target) != 0)
		return pgb_fail(u->d, PGB_EBUNDLE, "bundle is for target '%s', "
		    "expected '%s'", b->manifest.target, e);
	return 0;
}

/*
 * Unpack 'data' into 'b' (its manifest initialised by the caller).  When
 * 'givable' is 'data' itself, writable and page-aligned, the compressed
 * bytes are given back as they are inflated.
 */
static int
unpack(const unsigned char *data, size_t len, unsigned char *givable,
    const char *expect_target, struct pgb_bundle *b, struct pgb_diag *d)
{
	struct unpack	u;
	int		rc = -1;

	/* The gzip magic: anything else is not what the compiler writes. */
	if (len < 2 || data[0] != 0x1f || data[1] != 0x8b)
		return pgb_fail(d, PGB_EBUNDLE, "bundle is not "
		    "gzip-compressed");
	memset(&u, 0, sizeof(u));
	pgb_ustar_init(&u.tar);
	u.data = givable;
	u.give_back = givable != NULL;
	u.complen = len;
	u.d = d;
	u.z.next_in = data;
	u.z.avail_in = (uInt)len;	/* len <= PGB_BUNDLE_MAX */
	if (inflateInit2(&u.z, 16 + MAX_WBITS) != Z_OK)
		return pgb_fail(d, PGB_EINTERNAL, "out of memory");
	u.win[0] = pgb_xmalloc(CHUNK);
	u.win[1] = pgb_xmalloc(CHUNK);
	if ((u.a = archive_read_new()) == NULL) {
		pgb_fail(d, PGB_EINTERNAL, "out of memory");
		goto out;
	}
	/* Tar only, with no filter: the gzip layer is ours. */
	if (archive_read_support_format_tar(u.a) != ARCHIVE_OK) {
		pgb_fail(d, PGB_EINTERNAL, "libarchive lacks tar support");
		goto out;
	}
	if (archive_read_open(u.a, &u, NULL, next_window, NULL) !=
	    ARCHIVE_OK) {
		corrupt(&u);
		goto out;
	}
	if (read_entries(&u, b) == 0 &&
	    check_complete(&u, b, expect_target) == 0)
		rc = 0;
out:
	archive_read_free(u.a);
	inflateEnd(&u.z);
	free(u.win[0]);
	free(u.win[1]);
	free(u.slots);
	pgb_ustar_release(&u.tar);
	return rc;
}

/*
 * The signature step, on the raw bytes before any archive code: the
 * policy is trust.c's.  Sets the signers of 'b'.
 */
static int
accept_sig(const unsigned char *data, size_t len,
    const struct pgb_sigset *sigs, const struct pgb_pubkey *keys,
    size_t nkeys, size_t min, struct pgb_bundle *b, struct pgb_diag *d)
{
	struct pgb_signers	who;
	size_t			i;

	b->key_id[0] = '\0';
	b->ntrusted = nkeys;
	if (sigs == NULL || sigs->n == 0)
		return 0;
	if (nkeys == 0)
		return pgb_fail(d, PGB_EBUNDLE, "bundle is signed but no "
		    "trusted key was given; pass --pubkey or set "
		    "PGAPPLY_PUBKEY");
	if (pgb_trust_check(keys, nkeys, min, data, len, sigs, &who,
	    d) == -1)
		return -1;
	for (i = 0; i < who.n; i++)
		memcpy(b->signers[i], keys[who.key[i]].id, PGB_KEYID_LEN + 1);
	b->nsigners = who.n;
	b->required = min ? min : 1;
	memcpy(b->key_id, b->signers[0], sizeof(b->key_id));
	return 0;
}

static void
free_texts(struct pgb_manifest *m)
{
	size_t	i;

	for (i = 0; i < m->nmigs; i++) {
		free((void *)(uintptr_t)m->migs[i].up.text);
		free((void *)(uintptr_t)m->migs[i].down.text);
		m->migs[i].up.text = NULL;
		m->migs[i].down.text = NULL;
	}
}

static int
load(const unsigned char *data, size_t len, unsigned char *givable,
    const struct pgb_sigset *sigs, const struct pgb_pubkey *keys,
    size_t nkeys, size_t min, int allow_unsigned, const char *expect_target,
    struct pgb_bundle **out, struct pgb_diag *d)
{
	struct pgb_bundle	*b;

	*out = NULL;
	if (len > PGB_BUNDLE_MAX)
		return pgb_fail(d, PGB_EBUNDLE, "bundle is %zu bytes, over the "
		    "limit of %u", len, PGB_BUNDLE_MAX);
	if (sigs->n == 0 && !allow_unsigned)
		return pgb_fail(d, PGB_EBUNDLE, "bundle is not signed; pass "
		    "--insecure-allow-unsigned to accept it");
	b = pgb_xcalloc(1, sizeof(*b));
	pgb_manifest_init(&b->manifest);
	b->filelen = len;
	if (accept_sig(data, len, sigs, keys, nkeys, min, b, d) == -1 ||
	    unpack(data, len, givable, expect_target, b, d) == -1) {
		pgb_bundle_free(b);
		return -1;
	}
	*out = b;
	return 0;
}

int
pgb_bundle_load(const unsigned char *data, size_t len,
    const unsigned char *sig, size_t siglen, const struct pgb_pubkey *keys,
    size_t nkeys, int allow_unsigned, const char *expect_target,
    struct pgb_bundle **out, struct pgb_diag *d)
{
	struct pgb_sigset	sigs;
	int			rc;

	*out = NULL;
	memset(&sigs, 0, sizeof(sigs));
	if (sig != NULL && siglen != PGB_SIG_LEN)
		return pgb_fail(d, PGB_EBUNDLE, "signature is %zu bytes, "
		    "expected %u", siglen, PGB_SIG_LEN);
	if (sig != NULL)
		(void)pgb_sigset_add(&sigs, "signature", sig, PGB_ANY_KEY);
	rc = load(data, len, NULL, &sigs, keys, nkeys, 1, allow_unsigned,
	    expect_target, out, d);
	pgb_sigset_release(&sigs);
	return rc;
}

/*
 * The whole bundle file, refused unread when not regular or too big.
 * *out is a mapping of *outlen + 1 bytes: munmap() it.
 */
static int
read_bundle(const char *path, unsigned char **out, size_t *outlen,
    struct pgb_diag *d)
{
	struct stat	 st;
	unsigned char	*buf;
	size_t		 size, got = 0;
	ssize_t		 r;
	int		 fd;

	*out = NULL;
	*outlen = 0;
	fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		return pgb_fail(d, PGB_EBUNDLE, "cannot read bundle '%s': %s",
		    path, strerror(errno));
	if (fstat(fd, &st) == -1) {
		pgb_fail(d, PGB_EBUNDLE, "cannot read bundle '%s': %s", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return pgb_fail(d, PGB_EBUNDLE, "bundle '%s' is not a regular "
		    "file", path);
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > PGB_BUNDLE_MAX) {
		close(fd);
		return pgb_fail(d, PGB_EBUNDLE, "bundle '%s' is %lld bytes, "
		    "over the limit of %u", path, (long long)st.st_size,
		    PGB_BUNDLE_MAX);
	}
	size = (size_t)st.st_size;
	/*
	 * One byte more than fstat said, to notice a file that grew.  Its
	 * own mapping, so that unpack() can give pages of it back.
	 */
	buf = mmap(NULL, size + 1, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		close(fd);
		return pgb_fail(d, PGB_EINTERNAL, "cannot map %zu bytes for "
		    "bundle '%s': %s", size + 1, path, strerror(errno));
	}
	huge_pages(buf, size + 1);
	while (got < size + 1) {
		r = read(fd, buf + got, size + 1 - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			pgb_fail(d, PGB_EBUNDLE, "cannot read bundle '%s': %s",
			    path, strerror(errno));
			munmap(buf, size + 1);
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got != size) {
		munmap(buf, size + 1);
		return pgb_fail(d, PGB_EBUNDLE, "bundle '%s' changed while it "
		    "was read", path);
	}
	*out = buf;
	*outlen = size;
	return 0;
}

/* The trusted keys and the threshold, from a trust file or the keys. */
static int
trusted_keys(const struct pgb_bundle_opts *o, struct pgb_trust *t,
    struct pgb_diag *d)
{
	size_t	i;

	pgb_trust_init(t);
	if (o->trust != NULL)
		return pgb_trust_load(t, o->trust, d);
	if (o->npubkeys > PGB_KEYS_MAX)
		return pgb_fail(d, PGB_EKEY, "too many trusted keys (%zu, at "
		    "most %u)", o->npubkeys, PGB_KEYS_MAX);
	for (i = 0; i < o->npubkeys; i++) {
		if (pgb_trust_add(t, o->pubkeys[i], d) == -1) {
			pgb_trust_release(t);
			return -1;
		}
	}
	t->min = o->min_signatures ? o->min_signatures : 1;
	if (t->min > 1 && t->min > t->nkeys) {
		pgb_fail(d, PGB_EUSAGE, "--min-signatures %zu, but %zu distinct "
		    "trusted key%s given", t->min, t->nkeys,
		    t->nkeys == 1 ? " is" : "s are");
		pgb_trust_release(t);
		return -1;
	}
	return 0;
}

int
pgb_bundle_open(const struct pgb_bundle_opts *o, struct pgb_bundle **out,
    struct pgb_diag *d)
{
	struct pgb_trust	 t;
	struct pgb_sigset	 sigs;
	unsigned char		*data = NULL;
	size_t			 len;
	int			 rc = -1;

	*out = NULL;
	memset(&sigs, 0, sizeof(sigs));
	if (trusted_keys(o, &t, d) == -1)
		return -1;
	if (read_bundle(o->path, &data, &len, d) == -1)
		goto out;
	if (pgb_sigset_read(&sigs, o->path, o->sigpaths, o->nsigpaths, t.keys,
	    t.nkeys, d) == -1)
		goto out;
	if (sigs.n == 0 && !o->allow_unsigned) {
		pgb_fail(d, PGB_EBUNDLE, "bundle '%s' is not signed (no "
		    "'%s.sig'); pass --insecure-allow-unsigned to accept it",
		    o->path, o->path);
		goto out;
	}
	if (sigs.n > 0 && t.nkeys == 0) {
		pgb_fail(d, PGB_EBUNDLE, "bundle '%s' is signed but no trusted "
		    "key was given; pass --pubkey or set PGAPPLY_PUBKEY",
		    o->path);
		goto out;
	}
	rc = load(data, len, data, &sigs, t.keys, t.nkeys, t.min,
	    o->allow_unsigned, o->expect_target, out, d);
out:
	pgb_trust_release(&t);
	pgb_sigset_release(&sigs);
	if (data != NULL)
		munmap(data, len + 1);
	return rc;
}

void
pgb_bundle_free(struct pgb_bundle *b)
{
	if (b == NULL)
		return;
	free_texts(&b->manifest);
	pgb_manifest_release(&b->manifest);
	free(b);
}
