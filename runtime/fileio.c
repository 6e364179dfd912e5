/*
 * fileio.c - read and write files (fileio.h): the one owner of open(2)
 * on a path for pgbundle and pgapply.
 *
 * Trusts: nothing about a path or what it names.
 * Rejects: reading anything but a regular file (a FIFO is opened without
 * blocking and refused by fstat), a file over the caller's cap (before
 * reading it, and again if it grew), a symbolic link when asked to;
 * writing through anything that exists at a name: files are created new
 * with O_EXCL | O_NOFOLLOW, and replaced by renaming a synced new file.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"
#include "fileio.h"
#include "banned.h"

/* Temporary names tried beside one output file before giving up. */
#define TEMP_TRIES	100

/* "what " for messages, or "" when the caller names nothing. */
#define WHAT(w)		(w) ? (w) : "", (w) ? " " : ""

static int	sync_folder(const char *, struct pgb_diag *);

int
pgb_file_open(const char *what, const char *path, size_t max, int flags,
    int code, int *fd, size_t *size, struct pgb_diag *d)
{
	struct stat	st;
	int		oflags = O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC;
	int		e;

	*fd = -1;
	*size = 0;
	if (flags & PGB_FILE_NOFOLLOW)
		oflags |= O_NOFOLLOW;
	/* O_NONBLOCK: opening a FIFO must not hang; fstat refuses it. */
	if ((*fd = open(path, oflags)) == -1) {
		e = errno;
		if (e == ELOOP && (flags & PGB_FILE_NOFOLLOW))
			pgb_fail(d, code, "%s%s'%s' is a symbolic link",
			    WHAT(what), path);
		else
			pgb_fail(d, code, "cannot read %s%s'%s': %s",
			    WHAT(what), path, strerror(e));
		errno = e;
		return -1;
	}
	if (fstat(*fd, &st) == -1) {
		e = errno;
		pgb_fail(d, code, "cannot read %s%s'%s': %s", WHAT(what),
		    path, strerror(e));
	} else if (!S_ISREG(st.st_mode)) {
		e = EINVAL;
		pgb_fail(d, code, "%s%s'%s' is not a regular file", WHAT(what),
		    path);
	} else if (st.st_size < 0 || (unsigned long long)st.st_size > max) {
		e = EFBIG;
		*size = st.st_size < 0 ? 0 : (size_t)st.st_size;
		pgb_fail(d, code, "%s%s'%s' is %lld bytes, over the limit of "
		    "%zu", WHAT(what), path, (long long)st.st_size, max);
	} else {
		*size = (size_t)st.st_size;
		return 0;
	}
	close(*fd);
	*fd = -1;
	errno = e;
	return -1;
}

int
pgb_file_fill(int fd, void *buf, size_t cap, size_t *got)
{
	ssize_t	r;

	*got = 0;
	while (*got < cap) {
		r = read(fd, (char *)buf + *got, cap - *got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0)
			break;
		*got += (size_t)r;
	}
	return 0;
}

/*
 * Read 'fd' to its end, at most 'max' bytes, into a new buffer: 0 with
 * *out (NUL-terminated, caller frees) and *len; 1 when there is more
 * than 'max'; -1 with errno.  'hint', the size expected, is the first
 * allocation, so that a small file never costs 'max' bytes.
 */
static int
slurp(int fd, size_t hint, size_t max, char **out, size_t *len)
{
	char	*buf;
	size_t	 cap, got = 0, n;
	int	 e;

	if (max > SIZE_MAX - 2)
		max = SIZE_MAX - 2;	/* room for the byte past it and a NUL */
	/* One byte more than expected, to see the end or a file that grew. */
	cap = (hint < max ? hint : max) + 1;
	buf = pgb_xmalloc(cap + 1);
	for (;;) {
		if (pgb_file_fill(fd, buf + got, cap - got, &n) == -1) {
			e = errno;
			free(buf);
			errno = e;
			return -1;
		}
		got += n;
		if (got < cap)
			break;
		if (got > max) {
			free(buf);
			return 1;
		}
		cap = cap > (max + 1) / 2 ? max + 1 : cap * 2;
		buf = pgb_xreallocarray(buf, cap + 1, 1);
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

int
pgb_file_read(const char *what, const char *path, size_t max, int flags,
    int code, char **out, size_t *len, struct pgb_diag *d)
{
	size_t	size;
	int	fd, rc, e;

	*out = NULL;
	*len = 0;
	if (pgb_file_open(what, path, max, flags, code, &fd, &size, d) == -1) {
		*len = size;
		return -1;
	}
	rc = slurp(fd, size, max, out, len);
	e = errno;
	close(fd);
	if (rc == -1)
		pgb_fail(d, code, "cannot read %s%s'%s': %s", WHAT(what),
		    path, strerror(e));
	else if (rc == 1) {
		pgb_fail(d, code, "%s%s'%s' is over the limit of %zu bytes",
		    WHAT(what), path, max);
		e = EFBIG;
	}
	errno = e;
	return rc == 0 ? 0 : -1;
}

int
pgb_file_read_stdin(const char *what, size_t max, int code, char **out,
    size_t *len, struct pgb_diag *d)
{
	int	rc;

	*out = NULL;
	*len = 0;
	if ((rc = slurp(STDIN_FILENO, 65536, max, out, len)) == -1)
		return pgb_fail(d, code, "cannot read %s on standard input: %s",
		    what, strerror(errno));
	if (rc == 1)
		return pgb_fail(d, code, "%s on standard input is over the "
		    "limit of %zu bytes", what, max);
	return 0;
}

int
pgb_file_claim(const char *path, int mode, int *fd, struct pgb_diag *d)
{
	int	e;

	*fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (*fd != -1)
		return 0;
	e = errno;
	pgb_fail(d, PGB_EINTERNAL, "cannot write '%s': %s", path, strerror(e));
	errno = e;
	return -1;
}

int
pgb_file_put(int fd, const char *path, const void *data, size_t len,
    struct pgb_diag *d)
{
	const char	*p = data;
	ssize_t		 n;
	int		 e;

	while (len > 0) {
		if ((n = write(fd, p, len)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			e = n == 0 ? EIO : errno;
			goto bad;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) == 0)
		return 0;
	e = errno;
bad:
	pgb_fail(d, PGB_EINTERNAL, "cannot write '%s': %s", path, strerror(e));
	errno = e;
	return -1;
}

int
pgb_file_create(const char *path, const void *data, size_t len, int mode,
    struct pgb_diag *d)
{
	int	fd, e;

	if (pgb_file_claim(path, mode, &fd, d) == -1)
		return -1;
	if (pgb_file_put(fd, path, data, len, d) == -1) {
		e = errno;
		close(fd);
		unlink(path);
		errno = e;
		return -1;
	}
	if (close(fd) == -1) {
		e = errno;
		unlink(path);
		pgb_fail(d, PGB_EINTERNAL, "cannot write '%s': %s", path,
		    strerror(e));
		errno = e;
		return -1;
	}
	return 0;
}

int
pgb_file_temp(const char *stem, const void *data, size_t len, int mode,
    char *tmp, size_t tmplen, struct pgb_diag *d)
{
	unsigned	k;
	int		n;

	for (k = 0; k < TEMP_TRIES; k++) {
		n = k == 0 ? snprintf(tmp, tmplen, "%s.tmp%ld", stem,
		    (long)getpid()) : snprintf(tmp, tmplen, "%s.tmp%ld.%u",
		    stem, (long)getpid(), k);
		if (n < 0 || (size_t)n >= tmplen)
			return pgb_fail(d, PGB_EUSAGE, "path too long: '%s'",
			    stem);
		/* Someone else's file (or a planted symlink): another name. */
		if (pgb_file_create(tmp, data, len, mode, d) == 0)
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	return pgb_fail(d, PGB_EINTERNAL, "cannot write '%s': %u temporary "
	    "names beside it are taken ('%s.tmp%ld' ...)", stem, TEMP_TRIES,
	    stem, (long)getpid());
}

/*
 * fsync the folder holding 'path', so that a rename into it survives a
 * crash.  A folder that cannot be opened for reading, or a file system
 * that cannot sync one (EINVAL), is let be: the rename stands.
 */
static int
sync_folder(const char *path, struct pgb_diag *d)
{
	char		 dir[PATH_MAX];
	const char	*slash = strrchr(path, '/');
	int		 fd, rc = 0;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if ((size_t)snprintf(dir, sizeof(dir), "%.*s",
	    slash == path ? 1 : (int)(slash - path), path) >= sizeof(dir))
		return pgb_fail(d, PGB_EUSAGE, "path too long: '%s'", path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return 0;
	if (fsync(fd) == -1 && errno != EINVAL)
		rc = pgb_fail(d, PGB_EINTERNAL, "cannot sync folder '%s': %s",
		    dir, strerror(errno));
	close(fd);
	return rc;
}

int
pgb_file_rename(const char *from, const char *to, struct pgb_diag *d)
{
	int	e;

	/* rename() replaces 'to' itself, never what a symlink there names. */
	if (rename(from, to) == -1) {
		e = errno;
		pgb_fail(d, PGB_EINTERNAL, "cannot write '%s': %s", to,
		    strerror(e));
		errno = e;
		return -1;
	}
	return sync_folder(to, d);
}

int
pgb_file_replace(const char *path, const void *data, size_t len, int mode,
    struct pgb_diag *d)
{
	char	tmp[PATH_MAX];

	if (pgb_file_temp(path, data, len, mode, tmp, sizeof(tmp), d) == -1)
		return -1;
	if (rename(tmp, path) == -1) {
		pgb_fail(d, PGB_EINTERNAL, "cannot write '%s': %s", path,
		    strerror(errno));
		unlink(tmp);
		return -1;
	}
	return sync_folder(path, d);
}

int
pgb_file_mkdirs(const char *path, struct pgb_diag *d)
{
	struct stat	st;
	char		buf[PATH_MAX], *s;

	if (path[0] == '\0')
		return 0;
	if ((size_t)snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf))
		return pgb_fail(d, PGB_EUSAGE, "path too long: '%s'", path);
	for (s = buf + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			return pgb_fail(d, PGB_EINTERNAL, "cannot make '%s': "
			    "%s", buf, strerror(errno));
		*s = '/';
	}
	if (mkdir(buf, 0755) == 0)
		return 0;
	if (errno == EEXIST && stat(buf, &st) == 0 && !S_ISDIR(st.st_mode))
		errno = ENOTDIR;
	else if (errno == EEXIST)
		return 0;
	return pgb_fail(d, PGB_EINTERNAL, "cannot make '%s': %s", buf,
	    strerror(errno));
}
