/* loopwake: sends from another thread wake the loop, coalesce into one
 * callback while none has started, and a send during the callback brings
 * another; closing calls the close callback once and takes the eventfd. */
#include <fcntl.h>
#include <stdatomic.h>
#include <unistd.h>

#include <uv.h>

#include "lib/loopwake.h"
#include "test.h"

struct got {
	int	 calls;
	int	 resend;	/* sends to make from the callback */
	int	 closed;
};

static void on_wake(struct loopwake *lw)
{
	struct got *g = lw->data;

	g->calls++;
	if (g->resend > 0) {
		g->resend--;
		loopwake_send(lw);	/* from the loop thread itself */
	}
}

static void on_close(uv_handle_t *h)
{
	((struct got *)h->data)->closed++;
}

static void sender(void *arg)
{
	for (int i = 0; i < 1000; i++)
		loopwake_send(arg);
}

TEST_IMPL(loopwake_wakes_coalesces_and_closes)
{
	uv_loop_t loop;
	struct loopwake lw = { 0 };
	struct got g = { 0 };
	uv_thread_t t;
	int fd;

	ASSERT_OK(uv_loop_init(&loop));
	loopwake_close(&lw, on_close, &g);	/* never made: nothing */
	ASSERT_EQ(g.closed, 0);
	ASSERT_OK(loopwake_init(&loop, &lw, on_wake, &g));
	fd = lw.fd;
	ASSERT_OK(uv_thread_create(&t, sender, &lw));
	ASSERT_OK(uv_thread_join(&t));
	/* 1,000 sends before the loop ran: one callback */
	ASSERT_EQ(uv_run(&loop, UV_RUN_NOWAIT), 1);
	ASSERT_EQ(g.calls, 1);
	ASSERT_EQ(uv_run(&loop, UV_RUN_NOWAIT), 1);
	ASSERT_EQ(g.calls, 1);			/* nothing sent since */
	g.resend = 2;
	loopwake_send(&lw);
	for (int i = 0; i < 5; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	ASSERT_EQ(g.calls, 4);			/* one, then one per send made in it */
	loopwake_close(&lw, on_close, &g);
	loopwake_close(&lw, on_close, &g);	/* closed already: nothing */
	ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
	ASSERT_EQ(g.closed, 1);
	ASSERT(fcntl(fd, F_GETFD) < 0);		/* the eventfd went with it */
	ASSERT_OK(uv_loop_close(&loop));
	return 0;
}

/* Every send is followed by a callback that starts after it, however the
 * sender and the loop interleave: a callback that cleared the pending flag
 * before it read the eventfd could consume a later send's write and leave
 * the flag set, and no send would ever wake the loop again. */
struct race {
	struct loopwake	 lw;
	atomic_uint	 sent;
	unsigned	 seen;
	uint64_t	 end;		/* uv_hrtime deadline */
};

static void on_race(struct loopwake *lw)
{
	struct race *r = lw->data;

	r->seen = atomic_load(&r->sent);
}

static void race_sender(void *arg)
{
	struct race *r = arg;

	for (unsigned i = 0; i < 200000; i++) {
		atomic_fetch_add(&r->sent, 1);
		loopwake_send(&r->lw);
	}
}

/* a wake-up lost for good would leave the loop waiting: this ends it */
static void on_check(uv_timer_t *t)
{
	struct race *r = t->data;

	if (r->seen == 200000 || uv_hrtime() > r->end)
		uv_stop(t->loop);
}

TEST_IMPL(loopwake_loses_no_wake)
{
	uv_loop_t loop;
	uv_timer_t check;
	struct race r = { 0 };
	uv_thread_t t;

	ASSERT_OK(uv_loop_init(&loop));
	atomic_init(&r.sent, 0);
	r.end = uv_hrtime() + 20 * 1000000000ULL;
	ASSERT_OK(loopwake_init(&loop, &r.lw, on_race, &r));
	uv_timer_init(&loop, &check);
	check.data = &r;
	uv_timer_start(&check, on_check, 10, 10);
	ASSERT_OK(uv_thread_create(&t, race_sender, &r));
	uv_run(&loop, UV_RUN_DEFAULT);
	ASSERT_OK(uv_thread_join(&t));
	ASSERT_EQ(r.seen, 200000);
	uv_close((uv_handle_t *)&check, NULL);
	loopwake_close(&r.lw, NULL, NULL);
	ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
	ASSERT_OK(uv_loop_close(&loop));
	return 0;
}
