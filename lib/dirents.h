/* The files of one watched directory: name -> stamp, packed (names in one
 * buffer, 12 bytes per entry), sorted by name. What a rescan compares the
 * disk against; sized to cost ~25 bytes per file. */
#ifndef WD_DIRENTS_H
#define WD_DIRENTS_H

#include <stdbool.h>
#include <stdint.h>

struct dirent_rec {
	uint64_t	stamp;		/* 0: not looked at yet */
	uint32_t	off;		/* name at names + off */
} __attribute__((packed));

struct dirents {
	char			*names;	/* NUL-terminated names, back to back */
	uint32_t		 len, cap;
	uint32_t		 garbage;	/* bytes of names no entry uses */
	struct dirent_rec	*v;
	uint32_t		 n, alloc;
	bool			 unsorted;	/* appended since the last sort */
};

#define DIRENTS_INIT { NULL, 0, 0, 0, NULL, 0, 0, false }

static inline const char *dirents_name(const struct dirents *e, uint32_t i)
{
	return e->names + e->v[i].off;
}

/* Index of name, or -1. The set must be sorted. */
long dirents_find(const struct dirents *e, const char *name);
/* Inserts or updates, keeping order; true when name is new. */
bool dirents_set(struct dirents *e, const char *name, uint64_t stamp);
/* Appends without ordering (a listing in readdir order); call
 * dirents_sort before the next find. */
void dirents_append(struct dirents *e, const char *name, uint64_t stamp);
void dirents_sort(struct dirents *e);
/* True when name was there. */
bool dirents_del(struct dirents *e, const char *name);
void dirents_release(struct dirents *e);

#endif
