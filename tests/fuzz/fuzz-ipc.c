/* The socket's requests: the bytes any local process of the user may send,
 * split into lines and decoded as the server does. */
#include <string.h>

#include "daemon/ipc/request.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct ipc_request req;
		const char *why = NULL;

		if (ipc_request_parse(p, len, &req, &why) != 0 && why == NULL)
			__builtin_trap();	/* a refusal always says why */
		if (req.cmd == IPC_STATUS && (req.timeout_ms < 0 || req.timeout_ms > IPC_SYNC_MAX_MS))
			__builtin_trap();
		p += len + 1;
	}
	return 0;
}
