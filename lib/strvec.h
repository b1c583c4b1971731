/* A NULL-terminated, growable array of owned strings (argv, file lists). */
#ifndef WD_STRVEC_H
#define WD_STRVEC_H

#include <stddef.h>

struct strvec {
	char	**v;		/* always NULL-terminated once non-empty */
	size_t	  n;
	size_t	  alloc;
};

#define STRVEC_INIT { NULL, 0, 0 }

void strvec_push(struct strvec *sv, const char *s);
void strvec_pushn(struct strvec *sv, const char *s, size_t len);
void strvec_pushf(struct strvec *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Takes ownership of the malloc'ed string s. */
void strvec_push_owned(struct strvec *sv, char *s);
void strvec_pushv(struct strvec *sv, const struct strvec *from);
void strvec_clear(struct strvec *sv);
/* Frees and removes the first n strings (all of them if n > sv->n); the
 * rest move up, the storage stays for reuse. */
void strvec_drop_front(struct strvec *sv, size_t n);
void strvec_sort(struct strvec *sv);
/* Sorts and drops duplicates. */
void strvec_sort_uniq(struct strvec *sv);
/* Index of s, or -1. */
long strvec_find(const struct strvec *sv, const char *s);
/* Binary search in a sorted vector: index or -1. */
long strvec_bsearch(const struct strvec *sv, const char *s);

#endif
