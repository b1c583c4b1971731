/* Recursive watching of ROOT with one raw inotify fd read inside the libuv
 * loop (uv_poll), one watch per directory. It keeps the caller's tree
 * (tree.h) in step with the disk, and reconciles the two with a rescan
 * after an event-queue overflow. */
#ifndef WD_WATCHER_H
#define WD_WATCHER_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "event.h"

struct ignore;
struct tree;
struct watcher;

struct watcher_cb {
	/* A file event; rel is relative to ROOT and borrowed. read_ms: the
	 * loop time at which the kernel's event was read, when that was
	 * earlier than now (during the initial scan); 0 means now. */
	void	(*file)(void *arg, const char *rel, unsigned what, uint64_t read_ms);
	/* Files in ROOT whose names start with this (borrowed; NULL: none)
	 * are cookies: their creation is reported here, never as a file. */
	const char *cookie_prefix;
	void	(*cookie)(void *arg, const char *name);
	/* Something changed in the git directory (name of the entry; gone:
	 * removed or moved away). */
	void	(*git)(void *arg, const char *name, bool gone);
	/* An ignore rules file changed (.gitignore, .git/info/exclude,
	 * core.excludesFile; rel is relative to ROOT, or absolute outside it). */
	void	(*rules)(void *arg, const char *rel);
	void	*arg;
	/* A rescan finished. full: the whole tree was listed, so every change
	 * made before it started has been reported (lost events included).
	 * May be NULL. */
	void	(*rescanned)(void *arg, bool full);
};

struct watcher_stats {
	int		dirs;		/* directories with a live watch */
	int		unwatched;	/* directories scanned periodically instead */
	uint64_t	files;		/* in the tree */
	uint64_t	rescans;
	uint64_t	overflows;
	bool		degraded;	/* some directories could not get a watch */
	bool		inotify;	/* false: no inotify instance, everything is scanned */
	const char	*reason;	/* why degraded (borrowed), or NULL */
};

/* Starts watching root: the initial scan runs before this returns, so
 * every change after it is reported. tree (borrowed; empty, from tree_new,
 * and it must outlive the watcher) is filled by the scan and kept in step
 * with the disk from then on; ig too is borrowed. gitdir (absolute) is
 * watched non-recursively for git operations when not NULL, and so are
 * its info/ (for info/exclude) and the directory of core.excludesFile.
 * When no inotify instance can be had (EMFILE: max_user_instances) this
 * still succeeds: it logs why and scans the whole tree periodically
 * (degraded). 0, or a negative code with err (ROOT cannot be listed); the
 * tree may then hold part of a listing. Not from inside a callback of
 * this watcher. */
int watcher_start(uv_loop_t *loop, const char *root, const char *gitdir, struct ignore *ig,
    struct tree *tree, const struct watcher_cb *cb, struct watcher **out, char *err,
    size_t errlen);
/* Stops and closes; the watcher is freed from its close callbacks, after
 * which the tree may go. NULL-safe. */
void watcher_stop(struct watcher *w);
void watcher_get_stats(const struct watcher *w, struct watcher_stats *st);
/* Reconciles the whole tree with the disk (after an overflow, or a test
 * hook): at once, or after a backoff that doubles while such rescans
 * follow each other closely, so an overflow storm cannot pin a core. */
void watcher_rescan(struct watcher *w, const char *why);
/* The same after an ignore-rules change, with a backoff of its own (short:
 * it coalesces the events of one save), so that editing .gitignore never
 * delays the rescan an overflow needs. */
void watcher_rules_changed(struct watcher *w, const char *why);
/* True while a rescan is due but has not run yet: changes may be known to
 * be lost and not reported yet. */
bool watcher_busy(const struct watcher *w);
/* True while events already read from the kernel wait to be handled: the
 * stream has not gone quiet, whatever the time since the last one seen. */
bool watcher_backlog(struct watcher *w);
/* Lists the directories that have no watch (degraded mode) now, reporting
 * what changed there, so that a sync barrier covers them. Returns true
 * when ROOT itself is watched, i.e. a cookie created in ROOT will be seen. */
bool watcher_scan_unwatched(struct watcher *w);

#endif
