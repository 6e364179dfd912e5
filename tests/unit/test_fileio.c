/*
 * test_fileio.c - the file module: reads under a cap, regular files only,
 * a FIFO refused without blocking, symbolic links refused where asked,
 * exclusive creation, atomic replacement that leaves no temporary file
 * behind, and mkdir -p.  Each case works in a folder of its own.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "fileio.h"

struct dir {
	char	path[256];	/* TMPDIR/pgb-fileio-XXXXXX */
};

static int
dir_setup(void **state)
{
	struct dir	*t = calloc(1, sizeof(*t));
	const char	*tmp = getenv("TMPDIR");

	if (t == NULL)
		return -1;
	if (tmp == NULL || *tmp == '\0' || strlen(tmp) > 200)
		tmp = "/tmp";
	snprintf(t->path, sizeof(t->path), "%s/pgb-fileio-XXXXXX", tmp);
	if (mkdtemp(t->path) == NULL) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

/* Remove the case's folder and everything in it. */
static void
remove_tree(const char *path)
{
	struct dirent	*e;
	struct stat	 st;
	char		 sub[PATH_MAX];
	DIR		*dp;

	if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
	    (dp = opendir(path)) != NULL) {
		while ((e = readdir(dp)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
			remove_tree(sub);
		}
		closedir(dp);
		rmdir(path);
	} else
		unlink(path);
}

static int
dir_teardown(void **state)
{
	struct dir	*t = *state;

	remove_tree(t->path);
	free(t);
	return 0;
}

/* 'name' inside the case's folder, in a static buffer of 4. */
static const char *
at(void **state, const char *name)
{
	static char	 buf[4][PATH_MAX];
	static int	 k;
	struct dir	*t = *state;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", t->path, name);
	return buf[k];
}

/* The names in the case's folder, sorted, joined by spaces. */
static void
listing(void **state, char *out, size_t len)
{
	struct dirent	**v;
	struct dir	*t = *state;
	size_t		 used = 0;
	int		 n, i;

	out[0] = '\0';
	n = scandir(t->path, &v, NULL, alphasort);
	assert_true(n >= 0);
	for (i = 0; i < n; i++) {
		if (v[i]->d_name[0] != '.' || (strcmp(v[i]->d_name, ".") &&
		    strcmp(v[i]->d_name, "..")))
			used += (size_t)snprintf(out + used, len - used, "%s%s",
			    used ? " " : "", v[i]->d_name);
		free(v[i]);
	}
	free(v);
}

static void
put(const char *path, const char *text)
{
	struct pgb_diag	d;

	memset(&d, 0, sizeof(d));
	if (pgb_file_create(path, text, strlen(text), 0644, &d) == -1)
		fail_msg("%s", d.msg);
}

static void
test_fileio_read_under_the_cap(void **state)
{
	struct pgb_diag	 d;
	char		*s, want[512];
	size_t		 len;
	const char	*p = at(state, "ten");

	put(p, "0123456789");
	memset(&d, 0, sizeof(d));
	assert_int_equal(pgb_file_read("key", p, 10, 0, PGB_EKEY, &s, &len,
	    &d), 0);
	assert_int_equal(len, 10);
	assert_string_equal(s, "0123456789");
	free(s);
	/* One byte over: refused before reading, with the file's size. */
	assert_int_equal(pgb_file_read("key", p, 9, 0, PGB_EKEY, &s, &len,
	    &d), -1);
	assert_int_equal(errno, EFBIG);
	assert_null(s);
	assert_int_equal(len, 10);
	assert_int_equal(d.code, PGB_EKEY);
	snprintf(want, sizeof(want), "key '%s' is 10 bytes, over the limit "
	    "of 9", p);
	assert_string_equal(d.msg, want);
	/* An empty file is a file. */
	put(at(state, "empty"), "");
	assert_int_equal(pgb_file_read(NULL, at(state, "empty"), 0, 0,
	    PGB_EKEY, &s, &len, &d), 0);
	assert_int_equal(len, 0);
	assert_string_equal(s, "");
	free(s);
}

static void
test_fileio_read_missing_names_the_path(void **state)
{
	struct pgb_diag	 d;
	char		*s, want[512];
	size_t		 len;
	const char	*p = at(state, "nope");

	memset(&d, 0, sizeof(d));
	assert_int_equal(pgb_file_read(NULL, p, 10, 0, PGB_EUSAGE, &s, &len,
	    &d), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(d.code, PGB_EUSAGE);
	snprintf(want, sizeof(want), "cannot read '%s': %s", p,
	    strerror(ENOENT));
	assert_string_equal(d.msg, want);
}

static void
test_fileio_fifo_refused_without_blocking(void **state)
{
	struct pgb_diag	 d;
	char		*s, want[512];
	size_t		 len;
	int		 fd;
	const char	*p = at(state, "fifo");

	assert_int_equal(mkfifo(p, 0600), 0);
	/* No writer: an open without O_NONBLOCK would wait forever. */
	alarm(10);
	memset(&d, 0, sizeof(d));
	assert_int_equal(pgb_file_read("trust file", p, 100, 0, PGB_EKEY, &s,
	    &len, &d), -1);
	assert_int_equal(errno, EINVAL);
	snprintf(want, sizeof(want), "trust file '%s' is not a regular file",
	    p);
	assert_string_equal(d.msg, want);
	assert_int_equal(pgb_file_open(NULL, p, 100, 0, PGB_EKEY, &fd, &len,
	    &d), -1);
	assert_int_equal(fd, -1);
	alarm(0);
	/* A folder is no regular file either. */
	assert_int_equal(pgb_file_read(NULL, at(state, "."), 100, 0, PGB_EKEY,
	    &s, &len, &d), -1);
	assert_int_equal(errno, EINVAL);
}

static void
test_fileio_symlink_refused_only_when_asked(void **state)
{
	struct pgb_diag	 d;
	char		*s, want[512];
	size_t		 len;
	const char	*link = at(state, "link");

	put(at(state, "target"), "text");
	assert_int_equal(symlink("target", link), 0);
	memset(&d, 0, sizeof(d));
	/* Followed by default: a key in a Secret volume is a symlink. */
	assert_int_equal(pgb_file_read(NULL, link, 100, 0, PGB_EKEY, &s, &len,
	    &d), 0);
	assert_string_equal(s, "text");
	free(s);
	assert_int_equal(pgb_file_read("log", link, 100, PGB_FILE_NOFOLLOW,
	    PGB_EINTERNAL, &s, &len, &d), -1);
	assert_int_equal(errno, ELOOP);
	snprintf(want, sizeof(want), "log '%s' is a symbolic link", link);
	assert_string_equal(d.msg, want);
}

static void
test_fileio_create_is_exclusive(void **state)
{
	struct pgb_diag	 d;
	struct stat	 st;
	char		*s, want[512];
	size_t		 len;
	const char	*p = at(state, "kept");
	const char	*link = at(state, "planted");

	put(p, "first");
	memset(&d, 0, sizeof(d));
	assert_int_equal(pgb_file_create(p, "second", 6, 0644, &d), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(d.code, PGB_EINTERNAL);
	snprintf(want, sizeof(want), "cannot write '%s': %s", p,
	    strerror(EEXIST));
	assert_string_equal(d.msg, want);
	assert_int_equal(pgb_file_read(NULL, p, 100, 0, PGB_EKEY, &s, &len,
	    &d), 0);
	assert_string_equal(s, "first");
	free(s);
	/* A dangling symlink at the name is not written through. */
	assert_int_equal(symlink("victim", link), 0);
	assert_int_equal(pgb_file_create(link, "x", 1, 0644, &d), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(lstat(at(state, "victim"), &st), -1);
}

static void
test_fileio_replace_is_atomic(void **state)
{
	struct pgb_diag	 d;
	char		*s, names[512], tmp[PATH_MAX];
	size_t		 len;
	const char	*p = at(state, "out");

	memset(&d, 0, sizeof(d));
	put(p, "old");
	assert_int_equal(pgb_file_replace(p, "new", 3, 0644, &d), 0);
	assert_int_equal(pgb_file_read(NULL, p, 100, 0, PGB_EKEY, &s, &len,
	    &d), 0);
	assert_string_equal(s, "new");
	free(s);
	listing(state, names, sizeof(names));
	assert_string_equal(names, "out");
	/* The rename fails (a folder is there): no temporary file stays. */
	assert_int_equal(mkdir(at(state, "dir"), 0755), 0);
	assert_int_equal(pgb_file_replace(at(state, "dir"), "x", 1, 0644, &d),
	    -1);
	listing(state, names, sizeof(names));
	assert_string_equal(names, "dir out");
	/* No folder to write in: nothing at all. */
	assert_int_equal(pgb_file_replace(at(state, "none/out"), "x", 1, 0644,
	    &d), -1);
	listing(state, names, sizeof(names));
	assert_string_equal(names, "dir out");
	/* A planted symlink at the temporary name: another name is taken. */
	snprintf(tmp, sizeof(tmp), "%s.tmp%ld", p, (long)getpid());
	assert_int_equal(symlink("victim", tmp), 0);
	assert_int_equal(pgb_file_replace(p, "newer", 5, 0644, &d), 0);
	listing(state, names, sizeof(names));
	snprintf(tmp, sizeof(tmp), "dir out out.tmp%ld", (long)getpid());
	assert_string_equal(names, tmp);
	assert_int_equal(pgb_file_read(NULL, p, 100, 0, PGB_EKEY, &s, &len,
	    &d), 0);
	assert_string_equal(s, "newer");
	free(s);
}

static void
test_fileio_mkdirs_nested_and_existing(void **state)
{
	struct pgb_diag	 d;
	struct stat	 st;
	char		 want[512];

	memset(&d, 0, sizeof(d));
	assert_int_equal(pgb_file_mkdirs(at(state, "a/b/c"), &d), 0);
	assert_int_equal(stat(at(state, "a/b/c"), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* Again, and a trailing slash: all there already, fine. */
	assert_int_equal(pgb_file_mkdirs(at(state, "a/b/c"), &d), 0);
	assert_int_equal(pgb_file_mkdirs(at(state, "a/b/"), &d), 0);
	/* A file in the way, at the end or on the way. */
	put(at(state, "a/f"), "");
	assert_int_equal(pgb_file_mkdirs(at(state, "a/f"), &d), -1);
	snprintf(want, sizeof(want), "cannot make '%s': %s", at(state, "a/f"),
	    strerror(ENOTDIR));
	assert_string_equal(d.msg, want);
	assert_int_equal(pgb_file_mkdirs(at(state, "a/f/g"), &d), -1);
	assert_int_equal(d.code, PGB_EINTERNAL);
	assert_int_equal(pgb_file_mkdirs("", &d), 0);
}

static void
test_fileio_stdin_under_the_cap(void **state)
{
	struct pgb_diag	 d;
	char		*s;
	size_t		 len;
	int		 fd, saved;

	put(at(state, "in"), "0123456789");
	saved = dup(STDIN_FILENO);
	memset(&d, 0, sizeof(d));
	fd = open(at(state, "in"), O_RDONLY);
	assert_int_equal(dup2(fd, STDIN_FILENO), STDIN_FILENO);
	assert_int_equal(pgb_file_read_stdin("the list", 10, PGB_EUSAGE, &s,
	    &len, &d), 0);
	assert_int_equal(len, 10);
	assert_string_equal(s, "0123456789");
	free(s);
	assert_int_equal(lseek(STDIN_FILENO, 0, SEEK_SET), 0);
	assert_int_equal(pgb_file_read_stdin("the list", 9, PGB_EUSAGE, &s,
	    &len, &d), -1);
	assert_string_equal(d.msg, "the list on standard input is over the "
	    "limit of 9 bytes");
	assert_null(s);
	dup2(saved, STDIN_FILENO);
	close(saved);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fileio_read_under_the_cap,
		    dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_fileio_read_missing_names_the_path, dir_setup,
		    dir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_fileio_fifo_refused_without_blocking, dir_setup,
		    dir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_fileio_symlink_refused_only_when_asked, dir_setup,
		    dir_teardown),
		cmocka_unit_test_setup_teardown(test_fileio_create_is_exclusive,
		    dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_fileio_replace_is_atomic,
		    dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_fileio_mkdirs_nested_and_existing, dir_setup,
		    dir_teardown),
		cmocka_unit_test_setup_teardown(test_fileio_stdin_under_the_cap,
		    dir_setup, dir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
