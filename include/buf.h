#ifndef PGB_BUF_H
#define PGB_BUF_H

/*
 * buf.h - a growable byte buffer with a length.  Always NUL-terminated
 * past 'len' so that text can be handed to C string functions, but
 * 'len' is the truth.  Allocation failure aborts: a migration tool that
 * cannot allocate a few MB has nothing sensible left to do.
 */
#include <stdarg.h>
#include <stddef.h>

struct pgb_buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

void	pgb_buf_init(struct pgb_buf *);
void	pgb_buf_release(struct pgb_buf *);
void	pgb_buf_reserve(struct pgb_buf *, size_t);
void	pgb_buf_append(struct pgb_buf *, const void *, size_t);
void	pgb_buf_puts(struct pgb_buf *, const char *);
void	pgb_buf_printf(struct pgb_buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Takes the data out: caller frees it; the buffer is empty again. */
char	*pgb_buf_steal(struct pgb_buf *, size_t *);

void	*pgb_xmalloc(size_t);
void	*pgb_xcalloc(size_t, size_t);
void	*pgb_xreallocarray(void *, size_t, size_t);
char	*pgb_xstrdup(const char *);
char	*pgb_xstrndup(const char *, size_t);

#endif /* PGB_BUF_H */
