/* Open-addressing hash map with tombstones. */
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "xmalloc.h"

static char tomb_;
#define HMAP_TOMB (&tomb_)

uint64_t hmap_hash(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h ^ (h >> 29);
}

static struct hmap_slot *find(const struct hmap *m, const void *key, size_t klen, uint64_t h)
{
	if (m->cap == 0)
		return NULL;
	for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		struct hmap_slot *s = &m->slots[i];

		if (s->key == NULL)
			return NULL;
		if (s->key != HMAP_TOMB && s->hash == h && s->klen == klen &&
		    memcmp(s->key, key, klen) == 0)
			return s;
	}
}

static void rehash(struct hmap *m, size_t cap)
{
	struct hmap_slot *old = m->slots;
	size_t oldcap = m->cap;

	m->slots = xcalloc(cap, sizeof(*m->slots));
	m->cap = cap;
	m->used = m->n;
	for (size_t i = 0; i < oldcap; i++) {
		struct hmap_slot *s = &old[i];

		if (s->key == NULL || s->key == HMAP_TOMB)
			continue;
		for (size_t j = s->hash & (cap - 1);; j = (j + 1) & (cap - 1)) {
			if (m->slots[j].key == NULL) {
				m->slots[j] = *s;
				break;
			}
		}
	}
	free(old);
}

void *hmap_get(const struct hmap *m, const void *key, size_t klen)
{
	struct hmap_slot *s = find(m, key, klen, hmap_hash(key, klen));

	return s ? s->val : NULL;
}

void *hmap_put(struct hmap *m, const void *key, size_t klen, void *val)
{
	uint64_t h = hmap_hash(key, klen);
	struct hmap_slot *s = find(m, key, klen, h);

	if (s) {
		void *old = s->val;

		s->val = val;
		return old;
	}
	if ((m->used + 1) * 4 >= m->cap * 3) {
		size_t cap = m->cap ? m->cap : 16;

		while ((m->n + 1) * 2 >= cap)
			cap *= 2;
		rehash(m, cap);
	}
	for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		s = &m->slots[i];
		if (s->key == NULL || s->key == HMAP_TOMB) {
			if (s->key == NULL)
				m->used++;
			s->key = xmalloc(klen + 1);
			memcpy(s->key, key, klen);
			s->key[klen] = '\0';
			s->klen = klen;
			s->hash = h;
			s->val = val;
			m->n++;
			return NULL;
		}
	}
}

void *hmap_del(struct hmap *m, const void *key, size_t klen)
{
	struct hmap_slot *s = find(m, key, klen, hmap_hash(key, klen));
	void *val;

	if (s == NULL)
		return NULL;
	val = s->val;
	free(s->key);
	s->key = HMAP_TOMB;
	s->val = NULL;
	m->n--;
	return val;
}

struct hmap_slot *hmap_next(const struct hmap *m, size_t *it)
{
	while (*it < m->cap) {
		struct hmap_slot *s = &m->slots[(*it)++];

		if (s->key != NULL && s->key != HMAP_TOMB)
			return s;
	}
	return NULL;
}

void hmap_release(struct hmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key != NULL && m->slots[i].key != HMAP_TOMB)
			free(m->slots[i].key);
	free(m->slots);
	memset(m, 0, sizeof(*m));
}
