/* The inotify reader: a thread that drains the kernel's event queue into
 * one of ours, and the loop side that takes events out of it.
 *
 * Why a thread: the kernel queue holds max_queued_events (16384 by
 * default, 1024 on some systems) and drops everything after, which costs a
 * rescan. A formatter or a branch switch writes tens of thousands of files
 * a second, and one loop turn that settles, hashes or records a batch can
 * take tens of milliseconds: long enough to fill a small queue. The thread
 * does nothing but read, so the kernel queue is emptied while the loop is
 * busy, as Watchman does; what the loop has not handled yet waits in our
 * queue, which has no limit but memory.
 *
 * Invariants:
 *  - the thread only polls, reads, and appends to q (and sets err) under
 *    the mutex; it never touches the watcher's other state, and prints
 *    nothing;
 *  - q holds chunks: a struct chunk header (the monotonic time of the read,
 *    in loop milliseconds) then whole inotify records, so each event's
 *    debounce counts from when it was read, not from when the loop got to
 *    it. That also covers the initial scan, which blocks the loop: the
 *    events of that time are handled first thing after it;
 *  - the loop handles at most TURN_BYTES of records per turn and wakes
 *    itself for the rest, so a backlog of 20,000 events never holds the
 *    loop (clients, timers) for more than a moment;
 *  - the test hook WATCHD_TEST_TURN_MS has the loop take one chunk a turn
 *    and then sleep that long, as a loop busy elsewhere would fall behind;
 *  - the test hook WATCHD_TEST_QUEUE_MAX plays a kernel queue of that many
 *    events: records read since the kernel queue was last empty beyond it
 *    are dropped here, where the kernel would drop them, and one
 *    IN_Q_OVERFLOW record takes their place. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "watcher-internal.h"

#define READ_BYTES	65536		/* one read(2) */
#define TURN_BYTES	131072		/* records handled per loop turn */
/* A queue buffer above this is freed once empty: a frozen loop's 16,384
 * events are 0.8 MB, which stayed through the batch they became, at the
 * daemon's peak. Two reads' worth is what a busy tree needs. */
#define KEEP_BYTES	(2 * READ_BYTES)
#define THREAD_STACK	(128 * 1024)
#define COALESCE_MS	1		/* a burst's reads this far apart */
#define SLICE_NS	100000		/* 0.1 ms, the shortest the kernel takes */

struct chunk {
	uint64_t	 read_ms;	/* loop clock (uv_hrtime / 1e6) at the read */
	uint32_t	 len;		/* bytes of records that follow */
	uint32_t	 pad;		/* keeps the records 8-byte aligned */
};

/* Records in one read's n bytes. */
static uint64_t records(const char *buf, size_t n)
{
	uint64_t k = 0;

	for (size_t at = 0; at < n; k++)
		at += sizeof(struct inotify_event) + ((const struct inotify_event *)(buf + at))->len;
	return k;
}

/* Drops what a kernel queue of test_queue_max events would have dropped,
 * compacting buf in place; returns the new length. seen: the events read
 * since the kernel queue was last empty, before this read's. */
static size_t play_small_queue(struct reader *r, char *buf, size_t n, uint64_t seen)
{
	size_t out = 0;

	for (size_t at = 0; at < n;) {
		const struct inotify_event *ev = (const struct inotify_event *)(buf + at);
		size_t sz = sizeof(*ev) + ev->len;

		/* IN_IGNORED is kept: it frees a watch descriptor */
		if (++seen > (uint64_t)r->test_queue_max && !(ev->mask & IN_IGNORED)) {
			if (!r->overflowed) {
				struct inotify_event ov = { .wd = -1, .mask = IN_Q_OVERFLOW };

				/* sz >= sizeof(ov): the record it replaces is at least as long */
				memcpy(buf + out, &ov, sizeof(ov));
				out += sizeof(ov);
				r->overflowed = true;
			}
			at += sz;
			continue;
		}
		if (out != at)
			memmove(buf + out, buf + at, sz);
		out += sz;
		at += sz;
	}
	return out;
}

/* sched_setattr(2)'s argument, as far as SCHED_OTHER reads it (glibc
 * declares no wrapper before 2.41) */
struct slice_attr {
	uint32_t	 size, policy;
	uint64_t	 flags;
	int32_t		 nice;
	uint32_t	 priority;
	uint64_t	 runtime, deadline, period;
};

/* Asks the scheduler for a short time slice for this thread. Since Linux
 * 6.12 (EEVDF) a waking thread with a shorter slice than the running one
 * takes the core at once; with the default slice it may wait out the
 * running thread's, while a writer at 130,000 events a second fills a
 * 1,024-event kernel queue in 8 ms. Measured on two cores, 20,000
 * rewrites at full speed, queue 1,024: 5 runs of 17 overflowed without
 * it (4 of 6 when the hashing threads were niced, which gave the writer
 * more of the cores), none of 11 with it. Needs no privilege and costs
 * nothing (the thread runs for microseconds a wake-up); an older kernel
 * ignores or refuses it, and the thread stays as it was. */
static void short_slice(void)
{
	struct slice_attr a = { .size = sizeof(a), .policy = SCHED_OTHER,
				.runtime = SLICE_NS };

	(void)syscall(SYS_sched_setattr, 0, &a, 0);
}

/* Reads until the kernel queue is empty, handing each read to the loop:
 * the events read (0: none were waiting), or -1 with *err set. */
static int64_t drain(struct reader *r, int *err)
{
	int64_t got = 0;

	for (;;) {
		ssize_t n = read(r->fd, r->scratch, READ_BYTES);
		uint64_t seen, k;
		struct chunk c;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN) {
				*err = errno;
				return -1;
			}
			r->drained = 0;
			r->overflowed = false;
			return got;
		}
		seen = r->drained;
		k = records(r->scratch, (size_t)n);
		got += (int64_t)k;
		r->drained += k;
		/* a read takes all that waits (READ_BYTES holds some 2,000
		 * events): the depth the queue had reached */
		if (k > r->most)
			r->most = k;
		if (r->test_queue_max > 0)
			n = (ssize_t)play_small_queue(r, r->scratch, (size_t)n, seen);
		c = (struct chunk){ .read_ms = uv_hrtime() / 1000000 + 1, .len = (uint32_t)n };
		uv_mutex_lock(&r->mu);
		buf_add(&r->q, &c, sizeof(c));
		buf_add(&r->q, r->scratch, (size_t)n);
		uv_mutex_unlock(&r->mu);
		/* coalesced: one callback for many sends */
		loopwake_send(&r->to_loop);
	}
}

static void reader_main(void *arg)
{
	struct reader *r = arg;
	struct pollfd pfd[2] = {
		{ .fd = r->fd, .events = POLLIN },
		{ .fd = r->wake, .events = POLLIN },
	};
	sigset_t all;
	int err = 0, rc;
	int64_t got;

	/* named for top -H, perf and /proc (the tests find it by name) */
	pthread_setname_np(pthread_self(), "watchd-inotify");
	short_slice();
	/* signals are the loop's (uv_signal); this thread never takes one */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			break;
		}
		if (pfd[1].revents)
			break;
		/* Let a burst gather: one read and one wake-up of the loop per
		 * COALESCE_MS rather than per event (the thread woke and woke
		 * the loop for each of a formatter's 30,000 events, half again
		 * the daemon's CPU). An event waits that much longer, against a
		 * debounce of tens of ms. While the burst lasts the thread
		 * sleeps and reads, and polls the inotify fd again only once a
		 * read finds nothing: one wake-up a cycle, not two (the poll's,
		 * an event after the last read, then the sleep's). Each wake-up
		 * is a chance to wait for the next tick behind the writer or
		 * the loop thread, when the scheduler does not let it preempt
		 * (perf sched: up to 4.5 ms on a 250 Hz guest, while a full-speed
		 * writer fills a 1,024-event queue in 8). */
		do {
			rc = poll(&pfd[1], 1, COALESCE_MS);
			if (rc < 0 && errno != EINTR)
				err = errno;
			if (rc > 0 || err)
				goto out;
			got = drain(r, &err);
		} while (got > 0);
		if (got < 0)
			break;
	}
out:
	/* the loop logs it: this thread prints nothing */
	if (err) {
		uv_mutex_lock(&r->mu);
		r->err = err;
		uv_mutex_unlock(&r->mu);
		loopwake_send(&r->to_loop);
	}
}

static void on_chunks(struct loopwake *lw)
{
	struct watcher *w = lw->data;
	struct reader *r = &w->rd;
	size_t budget = TURN_BYTES;
	bool more = true;
	int err;

	uv_mutex_lock(&r->mu);
	if (r->off == r->work.len) {
		struct buf t = r->q;

		buf_reset(&r->work);
		r->off = 0;
		r->q = r->work;
		r->work = t;
	}
	err = r->err;
	uv_mutex_unlock(&r->mu);
	while (r->off < r->work.len && budget > 0) {
		struct chunk c;

		memcpy(&c, r->work.buf + r->off, sizeof(c));
		w->read_ms = c.read_ms;
		events_handle(w, r->work.buf + r->off + sizeof(c), c.len);
		w->read_ms = 0;
		r->off += sizeof(c) + c.len;
		budget = budget > c.len ? budget - c.len : 0;
		if (r->test_turn_ms > 0) {
			/* test hook: one chunk a turn, then the loop is busy
			 * elsewhere, so it falls behind the thread */
			struct timespec ts = { r->test_turn_ms / 1000,
					       (long)(r->test_turn_ms % 1000) * 1000000L };

			nanosleep(&ts, NULL);
			break;
		}
	}
	if (r->off == r->work.len) {
		if (r->work.alloc > KEEP_BYTES) {
			buf_release(&r->work);	/* a burst's high water, not kept */
			r->off = 0;
		}
		/* A send of the thread's while this callback was pending was
		 * folded into it, and what that send announced is in q, not
		 * in work: look, or it waits for the next event. */
		uv_mutex_lock(&r->mu);
		more = r->q.len > 0;
		uv_mutex_unlock(&r->mu);
	}
	if (more)
		loopwake_send(&r->to_loop);	/* the rest next turn */
	if (err && !r->err_logged) {
		r->err_logged = true;
		errno = err;
		log_warn("inotify reader stopped: no more events are read");
	}
	events_after(w);
}

int reader_start(struct watcher *w)
{
	struct reader *r = &w->rd;
	uv_thread_options_t opt = { .flags = UV_THREAD_HAS_STACK_SIZE,
				    .stack_size = THREAD_STACK };
	int e;

	/* the handle and the mutex first: whatever fails after, the caller
	 * closes the handle and reader_release frees the rest */
	r->fd = w->fd;
	buf_init(&r->q);
	buf_init(&r->work);
	uv_mutex_init(&r->mu);
	r->scratch = xmalloc(READ_BYTES);
	if ((e = loopwake_init(w->loop, &r->to_loop, on_chunks, w)) < 0)
		return e;
	r->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->wake < 0)
		return -errno;
	e = uv_thread_create_ex(&r->tid, &opt, reader_main, r);
	if (e < 0)
		return e;
	r->running = true;
	return 0;
}

size_t reader_queued(struct watcher *w)
{
	struct reader *r = &w->rd;
	size_t n;

	if (r->scratch == NULL)
		return 0;
	uv_mutex_lock(&r->mu);
	n = r->q.len;
	uv_mutex_unlock(&r->mu);
	return n;
}

bool watcher_backlog(struct watcher *w)
{
	struct reader *r = &w->rd;
	bool more;

	if (r->scratch == NULL)
		return false;
	if (r->off < r->work.len)
		return true;
	uv_mutex_lock(&r->mu);
	more = r->q.len > 0;
	uv_mutex_unlock(&r->mu);
	return more;
}

void reader_stop(struct watcher *w)
{
	struct reader *r = &w->rd;
	uint64_t one = 1;

	if (!r->running)
		return;
	r->running = false;
	if (write(r->wake, &one, sizeof(one)) != sizeof(one))
		log_warn("inotify reader: wake");
	uv_thread_join(&r->tid);
	/* the headroom left below max_queued_events (make bench reads it) */
	log_info("inotify reader: at most %llu events waited in the kernel queue",
	    (unsigned long long)r->most);
}

void reader_release(struct watcher *w)
{
	struct reader *r = &w->rd;

	if (r->wake >= 0)
		close(r->wake);
	r->wake = -1;
	if (r->scratch == NULL)
		return;		/* never started */
	uv_mutex_destroy(&r->mu);
	free(r->scratch);
	r->scratch = NULL;
	buf_release(&r->q);
	buf_release(&r->work);
}
