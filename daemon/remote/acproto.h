/* The action-cache entry around a record. bazel-remote, by default, takes
 * only a Bazel ActionResult protobuf at /ac/ (it re-encodes what it gets,
 * adding the worker's address) and answers a GET only when the blobs the
 * entry names are in its CAS. So an entry is the smallest ActionResult that
 * carries a record: the record itself as stdout_raw (field 5) when it is
 * small, else stdout_digest (field 6) naming the record at /cas/<sha256>.
 * Servers without validation (nginx) store the same bytes. Reading skips
 * every field it does not know, as protobuf readers do; the bytes come
 * from the server and are fuzzed (tests/fuzz/fuzz-remote.c). */
#ifndef WD_REMOTE_ACPROTO_H
#define WD_REMOTE_ACPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/sha256.h"

#define AC_INLINE_MAX	4096	/* records up to this size travel inline */

/* An entry holding data inline. */
void ac_wrap_inline(const void *data, size_t len, struct buf *out);
/* An entry naming cas/<hash> of size bytes. */
void ac_wrap_digest(const char *hash, uint64_t size, struct buf *out);

/* What an entry holds: inline data (pointing into the entry), or the
 * digest of a CAS blob (data NULL). */
struct ac_ref {
	const char	*data;
	size_t		 len;
	char		 hash[SHA256_HEX + 1];
	uint64_t	 size;
};

/* 0, or -1 with *why a static sentence (not a protobuf, or neither field). */
int ac_unwrap(const char *entry, size_t len, struct ac_ref *out, const char **why);

#endif
