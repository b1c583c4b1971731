/* Watcher.
 *
 * One inotify fd (IN_NONBLOCK) on a uv_poll handle, read until EAGAIN into
 * an aligned 64 KiB buffer. Every non-ignored directory under ROOT has a
 * node in a tree (parent pointer + name, so a directory rename is an O(1)
 * re-parenting) and one watch; wd -> node lives in a hash map. Each node
 * also keeps its files as a sorted array of (name, stamp): that is what a
 * rescan compares the disk against, so that after IN_Q_OVERFLOW every file
 * changed in the lost window is reported once and unchanged files are not.
 * Besides the tree, the git directory and the directories of the ignore
 * files git reads from outside the tree (info/exclude, core.excludesFile)
 * are watched, the latter filtered by name.
 *
 * Invariants:
 *  - a directory is watched before it is listed, so nothing created after
 *    the listing is missed; whatever the listing finds is reported as
 *    created (a directory made with files already in it loses nothing),
 *    but never as closed: a listing cannot know whether a writer still has
 *    the file open, so settle has to find out;
 *  - IN_MOVED_FROM of a directory detaches its node and parks it under the
 *    move cookie; IN_MOVED_TO with that cookie re-attaches it (rename within
 *    the tree: watches kept, paths change). A parked node still unpaired
 *    after the current read and a short timer moved out of the tree: its
 *    watches are removed and its files reported removed;
 *  - IN_IGNORED drops a wd; events of wds we no longer know are stale;
 *  - ENOSPC from inotify_add_watch does not stop anything: the directory is
 *    kept unwatched and rescanned periodically (degraded mode); without an
 *    inotify instance at all (EMFILE) the whole tree is;
 *  - rescans after overflows and after ignore-rule changes back off
 *    separately: one pending rescan serves both, due at the earlier time;
 *  - idle costs nothing: no timer runs unless degraded, moves are parked or
 *    a rescan is due.
 * Expected load: 10k directories and 100k files in a few MiB. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ignore.h"
#include "lib/buf.h"
#include "lib/dirents.h"
#include "lib/dirread.h"
#include "lib/fstamp.h"
#include "lib/log.h"
#include "lib/strvec.h"
#include "lib/wdmap.h"
#include "lib/xmalloc.h"
#include "watcher.h"

#define WATCH_MASK (IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_MOVED_FROM | \
	IN_MOVED_TO | IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_ONLYDIR | IN_DONT_FOLLOW | \
	IN_EXCL_UNLINK)
#define GIT_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | \
	IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)
#define META_MASK GIT_MASK
#define MOVE_EXPIRE_MS 50
#define DEGRADED_SCAN_MS 2000
#define DEGRADED_DUTY 20	/* degraded scans take at most 1/20 of the time */
#define RESCAN_MIN_MS 100
#define RESCAN_MAX_MS 10000
#define RULES_MIN_MS 50		/* one save is several events: rescan once */
#define RULES_MAX_MS 2000

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

struct wdir {
	int		 wd;		/* -1: unwatched (degraded) */
	struct wdir	*parent;
	struct wdir	*child, *sibling;
	char		*name;
	struct dirents	 ents;		/* its files: name -> stamp */
	struct timespec	 listed;	/* when it was last listed (coarse clock) */
	bool		 seen;		/* found by the parent's current listing */
};

struct parked {
	uint32_t	 cookie;
	struct wdir	*node;
	struct parked	*next;
};

struct watcher {
	uv_loop_t	*loop;
	uv_poll_t	 poll;
	uv_timer_t	 move_timer;	/* expires parked moves */
	uv_timer_t	 scan_timer;	/* degraded rescans and rescan backoff */
	int		 fd;		/* -1: no inotify instance (everything is scanned) */
	int		 git_wd;
	char		*root;
	struct rules_watch *rules;	/* ignore files outside the tree */
	size_t		 nrules;
	struct strvec	 rules_rel;	/* such files that lie inside the tree */
	struct ignore	*ig;
	struct watcher_cb cb;
	struct wdir	*top;
	struct wdmap	 wds;		/* wd -> struct wdir */
	struct parked	*parked;
	struct watcher_stats st;
	int		 closing;
	bool		 enospc_warned;
	bool		 enospc_seen;	/* warn once the tree's size is known */
	unsigned	 rescan_kinds;	/* bit per RESCAN_*: a rescan is due */
	uint64_t	 rescan_due;	/* loop time it is due */
	struct backoff	 backoff[RESCAN_KINDS];
	uint64_t	 degraded_ms;	/* interval of degraded scans */
	uint64_t	 degraded_at;	/* loop time of the next; 0: none due */
	char		 reason[640];	/* why degraded */
	int		 test_max_watches;	/* WATCHD_TEST_MAX_WATCHES: simulate ENOSPC */
	int		 test_queue_max;	/* WATCHD_TEST_QUEUE_MAX: simulate max_queued_events */
	int		 test_scan_pause_ms;	/* WATCHD_TEST_SCAN_PAUSE_MS */
	uint64_t	 drained;	/* events read since the queue was last empty */
	bool		 test_overflow;	/* events dropped by the simulated queue */
	int		 watches_added;
	struct buf	 path;		/* scratch */
	/* Events read while the initial scan runs (it blocks the loop) are
	 * replayed when the loop starts, stamped with the time they were read,
	 * so their debounce counts from then and not from the scan's end. */
	bool		 initial;	/* the initial scan is running */
	uint64_t	 early_next;	/* uv_hrtime of its next read */
	struct buf	 early;		/* what it read, whole inotify records */
	uint64_t	 early_ms;	/* loop clock of the last of those reads */
	uint64_t	 read_ms;	/* handed with each file event; 0: now */
	uv_timer_t	 replay_timer;
};

#define EARLY_EVERY_NS	2000000		/* between two reads: bounds how late the
					 * time of an early event can be */
#define EARLY_MAX	(1 << 20)	/* bytes; the rest waits in the kernel */

/* ---- tree ---------------------------------------------------------------- */

static void list_dir(struct watcher *w, struct wdir *d, struct buf *rel,
    bool (*want)(const void *, const char *), const void *arg, struct strvec *out)
{
	size_t len = rel->len;

	for (uint32_t i = 0; i < d->ents.n; i++) {
		buf_setlen(rel, len);
		if (len)
			buf_addch(rel, '/');
		buf_addstr(rel, dirents_name(&d->ents, i));
		if ((want == NULL || want(arg, rel->buf)) && !ignore_path(w->ig, rel->buf, false))
			strvec_push(out, rel->buf);
	}
	for (struct wdir *c = d->child; c; c = c->sibling) {
		buf_setlen(rel, len);
		if (len)
			buf_addch(rel, '/');
		buf_addstr(rel, c->name);
		list_dir(w, c, rel, want, arg, out);
	}
	buf_setlen(rel, len);
}

void watcher_list_files(struct watcher *w, bool (*want)(const void *arg, const char *rel),
    const void *arg, struct strvec *out)
{
	struct buf rel = BUF_INIT;

	list_dir(w, w->top, &rel, want, arg, out);
	buf_release(&rel);
}

static void path_of(struct wdir *d, struct buf *b)
{
	if (d->parent == NULL) {
		buf_reset(b);
		return;
	}
	path_of(d->parent, b);
	if (b->len)
		buf_addch(b, '/');
	buf_addstr(b, d->name);
}

static void child_path(struct watcher *w, struct wdir *d, const char *name)
{
	path_of(d, &w->path);
	if (w->path.len)
		buf_addch(&w->path, '/');
	buf_addstr(&w->path, name);
}

static void ent_set(struct watcher *w, struct wdir *d, const char *name, uint64_t stamp)
{
	if (dirents_set(&d->ents, name, stamp))
		w->st.files++;
}

static bool ent_del(struct watcher *w, struct wdir *d, const char *name)
{
	if (!dirents_del(&d->ents, name))
		return false;
	w->st.files--;
	return true;
}

static struct wdir *child_find(struct wdir *d, const char *name)
{
	for (struct wdir *c = d->child; c; c = c->sibling)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static void child_detach(struct wdir *d)
{
	if (d->parent == NULL)
		return;
	for (struct wdir **pp = &d->parent->child; *pp; pp = &(*pp)->sibling) {
		if (*pp == d) {
			*pp = d->sibling;
			break;
		}
	}
	d->parent = NULL;
	d->sibling = NULL;
}

static void child_attach(struct wdir *parent, struct wdir *d)
{
	d->parent = parent;
	d->sibling = parent->child;
	parent->child = d;
}

static void wd_forget(struct watcher *w, struct wdir *d)
{
	if (d->wd >= 0) {
		if (wdmap_get(&w->wds, d->wd) == d)
			wdmap_del(&w->wds, d->wd);
		w->st.dirs--;
	} else
		w->st.unwatched--;
	d->wd = -2;
}

/* Frees a detached subtree. report: emit WEV_REMOVED for its files, under
 * the path the subtree had (prefix). */
static void subtree_free(struct watcher *w, struct wdir *d, const char *prefix, bool report,
    bool rm_watch)
{
	struct buf p = BUF_INIT;

	while (d->child) {
		struct wdir *c = d->child;
		char *sub = *prefix ? xasprintf("%s/%s", prefix, c->name) : xstrdup(c->name);

		d->child = c->sibling;
		c->parent = NULL;
		subtree_free(w, c, sub, report, rm_watch);
		free(sub);
	}
	for (uint32_t i = 0; i < d->ents.n; i++) {
		if (report) {
			buf_reset(&p);
			buf_addf(&p, "%s/%s", prefix, dirents_name(&d->ents, i));
			w->cb.file(w->cb.arg, p.buf, WEV_REMOVED, w->read_ms);
		}
	}
	w->st.files -= d->ents.n;
	if (d->wd >= 0 && rm_watch)
		inotify_rm_watch(w->fd, d->wd);
	if (d->wd != -2)
		wd_forget(w, d);
	buf_release(&p);
	dirents_release(&d->ents);
	free(d->name);
	free(d);
}

/* ---- watching and scanning ----------------------------------------------- */

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
static void enospc_report(struct watcher *w)
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

static void scan_timer_arm(struct watcher *w);

static void schedule_degraded_scan(struct watcher *w)
{
	w->st.degraded = true;
	if (w->degraded_at == 0) {
		w->degraded_at = uv_now(w->loop) + w->degraded_ms;
		scan_timer_arm(w);
	}
}

/* Adds a watch for d at its path (w->path must hold the relative path). */
static void watch_dir(struct watcher *w, struct wdir *d, int dfd)
{
	char *abs;
	int wd;

	/* By path: /proc/self/fd/N would be a symlink, and IN_DONT_FOLLOW
	 * (which keeps symlink loops harmless) refuses it. IN_ONLYDIR makes
	 * the call fail rather than watch a file that took the name. */
	(void)dfd;
	if (w->fd < 0) {
		/* no inotify instance: the whole tree is scanned */
		d->wd = -1;
		w->st.unwatched++;
		schedule_degraded_scan(w);
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
		d->wd = -1;
		w->st.unwatched++;
		if (errno == ENOSPC) {
			w->enospc_seen = true;
			schedule_degraded_scan(w);
		} else if (errno != ENOENT && errno != ENOTDIR)
			log_warn("inotify_add_watch %s", w->path.len ? w->path.buf : ".");
		return;
	}
	w->watches_added++;
	{
		struct wdir *old = wdmap_get(&w->wds, wd);

		if (old && old != d) {
			/* The same inode is already watched under another node
			 * (a rename we have not seen yet): the newer node wins. */
			old->wd = -1;
			w->st.dirs--;
			w->st.unwatched++;
		}
	}
	d->wd = wd;
	wdmap_put(&w->wds, wd, d);
	w->st.dirs++;
}

/* Lists d (whose path is in w->path) into its entries, watching and
 * descending into subdirectories. report: emit WEV_CREATED|WEV_RESCAN for
 * files found (a new directory) or for differences (a rescan). */
static void scan_dir(struct watcher *w, struct wdir *d, int dfd, bool report, int depth);
static void read_early(struct watcher *w);

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

static bool is_cookie(const struct watcher *w, const char *name)
{
	const char *p = w->cb.cookie_prefix;

	return p && strncmp(name, p, strlen(p)) == 0;
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

static struct wdir *new_child(struct wdir *parent, const char *name)
{
	struct wdir *c = xcalloc(1, sizeof(*c));

	c->name = xstrdup(name);
	c->wd = -2;
	child_attach(parent, c);
	return c;
}

static void set_path(struct watcher *w, size_t base, const char *name)
{
	buf_setlen(&w->path, base);
	if (base)
		buf_addch(&w->path, '/');
	buf_addstr(&w->path, name);
}

/* Enters the subdirectories a listing of d found (dfd: d, still open).
 * They are entered once the listing is done, so that the "ignored?"
 * answers for all of them can be worked out ahead while the first ones are
 * scanned; asked last first, since the most recent question is answered
 * first and the first directory is needed first. */
static void scan_subdirs(struct watcher *w, struct wdir *d, int dfd, const struct strvec *subs,
    size_t base, bool report, int depth)
{
	long *tickets = subs->n ? xcalloc(subs->n, sizeof(*tickets)) : NULL;

	for (size_t i = subs->n; i-- > 0;) {
		set_path(w, base, subs->v[i]);
		tickets[i] = ignore_ahead_ask(w->ig, w->path.buf);
	}
	for (size_t i = 0; i < subs->n; i++) {
		const char *name = subs->v[i];
		struct wdir *c;
		int sub;

		set_path(w, base, name);
		if (ignore_ahead_take(w->ig, w->path.buf, tickets[i]))
			continue;
		c = child_find(d, name);
		if (c == NULL)
			c = new_child(d, name);
		c->seen = true;
		sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub >= 0 && depth < 256)
			scan_dir(w, c, sub, report, depth + 1);
		else if (sub >= 0)
			close(sub);
	}
	free(tickets);
}

/* Reconciliation of one directory listing against d's known entries. */
static void scan_dir(struct watcher *w, struct wdir *d, int dfd, bool report, int depth)
{
	struct dirread dir;
	const char *name;
	unsigned char type;
	size_t base;
	struct dirents old = d->ents;
	uint32_t nold = old.n;
	struct timespec old_listed = d->listed;
	bool *seen_old = nold ? xcalloc(nold, sizeof(bool)) : NULL;
	struct strvec subs = STRVEC_INIT;
	struct wdir *c;

	if (d->wd == -2)
		watch_dir(w, d, dfd);
	if (w->initial && uv_hrtime() >= w->early_next) {
		w->early_next = uv_hrtime() + EARLY_EVERY_NS;
		read_early(w);
	}
	if (w->initial && d == w->top && w->test_scan_pause_ms > 0)
		test_scan_pause(w);
	dirread_open(&dir, dfd);
	d->ents = (struct dirents)DIRENTS_INIT;
	w->st.files -= nold;
	/* the kernel stamps ctime from the coarse clock: compare like with like */
	clock_gettime(CLOCK_REALTIME_COARSE, &d->listed);
	base = w->path.len;
	/* children not seen in this listing have vanished */
	for (c = d->child; c; c = c->sibling)
		c->seen = false;

	while (dirread_next(&dir, &name, &type)) {
		struct stat st;
		bool have_st = false;

		buf_setlen(&w->path, base);
		if (base)
			buf_addch(&w->path, '/');
		buf_addstr(&w->path, name);
		/* The first listing records names only (no stat per file: that is
		 * what made start-up slow); a file that has no stamp yet counts
		 * as changed at a rescan only if its ctime is not older than the
		 * listing. */
		if (type == DT_UNKNOWN || (report && (type == DT_REG || type == DT_LNK))) {
			if (fstatat(dir.fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			have_st = true;
			type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG :
			    S_ISLNK(st.st_mode) ? DT_LNK : DT_UNKNOWN;
		}
		if (type == DT_DIR) {
			if (depth == 0 && is_cookie(w, name))
				continue;
			strvec_push(&subs, name);
			continue;
		}
		if (type != DT_REG && type != DT_LNK)
			continue;
		if (ignore_builtin(w->path.buf, false))
			continue;
		{
			uint64_t stamp = have_st ? fstamp(&st) : 0;
			long at = nold ? dirents_find(&old, name) : -1;
			bool found = at >= 0;

			if (found)
				seen_old[at] = true;
			dirents_append(&d->ents, name, stamp);
			w->st.files++;
			if (report && (!found ||
			    changed_since(old.v[at].stamp, stamp, &st, &old_listed)))
				w->cb.file(w->cb.arg, w->path.buf,
				    WEV_RESCAN | (found ? WEV_MODIFIED : WEV_CREATED), w->read_ms);
		}
	}
	scan_subdirs(w, d, dir.fd, &subs, base, report, depth);
	strvec_clear(&subs);
	dirread_close(&dir);
	dirents_sort(&d->ents);
	buf_setlen(&w->path, base);
	/* files that vanished */
	for (uint32_t i = 0; i < nold; i++) {
		if (!seen_old[i] && report) {
			buf_setlen(&w->path, base);
			if (base)
				buf_addch(&w->path, '/');
			buf_addstr(&w->path, dirents_name(&old, i));
			w->cb.file(w->cb.arg, w->path.buf, WEV_REMOVED | WEV_RESCAN, w->read_ms);
		}
	}
	dirents_release(&old);
	free(seen_old);
	buf_setlen(&w->path, base);
	/* subdirectories that vanished (or became ignored) */
	for (struct wdir **pp = &d->child; *pp;) {
		c = *pp;
		if (!c->seen) {
			char *prefix;

			*pp = c->sibling;
			c->parent = NULL;
			prefix = base ? xasprintf("%s/%s", w->path.buf, c->name) : xstrdup(c->name);
			subtree_free(w, c, prefix, report, true);
			free(prefix);
			buf_setlen(&w->path, base);
			continue;
		}
		pp = &c->sibling;
	}
}

static void scan_path(struct watcher *w, struct wdir *d, bool report)
{
	char *abs;
	int fd;

	path_of(d, &w->path);
	abs = w->path.len ? xasprintf("%s/%s", w->root, w->path.buf) : xstrdup(w->root);
	fd = open(abs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	free(abs);
	if (fd < 0)
		return;
	/* a whole-tree scan asks libgit2 about directories on a second
	 * thread; smaller ones are not worth the thread */
	if (d == w->top)
		ignore_ahead_start(w->ig);
	scan_dir(w, d, fd, report, 0);
	ignore_ahead_stop(w->ig);
}

/* ---- rescans ------------------------------------------------------------- */

static void do_rescan(struct watcher *w)
{
	uint64_t now = uv_now(w->loop);

	for (int k = 0; k < RESCAN_KINDS; k++)
		if (w->rescan_kinds & (1u << k))
			w->backoff[k].last = now;
	w->rescan_kinds = 0;
	w->st.rescans++;
	scan_path(w, w->top, true);
	ignore_trim(w->ig);
	malloc_trim(0);
	log_info("rescan done: %d dirs watched, %llu files", w->st.dirs,
	    (unsigned long long)w->st.files);
	enospc_report(w);
	if (w->cb.rescanned)
		w->cb.rescanned(w->cb.arg, true);
}

static bool any_unwatched(struct wdir *d)
{
	if (d->wd == -1)
		return true;
	for (struct wdir *c = d->child; c; c = c->sibling)
		if (any_unwatched(c))
			return true;
	return false;
}

/* Retries watches for unwatched dirs and reconciles them. */
static void degraded_pass(struct watcher *w, struct wdir *d)
{
	if (d->wd == -1) {
		w->st.unwatched--;
		d->wd = -2;
		scan_path(w, d, true);
		return;
	}
	for (struct wdir *c = d->child; c; c = c->sibling)
		degraded_pass(w, c);
}

/* One pass over what has no watch. The interval grows with what a pass
 * costs, so that scanning a big tree without inotify stays a small share
 * of a core. */
static void degraded_scan(struct watcher *w)
{
	uint64_t t0 = uv_hrtime(), ms;
	bool was = w->st.degraded;

	degraded_pass(w, w->top);
	ms = (uv_hrtime() - t0) / 1000000;
	w->degraded_ms = ms * DEGRADED_DUTY > DEGRADED_SCAN_MS ? ms * DEGRADED_DUTY : DEGRADED_SCAN_MS;
	w->st.degraded = w->fd < 0 || any_unwatched(w->top);
	w->degraded_at = w->st.degraded ? uv_now(w->loop) + w->degraded_ms : 0;
	if (was && !w->st.degraded) {
		log_info("all directories are watched again; leaving degraded mode");
		w->reason[0] = '\0';
	}
	enospc_report(w);
	if (w->cb.rescanned)
		w->cb.rescanned(w->cb.arg, false);
}

static void on_scan_timer(uv_timer_t *t)
{
	struct watcher *w = t->data;
	uint64_t now = uv_now(w->loop);

	if (w->rescan_kinds && w->rescan_due <= now)
		do_rescan(w);
	if (w->st.degraded && w->degraded_at && w->degraded_at <= now)
		degraded_scan(w);
	scan_timer_arm(w);
}

/* One timer serves the due rescan and the degraded scans: it wakes for
 * the earlier, and not at all when neither is due. */
static void scan_timer_arm(struct watcher *w)
{
	uint64_t now = uv_now(w->loop), at = UINT64_MAX;

	if (w->closing)
		return;
	if (w->rescan_kinds)
		at = w->rescan_due;
	if (w->st.degraded && w->degraded_at && w->degraded_at < at)
		at = w->degraded_at;
	if (at == UINT64_MAX) {
		uv_timer_stop(&w->scan_timer);
		return;
	}
	uv_timer_start(&w->scan_timer, on_scan_timer, at > now ? at - now : 0, 0);
}

/* The wait before a rescan of one kind: its first after a quiet period
 * waits b->first; each that follows the last one closely waits twice as
 * long as the previous, up to max, so a storm cannot pin a core. */
static uint64_t backoff_next(struct backoff *b, uint64_t first, uint64_t now)
{
	if (b->last && now - b->last < b->max * 2) {
		b->delay = b->delay < b->min ? b->min : b->delay * 2;
		if (b->delay > b->max)
			b->delay = b->max;
	} else
		b->delay = first;
	return b->delay;
}

static void rescan_request(struct watcher *w, int kind, uint64_t first, const char *why)
{
	uint64_t now = uv_now(w->loop), due;

	log_info("rescan requested: %s", why);
	if (w->rescan_kinds & (1u << kind))
		return;		/* the rescan due serves this one too */
	due = now + backoff_next(&w->backoff[kind], first, now);
	if (w->rescan_kinds == 0 || due < w->rescan_due)
		w->rescan_due = due;
	w->rescan_kinds |= 1u << kind;
	if (w->rescan_due <= now)
		do_rescan(w);
	scan_timer_arm(w);
}

void watcher_rescan(struct watcher *w, const char *why)
{
	rescan_request(w, RESCAN_OVERFLOW, 0, why);
}

void watcher_rules_changed(struct watcher *w, const char *why)
{
	rescan_request(w, RESCAN_RULES, RULES_MIN_MS, why);
}

bool watcher_busy(const struct watcher *w)
{
	return w->rescan_kinds != 0;
}

bool watcher_scan_unwatched(struct watcher *w)
{
	if (w->st.degraded) {
		degraded_scan(w);
		scan_timer_arm(w);
	}
	return w->top->wd >= 0;
}

/* ---- events -------------------------------------------------------------- */

static void expire_parked(struct watcher *w)
{
	while (w->parked) {
		struct parked *p = w->parked;

		w->parked = p->next;
		/* moved out of the tree (or its pair was lost): forget it */
		subtree_free(w, p->node, p->node->name, true, true);
		free(p);
	}
}

static void clear_ents(struct watcher *w, struct wdir *d)
{
	w->st.files -= d->ents.n;
	dirents_release(&d->ents);
	for (struct wdir *c = d->child; c; c = c->sibling)
		clear_ents(w, c);
}

static void on_move_timer(uv_timer_t *t)
{
	expire_parked(t->data);
}

/* Reports every file of the subtree at top (still attached, so paths are
 * the old ones) removed. The stack grows on the heap: a directory may
 * have any number of subdirectories. */
static void report_removed(struct watcher *w, struct wdir *top)
{
	struct wdir **stack = NULL;
	size_t n = 0, alloc = 0;
	struct buf p = BUF_INIT;

	stack = xgrow(stack, &alloc, 1, sizeof(*stack));
	stack[n++] = top;
	while (n > 0) {
		struct wdir *k = stack[--n];
		size_t base;

		path_of(k, &p);
		base = p.len;
		for (uint32_t i = 0; i < k->ents.n; i++) {
			buf_setlen(&p, base);
			if (base)
				buf_addch(&p, '/');
			buf_addstr(&p, dirents_name(&k->ents, i));
			w->cb.file(w->cb.arg, p.buf, WEV_REMOVED, w->read_ms);
		}
		for (struct wdir *q = k->child; q; q = q->sibling) {
			stack = xgrow(stack, &alloc, n + 1, sizeof(*stack));
			stack[n++] = q;
		}
	}
	buf_release(&p);
	free(stack);
}

static void dir_event(struct watcher *w, struct wdir *d, const struct inotify_event *ev)
{
	struct wdir *c;

	child_path(w, d, ev->name);
	if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
		if (ev->mask & IN_MOVED_TO) {
			for (struct parked **pp = &w->parked; *pp; pp = &(*pp)->next) {
				struct parked *p = *pp;

				if (p->cookie != ev->cookie)
					continue;
				*pp = p->next;
				c = p->node;
				free(p);
				/* rename within the tree: old paths go, new ones come */
				free(c->name);
				c->name = xstrdup(ev->name);
				if (ignore_path(w->ig, w->path.buf, true)) {
					subtree_free(w, c, w->path.buf, false, true);
					return;
				}
				child_attach(d, c);
				scan_path(w, c, true);
				return;
			}
		}
		if (ignore_path(w->ig, w->path.buf, true))
			return;
		c = child_find(d, ev->name);
		if (c == NULL)
			c = new_child(d, ev->name);
		/* new directory: watch, then list; everything in it is new */
		scan_path(w, c, true);
		return;
	}
	if (ev->mask & IN_MOVED_FROM) {
		c = child_find(d, ev->name);
		if (c == NULL)
			return;
		{
			struct parked *p = xcalloc(1, sizeof(*p));

			/* Report the old paths as removed now; the new ones will
			 * be reported created when (if) the pair arrives. */
			report_removed(w, c);
			child_detach(c);
			/* The files were reported removed; forgetting them means
			 * the listing on arrival reports each one created. */
			clear_ents(w, c);
			p->cookie = ev->cookie;
			p->node = c;
			p->next = w->parked;
			w->parked = p;
			uv_timer_start(&w->move_timer, on_move_timer, MOVE_EXPIRE_MS, 0);
		}
		return;
	}
	if (ev->mask & IN_DELETE) {
		c = child_find(d, ev->name);
		if (c) {
			char *prefix = xstrdup(w->path.buf);

			child_detach(c);
			subtree_free(w, c, prefix, true, false);
			free(prefix);
		}
	}
}

static void file_event(struct watcher *w, struct wdir *d, const struct inotify_event *ev)
{
	unsigned what = 0;

	child_path(w, d, ev->name);
	if (d->parent == NULL && is_cookie(w, ev->name)) {
		if ((ev->mask & IN_CREATE) && w->cb.cookie)
			w->cb.cookie(w->cb.arg, ev->name);
		return;
	}
	if (ignore_builtin(w->path.buf, false))
		return;
	if (ev->mask & (IN_CREATE | IN_MOVED_TO))
		what |= WEV_CREATED;
	if (ev->mask & IN_MODIFY)
		what |= WEV_MODIFIED;
	if (ev->mask & IN_CLOSE_WRITE)
		what |= WEV_CLOSED;
	if (ev->mask & IN_ATTRIB)
		what |= WEV_ATTRIB;
	if (ev->mask & (IN_DELETE | IN_MOVED_FROM))
		what |= WEV_REMOVED;
	if (ev->mask & IN_MOVED_TO)
		what |= WEV_CLOSED;	/* a renamed-in file is complete by convention */
	if (what & WEV_REMOVED)
		ent_del(w, d, ev->name);
	else if (what & WEV_CREATED)
		ent_set(w, d, ev->name, 0);
	w->cb.file(w->cb.arg, w->path.buf, what, w->read_ms);
	/* last: the rules callback may rescan, which reuses w->path */
	if (w->cb.rules && (ignore_is_rules_file(w->path.buf) ||
	    strvec_find(&w->rules_rel, w->path.buf) >= 0)) {
		char *rel = xstrdup(w->path.buf);

		w->cb.rules(w->cb.arg, rel);
		free(rel);
	}
}

static void overflow(struct watcher *w)
{
	w->st.overflows++;
	log_warnx("inotify queue overflow: events were lost; rescanning");
	watcher_rescan(w, "IN_Q_OVERFLOW");
}

static void rules_watch_add(struct watcher *w, struct rules_watch *r)
{
	/* IN_MASK_ADD: the directory may be the git directory, watched
	 * already; its mask must only grow */
	int wd = inotify_add_watch(w->fd, r->dir, META_MASK | IN_MASK_ADD);

	r->wd = -1;
	if (wd < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			log_warn("inotify_add_watch %s", r->dir);
		return;
	}
	if (wdmap_get(&w->wds, wd)) {
		/* a directory of the tree after all (through a link): its
		 * events belong to the tree, and the file is not tracked */
		log_debug("%s is inside the tree; its changes are not watched", r->path);
		return;
	}
	r->wd = wd;
	w->watches_added++;
}

/* A directory appeared in the git directory (info/ made by git): retry
 * the rules files whose directory was missing. */
static void rules_retry(struct watcher *w)
{
	for (size_t i = 0; i < w->nrules; i++) {
		struct rules_watch *r = &w->rules[i];

		if (r->wd >= 0)
			continue;
		rules_watch_add(w, r);
		if (r->wd >= 0 && w->cb.rules)
			w->cb.rules(w->cb.arg, r->path);
	}
}

/* Events of the git directory and of the rules files' directories. A wd
 * may serve several (core.excludesFile in .git/info). True when ev was
 * for one of them. */
static bool meta_event(struct watcher *w, const struct inotify_event *ev)
{
	bool ours = false;

	if (w->git_wd >= 0 && ev->wd == w->git_wd) {
		ours = true;
		if (ev->mask & IN_IGNORED)
			w->git_wd = -1;
		else if (ev->len) {
			if (w->cb.git)
				w->cb.git(w->cb.arg, ev->name);
			if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO)))
				rules_retry(w);
		}
	}
	for (size_t i = 0; i < w->nrules; i++) {
		struct rules_watch *r = &w->rules[i];

		if (r->wd < 0 || r->wd != ev->wd)
			continue;
		ours = true;
		if (ev->mask & IN_IGNORED)
			r->wd = -1;
		else if (ev->len && strcmp(ev->name, r->name) == 0 && w->cb.rules)
			w->cb.rules(w->cb.arg, r->path);
	}
	return ours;
}

static void handle(struct watcher *w, const struct inotify_event *ev)
{
	struct wdir *d;

	if (ev->mask & IN_Q_OVERFLOW) {
		overflow(w);
		return;
	}
	if (meta_event(w, ev))
		return;
	d = wdmap_get(&w->wds, ev->wd);
	if (d == NULL)
		return;		/* stale: the watch is gone */
	if (ev->mask & IN_IGNORED) {
		wdmap_del(&w->wds, ev->wd);
		if (d->wd == ev->wd) {
			d->wd = -2;
			w->st.dirs--;
		}
		if (d == w->top)
			log_warnx("ROOT %s is gone; nothing is watched any more", w->root);
		return;
	}
	if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF))
		return;		/* the parent's event (or IN_IGNORED) does the work */
	if (ev->len == 0)
		return;
	if (log_verbosity >= LOG_LVL_TRACE) {
		path_of(d, &w->path);
		log_trace("event wd=%d mask=0x%x cookie=%u %s/%s", ev->wd, ev->mask, ev->cookie,
		    w->path.buf, ev->name);
	}
	if (ev->mask & IN_ISDIR)
		dir_event(w, d, ev);
	else
		file_event(w, d, ev);
}

/* aligned for struct inotify_event, large enough for a burst */
static char evbuf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));

static void handle_events(struct watcher *w, const char *buf, size_t n)
{
	for (const char *q = buf; q < buf + n;) {
		const struct inotify_event *ev = (const struct inotify_event *)q;

		q += sizeof(*ev) + ev->len;
		/* The test hook plays a queue of test_queue_max events: what
		 * the kernel would have dropped is dropped here, and an
		 * overflow follows (IN_IGNORED is kept: it frees). */
		if (w->test_queue_max > 0 && ++w->drained > (uint64_t)w->test_queue_max &&
		    !(ev->mask & IN_IGNORED)) {
			w->test_overflow = true;
			continue;
		}
		handle(w, ev);
	}
}

static void after_events(struct watcher *w);

/* During the initial scan: what the kernel has queued so far, kept for
 * the replay (handling it now would change the tree being scanned). */
static void read_early(struct watcher *w)
{
	while (w->fd >= 0 && w->early.len < EARLY_MAX) {
		ssize_t n = read(w->fd, evbuf, sizeof(evbuf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buf_add(&w->early, evbuf, (size_t)n);
		/* the loop clock's base, never earlier than the read */
		w->early_ms = uv_hrtime() / 1000000 + 1;
	}
}

static void on_replay(uv_timer_t *t)
{
	struct watcher *w = t->data;

	log_info("replaying %zu bytes of events read during the initial scan", w->early.len);
	w->read_ms = w->early_ms;
	handle_events(w, w->early.buf, w->early.len);
	w->read_ms = 0;
	buf_release(&w->early);
	after_events(w);
}

static void on_readable(uv_poll_t *p, int status, int events)
{
	struct watcher *w = p->data;

	(void)events;
	if (status < 0) {
		log_warnx("inotify poll: %s", uv_strerror(status));
		return;
	}
	for (;;) {
		ssize_t n = read(w->fd, evbuf, sizeof(evbuf));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				log_warn("read inotify");
			w->drained = 0;
			break;
		}
		if (n == 0)
			break;
		handle_events(w, evbuf, (size_t)n);
	}
	after_events(w);
}

static void after_events(struct watcher *w)
{
	if (w->test_overflow) {
		w->test_overflow = false;
		overflow(w);
	}
	enospc_report(w);
	/* Moves whose pair did not come in this read get a short grace. */
	if (w->parked && !uv_is_active((uv_handle_t *)&w->move_timer))
		uv_timer_start(&w->move_timer, on_move_timer, MOVE_EXPIRE_MS, 0);
}

/* ---- public -------------------------------------------------------------- */

/* Ignore files git reads from outside the tree's .gitignore files. One
 * inside the tree (core.excludesFile = a tracked file) is matched by path
 * among the tree's events; the others get their directory watched. */
static void rules_setup(struct watcher *w)
{
	struct strvec files = STRVEC_INIT;
	char *rroot = realpath(w->root, NULL);
	size_t rl = rroot ? strlen(rroot) : 0;

	ignore_rules_files(w->ig, &files);
	w->rules = files.n ? xcalloc(files.n, sizeof(*w->rules)) : NULL;
	for (size_t i = 0; i < files.n; i++) {
		const char *f = files.v[i], *slash = strrchr(f, '/');
		char *dir, *rdir;
		const char *dd;
		struct rules_watch *r;

		if (f[0] != '/')
			continue;	/* relative to no work tree (a bare repository) */
		dir = slash > f ? xstrndup(f, (size_t)(slash - f)) : xstrdup("/");
		rdir = realpath(dir, NULL);
		dd = rdir ? rdir : dir;

		if (rroot && strncmp(dd, rroot, rl) == 0 && (dd[rl] == '/' || dd[rl] == '\0')) {
			char *rel = dd[rl] ? xasprintf("%s/%s", dd + rl + 1, slash + 1) :
			    xstrdup(slash + 1);

			if (!ignore_builtin(rel, false)) {
				strvec_push_owned(&w->rules_rel, rel);
				free(rdir);
				free(dir);
				continue;
			}
			free(rel);
		}
		r = &w->rules[w->nrules++];
		r->dir = xstrdup(dd);
		r->name = xstrdup(slash + 1);
		r->path = xstrdup(f);
		rules_watch_add(w, r);
		log_debug("rules file %s: %s", f, r->wd >= 0 ? "watched" : "its directory is missing");
		free(rdir);
		free(dir);
	}
	strvec_clear(&files);
	free(rroot);
}

static void rules_release(struct watcher *w)
{
	for (size_t i = 0; i < w->nrules; i++) {
		free(w->rules[i].dir);
		free(w->rules[i].name);
		free(w->rules[i].path);
	}
	free(w->rules);
	w->rules = NULL;
	w->nrules = 0;
	strvec_clear(&w->rules_rel);
}

static void no_inotify(struct watcher *w, int e)
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

int watcher_start(uv_loop_t *loop, const char *root, const char *gitdir, struct ignore *ig,
    const struct watcher_cb *cb, struct watcher **out, char *err, size_t errlen)
{
	struct watcher *w;
	const char *env = getenv("WATCHD_TEST_MAX_WATCHES");
	const char *qenv = getenv("WATCHD_TEST_QUEUE_MAX");
	const char *penv = getenv("WATCHD_TEST_SCAN_PAUSE_MS");
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
	w->cb = *cb;
	w->git_wd = -1;
	w->test_max_watches = env ? atoi(env) : 0;
	w->test_queue_max = qenv ? atoi(qenv) : 0;
	w->test_scan_pause_ms = penv ? atoi(penv) : 0;
	w->degraded_ms = DEGRADED_SCAN_MS;
	w->backoff[RESCAN_OVERFLOW] = (struct backoff){ 0, 0, RESCAN_MIN_MS, RESCAN_MAX_MS };
	w->backoff[RESCAN_RULES] = (struct backoff){ 0, 0, RESCAN_MIN_MS, RULES_MAX_MS };
	buf_init(&w->path);
	buf_init(&w->early);
	uv_timer_init(loop, &w->move_timer);
	uv_timer_init(loop, &w->scan_timer);
	uv_timer_init(loop, &w->replay_timer);
	w->move_timer.data = w->scan_timer.data = w->replay_timer.data = w;
	w->top = xcalloc(1, sizeof(*w->top));
	w->top->name = xstrdup("");
	w->top->wd = -2;
	if (fd < 0)
		no_inotify(w, e);
	if (gitdir && fd >= 0) {
		w->git_wd = inotify_add_watch(fd, gitdir, GIT_MASK);
		if (w->git_wd >= 0)
			w->watches_added++;
	}
	if (fd >= 0)
		rules_setup(w);
	w->initial = true;
	scan_path(w, w->top, false);
	w->initial = false;
	/* the scan's temporaries are gone: give their pages back */
	ignore_trim(w->ig);
	malloc_trim(0);
	if (w->top->wd == -2 || (w->top->wd < 0 && !w->st.degraded)) {
		snprintf(err, errlen, "cannot watch %s: %s", root, strerror(errno));
		subtree_free(w, w->top, "", false, true);
		w->top = NULL;
		if (fd >= 0)
			close(fd);
		wdmap_release(&w->wds);
		rules_release(w);
		free(w->root);
		buf_release(&w->path);
		/* the timers may have been started; closing them needs the loop */
		w->closing = 1;
		uv_close((uv_handle_t *)&w->move_timer, NULL);
		uv_close((uv_handle_t *)&w->scan_timer, NULL);
		uv_close((uv_handle_t *)&w->replay_timer, NULL);
		uv_run(loop, UV_RUN_NOWAIT);
		buf_release(&w->early);
		free(w);
		return -ENOENT;
	}
	enospc_report(w);
	if (fd >= 0) {
		uv_poll_init(loop, &w->poll, fd);
		w->poll.data = w;
		uv_poll_start(&w->poll, UV_READABLE, on_readable);
	}
	/* first thing once the loop runs, before anything read after it */
	if (w->early.len)
		uv_timer_start(&w->replay_timer, on_replay, 0, 0);
	*out = w;
	return 0;
}

static void on_closed(uv_handle_t *h)
{
	struct watcher *w = h->data;

	if (--w->closing > 0)
		return;
	if (w->fd >= 0)
		close(w->fd);
	while (w->parked) {
		struct parked *p = w->parked;

		w->parked = p->next;
		subtree_free(w, p->node, "", false, false);
		free(p);
	}
	if (w->top)
		subtree_free(w, w->top, "", false, false);
	wdmap_release(&w->wds);
	rules_release(w);
	buf_release(&w->path);
	buf_release(&w->early);
	free(w->root);
	free(w);
}

void watcher_stop(struct watcher *w)
{
	if (w == NULL)
		return;
	w->closing = w->fd >= 0 ? 4 : 3;
	if (w->fd >= 0)
		uv_close((uv_handle_t *)&w->poll, on_closed);
	uv_close((uv_handle_t *)&w->move_timer, on_closed);
	uv_close((uv_handle_t *)&w->scan_timer, on_closed);
	uv_close((uv_handle_t *)&w->replay_timer, on_closed);
}

void watcher_get_stats(const struct watcher *w, struct watcher_stats *st)
{
	*st = w->st;
	st->inotify = w->fd >= 0;
	st->reason = w->st.degraded && w->reason[0] ? w->reason : NULL;
}

void watcher_note(struct watcher *w, const char *rel, uint64_t stamp)
{
	const char *slash = strrchr(rel, '/');
	struct wdir *d = w->top;

	if (slash) {
		char *dir = xstrndup(rel, (size_t)(slash - rel));

		for (char *tok = dir, *next; tok && d; tok = next) {
			next = strchr(tok, '/');
			if (next)
				*next++ = '\0';
			d = child_find(d, tok);
		}
		free(dir);
		if (d == NULL)
			return;
	}
	if (stamp == 0)
		ent_del(w, d, slash ? slash + 1 : rel);
	else
		ent_set(w, d, slash ? slash + 1 : rel, stamp);
}
