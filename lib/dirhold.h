/* A directory held open by its path, for lookups relative to it: the
 * kernel walks only the part of a path below the directory, not the
 * directory's own components again for every file. The path is asked
 * again whenever the holder wants the descriptor, so a directory deleted
 * and made again, or moved away, is never looked into by a stale
 * descriptor: then the new one is opened, or none is given. */
#ifndef WD_DIRHOLD_H
#define WD_DIRHOLD_H

#include <sys/types.h>

struct dirhold {
	char	*path;		/* owned */
	int	 fd;		/* -1: none open */
	dev_t	 dev;
	ino_t	 ino;
};

/* Starts holding path (copied); nothing is opened yet. */
void dirhold_init(struct dirhold *h, const char *path);
/* A descriptor of the directory path names now (one stat of path, and an
 * open when that is another directory than the one held), or -1 when path
 * names no directory: then the caller uses absolute paths, which fail as
 * the directory's absence says. Valid until the next call or
 * dirhold_release; dup it to hand it to another thread. */
int dirhold_fd(struct dirhold *h);
void dirhold_release(struct dirhold *h);

#endif
