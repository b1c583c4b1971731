/* What the parts of the watcher share, and nothing outside them includes:
 * struct watcher, and the calls between watcher.c (lifecycle),
 * watcher-scan.c (listing directories, the initial scan), watcher-events.c
 * (inotify events), watcher-rescan.c (rescans, overflow, the scan timer) and
 * watcher-degraded.c (directories without a watch). */
#ifndef WD_WATCHER_INTERNAL_H
#define WD_WATCHER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <uv.h>

#include "lib/buf.h"
#include "lib/loopwake.h"
#include "lib/strvec.h"
#include "lib/wdmap.h"
#include "tree.h"
#include "watcher.h"

#define DEGRADED_SCAN_MS 2000	/* the shortest interval of degraded scans */

enum { RESCAN_OVERFLOW, RESCAN_RULES, RESCAN_KINDS };

/* When rescans of one kind follow each other within twice the longest
 * wait, each waits twice as long as the one before. */
struct backoff {
	uint64_t	 last;		/* loop time of the last rescan served; 0: none */
	uint64_t	 delay;		/* the wait the last request got */
	uint64_t	 min, max;
};

/* An ignore file outside the tree, watched through its directory. */
struct rules_watch {
	int		 wd;		/* -1: not watched (the directory is missing) */
	char		*dir;		/* absolute */
	char		*name;		/* the file's name in dir */
	char		*path;		/* absolute, what the rules callback gets */
};

/* The inotify reader thread and its queue (watcher-reader.c). */
struct reader {
	uv_thread_t	 tid;
	bool		 running;	/* the thread exists: join it */
	int		 fd;		/* the watcher's inotify fd */
	int		 wake;		/* eventfd: tells the thread to stop; -1 */
	char		*scratch;	/* the thread's read buffer */
	struct loopwake	 to_loop;	/* wakes the loop (not a uv_async_t:
					 * lib/loopwake.h says why) */
	uv_mutex_t	 mu;		/* guards q and err */
	struct buf	 q;		/* chunks the loop has not taken yet */
	int		 err;		/* why the thread stopped reading; 0 */
	/* the thread's alone */
	int		 test_queue_max;	/* WATCHD_TEST_QUEUE_MAX: simulate max_queued_events */
	uint64_t	 drained;	/* events read since the kernel queue was last empty */
	uint64_t	 most;		/* the most events one read took (read after the join) */
	bool		 overflowed;	/* an IN_Q_OVERFLOW was played since then */
	/* the loop's alone */
	struct buf	 work;		/* chunks taken from q, handled from off */
	size_t		 off;
	bool		 err_logged;
	int		 test_turn_ms;	/* WATCHD_TEST_TURN_MS: a loop busy elsewhere */
};

/* A directory moved away (IN_MOVED_FROM), waiting for its IN_MOVED_TO. */
struct parked {
	uint32_t	 cookie;
	struct tree_dir	*node;		/* detached; owned by the watcher */
	struct parked	*next;
};

struct watcher {
	/* watcher.c */
	uv_loop_t	*loop;
	char		*root;
	struct ignore	*ig;
	struct watcher_cb cb;
	struct tree	*tree;		/* borrowed: the caller's, outlives us */
	struct watcher_stats st;	/* files: see tree->files */
	int		 closing;	/* handles still to close */
	int		 fd;		/* -1: no inotify instance (everything is scanned) */
	struct buf	 path;		/* scratch: a ROOT-relative path */
	uint64_t	 read_ms;	/* handed with each file event; 0: now */
	/* watcher-scan.c */
	struct wdmap	 wds;		/* wd -> struct tree_dir */
	int		 watches_added;
	int		 test_max_watches;	/* WATCHD_TEST_MAX_WATCHES: simulate ENOSPC */
	int		 test_scan_pause_ms;	/* WATCHD_TEST_SCAN_PAUSE_MS */
	/* a speed-up turned off to time what it buys (make bench's table;
	 * WATCHD_BENCH_WITHOUT=getdents) */
	bool		 without_getdents;
	bool		 initial;	/* the initial scan is running */
	/* watcher-reader.c */
	struct reader	 rd;
	/* watcher-events.c */
	uv_timer_t	 move_timer;	/* expires parked moves */
	struct parked	*parked;
	int		 git_wd;
	struct rules_watch *rules;	/* ignore files outside the tree */
	size_t		 nrules;
	struct strvec	 rules_rel;	/* such files that lie inside the tree */
	/* watcher-rescan.c */
	uv_timer_t	 scan_timer;	/* degraded rescans and rescan backoff */
	unsigned	 rescan_kinds;	/* bit per RESCAN_*: a rescan is due */
	uint64_t	 rescan_due;	/* loop time it is due */
	struct backoff	 backoff[RESCAN_KINDS];
	/* watcher-degraded.c */
	uint64_t	 degraded_ms;	/* interval of degraded scans */
	uint64_t	 degraded_at;	/* loop time of the next; 0: none due */
	bool		 enospc_warned;
	bool		 enospc_seen;	/* warn once the tree's size is known */
	char		 reason[640];	/* why degraded */
	bool		 unreadable_reason;	/* reason says "cannot be read" */
	bool		 root_check;	/* something left ROOT: is it empty, gone? */
	bool		 root_gone;	/* ROOT deleted or moved away: nothing
					 * watched until it is back */
};

/* watcher.c: what becomes of a directory's watch when its node is freed
 * (tree_dir_fn): dropped with inotify_rm_watch, or only forgotten (the
 * kernel dropped it, or the fd is closing). */
void watch_drop(void *w, struct tree_dir *d);
void watch_forget(void *w, struct tree_dir *d);
/* A file of a freed node, reported removed (tree_file_fn). */
void watch_removed(void *w, const char *rel);

static inline bool watch_is_cookie(const struct watcher *w, const char *name)
{
	const char *p = w->cb.cookie_prefix;

	return p && strncmp(name, p, strlen(p)) == 0;
}

/* watcher-scan.c */
/* Watches, then lists d, reporting what changed (report) or not (the
 * initial scan), and descends. */
void scan_path(struct watcher *w, struct tree_dir *d, bool report);
/* The initial scan of ROOT; the reader thread keeps what comes meanwhile. */
void scan_initial(struct watcher *w);

/* watcher-reader.c */
/* Starts the reader thread on w->fd (before the initial scan, so that
 * the scan's time does not fill the kernel queue); 0 or -errno. */
int reader_start(struct watcher *w);
/* Bytes in the queue the loop has not taken yet. */
size_t reader_queued(struct watcher *w);
/* Stops and joins the thread (the caller closes its loopwake). */
void reader_stop(struct watcher *w);
/* Frees the queue; the thread is joined, the handle closed. */
void reader_release(struct watcher *w);

/* watcher-events.c */
/* Watches the git directory (gitdir, or NULL) and the ignore files
 * outside the tree. */
void events_setup(struct watcher *w, const char *gitdir);
/* Handles n bytes of whole inotify records. */
void events_handle(struct watcher *w, const char *buf, size_t n);
/* After a batch of events: root checks, parked moves' grace. */
void events_after(struct watcher *w);
/* Frees what events_* hold (parked moves, rules watches); at close. */
void events_release(struct watcher *w);

/* watcher-rescan.c */
void rescan_init(struct watcher *w);
void rescan_overflow(struct watcher *w);
/* Arms the one timer for the due rescan and the degraded scans. */
void rescan_timer_arm(struct watcher *w);

/* watcher-degraded.c */
void degraded_no_inotify(struct watcher *w, int e);
/* A directory has no watch: scan the unwatched ones periodically. */
void degraded_schedule(struct watcher *w);
void degraded_scan(struct watcher *w);
/* Says, once, why watches were refused, once a scan is done. */
void degraded_report(struct watcher *w);
/* d (its path in w->path) could not be opened or watched (err: errno,
 * EACCES for a mode-000 directory): it counts as unwatched, is said in
 * the log and the status, and is retried on the degraded poll and when
 * its parent sees its attributes change. */
void degraded_unreadable(struct watcher *w, struct tree_dir *d, int err);
/* Tries d again now (an IN_ATTRIB on it: chmod): watched and scanned once
 * readable; then leaves degraded mode when nothing else keeps it there. */
void degraded_retry(struct watcher *w, struct tree_dir *d);
/* ROOT itself was deleted or moved away (how: "deleted", "moved away"):
 * every watch goes, status says so, and the degraded poll looks for ROOT
 * to come back, then rescans it whole. */
void degraded_root_gone(struct watcher *w, const char *how);

#endif
