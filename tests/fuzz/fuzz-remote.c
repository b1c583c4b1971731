/* The remote cache's records: bytes a server (or whoever can write to it)
 * returns. Three ways in: the raw bytes as a record; the bytes as a body
 * under a header whose checksum and length hold (so the JSON checks are
 * reached); the bytes as a findings blob whose checksum holds. */
#include <stdlib.h>
#include <string.h>

#include "daemon/remote/record.h"
#include "fuzz.h"
#include "lib/buf.h"

#define KEY "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static void check(const char *data, size_t len)
{
	struct remote_record r;
	const char *why = NULL;

	if (remote_record_decode(data, len, KEY, "g", "a.py", &r, &why) != 0) {
		if (why == NULL)
			__builtin_trap();	/* a refusal always says why */
		return;
	}
	for (size_t i = 0; i < r.findings.n; i++)
		if (strcmp(r.findings.v[i].path, "a.py") != 0)
			__builtin_trap();	/* one record speaks for one file */
	findings_release(&r.findings);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf b = BUF_INIT;
	char sum[SHA256_HEX + 1];
	struct remote_record r;
	const char *why;

	check((const char *)data, size);
	sha256_hex(data, size, sum);
	buf_addf(&b, "watchd-result 1 %s %zu\n", sum, size);
	buf_add(&b, data, size);
	check(b.buf, b.len);
	buf_release(&b);
	memset(&r, 0, sizeof(r));
	r.path = "a.py";
	memcpy(r.cas, sum, sizeof(sum));
	r.nfindings = 1;
	if (remote_findings_decode((const char *)data, size, &r, &why) == 0)
		findings_release(&r.findings);
	return 0;
}
