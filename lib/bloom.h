/* A Bloom filter over 64-bit hashes: a set that answers "maybe" for every
 * value added and, now and then, for one never added, but never "no" for
 * one that was. Values cannot be taken out; a filter that has taken more
 * than it was sized for answers "maybe" more often, and the owner builds
 * a bigger one (bloom_full). */
#ifndef WD_BLOOM_H
#define WD_BLOOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bloom {
	uint64_t	*words;		/* owned; NULL: holds nothing yet */
	uint64_t	 mask;		/* bits - 1 (bits: a power of two) */
	size_t		 n;		/* values added */
	size_t		 cap;		/* values it was sized for */
};

#define BLOOM_INIT { NULL, 0, 0, 0 }

/* An empty filter sized for `expect` values (at least a few thousand):
 * about ten bits each, for about one "maybe" in a hundred of values never
 * added while it holds no more than that. */
void bloom_init(struct bloom *b, size_t expect);
void bloom_add(struct bloom *b, uint64_t h);
/* false: h was never added. An uninitialised filter answers true. */
bool bloom_maybe(const struct bloom *b, uint64_t h);
/* More values than it was sized for. */
bool bloom_full(const struct bloom *b);
/* Frees the bits; the filter is BLOOM_INIT again. */
void bloom_release(struct bloom *b);

#endif
