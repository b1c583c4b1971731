/* Decoding of socket requests: every field's type and range is checked
 * here, once (a timeout of 1e300 or -5 is refused, not cast). */
#include <math.h>
#include <string.h>

#include "daemon/ipc/request.h"

static const struct {
	const char	*name;
	enum ipc_cmd	 cmd;
} cmds[] = {
	{ "status", IPC_STATUS },
	{ "stop", IPC_STOP },
	{ "rescan", IPC_RESCAN },
	{ "ping", IPC_PING },
	{ "subscribe", IPC_SUBSCRIBE },
};

int ipc_request_decode(const cJSON *msg, struct ipc_request *req, const char **why)
{
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(msg, "cmd");
	const cJSON *sync, *tmo;

	memset(req, 0, sizeof(*req));
	if (!cJSON_IsObject(msg)) {
		*why = "bad request: expected a JSON object";
		return -1;
	}
	if (!cJSON_IsString(cmd)) {
		*why = "unknown command";
		return -1;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmd->valuestring, cmds[i].name) == 0)
			req->cmd = cmds[i].cmd;
	if (req->cmd == IPC_UNKNOWN) {
		*why = "unknown command";
		return -1;
	}
	if (req->cmd != IPC_STATUS)
		return 0;
	sync = cJSON_GetObjectItemCaseSensitive(msg, "sync");
	tmo = cJSON_GetObjectItemCaseSensitive(msg, "timeout_ms");
	req->sync = cJSON_IsTrue(sync);
	if (tmo && !cJSON_IsNull(tmo)) {
		double v = cJSON_IsNumber(tmo) ? tmo->valuedouble : NAN;

		if (!isfinite(v) || v < 1 || v > IPC_SYNC_MAX_MS) {
			*why = "timeout_ms: expected a number of milliseconds from 1 to 86400000";
			return -1;
		}
		req->timeout_ms = (int)v;
	}
	return 0;
}

int ipc_request_parse(const char *line, size_t len, struct ipc_request *req,
    const char **why)
{
	const char *end = NULL;
	cJSON *msg = cJSON_ParseWithLengthOpts(line, len, &end, 0);
	int rc;

	if (msg == NULL) {
		memset(req, 0, sizeof(*req));
		*why = "bad request: expected a JSON object";
		return -1;
	}
	rc = ipc_request_decode(msg, req, why);
	cJSON_Delete(msg);
	return rc;
}
