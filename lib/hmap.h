/* A hash map from byte-string keys to pointers: open addressing, linear
 * probing. Keys are copied and owned by the map; values are borrowed (the
 * caller frees them, e.g. by walking with hmap_next before hmap_release). */
#ifndef WD_HMAP_H
#define WD_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hmap_slot {
	char		*key;		/* NULL: empty; HMAP_TOMB: deleted */
	size_t		 klen;
	uint64_t	 hash;
	void		*val;
};

struct hmap {
	struct hmap_slot *slots;
	size_t		  cap;		/* power of two, or 0 */
	size_t		  n;		/* live entries */
	size_t		  used;		/* live + tombstones */
};

#define HMAP_INIT { NULL, 0, 0, 0 }

void *hmap_get(const struct hmap *m, const void *key, size_t klen);
/* Inserts or replaces; returns the previous value or NULL. */
void *hmap_put(struct hmap *m, const void *key, size_t klen, void *val);
/* Removes; returns the value or NULL. */
void *hmap_del(struct hmap *m, const void *key, size_t klen);
/* Iteration: start with *it = 0; returns the next live slot or NULL.
 * Deleting the returned entry while iterating is allowed. */
struct hmap_slot *hmap_next(const struct hmap *m, size_t *it);
void hmap_release(struct hmap *m);

static inline void *hmap_gets(const struct hmap *m, const char *k);
static inline void *hmap_puts(struct hmap *m, const char *k, void *v);
static inline void *hmap_dels(struct hmap *m, const char *k);

#include <string.h>
static inline void *hmap_gets(const struct hmap *m, const char *k) { return hmap_get(m, k, strlen(k)); }
static inline void *hmap_puts(struct hmap *m, const char *k, void *v) { return hmap_put(m, k, strlen(k), v); }
static inline void *hmap_dels(struct hmap *m, const char *k) { return hmap_del(m, k, strlen(k)); }

uint64_t hmap_hash(const void *key, size_t len);

#endif
