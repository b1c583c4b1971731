/* What the remote cache stores, and under which name: the key of one
 * (gate, file content) result and the record that holds it. Pure code over
 * buffers; the bytes come from a server another machine wrote to, so
 * decoding trusts nothing (tests/fuzz/fuzz-remote.c).
 *
 * Key: SHA-256 of "watchd-ac", the key version, the gate name, its portable
 * fingerprint, the path and the local cache key (blob id, or for a test gate
 * the digest of blob and input set), NUL-separated.
 *
 * Record (at ac/<key>): one header line, then a JSON body:
 *   watchd-result 1 <sha256 of the body> <body length>\n
 *   {"format":"watchd-result","version":1,"key":..,"gate":..,"path":..,
 *    "status":"fail","run_id":..,"findings":[...]}
 * Findings longer than REMOTE_INLINE_MAX as JSON go to cas/<sha256> instead,
 * the body then naming them with "findings_cas" and "findings_count". */
#ifndef WD_REMOTE_RECORD_H
#define WD_REMOTE_RECORD_H

#include <stddef.h>

#include "gates/gate.h"
#include "lib/buf.h"
#include "lib/sha256.h"
#include "lib/ulid.h"

#define REMOTE_RECORD_VERSION	1
#define REMOTE_INLINE_MAX	4096	/* findings JSON bytes kept in the record */

void remote_key(const char *gate, const char *fingerprint, const char *path,
    const char *cache_key, char out[SHA256_HEX + 1]);

/* One result, both ways. Strings are borrowed when encoding; decoding
 * fills findings (the caller releases them) unless cas is set. */
struct remote_record {
	const char		*key;		/* 64 hex */
	const char		*gate;
	const char		*path;
	enum gate_status	 status;
	char			 run_id[ULID_LEN + 1];
	struct findings		 findings;
	char			 cas[SHA256_HEX + 1];	/* "" when inline */
	size_t			 nfindings;	/* with cas: how many it holds */
};

/* Writes the record for r (r->findings: the file's findings) into *rec;
 * when they do not fit inline, their JSON goes to *blob and r->cas is set
 * (the blob is to be stored under cas/<r->cas>). */
void remote_record_encode(struct remote_record *r, struct buf *rec, struct buf *blob);

/* Reads a record fetched for key, path and gate into *out (out->key,
 * gate and path are set to the arguments). 0, or -1 with *why a static
 * sentence: truncated, corrupt (checksum), another format or version,
 * another key, path or gate, or a malformed body. Nothing is kept on
 * failure. */
int remote_record_decode(const char *data, size_t len, const char *key, const char *gate,
    const char *path, struct remote_record *out, const char **why);

/* Reads the findings blob r->cas names (data, len as fetched) into
 * r->findings. 0, or -1 with *why (checksum, count, or a malformed
 * finding). */
int remote_findings_decode(const char *data, size_t len, struct remote_record *r,
    const char **why);

#endif
