/* What the remote cache stores, and under which name: the result of one
 * (gate, file content), and the index of a whole gate's results at one
 * commit. Pure code over buffers; the bytes come from a server another
 * machine wrote to, so decoding trusts nothing (tests/fuzz/fuzz-remote.c).
 * Both travel inside an action-cache entry (acproto.h).
 *
 * Keys: SHA-256 of NUL-separated parts, the first naming the kind and its
 * version: "watchd-ac", "1", gate, portable fingerprint, path, cache key
 * (blob id, or for a test gate the digest of blob and input set); for an
 * index "watchd-ix", "1", gate, fingerprint, then the commit, or "set" and
 * the SHA-256 of the sorted "path NUL cache key NL" lines of its files.
 *
 * Both are sealed the same way: one header line, then a JSON body:
 *   watchd-result 1 <sha256 of the body> <body length>\n
 *   {"format":"watchd-result","version":1,"key":..,"gate":..,"path":..,
 *    "status":"fail","run_id":..,"findings":[...]}
 *   watchd-index 1 <sha256> <length>\n
 *   {"format":"watchd-index","version":1,"key":..,"gate":..,"commit":..,
 *    "entries":[{"path":..,"key":<cache key>,"status":..,"run_id":..,
 *                "findings":[...]}, ...]} */
#ifndef WD_REMOTE_RECORD_H
#define WD_REMOTE_RECORD_H

#include <stddef.h>

#include "gates/gate.h"
#include "lib/blobid.h"
#include "lib/buf.h"
#include "lib/sha256.h"
#include "lib/ulid.h"

#define REMOTE_RECORD_VERSION	1

void remote_key(const char *gate, const char *fingerprint, const char *path,
    const char *cache_key, char out[SHA256_HEX + 1]);
/* The index of a gate at a commit, or (commit NULL) of exactly the set
 * of (path, cache key) pairs in paths and keys: the digest of the set
 * stands for the commit. */
void remote_index_key(const char *gate, const char *fingerprint, const char *commit,
    char out[SHA256_HEX + 1]);
void remote_set_key(const char *gate, const char *fingerprint, const char *const *paths,
    const char *const *keys, size_t n, char out[SHA256_HEX + 1]);

/* One file's result. Encoding borrows everything; decoding fills path
 * (malloc'ed) and findings, which remote_entry_release frees. */
struct remote_entry {
	char			*path;
	char			 cache_key[BLOBID_HEX + 1];
	enum gate_status	 status;	/* pass or fail */
	char			 run_id[ULID_LEN + 1];
	struct findings		 findings;	/* about path only */
};
void remote_entry_release(struct remote_entry *e);

/* The record of e stored under key for gate, into *out. */
void remote_record_encode(const char *key, const char *gate, const struct remote_entry *e,
    struct buf *out);
/* Reads a record fetched for key, gate and path into *out. 0, or -1 with
 * *why a static sentence: truncated, corrupt (checksum), another format or
 * version, another key, gate or path, a status that is not pass or fail,
 * or a malformed finding or one about another file. Nothing is kept on
 * failure. */
int remote_record_decode(const char *data, size_t len, const char *key, const char *gate,
    const char *path, struct remote_entry *out, const char **why);

/* The index of n entries stored under key. */
void remote_index_encode(const char *key, const char *gate, const char *commit,
    const struct remote_entry *v, size_t n, struct buf *out);
/* Reads an index fetched for key and gate: *v (malloc'ed, n entries) as
 * remote_record_decode checks them, each entry's cache key 40 hex. 0, or -1
 * with *why. */
int remote_index_decode(const char *data, size_t len, const char *key, const char *gate,
    struct remote_entry **v, size_t *n, const char **why);
void remote_entries_free(struct remote_entry *v, size_t n);

#endif
