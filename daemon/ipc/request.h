/* What a client may ask the daemon: one JSON object per line, decoded and
 * bounded here before any handler sees it, so a hostile client's numbers
 * or types never reach the daemon's logic. Pure: no loop, no socket. */
#ifndef WD_IPC_REQUEST_H
#define WD_IPC_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

enum ipc_cmd {
	IPC_UNKNOWN = 0,
	IPC_STATUS,
	IPC_STOP,
	IPC_RESCAN,
	IPC_PING,
	IPC_SUBSCRIBE,	/* status --follow: the event stream */
};

#define IPC_SYNC_MAX_MS	86400000	/* a day: longer waits are refused */

struct ipc_request {
	enum ipc_cmd	 cmd;
	bool		 sync;		/* status: wait until settled and gated */
	int		 timeout_ms;	/* status --sync: 0 = the default */
};

/* Decodes one request object. 0, or -1 with *why a static reason ("unknown
 * command", "timeout_ms: expected a number of milliseconds"). */
int ipc_request_decode(const cJSON *msg, struct ipc_request *req, const char **why);

/* Parses one line (without its newline) as the server does and decodes
 * it: -1 with *why when it is not a JSON object or not a valid request. */
int ipc_request_parse(const char *line, size_t len, struct ipc_request *req,
    const char **why);

#endif
