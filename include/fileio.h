#ifndef PGB_FILEIO_H
#define PGB_FILEIO_H

/*
 * fileio.h - the one place pgbundle and pgapply read and write files.
 *
 * Reading: a regular file only, whole, under a cap the caller gives.  The
 * file is opened with O_NONBLOCK, so a FIFO never blocks the open, and
 * fstat()ed before a byte is read.  Symbolic links are followed (a key in
 * a Kubernetes Secret volume is one) unless PGB_FILE_NOFOLLOW says not to.
 *
 * Writing: every file is created new, with O_EXCL and O_NOFOLLOW, so that
 * nothing planted at its name (a symlink to a file elsewhere) is ever
 * written through, and synced before it counts.  A replacement is such a
 * new file in the same folder, renamed over the old name, and the folder
 * is synced after the rename.
 *
 * Every failure fills a struct pgb_diag naming the path and leaves errno
 * at its cause, for the callers whose messages say it their own way.
 */
#include <stddef.h>

#include "diag.h"

/* pgb_file_open, pgb_file_read: refuse a symbolic link (errno ELOOP). */
#define PGB_FILE_NOFOLLOW	0x1

/*
 * Open 'path' for reading: a regular file of at most 'max' bytes.  'what'
 * names the file in messages ("public key"; NULL: nothing), all with
 * 'code': "cannot read <what> '<path>': <errno text>", "<what> '<path>'
 * is a symbolic link", "<what> '<path>' is not a regular file" (errno
 * EINVAL), "<what> '<path>' is N bytes, over the limit of M" (EFBIG).
 * 0: *fd is the caller's to close, *size what fstat says.  -1: no
 * descriptor; *size is the file's size when over the cap, else 0.
 */
int	pgb_file_open(const char *what, const char *path, size_t max,
	    int flags, int code, int *fd, size_t *size, struct pgb_diag *d);

/*
 * Read from 'fd' until end of file or 'cap' bytes, retrying on EINTR.
 * 0 and *got; -1 with errno set.
 */
int	pgb_file_fill(int fd, void *buf, size_t cap, size_t *got);

/*
 * Read 'path' whole through pgb_file_open: 0 and a new NUL-terminated
 * buffer (*out, caller frees; *len its length), or -1 with *out NULL and
 * 'd' filled as pgb_file_open says, or "<what> '<path>' is over the limit
 * of M bytes" (EFBIG) for a file that grew while it was read.
 */
int	pgb_file_read(const char *what, const char *path, size_t max,
	    int flags, int code, char **out, size_t *len, struct pgb_diag *d);

/*
 * Read standard input to its end, at most 'max' bytes, as pgb_file_read
 * does a file.  -1: "cannot read <what> on standard input: <errno text>"
 * or "<what> on standard input is over the limit of M bytes", with 'code'.
 */
int	pgb_file_read_stdin(const char *what, size_t max, int code,
	    char **out, size_t *len, struct pgb_diag *d);

/*
 * Exclusive creation.  pgb_file_claim: create 'path' empty with 'mode'
 * (it must not exist, not even as a symlink: EEXIST), *fd the caller's.
 * pgb_file_put: write data[0..len) to 'fd' and fsync it; 'path' names it
 * in messages.  pgb_file_create: both, then close; on failure the file is
 * removed.  Messages: "cannot write '<path>': <errno text>", with
 * PGB_EINTERNAL.
 */
int	pgb_file_claim(const char *path, int mode, int *fd,
	    struct pgb_diag *d);
int	pgb_file_put(int fd, const char *path, const void *data, size_t len,
	    struct pgb_diag *d);
int	pgb_file_create(const char *path, const void *data, size_t len,
	    int mode, struct pgb_diag *d);

/*
 * Atomic writes.  pgb_file_temp: a new file named 'stem'.tmpPID (or
 * .tmpPID.N when that name is taken) through pgb_file_create, its name in
 * 'tmp'.  pgb_file_rename: rename(2) 'from' to 'to', then fsync the folder
 * of 'to'.  pgb_file_replace: pgb_file_temp beside 'path', then renamed
 * over it.  0, or -1 with 'd' filled and no temporary file left behind.
 */
int	pgb_file_temp(const char *stem, const void *data, size_t len,
	    int mode, char *tmp, size_t tmplen, struct pgb_diag *d);
int	pgb_file_rename(const char *from, const char *to, struct pgb_diag *d);
int	pgb_file_replace(const char *path, const void *data, size_t len,
	    int mode, struct pgb_diag *d);

/*
 * mkdir -p: 'path' and every missing folder above it, with mode 0755; a
 * folder that exists already is fine.  -1: "cannot make '<folder>':
 * <errno text>" (PGB_EINTERNAL) or "path too long: '<path>'" (PGB_EUSAGE).
 */
int	pgb_file_mkdirs(const char *path, struct pgb_diag *d);

#endif /* PGB_FILEIO_H */
