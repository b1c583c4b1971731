/* Loop stalls, for the watcher benchmark (WATCHD_BENCH_STAGES=1): how long
 * each turn of the loop spent outside the kernel's poll, i.e. how long the
 * inotify fd, the socket and the timers waited behind the daemon's own
 * work. A turn of STALL_LOG_US or more is logged ("loop busy N us"); the
 * bench draws the histogram. Off, nothing is started. */
#include <uv.h>

#include "daemon-internal.h"
#include "lib/log.h"

#define STALL_LOG_US 1000

static void on_prepare(uv_prepare_t *h)
{
	struct daemon *d = h->data;
	uint64_t now = uv_hrtime(), idle = uv_metrics_idle_time(h->loop), busy;

	/* from the last turn's prepare to this one, minus the time blocked
	 * in epoll_wait in between */
	busy = (now - d->stall_ns) - (idle - d->stall_idle_ns);
	if (d->stall_ns && busy >= (uint64_t)STALL_LOG_US * 1000)
		log_info("loop busy %llu us", (unsigned long long)(busy / 1000));
	d->stall_ns = now;
	d->stall_idle_ns = idle;
}

void stall_watch_start(struct daemon *d)
{
	if (!log_stages || uv_loop_configure(d->loop, UV_METRICS_IDLE_TIME) != 0)
		return;
	uv_prepare_init(d->loop, &d->stall);
	d->stall.data = d;
	uv_prepare_start(&d->stall, on_prepare);
	uv_unref((uv_handle_t *)&d->stall);	/* never what keeps the loop alive */
	d->stall_on = true;
}

void stall_watch_stop(struct daemon *d)
{
	if (d->stall_on)
		uv_close((uv_handle_t *)&d->stall, NULL);
	d->stall_on = false;
}
