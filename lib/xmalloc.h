/* Allocation that cannot fail: on out-of-memory these abort with a message,
 * so callers never check for NULL. */
#ifndef WD_XMALLOC_H
#define WD_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* Grows *p to hold at least `need` elements of `size` bytes, doubling. */
void *xgrow(void *p, size_t *alloc, size_t need, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
