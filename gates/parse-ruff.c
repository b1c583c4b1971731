/* Ruff's output read into findings: the JSON array of `ruff check
 * --output-format=json` (every version's shape, FORMATS.md §1.1) and the text
 * of `ruff format --check` before and after 0.16 (§1.2). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lib/decnum.h"
#include "lib/buf.h"
#include "lib/xmalloc.h"
#include "parser.h"

static const char *str_item(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* 0 for absent, null or nonsensical numbers: 0 means "unknown" in findings. */
static int int_item(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e9)
		return 0;
	return (int)v->valuedouble;
}

static void location(const cJSON *o, const char *key, int *line, int *col)
{
	const cJSON *loc = cJSON_GetObjectItemCaseSensitive(o, key);

	*line = cJSON_IsObject(loc) ? int_item(loc, "row") : 0;
	*col = cJSON_IsObject(loc) ? int_item(loc, "column") : 0;
}

/* Ruff reports every stable diagnostic as a violation ("error"); only an
 * explicit lower severity from newer releases is kept. */
static const char *severity(const cJSON *o)
{
	const char *s = str_item(o, "severity");

	if (s && strcmp(s, "warning") == 0)
		return "warning";
	if (s && strcmp(s, "info") == 0)
		return "info";
	return "error";
}

static void add_diagnostic(const char *root, const cJSON *o, struct gate_result *r)
{
	static const char legacy[] = "SyntaxError: ";
	const char *msg = str_item(o, "message"), *code = str_item(o, "code");
	const cJSON *fix = cJSON_GetObjectItemCaseSensitive(o, "fix");
	const char *appl = cJSON_IsObject(fix) ? str_item(fix, "applicability") : NULL;
	struct finding f = { 0 };
	char *owned_msg = NULL;
	int cell = int_item(o, "cell");

	if (msg == NULL)
		msg = "";
	/* 0.5-0.12 had code null and a "SyntaxError: " message; --preview
	 * gives null codes for non-rule diagnostics, named by "name" */
	if (code == NULL) {
		code = str_item(o, "name");
		if (code == NULL || strncmp(msg, legacy, sizeof(legacy) - 1) == 0)
			code = "invalid-syntax";
		if (strncmp(msg, legacy, sizeof(legacy) - 1) == 0)
			msg += sizeof(legacy) - 1;
	}
	/* notebook rows are relative to the cell, so the cell must be said */
	if (cell > 0)
		msg = owned_msg = xasprintf("%s (cell %d)", msg, cell);
	f.path = gate_relpath(root, str_item(o, "filename"));
	location(o, "location", &f.line, &f.col);
	location(o, "end_location", &f.end_line, &f.end_col);
	f.code = (char *)code;
	f.severity = (char *)severity(o);
	f.message = (char *)msg;
	f.url = (char *)str_item(o, "url");
	f.fixable = appl && strcmp(appl, "safe") == 0;
	findings_add(&r->findings, &f);
	free(f.path);
	free(owned_msg);
}

static void bad_output(struct gate_result *r, const char *what, const char *text, size_t len)
{
	char *ex = gate_excerpt(text, len);

	r->status = GATE_ERROR;
	gate_result_msg(r, "cannot read ruff output (%s): %s", what, ex);
	free(ex);
}

/* --output-format=json-lines (from user "args"): one object per line. */
static int parse_lines(const char *root, const char *text, size_t len, struct gate_result *r)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		cJSON *o;

		if (n > 0 && (o = gate_json_parse(p, n, NULL)) != NULL) {
			bool ok = cJSON_IsObject(o);

			if (ok)
				add_diagnostic(root, o, r);
			cJSON_Delete(o);
			if (!ok)
				return -1;
		} else if (n > 0)
			return -1;
		p += n + 1;
	}
	return 0;
}

int ruff_json_parse(const char *root, const char *text, size_t len, struct gate_result *r)
{
	cJSON *doc, *o;
	const char *bad;
	size_t skip = 0;

	if (text == NULL)
		text = "", len = 0;
	while (skip < len && isspace((unsigned char)text[skip]))
		skip++;
	if (skip == len) {
		bad_output(r, "empty output, expected a JSON array", text, len);
		return 0;
	}
	doc = gate_json_parse(text, len, &bad);
	if (doc == NULL) {
		if (text[skip] == '{' && parse_lines(root, text, len, r) == 0)
			return 0;
		findings_release(&r->findings);
		bad_output(r, "invalid JSON", bad, (size_t)(text + len - bad));
		return 0;
	}
	if (!cJSON_IsArray(doc)) {
		bad_output(r, "expected a JSON array", text, len);
		cJSON_Delete(doc);
		return 0;
	}
	cJSON_ArrayForEach(o, doc) {
		if (!cJSON_IsObject(o)) {
			findings_release(&r->findings);
			bad_output(r, "array element is not an object", text, len);
			cJSON_Delete(doc);
			return 0;
		}
		add_diagnostic(root, o, r);
	}
	cJSON_Delete(doc);
	return 0;
}

static void add_unformatted(const char *root, const char *path, size_t n, int line, int col,
    struct gate_result *r)
{
	struct finding f = { 0 };
	char *p = xstrndup(path, n);

	f.path = gate_relpath(root, p);
	f.line = line;
	f.col = col;
	f.code = "unformatted";
	f.severity = "error";
	f.message = "File would be reformatted";
	findings_add(&r->findings, &f);
	free(f.path);
	free(p);
}

/* " --> path:LINE:COL": the location line of a 0.16+ diagnostic. The numbers
 * are taken from the right, so a ':' inside the path does no harm. */
static void arrow_line(const char *root, const char *s, size_t n, struct gate_result *r)
{
	size_t end = n, c2, c1;
	int line, col;

	for (c2 = end; c2 > 0 && isdigit((unsigned char)s[c2 - 1]); c2--)
		;
	if (c2 == end || c2 < 2 || s[c2 - 1] != ':')
		goto whole;
	for (c1 = c2 - 1; c1 > 0 && isdigit((unsigned char)s[c1 - 1]); c1--)
		;
	if (c1 == c2 - 1 || c1 < 2 || s[c1 - 1] != ':')
		goto whole;
	line = decnum(s + c1, c2 - 1 - c1);
	col = decnum(s + c2, end - c2);
	add_unformatted(root, s, c1 - 1, line, col, r);
	return;
whole:
	add_unformatted(root, s, n, 0, 0, r);
}

int ruff_format_text_parse(const char *root, const char *text, size_t len,
    struct gate_result *r)
{
	static const char old[] = "Would reformat: ", diag[] = "unformatted:", arrow[] = "-->";
	const char *p = text, *end;
	bool pending = false;

	if (text == NULL)
		return 0;
	end = text + len;

	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		size_t i = 0;

		if (n && p[n - 1] == '\r')
			n--;
		if (n > sizeof(old) - 1 && strncmp(p, old, sizeof(old) - 1) == 0) {
			add_unformatted(root, p + sizeof(old) - 1, n - (sizeof(old) - 1), 0, 0, r);
		} else if (n >= sizeof(diag) - 1 && strncmp(p, diag, sizeof(diag) - 1) == 0) {
			pending = true;
		} else if (pending) {
			while (i < n && p[i] == ' ')
				i++;
			if (n - i > sizeof(arrow) && strncmp(p + i, arrow, sizeof(arrow) - 1) == 0 &&
			    p[i + sizeof(arrow) - 1] == ' ') {
				i += sizeof(arrow);
				arrow_line(root, p + i, n - i, r);
				pending = false;
			}
		}
		p = nl ? nl + 1 : NULL;
	}
	return 0;
}
