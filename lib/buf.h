/* A growable byte buffer in the manner of git's strbuf: never NULL once
 * initialised with BUF_INIT, always NUL-terminated. */
#ifndef WD_BUF_H
#define WD_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*buf;		/* "" (static) until the first append */
	size_t	 len;
	size_t	 alloc;
};

extern char buf_empty[];
#define BUF_INIT { buf_empty, 0, 0 }

void buf_init(struct buf *b);
void buf_grow(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *data, size_t n);
void buf_addstr(struct buf *b, const char *s);
void buf_addch(struct buf *b, char c);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vaddf(struct buf *b, const char *fmt, va_list ap);
void buf_setlen(struct buf *b, size_t len);
#define buf_reset(b) buf_setlen((b), 0)
/* Frees the contents; the buffer is BUF_INIT again. */
void buf_release(struct buf *b);
/* Hands the malloc'ed string to the caller (never NULL); the buffer is reset. */
char *buf_detach(struct buf *b, size_t *len);
/* Appends a whole file to b; 0 or -errno. max (0: no limit) caps b's
 * length, what it held before included: a b already that long gets nothing. */
int buf_read_file(struct buf *b, const char *path, size_t max);

#endif
