/* `status --follow`: the daemon's event stream on stdout (status-follow.c). */
#ifndef WD_STATUS_FOLLOW_H
#define WD_STATUS_FOLLOW_H

#include <stdbool.h>

#include "cli.h"

/* Subscribes and writes every event until the daemon stops (json: as the
 * JSON lines it sends, else as text). Returns the exit code: 0 the daemon
 * stopped, 3 none runs, 4 dropped as too slow or the connection broke. */
int status_follow(struct cli_ctx *ctx, bool json);

#endif
