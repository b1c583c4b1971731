/* The daemon's socket server: accepts local clients of the same uid, reads
 * one JSON object per line and hands it to a handler, which replies at
 * once or later (status --sync). A client that does not read its replies
 * is paused, then closed (backpressure: see server.c). */
#ifndef WD_SERVER_H
#define WD_SERVER_H

#include <stdbool.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "lib/err.h"

struct server;
struct client;

/* msg is borrowed for the call. The handler must call server_reply once
 * for c, now or later; c stays valid until then even if the peer left. */
typedef void server_handler_fn(struct client *c, const cJSON *msg, void *arg);

int server_start(uv_loop_t *loop, const char *sock_path, server_handler_fn *fn, void *arg,
    struct server **out, struct wd_err *err);
/* Sends resp (takes ownership) as one line and releases c. */
void server_reply(struct client *c, cJSON *resp);
/* Hands c's connection over instead of replying (`status --follow`
 * subscribers): returns a duplicate of its socket, or a negative code, and
 * releases c as server_reply would. */
int server_detach(struct client *c);
/* Gives up the reply owed to c without computing one: for a late reply
 * whose peer already left (server_client_gone). */
void server_release(struct client *c);
/* True when the peer already hung up. */
int server_client_gone(const struct client *c);
/* True while the listener is bound and its path still names it. */
bool server_socket_ok(const struct server *s);
/* When the socket's path no longer names our socket (the directory was
 * removed, or the file unlinked), binds a new listener there (closing the
 * old one first); clients stay connected. The caller makes sure the
 * directory exists. A failure is logged; call again to retry. */
void server_rebind(struct server *s);
/* Closes the listener and every client; unlinks the socket while the path
 * still names ours. */
void server_stop(struct server *s);

#endif
