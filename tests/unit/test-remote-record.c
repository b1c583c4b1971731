/* The remote cache's keys and records: SHA-256 against its published
 * vectors, a record's round trip inline and through a findings blob, and
 * each way a record a server returns can be wrong. */
#include <stdlib.h>
#include <string.h>

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

static void encode(struct remote_record *r, struct buf *rec, struct buf *blob)
{
	r->key = KEY;
	r->gate = "ruff";
	r->path = "dir/a b.py";
	r->status = GATE_FAIL;
	memcpy(r->run_id, RUN, sizeof(RUN));
	remote_record_encode(r, rec, blob);
}

TEST_IMPL(remote_record_round_trip)
{
	struct remote_record in = { 0 }, out;
	struct buf rec = BUF_INIT, blob = BUF_INIT;
	const char *why = NULL;

	add(&in.findings, "dir/a b.py", 1, "F401", "`os` imported but unused \"x\"");
	add(&in.findings, "dir/a b.py", 7, NULL, "tabs\tand\nnewlines");
	encode(&in, &rec, &blob);
	ASSERT_EQ(blob.len, 0);
	ASSERT_EQ(in.cas[0], '\0');
	ASSERT_OK(remote_record_decode(rec.buf, rec.len, KEY, "ruff", "dir/a b.py", &out, &why));
	ASSERT_EQ(out.status, GATE_FAIL);
	ASSERT_STR_EQ(out.run_id, RUN);
	ASSERT_EQ(out.findings.n, 2);
	for (size_t i = 0; i < 2; i++) {
		const struct finding *a = &in.findings.v[i], *b = &out.findings.v[i];

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
	findings_release(&out.findings);
	findings_release(&in.findings);
	buf_release(&rec);
	return 0;
}

/* Findings past REMOTE_INLINE_MAX travel as a blob named by its digest. */
TEST_IMPL(remote_record_findings_blob)
{
	struct remote_record in = { 0 }, out;
	struct buf rec = BUF_INIT, blob = BUF_INIT;
	const char *why = NULL;
	char sum[SHA256_HEX + 1];

	for (int i = 1; i <= 200; i++)
		add(&in.findings, "dir/a b.py", i, "E501", "Line too long (120 > 88)");
	encode(&in, &rec, &blob);
	ASSERT(blob.len > REMOTE_INLINE_MAX);
	sha256_hex(blob.buf, blob.len, sum);
	ASSERT_STR_EQ(in.cas, sum);
	ASSERT(rec.len < 1024);
	ASSERT_OK(remote_record_decode(rec.buf, rec.len, KEY, "ruff", "dir/a b.py", &out, &why));
	ASSERT_STR_EQ(out.cas, sum);
	ASSERT_EQ(out.nfindings, 200);
	ASSERT_EQ(out.findings.n, 0);
	/* a cut blob, then the whole one */
	ASSERT_EQ(remote_findings_decode(blob.buf, blob.len - 1, &out, &why), -1);
	ASSERT_CONTAINS(why, "checksum");
	ASSERT_OK(remote_findings_decode(blob.buf, blob.len, &out, &why));
	ASSERT_EQ(out.findings.n, 200);
	ASSERT_EQ(out.findings.v[199].line, 200);
	findings_release(&out.findings);
	findings_release(&in.findings);
	buf_release(&rec);
	buf_release(&blob);
	return 0;
}

static const char *refusal(const char *data, size_t len, const char *key, const char *path)
{
	struct remote_record out;
	const char *why = NULL;

	if (remote_record_decode(data, len, key, "ruff", path, &out, &why) == 0) {
		findings_release(&out.findings);
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
	struct remote_record in = { 0 };
	struct buf rec = BUF_INIT, blob = BUF_INIT;
	char *bad, *s;
	const char *why;

	add(&in.findings, "dir/a b.py", 1, "F401", "unused");
	encode(&in, &rec, &blob);
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
	ASSERT_CONTAINS(refusal(rec.buf, rec.len, KEY, "other.py"), "another gate or file");

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
