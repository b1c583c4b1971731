/* Watch descriptor map: linear probing, tombstones, grows at 3/4 load. */
#include <stdlib.h>
#include <string.h>

#include "wdmap.h"
#include "xmalloc.h"

#define WDMAP_EMPTY (-1)
#define WDMAP_TOMB (-2)

static size_t slot_of(int wd, size_t cap)
{
	/* watch descriptors are small consecutive integers: mix them */
	return ((size_t)(unsigned)wd * 2654435761u) & (cap - 1);
}

static void grow(struct wdmap *m)
{
	struct wdmap_slot *old = m->slots;
	size_t oldcap = m->cap;

	/* grow to keep the load under 3/4: 10,000 watches fit in 16,384
	 * slots (256 KiB) */
	m->cap = m->cap ? m->cap * 2 : 64;
	while ((m->n + 1) * 4 >= m->cap * 3)
		m->cap *= 2;
	m->slots = xmalloc(m->cap * sizeof(*m->slots));
	for (size_t i = 0; i < m->cap; i++)
		m->slots[i].wd = WDMAP_EMPTY;
	m->used = m->n;
	for (size_t i = 0; i < oldcap; i++) {
		if (old[i].wd < 0)
			continue;
		for (size_t j = slot_of(old[i].wd, m->cap);; j = (j + 1) & (m->cap - 1)) {
			if (m->slots[j].wd == WDMAP_EMPTY) {
				m->slots[j] = old[i];
				break;
			}
		}
	}
	free(old);
}

static struct wdmap_slot *find(const struct wdmap *m, int wd)
{
	if (m->cap == 0 || wd < 0)
		return NULL;
	for (size_t i = slot_of(wd, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->slots[i].wd == WDMAP_EMPTY)
			return NULL;
		if (m->slots[i].wd == wd)
			return &m->slots[i];
	}
}

void *wdmap_get(const struct wdmap *m, int wd)
{
	struct wdmap_slot *s = find(m, wd);

	return s ? s->val : NULL;
}

void wdmap_put(struct wdmap *m, int wd, void *val)
{
	struct wdmap_slot *s = find(m, wd);

	if (s) {
		s->val = val;
		return;
	}
	if ((m->used + 1) * 4 >= m->cap * 3)
		grow(m);
	for (size_t i = slot_of(wd, m->cap);; i = (i + 1) & (m->cap - 1)) {
		s = &m->slots[i];
		if (s->wd == WDMAP_EMPTY || s->wd == WDMAP_TOMB) {
			if (s->wd == WDMAP_EMPTY)
				m->used++;
			s->wd = wd;
			s->val = val;
			m->n++;
			return;
		}
	}
}

void *wdmap_del(struct wdmap *m, int wd)
{
	struct wdmap_slot *s = find(m, wd);
	void *v;

	if (s == NULL)
		return NULL;
	v = s->val;
	s->wd = WDMAP_TOMB;
	s->val = NULL;
	m->n--;
	return v;
}

void wdmap_release(struct wdmap *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}
