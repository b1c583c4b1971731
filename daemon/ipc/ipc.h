/* The daemon's Unix socket: where it lives, and the client side of the
 * protocol (one JSON object per line each way, "v": WATCHD_PROTO). The
 * server side is in server.c. */
#ifndef WD_IPC_H
#define WD_IPC_H

#include <cjson/cJSON.h>

#include "lib/err.h"

/* $XDG_RUNTIME_DIR/watchd (else /tmp/watchd-UID), created 0700 and
 * checked to be ours. malloc'ed path in *dir; 0 or negative code + err. */
int ipc_runtime_dir(char **dir, struct wd_err *err);
/* The same directory's path, neither created nor checked (what `doctor`
 * inspects). malloc'ed. */
char *ipc_runtime_path(void);
/* The socket path for ROOT (named by a hash of ROOT). The instance lock
 * lives in ROOT/.watchd/ (cli_lock_path), not here: a tmp cleaner may
 * remove this directory. */
int ipc_paths(const char *root, char **sock, struct wd_err *err);
/* ROOT's socket path in ipc_runtime_path(), nothing created. malloc'ed. */
char *ipc_socket_path(const char *root);
/* Sends req, waits up to timeout_ms for one reply line. 0 with *resp set,
 * WD_ENOTRUNNING when nothing listens, WD_ETIMEOUT, or another code. */
int ipc_request(const char *sock, const cJSON *req, int timeout_ms, cJSON **resp,
    struct wd_err *err);
/* Connects and sends req as one line, for a stream of lines in answer
 * (`status --follow`): the connected socket in *fd, the caller's to read
 * and close. 0, WD_ENOTRUNNING when nothing listens, or another code. */
int ipc_send(const char *sock, const cJSON *req, int *fd, struct wd_err *err);
/* `status --sync` is a barrier through the inotify queue: the daemon
 * creates a file of this name in ROOT and waits to see its event. The
 * watcher is told the prefix; ignore's built-in rules hide such files from
 * every gate. */
#define COOKIE_PREFIX ".watchd-cookie-"

/* Opens a connected socket to path (handles paths longer than sun_path). */
int ipc_connect(const char *path);

#endif
