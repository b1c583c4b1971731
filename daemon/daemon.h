/* The daemon: wires watcher → settle → scheduler → ledger and serves the
 * socket. Runs in the foreground of the calling process. */
#ifndef WD_DAEMON_H
#define WD_DAEMON_H

#include "daemon/cli/cli.h"

/* Runs until stopped (SIGTERM, SIGINT, `watchd stop`). ready_fd >= 0: write
 * "ok\n" there once watching and serving, or "error <code> <message>\n" on
 * a startup failure, then close it. log_path NULL: the foreground (log to
 * stderr, and print each finished run with its findings on stdout).
 * Returns an exit code. */
int daemon_main(struct cli_ctx *ctx, int ready_fd, const char *log_path);

/* Builds the status object from the ledger alone ("running": false). */
cJSON *daemon_offline_status(struct cli_ctx *ctx);

#endif
