/* The daemon's event subscribers (`status --follow`): connections taken
 * over from the socket server, each sent every event as one JSON line. A
 * subscriber never holds the daemon up: one with more than
 * SUBSCRIBE_QUEUE_MAX bytes still waiting to be written (a reader that
 * stopped reading) gets a last {"event":"lagged"} line and is dropped.
 * Everything runs on the loop thread. */
#ifndef WD_SUBSCRIBE_H
#define WD_SUBSCRIBE_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <uv.h>

#define SUBSCRIBE_QUEUE_MAX	(1 << 20)	/* bytes waiting per subscriber */
#define SUBSCRIBE_LAG_MS	30000		/* a dropped one's lagged line may
						 * wait this long to be read */
#define SUBSCRIBE_CLOSE_MS	2000		/* at stop, the same for the last line */

struct subscribers;

struct subscribers *subscribe_new(uv_loop_t *loop);
/* Makes the connected socket fd (ownership taken, closed on failure) a
 * subscriber and sends it first (borrowed). 0 or a negative libuv code. */
int subscribe_add(struct subscribers *s, int fd, const cJSON *first);
/* Subscribers being sent events (not the dropped ones). */
size_t subscribe_count(const struct subscribers *s);
/* Sends ev (borrowed) to every subscriber, dropping those that lag. */
void subscribe_publish(struct subscribers *s, const cJSON *ev);
/* Sends last (borrowed, may be NULL), then closes every subscriber once
 * what it was sent is written, or after SUBSCRIBE_CLOSE_MS; s frees
 * itself when the last has closed. s must not be used afterwards.
 * NULL-safe. */
void subscribe_close(struct subscribers *s, const cJSON *last);

#endif
