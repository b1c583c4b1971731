/* Remote cache keys and records (see record.h). A record is believed only
 * when every check holds: header, length, checksum, version, key, gate,
 * path, status, and each finding's shape; the findings must be about the
 * record's own file, so one entry cannot speak for another. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "lib/decnum.h"
#include "lib/xmalloc.h"
#include "record.h"

#define KEY_VERSION	"1"
#define FORMAT		"watchd-result"

void remote_key(const char *gate, const char *fingerprint, const char *path,
    const char *cache_key, char out[SHA256_HEX + 1])
{
	struct buf b = BUF_INIT;
	const char *parts[] = { "watchd-ac", KEY_VERSION, gate, fingerprint, path, cache_key };

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		buf_addstr(&b, parts[i]);
		buf_addch(&b, '\0');
	}
	sha256_hex(b.buf, b.len, out);
	buf_release(&b);
}

static cJSON *findings_json(const struct findings *fs)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < fs->n; i++) {
		const struct finding *f = &fs->v[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "path", f->path ? f->path : "");
		cJSON_AddNumberToObject(o, "line", f->line);
		cJSON_AddNumberToObject(o, "col", f->col);
		cJSON_AddNumberToObject(o, "end_line", f->end_line);
		cJSON_AddNumberToObject(o, "end_col", f->end_col);
		if (f->code)
			cJSON_AddStringToObject(o, "code", f->code);
		cJSON_AddStringToObject(o, "severity", f->severity ? f->severity : "error");
		cJSON_AddStringToObject(o, "message", f->message ? f->message : "");
		if (f->url)
			cJSON_AddStringToObject(o, "url", f->url);
		if (f->fixable)
			cJSON_AddTrueToObject(o, "fixable");
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

void remote_record_encode(struct remote_record *r, struct buf *rec, struct buf *blob)
{
	cJSON *body = cJSON_CreateObject(), *fj = findings_json(&r->findings);
	char *fs = cJSON_PrintUnformatted(fj), *text;
	char sum[SHA256_HEX + 1];

	cJSON_AddStringToObject(body, "format", FORMAT);
	cJSON_AddNumberToObject(body, "version", REMOTE_RECORD_VERSION);
	cJSON_AddStringToObject(body, "key", r->key);
	cJSON_AddStringToObject(body, "gate", r->gate);
	cJSON_AddStringToObject(body, "path", r->path);
	cJSON_AddStringToObject(body, "status", gate_status_name(r->status));
	cJSON_AddStringToObject(body, "run_id", r->run_id);
	r->cas[0] = '\0';
	if (fs && strlen(fs) > REMOTE_INLINE_MAX) {
		buf_addstr(blob, fs);
		sha256_hex(blob->buf, blob->len, r->cas);
		cJSON_AddStringToObject(body, "findings_cas", r->cas);
		cJSON_AddNumberToObject(body, "findings_count", (double)r->findings.n);
		cJSON_Delete(fj);
	} else
		cJSON_AddItemToObject(body, "findings", fj);
	free(fs);
	text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	if (text == NULL)
		abort();	/* cJSON is out of memory */
	sha256_hex(text, strlen(text), sum);
	buf_addf(rec, FORMAT " %d %s %zu\n", REMOTE_RECORD_VERSION, sum, strlen(text));
	buf_addstr(rec, text);
	free(text);
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A number that is a whole value in [0, max]; -1 otherwise. */
static double whole(const cJSON *o, const char *k, double max)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > max ||
	    v->valuedouble != (double)(long long)v->valuedouble)
		return -1;
	return v->valuedouble;
}

static int read_findings(const cJSON *a, const char *path, struct findings *out,
    const char **why)
{
	const cJSON *o;

	if (!cJSON_IsArray(a)) {
		*why = "its findings are not a list";
		return -1;
	}
	cJSON_ArrayForEach(o, a) {
		struct finding f = { 0 };
		const cJSON *fx = cJSON_GetObjectItemCaseSensitive(o, "fixable");
		const char *p = str(o, "path"), *sev = str(o, "severity"), *msg = str(o, "message");
		double line = whole(o, "line", 2147483647), col = whole(o, "col", 2147483647);
		double el = whole(o, "end_line", 2147483647), ec = whole(o, "end_col", 2147483647);
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(o, "code");
		const cJSON *url = cJSON_GetObjectItemCaseSensitive(o, "url");

		if (!cJSON_IsObject(o) || p == NULL || sev == NULL || msg == NULL || line < 0 ||
		    col < 0 || el < 0 || ec < 0 || (code && !cJSON_IsString(code)) ||
		    (url && !cJSON_IsString(url)) || (fx && !cJSON_IsBool(fx))) {
			*why = "a finding in it is malformed";
			findings_release(out);
			return -1;
		}
		if (strcmp(p, path) != 0) {
			*why = "a finding in it is about another file";
			findings_release(out);
			return -1;
		}
		f.path = (char *)p;
		f.line = (int)line;
		f.col = (int)col;
		f.end_line = (int)el;
		f.end_col = (int)ec;
		f.code = code ? code->valuestring : NULL;
		f.severity = (char *)sev;
		f.message = (char *)msg;
		f.url = url ? url->valuestring : NULL;
		f.fixable = cJSON_IsTrue(fx);
		findings_add(out, &f);
	}
	return 0;
}

int remote_record_decode(const char *data, size_t len, const char *key, const char *gate,
    const char *path, struct remote_record *out, const char **why)
{
	static const char head[] = FORMAT " ";
	const char *nl = memchr(data, '\n', len < 256 ? len : 256), *p, *body;
	char sum[SHA256_HEX + 1], got[SHA256_HEX + 1];
	size_t blen, n;
	cJSON *doc;
	const char *s;
	int status = -1;

	memset(out, 0, sizeof(*out));
	if (nl == NULL || len < sizeof(head) - 1 || memcmp(data, head, sizeof(head) - 1) != 0) {
		*why = len == 0 ? "it is empty" : "it is not a watchd result record";
		return -1;
	}
	p = data + sizeof(head) - 1;
	n = strspn(p, "0123456789");
	if (n == 0 || p + n >= nl || decnum(p, n) != REMOTE_RECORD_VERSION || p[n] != ' ') {
		*why = "it is of another format version";
		return -1;
	}
	p += n + 1;
	if (nl - p < SHA256_HEX + 2 || p[SHA256_HEX] != ' ') {
		*why = "its header is malformed";
		return -1;
	}
	memcpy(sum, p, SHA256_HEX);
	sum[SHA256_HEX] = '\0';
	p += SHA256_HEX + 1;
	n = (size_t)(nl - p);
	if (n == 0 || n > 10 || strspn(p, "0123456789") != n) {
		*why = "its header is malformed";
		return -1;
	}
	blen = (size_t)decnum(p, n);
	body = nl + 1;
	if ((size_t)(data + len - body) != blen) {
		*why = (size_t)(data + len - body) < blen ? "it is truncated" :
		    "its length is wrong";
		return -1;
	}
	sha256_hex(body, blen, got);
	if (!sha256_is_hex(sum) || strcmp(sum, got) != 0) {
		*why = "its checksum does not match (corrupt)";
		return -1;
	}
	if ((doc = cJSON_ParseWithLength(body, blen)) == NULL || !cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		*why = "its body is not a JSON object";
		return -1;
	}
	*why = NULL;
	if ((s = str(doc, "format")) == NULL || strcmp(s, FORMAT) != 0 ||
	    whole(doc, "version", 1e9) != REMOTE_RECORD_VERSION)
		*why = "it is of another format version";
	else if ((s = str(doc, "key")) == NULL || strcmp(s, key) != 0)
		*why = "it was stored for another key";
	else if ((s = str(doc, "gate")) == NULL || strcmp(s, gate) != 0 ||
	    (s = str(doc, "path")) == NULL || strcmp(s, path) != 0)
		*why = "it is about another gate or file";
	else if ((s = str(doc, "status")) == NULL || (status = gate_status_parse(s)) < 0 ||
	    (status != GATE_PASS && status != GATE_FAIL))
		*why = "its status is not pass or fail";
	else if ((s = str(doc, "run_id")) == NULL || !ulid_valid(s))
		*why = "its run id is malformed";
	if (*why) {
		cJSON_Delete(doc);
		return -1;
	}
	out->key = key;
	out->gate = gate;
	out->path = path;
	out->status = (enum gate_status)status;
	memcpy(out->run_id, s, ULID_LEN + 1);
	if ((s = str(doc, "findings_cas")) != NULL) {
		double c = whole(doc, "findings_count", 1e9);

		if (!sha256_is_hex(s) || c < 0) {
			*why = "its findings reference is malformed";
			cJSON_Delete(doc);
			return -1;
		}
		memcpy(out->cas, s, SHA256_HEX + 1);
		out->nfindings = (size_t)c;
	} else if (read_findings(cJSON_GetObjectItemCaseSensitive(doc, "findings"), path,
	    &out->findings, why) != 0) {
		cJSON_Delete(doc);
		return -1;
	}
	cJSON_Delete(doc);
	return 0;
}

int remote_findings_decode(const char *data, size_t len, struct remote_record *r,
    const char **why)
{
	char got[SHA256_HEX + 1];
	cJSON *doc;
	int rc;

	sha256_hex(data, len, got);
	if (strcmp(got, r->cas) != 0) {
		*why = "its findings blob does not match its checksum (corrupt or truncated)";
		return -1;
	}
	if ((doc = cJSON_ParseWithLength(data, len)) == NULL) {
		*why = "its findings blob is not JSON";
		return -1;
	}
	rc = read_findings(doc, r->path, &r->findings, why);
	cJSON_Delete(doc);
	if (rc == 0 && r->findings.n != r->nfindings) {
		*why = "its findings blob holds another number of findings";
		findings_release(&r->findings);
		rc = -1;
	}
	return rc;
}
