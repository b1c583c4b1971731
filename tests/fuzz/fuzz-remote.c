/* What a remote cache server returns: action-cache entries, and the
 * records and indexes in them. Four ways in: the bytes as an entry; as a
 * record; as a record body under a header whose checksum and length hold
 * (so the JSON checks are reached); as an index body the same way. */
#include <stdlib.h>
#include <string.h>

#include "daemon/remote/acproto.h"
#include "daemon/remote/record.h"
#include "fuzz.h"
#include "lib/buf.h"

#define KEY "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static void record(const char *data, size_t len)
{
	struct remote_entry e;
	const char *why = NULL;

	if (remote_record_decode(data, len, KEY, "g", "a.py", &e, &why) != 0) {
		if (why == NULL)
			__builtin_trap();	/* a refusal always says why */
		return;
	}
	for (size_t i = 0; i < e.findings.n; i++)
		if (strcmp(e.findings.v[i].path, "a.py") != 0)
			__builtin_trap();	/* one record speaks for one file */
	remote_entry_release(&e);
}

static void sealed(const char *format, const uint8_t *data, size_t size, struct buf *b)
{
	char sum[SHA256_HEX + 1];

	sha256_hex(data, size, sum);
	buf_reset(b);
	buf_addf(b, "%s 1 %s %zu\n", format, sum, size);
	buf_add(b, data, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf b = BUF_INIT;
	struct ac_ref ref;
	struct remote_entry *v;
	size_t n;
	const char *why = NULL;

	if (ac_unwrap((const char *)data, size, &ref, &why) == 0) {
		if (ref.data && (ref.data < (const char *)data ||
		    ref.data + ref.len > (const char *)data + size))
			__builtin_trap();	/* inline data lies inside the entry */
		if (ref.data)
			record(ref.data, ref.len);
	} else if (why == NULL)
		__builtin_trap();
	record((const char *)data, size);
	sealed("watchd-result", data, size, &b);
	record(b.buf, b.len);
	sealed("watchd-index", data, size, &b);
	if (remote_index_decode(b.buf, b.len, KEY, "g", &v, &n, &why) == 0)
		remote_entries_free(v, n);
	buf_release(&b);
	return 0;
}
