/*
 * bundle.c - read a bundle, check its signature, then unpack and verify
 * it entry by entry.  The security core of pgapply.
 *
 * Trusts: the trusted public keys it is given (checked by sig.c), and
 * after the signature verifies, OpenSSL and libarchive's gzip and tar
 * readers with bytes from memory.  Nothing else: the archive is read as
 * if hostile even though it is signed.
 * Rejects, before reading a byte of archive: a bundle that is not a
 * regular file or is over PGB_BUNDLE_MAX, a signature that is not exactly
 * 64 bytes or does not verify with a trusted key, an unsigned bundle
 * unless allowed.  While reading: anything but gzip'd tar, more than
 * PGB_ENTRIES_MAX entries, decompression past PGB_RATIO_MAX or
 * PGB_TOTAL_MAX, an entry over its cap, an entry that is not a regular
 * file, an unsafe or repeated name, a first entry other than MANIFEST,
 * an entry the manifest does not list or of another size or SHA-256, a
 * manifest file missing from the archive, and a bundle for another
 * target.  Also any header but plain ustar (pax, GNU long names, sparse
 * maps: readers disagree on them), and anything after the archive: a
 * byte that is not zero after the end-of-archive blocks, a second gzip
 * member, trailing bytes, or a gzip trailer whose CRC or length is wrong
 * (libarchive stops at the end-of-archive blocks and reads none of it).
 * Names in messages are escaped.
 */
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
#include "banned.h"

#if PGB_SQL_MAX > PGB_TOTAL_MAX || PGB_MANIFEST_MAX > PGB_TOTAL_MAX
#error "one entry cannot be allowed more than the whole bundle"
#endif

#define CHUNK		(64u * 1024)	/* bytes asked of libarchive at once */
#define ESC_MAX		120		/* an escaped name in a message */
#define PAD_MAX		(1024u * 1024)	/* zero bytes after the tar's end */

/* A manifest script, by path, and whether its entry was seen. */
struct slot {
	const char		*path;
	struct pgb_script	*sc;
	int			 seen;
};

/* State of one unpacking. */
struct unpack {
	struct archive		*a;
	size_t			 complen;	/* compressed bytes */
	size_t			 held;		/* entry bytes kept so far */
	struct slot		*slots;
	size_t			 nslots;
	struct pgb_diag		*d;
};

static void	 esc(const char *, char *, size_t);
static int	 corrupt(struct unpack *);
static int	 check_caps(struct unpack *);
static int	 read_entry(struct unpack *, const char *, size_t, int,
		    size_t, unsigned char **, size_t *);
static int	 cmp_slot(const void *, const void *);
static int	 index_manifest(struct unpack *, struct pgb_manifest *);
static int	 take_manifest(struct unpack *, struct archive_entry *,
		    const char *, struct pgb_bundle *);
static int	 take_script(struct unpack *, struct archive_entry *,
		    const char *);
static int	 check_entry(struct unpack *, struct archive_entry *,
		    const char **);
static int	 check_tail(const unsigned char *, size_t, uint64_t,
		    struct pgb_diag *);
static int	 unpack(const unsigned char *, size_t, const char *,
		    struct pgb_bundle *, struct pgb_diag *);
static int	 accept_sig(const unsigned char *, size_t,
		    const unsigned char *, size_t, const struct pgb_pubkey *,
		    size_t, struct pgb_bundle *, struct pgb_diag *);
static int	 read_bundle(const char *, unsigned char **, size_t *,
		    struct pgb_diag *);
static int	 read_sig(const char *, int, unsigned char *, int *,
		    struct pgb_diag *);
static void	 free_texts(struct pgb_manifest *);

/*
 * Copy 's' into 'out' (size 'n') for a message: printable ASCII stays,
 * a backslash is doubled, other bytes become \xNN; a long name is cut
 * and ends in "...".
 */
static void
esc(const char *s, char *out, size_t n)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p;
	size_t			 o = 0;

	for (p = (const unsigned char *)s; *p; p++) {
		if (o + 4 + 3 + 1 > n) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (*p == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
		} else if (*p >= 0x20 && *p < 0x7f) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
}

/* libarchive refused the stream; its words go to the detail. */
static int
corrupt(struct unpack *u)
{
	const char	*why;
	char		 e[ESC_MAX];

	why = archive_error_string(u->a);
	pgb_fail(u->d, PGB_EBUNDLE, "bundle is not a valid tar.gz archive");
	if (why) {
		esc(why, e, sizeof(e));
		pgb_detail(u->d, "libarchive: %s", e);
	}
	return -1;
}

/* Decompression so far against the ratio cap. */
static int
check_caps(struct unpack *u)
{
	int64_t		pos;
	uint64_t	upos;

	pos = archive_filter_bytes(u->a, 0);
	upos = pos > 0 ? (uint64_t)pos : 0;
	if (upos > PGB_RATIO_FLOOR &&
	    upos > (uint64_t)u->complen * PGB_RATIO_MAX)
		return pgb_fail(u->d, PGB_EBUNDLE, "bundle expands more than "
		    "%u times: %llu bytes from %zu", PGB_RATIO_MAX,
		    (unsigned long long)upos, u->complen);
	return 0;
}

/*
 * Read the current entry's data.  'known' says 'want' is its exact size
 * (from the header, then checked): the buffer is that size.  Otherwise
 * the buffer grows, at most to 'cap'.  Every chunk is checked against the
 * caps, so a bomb stops at them without its size ever being allocated.
 * *out is NUL-terminated, caller frees.
 */
static int
read_entry(struct unpack *u, const char *name, size_t want, int known,
    size_t cap, unsigned char **out, size_t *outlen)
{
	unsigned char	*buf, extra;
	size_t		 got = 0, size, ask;
	la_ssize_t	 r;
	char		 e[ESC_MAX];

	*out = NULL;
	*outlen = 0;
	esc(name, e, sizeof(e));
	size = known ? want : (cap < CHUNK ? cap : CHUNK);
	if (size > PGB_TOTAL_MAX - u->held)
		return pgb_fail(u->d, PGB_EBUNDLE, "bundle holds more than %u "
		    "bytes uncompressed", PGB_TOTAL_MAX);
	buf = pgb_xmalloc(size + 1);
	for (;;) {
		if (got == size) {
			if (known || size == cap) {
				/* Full: the entry must end here. */
				r = archive_read_data(u->a, &extra, 1);
				if (r < 0)
					goto bad_archive;
				if (r > 0) {
					if (known)
						pgb_fail(u->d, PGB_EBUNDLE,
						    "'%s' is longer than its "
						    "%zu bytes", e, want);
					else
						pgb_fail(u->d, PGB_EBUNDLE,
						    "entry '%s' is over the "
						    "limit of %zu bytes", e,
						    cap);
					goto fail;
				}
				break;
			}
			size = size > cap - size ? cap : size * 2;
			if (size > PGB_TOTAL_MAX - u->held) {
				pgb_fail(u->d, PGB_EBUNDLE, "bundle holds more "
				    "than %u bytes uncompressed",
				    PGB_TOTAL_MAX);
				goto fail;
			}
			buf = pgb_xreallocarray(buf, size + 1, 1);
		}
		ask = size - got < CHUNK ? size - got : CHUNK;
		r = archive_read_data(u->a, buf + got, ask);
		if (r < 0)
			goto bad_archive;
		if (check_caps(u) == -1)
			goto fail;
		if (r == 0) {
			if (known) {
				pgb_fail(u->d, PGB_EBUNDLE, "'%s' has size %zu "
				    "but its header says %zu", e, got, want);
				goto fail;
			}
			break;
		}
		got += (size_t)r;
	}
	buf[got] = '\0';
	u->held += got;
	*out = buf;
	*outlen = got;
	return 0;
bad_archive:
	corrupt(u);
fail:
	free(buf);
	return -1;
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

/* Type and name of an entry: a regular file with a safe name. */
static int
check_entry(struct unpack *u, struct archive_entry *ae, const char **namep)
{
	const char	*name;
	char		 e[ESC_MAX];

	name = archive_entry_pathname(ae);
	if (name == NULL)
		return pgb_fail(u->d, PGB_EBUNDLE, "unsafe path (an entry "
		    "name libarchive cannot read)");
	esc(name, e, sizeof(e));
	if (!pgb_manifest_path_ok(name, strlen(name)))
		return pgb_fail(u->d, PGB_EBUNDLE, "unsafe path '%s'", e);
	/* The compiler writes ustar only; tar tools differ on the rest. */
	if (archive_format(u->a) != ARCHIVE_FORMAT_TAR_USTAR)
		return pgb_fail(u->d, PGB_EBUNDLE, "entry '%s' is not a plain "
		    "ustar header (%s)", e, archive_format_name(u->a) ?
		    archive_format_name(u->a) : "unknown format");
	/* libarchive gives a hard link type 0 and a link target. */
	if (archive_entry_filetype(ae) != AE_IFREG ||
	    archive_entry_hardlink(ae) != NULL ||
	    archive_entry_symlink(ae) != NULL)
		return pgb_fail(u->d, PGB_EBUNDLE, "entry '%s' is not a "
		    "regular file", e);
	if (archive_entry_sparse_count(ae) > 0)
		return pgb_fail(u->d, PGB_EBUNDLE, "entry '%s' is a sparse "
		    "file", e);
	if (archive_entry_size_is_set(ae) && archive_entry_size(ae) < 0)
		return pgb_fail(u->d, PGB_EBUNDLE, "entry '%s' has a negative "
		    "size", e);
	*namep = name;
	return 0;
}

static int
take_manifest(struct unpack *u, struct archive_entry *ae, const char *name,
    struct pgb_bundle *b)
{
	unsigned char	*text;
	size_t		 len, want = 0;
	int		 known, rc;

	known = archive_entry_size_is_set(ae);
	if (known) {
		if ((uint64_t)archive_entry_size(ae) > PGB_MANIFEST_MAX)
			return pgb_fail(u->d, PGB_EBUNDLE, "entry '%s' is "
			    "%lld bytes, over the limit of %u", name,
			    (long long)archive_entry_size(ae),
			    PGB_MANIFEST_MAX);
		want = (size_t)archive_entry_size(ae);
	}
	if (read_entry(u, name, want, known, PGB_MANIFEST_MAX, &text,
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
	char		 e[ESC_MAX];

	esc(name, e, sizeof(e));
	key.path = name;
	s = bsearch(&key, u->slots, u->nslots, sizeof(*u->slots), cmp_slot);
	if (s == NULL)
		return pgb_fail(u->d, PGB_EBUNDLE, "'%s' is present in bundle "
		    "but not in manifest", e);
	if (s->seen)
		return pgb_fail(u->d, PGB_EBUNDLE, "duplicate entry '%s'", e);
	s->seen = 1;
	if (archive_entry_size_is_set(ae) &&
	    (uint64_t)archive_entry_size(ae) != s->sc->size)
		return pgb_fail(u->d, PGB_EBUNDLE, "'%s' has size %lld but "
		    "manifest says %zu", e, (long long)archive_entry_size(ae),
		    s->sc->size);
	if (read_entry(u, name, s->sc->size, 1, s->sc->size, &text,
	    &len) == -1)
		return -1;
	pgb_sha256(text, len, sha);
	if (!pgb_digest_eq(sha, s->sc->sha256, PGB_SHA256_LEN)) {
		free(text);
		return pgb_fail(u->d, PGB_EBUNDLE, "checksum mismatch for "
		    "'%s'", e);
	}
	s->sc->text = text;
	return 0;
}

/*
 * After the tar reader stopped at 'end' bytes of the tar stream (its
 * end-of-archive blocks): inflate 'data' again with zlib, which checks the
 * gzip trailer, and require one gzip member ending at the last byte, with
 * nothing but zeros, at most PAD_MAX of them, after 'end'.
 */
static int
check_tail(const unsigned char *data, size_t len, uint64_t end,
    struct pgb_diag *d)
{
	z_stream	 z;
	unsigned char	*out;
	uint64_t	 pos = 0;
	size_t		 n, i;
	int		 zr, rc = -1;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return pgb_fail(d, PGB_EINTERNAL, "out of memory");
	out = pgb_xmalloc(CHUNK);
	z.next_in = data;
	z.avail_in = (uInt)len;
	for (;;) {
		z.next_out = out;
		z.avail_out = CHUNK;
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END) {
			pgb_fail(d, PGB_EBUNDLE, "bundle is not a valid tar.gz "
			    "archive");
			pgb_detail(d, "zlib: %s", z.msg ? z.msg :
			    "truncated gzip stream");
			goto out;
		}
		n = CHUNK - z.avail_out;
		/* Only the bytes at or past 'end' must be zero. */
		i = pos >= end ? 0 : end - pos < n ? (size_t)(end - pos) : n;
		for (; i < n; i++) {
			if (out[i] != 0) {
				pgb_fail(d, PGB_EBUNDLE, "data after the end of "
				    "the archive");
				pgb_detail(d, "a byte that is not zero at offset "
				    "%llu of the tar stream, after its "
				    "end-of-archive blocks at %llu",
				    (unsigned long long)(pos + i),
				    (unsigned long long)end);
				goto out;
			}
		}
		pos += n;
		if (pos > end && pos - end > PAD_MAX) {
			pgb_fail(d, PGB_EBUNDLE, "data after the end of the "
			    "archive");
			pgb_detail(d, "more than %u bytes of padding after the "
			    "end-of-archive blocks", PAD_MAX);
			goto out;
		}
		if (zr == Z_STREAM_END)
			break;
		if (n == 0 && z.avail_in == 0) {
			pgb_fail(d, PGB_EBUNDLE, "bundle is not a valid tar.gz "
			    "archive");
			pgb_detail(d, "zlib: truncated gzip stream");
			goto out;
		}
	}
	if (z.avail_in != 0) {
		pgb_fail(d, PGB_EBUNDLE, "data after the end of the archive");
		pgb_detail(d, "%u bytes after the end of the gzip stream (a "
		    "second member, or bytes appended)", z.avail_in);
		goto out;
	}
	rc = 0;
out:
	inflateEnd(&z);
	free(out);
	return rc;
}

/* Unpack 'data' into 'b' (its manifest initialised by the caller). */
static int
unpack(const unsigned char *data, size_t len, const char *expect_target,
    struct pgb_bundle *b, struct pgb_diag *d)
{
	struct unpack		 u;
	struct archive_entry	*ae;
	const char		*name = NULL;
	char			 e[ESC_MAX];
	size_t			 nentries = 0, i;
	int			 r, rc = -1;

	memset(&u, 0, sizeof(u));
	u.complen = len;
	u.d = d;
	if ((u.a = archive_read_new()) == NULL)
		return pgb_fail(d, PGB_EINTERNAL, "out of memory");
	if (archive_read_support_filter_gzip(u.a) != ARCHIVE_OK ||
	    archive_read_support_format_tar(u.a) != ARCHIVE_OK) {
		pgb_fail(d, PGB_EINTERNAL, "libarchive lacks gzip or tar "
		    "support");
		goto out;
	}
	if (archive_read_open_memory(u.a, data, len) != ARCHIVE_OK) {
		corrupt(&u);
		goto out;
	}
	for (;;) {
		r = archive_read_next_header(u.a, &ae);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			corrupt(&u);
			goto out;
		}
		if (nentries == 0 &&
		    archive_filter_code(u.a, 0) != ARCHIVE_FILTER_GZIP) {
			pgb_fail(d, PGB_EBUNDLE, "bundle is not "
			    "gzip-compressed");
			goto out;
		}
		if (check_caps(&u) == -1)
			goto out;
		if (++nentries > PGB_ENTRIES_MAX) {
			pgb_fail(d, PGB_EBUNDLE, "bundle has more than %u "
			    "entries", PGB_ENTRIES_MAX);
			goto out;
		}
		if (check_entry(&u, ae, &name) == -1)
			goto out;
		if (nentries == 1) {
			if (strcmp(name, PGB_MANIFEST_NAME) != 0) {
				esc(name, e, sizeof(e));
				pgb_fail(d, PGB_EBUNDLE, "first entry is '%s', "
				    "expected '%s'", e, PGB_MANIFEST_NAME);
				goto out;
			}
			if (take_manifest(&u, ae, name, b) == -1)
				goto out;
			continue;
		}
		if (strcmp(name, PGB_MANIFEST_NAME) == 0) {
			pgb_fail(d, PGB_EBUNDLE, "duplicate entry '%s'",
			    PGB_MANIFEST_NAME);
			goto out;
		}
		if (take_script(&u, ae, name) == -1)
			goto out;
	}
	if (nentries == 0) {
		pgb_fail(d, PGB_EBUNDLE, "bundle has no '%s' entry",
		    PGB_MANIFEST_NAME);
		goto out;
	}
	if (check_tail(data, len, (uint64_t)archive_filter_bytes(u.a, 0),
	    d) == -1)
		goto out;
	for (i = 0; i < u.nslots; i++) {
		if (!u.slots[i].seen) {
			esc(u.slots[i].path, e, sizeof(e));
			pgb_fail(d, PGB_EBUNDLE, "'%s' is present in manifest "
			    "but not in bundle", e);
			goto out;
		}
	}
	if (expect_target != NULL && (b->manifest.target == NULL ||
	    strcmp(b->manifest.target, expect_target) != 0)) {
		esc(expect_target, e, sizeof(e));
		if (b->manifest.target == NULL)
			pgb_fail(d, PGB_EBUNDLE, "bundle has no target, "
			    "expected '%s'", e);
		else
			pgb_fail(d, PGB_EBUNDLE, "bundle is for target '%s', "
			    "expected '%s'", b->manifest.target, e);
		goto out;
	}
	rc = 0;
out:
	archive_read_free(u.a);
	free(u.slots);
	return rc;
}

/* Signature policy and check; sets b->key_id. */
static int
accept_sig(const unsigned char *data, size_t len, const unsigned char *sig,
    size_t siglen, const struct pgb_pubkey *keys, size_t nkeys,
    struct pgb_bundle *b, struct pgb_diag *d)
{
	size_t	which;

	if (sig == NULL) {
		b->key_id[0] = '\0';
		return 0;
	}
	if (nkeys == 0)
		return pgb_fail(d, PGB_EBUNDLE, "bundle is signed but no "
		    "trusted key was given; pass --pubkey or set "
		    "PGAPPLY_PUBKEY");
	if (pgb_sig_verify(keys, nkeys, data, len, sig, siglen, &which,
	    d) == -1)
		return -1;
	memcpy(b->key_id, keys[which].id, sizeof(b->key_id));
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

int
pgb_bundle_load(const unsigned char *data, size_t len,
    const unsigned char *sig, size_t siglen, const struct pgb_pubkey *keys,
    size_t nkeys, int allow_unsigned, const char *expect_target,
    struct pgb_bundle **out, struct pgb_diag *d)
{
	struct pgb_bundle	*b;

	*out = NULL;
	if (len > PGB_BUNDLE_MAX)
		return pgb_fail(d, PGB_EBUNDLE, "bundle is %zu bytes, over the "
		    "limit of %u", len, PGB_BUNDLE_MAX);
	if (sig == NULL && !allow_unsigned)
		return pgb_fail(d, PGB_EBUNDLE, "bundle is not signed; pass "
		    "--insecure-allow-unsigned to accept it");
	b = pgb_xcalloc(1, sizeof(*b));
	pgb_manifest_init(&b->manifest);
	b->filelen = len;
	if (accept_sig(data, len, sig, siglen, keys, nkeys, b, d) == -1 ||
	    unpack(data, len, expect_target, b, d) == -1) {
		pgb_bundle_free(b);
		return -1;
	}
	*out = b;
	return 0;
}

/* The whole bundle file, refused unread when not regular or too big. */
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
	/* One byte more than fstat said, to notice a file that grew. */
	buf = pgb_xmalloc(size + 1);
	while (got < size + 1) {
		r = read(fd, buf + got, size + 1 - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			pgb_fail(d, PGB_EBUNDLE, "cannot read bundle '%s': %s",
			    path, strerror(errno));
			free(buf);
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got != size) {
		free(buf);
		return pgb_fail(d, PGB_EBUNDLE, "bundle '%s' changed while it "
		    "was read", path);
	}
	*out = buf;
	*outlen = size;
	return 0;
}

/*
 * The detached signature: exactly PGB_SIG_LEN raw bytes.  *present is 0
 * when the file does not exist and 'must' is 0 (no --sig given).
 */
static int
read_sig(const char *path, int must, unsigned char *sig, int *present,
    struct pgb_diag *d)
{
	struct stat	 st;
	unsigned char	 buf[PGB_SIG_LEN + 1];
	size_t		 got = 0;
	ssize_t		 r;
	int		 fd;

	*present = 0;
	fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT && !must)
		return 0;
	if (fd == -1)
		return pgb_fail(d, PGB_EBUNDLE, "cannot read signature '%s': "
		    "%s", path, strerror(errno));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return pgb_fail(d, PGB_EBUNDLE, "signature '%s' is not a "
		    "regular file", path);
	}
	if (st.st_size != PGB_SIG_LEN) {
		close(fd);
		return pgb_fail(d, PGB_EBUNDLE, "signature '%s' is %lld bytes, "
		    "expected %u", path, (long long)st.st_size, PGB_SIG_LEN);
	}
	while (got < sizeof(buf)) {
		r = read(fd, buf + got, sizeof(buf) - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got != PGB_SIG_LEN)
		return pgb_fail(d, PGB_EBUNDLE, "signature '%s' is %zu bytes, "
		    "expected %u", path, got, PGB_SIG_LEN);
	memcpy(sig, buf, PGB_SIG_LEN);
	*present = 1;
	return 0;
}

int
pgb_bundle_open(const struct pgb_bundle_opts *o, struct pgb_bundle **out,
    struct pgb_diag *d)
{
	struct pgb_pubkey	 keys[PGB_KEYS_MAX];
	struct pgb_buf		 sigpath;
	unsigned char		*data = NULL, sig[PGB_SIG_LEN];
	size_t			 len, nkeys = 0, i;
	int			 present, rc = -1;

	*out = NULL;
	pgb_buf_init(&sigpath);
	if (o->npubkeys > PGB_KEYS_MAX)
		return pgb_fail(d, PGB_EKEY, "too many trusted keys (%zu, at "
		    "most %u)", o->npubkeys, PGB_KEYS_MAX);
	for (; nkeys < o->npubkeys; nkeys++) {
		if (pgb_pubkey_load(o->pubkeys[nkeys], &keys[nkeys], d) == -1)
			goto out;
	}
	if (read_bundle(o->path, &data, &len, d) == -1)
		goto out;
	if (o->sigpath)
		pgb_buf_puts(&sigpath, o->sigpath);
	else
		pgb_buf_printf(&sigpath, "%s.sig", o->path);
	if (read_sig(sigpath.data, o->sigpath != NULL, sig, &present,
	    d) == -1)
		goto out;
	if (!present && !o->allow_unsigned) {
		pgb_fail(d, PGB_EBUNDLE, "bundle '%s' is not signed (no '%s'); "
		    "pass --insecure-allow-unsigned to accept it", o->path,
		    sigpath.data);
		goto out;
	}
	if (present && nkeys == 0) {
		pgb_fail(d, PGB_EBUNDLE, "bundle '%s' is signed but no trusted "
		    "key was given; pass --pubkey or set PGAPPLY_PUBKEY",
		    o->path);
		goto out;
	}
	rc = pgb_bundle_load(data, len, present ? sig : NULL, PGB_SIG_LEN,
	    keys, nkeys, o->allow_unsigned, o->expect_target, out, d);
out:
	for (i = 0; i < nkeys; i++)
		pgb_pubkey_release(&keys[i]);
	free(data);
	pgb_buf_release(&sigpath);
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
