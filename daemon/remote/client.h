/* The remote cache's HTTP side: GET, HEAD and PUT of named entries
 * ("ac/<hex>", "cas/<hex>") under a base URL, as Bazel's HTTP cache
 * protocol has them, on the caller's libuv loop (curl multi, never
 * blocking it). It knows nothing of records; it knows when the server is
 * failing: the first failure (no connection, a timeout, a 5xx or an
 * authorisation refusal) ends every request in flight and starts a
 * back-off (60 s, doubling up to an hour) during which nothing is asked,
 * kept in a state file so that one-shot commands share it. */
#ifndef WD_REMOTE_CLIENT_H
#define WD_REMOTE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "lib/buf.h"

struct remote_opts {
	const char	*url;		/* base, http(s)://host[:port][/prefix] */
	bool		 read, write;
	long		 timeout_ms;	/* per batch of reads, per request */
	const char	*token;		/* sent as a bearer token; NULL: none */
	const char	*state_path;	/* the back-off is kept here; NULL: memory */
};

/* How a failure is told: once per run (see remote_warn). */
typedef void remote_warn_fn(void *arg, const char *msg);

struct remote;

/* NULL (and *why set) when curl cannot be set up or the URL is not
 * http(s). Strings are copied. */
struct remote *remote_new(uv_loop_t *loop, const struct remote_opts *o, remote_warn_fn *warn,
    void *warn_arg, const char **why);
/* Ends every request (their callbacks run first); frees once libuv has
 * closed its handles. NULL-safe. */
void remote_free(struct remote *r);

/* The base URL without user name or password: for logs and the ledger. */
const char *remote_url(const struct remote *r);
bool remote_reads(const struct remote *r);
bool remote_writes(const struct remote *r);
/* True while backing off after a failure. */
bool remote_down(const struct remote *r);
/* When asking starts again (CLOCK_REALTIME ms), 0 while not backing off;
 * the last failure in *why (NULL when none). */
int64_t remote_retry_at(const struct remote *r, const char **why);

/* One reply of a batch of reads. */
struct remote_reply {
	int		 found;		/* 1: the body; 0: a miss (404); -1: not
					 * answered (down, failed, over the limit) */
	struct buf	 body;
};

struct remote_get;
/* Called once per batch, always from the loop, never from inside
 * remote_get or remote_get_abort. replies[i] answers names[i]; the batch
 * (and the replies) is freed when this returns. */
typedef void remote_got_fn(void *arg, struct remote_reply *replies, size_t n);

/* Asks for n entries at once (names copied), in parallel over a few
 * connections. The whole batch takes at most timeout_ms: what has not
 * answered by then is a failure. run_id names the run a warning is for. */
struct remote_get *remote_get(struct remote *r, const char *run_id, const char *const *names,
    size_t n, remote_got_fn *cb, void *arg);
/* The same within budget_ms (at most timeout_ms): the second step of a
 * lookup gets what the first left of the timeout. */
struct remote_get *remote_get_within(struct remote *r, const char *run_id,
    const char *const *names, size_t n, long budget_ms, remote_got_fn *cb, void *arg);
long remote_timeout_ms(const struct remote *r);
/* Ends the batch early; its callback still comes, soon, with what was not
 * answered as -1. */
void remote_get_abort(struct remote_get *g);

/* Stores data (taken) under name, queued behind other uploads; failures
 * are warned about for run_id and start the back-off. No-op (data freed)
 * unless writing, or while backing off. */
void remote_put(struct remote *r, const char *run_id, const char *name, struct buf *data);
/* Uploads not yet done. */
size_t remote_pending(const struct remote *r);
/* Runs loop until every upload is done: one-shot commands, which would
 * otherwise exit with uploads in flight. For a hook the time already
 * waited on reads counts against the timeout, so that a commit waits on
 * the server for at most timeout_ms in all; uploads left then are
 * dropped. Otherwise (CI) each upload is bounded by the timeout, and all
 * of them by ten minutes. NULL-safe. */
void remote_flush(struct remote *r, uv_loop_t *loop, bool hook);

/* Tells msg through the warn callback unless something was already told
 * for run_id: one warning per run, never one per file. */
void remote_warn(struct remote *r, const char *run_id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

struct remote_stats {
	uint64_t	 gets, hits, misses, puts, failures;
};
void remote_stats(const struct remote *r, struct remote_stats *out);

#endif
