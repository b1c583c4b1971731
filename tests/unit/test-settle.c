/* Settle logic on a real loop and real files: debounce, max_wait under
 * churn, open writers (asked of the kernel with a lease), removal of
 * transient files, git deferral. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "daemon/watch/event.h"
#include "daemon/watch/settle.h"
#include "daemon/watch/tree.h"
#include "lib/fstamp.h"
#include "lib/strvec.h"
#include "lib/xmalloc.h"
#include "test.h"

struct seen {
	int		batches;
	size_t		largest;	/* most changed files in one batch */
	struct strvec	changed, removed;
	uint64_t	first_batch_at;
	uint64_t	seq;
	uv_loop_t	*loop;
	bool		backlog;	/* what settle_opts.backlog answers */
	int		stall_ms;	/* > 0: from the second question on, a
					 * backlog for that long */
	uint64_t	stall_until;
	int		asked;
};

static bool seen_backlog(void *arg)
{
	struct seen *s = arg;

	if (s->stall_ms > 0 && s->asked++ == 1)
		s->stall_until = uv_now(s->loop) + (uint64_t)s->stall_ms;
	return s->backlog || uv_now(s->loop) < s->stall_until;
}

static void on_flush(void *arg, const struct strvec *changed, const struct strvec *removed,
    uint64_t seq)
{
	struct seen *s = arg;

	if (s->batches++ == 0)
		s->first_batch_at = uv_now(s->loop);
	if (changed->n > s->largest)
		s->largest = changed->n;
	strvec_pushv(&s->changed, changed);
	strvec_pushv(&s->removed, removed);
	s->seq = seq;
}

static char *mktree(void)
{
	char tmpl[] = "/tmp/wd-settle-XXXXXX";

	ASSERT_NOT_NULL(mkdtemp(tmpl));
	return xstrdup(tmpl);
}

static void write_file(const char *root, const char *rel, const char *data)
{
	char *p = xasprintf("%s/%s", root, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	ASSERT(fd >= 0);
	ASSERT_EQ(write(fd, data, strlen(data)), (long)strlen(data));
	close(fd);
	free(p);
}

/* Writes n files q0000.txt... and feeds their events (what), as read
 * ago_ms ago. */
static void new_files_what(uv_loop_t *loop, struct settle *st, const char *root, int n,
    uint64_t ago_ms, unsigned what)
{
	char name[32];

	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "q%04d.txt", i);
		write_file(root, name, name);
		settle_event_at(st, name, what, (uint64_t)i + 1, uv_now(loop) - ago_ms);
	}
}

/* ... the events of files written and closed */
static void new_files(uv_loop_t *loop, struct settle *st, const char *root, int n,
    uint64_t ago_ms)
{
	new_files_what(loop, st, root, n, ago_ms, WEV_CREATED | WEV_MODIFIED | WEV_CLOSED);
}

static void run_until(uv_loop_t *loop, struct seen *s, int batches, int max_ms)
{
	uint64_t end = uv_now(loop) + (uint64_t)max_ms;

	while (s->batches < batches && uv_now(loop) < end) {
		uv_run(loop, UV_RUN_ONCE);
		uv_update_time(loop);
	}
}

static struct settle *make(uv_loop_t *loop, const char *root, const char *gitdir,
    struct seen *s, int debounce, int max_wait)
{
	struct settle_opts o = {
		.loop = loop, .root = root, .gitdir = gitdir, .debounce_ms = debounce,
		.max_wait_ms = max_wait, .stability_ms = 20, .writer_timeout_ms = 5000,
		.backlog = seen_backlog,
	};

	memset(s, 0, sizeof(*s));
	s->loop = loop;
	return settle_new(&o, on_flush, s);
}

static void finish(uv_loop_t *loop, struct settle *st, struct seen *s, char *root)
{
	char *cmd = xasprintf("rm -rf '%s'", root);

	settle_stop(st);
	uv_run(loop, UV_RUN_DEFAULT);
	ASSERT_OK(uv_loop_close(loop));
	strvec_clear(&s->changed);
	strvec_clear(&s->removed);
	ASSERT_OK(system(cmd));
	free(cmd);
	free(root);
}

TEST_IMPL(settle_debounce_batches)
{
	uv_loop_t loop;
	struct seen s;
	char *root = mktree();
	struct settle *st;
	uint64_t t0;

	uv_loop_init(&loop);
	st = make(&loop, root, NULL, &s, 50, 2000);
	write_file(root, "a.txt", "a");
	write_file(root, "b.txt", "b");
	t0 = uv_now(&loop);
	settle_event(st, "a.txt", WEV_CREATED | WEV_MODIFIED | WEV_CLOSED, 1);
	settle_event(st, "b.txt", WEV_CREATED | WEV_MODIFIED | WEV_CLOSED, 2);
	settle_event(st, "a.txt", WEV_MODIFIED | WEV_CLOSED, 3);
	ASSERT_EQ(settle_min_seq(st), 1);
	run_until(&loop, &s, 1, 3000);
	ASSERT_EQ(s.batches, 1);			/* one batch for both files */
	ASSERT_EQ(s.changed.n, 2);
	ASSERT_STR_EQ(s.changed.v[0], "a.txt");
	ASSERT_STR_EQ(s.changed.v[1], "b.txt");
	ASSERT_EQ(s.seq, 1);
	ASSERT(s.first_batch_at - t0 >= 50);		/* not before the quiet time */
	ASSERT_EQ(settle_pending(st), 0);
	ASSERT_EQ(settle_min_seq(st), UINT64_MAX);
	finish(&loop, st, &s, root);
	return 0;
}

/* stability_ms 0: one look, and the events say whether the file changed
 * since; a write after the batch went out makes a batch of its own. */
TEST_IMPL(settle_stability_zero_relies_on_events)
{
	uv_loop_t loop;
	struct seen s;
	char *root = mktree();
	struct settle *st;

	uv_loop_init(&loop);
	st = make(&loop, root, NULL, &s, 30, 2000);
	settle_set_timing(st, 30, 2000, 0, 5000);
	write_file(root, "a.txt", "a");
	write_file(root, "b.txt", "b");
	settle_event(st, "a.txt", WEV_CREATED | WEV_MODIFIED | WEV_CLOSED, 1);
	settle_event(st, "b.txt", WEV_CREATED | WEV_MODIFIED | WEV_CLOSED, 2);
	run_until(&loop, &s, 1, 3000);
	ASSERT_EQ(s.batches, 1);
	ASSERT_EQ(s.changed.n, 2);
	ASSERT_EQ(settle_pending(st), 0);
	write_file(root, "a.txt", "aa");
	settle_event(st, "a.txt", WEV_MODIFIED | WEV_CLOSED, 3);
	run_until(&loop, &s, 2, 3000);
	ASSERT_EQ(s.batches, 2);
	ASSERT_EQ(s.changed.n, 3);
	ASSERT_STR_EQ(s.changed.v[2], "a.txt");
	ASSERT_EQ(s.seq, 3);
	ASSERT_EQ(settle_pending(st), 0);
	finish(&loop, st, &s, root);
	return 0;
}

/* An event seen earlier (read during the initial scan, replayed once the
 * loop runs) has its quiet time counted from when it was seen. */
TEST_IMPL(settle_event_at_counts_from_then)
{
	uv_loop_t loop;
	struct seen s;
	char *root = mktree();
	struct settle *st;
	uint64_t t0;

	uv_loop_init(&loop);
	st = make(&loop, root, NULL, &s, 3000, 10000);
	write_file(root, "a.txt", "a");
	uv_update_time(&loop);
	t0 = uv_now(&loop);
	/* seen 2.9 s ago: 100 ms of the 3 s debounce are left (the bound
	 * above is the whole debounce, far from any scheduling delay) */
	settle_event_at(st, "a.txt", WEV_CREATED | WEV_MODIFIED | WEV_CLOSED, 1, t0 - 2900);
	run_until(&loop, &s, 1, 6000);
	ASSERT_EQ(s.batches, 1);
	ASSERT(s.first_batch_at - t0 >= 100);
	ASSERT(s.first_batch_at - t0 < 3000);
	finish(&loop, st, &s, root);
	return 0;
}

/* A time ahead of the loop's counts as now: with a 300 ms debounce the
 * batch comes well inside the 6 s bound, where counting from the given
 * time (10 s ahead) would miss it. */
TEST_IMPL(settle_event_at_ahead_counts_as_now)
{
	uv_loop_t loop;
	struct seen s;
	char *root = mktree();
	struct settle *st;
	uint64_t t0;

	uv_loop_init(&loop);
	st = make(&loop, root, NULL, &s, 300, 10000);
	write_file(root, "b.txt", "b");
	uv_update_time(&loop);
	t0 = uv_now(&loop);
	settle_event_at(st, "b.txt", WEV_CREATED | WEV_MODIFIED | WEV_CLOSED, 1, t0 + 10000);
	run_until(&loop, &s, 1, 6000);
	ASSERT_EQ(s.batches, 1);
	ASSERT(s.first_batch_at - t0 >= 300);
	finish(&loop, st, &s, root);
	return 0;
}

static void churn(uv_timer_t *t)
{
	struct settle *st = t->data;
	static uint64_t n = 100;

	settle_event(st, "busy.txt", WEV_MODIFIED | WEV_CLOSED, ++n);
}

TEST_IMPL(settle_max_wait_under_churn)
{
	uv_loop_t loop;
	uv_timer_t t;
	struct seen s;
	char *root = mktree();
	struct settle *st;
	uint64_t t0;

	uv_loop_init(&loop);
	st = make(&loop, root, NULL, &s, 100, 300);
	write_file(root, "busy.txt", "x");
	uv_timer_init(&loop, &t);
	t.data = st;
	t0 = uv_now(&loop);
	settle_event(st, "busy.txt", WEV_MODIFIED | WEV_CLOSED, 1);
	uv_timer_start(&t, churn, 20, 20);	/* never 100 ms of quiet */
	run_until(&loop, &s, 1, 3000);
	uv_close((uv_handle_t *)&t, NULL);
	ASSERT_EQ(s.batches, 1);
	/* dispatched by max_wait (300) plus stability (20), long before 3 s */
	ASSERT(s.first_batch_at - t0 >= 300);
	ASSERT(s.first_batch_at - t0 < 1500);
	finish(&loop, st, &s, root);
	return 0;
}

/* A writer that never pauses for debounce_ms (a formatter, a generator):
 * once enough files have each been quiet for debounce_ms they go out as a
 * batch of their own, long before max_wait, while the busy one waits. */
TEST_IMPL(settle_churn_takes_quiet_files_out)
{
	uv_loop_t loop;
	uv_timer_t t;
	struct seen s;
	char *root = mktree();
	struct settle *st;
	uint64_t t0;

	uv_loop_init(&loop);
	st = make(&loop, root, NULL, &s, 100, 20000);
	write_file(root, "busy.txt", "x");
	new_files(&loop, st, root, 300, 0);
	/* removed while events still come: goes out only once quiet */
	settle_event(st, "gone.txt", WEV_REMOVED, 400);
	uv_timer_init(&loop, &t);
	t.data = st;
	t0 = uv_now(&loop);
	settle_event(st, "busy.txt", WEV_MODIFIED | WEV_CLOSED, 401);
	uv_timer_start(&t, churn, 20, 20);	/* never 100 ms of quiet */
	/* the removal goes out at the first look, the files after the
	 * second (as after a quiet debounce) */
	run_until(&loop, &s, 2, 5000);
	uv_close((uv_handle_t *)&t, NULL);
	ASSERT_EQ(s.batches, 2);
	ASSERT(s.first_batch_at - t0 < 5000);		/* not max_wait (20 s) */
	ASSERT_EQ(s.changed.n, 300);
	ASSERT_STR_EQ(s.changed.v[0], "q0000.txt");
	ASSERT_STR_EQ(s.changed.v[299], "q0299.txt");
	ASSERT_EQ(s.removed.n, 1);			/* quiet for 100 ms */
	ASSERT_STR_EQ(s.removed.v[0], "gone.txt");
	ASSERT_EQ(s.seq, 1);
	ASSERT_EQ(settle_pending(st), 1);		/* busy.txt still changing */
	/* quiet now: the busy one follows on its own */
	run_until(&loop, &s, 3, 5000);
	ASSERT_EQ(s.batches, 3);
	ASSERT_EQ(s.changed.n, 301);
	ASSERT_STR_EQ(s.changed.v[300], "busy.txt");
	ASSERT_EQ(settle_pending(st), 0);
	finish(&loop, st, &s, root);
	return 0;
}

/* A churn pass looks at no more than 1,024 files a turn (one loop turn
 * stays short); one that finds more quiet files takes the rest in the next
 * turns, and they go out together, each file once: a checkout that has
 * just ended beside a writer that never pauses is one run, not one per
 * 1,024 files. The files are ones no close was seen for, which need a look
 * (and a lease) each. */
static int churn_pass_of(size_t nfiles)
{
	uv_loop_t loop;
	uv_timer_t t;
	struct seen s;
	char *root = mktree();
	struct settle *st;
	uint64_t end;

	uv_loop_init(&loop);
	st = make(&loop, root, NULL, &s, 100, 20000);
	write_file(root, "busy.txt", "x");
	new_files_what(&loop, st, root, nfiles, 0, WEV_CREATED | WEV_MODIFIED);
	uv_timer_init(&loop, &t);
	t.data = st;
	settle_event(st, "busy.txt", WEV_MODIFIED | WEV_CLOSED, 2000);
	uv_timer_start(&t, churn, 20, 20);	/* never 100 ms of quiet */
	run_until(&loop, &s, 1, 5000);
	end = uv_now(&loop) + 5000;
	while (s.changed.n < nfiles && uv_now(&loop) < end) {
		uv_run(&loop, UV_RUN_ONCE);
		uv_update_time(&loop);
	}
	uv_close((uv_handle_t *)&t, NULL);
	ASSERT_EQ(s.changed.n, nfiles);
	ASSERT_EQ(s.largest, nfiles);	/* one batch, over more than one turn's looks */
	strvec_sort(&s.changed);
	for (size_t i = 1; i < s.changed.n; i++)
		ASSERT(strcmp(s.changed.v[i - 1], s.changed.v[i]) != 0);
	ASSERT_EQ(settle_pending(st), 1);		/* busy.txt still changing */
	finish(&loop, st, &s, root);
	return 0;
}

TEST_IMPL(settle_churn_passes_are_bounded)
{
	return churn_pass_of(1500);
}

/* The same with exactly one turn's looks: the next turn finds nothing left
 * and ends the chain (it used to wait for the debounce, which a writer that
 * never pauses held back until max_wait_ms). */
TEST_IMPL(settle_churn_pass_of_one_whole_turn)
{
	return churn_pass_of(1024);
}

/* Below the churn threshold a burst under churn stays one batch. */
TEST_IMPL(settle_small_burst_under_churn_is_one_batch)
{
	uv_loop_t loop;
	uv_timer_t t;
	struct seen s;
	char *root = mktree();
	struct settle *st;

	uv_loop_init(&loop);
	st = make(&loop, root, NULL, &s, 100, 600);
	write_file(root, "busy.txt", "x");
	new_files(&loop, st, root, 100, 0);
	uv_timer_init(&loop, &t);
	t.data = st;
	settle_event(st, "busy.txt", WEV_MODIFIED | WEV_CLOSED, 200);
	uv_timer_start(&t, churn, 20, 20);
	run_until(&loop, &s, 1, 5000);
	uv_close((uv_handle_t *)&t, NULL);
	ASSERT_EQ(s.batches, 1);			/* by max_wait, all together */
	ASSERT_EQ(s.changed.n, 101);
	finish(&loop, st, &s, root);
	return 0;
}

struct writer {
	struct settle	*st;
	int		 fd;
};

static void close_writer(uv_timer_t *t)
{
	struct writer *wr = t->data;

	close(wr->fd);
	wr->fd = -1;
	settle_event(wr->st, "slow.txt", WEV_MODIFIED | WEV_CLOSED, 9);
}

/* A writer holds slow.txt open with part of its content written and closes
 * it after close_ms; settle hears of the file through `what`. Exactly one
 * batch, never before the close. */
static void open_writer_case(unsigned what, int close_ms, bool needs_probe)
{
	uv_loop_t loop;
	uv_timer_t t;
	struct seen s;
	struct writer wr;
	char *root = mktree();
	char *path = xasprintf("%s/slow.txt", root);
	uint64_t t0;

	uv_loop_init(&loop);
	wr.st = make(&loop, root, NULL, &s, 30, 2000);
	wr.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ASSERT(wr.fd >= 0);
	ASSERT_EQ(write(wr.fd, "partial", 7), 7);
	if (needs_probe)	/* nothing but the kernel can tell settle here */
		ASSERT_EQ(settle_writer_probe(path), SETTLE_PROBE_WRITER);
	t0 = uv_now(&loop);
	settle_event(wr.st, "slow.txt", what, 1);
	uv_timer_init(&loop, &t);
	t.data = &wr;
	uv_timer_start(&t, close_writer, close_ms, 0);
	run_until(&loop, &s, 1, 3000);
	uv_close((uv_handle_t *)&t, NULL);
	ASSERT_EQ(s.batches, 1);
	ASSERT(s.first_batch_at - t0 >= (uint64_t)close_ms);	/* not before the close */
	ASSERT_EQ(s.changed.n, 1);
	if (needs_probe)
		ASSERT_EQ(settle_writer_probe(path), SETTLE_PROBE_NONE);
	free(path);
	finish(&loop, wr.st, &s, root);
}

TEST_IMPL(settle_open_writer_waits_for_close)
{
	open_writer_case(WEV_CREATED | WEV_MODIFIED, 400, false);
	return 0;
}

/* What a listing found carries no close; the kernel knows the writer. */
TEST_IMPL(settle_listed_file_with_open_writer_waits)
{
	open_writer_case(WEV_CREATED | WEV_RESCAN, 300, true);
	return 0;
}

/* IN_CREATE without a close to follow (a hard link, mknod): the probe
 * shows nobody writes it, so it goes out without waiting for the
 * writer timeout. */
TEST_IMPL(settle_created_without_writer_is_prompt)
{
	uv_loop_t loop;
	struct seen s;
	char *root = mktree();
	char *a = xasprintf("%s/a.txt", root), *b = xasprintf("%s/b.txt", root);
	struct settle *st;
	uint64_t t0;

	uv_loop_init(&loop);
	st = make(&loop, root, NULL, &s, 30, 2000);	/* writer timeout 5 s */
	write_file(root, "a.txt", "linked");
	ASSERT_OK(link(a, b));
	t0 = uv_now(&loop);
	settle_event(st, "b.txt", WEV_CREATED, 1);
	run_until(&loop, &s, 1, 4000);
	ASSERT_EQ(s.batches, 1);
	ASSERT(s.first_batch_at - t0 < 1000);
	ASSERT_STR_EQ(s.changed.v[0], "b.txt");
	free(a);
	free(b);
	finish(&loop, st, &s, root);
	return 0;
}

TEST_IMPL(settle_writer_probe_kinds)
{
	char *root = mktree();
	char *f = xasprintf("%s/f", root), *l = xasprintf("%s/l", root);
	char *q = xasprintf("%s/q", root), *none = xasprintf("%s/none", root);
	struct sigaction sa;
	int fd;

	write_file(root, "f", "x");
	ASSERT_EQ(settle_writer_probe(f), SETTLE_PROBE_NONE);
	fd = open(f, O_RDONLY);
	ASSERT_EQ(settle_writer_probe(f), SETTLE_PROBE_NONE);	/* readers are no writers */
	close(fd);
	fd = open(f, O_RDWR);
	ASSERT_EQ(settle_writer_probe(f), SETTLE_PROBE_WRITER);
	close(fd);
	ASSERT_EQ(settle_writer_probe(f), SETTLE_PROBE_NONE);
	ASSERT_OK(symlink("f", l));
	ASSERT_EQ(settle_writer_probe(l), SETTLE_PROBE_NONE);	/* links have no writer */
	ASSERT_OK(mkfifo(q, 0600));
	ASSERT_EQ(settle_writer_probe(q), SETTLE_PROBE_NONE);
	ASSERT_EQ(settle_writer_probe(none), SETTLE_PROBE_GONE);
	{
		/* settle installs a SIGIO handler: a broken lease must not kill */
		uv_loop_t loop;
		struct seen s;
		struct settle *st;

		uv_loop_init(&loop);
		st = make(&loop, root, NULL, &s, 30, 2000);
		ASSERT_OK(sigaction(SIGIO, NULL, &sa));
		ASSERT(sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN);
		ASSERT_OK(raise(SIGIO));
		settle_stop(st);
		uv_run(&loop, UV_RUN_DEFAULT);
		ASSERT_OK(uv_loop_close(&loop));
	}
	free(f);
	free(l);
	free(q);
	free(none);
	{
		char *cmd = xasprintf("rm -rf '%s'", root);

		ASSERT_OK(system(cmd));
		free(cmd);
	}
	free(root);
	return 0;
}

TEST_IMPL(settle_transient_and_removed)
{
	uv_loop_t loop;
	struct seen s;
	char *root = mktree();
	struct settle *st;

	uv_loop_init(&loop);
	st = make(&loop, root, NULL, &s, 30, 2000);
	/* a temp file created and gone within the batch: nobody hears of it */
	settle_event(st, "tmp123", WEV_CREATED | WEV_MODIFIED | WEV_CLOSED, 1);
	settle_event(st, "tmp123", WEV_REMOVED, 2);
	/* a file that existed before and is deleted: reported removed */
	settle_event(st, "old.txt", WEV_MODIFIED | WEV_CLOSED, 3);
	/* the rename-over target of an atomic save: reported changed */
	write_file(root, "saved.txt", "final");
	settle_event(st, "saved.txt", WEV_CREATED | WEV_CLOSED, 4);
	run_until(&loop, &s, 2, 2000);
	ASSERT_EQ(s.changed.n, 1);
	ASSERT_STR_EQ(s.changed.v[0], "saved.txt");
	ASSERT_EQ(s.removed.n, 1);
	ASSERT_STR_EQ(s.removed.v[0], "old.txt");
	finish(&loop, st, &s, root);
	return 0;
}

/* What the tree holds for rel: its stamp, 0 when unstamped, UINT64_MAX
 * when the tree has no such file. */
static uint64_t tree_stamp(const struct tree *t, const char *rel)
{
	const char *slash = strrchr(rel, '/');
	const struct tree_dir *d = tree_lookup(t, rel, slash ? (size_t)(slash - rel) : 0);
	long i = d ? dirents_find(&d->ents, slash ? slash + 1 : rel) : -1;

	return i >= 0 ? d->ents.v[i].stamp : UINT64_MAX;
}

static uint64_t disk_stamp(const char *root, const char *rel)
{
	char *p = xasprintf("%s/%s", root, rel);
	struct stat sb;

	ASSERT_OK(lstat(p, &sb));
	free(p);
	return fstamp(&sb);
}

struct dispatch {
	struct seen	 seen;
	struct tree	*tree;
	int		 stamped;	/* changed files already stamped in the tree */
	struct {			/* what settle_opts.closed was told, in order */
		char	 rel[32];
		uint64_t stamp;
	}		 told[16];
	int		 ntold;
};

static void on_closed(void *arg, const char *rel, uint64_t stamp)
{
	struct dispatch *d = arg;

	ASSERT(d->ntold < 16);
	snprintf(d->told[d->ntold].rel, sizeof(d->told[0].rel), "%s", rel);
	d->told[d->ntold++].stamp = stamp;
}

static void on_flush_tree(void *arg, const struct strvec *changed, const struct strvec *removed,
    uint64_t seq)
{
	struct dispatch *d = arg;

	for (size_t i = 0; i < changed->n; i++) {
		uint64_t st = tree_stamp(d->tree, changed->v[i]);

		if (st != 0 && st != UINT64_MAX)
			d->stamped++;
	}
	on_flush(&d->seen, changed, removed, seq);
}

/* A settle on a fresh loop whose batches are noted in a tree of d's. */
static struct settle *make_noting(uv_loop_t *loop, struct dispatch *d, const char *root,
    int stability_ms)
{
	struct settle_opts o = {
		.loop = loop, .root = root, .debounce_ms = 20, .max_wait_ms = 2000,
		.stability_ms = stability_ms, .writer_timeout_ms = 5000,
		.closed = on_closed,
	};

	uv_loop_init(loop);
	memset(d, 0, sizeof(*d));
	d->seen.loop = loop;
	d->tree = o.tree = tree_new();
	return settle_new(&o, on_flush_tree, d);
}

/* A batch goes out with the stamps its files had recorded in the tree
 * first, the one way settle talks back to the watch stage: a rescan then
 * reports only files changed since. */
TEST_IMPL(settle_records_dispatch_stamps)
{
	uv_loop_t loop;
	struct dispatch d;
	char *root = mktree(), *sub = xasprintf("%s/sub", root), *nodir = xasprintf("%s/nodir", root);
	struct settle *st = make_noting(&loop, &d, root, 20);
	struct tree_dir *top = d.tree->top;

	tree_add(top, "sub");
	tree_file_set(d.tree, top, "a.txt", 0);		/* listed, never looked at */
	ASSERT_OK(mkdir(sub, 0755));
	ASSERT_OK(mkdir(nodir, 0755));
	write_file(root, "a.txt", "a");
	write_file(root, "sub/b.txt", "b");
	write_file(root, "nodir/c.txt", "c");		/* a directory the tree lacks */
	settle_event(st, "a.txt", WEV_MODIFIED | WEV_CLOSED, 1);
	settle_event(st, "sub/b.txt", WEV_CREATED | WEV_CLOSED, 2);
	settle_event(st, "nodir/c.txt", WEV_CREATED | WEV_CLOSED, 3);
	run_until(&loop, &d.seen, 1, 3000);
	ASSERT_EQ(d.seen.batches, 1);
	ASSERT_EQ(d.seen.changed.n, 3);
	ASSERT_EQ(d.stamped, 2);			/* in the tree before the batch */
	ASSERT_EQ(tree_stamp(d.tree, "a.txt"), disk_stamp(root, "a.txt"));
	ASSERT_EQ(tree_stamp(d.tree, "sub/b.txt"), disk_stamp(root, "sub/b.txt"));
	ASSERT_EQ(tree_stamp(d.tree, "nodir/c.txt"), UINT64_MAX);
	ASSERT_EQ(d.tree->files, 2);
	finish(&loop, st, &d.seen, root);
	tree_free(d.tree);
	free(sub);
	free(nodir);
	return 0;
}

TEST_IMPL(settle_defers_during_git_operation)
{
	uv_loop_t loop;
	struct seen s;
	char *root = mktree();
	char *gitdir = xasprintf("%s/.git/", root);
	char *lock = xasprintf("%s/.git/index.lock", root);
	struct settle *st;
	int fd;

	uv_loop_init(&loop);
	ASSERT_OK(mkdir(gitdir, 0755));
	fd = open(lock, O_WRONLY | O_CREAT, 0644);
	ASSERT(fd >= 0);
	close(fd);
	ASSERT(settle_git_in_progress(gitdir, (double)time(NULL)));
	st = make(&loop, root, gitdir, &s, 20, 100);
	write_file(root, "f.c", "int x;");
	settle_event(st, "f.c", WEV_CREATED | WEV_MODIFIED | WEV_CLOSED, 1);
	run_until(&loop, &s, 1, 500);
	ASSERT_EQ(s.batches, 0);			/* held while index.lock exists */
	ASSERT(settle_git_busy(st));
	unlink(lock);
	settle_git_changed(st, "index.lock", true);
	run_until(&loop, &s, 1, 2000);
	ASSERT_EQ(s.batches, 1);
	ASSERT_EQ(s.changed.n, 1);
	ASSERT(!settle_git_in_progress(gitdir, (double)time(NULL)));
	{
		/* a merge that writes the work tree, then runs its hooks */
		char *mh = xasprintf("%s/.git/MERGE_HEAD", root);

		fd = open(mh, O_WRONLY | O_CREAT, 0644);
		ASSERT(fd >= 0);
		close(fd);
		ASSERT(settle_git_in_progress(gitdir, (double)time(NULL)));
		/* one that stopped for the user goes quiet: edits count again */
		ASSERT(!settle_git_in_progress(gitdir, (double)time(NULL) + 60));
		unlink(mh);
		free(mh);
	}
	free(lock);
	free(gitdir);
	finish(&loop, st, &s, root);
	return 0;
}

/* Events the loop has not handled yet keep a batch back, however long ago
 * the ones it has handled were read: a loop behind a finished checkout
 * would otherwise send the part it has seen as a batch of its own. */
TEST_IMPL(settle_waits_for_unhandled_events)
{
	uv_loop_t loop;
	struct seen s;
	char *root = mktree();
	struct settle *st;


	uv_loop_init(&loop);
	st = make(&loop, root, NULL, &s, 20, 10000);
	s.backlog = true;
	/* read long ago: quiet by their own stamps, and enough of them for a
	 * churn pass, which must not take them either (the writes are over) */
	new_files(&loop, st, root, 300, 1000);
	run_until(&loop, &s, 1, 300);
	ASSERT_EQ(s.batches, 0);
	s.backlog = false;
	run_until(&loop, &s, 1, 3000);
	ASSERT_EQ(s.batches, 1);
	ASSERT_EQ(s.changed.n, 300);
	finish(&loop, st, &s, root);
	return 0;
}

/* The git directory's events come in order with the work tree's: an
 * index.lock created and not yet removed in them holds churn passes back
 * even when the disk has no lock any more (the loop is behind). */
TEST_IMPL(settle_churn_holds_while_events_show_a_git_lock)
{
	uv_loop_t loop;
	uv_timer_t t;
	struct seen s;
	char *root = mktree();
	char *gitdir = xasprintf("%s/.git/", root);
	struct settle *st;

	uv_loop_init(&loop);
	ASSERT_OK(mkdir(gitdir, 0755));
	st = make(&loop, root, gitdir, &s, 50, 20000);
	settle_git_changed(st, "index.lock", false);
	write_file(root, "busy.txt", "x");
	new_files(&loop, st, root, 300, 0);
	uv_timer_init(&loop, &t);
	t.data = st;
	settle_event(st, "busy.txt", WEV_MODIFIED | WEV_CLOSED, 401);
	uv_timer_start(&t, churn, 10, 10);	/* never 50 ms of quiet */
	run_until(&loop, &s, 1, 400);
	ASSERT_EQ(s.batches, 0);			/* 300 quiet files held back */
	settle_git_changed(st, "index.lock", true);
	run_until(&loop, &s, 1, 5000);
	uv_close((uv_handle_t *)&t, NULL);
	ASSERT_EQ(s.batches, 1);
	ASSERT_EQ(s.changed.n, 300);
	free(gitdir);
	finish(&loop, st, &s, root);
	return 0;
}

/* A quiet burst bigger than one turn's looks goes out as one batch (one
 * run), even when the loop is held up between its turns for longer than
 * stability_ms. */
TEST_IMPL(settle_quiet_burst_is_one_batch_across_slow_turns)
{
	uv_loop_t loop;
	struct seen s;
	char *root = mktree();
	struct settle *st;

	uv_loop_init(&loop);
	st = make(&loop, root, NULL, &s, 20, 10000);
	s.stall_ms = 200;	/* the second turn of the drain waits */
	new_files(&loop, st, root, 3000, 0);
	run_until(&loop, &s, 1, 5000);
	ASSERT(s.asked > 2);
	ASSERT_EQ(s.batches, 1);
	ASSERT_EQ(s.changed.n, 3000);
	run_until(&loop, &s, 2, 300);
	ASSERT_EQ(s.batches, 1);
	finish(&loop, st, &s, root);
	return 0;
}

/* A writer's close that came last says the file is complete: settle does
 * not ask the kernel about other writers (one that has not written yet
 * brings events of its own when it does), and the file goes out with no
 * wait for a second process that still holds it open. */
TEST_IMPL(settle_close_event_is_trusted)
{
	uv_loop_t loop;
	struct seen s;
	char *root = mktree();
	char *path = xasprintf("%s/f.txt", root);
	struct settle *st;
	int fd;

	uv_loop_init(&loop);
	st = make(&loop, root, NULL, &s, 20, 2000);
	write_file(root, "f.txt", "done");
	fd = open(path, O_WRONLY);		/* a second writer, idle */
	ASSERT(fd >= 0);
	ASSERT_EQ(settle_writer_probe(path), SETTLE_PROBE_WRITER);
	settle_event(st, "f.txt", WEV_MODIFIED | WEV_CLOSED, 1);
	run_until(&loop, &s, 1, 1000);
	ASSERT_EQ(s.batches, 1);
	ASSERT_EQ(s.changed.n, 1);
	close(fd);
	free(path);
	finish(&loop, st, &s, root);
	return 0;
}

/* A writer's close is looked at as it is handled (a burst's last batch
 * then needs no lstat after the debounce), and any later event throws that
 * look away: a removal goes out as a removal, a second close's stamp is the
 * one noted. A change no event reports is missed by the first look as it
 * would be at the debounce; the second look (stability_ms) catches it.
 * The scheduler (settle_opts.closed) hears of each look and each event. */
TEST_IMPL(settle_close_is_looked_at_when_handled)
{
	uv_loop_t loop;
	struct dispatch d;
	char *root = mktree(), *gone = xasprintf("%s/gone.txt", root);
	struct settle *st = make_noting(&loop, &d, root, 0);
	uint64_t closed_at, gone_at, first_at;

	write_file(root, "gone.txt", "g");
	write_file(root, "twice.txt", "1");
	write_file(root, "quiet.txt", "q");
	gone_at = disk_stamp(root, "gone.txt");
	first_at = disk_stamp(root, "twice.txt");
	settle_event(st, "gone.txt", WEV_MODIFIED | WEV_CLOSED, 1);
	settle_event(st, "twice.txt", WEV_CREATED | WEV_CLOSED, 2);
	settle_event(st, "quiet.txt", WEV_CREATED | WEV_CLOSED, 3);
	closed_at = disk_stamp(root, "quiet.txt");
	ASSERT_OK(unlink(gone));
	settle_event(st, "gone.txt", WEV_REMOVED, 4);
	write_file(root, "twice.txt", "second, longer");
	settle_event(st, "twice.txt", WEV_MODIFIED | WEV_CLOSED, 5);
	write_file(root, "quiet.txt", "changed with no event");
	run_until(&loop, &d.seen, 2, 3000);
	/* the scheduler heard of each close with its look, and of the removal */
	ASSERT_EQ(d.ntold, 5);
	ASSERT_STR_EQ(d.told[0].rel, "gone.txt");
	ASSERT_EQ(d.told[0].stamp, gone_at);
	ASSERT_EQ(d.told[1].stamp, first_at);
	ASSERT_EQ(d.told[2].stamp, closed_at);
	ASSERT_STR_EQ(d.told[3].rel, "gone.txt");
	ASSERT_EQ(d.told[3].stamp, 0);
	ASSERT_STR_EQ(d.told[4].rel, "twice.txt");
	ASSERT_EQ(d.told[4].stamp, disk_stamp(root, "twice.txt"));
	ASSERT_EQ(d.seen.batches, 2);			/* the removal goes first */
	ASSERT_EQ(d.seen.changed.n, 2);			/* quiet.txt, twice.txt */
	ASSERT_EQ(d.seen.removed.n, 1);
	ASSERT_STR_EQ(d.seen.removed.v[0], "gone.txt");
	ASSERT_EQ(tree_stamp(d.tree, "twice.txt"), disk_stamp(root, "twice.txt"));
	ASSERT_EQ(tree_stamp(d.tree, "quiet.txt"), closed_at);
	ASSERT(tree_stamp(d.tree, "quiet.txt") != disk_stamp(root, "quiet.txt"));
	finish(&loop, st, &d.seen, root);
	tree_free(d.tree);
	free(gone);
	return 0;
}

/* ... and with stability_ms, the second look sees the change the events
 * missed and takes the file round again, with a look of its own. */
TEST_IMPL(settle_second_look_catches_change_after_close)
{
	uv_loop_t loop;
	struct dispatch d;
	char *root = mktree();
	struct settle *st = make_noting(&loop, &d, root, 30);

	write_file(root, "quiet.txt", "q");
	settle_event(st, "quiet.txt", WEV_MODIFIED | WEV_CLOSED, 1);
	write_file(root, "quiet.txt", "changed with no event");
	run_until(&loop, &d.seen, 1, 3000);
	ASSERT_EQ(d.seen.batches, 1);
	ASSERT_EQ(d.seen.changed.n, 1);
	/* the close's stamp is void, though no event said so */
	ASSERT_EQ(d.ntold, 2);
	ASSERT(d.told[0].stamp != 0);
	ASSERT_EQ(d.told[1].stamp, 0);
	ASSERT_EQ(tree_stamp(d.tree, "quiet.txt"), disk_stamp(root, "quiet.txt"));
	finish(&loop, st, &d.seen, root);
	tree_free(d.tree);
	return 0;
}
