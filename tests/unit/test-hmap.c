/* hmap: byte-string keys (copied, owned by the map) to borrowed values;
 * insert, replace, delete, growth, tombstones, iteration, release. */
#include <stdio.h>

#include "lib/hmap.h"
#include "lib/xmalloc.h"
#include "test.h"

static int vals[64];
#define V(i) ((void *)&vals[(i)])

TEST_IMPL(hmap_put_get_replace_delete)
{
	struct hmap m = HMAP_INIT;
	char key[] = "alpha";

	ASSERT_NULL(hmap_gets(&m, "alpha"));		/* an empty map answers */
	ASSERT_NULL(hmap_dels(&m, "alpha"));
	ASSERT_NULL(hmap_puts(&m, key, V(1)));
	key[0] = 'X';					/* the map has its own copy */
	ASSERT(hmap_gets(&m, "alpha") == V(1));
	ASSERT_NULL(hmap_gets(&m, "Xlpha"));
	ASSERT(hmap_puts(&m, "alpha", V(2)) == V(1));	/* replace: the old value */
	ASSERT(hmap_gets(&m, "alpha") == V(2));
	ASSERT_EQ(m.n, 1);
	ASSERT_NULL(hmap_puts(&m, "beta", NULL));	/* a NULL value is stored */
	ASSERT_EQ(m.n, 2);
	ASSERT(hmap_dels(&m, "alpha") == V(2));
	ASSERT_NULL(hmap_gets(&m, "alpha"));
	ASSERT_NULL(hmap_dels(&m, "alpha"));		/* already gone */
	ASSERT_EQ(m.n, 1);
	ASSERT_NULL(hmap_puts(&m, "alpha", V(3)));	/* back, as a new entry */
	ASSERT(hmap_gets(&m, "alpha") == V(3));
	ASSERT_EQ(m.n, 2);
	hmap_release(&m);
	return 0;
}

/* Keys are bytes with a length: a NUL inside is part of the key, and a
 * key is never confused with its prefix. */
TEST_IMPL(hmap_binary_keys)
{
	struct hmap m = HMAP_INIT;
	struct hmap_slot *s;
	size_t it = 0;

	ASSERT_NULL(hmap_put(&m, "a\0b", 3, V(1)));
	ASSERT_NULL(hmap_put(&m, "a\0c", 3, V(2)));
	ASSERT_NULL(hmap_put(&m, "a", 1, V(3)));
	ASSERT_NULL(hmap_put(&m, "", 0, V(4)));
	ASSERT_EQ(m.n, 4);
	ASSERT(hmap_get(&m, "a\0b", 3) == V(1));
	ASSERT(hmap_get(&m, "a\0c", 3) == V(2));
	ASSERT(hmap_get(&m, "a", 1) == V(3));
	ASSERT(hmap_get(&m, "", 0) == V(4));
	ASSERT_NULL(hmap_get(&m, "a\0", 2));
	while ((s = hmap_next(&m, &it)) != NULL)
		ASSERT_EQ(s->key[s->klen], '\0');	/* stored NUL-terminated */
	ASSERT_EQ(hmap_hash("a\0b", 3), hmap_hash("a\0b", 3));
	ASSERT_NE(hmap_hash("a\0b", 3), hmap_hash("a\0c", 3));
	hmap_release(&m);
	return 0;
}

/* Growth keeps every entry and the capacity a power of two, with room to
 * spare (at most three quarters used). */
TEST_IMPL(hmap_grow)
{
	struct hmap m = HMAP_INIT;
	char k[32];
	size_t prev_cap = 0, grew = 0;

	for (int i = 0; i < 20000; i++) {
		snprintf(k, sizeof(k), "key-%d", i);
		ASSERT_NULL(hmap_puts(&m, k, V(i % 64)));
		ASSERT_EQ(m.cap & (m.cap - 1), 0);
		ASSERT(m.used * 4 <= m.cap * 3);
		if (m.cap != prev_cap) {
			grew++;
			prev_cap = m.cap;
		}
	}
	ASSERT_EQ(m.n, 20000);
	ASSERT(grew >= 5);
	for (int i = 0; i < 20000; i++) {
		snprintf(k, sizeof(k), "key-%d", i);
		ASSERT(hmap_gets(&m, k) == V(i % 64));
	}
	ASSERT_NULL(hmap_gets(&m, "key-20000"));
	hmap_release(&m);
	return 0;
}

/* A deleted slot becomes a tombstone: lookups probe past it, and churn
 * (insert one, delete one, forever) reuses the table instead of growing
 * it without bound. */
TEST_IMPL(hmap_tombstones)
{
	struct hmap m = HMAP_INIT;
	char k[32];

	for (int i = 0; i < 1000; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		hmap_puts(&m, k, V(i % 64));
	}
	for (int i = 0; i < 1000; i += 2) {
		snprintf(k, sizeof(k), "k%d", i);
		ASSERT(hmap_dels(&m, k) == V(i % 64));
	}
	ASSERT_EQ(m.n, 500);
	for (int i = 0; i < 1000; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		if (i % 2)
			ASSERT(hmap_gets(&m, k) == V(i % 64));	/* past the tombstones */
		else
			ASSERT_NULL(hmap_gets(&m, k));
	}
	hmap_release(&m);

	for (int i = 0; i < 8; i++) {
		snprintf(k, sizeof(k), "live%d", i);
		hmap_puts(&m, k, V(i));
	}
	for (int i = 0; i < 100000; i++) {
		snprintf(k, sizeof(k), "churn%d", i);
		ASSERT_NULL(hmap_puts(&m, k, V(1)));
		ASSERT(hmap_dels(&m, k) == V(1));
	}
	ASSERT_EQ(m.n, 8);
	ASSERT(m.cap <= 64);
	ASSERT(m.used * 4 <= m.cap * 3);
	for (int i = 0; i < 8; i++) {
		snprintf(k, sizeof(k), "live%d", i);
		ASSERT(hmap_gets(&m, k) == V(i));
	}
	hmap_release(&m);
	return 0;
}

/* hmap_next visits each live entry once, skips tombstones, and allows
 * deleting the entry it just returned. */
TEST_IMPL(hmap_iteration)
{
	struct hmap m = HMAP_INIT;
	struct hmap_slot *s;
	int seen[64] = { 0 }, n = 0;
	size_t it = 0;
	char k[32];

	ASSERT_NULL(hmap_next(&m, &it));
	for (int i = 0; i < 64; i++) {
		snprintf(k, sizeof(k), "e%d", i);
		hmap_puts(&m, k, V(i));
	}
	for (int i = 0; i < 64; i += 4) {
		snprintf(k, sizeof(k), "e%d", i);
		hmap_dels(&m, k);
	}
	it = 0;
	while ((s = hmap_next(&m, &it)) != NULL) {
		int i = (int)((int *)s->val - vals);

		ASSERT(i % 4 != 0);
		seen[i]++;
		n++;
	}
	ASSERT_EQ(n, 48);
	for (int i = 0; i < 64; i++)
		ASSERT_EQ(seen[i], i % 4 ? 1 : 0);
	/* delete everything while walking */
	it = 0;
	n = 0;
	while ((s = hmap_next(&m, &it)) != NULL) {
		char *key = xstrndup(s->key, s->klen);

		ASSERT_NOT_NULL(hmap_dels(&m, key));
		free(key);
		n++;
	}
	ASSERT_EQ(n, 48);
	ASSERT_EQ(m.n, 0);
	it = 0;
	ASSERT_NULL(hmap_next(&m, &it));
	hmap_release(&m);
	return 0;
}

/* hmap_release frees the keys and leaves an empty map, ready for reuse. */
TEST_IMPL(hmap_release_and_reuse)
{
	struct hmap m = HMAP_INIT;

	hmap_release(&m);				/* an empty map too */
	hmap_puts(&m, "a", V(1));
	hmap_puts(&m, "b", V(2));
	hmap_release(&m);
	ASSERT_EQ(m.n, 0);
	ASSERT_EQ(m.cap, 0);
	ASSERT_NULL(m.slots);
	ASSERT_NULL(hmap_gets(&m, "a"));
	ASSERT_NULL(hmap_puts(&m, "a", V(3)));
	ASSERT(hmap_gets(&m, "a") == V(3));
	hmap_release(&m);
	return 0;
}
