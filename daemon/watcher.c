/* Watcher.
 *
 * One inotify fd (IN_NONBLOCK) on a uv_poll handle, read until EAGAIN into
 * an aligned 64 KiB buffer. Every non-ignored directory under ROOT has a
 * node in a tree (parent pointer + name, so a directory rename is an O(1)
 * re-parenting) and one watch; wd -> node lives in a hash map. Each node
 * also keeps its files as a sorted array of (name, stamp): that is what a
 * rescan compares the disk against, so that after IN_Q_OVERFLOW every file
 * changed in the lost window is reported once and unchanged files are not.
 *
 * Invariants:
 *  - a directory is watched before it is listed, so nothing created after
 *    the listing is missed; whatever the listing finds is reported as
 *    created (a directory made with files already in it loses nothing);
 *  - IN_MOVED_FROM of a directory detaches its node and parks it under the
 *    move cookie; IN_MOVED_TO with that cookie re-attaches it (rename within
 *    the tree: watches kept, paths change). A parked node still unpaired
 *    after the current read and a short timer moved out of the tree: its
 *    watches are removed and its files reported removed;
 *  - IN_IGNORED drops a wd; events of wds we no longer know are stale;
 *  - ENOSPC from inotify_add_watch does not stop anything: the directory is
 *    kept unwatched and rescanned periodically (degraded mode);
 *  - idle costs nothing: no timer runs unless degraded or moves are parked.
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

#include "buf.h"
#include "dirents.h"
#include "hmap.h"
#include "ignore.h"
#include "log.h"
#include "watcher.h"
#include "wdmap.h"
#include "xmalloc.h"

#define WATCH_MASK (IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_MOVED_FROM | \
	IN_MOVED_TO | IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_ONLYDIR | IN_DONT_FOLLOW | \
	IN_EXCL_UNLINK)
#define GIT_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | \
	IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)
#define MOVE_EXPIRE_MS 50
#define DEGRADED_SCAN_MS 2000
#define RESCAN_MIN_MS 100
#define RESCAN_MAX_MS 10000

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
	int		 fd;
	int		 git_wd;
	char		*root;
	struct ignore	*ig;
	struct watcher_cb cb;
	struct wdir	*top;
	struct wdmap	 wds;		/* wd -> struct wdir */
	struct parked	*parked;
	struct watcher_stats st;
	int		 closing;
	bool		 enospc_warned;
	bool		 rescan_pending;
	uint64_t	 last_rescan;
	uint64_t	 rescan_backoff;
	int		 test_max_watches;	/* WATCHD_TEST_MAX_WATCHES: simulate ENOSPC */
	int		 watches_added;
	struct buf	 path;		/* scratch */
};

uint64_t watcher_stamp(const struct stat *st)
{
	uint64_t v[6] = {
		(uint64_t)st->st_size, (uint64_t)st->st_mtim.tv_sec, (uint64_t)st->st_mtim.tv_nsec,
		(uint64_t)st->st_ctim.tv_sec ^ ((uint64_t)st->st_ctim.tv_nsec << 32),
		(uint64_t)st->st_ino, (uint64_t)(st->st_mode & S_IFMT),
	};
	uint64_t h = hmap_hash(v, sizeof(v));

	return h ? h : 1;
}

/* ---- tree ---------------------------------------------------------------- */

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
			w->cb.file(w->cb.arg, p.buf, WEV_REMOVED);
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

static void warn_enospc(struct watcher *w)
{
	char buf[64] = "?";
	FILE *fp;

	if (w->enospc_warned)
		return;
	w->enospc_warned = true;
	fp = fopen("/proc/sys/fs/inotify/max_user_watches", "re");
	if (fp) {
		if (fgets(buf, sizeof(buf), fp))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(fp);
	}
	log_warnx("inotify watch limit reached (fs.inotify.max_user_watches=%s, shared by all "
	    "of this user's processes; %d directories watched so far). Raise it (sudo sysctl "
	    "fs.inotify.max_user_watches=524288; persist it in /etc/sysctl.d/) or add big "
	    "directories to \"ignore\". Meanwhile the rest of the tree is rescanned every %d s.",
	    buf, w->st.dirs, DEGRADED_SCAN_MS / 1000);
}

static void schedule_degraded_scan(struct watcher *w);

/* Adds a watch for d at its path (w->path must hold the relative path). */
static void watch_dir(struct watcher *w, struct wdir *d, int dfd)
{
	char *abs;
	int wd;

	/* By path: /proc/self/fd/N would be a symlink, and IN_DONT_FOLLOW
	 * (which keeps symlink loops harmless) refuses it. IN_ONLYDIR makes
	 * the call fail rather than watch a file that took the name. */
	(void)dfd;
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
			warn_enospc(w);
			w->st.degraded = true;
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

/* Reconciliation of one directory listing against d's known entries. */
static void scan_dir(struct watcher *w, struct wdir *d, int dfd, bool report, int depth)
{
	DIR *dir;
	struct dirent *de;
	size_t base;
	struct dirents old = d->ents;
	uint32_t nold = old.n;
	struct timespec old_listed = d->listed;
	bool *seen_old = nold ? xcalloc(nold, sizeof(bool)) : NULL;
	struct wdir *c;

	if (d->wd == -2)
		watch_dir(w, d, dfd);
	dir = fdopendir(dfd);
	if (dir == NULL) {
		close(dfd);
		free(seen_old);
		return;
	}
	d->ents = (struct dirents)DIRENTS_INIT;
	w->st.files -= nold;
	/* the kernel stamps ctime from the coarse clock: compare like with like */
	clock_gettime(CLOCK_REALTIME_COARSE, &d->listed);
	base = w->path.len;
	/* children not seen in this listing have vanished */
	for (c = d->child; c; c = c->sibling)
		c->seen = false;

	while ((de = readdir(dir)) != NULL) {
		const char *name = de->d_name;
		unsigned char type = de->d_type;
		struct stat st;
		bool have_st = false;

		if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
			continue;
		buf_setlen(&w->path, base);
		if (base)
			buf_addch(&w->path, '/');
		buf_addstr(&w->path, name);
		/* The first listing records names only (no stat per file: that is
		 * what made start-up slow); a file that has no stamp yet counts
		 * as changed at a rescan only if its ctime is not older than the
		 * listing. */
		if (type == DT_UNKNOWN || (report && (type == DT_REG || type == DT_LNK))) {
			if (fstatat(dirfd(dir), name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			have_st = true;
			type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG :
			    S_ISLNK(st.st_mode) ? DT_LNK : DT_UNKNOWN;
		}
		if (type == DT_DIR) {
			int sub;

			if (depth == 0 && strncmp(name, COOKIE_PREFIX, strlen(COOKIE_PREFIX)) == 0)
				continue;
			if (ignore_path(w->ig, w->path.buf, true))
				continue;
			c = child_find(d, name);
			if (c == NULL)
				c = new_child(d, name);
			c->seen = true;
			sub = openat(dirfd(dir), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0 && depth < 256)
				scan_dir(w, c, sub, report, depth + 1);
			else if (sub >= 0)
				close(sub);
			continue;
		}
		if (type != DT_REG && type != DT_LNK)
			continue;
		if (ignore_builtin(w->path.buf, false))
			continue;
		{
			uint64_t stamp = have_st ? watcher_stamp(&st) : 0;
			long at = nold ? dirents_find(&old, name) : -1;
			bool found = at >= 0;

			if (found)
				seen_old[at] = true;
			dirents_append(&d->ents, name, stamp);
			w->st.files++;
			if (report && (!found ||
			    changed_since(old.v[at].stamp, stamp, &st, &old_listed)))
				w->cb.file(w->cb.arg, w->path.buf,
				    WEV_RESCAN | (found ? WEV_MODIFIED : WEV_CREATED) | WEV_CLOSED);
		}
	}
	closedir(dir);
	dirents_sort(&d->ents);
	buf_setlen(&w->path, base);
	/* files that vanished */
	for (uint32_t i = 0; i < nold; i++) {
		if (!seen_old[i] && report) {
			buf_setlen(&w->path, base);
			if (base)
				buf_addch(&w->path, '/');
			buf_addstr(&w->path, dirents_name(&old, i));
			w->cb.file(w->cb.arg, w->path.buf, WEV_REMOVED | WEV_RESCAN);
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
	scan_dir(w, d, fd, report, 0);
}

/* ---- rescans ------------------------------------------------------------- */

static void do_rescan(struct watcher *w)
{
	w->rescan_pending = false;
	w->last_rescan = uv_now(w->loop);
	w->st.rescans++;
	scan_path(w, w->top, true);
	malloc_trim(0);
	log_info("rescan done: %d dirs watched, %llu files", w->st.dirs,
	    (unsigned long long)w->st.files);
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
		wdmap_del(&w->wds, d->wd);
		w->st.unwatched--;
		d->wd = -2;
		scan_path(w, d, true);
		return;
	}
	for (struct wdir *c = d->child; c; c = c->sibling)
		degraded_pass(w, c);
}

static void on_scan_timer(uv_timer_t *t)
{
	struct watcher *w = t->data;

	if (w->rescan_pending)
		do_rescan(w);
	if (w->st.degraded) {
		degraded_pass(w, w->top);
		w->st.degraded = any_unwatched(w->top);
		if (w->st.degraded)
			uv_timer_start(&w->scan_timer, on_scan_timer, DEGRADED_SCAN_MS, 0);
		else
			log_info("all directories are watched again; leaving degraded mode");
	}
}

static void schedule_degraded_scan(struct watcher *w)
{
	if (!uv_is_active((uv_handle_t *)&w->scan_timer))
		uv_timer_start(&w->scan_timer, on_scan_timer, DEGRADED_SCAN_MS, 0);
}

void watcher_rescan(struct watcher *w, const char *why)
{
	uint64_t now = uv_now(w->loop), due;

	log_info("rescan requested: %s", why);
	if (w->rescan_pending)
		return;
	/* Back off under repeated overflows: each rescan that follows soon
	 * after the previous one doubles the wait, so a storm cannot pin a
	 * core rescanning. A quiet period resets it. */
	if (w->last_rescan && now - w->last_rescan < RESCAN_MAX_MS * 2) {
		w->rescan_backoff = w->rescan_backoff ? w->rescan_backoff * 2 : RESCAN_MIN_MS;
		if (w->rescan_backoff > RESCAN_MAX_MS)
			w->rescan_backoff = RESCAN_MAX_MS;
	} else
		w->rescan_backoff = 0;
	due = w->rescan_backoff;
	w->rescan_pending = true;
	if (due == 0) {
		do_rescan(w);
		return;
	}
	uv_timer_stop(&w->scan_timer);
	uv_timer_start(&w->scan_timer, on_scan_timer, due, 0);
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

static void dir_event(struct watcher *w, struct wdir *d, const struct inotify_event *ev)
{
	struct wdir *c;

	child_path(w, d, ev->name);
	if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
		if (ev->mask & IN_MOVED_TO) {
			for (struct parked **pp = &w->parked; *pp; pp = &(*pp)->next) {
				struct parked *p = *pp;
				struct buf old = BUF_INIT;

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
				buf_release(&old);
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
			struct buf oldp = BUF_INIT;

			/* Report the old paths as removed now; the new ones will
			 * be reported created when (if) the pair arrives. */
			path_of(c, &oldp);
			{
				char *prefix = buf_detach(&oldp, NULL);

				for (uint32_t i = 0; i < c->ents.n; i++) {
					char *fp = xasprintf("%s/%s", prefix, dirents_name(&c->ents, i));

					w->cb.file(w->cb.arg, fp, WEV_REMOVED);
					free(fp);
				}
				/* descendants' files, too */
				{
					struct wdir *stack[256];
					int sp = 0;

					for (struct wdir *k = c->child; k && sp < 256; k = k->sibling)
						stack[sp++] = k;
					while (sp > 0) {
						struct wdir *k = stack[--sp];
						struct buf kp = BUF_INIT;

						path_of(k, &kp);
						for (uint32_t i = 0; i < k->ents.n; i++) {
							char *fp = xasprintf("%s/%s", kp.buf,
							    dirents_name(&k->ents, i));

							w->cb.file(w->cb.arg, fp, WEV_REMOVED);
							free(fp);
						}
						buf_release(&kp);
						for (struct wdir *q = k->child; q && sp < 256; q = q->sibling)
							stack[sp++] = q;
					}
				}
				free(prefix);
			}
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
	if (d->parent == NULL && strncmp(ev->name, COOKIE_PREFIX, strlen(COOKIE_PREFIX)) == 0) {
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
	w->cb.file(w->cb.arg, w->path.buf, what);
	/* last: the rules callback may rescan, which reuses w->path */
	if (ignore_is_rules_file(w->path.buf) && w->cb.rules) {
		char *rel = xstrdup(w->path.buf);

		w->cb.rules(w->cb.arg, rel);
		free(rel);
	}
}

static void handle(struct watcher *w, const struct inotify_event *ev)
{
	struct wdir *d;

	if (ev->mask & IN_Q_OVERFLOW) {
		w->st.overflows++;
		log_warnx("inotify queue overflow: events were lost; rescanning");
		watcher_rescan(w, "IN_Q_OVERFLOW");
		return;
	}
	if (ev->wd == w->git_wd && w->git_wd >= 0) {
		if (ev->len && w->cb.git)
			w->cb.git(w->cb.arg, ev->name);
		return;
	}
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

static void on_readable(uv_poll_t *p, int status, int events)
{
	struct watcher *w = p->data;
	/* aligned for struct inotify_event, large enough for a burst */
	static char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));

	(void)events;
	if (status < 0) {
		log_warnx("inotify poll: %s", uv_strerror(status));
		return;
	}
	for (;;) {
		ssize_t n = read(w->fd, buf, sizeof(buf));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				log_warn("read inotify");
			break;
		}
		if (n == 0)
			break;
		for (char *q = buf; q < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)q;

			handle(w, ev);
			q += sizeof(*ev) + ev->len;
		}
	}
	/* Moves whose pair did not come in this read get a short grace. */
	if (w->parked && !uv_is_active((uv_handle_t *)&w->move_timer))
		uv_timer_start(&w->move_timer, on_move_timer, MOVE_EXPIRE_MS, 0);
}

/* ---- public -------------------------------------------------------------- */

int watcher_start(uv_loop_t *loop, const char *root, const char *gitdir, struct ignore *ig,
    const struct watcher_cb *cb, struct watcher **out, char *err, size_t errlen)
{
	struct watcher *w;
	const char *env = getenv("WATCHD_TEST_MAX_WATCHES");
	int fd, rc;

	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		if (errno == EMFILE) {
			char lim[64] = "?";
			FILE *fp = fopen("/proc/sys/fs/inotify/max_user_instances", "re");

			if (fp) {
				if (fgets(lim, sizeof(lim), fp))
					lim[strcspn(lim, "\n")] = '\0';
				fclose(fp);
			}
			snprintf(err, errlen, "inotify instance limit reached "
			    "(fs.inotify.max_user_instances=%s, shared by all of this user's "
			    "processes) or out of file descriptors. Raise it (sudo sysctl "
			    "fs.inotify.max_user_instances=512; persist it in /etc/sysctl.d/) or "
			    "stop other watchers", lim);
		} else
			snprintf(err, errlen, "inotify_init1: %s", strerror(errno));
		return rc;
	}
	w = xcalloc(1, sizeof(*w));
	w->loop = loop;
	w->fd = fd;
	w->root = xstrdup(root);
	w->ig = ig;
	w->cb = *cb;
	w->git_wd = -1;
	w->test_max_watches = env ? atoi(env) : 0;
	buf_init(&w->path);
	uv_timer_init(loop, &w->move_timer);
	uv_timer_init(loop, &w->scan_timer);
	w->move_timer.data = w->scan_timer.data = w;
	w->top = xcalloc(1, sizeof(*w->top));
	w->top->name = xstrdup("");
	w->top->wd = -2;
	if (gitdir) {
		w->git_wd = inotify_add_watch(fd, gitdir, GIT_MASK);
		if (w->git_wd >= 0)
			w->watches_added++;
	}
	scan_path(w, w->top, false);
	/* the scan's temporaries are gone: give their pages back */
	malloc_trim(0);
	if (w->top->wd < 0 && !w->st.degraded) {
		snprintf(err, errlen, "cannot watch %s: %s", root, strerror(errno));
		subtree_free(w, w->top, "", false, true);
		w->top = NULL;
		close(fd);
		wdmap_release(&w->wds);
		free(w->root);
		buf_release(&w->path);
		/* the timers were never started; closing them needs the loop */
		uv_close((uv_handle_t *)&w->move_timer, NULL);
		uv_close((uv_handle_t *)&w->scan_timer, NULL);
		uv_run(loop, UV_RUN_NOWAIT);
		free(w);
		return -ENOENT;
	}
	uv_poll_init(loop, &w->poll, fd);
	w->poll.data = w;
	uv_poll_start(&w->poll, UV_READABLE, on_readable);
	*out = w;
	return 0;
}

static void on_closed(uv_handle_t *h)
{
	struct watcher *w = h->data;

	if (--w->closing > 0)
		return;
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
	buf_release(&w->path);
	free(w->root);
	free(w);
}

void watcher_stop(struct watcher *w)
{
	if (w == NULL)
		return;
	w->closing = 3;
	uv_close((uv_handle_t *)&w->poll, on_closed);
	uv_close((uv_handle_t *)&w->move_timer, on_closed);
	uv_close((uv_handle_t *)&w->scan_timer, on_closed);
}

void watcher_get_stats(const struct watcher *w, struct watcher_stats *st)
{
	*st = w->st;
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
