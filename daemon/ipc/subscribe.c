/* Event subscribers: each is a connection the socket server handed over
 * (its own uv_pipe on a dup of the client's fd), written one JSON line per
 * event and read only to notice the peer leaving.
 *
 * Nothing here ever waits for a reader. libuv writes what the socket takes
 * at once and queues the rest; the queue's size is the subscriber's lag.
 * Before an event goes out, a subscriber whose queue holds more than
 * SUBSCRIBE_QUEUE_MAX bytes is sent {"event":"lagged"} instead, and is
 * ended: a shutdown is queued behind that line, and the connection closes
 * once it is written, when the peer leaves, or after SUBSCRIBE_LAG_MS,
 * whichever comes first. The same ending, with a shorter grace, follows the
 * last event when the daemon stops. A subscriber's memory goes in the
 * close callback of the last of its two handles. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/utf8.h"
#include "lib/xmalloc.h"
#include "subscribe.h"

struct sub {
	uv_pipe_t		 pipe;
	uv_timer_t		 grace;		/* ends the ending */
	uv_shutdown_t		 shut;
	struct subscribers	*s;
	int			 open;		/* handles not yet closed */
	bool			 ending;	/* sent its last line */
	bool			 closed;	/* uv_close called */
	struct sub		*next;
};

struct subscribers {
	uv_loop_t	*loop;
	struct sub	*list;		/* every sub not yet closed */
	int		 live;		/* subs not yet freed */
	bool		 closing;
};

struct wreq {
	uv_write_t	 req;
	char		 data[];
};

struct subscribers *subscribe_new(uv_loop_t *loop)
{
	struct subscribers *s = xcalloc(1, sizeof(*s));

	s->loop = loop;
	return s;
}

static void maybe_free_hub(struct subscribers *s)
{
	if (s->closing && s->live == 0)
		free(s);
}

static void on_closed(uv_handle_t *h)
{
	struct sub *sub = h->data;
	struct subscribers *s = sub->s;

	if (--sub->open > 0)
		return;
	free(sub);
	s->live--;
	maybe_free_hub(s);
}

static void sub_close(struct sub *sub)
{
	if (sub->closed)
		return;
	sub->closed = true;
	for (struct sub **pp = &sub->s->list; *pp; pp = &(*pp)->next) {
		if (*pp == sub) {
			*pp = sub->next;
			break;
		}
	}
	/* pending writes and the shutdown are cancelled before on_closed */
	uv_close((uv_handle_t *)&sub->pipe, on_closed);
	uv_close((uv_handle_t *)&sub->grace, on_closed);
}

static void on_written(uv_write_t *w, int status)
{
	(void)status;
	free(w);
}

/* Queues line (n bytes, ending in '\n'); a failure ends the subscriber. */
static void sub_write(struct sub *sub, const char *line, size_t n)
{
	struct wreq *w = xmalloc(sizeof(*w) + n);
	uv_buf_t b;

	memcpy(w->data, line, n);
	b = uv_buf_init(w->data, (unsigned)n);
	if (uv_write(&w->req, (uv_stream_t *)&sub->pipe, &b, 1, on_written) != 0) {
		free(w);
		sub_close(sub);
	}
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	struct sub *sub = req->data;

	/* UV_ECANCELED: the handle is closing already */
	if (status != UV_ECANCELED)
		sub_close(sub);
}

static void on_grace(uv_timer_t *t)
{
	sub_close(t->data);
}

/* After its last line: closes once that is written, or after ms. */
static void sub_end(struct sub *sub, uint64_t ms)
{
	if (sub->closed)
		return;
	uv_timer_start(&sub->grace, on_grace, ms, 0);
	if (sub->ending)
		return;
	sub->ending = true;
	sub->shut.data = sub;
	if (uv_shutdown(&sub->shut, (uv_stream_t *)&sub->pipe, on_shutdown) != 0)
		sub_close(sub);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	static char buf[512];

	(void)h;
	(void)hint;
	b->base = buf;
	b->len = sizeof(buf);
}

/* A subscriber says nothing after subscribing; what it sends is dropped.
 * Only its leaving matters. */
static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	(void)b;
	if (n < 0)
		sub_close(st->data);
}

/* One line for cJSON object ev, malloc'ed; *n its length. */
static char *line_of(const cJSON *ev, size_t *n)
{
	cJSON *copy = cJSON_Duplicate(ev, 1);
	char *s, *line;

	utf8_repair_json(copy);
	s = cJSON_PrintUnformatted(copy);
	cJSON_Delete(copy);
	line = xasprintf("%s\n", s ? s : "{}");
	cJSON_free(s);
	*n = strlen(line);
	return line;
}

int subscribe_add(struct subscribers *s, int fd, const cJSON *first)
{
	struct sub *sub;
	char *line;
	size_t n;
	int rc;

	if (s->closing) {
		close(fd);
		return UV_ECANCELED;
	}
	sub = xcalloc(1, sizeof(*sub));
	sub->s = s;
	uv_pipe_init(s->loop, &sub->pipe, 0);
	uv_timer_init(s->loop, &sub->grace);
	sub->pipe.data = sub->grace.data = sub;
	sub->open = 2;
	s->live++;
	sub->next = s->list;
	s->list = sub;
	if ((rc = uv_pipe_open(&sub->pipe, fd)) != 0) {
		close(fd);
		sub_close(sub);
		return rc;
	}
	if ((rc = uv_read_start((uv_stream_t *)&sub->pipe, on_alloc, on_read)) != 0) {
		sub_close(sub);
		return rc;
	}
	if (first) {
		line = line_of(first, &n);
		sub_write(sub, line, n);
		free(line);
	}
	return 0;
}

size_t subscribe_count(const struct subscribers *s)
{
	size_t n = 0;

	if (s == NULL)
		return 0;
	for (const struct sub *sub = s->list; sub; sub = sub->next)
		n += !sub->ending;
	return n;
}

/* The lagged line a dropped subscriber ends with. */
static void lag(struct sub *sub, size_t waiting)
{
	cJSON *ev = cJSON_CreateObject();
	char *line;
	size_t n;

	cJSON_AddStringToObject(ev, "event", "lagged");
	cJSON_AddNumberToObject(ev, "queued_bytes", (double)waiting);
	cJSON_AddStringToObject(ev, "message",
	    "dropped: events were not read fast enough; subscribe again and resync "
	    "with `watchd status --json`");
	line = line_of(ev, &n);
	cJSON_Delete(ev);
	log_warnx("dropped an event subscriber %zu bytes behind", waiting);
	sub_write(sub, line, n);
	free(line);
	sub_end(sub, SUBSCRIBE_LAG_MS);
}

void subscribe_publish(struct subscribers *s, const cJSON *ev)
{
	char *line = NULL;
	size_t n = 0;

	if (s == NULL || s->closing)
		return;
	for (struct sub *sub = s->list, *next; sub; sub = next) {
		size_t waiting;

		next = sub->next;	/* a failed write unlinks sub */
		if (sub->ending)
			continue;
		waiting = uv_stream_get_write_queue_size((uv_stream_t *)&sub->pipe);
		if (waiting > SUBSCRIBE_QUEUE_MAX) {
			lag(sub, waiting);
			continue;
		}
		if (line == NULL)
			line = line_of(ev, &n);
		sub_write(sub, line, n);
	}
	free(line);
}

void subscribe_close(struct subscribers *s, const cJSON *last)
{
	char *line = NULL;
	size_t n = 0;

	if (s == NULL)
		return;
	if (last)
		line = line_of(last, &n);
	for (struct sub *sub = s->list, *next; sub; sub = next) {
		next = sub->next;
		if (!sub->ending && line)
			sub_write(sub, line, n);
		sub_end(sub, SUBSCRIBE_CLOSE_MS);
	}
	free(line);
	s->closing = true;
	maybe_free_hub(s);
}
