/* Bloom filter: four bits per value, chosen by double hashing from the
 * value remixed (callers' hashes, FNV and the like, are weak in their low
 * bits, which pick the word). */
#include <stdlib.h>

#include "bloom.h"
#include "xmalloc.h"

#define BLOOM_K		4
#define BLOOM_MIN_BITS	(1u << 15)	/* 4 KiB: no smaller filter is worth it */

/* splitmix64's finaliser */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

void bloom_init(struct bloom *b, size_t expect)
{
	uint64_t bits = BLOOM_MIN_BITS;

	/* ten bits a value, rounded up to a power of two (a mask, not a
	 * division, per probe): at four probes, under 1% false "maybe" */
	while (bits < (uint64_t)expect * 10 && bits < (1ULL << 40))
		bits <<= 1;
	b->words = xcalloc((size_t)(bits / 64), sizeof(uint64_t));
	b->mask = bits - 1;
	b->n = 0;
	b->cap = (size_t)(bits / 10);
}

void bloom_add(struct bloom *b, uint64_t h)
{
	uint64_t x = mix(h), step = mix(x) | 1;

	if (b->words == NULL)
		return;
	for (int i = 0; i < BLOOM_K; i++, x += step)
		b->words[(x & b->mask) >> 6] |= 1ULL << (x & 63);
	b->n++;
}

bool bloom_maybe(const struct bloom *b, uint64_t h)
{
	uint64_t x = mix(h), step = mix(x) | 1;

	if (b->words == NULL)
		return true;
	for (int i = 0; i < BLOOM_K; i++, x += step)
		if (!(b->words[(x & b->mask) >> 6] & (1ULL << (x & 63))))
			return false;
	return true;
}

bool bloom_full(const struct bloom *b)
{
	return b->n > b->cap;
}

void bloom_release(struct bloom *b)
{
	free(b->words);
	b->words = NULL;
	b->mask = 0;
	b->n = b->cap = 0;
}
