/* Remote cache keys, records and indexes (see record.h). A record is
 * believed only when every check holds: header, length, checksum, version,
 * key, gate, path, status, and each finding's shape; findings must be about
 * the entry's own file, so that one entry cannot speak for another. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "lib/decnum.h"
#include "lib/xmalloc.h"
#include "record.h"

#define KEY_VERSION	"1"

static void key_of(const char *const *parts, size_t n, char out[SHA256_HEX + 1])
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < n; i++) {
		buf_addstr(&b, parts[i]);
		buf_addch(&b, '\0');
	}
	sha256_hex(b.buf, b.len, out);
	buf_release(&b);
}

void remote_key(const char *gate, const char *fingerprint, const char *path,
    const char *cache_key, char out[SHA256_HEX + 1])
{
	const char *parts[] = { "watchd-ac", KEY_VERSION, gate, fingerprint, path, cache_key };

	key_of(parts, sizeof(parts) / sizeof(parts[0]), out);
}

void remote_index_key(const char *gate, const char *fingerprint, const char *commit,
    char out[SHA256_HEX + 1])
{
	const char *parts[] = { "watchd-ix", KEY_VERSION, gate, fingerprint, commit };

	key_of(parts, sizeof(parts) / sizeof(parts[0]), out);
}

void remote_set_key(const char *gate, const char *fingerprint, const char *const *paths,
    const char *const *keys, size_t n, char out[SHA256_HEX + 1])
{
	struct buf b = BUF_INIT;
	char set[SHA256_HEX + 1];
	const char *parts[] = { "watchd-ix", KEY_VERSION, gate, fingerprint, "set", set };

	for (size_t i = 0; i < n; i++) {
		buf_addstr(&b, paths[i]);
		buf_addch(&b, '\0');
		buf_addstr(&b, keys[i]);
		buf_addch(&b, '\n');
	}
	sha256_hex(b.buf, b.len, set);
	buf_release(&b);
	key_of(parts, sizeof(parts) / sizeof(parts[0]), out);
}

void remote_entry_release(struct remote_entry *e)
{
	free(e->path);
	e->path = NULL;
	findings_release(&e->findings);
}

void remote_entries_free(struct remote_entry *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		remote_entry_release(&v[i]);
	free(v);
}

/* ---- writing ------------------------------------------------------------ */

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

static void entry_fields(cJSON *o, const struct remote_entry *e)
{
	cJSON_AddStringToObject(o, "status", gate_status_name(e->status));
	cJSON_AddStringToObject(o, "run_id", e->run_id);
	cJSON_AddItemToObject(o, "findings", findings_json(&e->findings));
}

static cJSON *head(const char *format, const char *key, const char *gate)
{
	cJSON *body = cJSON_CreateObject();

	cJSON_AddStringToObject(body, "format", format);
	cJSON_AddNumberToObject(body, "version", REMOTE_RECORD_VERSION);
	cJSON_AddStringToObject(body, "key", key);
	cJSON_AddStringToObject(body, "gate", gate);
	return body;
}

/* header line + body; takes body */
static void seal(const char *format, cJSON *body, struct buf *out)
{
	char *text = cJSON_PrintUnformatted(body);
	char sum[SHA256_HEX + 1];

	cJSON_Delete(body);
	if (text == NULL)
		abort();	/* cJSON is out of memory */
	sha256_hex(text, strlen(text), sum);
	buf_addf(out, "%s %d %s %zu\n", format, REMOTE_RECORD_VERSION, sum, strlen(text));
	buf_addstr(out, text);
	free(text);
}

void remote_record_encode(const char *key, const char *gate, const struct remote_entry *e,
    struct buf *out)
{
	cJSON *body = head("watchd-result", key, gate);

	cJSON_AddStringToObject(body, "path", e->path);
	entry_fields(body, e);
	seal("watchd-result", body, out);
}

void remote_index_encode(const char *key, const char *gate, const char *commit,
    const struct remote_entry *v, size_t n, struct buf *out)
{
	cJSON *body = head("watchd-index", key, gate), *a;

	cJSON_AddStringToObject(body, "commit", commit);
	a = cJSON_AddArrayToObject(body, "entries");
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "path", v[i].path);
		cJSON_AddStringToObject(o, "key", v[i].cache_key);
		entry_fields(o, &v[i]);
		cJSON_AddItemToArray(a, o);
	}
	seal("watchd-index", body, out);
}

/* ---- reading ------------------------------------------------------------ */

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

/* status, run_id and findings of an entry about path; 0 or -1 with why */
static int read_entry(const cJSON *o, const char *path, struct remote_entry *e,
    const char **why)
{
	const char *s;
	int status;

	if ((s = str(o, "status")) == NULL || (status = gate_status_parse(s)) < 0 ||
	    (status != GATE_PASS && status != GATE_FAIL)) {
		*why = "its status is not pass or fail";
		return -1;
	}
	if ((s = str(o, "run_id")) == NULL || !ulid_valid(s)) {
		*why = "its run id is malformed";
		return -1;
	}
	e->status = (enum gate_status)status;
	memcpy(e->run_id, s, ULID_LEN + 1);
	return read_findings(cJSON_GetObjectItemCaseSensitive(o, "findings"), path, &e->findings,
	    why);
}

/* Checks the header, length and checksum, and the body's format, version,
 * key and gate. The parsed body, or NULL with why. */
static cJSON *unseal(const char *format, const char *data, size_t len, const char *key,
    const char *gate, const char **why)
{
	size_t flen = strlen(format), n, blen;
	const char *nl = memchr(data, '\n', len < 256 ? len : 256), *p, *body;
	char sum[SHA256_HEX + 1], got[SHA256_HEX + 1];
	const char *s;
	cJSON *doc;

	if (nl == NULL || len < flen + 1 || memcmp(data, format, flen) != 0 || data[flen] != ' ') {
		*why = len == 0 ? "it is empty" : "it is not a watchd record";
		return NULL;
	}
	p = data + flen + 1;
	n = (size_t)(nl - p);
	n = strspn(p, "0123456789") < n ? strspn(p, "0123456789") : n;
	if (n == 0 || p + n >= nl || decnum(p, n) != REMOTE_RECORD_VERSION || p[n] != ' ') {
		*why = "it is of another format version";
		return NULL;
	}
	p += n + 1;
	if (nl - p < SHA256_HEX + 2 || p[SHA256_HEX] != ' ') {
		*why = "its header is malformed";
		return NULL;
	}
	memcpy(sum, p, SHA256_HEX);
	sum[SHA256_HEX] = '\0';
	p += SHA256_HEX + 1;
	n = (size_t)(nl - p);
	if (n == 0 || n > 10 || strspn(p, "0123456789") < n) {
		*why = "its header is malformed";
		return NULL;
	}
	blen = (size_t)decnum(p, n);
	body = nl + 1;
	if ((size_t)(data + len - body) != blen) {
		*why = (size_t)(data + len - body) < blen ? "it is truncated" :
		    "its length is wrong";
		return NULL;
	}
	sha256_hex(body, blen, got);
	if (!sha256_is_hex(sum) || strcmp(sum, got) != 0) {
		*why = "its checksum does not match (corrupt)";
		return NULL;
	}
	if ((doc = cJSON_ParseWithLength(body, blen)) == NULL || !cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		*why = "its body is not a JSON object";
		return NULL;
	}
	*why = NULL;
	if ((s = str(doc, "format")) == NULL || strcmp(s, format) != 0 ||
	    whole(doc, "version", 1e9) != REMOTE_RECORD_VERSION)
		*why = "it is of another format version";
	else if ((s = str(doc, "key")) == NULL || strcmp(s, key) != 0)
		*why = "it was stored for another key";
	else if ((s = str(doc, "gate")) == NULL || strcmp(s, gate) != 0)
		*why = "it is about another gate";
	if (*why) {
		cJSON_Delete(doc);
		return NULL;
	}
	return doc;
}

int remote_record_decode(const char *data, size_t len, const char *key, const char *gate,
    const char *path, struct remote_entry *out, const char **why)
{
	cJSON *doc = unseal("watchd-result", data, len, key, gate, why);
	const char *s;

	memset(out, 0, sizeof(*out));
	if (doc == NULL)
		return -1;
	if ((s = str(doc, "path")) == NULL || strcmp(s, path) != 0) {
		*why = "it is about another file";
		cJSON_Delete(doc);
		return -1;
	}
	if (read_entry(doc, path, out, why) != 0) {
		cJSON_Delete(doc);
		return -1;
	}
	out->path = xstrdup(path);
	cJSON_Delete(doc);
	return 0;
}

static bool hex40(const char *s)
{
	return s && strlen(s) == BLOBID_HEX && strspn(s, "0123456789abcdef") == BLOBID_HEX;
}

int remote_index_decode(const char *data, size_t len, const char *key, const char *gate,
    struct remote_entry **v, size_t *n, const char **why)
{
	cJSON *doc = unseal("watchd-index", data, len, key, gate, why), *a, *o;
	size_t k = 0;

	*v = NULL;
	*n = 0;
	if (doc == NULL)
		return -1;
	a = cJSON_GetObjectItemCaseSensitive(doc, "entries");
	if (!cJSON_IsArray(a) || str(doc, "commit") == NULL) {
		*why = "its entries are not a list";
		cJSON_Delete(doc);
		return -1;
	}
	*v = xcalloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(**v));
	cJSON_ArrayForEach(o, a) {
		const char *p = str(o, "path"), *ck = str(o, "key");

		if (!cJSON_IsObject(o) || p == NULL || !hex40(ck)) {
			*why = "an entry in it is malformed";
			goto bad;
		}
		if (read_entry(o, p, &(*v)[k], why) != 0)
			goto bad;
		(*v)[k].path = xstrdup(p);
		memcpy((*v)[k].cache_key, ck, BLOBID_HEX + 1);
		k++;
	}
	*n = k;
	cJSON_Delete(doc);
	return 0;
bad:
	remote_entries_free(*v, k);
	*v = NULL;
	cJSON_Delete(doc);
	return -1;
}
