/* inotify events: applying each event to the tree and
 * reporting it, directory moves, and the watches outside the tree (the git
 * directory, and the directories of the ignore files git reads from
 * outside it, filtered by name).
 *
 * Invariants:
 *  - events come from the reader thread's queue (watcher-reader.c), a
 *    bounded slice per loop turn, events_after after each slice;
 *  - IN_MOVED_FROM of a directory detaches its node and parks it under the
 *    move cookie; IN_MOVED_TO with that cookie re-attaches it (rename within
 *    the tree: watches kept, paths change). A parked node still unpaired
 *    after the current read and a short timer moved out of the tree: its
 *    watches are removed and its files reported removed;
 *  - IN_IGNORED drops a wd; events of wds we no longer know are stale;
 *  - a file event updates the tree's entry (created: added unstamped;
 *    removed: dropped) before it is reported. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "ignore.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "watcher-internal.h"

#define GIT_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | \
	IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)
#define META_MASK GIT_MASK
#define MOVE_EXPIRE_MS 50

/* ---- directory moves ------------------------------------------------------ */

static void expire_parked(struct watcher *w)
{
	while (w->parked) {
		struct parked *p = w->parked;

		w->parked = p->next;
		/* moved out of the tree (or its pair was lost): forget it. Its
		 * files were reported removed when it was parked; any it got
		 * since are reported under its name. */
		buf_reset(&w->path);
		buf_addstr(&w->path, p->node->name);
		tree_free_dir(w->tree, p->node, &w->path, watch_drop, watch_removed, w);
		free(p);
	}
}

static void on_move_timer(uv_timer_t *t)
{
	expire_parked(t->data);
}

/* c moved away (w->path holds its path): detached, its files reported
 * removed, it waits for the other half of the move. */
static void park(struct watcher *w, struct tree_dir *c, uint32_t cookie)
{
	struct parked *p = xcalloc(1, sizeof(*p));

	/* Report the old paths as removed now; the new ones will be
	 * reported created when (if) the pair arrives. */
	tree_each_file(c, &w->path, watch_removed, w);
	tree_detach(c);
	/* The files were reported removed; forgetting them means the
	 * listing on arrival reports each one created. */
	tree_forget_files(w->tree, c);
	p->cookie = cookie;
	p->node = c;
	p->next = w->parked;
	w->parked = p;
	uv_timer_start(&w->move_timer, on_move_timer, MOVE_EXPIRE_MS, 0);
}

/* The parked node with this cookie, taken off the list; or NULL. */
static struct tree_dir *unpark(struct watcher *w, uint32_t cookie)
{
	for (struct parked **pp = &w->parked; *pp; pp = &(*pp)->next) {
		struct parked *p = *pp;
		struct tree_dir *c = p->node;

		if (p->cookie != cookie)
			continue;
		*pp = p->next;
		free(p);
		return c;
	}
	return NULL;
}

/* ---- events of the tree ---------------------------------------------------- */

static void child_path(struct watcher *w, struct tree_dir *d, const char *name)
{
	tree_path(d, &w->path);
	if (w->path.len)
		buf_addch(&w->path, '/');
	buf_addstr(&w->path, name);
}

static void dir_event(struct watcher *w, struct tree_dir *d, const struct inotify_event *ev)
{
	struct tree_dir *c;

	child_path(w, d, ev->name);
	if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
		if ((ev->mask & IN_MOVED_TO) && (c = unpark(w, ev->cookie)) != NULL) {
			/* rename within the tree: old paths go, new ones come */
			if (ignore_path(w->ig, w->path.buf, true)) {
				tree_free_dir(w->tree, c, NULL, watch_drop, NULL, w);
				return;
			}
			tree_attach(d, c, ev->name);
			scan_path(w, c, true);
			return;
		}
		if (ignore_path(w->ig, w->path.buf, true))
			return;
		c = tree_child(d, ev->name);
		if (c == NULL)
			c = tree_add(d, ev->name);
		/* new directory: watch, then list; everything in it is new */
		scan_path(w, c, true);
		return;
	}
	if (ev->mask & IN_MOVED_FROM) {
		c = tree_child(d, ev->name);
		if (c)
			park(w, c, ev->cookie);
		return;
	}
	if (ev->mask & IN_ATTRIB) {
		/* chmod on a directory that could not be read: try it now */
		c = tree_child(d, ev->name);
		if (c && c->wd == TREE_WD_UNWATCHED)
			degraded_retry(w, c);
		return;
	}
	if (ev->mask & IN_DELETE) {
		c = tree_child(d, ev->name);
		if (c) {
			tree_detach(c);
			/* the kernel removed its watches (IN_IGNORED follows) */
			tree_free_dir(w->tree, c, &w->path, watch_forget, watch_removed, w);
		}
	}
}

static void file_event(struct watcher *w, struct tree_dir *d, const struct inotify_event *ev)
{
	unsigned what = 0;

	child_path(w, d, ev->name);
	if (d->parent == NULL && watch_is_cookie(w, ev->name)) {
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
		tree_file_del(w->tree, d, ev->name);
	else if (what & WEV_CREATED)
		tree_file_set(w->tree, d, ev->name, 0);
	w->cb.file(w->cb.arg, w->path.buf, what, w->read_ms);
	/* last: the rules callback may rescan, which reuses w->path */
	if (w->cb.rules && (ignore_is_rules_file(w->path.buf) ||
	    strvec_find(&w->rules_rel, w->path.buf) >= 0)) {
		char *rel = xstrdup(w->path.buf);

		w->cb.rules(w->cb.arg, rel);
		free(rel);
	}
}

/* ---- watches outside the tree ---------------------------------------------- */

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
				w->cb.git(w->cb.arg, ev->name,
				    (ev->mask & (IN_DELETE | IN_MOVED_FROM)) != 0);
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

/* Ignore files git reads from outside the tree's .gitignore files. One
 * inside the tree (core.excludesFile = a tracked file) is matched by path
 * among the tree's events; the others get their directory watched. Then
 * the git directory itself, when there is one. */
void events_setup(struct watcher *w, const char *gitdir)
{
	struct strvec files = STRVEC_INIT;
	char *rroot;
	size_t rl;

	if (w->fd < 0)
		return;
	if (gitdir) {
		w->git_wd = inotify_add_watch(w->fd, gitdir, GIT_MASK);
		if (w->git_wd >= 0)
			w->watches_added++;
	}
	rroot = realpath(w->root, NULL);
	rl = rroot ? strlen(rroot) : 0;
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

void events_release(struct watcher *w)
{
	while (w->parked) {
		struct parked *p = w->parked;

		w->parked = p->next;
		tree_free_dir(w->tree, p->node, NULL, watch_forget, NULL, w);
		free(p);
	}
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

/* ---- reading --------------------------------------------------------------- */

static void handle(struct watcher *w, const struct inotify_event *ev)
{
	struct tree_dir *d;

	if (ev->mask & IN_Q_OVERFLOW) {
		rescan_overflow(w);
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
			d->wd = TREE_WD_NONE;
			w->st.dirs--;
		}
		if (d == w->tree->top)
			degraded_root_gone(w, "deleted");
		return;
	}
	if (d == w->tree->top && (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF))) {
		degraded_root_gone(w, ev->mask & IN_MOVE_SELF ? "moved away" : "deleted");
		return;
	}
	if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF))
		return;		/* the parent's event (or IN_IGNORED) does the work */
	if (w->root_gone)
		return;		/* a moved-away tree's events name no path of ROOT */
	if (ev->len == 0)
		return;
	if (log_verbosity >= LOG_LVL_TRACE) {
		tree_path(d, &w->path);
		log_trace("event wd=%d mask=0x%x cookie=%u %s/%s", ev->wd, ev->mask, ev->cookie,
		    w->path.buf, ev->name);
	}
	if (ev->mask & IN_ISDIR)
		dir_event(w, d, ev);
	else
		file_event(w, d, ev);
	/* ROOT's own IN_DELETE_SELF waits until nothing holds it, and the
	 * ledger's open files do: an emptied ROOT is looked at instead */
	if (d == w->tree->top && (ev->mask & (IN_DELETE | IN_MOVED_FROM)))
		w->root_check = true;
}

void events_handle(struct watcher *w, const char *buf, size_t n)
{
	for (const char *q = buf; q < buf + n;) {
		const struct inotify_event *ev = (const struct inotify_event *)q;

		q += sizeof(*ev) + ev->len;
		handle(w, ev);
	}
}

void events_after(struct watcher *w)
{
	degraded_report(w);
	if (w->root_check) {
		struct tree_dir *top = w->tree->top;

		w->root_check = false;
		if (!w->root_gone && top->child == NULL && top->ents.n == 0) {
			struct stat st;

			if (stat(w->root, &st) < 0 && (errno == ENOENT || errno == ENOTDIR))
				degraded_root_gone(w, "deleted");
			else	/* rmdir may come next: look again shortly */
				watcher_rules_changed(w, "ROOT emptied");
		}
	}
	/* Moves whose pair did not come in this read get a short grace. */
	if (w->parked && !uv_is_active((uv_handle_t *)&w->move_timer))
		uv_timer_start(&w->move_timer, on_move_timer, MOVE_EXPIRE_MS, 0);
}
