/* Settle logic on a real loop and real files: debounce, max_wait under
 * churn, open writers, removal of transient files, git deferral. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "test.h"
#include "settle.h"
#include "strvec.h"
#include "watcher.h"
#include "xmalloc.h"

struct seen {
	int		batches;
	struct strvec	changed, removed;
	uint64_t	first_batch_at;
	uint64_t	seq;
	uv_loop_t	*loop;
};

static void on_flush(void *arg, const struct strvec *changed, const uint64_t *stamps,
    const struct strvec *removed, uint64_t seq)
{
	struct seen *s = arg;

	(void)stamps;
	if (s->batches++ == 0)
		s->first_batch_at = uv_now(s->loop);
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

static void close_writer(uv_timer_t *t)
{
	struct settle *st = t->data;

	settle_event(st, "slow.txt", WEV_MODIFIED | WEV_CLOSED, 9);
}

TEST_IMPL(settle_open_writer_waits_for_close)
{
	uv_loop_t loop;
	uv_timer_t t;
	struct seen s;
	char *root = mktree();
	struct settle *st;
	uint64_t t0;

	uv_loop_init(&loop);
	st = make(&loop, root, NULL, &s, 30, 2000);
	write_file(root, "slow.txt", "partial");
	t0 = uv_now(&loop);
	/* modified, never closed: a writer still holds it */
	settle_event(st, "slow.txt", WEV_CREATED | WEV_MODIFIED, 1);
	uv_timer_init(&loop, &t);
	t.data = st;
	uv_timer_start(&t, close_writer, 400, 0);
	run_until(&loop, &s, 1, 3000);
	uv_close((uv_handle_t *)&t, NULL);
	ASSERT_EQ(s.batches, 1);
	ASSERT(s.first_batch_at - t0 >= 400);	/* not before the close */
	ASSERT_EQ(s.changed.n, 1);
	finish(&loop, st, &s, root);
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
	settle_git_changed(st);
	run_until(&loop, &s, 1, 2000);
	ASSERT_EQ(s.batches, 1);
	ASSERT_EQ(s.changed.n, 1);
	ASSERT(!settle_git_in_progress(gitdir, (double)time(NULL)));
	free(lock);
	free(gitdir);
	finish(&loop, st, &s, root);
	return 0;
}
