/* Settle.
 *
 * State: a map path -> pending entry (first event seq, whether the file
 * was created within this batch, whether a writer has it open, and the
 * stamp of the first look). One debounce timer, one stability timer.
 *
 *   event ──► pending[path] updated; debounce timer = min(now + debounce,
 *             first_event + max_wait). A writer's close of a regular file
 *             has its first look taken now (early_look); any later event
 *             throws it away. Either way the closed callback is told,
 *             so that the file can be hashed while its batch settles.
 *   debounce fires ──► git busy? wait (re-checked on git events, and every
 *             GIT_RECHECK_MS while busy). Else first look: lstat each entry
 *             not held by an open writer; gone → removed (or dropped when
 *             it was created in this batch: a temp file); else remember
 *             the stamp.
 *   stability fires ──► second look: same stamp → ready; else it waits
 *             for the next round. Ready files go out as one batch. With
 *             stability_ms 0 a file no event touched since its first look
 *             is ready without a second one (see on_stable).
 *   churn fires (every CHURN_MS while events keep coming, that is while
 *             the debounce timer is pushed back) ──► when at least
 *             CHURN_MIN_FILES pending files have each been quiet for
 *             debounce_ms, the first look for those only; the stability
 *             timer then takes them out as a batch of their own while the
 *             rest still changes. Without it a writer that never pauses
 *             for debounce_ms (a formatter, a code generator) had every
 *             file wait for its last one: the whole burst was looked at,
 *             hashed and recorded after the last write (0.45 s for 10,500
 *             files), and whether a 20 ms pause happened by chance decided
 *             between that and 0.05 s. A file is still looked at only once
 *             quiet for debounce_ms, and still twice, stability_ms apart.
 *             Once a pass has taken files out, later passes of the same
 *             burst come every CHURN_LATER_MS and need only
 *             CHURN_LATER_FILES quiet files.
 *
 * Whether a writer has a file open is asked of the kernel at each look: a
 * read lease (F_SETLEASE F_RDLCK) cannot be taken while any process has
 * the file open for writing, and is released at once. That covers what
 * events cannot tell: a file found by a listing (a new directory, a
 * rescan) whose writer opened it before the watch existed, and a file
 * that got IN_CREATE but will never get IN_CLOSE_WRITE (a hard link).
 * Where leases are refused (not the owner without CAP_LEASE, a filesystem
 * without leases) the events decide: open from IN_MODIFY/IN_CREATE until
 * IN_CLOSE_WRITE, and what a listing reports counts as closed. A rename
 * onto the name counts as closed. A writer that never closes (a log) is
 * let through writer_timeout_ms after its last event. No timer runs when
 * nothing is pending.
 *
 * A batch goes out one way: the stamps its files had at the second look
 * are recorded in the watch stage's tree first (what a later rescan
 * compares the disk against), then the batch goes to the owner. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "lib/dirhold.h"
#include "lib/fstamp.h"
#include "lib/hmap.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "settle.h"
#include "tree.h"
#include "walk.h"

#define GIT_RECHECK_MS 100
/* Under continuous churn: how often quiet files are taken out, and how
 * many there must be (a small burst stays one batch, one run). */
#define CHURN_MS 50
#define CHURN_MIN_FILES 256
/* Once a pass has taken files out (the burst is a big one), passes may
 * come more often and take fewer, so that the batch left when the writes
 * stop is smaller. 20 ms and 64 files cut the tail by 1 ms (within the
 * noise) and cost 0.1-0.2 s of CPU per 10,000-file burst in more runs and
 * tool processes, so they are kept equal to the first pass's. */
#define CHURN_LATER_MS CHURN_MS
#define CHURN_LATER_FILES CHURN_MIN_FILES
/* ... and at most this many first looks per pass, churn or debounce, so
 * that one turn of the loop stays short (about 20 ms here) and the thread
 * pool hashes one batch while the loop looks at the next. */
#define CHURN_MAX_FILES 1024
#define INDEX_LOCK_STALE_S 30.0	/* an index.lock older than this is left over */
#define SEQUENCER_IDLE_S 5.0	/* a rebase that stopped for the user */

struct pend {
	uint64_t	 seq;		/* first event since it became pending */
	uint64_t	 last_event;	/* loop time of the last event */
	uint64_t	 stamp1;	/* first look; 0: not looked yet */
	bool		 created;	/* did not exist before this batch */
	bool		 writer_open;
	bool		 closed;	/* the last event was a writer's close (or a
					 * rename in): no need to ask the kernel */
	bool		 removed;	/* last event was a removal */
	bool		 probing;	/* first look taken, waiting for the second */
	bool		 ready;		/* both looks agree: goes out in this flush */
	bool		 evented;	/* an event came after the first look */
	uint64_t	 look_at;	/* loop time of the first look */
	uint64_t	 early;		/* stamp taken as the writer's close was
					 * handled, good until the next event; 0:
					 * none */
};

struct settle {
	struct settle_opts o;
	settle_flush_fn	*cb;
	void		*arg;
	uv_timer_t	 debounce;
	uv_timer_t	 stable;
	uv_timer_t	 churn;		/* first looks for quiet files under churn */
	struct hmap	 pend;
	uint64_t	 batch_start;	/* loop time of the first pending event; 0 none */
	uint64_t	 last_read;	/* latest `when` of an event handled */
	struct dirhold	 root_dir;	/* ROOT, for lookups relative to it */
	uint64_t	 root_at;	/* loop time root_dir was last checked */
	int		 root_fd;	/* its fd then, or -1 */
	bool		 git_busy;
	/* git took index.lock during this burst: the burst is git's (a
	 * checkout, a merge) and goes out whole once git is done. A loop
	 * behind the events may not churn a checkout the disk shows finished;
	 * and its removal does not clear it while files are pending: a churn
	 * pass right after it took the files git wrote more than debounce_ms
	 * before, and its last ones went out in a run of their own. Cleared
	 * when a debounce goes out or a churn pass takes the burst (nothing
	 * of git's left behind), or by the removal when nothing is pending. */
	bool		 git_lock_seen;
	/* loop time the removal was handled, 0 while the lock is held: once
	 * debounce_ms later every file git wrote is quiet, and a churn pass
	 * (a writer beside git that never pauses) takes them all */
	uint64_t	 git_done_at;
	/* A churn pass found more quiet files than one turn looks at: the
	 * next turn takes the next chunk, and the stability timer waits for
	 * the last, so that the pass goes out as one batch. */
	bool		 churn_chain;
	bool		 churned;	/* a churn pass took files out of this burst */
	/* A quiet burst is being looked at in chunks, one a turn: what the
	 * first chunks found ready waits for the last, so that the burst
	 * goes out as one batch (one run) however slow the turns are. */
	bool		 draining;
	uint64_t	 drain_start;	/* loop time of the drain's first turn */
	int		 closing;
};

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

bool settle_git_in_progress(const char *gitdir, double now)
{
	/* MERGE_HEAD and friends: a merge, cherry-pick or revert writes the
	 * work tree, then runs hooks and commits; one stopped for the user
	 * goes quiet like a stopped rebase. */
	static const char *const sequencers[] = {
		"rebase-merge", "rebase-apply", "MERGE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD",
		"sequencer", NULL,
	};
	char path[4096];
	struct stat st;

	if (gitdir == NULL)
		return false;
	snprintf(path, sizeof(path), "%sindex.lock", gitdir);
	if (stat(path, &st) == 0 &&
	    now - ((double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9) < INDEX_LOCK_STALE_S)
		return true;
	/* A rebase in motion rewrites its state directory at every step; one
	 * that stopped for the user (conflict, edit) goes quiet, and then the
	 * user's own edits should be checked again. */
	for (size_t i = 0; sequencers[i]; i++) {
		snprintf(path, sizeof(path), "%s%s", gitdir, sequencers[i]);
		if (stat(path, &st) == 0 &&
		    now - ((double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9) < SEQUENCER_IDLE_S)
			return true;
	}
	return false;
}

static void on_sigio(int sig)
{
	(void)sig;
}

/* A lease we hold is broken when someone opens the file for writing in the
 * moment we hold it, and the kernel tells us with SIGIO, whose default
 * action ends the process. A handler (not SIG_IGN, which children would
 * inherit across exec) makes it harmless; we release the lease at once
 * anyway. */
static void lease_signal_init(void)
{
	struct sigaction sa, old;

	if (sigaction(SIGIO, NULL, &old) != 0 || old.sa_handler != SIG_DFL)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigio;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGIO, &sa, NULL);
}

/* The lease probe proper, on a path (in dirfd) known to be a regular
 * file. */
static int lease_probe(int dirfd, const char *path)
{
	int fd, rc;

	/* O_NONBLOCK: never wait on someone else's lease */
	fd = openat(dirfd, path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? SETTLE_PROBE_GONE : SETTLE_PROBE_UNKNOWN;
	if (fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
		fcntl(fd, F_SETLEASE, F_UNLCK);
		rc = SETTLE_PROBE_NONE;
	} else if (errno == EAGAIN)
		rc = SETTLE_PROBE_WRITER;
	else
		rc = SETTLE_PROBE_UNKNOWN;	/* EACCES, EINVAL, ENOLCK: ask the events */
	close(fd);
	return rc;
}

int settle_writer_probe(const char *path)
{
	struct stat sb;

	if (lstat(path, &sb) < 0)
		return errno == ENOENT || errno == ENOTDIR ? SETTLE_PROBE_GONE : SETTLE_PROBE_UNKNOWN;
	if (!S_ISREG(sb.st_mode))
		return SETTLE_PROBE_NONE;	/* only a regular file has a writer */
	return lease_probe(AT_FDCWD, path);
}

static void on_debounce(uv_timer_t *t);
static void on_stable(uv_timer_t *t);
static void on_churn(uv_timer_t *t);

struct settle *settle_new(const struct settle_opts *o, settle_flush_fn *cb, void *arg)
{
	struct settle *st = xcalloc(1, sizeof(*st));

	lease_signal_init();
	st->o = *o;
	st->cb = cb;
	st->arg = arg;
	dirhold_init(&st->root_dir, o->root);
	st->root_fd = -1;
	uv_timer_init(o->loop, &st->debounce);
	uv_timer_init(o->loop, &st->stable);
	uv_timer_init(o->loop, &st->churn);
	st->debounce.data = st->stable.data = st->churn.data = st;
	return st;
}

static void arm(struct settle *st, uint64_t delay)
{
	uint64_t now = uv_now(st->o.loop);

	if (st->batch_start == 0)
		st->batch_start = now;
	if (st->draining)
		return;		/* the drain's next turn is due first, and takes all */
	/* under continuous churn, max_wait caps the wait since the first event */
	if (now + delay > st->batch_start + (uint64_t)st->o.max_wait_ms) {
		uint64_t cap = st->batch_start + (uint64_t)st->o.max_wait_ms;

		delay = cap > now ? cap - now : 0;
	}
	uv_timer_start(&st->debounce, on_debounce, delay, 0);
}

/* ROOT held open, checked once per loop turn for the events' looks (a
 * check is a stat of its own). */
static int root_fd_now(struct settle *st)
{
	uint64_t now = uv_now(st->o.loop);

	if (st->root_at != now || st->root_fd < 0) {
		st->root_fd = dirhold_fd(&st->root_dir);
		st->root_at = now;
	}
	return st->root_fd;
}

/* The first look a writer's close invites, taken as the close is handled
 * rather than once the path is quiet: whatever happens to the file later
 * (a write, a removal, a rename over it or of a directory above it) brings
 * an event of its own, which throws this stamp away. A burst's last
 * batch was looked at after the debounce, 2-5 ms of its tail; now its
 * lstats happen while the burst is still being written. Only regular
 * files: a link's look also checks its target. 0 when there is none. */
static uint64_t early_look(struct settle *st, const char *rel)
{
	int root_fd = root_fd_now(st);
	struct stat sb;

	if (root_fd < 0 || fstatat(root_fd, rel, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(sb.st_mode))
		return 0;
	return fstamp(&sb);
}

void settle_event(struct settle *st, const char *rel, unsigned what, uint64_t seq)
{
	settle_event_at(st, rel, what, seq, uv_now(st->o.loop));
}

void settle_event_at(struct settle *st, const char *rel, unsigned what, uint64_t seq,
    uint64_t when)
{
	struct pend *p = hmap_gets(&st->pend, rel);
	uint64_t now = uv_now(st->o.loop), quiet_at;

	if (p == NULL) {
		p = xcalloc(1, sizeof(*p));
		p->seq = seq;
		p->created = (what & WEV_CREATED) && !(what & WEV_RESCAN);
		hmap_puts(&st->pend, rel, p);
	}
	/* A probe in flight stays: stability is judged by the stamps (an
	 * event that changed nothing, like a touch of the same second, must
	 * not starve a batch under churn); an open writer still blocks it. */
	if (when > now)
		when = now;
	if (when > st->last_read)
		st->last_read = when;
	if (p->probing)
		p->evented = true;
	p->last_event = when;
	p->removed = (what & WEV_REMOVED) != 0;
	/* What the events say, for when no lease can ask the kernel: a
	 * listing saw no close, but has nothing better to go on either. */
	if (what & (WEV_MODIFIED | WEV_CREATED))
		p->writer_open = true;
	if (what & (WEV_CLOSED | WEV_REMOVED | WEV_RESCAN))
		p->writer_open = false;
	p->closed = (what & WEV_CLOSED) != 0;
	p->early = p->closed && !p->removed ? early_look(st, rel) : 0;
	if (st->o.closed)
		st->o.closed(st->arg, rel, p->early);
	quiet_at = when + (uint64_t)st->o.debounce_ms;
	arm(st, quiet_at > now ? quiet_at - now : 0);
	if (st->pend.n >= (st->churned ? CHURN_LATER_FILES : CHURN_MIN_FILES) &&
	    !uv_is_active((uv_handle_t *)&st->churn))
		uv_timer_start(&st->churn, on_churn, st->churned ? CHURN_LATER_MS : CHURN_MS, 0);
}

void settle_set_timing(struct settle *st, int debounce_ms, int max_wait_ms, int stability_ms,
    int writer_timeout_ms)
{
	st->o.debounce_ms = debounce_ms;
	st->o.max_wait_ms = max_wait_ms;
	st->o.stability_ms = stability_ms;
	st->o.writer_timeout_ms = writer_timeout_ms;
}

void settle_git_changed(struct settle *st, const char *name, bool gone)
{
	if (strcmp(name, "index.lock") == 0) {
		/* a removal with nothing pending: git wrote no work-tree file
		 * (a `git status` refreshing the index), and the next burst is
		 * not its */
		if (!gone || st->pend.n == 0)
			st->git_lock_seen = !gone;
		st->git_done_at = gone ? uv_now(st->o.loop) : 0;
	}
	if (st->git_busy && hmap_next(&st->pend, &(size_t){ 0 }) != NULL)
		uv_timer_start(&st->debounce, on_debounce, 0, 0);
}

/* One look at rel: its stamp, and p->writer_open brought up to date with
 * the kernel's answer where there is one (only a regular file can have a
 * writer). root_fd: ROOT held open (dirhold_fd), or -1 for an absolute
 * path. 0, -EINVAL for what is neither a file nor a symlink, or -errno. */
static int look(struct settle *st, int root_fd, const char *rel, struct pend *p,
    uint64_t *stamp)
{
	/* relative to ROOT held open, the kernel walks only the path below
	 * it: a look under a burst was a fifth path walk */
	char *abs = root_fd >= 0 ? NULL : xasprintf("%s/%s", st->o.root, rel);
	int dirfd = root_fd >= 0 ? root_fd : AT_FDCWD;
	const char *name = abs ? abs : rel;
	struct stat sb;
	int rc = fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;

	if (rc == 0 && !S_ISREG(sb.st_mode) && !S_ISLNK(sb.st_mode))
		rc = -EINVAL;
	/* a link to a directory or a loop is no gate input: as far as the
	 * gates go, the file is gone */
	if (rc == 0 && S_ISLNK(sb.st_mode) && walk_link_unfit(dirfd, name))
		rc = -ENOENT;
	if (rc == 0) {
		*stamp = fstamp(&sb);
		/* The writer whose close came last is done; a lease would
		 * only find a second writer that has not written yet (whose
		 * writes bring events of their own), for an open, two fcntl
		 * and a close: a third of a look under a burst. */
		if (!S_ISREG(sb.st_mode) || p->closed)
			p->writer_open = false;
		else {
			int probe = lease_probe(dirfd, name);

			if (probe == SETTLE_PROBE_NONE)
				p->writer_open = false;
			else if (probe == SETTLE_PROBE_WRITER)
				p->writer_open = true;
		}
	}
	free(abs);
	return rc;
}

/* Emits the ready and removed entries as one batch. */
struct ready {
	char		*path;		/* owned */
	uint64_t	 stamp;		/* verified by the second look */
};

static int cmp_ready(const void *a, const void *b)
{
	return strcmp(((const struct ready *)a)->path, ((const struct ready *)b)->path);
}

/* Removals go out once quiet since quiet_before (UINT64_MAX: all): one
 * still followed by events may be half of a save by rename. */
static void flush_ready(struct settle *st, bool only_removed, bool dropped,
    uint64_t quiet_before)
{
	struct strvec changed = STRVEC_INIT, removed = STRVEC_INIT;
	struct ready *ready = NULL;
	uint64_t seq = UINT64_MAX, t0;
	size_t it = 0, n = 0, alloc = 0;
	struct hmap_slot *s;

	while ((s = hmap_next(&st->pend, &it)) != NULL) {
		struct pend *p = s->val;

		if (p->removed) {
			if (p->last_event > quiet_before)
				continue;
			if (!p->created)
				strvec_push(&removed, s->key);
			else
				dropped = true;	/* a temp file that came and went */
		} else if (!only_removed && p->probing && p->ready) {
			ready = xgrow(ready, &alloc, n + 1, sizeof(*ready));
			ready[n].path = xstrdup(s->key);
			ready[n++].stamp = p->stamp1;
		} else
			continue;
		if (p->seq < seq)
			seq = p->seq;
		free(hmap_dels(&st->pend, s->key));
	}
	/* An emptied map gives its slots back: a map never shrinks, and a
	 * 20,000-file burst would keep 1 MiB of them for the daemon's life. */
	if (st->pend.n == 0)
		hmap_release(&st->pend);
	if (n == 0 && removed.n == 0) {
		/* entries may still have been dropped (not regular files any
		 * more): tell the owner, whose sync barrier may now be met */
		if (dropped)
			st->cb(st->arg, &changed, &removed, UINT64_MAX);
		return;
	}
	t0 = log_stage_start();
	if (n > 1)
		qsort(ready, n, sizeof(*ready), cmp_ready);
	strvec_sort(&removed);
	for (size_t i = 0; i < n; i++) {
		if (st->o.tree)
			tree_note(st->o.tree, ready[i].path, ready[i].stamp);
		strvec_push_owned(&changed, ready[i].path);
	}
	free(ready);
	log_stage("tree_note", n, t0);
	log_debug("batch: %zu changed, %zu removed", changed.n, removed.n);
	t0 = log_stage_start();
	st->cb(st->arg, &changed, &removed, seq);
	log_stage("dispatch", changed.n + removed.n, t0);
	strvec_clear(&changed);
	strvec_clear(&removed);
}

/* The first look at every entry not probing yet whose last event is not
 * later than quiet_before, at most max of them: gone ones are marked
 * removed, ones a writer holds wait (*next_writer: when the first may be
 * let through), the rest start probing. Returns how many were looked at. */
static size_t first_looks(struct settle *st, uint64_t now, uint64_t quiet_before, size_t max,
    bool *probing, bool *dropped, uint64_t *next_writer)
{
	size_t it = 0, looked = 0;
	struct hmap_slot *s;
	int root_fd = root_fd_now(st);

	while (looked < max && (s = hmap_next(&st->pend, &it)) != NULL) {
		struct pend *p = s->val;
		uint64_t stamp;
		int rc;

		if (p->probing || p->last_event > quiet_before)
			continue;
		if (p->early != 0 && p->closed) {
			stamp = p->early;	/* no event since: as good as a look */
			p->writer_open = false;
			rc = 0;
		} else
			rc = look(st, root_fd, s->key, p, &stamp);
		looked++;
		if (rc == -ENOENT || rc == -ENOTDIR) {
			p->removed = true;
			continue;
		}
		if (rc < 0) {
			/* not a regular file any more (a fifo, a directory) */
			free(hmap_dels(&st->pend, s->key));
			*dropped = true;
			continue;
		}
		if (p->writer_open &&
		    now - p->last_event < (uint64_t)st->o.writer_timeout_ms) {
			uint64_t due = p->last_event + (uint64_t)st->o.writer_timeout_ms;

			if (due < *next_writer)
				*next_writer = due;
			continue;
		}
		p->removed = false;
		p->stamp1 = stamp;
		p->look_at = now;
		p->probing = true;
		p->evented = false;
		*probing = true;
	}
	return looked;
}

static void on_debounce(uv_timer_t *t)
{
	struct settle *st = t->data;
	uint64_t now = uv_now(st->o.loop), next_writer = UINT64_MAX, t0;
	bool probing = false, dropped = false;
	size_t n;

	/* Events read but not handled yet are not quiet: their debounce
	 * counts from when they were read, and each re-arms this timer as it
	 * is handled. A loop behind a checkout that has finished would
	 * otherwise send the part it has seen as a batch of its own. */
	if (st->o.backlog && st->o.backlog(st->arg)) {
		uv_timer_start(&st->debounce, on_debounce, 1, 0);
		return;
	}
	st->git_busy = settle_git_in_progress(st->o.gitdir, wall_now());
	if (st->git_busy) {
		uv_timer_start(&st->debounce, on_debounce, GIT_RECHECK_MS, 0);
		return;
	}
	st->git_lock_seen = false;	/* git is done: this debounce takes all */
	st->churn_chain = false;	/* ... and the rest of a churn pass */
	t0 = log_stage_start();
	n = first_looks(st, now, UINT64_MAX, CHURN_MAX_FILES, &probing, &dropped, &next_writer);
	log_stage("settle_look1", n, t0);
	flush_ready(st, true, dropped, UINT64_MAX);
	st->batch_start = 0;
	st->churned = false;
	if (!st->draining)
		st->drain_start = now;
	if (n == CHURN_MAX_FILES &&
	    now - st->drain_start < (uint64_t)st->o.max_wait_ms) {
		/* The rest, if any, in the next turn (1 ms: a 0 ms timer
		 * started here would run in this same pass), so that one turn
		 * stays short. A turn that finds fewer left ends the drain;
		 * so does max_wait_ms, should new files keep coming faster
		 * than the turns take them. */
		uv_timer_start(&st->debounce, on_debounce, 1, 0);
		st->draining = true;
		return;
	}
	if (st->draining) {
		probing = true;		/* the earlier chunks' */
		st->draining = false;
	}
	if (probing)
		uv_timer_start(&st->stable, on_stable, (uint64_t)st->o.stability_ms, 0);
	else if (next_writer != UINT64_MAX) {
		/* only open writers left: come back when the first may close or
		 * time out; their next event re-arms us sooner */
		st->batch_start = 0;
		uv_timer_start(&st->debounce, on_debounce,
		    next_writer > now ? next_writer - now : 0, 0);
	}
}

/* A churn chain's last chunk is looked at: the stability timer, held
 * while the chain ran, starts now, so every chunk is stability_ms old when
 * it fires and the pass goes out as one batch. */
static void chain_end(struct settle *st)
{
	st->churn_chain = false;
	uv_timer_start(&st->stable, on_stable, (uint64_t)st->o.stability_ms, 0);
}

/* Events keep coming (the debounce timer is still pushed back): take out
 * the files that have been quiet for debounce_ms, when there are enough
 * of them to be worth a batch. A git operation in progress, or one that
 * took index.lock during this burst, holds everything back: on_debounce
 * waits for its end and takes the burst whole. */
static void on_churn(uv_timer_t *t)
{
	struct settle *st = t->data;
	uint64_t now = uv_now(st->o.loop), next_writer = UINT64_MAX, quiet_before, t0;
	size_t it = 0, quiet = 0, n;
	struct hmap_slot *s;
	bool probing = false, dropped = false;
	size_t min = st->churned ? CHURN_LATER_FILES : CHURN_MIN_FILES;

	/* Quiet now, by when the events were read (a loop behind may still
	 * be handling the last ones, of git's own directory say): the
	 * debounce takes everything. */
	if (!uv_is_active((uv_handle_t *)&st->debounce) || st->pend.n < min || st->draining ||
	    now - st->last_read >= (uint64_t)st->o.debounce_ms)
		return;
	uv_timer_start(&st->churn, on_churn, st->churned ? CHURN_LATER_MS : CHURN_MS, 0);
	quiet_before = now > (uint64_t)st->o.debounce_ms ? now - (uint64_t)st->o.debounce_ms : 0;
	while ((s = hmap_next(&st->pend, &it)) != NULL) {
		const struct pend *p = s->val;

		quiet += !p->probing && p->last_event <= quiet_before;
	}
	if (st->churn_chain && quiet == 0) {
		chain_end(st);	/* the last turn took the last chunk whole */
		return;
	}
	/* the chain's later turns take what is left, however little */
	if ((quiet < min && !st->churn_chain) || st->git_busy ||
	    settle_git_in_progress(st->o.gitdir, wall_now()))
		return;
	if (st->git_lock_seen) {
		if (st->git_done_at == 0 ||
		    now - st->git_done_at < (uint64_t)st->o.debounce_ms)
			return;
		st->git_lock_seen = false;	/* all git wrote is quiet: this pass takes it */
	}
	t0 = log_stage_start();
	n = first_looks(st, now, quiet_before, CHURN_MAX_FILES, &probing, &dropped, &next_writer);
	log_stage("settle_look1", n, t0);
	if (n == CHURN_MAX_FILES)
		/* Writes outpace a pass each CHURN_LATER_MS (at most 20,000
		 * files a second), or a checkout has just ended: the next turn
		 * takes the next chunk, or the rest would wait for the writes
		 * to stop. */
		uv_timer_start(&st->churn, on_churn, 1, 0);
	else if (!st->churned)
		uv_timer_start(&st->churn, on_churn, CHURN_LATER_MS, 0);
	st->churned = true;
	flush_ready(st, true, dropped, quiet_before);
	if (n == CHURN_MAX_FILES)
		st->churn_chain = true;		/* on_stable waits for the last chunk */
	else if (st->churn_chain)
		chain_end(st);
	else if (probing && !uv_is_active((uv_handle_t *)&st->stable))
		uv_timer_start(&st->stable, on_stable, (uint64_t)st->o.stability_ms, 0);
}

static void on_stable(uv_timer_t *t)
{
	struct settle *st = t->data;
	uint64_t now = uv_now(st->o.loop), next_due = UINT64_MAX, quiet_before = UINT64_MAX;
	uint64_t t0 = log_stage_start();
	size_t it = 0, looked = 0;
	struct hmap_slot *s;
	bool retry = false, dropped = false;
	int root_fd = root_fd_now(st);

	if (st->draining || st->churn_chain)
		return;		/* the drain's or chain's last turn starts this again */
	/* events still coming: a removal waits for quiet (flush_ready) */
	if (uv_is_active((uv_handle_t *)&st->debounce))
		quiet_before = now > (uint64_t)st->o.debounce_ms ?
		    now - (uint64_t)st->o.debounce_ms : 0;
	while ((s = hmap_next(&st->pend, &it)) != NULL) {
		struct pend *p = s->val;
		uint64_t stamp = 0;
		int rc;

		if (!p->probing)
			continue;
		p->ready = false;
		/* first looked by a later churn pass: not stability_ms ago yet */
		if (now - p->look_at < (uint64_t)st->o.stability_ms) {
			if (p->look_at + (uint64_t)st->o.stability_ms < next_due)
				next_due = p->look_at + (uint64_t)st->o.stability_ms;
			continue;
		}
		/* stability_ms 0: the two looks are no time apart, and the
		 * events say as much as a second lstat and lease: one read
		 * since the first look has the second look taken, one read
		 * after this flush makes a new entry and a batch of its own
		 * (as a write just after a second look would). Looking again
		 * was half the settle cost under churn, and 3 ms of the last
		 * batch's tail after a burst. */
		if (st->o.stability_ms == 0 && !p->evented) {
			p->ready = true;
			continue;
		}
		/* a writer may have opened it since the first look */
		rc = look(st, root_fd, s->key, p, &stamp);
		looked++;
		if (rc == -ENOENT || rc == -ENOTDIR) {
			p->removed = true;
			p->probing = false;
		} else if (rc < 0) {
			free(hmap_dels(&st->pend, s->key));
			dropped = true;
		} else if (stamp != p->stamp1 || (p->writer_open &&
		    uv_now(st->o.loop) - p->last_event < (uint64_t)st->o.writer_timeout_ms)) {
			/* still changing: take it round again */
			p->probing = false;
			p->stamp1 = p->early = 0;	/* changed with no event */
			if (st->o.closed)	/* nor will the close's stamp hold */
				st->o.closed(st->arg, s->key, 0);
			retry = true;
		} else
			p->ready = true;
	}
	log_stage("settle_look2", looked, t0);
	flush_ready(st, false, dropped, quiet_before);
	if (next_due != UINT64_MAX)
		uv_timer_start(&st->stable, on_stable, next_due > now ? next_due - now : 0, 0);
	if (retry || settle_pending(st) > 0) {
		if (!uv_is_active((uv_handle_t *)&st->debounce))
			arm(st, (uint64_t)st->o.debounce_ms);
	}
}

uint64_t settle_min_seq(const struct settle *st)
{
	uint64_t m = UINT64_MAX;
	size_t it = 0;
	struct hmap_slot *s;

	while (st != NULL && (s = hmap_next(&st->pend, &it)) != NULL) {
		const struct pend *p = s->val;

		if (p->seq < m)
			m = p->seq;
	}
	return m;
}

size_t settle_pending(const struct settle *st)
{
	return st ? st->pend.n : 0;
}

size_t settle_writers_open(const struct settle *st)
{
	size_t it = 0, n = 0;
	struct hmap_slot *s;

	while (st != NULL && (s = hmap_next(&st->pend, &it)) != NULL) {
		const struct pend *p = s->val;

		n += p->writer_open && !p->removed;
	}
	return n;
}

bool settle_git_busy(const struct settle *st)
{
	return st != NULL && st->git_busy;
}

static void on_closed(uv_handle_t *h)
{
	struct settle *st = h->data;
	size_t it = 0;
	struct hmap_slot *s;

	if (--st->closing > 0)
		return;
	while ((s = hmap_next(&st->pend, &it)) != NULL)
		free(s->val);
	hmap_release(&st->pend);
	dirhold_release(&st->root_dir);
	free(st);
}

void settle_stop(struct settle *st)
{
	if (st == NULL)
		return;
	st->closing = 3;
	uv_close((uv_handle_t *)&st->debounce, on_closed);
	uv_close((uv_handle_t *)&st->stable, on_closed);
	uv_close((uv_handle_t *)&st->churn, on_closed);
}
