/*
 * accept.c - move past drift on purpose: record the bundle's checksum for
 * a migration the database ran with other text (a released migration
 * that was fixed), without running it.  The row keeps the checksum it
 * had and the reason (columns previous_checksum and reason, which accept
 * adds to an older history table), and says origin "accepted"; the
 * chains of the applied migrations after it follow, as they would have
 * had the fixed text run.  history.c writes the rows.
 *
 * Trusts: a manifest that bundle.c verified, and the history read under
 * the runner lock.  Refuses, changing nothing: a version the bundle does
 * not hold, one the database has not applied (or failed half way), a
 * drifted migration before it (accept that one first), and a history
 * row the bundle does not hold.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply_local.h"
#include "bounds.h"
#include "hash.h"
#include "banned.h"

/* What the bundle says a history row of one version must hold. */
struct want {
	const struct pgb_migration *mig;	/* its own migration, or NULL */
	const char	*name;
	unsigned char	 sha256[PGB_SHA256_LEN];
	unsigned char	 chain[PGB_SHA256_LEN];
};

/*
 * The checksum and chain the bundle has for 'version' (given the row's
 * checksum 'have', for a baseline's own version, which stands for the
 * migration it replaced as well as for itself).  0, or -1 when the
 * bundle does not hold the version.
 */
static int
wanted(const struct pgb_manifest *m, long long version, const char *have,
    struct want *w)
{
	const struct pgb_migration	*mig;
	const struct pgb_replaced	*rp;
	char				 hex[PGB_HEX256_LEN + 1];

	memset(w, 0, sizeof(*w));
	if ((mig = pgb_find_mig(m, version)) != NULL) {
		pgb_hex(mig->up.sha256, PGB_SHA256_LEN, hex);
		if (!mig->baseline || (have != NULL && strcmp(have, hex) == 0)) {
			w->mig = mig;
			w->name = mig->name;
			memcpy(w->sha256, mig->up.sha256, PGB_SHA256_LEN);
			memcpy(w->chain, mig->chain, PGB_SHA256_LEN);
			return 0;
		}
		rp = &mig->replaces[mig->nreplaces - 1];
	} else if ((rp = pgb_find_replaced(m, version, NULL)) == NULL)
		return -1;
	w->name = rp->name;
	memcpy(w->sha256, rp->sha256, PGB_SHA256_LEN);
	memcpy(w->chain, rp->chain, PGB_SHA256_LEN);
	return 0;
}

static int
row_matches(const struct pgb_hrow *r, const struct want *w)
{
	char	hex[PGB_HEX256_LEN + 1];

	pgb_hex(w->sha256, PGB_SHA256_LEN, hex);
	return strcmp(hex, r->checksum) == 0;
}

/* Refuse unless every row before 'version' is the bundle's, unchanged. */
static int
check_before(const struct pgb_manifest *m, const struct pgb_history *h,
    long long version, const char *bundle, struct pgb_diag *d)
{
	const struct pgb_hrow	*r;
	struct want		 w;
	size_t			 i;

	for (i = 0; i < h->n && h->v[i].version < version; i++) {
		r = &h->v[i];
		if (wanted(m, r->version, r->checksum, &w) == -1)
			return pgb_fail(d, PGB_ECONFLICT, "database has "
			    "migration %lld '%s' that the bundle does not hold",
			    r->version, r->name);
		if (!row_matches(r, &w)) {
			pgb_fail(d, PGB_ECONFLICT, "migration %lld '%s', before "
			    "%lld, changed too", r->version, r->name, version);
			pgb_detail(d, "accept it first: pgapply accept %s "
			    "--version %lld --reason TEXT; nothing was changed",
			    bundle, r->version);
			return -1;
		}
	}
	return 0;
}

/* Row 'r' now holds the bundle's checksum 'w', the old one kept. */
static int
write_accepted(struct pgb_db *db, const struct pgb_hrow *r,
    const struct want *w, const struct pgb_apply_opts *o,
    const char *reason, struct pgb_diag *d)
{
	struct pgb_haccept	a;

	memset(&a, 0, sizeof(a));
	a.version = r->version;
	a.name = w->name;
	a.sha256 = w->sha256;
	a.chain = w->chain;
	a.previous = r->checksum;
	a.reason = reason;
	a.bundle_id = o->bundle_id;
	a.up = w->mig ? &w->mig->up : NULL;
	return pgb_history_accept(db, &a, d);
}

/*
 * The applied rows after 'version' that are the bundle's take the
 * bundle's chain, which now follows from the accepted text.  '*n' gets
 * how many follow, '*drifted' how many changed themselves (left alone).
 */
static int
follow(struct pgb_db *db, const struct pgb_manifest *m,
    const struct pgb_history *h, long long version, size_t *n,
    size_t *drifted, struct pgb_diag *d)
{
	const struct pgb_hrow	*r;
	struct want		 w;
	char			 chain[PGB_HEX256_LEN + 1];
	size_t			 i;
	int			 rc = 0;

	*n = *drifted = 0;
	for (i = 0; i < h->n && rc == 0; i++) {
		r = &h->v[i];
		if (r->version <= version)
			continue;
		if (wanted(m, r->version, r->checksum, &w) == -1) {
			rc = pgb_fail(d, PGB_ECONFLICT, "database has migration "
			    "%lld '%s' that the bundle does not hold",
			    r->version, r->name);
			break;
		}
		if (!row_matches(r, &w)) {
			(*drifted)++;
			continue;
		}
		pgb_hex(w.chain, PGB_SHA256_LEN, chain);
		if (strcmp(chain, r->chain) != 0)
			rc = pgb_history_set_chain(db, r->version, w.chain, d);
		(*n)++;
	}
	return rc;
}

/* The reason goes into the history and onto terminals: one plain line. */
static int
check_reason(const char *reason, struct pgb_diag *d)
{
	const unsigned char	*p;
	size_t			 n = strlen(reason);

	if (n == 0 || strspn(reason, " \t") == n)
		return pgb_fail(d, PGB_EUSAGE, "--reason must say why the "
		    "changed migration is accepted");
	if (n > PGB_REASON_MAX)
		return pgb_fail(d, PGB_EUSAGE, "--reason is %zu bytes, over "
		    "the limit of %u", n, PGB_REASON_MAX);
	for (p = (const unsigned char *)reason; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return pgb_fail(d, PGB_EUSAGE, "--reason must be one "
			    "line of text, without control characters");
	return 0;
}

/* The row of 'version', applied; else the refusal. */
static const struct pgb_hrow *
applied_row(const struct pgb_history *h, const struct pgb_migration *mig,
    long long version, struct pgb_diag *d)
{
	const struct pgb_hrow	*r = pgb_find_row(h, version);
	char			 label[PGB_NAME_MAX + 8];

	if (mig != NULL)
		pgb_mig_label(mig, label, sizeof(label));
	else
		snprintf(label, sizeof(label), "%lld", version);
	if (r == NULL) {
		pgb_fail(d, PGB_ECONFLICT, "migration '%s' is not applied: "
		    "there is nothing to accept", label);
		pgb_detail(d, "accept records new text for a migration the "
		    "database ran; 'pgapply apply' runs a pending one; nothing "
		    "was changed");
		return NULL;
	}
	if (r->status != PGB_H_APPLIED) {
		pgb_fail(d, PGB_ECONFLICT, "migration '%s' is not applied: it "
		    "failed after %d of %d statements", label, r->done,
		    r->total);
		pgb_detail(d, "accept records new text for a migration the "
		    "database ran; finish it with 'pgapply apply "
		    "--retry-failed'; nothing was changed");
		return NULL;
	}
	return r;
}

static void
emit_accepted(const struct pgb_apply_opts *o, const struct want *w,
    const struct pgb_hrow *r, const char *reason, size_t followed)
{
	struct pgb_event	ev;
	char			sha[PGB_HEX256_LEN + 8], old[PGB_HEX256_LEN + 8];

	if (o->emit == NULL)
		return;
	memcpy(sha, "sha256:", 7);
	pgb_hex(w->sha256, PGB_SHA256_LEN, sha + 7);
	snprintf(old, sizeof(old), "sha256:%s", r->checksum);
	memset(&ev, 0, sizeof(ev));
	ev.kind = PGB_EV_ACCEPTED;
	ev.mig = w->mig;
	ev.row = r;
	ev.state = "accepted";
	ev.checksum = sha;
	ev.previous = old;
	ev.reason = reason;
	ev.count = followed;
	o->emit(o->ctx, &ev);
}

int
pgb_accept(struct pgb_db *db, const struct pgb_manifest *m,
    const struct pgb_apply_opts *o, long long version, const char *reason,
    struct pgb_diag *d)
{
	struct pgb_history	 h;
	const struct pgb_hrow	*r;
	struct want		 w;
	size_t			 followed = 0, drifted = 0;
	int			 rc = -1;

	if (check_reason(reason, d) == -1)
		return -1;
	if (wanted(m, version, NULL, &w) == -1)
		return pgb_fail(d, PGB_EUSAGE, "the bundle has no migration "
		    "%lld to accept", version);
	memset(&h, 0, sizeof(h));
	if (pgb_db_lock(db, o->lock_wait, d) == -1)
		return -1;
	if (pgb_db_read_history(db, &h, 0, d) == -1 ||
	    (r = applied_row(&h, pgb_find_mig(m, version), version, d)) ==
	    NULL || check_before(m, &h, version, o->bundle ? o->bundle :
	    "FILE", d) == -1)
		goto out;
	/* A baseline's own row that is not the baseline's: the replaced. */
	(void)wanted(m, version, r->checksum, &w);
	if (row_matches(r, &w)) {
		pgb_emit(o, PGB_EV_SUMMARY, w.mig, r, "accept", 0, 0);
		rc = 0;
		goto out;
	}
	if (pgb_db_exec(db, "BEGIN", 0, NULL, NULL, d) == -1)
		goto out;
	if (write_accepted(db, r, &w, o, reason, d) == -1 ||
	    follow(db, m, &h, version, &followed, &drifted, d) == -1 ||
	    pgb_db_exec(db, "COMMIT", 0, NULL, NULL, d) == -1) {
		pgb_rollback_tx(db);
		goto out;
	}
	emit_accepted(o, &w, r, reason, followed);
	pgb_emit(o, PGB_EV_SUMMARY, NULL, NULL, "accept", 0, 1);
	rc = 0;
out:
	pgb_history_release(&h);
	pgb_db_unlock(db);
	return rc;
}
