/* Cross-thread loop wake-ups over an eventfd: see loopwake.h for why not
 * uv_async_t. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "loopwake.h"

static void on_poll(uv_poll_t *p, int status, int events)
{
	struct loopwake *lw = (struct loopwake *)((char *)p - offsetof(struct loopwake, poll));
	uint64_t n;

	(void)status;
	(void)events;
	/* The eventfd is read first, then the flag cleared: a send whose
	 * exchange found the flag set comes before this exchange, and the
	 * callback below sees what it left; a send after it finds the flag
	 * clear and writes, which brings the next callback. (Cleared first,
	 * the read could take the write of a send that set the flag again
	 * meanwhile: the flag stayed set with nothing to read, and no send
	 * ever woke the loop again.) */
	while (read(lw->fd, &n, sizeof(n)) < 0 && errno == EINTR)
		;
	atomic_exchange(&lw->pending, 0);
	lw->cb(lw);
}

int loopwake_init(uv_loop_t *loop, struct loopwake *lw, loopwake_cb *cb, void *data)
{
	int rc;

	lw->cb = cb;
	lw->data = data;
	atomic_init(&lw->pending, 0);
	lw->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (lw->fd < 0)
		return -errno;
	if ((rc = uv_poll_init(loop, &lw->poll, lw->fd)) != 0) {
		close(lw->fd);
		lw->fd = -1;
		return rc;
	}
	lw->made = true;
	/* fails only for an fd another handle polls, never a new eventfd */
	if ((rc = uv_poll_start(&lw->poll, UV_READABLE, on_poll)) != 0) {
		loopwake_close(lw, NULL, NULL);
		return rc;
	}
	return 0;
}

void loopwake_send(struct loopwake *lw)
{
	uint64_t one = 1;

	if (atomic_exchange(&lw->pending, 1) != 0)
		return;		/* a wake is on its way and has not started */
	while (write(lw->fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

void loopwake_close(struct loopwake *lw, uv_close_cb close_cb, void *close_data)
{
	if (!lw->made)
		return;
	lw->made = false;
	lw->poll.data = close_data;
	/* uv_close takes the fd out of epoll at once: it may go now */
	uv_close((uv_handle_t *)&lw->poll, close_cb);
	if (lw->fd >= 0)
		close(lw->fd);
	lw->fd = -1;
}
