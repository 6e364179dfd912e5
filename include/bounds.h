#ifndef PGB_BOUNDS_H
#define PGB_BOUNDS_H

/*
 * bounds.h - every cap on input, in one place, each with its reason.
 * The runtime applies them to a bundle before and after its signature
 * checks; the compiler applies the same ones so that it never builds a
 * bundle the runtime would refuse.
 */

/* A ConfigMap holds 1 MiB; release artifacts may be larger, not unbounded. */
#define PGB_BUNDLE_MAX		(64u * 1024 * 1024)
/* One migration file (with its COPY data). */
#define PGB_SQL_MAX		(64u * 1024 * 1024)
/* Sum of all entries once decompressed: what the runtime holds in memory. */
#define PGB_TOTAL_MAX		(256u * 1024 * 1024)
/* Decompressed bytes per compressed byte; SQL compresses 5-20x, bombs 1000x. */
#define PGB_RATIO_MAX		200u
/* Below this many decompressed bytes the ratio is not judged. */
#define PGB_RATIO_FLOOR		(1024u * 1024)
/* Up and down scripts plus the manifest. */
#define PGB_MIGRATIONS_MAX	20000u
#define PGB_ENTRIES_MAX		(2 * PGB_MIGRATIONS_MAX + 1)
/* Statements in one script. */
#define PGB_STMTS_MAX		100000u
/* Verify queries in one migration. */
#define PGB_VERIFY_MAX		64u
/* The manifest is text; 20000 migrations with many statements fit. */
#define PGB_MANIFEST_MAX	(32u * 1024 * 1024)
/* One manifest line (a verify query is one line). */
#define PGB_LINE_MAX		8192u
/* A path inside the bundle, and a migration's name. */
#define PGB_NAME_MAX		200u
/*
 * A migration's file or folder name in the migrations directory.  It
 * ships as "migrations/NAME" (a folder as "migrations/NAME.down.sql"):
 * 11 + 100 + 9 bytes stay within PGB_NAME_MAX.
 */
#define PGB_BASENAME_MAX	100u
#if PGB_BASENAME_MAX + 20 > PGB_NAME_MAX
#error "migrations/BASENAME.down.sql must fit in PGB_NAME_MAX"
#endif
/* Entries read from the migrations directory: an up and a down script
 * per migration, and as many other files again (notes, verify scripts). */
#define PGB_DIRENTS_MAX		(4 * PGB_MIGRATIONS_MAX)
/* Digits of a version in a file name: 18 always fit a long long (the
 * history table's bigint), 19 may not. */
#define PGB_VERSION_DIGITS_MAX	18
/* A sqitch change name and a Liquibase changeset id each name a
 * migration, as a file name would (PGB_BASENAME_MAX). */
#define PGB_SQITCH_NAME_MAX	100
#define PGB_LIQUIBASE_ID_MAX	100
/* The reason pgapply accept records: a sentence or two, not a file. */
#define PGB_REASON_MAX		500u
/* Nested \i includes. */
#define PGB_INCLUDE_DEPTH	16u
/* A detached Ed25519 signature. */
#define PGB_SIG_LEN		64u
/* A signature given as text (hex, base64, vault:v1:...) is this short. */
#define PGB_SIGTEXT_MAX		4096u
/* A key file (PEM); anything larger is not a key. */
#define PGB_KEYFILE_MAX		16384u
/* A conninfo read with --db-file: a line of keywords or a URL. */
#define PGB_CONNINFO_MAX	8192u
/* Trusted public keys given at once (key rotation, approvers). */
#define PGB_KEYS_MAX		16u
/* Signature files read for one bundle: FILE.sig, or each --signature,
 * and one FILE.<keyid>.sig per trusted key. */
#define PGB_SIGFILES_MAX	(2 * PGB_KEYS_MAX)
/* A trust file: PGB_KEYS_MAX PEM keys, comments, min-signatures. */
#define PGB_TRUSTFILE_MAX	(64u * 1024)
/* A fleet: targets in one list (a few bytes of memory each), the list. */
#define PGB_TARGETS_MAX		100000u
#define PGB_TARGETS_FILE_MAX	(32u * 1024 * 1024)
/* One line of a target list (a conninfo with its TLS options fits). */
#define PGB_TARGET_LINE_MAX	8192u
/* A target's name, the prefix of each of its lines. */
#define PGB_TARGET_NAME_MAX	128u
/* Targets run at once: each is a process, a connection and three pipes. */
#define PGB_JOBS_MAX		128u
/*
 * Kubernetes refuses a ConfigMap whose data (each key and each value,
 * binaryData counted decoded) adds up to more than 1 MiB, and an object
 * name longer than a DNS subdomain (253 bytes).
 */
#define PGB_CONFIGMAP_MAX	(1024u * 1024)
#define PGB_CONFIGMAP_NAME_MAX	253u

#endif /* PGB_BOUNDS_H */
