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
