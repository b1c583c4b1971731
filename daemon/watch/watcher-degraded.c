/* Degraded mode: directories that have no watch are listed periodically
 * instead, and the user is told why and what to raise.
 *
 * Invariants:
 *  - ENOSPC from inotify_add_watch does not stop anything: the directory is
 *    kept unwatched and rescanned periodically; without an inotify instance
 *    at all (EMFILE) the whole tree is;
 *  - each pass first retries the watch, so raising the limit ends degraded
 *    mode without a restart;
 *  - the interval grows with what a pass costs, so scanning a big tree
 *    without inotify stays a small share of a core. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "watcher-internal.h"

#define DEGRADED_DUTY 20	/* degraded scans take at most 1/20 of the time */

static void read_knob(const char *name, char *buf, size_t len)
{
	char *path = xasprintf("/proc/sys/fs/inotify/%s", name);
	FILE *fp = fopen(path, "re");

	snprintf(buf, len, "?");
	if (fp) {
		if (fgets(buf, (int)len, fp))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(fp);
	}
	free(path);
}

/* The watch limit was hit during a scan; said once, after the scan, when
 * the number of directories the tree needs is known. */
void degraded_report(struct watcher *w)
{
	char lim[64];
	long cur, want;

	if (!w->enospc_seen || w->enospc_warned)
		return;
	w->enospc_warned = true;
	read_knob("max_user_watches", lim, sizeof(lim));
	cur = atol(lim);
	want = cur >= 262144 ? cur * 2 : 524288;
	snprintf(w->reason, sizeof(w->reason), "inotify watch limit reached "
	    "(fs.inotify.max_user_watches=%s, shared by all of this user's processes; this "
	    "tree needs ~%d watches, one per directory, and got %d). Raise it (sudo sysctl "
	    "fs.inotify.max_user_watches=%ld; persist it in /etc/sysctl.d/) or add big "
	    "directories to \"ignore\". Meanwhile the %d unwatched directories are rescanned "
	    "every %d s.", lim, w->st.dirs + w->st.unwatched, w->st.dirs, want,
	    w->st.unwatched, (int)(w->degraded_ms / 1000));
	log_warnx("%s", w->reason);
}

void degraded_no_inotify(struct watcher *w, int e)
{
	char lim[64];

	read_knob("max_user_instances", lim, sizeof(lim));
	snprintf(w->reason, sizeof(w->reason), "no inotify instance (%s): the inotify instance "
	    "limit is reached (fs.inotify.max_user_instances=%s, shared by all of this user's "
	    "processes) or this process is out of file descriptors. Raise it (sudo sysctl "
	    "fs.inotify.max_user_instances=%ld; persist it in /etc/sysctl.d/) or stop other "
	    "watchers, then restart watchd. Meanwhile the whole tree is scanned every %d s or "
	    "more.", strerror(e), lim, atol(lim) >= 256 ? atol(lim) * 2 : 512,
	    DEGRADED_SCAN_MS / 1000);
	log_warnx("%s", w->reason);
}

void degraded_schedule(struct watcher *w)
{
	w->st.degraded = true;
	if (w->degraded_at == 0) {
		w->degraded_at = uv_now(w->loop) + w->degraded_ms;
		rescan_timer_arm(w);
	}
}

static bool any_unwatched(struct tree_dir *d)
{
	if (d->wd == TREE_WD_UNWATCHED)
		return true;
	for (struct tree_dir *c = d->child; c; c = c->sibling)
		if (any_unwatched(c))
			return true;
	return false;
}

/* Retries watches for unwatched dirs and reconciles them. */
static void degraded_pass(struct watcher *w, struct tree_dir *d)
{
	if (d->wd == TREE_WD_UNWATCHED) {
		w->st.unwatched--;
		d->wd = TREE_WD_NONE;
		scan_path(w, d, true);
		return;
	}
	for (struct tree_dir *c = d->child; c; c = c->sibling)
		degraded_pass(w, c);
}

void degraded_unreadable(struct watcher *w, struct tree_dir *d, int err)
{
	if (d->wd == TREE_WD_UNWATCHED)
		return;		/* counted already */
	if (d->wd >= 0) {
		wdmap_del(&w->wds, d->wd);
		inotify_rm_watch(w->fd, d->wd);
		w->st.dirs--;
	}
	d->wd = TREE_WD_UNWATCHED;
	w->st.unwatched++;
	log_warnx("cannot read directory %s: %s; it is not watched, and is retried when its "
	    "permissions change and every %d s", w->path.len ? w->path.buf : ".", strerror(err),
	    (int)(w->degraded_ms / 1000));
	if (w->reason[0] == '\0' || w->unreadable_reason)
		snprintf(w->reason, sizeof(w->reason), "%d director%s cannot be read (%s: %s); "
		    "retried when permissions change and every %d s", w->st.unwatched,
		    w->st.unwatched == 1 ? "y" : "ies", w->path.len ? w->path.buf : ".",
		    strerror(err), (int)(w->degraded_ms / 1000));
	w->unreadable_reason = true;
	degraded_schedule(w);
}

static void degraded_settle(struct watcher *w)
{
	bool was = w->st.degraded;

	w->st.degraded = w->fd < 0 || any_unwatched(w->tree->top);
	if (!w->st.degraded) {
		w->degraded_at = 0;
		if (was)
			log_info("all directories are watched again; leaving degraded mode");
		w->reason[0] = '\0';
		w->unreadable_reason = false;
	}
}

void degraded_retry(struct watcher *w, struct tree_dir *d)
{
	if (d->wd != TREE_WD_UNWATCHED)
		return;
	w->st.unwatched--;
	d->wd = TREE_WD_NONE;
	scan_path(w, d, true);
	degraded_settle(w);
}

/* One pass over what has no watch. */
void degraded_scan(struct watcher *w)
{
	uint64_t t0 = uv_hrtime(), ms;
	bool was = w->st.degraded;

	degraded_pass(w, w->tree->top);
	ms = (uv_hrtime() - t0) / 1000000;
	w->degraded_ms = ms * DEGRADED_DUTY > DEGRADED_SCAN_MS ? ms * DEGRADED_DUTY : DEGRADED_SCAN_MS;
	w->st.degraded = w->fd < 0 || any_unwatched(w->tree->top);
	w->degraded_at = w->st.degraded ? uv_now(w->loop) + w->degraded_ms : 0;
	if (was && !w->st.degraded) {
		log_info("all directories are watched again; leaving degraded mode");
		w->reason[0] = '\0';
		w->unreadable_reason = false;
	}
	degraded_report(w);
	if (w->cb.rescanned)
		w->cb.rescanned(w->cb.arg, false);
}

bool watcher_scan_unwatched(struct watcher *w)
{
	if (w->st.degraded) {
		degraded_scan(w);
		rescan_timer_arm(w);
	}
	return w->tree->top->wd >= 0;
}
