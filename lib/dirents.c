/* Packed directory listings. Deletions leave their name bytes behind; the
 * buffer is compacted once more than half of it is garbage. */
#include <stdlib.h>
#include <string.h>

#include "dirents.h"
#include "xmalloc.h"

long dirents_find(const struct dirents *e, const char *name)
{
	uint32_t lo = 0, hi = e->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = strcmp(dirents_name(e, mid), name);

		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

static uint32_t add_name(struct dirents *e, const char *name)
{
	size_t n = strlen(name) + 1;
	uint32_t off = e->len;

	if (e->len + n > e->cap) {
		size_t cap = e->cap ? e->cap : 64;

		while (e->len + n > cap)
			cap *= 2;
		e->names = xrealloc(e->names, cap);
		e->cap = (uint32_t)cap;
	}
	memcpy(e->names + e->len, name, n);
	e->len += (uint32_t)n;
	return off;
}

static void room(struct dirents *e)
{
	if (e->n == e->alloc) {
		e->alloc = e->alloc ? e->alloc + e->alloc / 2 + 1 : 4;
		e->v = xrealloc(e->v, e->alloc * sizeof(*e->v));
	}
}

bool dirents_set(struct dirents *e, const char *name, uint64_t stamp)
{
	long i = dirents_find(e, name);
	uint32_t at;

	if (i >= 0) {
		e->v[i].stamp = stamp;
		return false;
	}
	at = (uint32_t)(-i - 1);
	room(e);
	memmove(e->v + at + 1, e->v + at, (e->n - at) * sizeof(*e->v));
	e->v[at].stamp = stamp;
	e->v[at].off = add_name(e, name);
	e->n++;
	return true;
}

void dirents_append(struct dirents *e, const char *name, uint64_t stamp)
{
	room(e);
	e->v[e->n].stamp = stamp;
	e->v[e->n].off = add_name(e, name);
	e->n++;
	e->unsorted = true;
}

static int cmp(const void *a, const void *b, void *arg)
{
	const char *names = arg;

	return strcmp(names + ((const struct dirent_rec *)a)->off,
	    names + ((const struct dirent_rec *)b)->off);
}

void dirents_sort(struct dirents *e)
{
	if (e->unsorted && e->n > 1)
		qsort_r(e->v, e->n, sizeof(*e->v), cmp, e->names);
	e->unsorted = false;
	/* A fresh listing is final until the directory changes: give the
	 * growth slack back (10,000 directories' worth adds up). */
	if (e->alloc > e->n) {
		e->alloc = e->n;
		e->v = xrealloc(e->v, (e->alloc ? e->alloc : 1) * sizeof(*e->v));
	}
	if (e->cap > e->len) {
		e->cap = e->len;
		e->names = xrealloc(e->names, e->cap ? e->cap : 1);
	}
}

static void compact(struct dirents *e)
{
	char *names = xmalloc(e->len - e->garbage + 1);
	uint32_t len = 0;

	for (uint32_t i = 0; i < e->n; i++) {
		const char *s = dirents_name(e, i);
		size_t n = strlen(s) + 1;

		memcpy(names + len, s, n);
		e->v[i].off = len;
		len += (uint32_t)n;
	}
	free(e->names);
	e->names = names;
	e->len = e->cap = len;
	e->garbage = 0;
}

bool dirents_del(struct dirents *e, const char *name)
{
	long i = dirents_find(e, name);

	if (i < 0)
		return false;
	e->garbage += (uint32_t)strlen(name) + 1;
	memmove(e->v + i, e->v + i + 1, (e->n - (uint32_t)i - 1) * sizeof(*e->v));
	e->n--;
	if (e->garbage > 64 && e->garbage * 2 > e->len)
		compact(e);
	return true;
}

void dirents_release(struct dirents *e)
{
	free(e->names);
	free(e->v);
	memset(e, 0, sizeof(*e));
}
