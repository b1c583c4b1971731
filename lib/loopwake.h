/* A wake-up of a libuv loop from other threads, in place of uv_async_t:
 * an eventfd the loop polls.
 *
 * Why not uv_async_t. At every wake, libuv 1.44 (Debian 12's) has the loop
 * wait out each async handle whose sender is between its two atomic steps
 * around the write that wakes the loop: 997 pauses, then sched_yield, then
 * again. A sender the kernel preempts in that gap (one at SCHED_IDLE always
 * is, by the very loop thread its write woke) kept the loop spinning: a
 * fifth of the daemon's CPU during a burst of changes. Here a send is one
 * atomic exchange and, when no wake is pending yet, one write: there is no
 * state for the loop to wait out.
 *
 * Like uv_async_t, sends coalesce: one callback for any number of sends
 * made before it starts, and a send made while it runs brings another. */
#ifndef WD_LOOPWAKE_H
#define WD_LOOPWAKE_H

#include <stdatomic.h>
#include <stdbool.h>

#include <uv.h>

struct loopwake;
typedef void loopwake_cb(struct loopwake *lw);

struct loopwake {
	uv_poll_t	 poll;		/* poll.data: loopwake_close's callback's */
	int		 fd;		/* eventfd; -1 once closed */
	bool		 made;		/* poll is a handle to close */
	atomic_int	 pending;	/* a wake is on its way */
	loopwake_cb	*cb;
	void		*data;		/* the owner's */
};

/* Starts polling; 0 or -errno (nothing to close then; were the poll to
 * fail to start, the handle is closed here and lw must outlive the loop's
 * next turn). Loop thread. */
int loopwake_init(uv_loop_t *loop, struct loopwake *lw, loopwake_cb *cb, void *data);
/* Any thread, the loop's too; async-signal-safe. */
void loopwake_send(struct loopwake *lw);
/* Loop thread, once no other thread can send: the handle closes (close_cb
 * gets the poll handle, whose data is close_data) and the eventfd with it.
 * A loopwake never made (zeroed memory, or loopwake_init failed) or closed
 * already: nothing, and close_cb is not called. */
void loopwake_close(struct loopwake *lw, uv_close_cb close_cb, void *close_data);

#endif
