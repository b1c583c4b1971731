/* libcurl's multi interface driven by a libuv loop: curl says which sockets
 * to watch and when to wake it, libuv watches, and no call ever waits on
 * the network. Requests are easy handles the caller configures; this file
 * owns them only between curluv_add and their done callback. */
#ifndef WD_CURLUV_H
#define WD_CURLUV_H

#include <stdbool.h>
#include <stddef.h>

#include "curlapi.h"
#include <uv.h>

struct curluv;

/* Called once per added request, on the loop thread, after the handle has
 * left the multi: the caller owns easy again (and cleans it up). rc is
 * curl's result (CURLE_ABORTED_BY_CALLBACK when cancelled), status the
 * HTTP status or 0. */
typedef void curluv_done_fn(CURL *easy, CURLcode rc, long status, void *arg);

/* NULL (and *why) when libcurl cannot be loaded or set up. max_conns
 * bounds the connections open at once (0: curl's default); the requests
 * beyond wait in curl's queue. */
struct curluv *curluv_new(uv_loop_t *loop, long max_conns, const char **why);
/* Starts easy. CURLOPT_PRIVATE is taken. 0, or -1 when the multi refused
 * it (done is then not called). */
int curluv_add(struct curluv *cu, CURL *easy, curluv_done_fn *done, void *arg);
/* Ends one request (added, not yet done) at once: its done is called with
 * CURLE_ABORTED_BY_CALLBACK before this returns. */
void curluv_cancel(struct curluv *cu, CURL *easy);
/* Ends every request at once, each done called with
 * CURLE_ABORTED_BY_CALLBACK. */
void curluv_cancel_all(struct curluv *cu);
/* Requests added and not yet done. */
size_t curluv_active(const struct curluv *cu);
/* Cancels what runs and frees everything once libuv has closed its
 * handles (the loop must run on for that). NULL-safe. */
void curluv_free(struct curluv *cu);

#endif
