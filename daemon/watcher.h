/* Recursive watching of ROOT with one raw inotify fd read inside the libuv
 * loop (uv_poll), one watch per directory, a tree of watched directories
 * with the files each holds (name -> stamp), and a rescan that reconciles
 * that tree with the disk after an event-queue overflow. */
#ifndef WD_WATCHER_H
#define WD_WATCHER_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

struct ignore;
struct watcher;

/* What happened to a path; several bits may be set. */
enum {
	WEV_CREATED	= 1 << 0,	/* appeared (create, moved in, found by a scan) */
	WEV_MODIFIED	= 1 << 1,	/* content written (the writer may still have it open) */
	WEV_CLOSED	= 1 << 2,	/* a writer closed it (IN_CLOSE_WRITE) */
	WEV_ATTRIB	= 1 << 3,
	WEV_REMOVED	= 1 << 4,	/* deleted or moved away */
	WEV_RESCAN	= 1 << 5,	/* found changed by a rescan, not by an event */
};

struct watcher_cb {
	/* A file event; rel is relative to ROOT and borrowed. */
	void	(*file)(void *arg, const char *rel, unsigned what);
	/* A cookie file (COOKIE_PREFIX...) appeared in ROOT. */
	void	(*cookie)(void *arg, const char *name);
	/* Something changed in the git directory (name of the entry). */
	void	(*git)(void *arg, const char *name);
	/* An ignore rules file changed (.gitignore, info/exclude). */
	void	(*rules)(void *arg, const char *rel);
	void	*arg;
};

struct watcher_stats {
	int		dirs;		/* directories with a live watch */
	int		unwatched;	/* directories scanned periodically instead */
	uint64_t	files;
	uint64_t	rescans;
	uint64_t	overflows;
	bool		degraded;	/* some directories could not get a watch */
};

/* Starts watching root: the initial scan runs before this returns, so
 * every change after it is reported. gitdir (absolute) is watched
 * non-recursively for git operations when not NULL. 0, or a negative code
 * with err (e.g. EMFILE from inotify_init with a clear message). */
int watcher_start(uv_loop_t *loop, const char *root, const char *gitdir, struct ignore *ig,
    const struct watcher_cb *cb, struct watcher **out, char *err, size_t errlen);
/* Stops and closes; the watcher is freed from its close callback. */
void watcher_stop(struct watcher *w);
void watcher_get_stats(const struct watcher *w, struct watcher_stats *st);
/* Records what settle saw when it dispatched a file, so that a later
 * rescan reports only real changes. stamp 0: forget. */
void watcher_note(struct watcher *w, const char *rel, uint64_t stamp);
/* Reconciles the whole tree with the disk now (after an overflow, an
 * ignore-rules change, or a test hook). */
void watcher_rescan(struct watcher *w, const char *why);

/* A 64-bit summary of what identifies a file's state: size, mtime, ctime,
 * inode and type. Equal stamps mean "not changed". Never 0. */
struct stat;
uint64_t watcher_stamp(const struct stat *st);

#endif
