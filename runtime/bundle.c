/*
 * bundle.c - read a bundle, check its signature, then unpack and verify
 * it entry by entry: the policy of the verify path, the security core of
 * pgapply.  gztar.c feeds it the entries.
 *
 * Trusts: the trusted public keys it is given (checked by sig.c), and
 * after the signature verifies, gztar.c and ustar.c with bytes from
 * memory.  Nothing else: the archive is read as if hostile even though
 * it is signed.
 * Rejects, before reading a byte of archive: a bundle that is not a
 * regular file or is over PGB_BUNDLE_MAX, signatures short of trust.c's
 * policy (64 bytes each, enough distinct trusted keys), an unsigned bundle
 * unless allowed.  While reading (gztar.c and ustar.c refuse what is not
 * one gzip member holding the plain ustar pgbundle writes): a repeated
 * name, a first entry other than MANIFEST, an entry the manifest does not
 * list or of another size or SHA-256, more than PGB_TOTAL_MAX bytes of
 * scripts, a manifest file missing from the archive, a bundle for another
 * target.  Names in messages are escaped.
 *
 * Each entry's data is hashed as it streams past and copied to the
 * bundle's one mapping of script texts (not for check_only).
 */
#include <sys/mman.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounds.h"
#include "buf.h"
#include "bundle.h"
#include "diag.h"
#include "fileio.h"
#include "gztar.h"
#include "hash.h"
#include "manifest.h"
#include "sig.h"
#include "trust.h"
#include "ustar.h"
#include "banned.h"

#if PGB_SQL_MAX > PGB_TOTAL_MAX || PGB_MANIFEST_MAX > PGB_TOTAL_MAX
#error "one entry cannot be allowed more than the whole bundle"
#endif

#define POPULATE_MAX	(8u * 1024 * 1024)	/* a mapping faulted in at
						   once, up to this */

/* A manifest script, by path, and whether its entry was seen. */
struct slot {
	const char		*path;
	struct pgb_script	*sc;
	unsigned char		*at;	/* where its bytes go in the arena */
	int			 seen;
};

/*
 * State of one unpacking: gztar.c hands each entry the ustar check passed
 * to take_entry(), its data to take_data() and its end to end_entry().
 */
struct unpack {
	struct pgb_bundle	*b;
	struct slot		*slots;		/* sorted by path */
	size_t			 nslots;
	size_t			 next;		/* the slot the next entry
						   is, in pgbundle's order */
	size_t			 nentries;	/* headers taken */
	struct slot		*cur;		/* the entry read; NULL: the
						   manifest */
	unsigned char		*buf;		/* its bytes so far; NULL:
						   only hashed (check_only) */
	size_t			 buflen;	/* the manifest's mapping */
	size_t			 got;
	struct pgb_sha256	*hash;		/* of the script read */
	int			 check_only;
	uint64_t		 badsize;	/* its header's size, when
						   not the manifest's; else 0 */
	struct pgb_diag		*d;
};

static void	 huge_pages(void *, size_t);
static void	*map_bytes(size_t);
static int	 cmp_slot(const void *, const void *);
static int	 index_manifest(struct unpack *, struct pgb_manifest *);
static struct slot *find_slot(struct unpack *, const char *);
static int	 take_entry(void *, const struct pgb_ustar_entry *,
		    struct pgb_diag *);
static int	 take_data(void *, const unsigned char *, size_t,
		    struct pgb_diag *);
static int	 end_entry(void *, struct pgb_diag *);
static int	 check_complete(struct unpack *, const struct pgb_bundle *,
		    const char *);
static int	 unpack(const unsigned char *, size_t, unsigned char *,
		    const char *, int, struct pgb_bundle *, struct pgb_diag *);
static int	 accept_sig(const unsigned char *, size_t,
		    const struct pgb_sigset *, const struct pgb_pubkey *,
		    size_t, size_t, struct pgb_bundle *, struct pgb_diag *);
static int	 load(const unsigned char *, size_t, unsigned char *,
		    const struct pgb_sigset *, const struct pgb_pubkey *,
		    size_t, size_t, int, const char *, int,
		    struct pgb_bundle **, struct pgb_diag *);
static int	 read_bundle(const char *, unsigned char **, size_t *,
		    struct pgb_diag *);
static int	 trusted_keys(const struct pgb_bundle_opts *,
		    struct pgb_trust *, struct pgb_diag *);

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

/*
 * 'n' bytes of zeroed memory in a mapping of their own (munmap() them), or
 * NULL.  Faulted in at once up to POPULATE_MAX: one call instead of a
 * page fault a page, which a virtual machine makes dear.
 */
static void *
map_bytes(size_t n)
{
	void	*p;

	p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
	    (n <= POPULATE_MAX ? MAP_POPULATE : 0), -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	huge_pages(p, n);
	return p;
}

static int
cmp_slot(const void *a, const void *b)
{
	return strcmp(((const struct slot *)a)->path,
	    ((const struct slot *)b)->path);
}

/*
 * Sorted slots for every script the manifest names, and the arena their
 * bytes go to, each followed by a NUL: one mapping for all of them, whose
 * pages are faulted in at once when it is small.
 */
static int
index_manifest(struct unpack *u, struct pgb_manifest *m)
{
	struct pgb_bundle	*b = u->b;
	size_t			 i, total = 0, off = 0;

	u->slots = pgb_xreallocarray(NULL, m->nmigs * 2 + 1,
	    sizeof(*u->slots));
	u->nslots = 0;
	for (i = 0; i < m->nmigs; i++) {
		u->slots[u->nslots].path = m->migs[i].up.path;
		u->slots[u->nslots++].sc = &m->migs[i].up;
		if (m->migs[i].has_down) {
			u->slots[u->nslots].path = m->migs[i].down.path;
			u->slots[u->nslots++].sc = &m->migs[i].down;
		}
	}
	for (i = 0; i < u->nslots; i++) {
		/* Sizes are under PGB_SQL_MAX each: this cannot wrap. */
		total += u->slots[i].sc->size;
		if (total > PGB_TOTAL_MAX)
			return pgb_fail(u->d, PGB_EBUNDLE, "bundle holds more "
			    "than %u bytes uncompressed", PGB_TOTAL_MAX);
	}
	qsort(u->slots, u->nslots, sizeof(*u->slots), cmp_slot);
	for (i = 0; i < u->nslots; i++)
		u->slots[i].seen = 0;
	if (u->check_only)
		return 0;
	b->arenalen = total + u->nslots + 1;
	if ((b->arena = map_bytes(b->arenalen)) == NULL)
		return pgb_fail(u->d, PGB_EINTERNAL, "cannot map %zu bytes for "
		    "the scripts", b->arenalen);
	for (i = 0; i < u->nslots; i++) {
		u->slots[i].at = b->arena + off;
		off += u->slots[i].sc->size + 1;
	}
	return 0;
}

/* The slot of entry 'name': the next in order, as pgbundle writes them. */
static struct slot *
find_slot(struct unpack *u, const char *name)
{
	struct slot	key;

	if (u->next < u->nslots && strcmp(u->slots[u->next].path, name) == 0)
		return &u->slots[u->next++];
	key.path = name;
	return bsearch(&key, u->slots, u->nslots, sizeof(*u->slots),
	    cmp_slot);
}

/* A header the ustar check passed: which entry it is, or a refusal. */
static int
take_entry(void *arg, const struct pgb_ustar_entry *en, struct pgb_diag *d)
{
	struct unpack	*u = arg;
	struct slot	*s;
	char		 e[PGB_ESC_MAX];

	u->got = 0;
	if (u->nentries++ == 0) {
		if (strcmp(en->name, PGB_MANIFEST_NAME) != 0) {
			pgb_esc(en->name, e, sizeof(e));
			return pgb_fail(d, PGB_EBUNDLE, "first entry is '%s', "
			    "expected '%s'", e, PGB_MANIFEST_NAME);
		}
		/* Its size is under PGB_MANIFEST_MAX: the ustar check saw. */
		u->cur = NULL;
		u->buflen = (size_t)en->size + 1;
		if ((u->buf = map_bytes(u->buflen)) == NULL)
			return pgb_fail(d, PGB_EINTERNAL, "cannot map %zu bytes "
			    "for the manifest", u->buflen);
		return 0;
	}
	if (strcmp(en->name, PGB_MANIFEST_NAME) == 0)
		return pgb_fail(d, PGB_EBUNDLE, "duplicate entry '%s'",
		    PGB_MANIFEST_NAME);
	if ((s = find_slot(u, en->name)) == NULL || s->seen) {
		pgb_esc(en->name, e, sizeof(e));
		if (s == NULL)
			return pgb_fail(d, PGB_EBUNDLE, "'%s' is present in "
			    "bundle but not in manifest", e);
		return pgb_fail(d, PGB_EBUNDLE, "duplicate entry '%s'", e);
	}
	s->seen = 1;
	u->cur = s;
	u->buf = u->check_only ? NULL : s->at;
	pgb_sha256_start(u->hash);
	/*
	 * Said once the ustar check has seen the entry to its end, which
	 * may find the stream damaged first; its bytes are not kept.
	 */
	u->badsize = en->size != s->sc->size ? en->size : 0;
	if (en->size == 0 && s->sc->size != 0)
		u->badsize = UINT64_MAX;
	return 0;
}

/* The next bytes of the entry taken: within its size, ustar.c saw to it. */
static int
take_data(void *arg, const unsigned char *p, size_t n, struct pgb_diag *d)
{
	struct unpack	*u = arg;

	(void)d;
	/* Hashed as it streams past, while the bytes are in the cache. */
	if (u->cur != NULL)
		pgb_sha256_add(u->hash, p, n);
	if (u->badsize == 0 && u->buf != NULL)
		memcpy(u->buf + u->got, p, n);
	u->got += n;
	return 0;
}

/* The entry is complete: parse the manifest, or check the script. */
static int
end_entry(void *arg, struct pgb_diag *d)
{
	struct unpack	*u = arg;
	unsigned char	 sha[PGB_SHA256_LEN];
	char		 e[PGB_ESC_MAX];
	int		 rc;

	if (u->cur != NULL && u->badsize != 0) {
		pgb_esc(u->cur->path, e, sizeof(e));
		return pgb_fail(d, PGB_EBUNDLE, "'%s' has size %zu but "
		    "manifest says %zu", e, u->got, u->cur->sc->size);
	}
	if (u->buf != NULL)
		u->buf[u->got] = '\0';
	if (u->cur == NULL) {
		rc = pgb_manifest_parse((const char *)u->buf, u->got,
		    &u->b->manifest, d);
		munmap(u->buf, u->buflen);
		u->buf = NULL;
		return rc == -1 ? -1 : index_manifest(u, &u->b->manifest);
	}
	pgb_sha256_done(u->hash, sha);
	if (!pgb_digest_eq(sha, u->cur->sc->sha256, PGB_SHA256_LEN)) {
		pgb_esc(u->cur->path, e, sizeof(e));
		return pgb_fail(d, PGB_EBUNDLE, "checksum mismatch for '%s'",
		    e);
	}
	u->cur->sc->text = u->buf;
	u->buf = NULL;
	return 0;
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
    const char *expect_target, int check_only, struct pgb_bundle *b,
    struct pgb_diag *d)
{
	struct unpack		u;
	struct pgb_ustar_sink	sink;
	int			rc = -1;

	memset(&u, 0, sizeof(u));
	u.b = b;
	u.check_only = check_only;
	u.d = d;
	sink.entry = take_entry;
	sink.data = take_data;
	sink.end = end_entry;
	sink.ctx = &u;
	u.hash = pgb_sha256_new();
	if (pgb_gztar_read(data, len, givable, &sink, d) == 0) {
		if (u.nentries == 0)
			pgb_fail(d, PGB_EBUNDLE, "bundle has no '%s' entry",
			    PGB_MANIFEST_NAME);
		else if (check_complete(&u, b, expect_target) == 0)
			rc = 0;
	}
	pgb_sha256_free(u.hash);
	if (u.cur == NULL && u.buf != NULL)
		munmap(u.buf, u.buflen);	/* a manifest cut short */
	free(u.slots);
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

static int
load(const unsigned char *data, size_t len, unsigned char *givable,
    const struct pgb_sigset *sigs, const struct pgb_pubkey *keys,
    size_t nkeys, size_t min, int allow_unsigned, const char *expect_target,
    int check_only, struct pgb_bundle **out, struct pgb_diag *d)
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
	    unpack(data, len, givable, expect_target, check_only, b,
	    d) == -1) {
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
	    expect_target, 0, out, d);
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
	unsigned char	*buf;
	size_t		 size, got = 0;
	int		 fd, e;

	*out = NULL;
	*outlen = 0;
	if (pgb_file_open("bundle", path, PGB_BUNDLE_MAX, 0, PGB_EBUNDLE, &fd,
	    &size, d) == -1)
		return -1;
	/*
	 * One byte more than fstat said, to notice a file that grew.  Its
	 * own mapping, so that unpack() can give pages of it back.
	 */
	if ((buf = map_bytes(size + 1)) == NULL) {
		close(fd);
		return pgb_fail(d, PGB_EINTERNAL, "cannot map %zu bytes for "
		    "bundle '%s': %s", size + 1, path, strerror(errno));
	}
	if (pgb_file_fill(fd, buf, size + 1, &got) == -1) {
		e = errno;
		munmap(buf, size + 1);
		close(fd);
		return pgb_fail(d, PGB_EBUNDLE, "cannot read bundle '%s': %s",
		    path, strerror(e));
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
	    o->allow_unsigned, o->expect_target, o->check_only, out, d);
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
	if (b->arena != NULL)
		munmap(b->arena, b->arenalen);
	pgb_manifest_release(&b->manifest);
	free(b);
}
