/* A map from inotify watch descriptors to the watcher's directory nodes:
 * open addressing over 16-byte slots, so 10,000 watched directories cost
 * a quarter of a MiB. Values are borrowed. */
#ifndef WD_WDMAP_H
#define WD_WDMAP_H

#include <stddef.h>

struct wdmap_slot {
	int	 wd;		/* WDMAP_EMPTY, WDMAP_TOMB, or a watch descriptor */
	void	*val;
};

struct wdmap {
	struct wdmap_slot *slots;
	size_t	cap, n, used;
};

#define WDMAP_INIT { NULL, 0, 0, 0 }

void *wdmap_get(const struct wdmap *m, int wd);
void wdmap_put(struct wdmap *m, int wd, void *val);
void *wdmap_del(struct wdmap *m, int wd);
void wdmap_release(struct wdmap *m);

#endif
