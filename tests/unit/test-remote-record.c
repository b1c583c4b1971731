/* The remote cache's keys, records, indexes and action-cache entries:
 * SHA-256 against its published vectors, round trips, and each way what a
 * server returns can be wrong. */
#include <stdlib.h>
#include <string.h>

#include "daemon/remote/acproto.h"
#include "daemon/remote/record.h"
#include "lib/sha256.h"
#include "lib/xmalloc.h"
#include "test.h"

#define KEY "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define RUN "01JD0000000000000000000000"

TEST_IMPL(sha256_vectors)
{
	char hex[SHA256_HEX + 1];

	sha256_hex("", 0, hex);
	ASSERT_STR_EQ(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_hex("abc", 3, hex);
	ASSERT_STR_EQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	ASSERT(sha256_is_hex(hex));
	hex[3] = 'G';
	ASSERT(!sha256_is_hex(hex));
	ASSERT(!sha256_is_hex("abc"));
	return 0;
}

/* Every part of the key changes it; the same parts give the same key. */
TEST_IMPL(remote_key_parts)
{
	char a[SHA256_HEX + 1], b[SHA256_HEX + 1];

	remote_key("ruff", "fp", "a.py", "blob", a);
	remote_key("ruff", "fp", "a.py", "blob", b);
	ASSERT_STR_EQ(a, b);
	remote_key("ruff2", "fp", "a.py", "blob", b);
	ASSERT(strcmp(a, b) != 0);
	remote_key("ruff", "fp2", "a.py", "blob", b);
	ASSERT(strcmp(a, b) != 0);
	remote_key("ruff", "fp", "b.py", "blob", b);
	ASSERT(strcmp(a, b) != 0);
	remote_key("ruff", "fp", "a.py", "blob2", b);
	ASSERT(strcmp(a, b) != 0);
	/* separators cannot be forged by moving bytes between parts */
	remote_key("ruf", "ffp", "a.py", "blob", b);
	ASSERT(strcmp(a, b) != 0);
	return 0;
}

static void add(struct findings *fs, const char *path, int line, const char *code,
    const char *msg)
{
	struct finding f = { 0 };

	f.path = (char *)path;
	f.line = line;
	f.col = 3;
	f.end_line = line;
	f.end_col = 9;
	f.code = (char *)code;
	f.severity = "error";
	f.message = (char *)msg;
	f.url = code ? "https://example.org/rule" : NULL;
	f.fixable = code != NULL;
	findings_add(fs, &f);
}

static void entry(struct remote_entry *e, const char *path, enum gate_status st)
{
	memset(e, 0, sizeof(*e));
	e->path = (char *)path;
	memset(e->cache_key, 'b', BLOBID_HEX);
	e->status = st;
	memcpy(e->run_id, RUN, sizeof(RUN));
}

static void same_findings(const struct findings *x, const struct findings *y)
{
	ASSERT_EQ(x->n, y->n);
	for (size_t i = 0; i < x->n; i++) {
		const struct finding *a = &x->v[i], *b = &y->v[i];

		ASSERT_STR_EQ(a->path, b->path);
		ASSERT_EQ(a->line, b->line);
		ASSERT_EQ(a->col, b->col);
		ASSERT_EQ(a->end_line, b->end_line);
		ASSERT_EQ(a->end_col, b->end_col);
		ASSERT((a->code == NULL) == (b->code == NULL));
		if (a->code)
			ASSERT_STR_EQ(a->code, b->code);
		ASSERT_STR_EQ(a->severity, b->severity);
		ASSERT_STR_EQ(a->message, b->message);
		ASSERT((a->url == NULL) == (b->url == NULL));
		ASSERT_EQ(a->fixable, b->fixable);
	}
}

TEST_IMPL(remote_record_round_trip)
{
	struct remote_entry in, out;
	struct buf rec = BUF_INIT;
	const char *why = NULL;

	entry(&in, "dir/a b.py", GATE_FAIL);
	add(&in.findings, "dir/a b.py", 1, "F401", "`os` imported but unused \"x\"");
	add(&in.findings, "dir/a b.py", 7, NULL, "tabs\tand\nnewlines");
	remote_record_encode(KEY, "ruff", &in, &rec);
	ASSERT_OK(remote_record_decode(rec.buf, rec.len, KEY, "ruff", "dir/a b.py", &out, &why));
	ASSERT_EQ(out.status, GATE_FAIL);
	ASSERT_STR_EQ(out.run_id, RUN);
	ASSERT_STR_EQ(out.path, "dir/a b.py");
	same_findings(&in.findings, &out.findings);
	remote_entry_release(&out);
	findings_release(&in.findings);
	buf_release(&rec);
	return 0;
}

/* The index of a gate at a commit: every entry comes back, with its cache
 * key; an entry with a finding about another file spoils the whole index. */
TEST_IMPL(remote_index_round_trip)
{
	struct remote_entry in[3], *out = NULL;
	struct buf ix = BUF_INIT;
	char *saved;
	const char *why = NULL;
	size_t n = 0;

	entry(&in[0], "a.py", GATE_PASS);
	entry(&in[1], "b c.py", GATE_FAIL);
	add(&in[1].findings, "b c.py", 2, "E1", "m");
	entry(&in[2], "d/e.py", GATE_FAIL);
	in[2].cache_key[0] = 'c';
	add(&in[2].findings, "d/e.py", 3, NULL, "n");
	remote_index_encode(KEY, "ruff", "0123456789012345678901234567890123456789", in, 3, &ix);
	ASSERT_OK(remote_index_decode(ix.buf, ix.len, KEY, "ruff", &out, &n, &why));
	ASSERT_EQ(n, 3);
	for (size_t i = 0; i < 3; i++) {
		ASSERT_STR_EQ(out[i].path, in[i].path);
		ASSERT_STR_EQ(out[i].cache_key, in[i].cache_key);
		ASSERT_EQ(out[i].status, in[i].status);
		same_findings(&in[i].findings, &out[i].findings);
	}
	remote_entries_free(out, n);
	ASSERT_EQ(remote_index_decode(ix.buf, ix.len, KEY, "other", &out, &n, &why), -1);
	ASSERT_CONTAINS(why, "another gate");
	buf_release(&ix);
	saved = in[2].findings.v[0].path;
	in[2].findings.v[0].path = "a.py";
	remote_index_encode(KEY, "ruff", "0123456789012345678901234567890123456789", in, 3, &ix);
	ASSERT_EQ(remote_index_decode(ix.buf, ix.len, KEY, "ruff", &out, &n, &why), -1);
	ASSERT_CONTAINS(why, "another file");
	in[2].findings.v[0].path = saved;
	for (size_t i = 0; i < 3; i++)
		findings_release(&in[i].findings);
	buf_release(&ix);
	return 0;
}

/* The action-cache entry: inline and by digest, with fields a server adds
 * (bazel-remote's execution metadata) before, between and after. */
TEST_IMPL(remote_ac_entries)
{
	struct buf b = BUF_INIT;
	struct ac_ref ref;
	const char *why = NULL;
	char hash[SHA256_HEX + 1];
	/* field 9 (execution_metadata) holding field 1 (worker) "10.0.0.1",
	 * field 4 (exit_code) 0 */
	static const char meta[] = "\x4a\x0a\x0a\x08" "10.0.0.1";
	static const char code[] = "\x20\x00";

	buf_add(&b, meta, sizeof(meta) - 1);
	ac_wrap_inline("record", 6, &b);
	buf_add(&b, code, sizeof(code) - 1);
	ASSERT_OK(ac_unwrap(b.buf, b.len, &ref, &why));
	ASSERT_EQ(ref.len, 6);
	ASSERT(memcmp(ref.data, "record", 6) == 0);
	buf_reset(&b);
	sha256_hex("x", 1, hash);
	ac_wrap_digest(hash, 300000, &b);
	buf_add(&b, meta, sizeof(meta) - 1);
	ASSERT_OK(ac_unwrap(b.buf, b.len, &ref, &why));
	ASSERT_NULL(ref.data);
	ASSERT_STR_EQ(ref.hash, hash);
	ASSERT_EQ(ref.size, 300000);
	/* cut anywhere: refused, never read past */
	for (size_t cut = 1; cut < b.len; cut++) {
		char *exact = xmalloc(cut);
		int rc;

		memcpy(exact, b.buf, cut);
		rc = ac_unwrap(exact, cut, &ref, &why);
		free(exact);
		if (cut < b.len - (sizeof(meta) - 1))
			ASSERT_EQ(rc, -1);
	}
	ASSERT_EQ(ac_unwrap("watchd-result 1", 15, &ref, &why), -1);
	ASSERT_EQ(ac_unwrap("", 0, &ref, &why), -1);
	ASSERT_CONTAINS(why, "no watchd record");
	buf_release(&b);
	return 0;
}

static const char *refusal(const char *data, size_t len, const char *key, const char *path)
{
	struct remote_entry out;
	const char *why = NULL;

	if (remote_record_decode(data, len, key, "ruff", path, &out, &why) == 0) {
		remote_entry_release(&out);
		return NULL;
	}
	return why;
}

/* A record whose body says what the checksum covers, for the checks
 * behind the checksum. */
static char *sealed(const char *body)
{
	struct buf b = BUF_INIT;
	char sum[SHA256_HEX + 1];

	sha256_hex(body, strlen(body), sum);
	buf_addf(&b, "watchd-result 1 %s %zu\n%s", sum, strlen(body), body);
	return buf_detach(&b, NULL);
}

TEST_IMPL(remote_record_refusals)
{
	struct remote_entry in;
	struct buf rec = BUF_INIT;
	char *bad, *s;
	const char *why;

	entry(&in, "dir/a b.py", GATE_FAIL);
	add(&in.findings, "dir/a b.py", 1, "F401", "unused");
	remote_record_encode(KEY, "ruff", &in, &rec);
	findings_release(&in.findings);

	ASSERT_NOT_NULL(why = refusal("", 0, KEY, "dir/a b.py"));
	ASSERT_CONTAINS(why, "empty");
	ASSERT_CONTAINS(refusal("<html>404</html>\n", 17, KEY, "dir/a b.py"), "not a watchd");
	ASSERT_CONTAINS(refusal(rec.buf, rec.len - 5, KEY, "dir/a b.py"), "truncated");
	bad = xstrndup(rec.buf, rec.len);
	bad[rec.len - 3] ^= 1;		/* one bit in the body */
	ASSERT_CONTAINS(refusal(bad, rec.len, KEY, "dir/a b.py"), "checksum");
	free(bad);
	bad = xasprintf("%.*sXX", (int)rec.len, rec.buf);
	ASSERT_CONTAINS(refusal(bad, rec.len + 2, KEY, "dir/a b.py"), "length");
	free(bad);
	bad = xstrndup(rec.buf, rec.len);
	bad[14] = '2';			/* "watchd-result 2 ..." */
	ASSERT_CONTAINS(refusal(bad, rec.len, KEY, "dir/a b.py"), "version");
	free(bad);
	ASSERT_CONTAINS(refusal(rec.buf, rec.len,
	    "1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "dir/a b.py"),
	    "another key");
	ASSERT_CONTAINS(refusal(rec.buf, rec.len, KEY, "other.py"), "another file");

	s = sealed("[1]");
	ASSERT_CONTAINS(refusal(s, strlen(s), KEY, "a.py"), "not a JSON object");
	free(s);
	/* behind the checksum: status, then findings */
	static const struct { const char *status, *findings, *want; } bodies[] = {
		{ "error", "[]", "status" },
		{ "pass", "[{\"path\":\"b.py\",\"line\":1,\"col\":1,\"end_line\":1,"
		    "\"end_col\":1,\"severity\":\"error\",\"message\":\"m\"}]", "another file" },
		{ "pass", "[{\"path\":\"a.py\",\"line\":-1,\"col\":1,\"end_line\":1,"
		    "\"end_col\":1,\"severity\":\"error\",\"message\":\"m\"}]", "malformed" },
		{ "pass", "{}", "not a list" },
		{ "pass", "[]", NULL },
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		char *body = xasprintf("{\"format\":\"watchd-result\",\"version\":1,"
		    "\"key\":\"" KEY "\",\"gate\":\"ruff\",\"path\":\"a.py\",\"status\":\"%s\","
		    "\"run_id\":\"" RUN "\",\"findings\":%s}", bodies[i].status, bodies[i].findings);

		s = sealed(body);
		if (bodies[i].want)
			ASSERT_CONTAINS(refusal(s, strlen(s), KEY, "a.py"), bodies[i].want);
		else
			ASSERT_NULL(refusal(s, strlen(s), KEY, "a.py"));
		free(s);
		free(body);
	}
	buf_release(&rec);
	return 0;
}
