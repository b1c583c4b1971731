/* Watcher: its public lifecycle (start, stop, stats) and what the parts
 * share about a directory's watch.
 *
 * One inotify fd (IN_NONBLOCK), drained by a reader thread. Every non-ignored
 * directory under ROOT has a node in the tree (tree.h) and one watch;
 * wd -> node lives in a hash map. The tree is the caller's, so that settle
 * records dispatch stamps into it without going through the watcher.
 * Besides the tree, the git directory and the directories of the ignore
 * files git reads from outside it are watched. The work is split by job:
 *   watcher-reader.c    the thread that reads inotify, its queue
 *   watcher-scan.c      listing directories into the tree; the initial scan
 *   watcher-events.c    inotify events, directory moves, watches outside
 *   watcher-rescan.c    rescans (overflow, ignore rules) and their backoff
 *   watcher-degraded.c  directories without a watch, scanned periodically
 *
 * Invariants:
 *  - a node's wd is a live watch in the map, TREE_WD_UNWATCHED (counted
 *    in st.unwatched and scanned periodically) or TREE_WD_NONE (not asked
 *    yet, or dropped by the kernel); st.dirs counts the live ones;
 *  - idle costs nothing: no timer runs unless degraded, moves are parked or
 *    a rescan is due;
 *  - the watcher never frees the tree; nodes it detached (parked moves) are
 *    its own until re-attached or freed.
 * Expected load: 10k directories and 100k files in a few MiB. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "lib/envlist.h"
#include "lib/xmalloc.h"
#include "watcher-internal.h"

void watch_forget(void *arg, struct tree_dir *d)
{
	struct watcher *w = arg;

	if (d->wd == TREE_WD_NONE)
		return;
	if (d->wd >= 0) {
		if (wdmap_get(&w->wds, d->wd) == d)
			wdmap_del(&w->wds, d->wd);
		w->st.dirs--;
	} else
		w->st.unwatched--;
	d->wd = TREE_WD_NONE;
}

void watch_drop(void *arg, struct tree_dir *d)
{
	struct watcher *w = arg;

	if (d->wd >= 0)
		inotify_rm_watch(w->fd, d->wd);
	watch_forget(w, d);
}

void watch_removed(void *arg, const char *rel)
{
	struct watcher *w = arg;

	w->cb.file(w->cb.arg, rel, WEV_REMOVED, w->read_ms);
}

/* Frees what watcher_start made; the handles are closed and gone. */
static void release(struct watcher *w)
{
	if (w->fd >= 0)
		close(w->fd);
	events_release(w);
	reader_release(w);
	wdmap_release(&w->wds);
	buf_release(&w->path);
	free(w->root);
	free(w);
}

/* A start that failed: the timers may have been started and the reader
 * is running; closing handles needs the loop. */
static void close_failed(struct watcher *w)
{
	w->closing = 1;
	reader_stop(w);
	uv_close((uv_handle_t *)&w->move_timer, NULL);
	uv_close((uv_handle_t *)&w->scan_timer, NULL);
	loopwake_close(&w->rd.to_loop, NULL, NULL);
	uv_run(w->loop, UV_RUN_NOWAIT);
	release(w);
}

int watcher_start(uv_loop_t *loop, const char *root, const char *gitdir, struct ignore *ig,
    struct tree *tree, const struct watcher_cb *cb, struct watcher **out, char *err,
    size_t errlen)
{
	struct watcher *w;
	const char *env = getenv("WATCHD_TEST_MAX_WATCHES");
	const char *qenv = getenv("WATCHD_TEST_QUEUE_MAX");
	const char *penv = getenv("WATCHD_TEST_SCAN_PAUSE_MS");
	const char *tenv = getenv("WATCHD_TEST_TURN_MS");
	int fd, e;

	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	e = errno;
	if (getenv("WATCHD_TEST_NO_INOTIFY") && fd >= 0) {
		/* test hook: behave as if max_user_instances were reached */
		close(fd);
		fd = -1;
		e = EMFILE;
	}
	if (fd < 0 && e != EMFILE && e != ENFILE) {
		snprintf(err, errlen, "inotify_init1: %s", strerror(e));
		return -e;
	}
	w = xcalloc(1, sizeof(*w));
	w->loop = loop;
	w->fd = fd;
	w->root = xstrdup(root);
	w->ig = ig;
	w->tree = tree;
	w->cb = *cb;
	w->git_wd = -1;
	w->rd.wake = -1;
	w->test_max_watches = env ? atoi(env) : 0;
	w->rd.test_queue_max = qenv ? atoi(qenv) : 0;
	w->test_scan_pause_ms = penv ? atoi(penv) : 0;
	w->rd.test_turn_ms = tenv ? atoi(tenv) : 0;
	w->without_getdents = envlist_has("WATCHD_BENCH_WITHOUT", "getdents");
	w->degraded_ms = DEGRADED_SCAN_MS;
	rescan_init(w);
	buf_init(&w->path);
	uv_timer_init(loop, &w->move_timer);
	uv_timer_init(loop, &w->scan_timer);
	w->move_timer.data = w->scan_timer.data = w;
	if (fd < 0)
		degraded_no_inotify(w, e);
	else if ((e = reader_start(w)) < 0) {
		snprintf(err, errlen, "inotify reader thread: %s", uv_strerror(e));
		close_failed(w);
		return e;
	}
	events_setup(w, gitdir);
	scan_initial(w);
	if (tree->top->wd == TREE_WD_NONE || (tree->top->wd < 0 && !w->st.degraded)) {
		snprintf(err, errlen, "cannot watch %s: %s", root, strerror(errno));
		close_failed(w);
		return -ENOENT;
	}
	degraded_report(w);
	*out = w;
	return 0;
}

static void on_closed(uv_handle_t *h)
{
	struct watcher *w = h->data;

	if (--w->closing > 0)
		return;
	release(w);
}

void watcher_stop(struct watcher *w)
{
	if (w == NULL)
		return;
	w->closing = w->rd.to_loop.made ? 3 : 2;
	reader_stop(w);
	loopwake_close(&w->rd.to_loop, on_closed, w);
	uv_close((uv_handle_t *)&w->move_timer, on_closed);
	uv_close((uv_handle_t *)&w->scan_timer, on_closed);
}

void watcher_get_stats(const struct watcher *w, struct watcher_stats *st)
{
	*st = w->st;
	st->files = w->tree->files;
	st->inotify = w->fd >= 0;
	st->reason = w->st.degraded && w->reason[0] ? w->reason : NULL;
}
