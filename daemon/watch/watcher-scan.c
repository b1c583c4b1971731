/* Listing directories into the tree: the initial scan, and every later
 * listing (a new directory, a rescan, a degraded pass) with what it
 * reports.
 *
 * Invariants:
 *  - a directory is watched before it is listed, so nothing created after
 *    the listing is missed; whatever the listing finds is reported as
 *    created (a directory made with files already in it loses nothing),
 *    but never as closed: a listing cannot know whether a writer still has
 *    the file open, so settle has to find out;
 *  - the first listing records names only, no stat per file (that is what
 *    made start-up slow); a later listing reports a file as changed when
 *    its stamp differs from the one settle recorded at dispatch, or, with
 *    none recorded, when its ctime is not older than the last listing;
 *  - a whole-tree scan asks the ignore rules about directories ahead, on
 *    the ignore helper thread, while it lists the ones already answered;
 *  - the initial scan blocks the loop: the inotify reader thread keeps
 *    what comes meanwhile (watcher-reader.c), stamped with the time it was
 *    read, so its debounce counts from then and not from the scan's end. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ignore.h"
#include "lib/dirread.h"
#include "lib/fstamp.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "walk.h"
#include "watcher-internal.h"

#define WATCH_MASK (IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_MOVED_FROM | \
	IN_MOVED_TO | IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_ONLYDIR | IN_DONT_FOLLOW | \
	IN_EXCL_UNLINK)
#define MAX_DEPTH	256		/* below this one scan descends no further */

/* Adds a watch for d at its path (w->path must hold the relative path). */
static void watch_dir(struct watcher *w, struct tree_dir *d)
{
	char *abs;
	int wd;

	/* By path: /proc/self/fd/N would be a symlink, and IN_DONT_FOLLOW
	 * (which keeps symlink loops harmless) refuses it. IN_ONLYDIR makes
	 * the call fail rather than watch a file that took the name. */
	if (w->fd < 0) {
		/* no inotify instance: the whole tree is scanned */
		d->wd = TREE_WD_UNWATCHED;
		w->st.unwatched++;
		degraded_schedule(w);
		return;
	}
	abs = w->path.len ? xasprintf("%s/%s", w->root, w->path.buf) : xstrdup(w->root);
	if (w->test_max_watches > 0 && w->watches_added >= w->test_max_watches) {
		wd = -1;
		errno = ENOSPC;
	} else
		wd = inotify_add_watch(w->fd, abs, WATCH_MASK);
	free(abs);
	if (wd < 0) {
		d->wd = TREE_WD_UNWATCHED;
		w->st.unwatched++;
		if (errno == ENOSPC) {
			w->enospc_seen = true;
			degraded_schedule(w);
		} else if (errno != ENOENT && errno != ENOTDIR)
			log_warn("inotify_add_watch %s", w->path.len ? w->path.buf : ".");
		return;
	}
	w->watches_added++;
	{
		struct tree_dir *old = wdmap_get(&w->wds, wd);

		if (old && old != d) {
			/* The same inode is already watched under another node
			 * (a rename we have not seen yet): the newer node wins. */
			old->wd = TREE_WD_UNWATCHED;
			w->st.dirs--;
			w->st.unwatched++;
		}
	}
	d->wd = wd;
	wdmap_put(&w->wds, wd, d);
	w->st.dirs++;
}

/* Test hook (WATCHD_TEST_SCAN_PAUSE_MS): the initial scan stops right
 * after ROOT got its watch and says so in ROOT/.watchd/scan-paused, so a
 * test can change files while the scan runs. */
static void test_scan_pause(struct watcher *w)
{
	char *marker = xasprintf("%s/.watchd/scan-paused", w->root);
	int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	if (fd >= 0)
		close(fd);
	free(marker);
	usleep((useconds_t)w->test_scan_pause_ms * 1000);
}

/* Did a file change since we knew it? With a stamp, compare stamps;
 * without one (listed but never looked at), compare its ctime with the time
 * of that listing: any write, rename or chmod since then moved ctime. */
static bool changed_since(uint64_t known, uint64_t now, const struct stat *st,
    const struct timespec *listed)
{
	if (known != 0)
		return known != now;
	if (st->st_ctim.tv_sec != listed->tv_sec)
		return st->st_ctim.tv_sec > listed->tv_sec;
	return st->st_ctim.tv_nsec >= listed->tv_nsec;
}

static void set_path(struct watcher *w, size_t base, const char *name)
{
	buf_setlen(&w->path, base);
	if (base)
		buf_addch(&w->path, '/');
	buf_addstr(&w->path, name);
}

static void scan_dir(struct watcher *w, struct tree_dir *d, int dfd, bool report, int depth);

/* Enters the subdirectories a listing of d found (dfd: d, still open),
 * once the listing is done: d's own files are all in the tree before
 * anything below it is. */
static void scan_subdirs(struct watcher *w, struct tree_dir *d, int dfd, const struct strvec *subs,
    size_t base, bool report, int depth)
{
	for (size_t i = 0; i < subs->n; i++) {
		const char *name = subs->v[i];
		struct tree_dir *c;
		int sub;

		set_path(w, base, name);
		if (ignore_path(w->ig, w->path.buf, true))
			continue;
		c = tree_child(d, name);
		if (c == NULL)
			c = tree_add(d, name);
		c->mark = true;
		sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub >= 0 && depth < MAX_DEPTH)
			scan_dir(w, c, sub, report, depth + 1);
		else if (sub >= 0)
			close(sub);
		else if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
			degraded_unreadable(w, c, errno);	/* mode 000: never lost */
	}
}

/* Lists d (whose path is in w->path; dfd is d, open, and is closed here)
 * into its entries, watching and descending into subdirectories. report:
 * emit WEV_CREATED|WEV_RESCAN for files found (a new directory) or for
 * differences (a rescan). */
static void scan_dir(struct watcher *w, struct tree_dir *d, int dfd, bool report, int depth)
{
	struct dirread dir;
	const char *name;
	unsigned char type;
	size_t base;
	struct dirents old;
	uint32_t nold;
	struct timespec old_listed = d->listed;
	bool *seen_old;
	struct strvec subs = STRVEC_INIT;

	if (d->wd == TREE_WD_NONE)
		watch_dir(w, d);
	if (w->initial && d == w->tree->top && w->test_scan_pause_ms > 0)
		test_scan_pause(w);
	if (w->without_getdents)
		dirread_open_readdir(&dir, dfd);
	else
		dirread_open(&dir, dfd);
	tree_files_take(w->tree, d, &old);
	nold = old.n;
	seen_old = nold ? xcalloc(nold, sizeof(bool)) : NULL;
	/* the kernel stamps ctime from the coarse clock: compare like with like */
	clock_gettime(CLOCK_REALTIME_COARSE, &d->listed);
	base = w->path.len;
	/* children not seen in this listing have vanished */
	tree_unmark(d);

	while (dirread_next(&dir, &name, &type)) {
		struct stat st;
		bool have_st = false;

		set_path(w, base, name);
		/* Names only at the first listing (no stat); a rescan stats
		 * what it compares. */
		if (type == DT_UNKNOWN || (report && (type == DT_REG || type == DT_LNK))) {
			if (fstatat(dir.fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			have_st = true;
			type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG :
			    S_ISLNK(st.st_mode) ? DT_LNK : DT_UNKNOWN;
		}
		if (type == DT_DIR) {
			if (depth == 0 && watch_is_cookie(w, name))
				continue;
			strvec_push(&subs, name);
			continue;
		}
		if (type != DT_REG && type != DT_LNK)
			continue;
		/* tools are handed files: a link to a directory or a loop is
		 * none (links are rare, so this stat is cheap) */
		if (type == DT_LNK && walk_link_unfit(dir.fd, name))
			continue;
		if (ignore_builtin(w->path.buf, false))
			continue;
		{
			uint64_t stamp = have_st ? fstamp(&st) : 0;
			long at = nold ? dirents_find(&old, name) : -1;
			bool found = at >= 0;

			if (found)
				seen_old[at] = true;
			tree_file_append(w->tree, d, name, stamp);
			if (report && (!found ||
			    changed_since(old.v[at].stamp, stamp, &st, &old_listed)))
				w->cb.file(w->cb.arg, w->path.buf,
				    WEV_RESCAN | (found ? WEV_MODIFIED : WEV_CREATED), w->read_ms);
		}
	}
	scan_subdirs(w, d, dir.fd, &subs, base, report, depth);
	strvec_clear(&subs);
	dirread_close(&dir);
	tree_files_sort(d);
	/* files that vanished */
	for (uint32_t i = 0; i < nold; i++) {
		if (!seen_old[i] && report) {
			set_path(w, base, dirents_name(&old, i));
			w->cb.file(w->cb.arg, w->path.buf, WEV_REMOVED | WEV_RESCAN, w->read_ms);
		}
	}
	dirents_release(&old);
	free(seen_old);
	buf_setlen(&w->path, base);
	/* subdirectories that vanished (or became ignored) */
	tree_sweep(w->tree, d, &w->path, watch_drop, report ? watch_removed : NULL, w);
}

void scan_path(struct watcher *w, struct tree_dir *d, bool report)
{
	char *abs;
	int fd;

	tree_path(d, &w->path);
	abs = w->path.len ? xasprintf("%s/%s", w->root, w->path.buf) : xstrdup(w->root);
	fd = open(abs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	free(abs);
	if (fd < 0) {
		if (d == w->tree->top && (errno == ENOENT || errno == ENOTDIR))
			degraded_root_gone(w, "deleted");
		else if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
			degraded_unreadable(w, d, errno);
		return;
	}
	scan_dir(w, d, fd, report, 0);
}

void scan_initial(struct watcher *w)
{
	size_t queued;

	w->initial = true;
	scan_path(w, w->tree->top, false);
	w->initial = false;
	if ((queued = reader_queued(w)) > 0)
		log_info("%zu bytes of events read during the initial scan wait to be handled",
		    queued);
	/* the scan's temporaries are gone: give their pages back */
	ignore_trim(w->ig);
	malloc_trim(0);
}
