/* "parser": "sarif" — SARIF 2.1.0 (FORMATS.md §4): every run's results
 * become findings, with the rule's helpUri as the documentation link. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/xmalloc.h"
#include "parser.h"

static const cJSON *item(const cJSON *o, const char *key)
{
	return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

static const char *str_item(const cJSON *o, const char *key)
{
	const cJSON *v = item(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int num_item(const cJSON *o, const char *key)
{
	const cJSON *v = item(o, key);

	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e9)
		return 0;
	return (int)v->valuedouble;
}

static const cJSON *find_rule(const cJSON *run, const char *id)
{
	const cJSON *rules = item(item(item(run, "tool"), "driver"), "rules"), *rule;

	if (id == NULL || !cJSON_IsArray(rules))
		return NULL;
	cJSON_ArrayForEach(rule, rules) {
		const char *rid = str_item(rule, "id");

		if (rid && strcmp(rid, id) == 0)
			return rule;
	}
	return NULL;
}

/* "file:///a%20b" -> "/a b"; other URIs (relative paths, ruff's absolute
 * paths) are taken as they are. */
static char *uri_path(const char *uri)
{
	struct buf b = BUF_INIT;

	if (uri == NULL)
		return NULL;
	if (strncmp(uri, "file://", 7) != 0)
		return xstrdup(uri);
	uri += 7;
	/* "file://host/path": only the local host is meaningful here */
	if (*uri != '/' && strchr(uri, '/'))
		uri = strchr(uri, '/');
	for (; *uri; uri++) {
		if (uri[0] == '%' && isxdigit((unsigned char)uri[1]) &&
		    isxdigit((unsigned char)uri[2])) {
			char hex[3] = { uri[1], uri[2], 0 };

			buf_addch(&b, (char)strtol(hex, NULL, 16));
			uri += 2;
		} else
			buf_addch(&b, *uri);
	}
	return buf_detach(&b, NULL);
}

/* level: the result's, else the rule's default, else "warning" (SARIF). */
static const char *severity(const cJSON *res, const cJSON *rule)
{
	const char *lv = str_item(res, "level");

	if (lv == NULL)
		lv = str_item(item(rule, "defaultConfiguration"), "level");
	if (lv == NULL || strcmp(lv, "warning") == 0)
		return "warning";
	if (strcmp(lv, "error") == 0)
		return "error";
	return "info";		/* note, none */
}

static void add_result(const char *root, const cJSON *run, const cJSON *res,
    struct gate_result *r)
{
	const cJSON *loc = cJSON_GetArrayItem(item(res, "locations"), 0);
	const cJSON *phys = item(loc, "physicalLocation"), *region = item(phys, "region");
	const char *rule_id = str_item(res, "ruleId");
	const cJSON *rule = find_rule(run, rule_id);
	const char *msg = str_item(item(res, "message"), "text");
	struct finding f = { 0 };
	char *path = uri_path(str_item(item(phys, "artifactLocation"), "uri"));

	f.path = gate_relpath(root, path);
	f.line = num_item(region, "startLine");
	f.col = num_item(region, "startColumn");
	f.end_line = num_item(region, "endLine");
	f.end_col = num_item(region, "endColumn");
	f.code = (char *)rule_id;
	f.severity = (char *)severity(res, rule);
	f.message = (char *)(msg ? msg : "");
	f.url = (char *)str_item(rule, "helpUri");
	findings_add(&r->findings, &f);
	free(f.path);
	free(path);
}

static void fail_read(struct gate_result *r, const char *what, const char *s, size_t len)
{
	char *ex = gate_excerpt(s, len);

	findings_release(&r->findings);
	r->status = GATE_ERROR;
	gate_result_msg(r, "cannot read SARIF (%s): %s", what, ex);
	free(ex);
}

int parse_sarif(const struct gate *g, const struct gate_output *out, struct gate_result *r)
{
	const char *text = out->report_len ? out->report : out->out, *bad;
	size_t len = out->report_len ? out->report_len : out->out_len;
	cJSON *doc, *runs, *run;

	(void)g;
	if (out->report_len == 0 && !gate_output_whole(out, false, r))
		return 0;
	if (text == NULL || len == 0) {
		char *ex = gate_excerpt(out->err, out->err_len);

		r->status = GATE_ERROR;
		gate_result_msg(r, "no SARIF output (exit status %d): %s", out->exit_code, ex);
		free(ex);
		return 0;
	}
	if ((doc = gate_json_parse(text, len, &bad)) == NULL) {
		fail_read(r, "invalid JSON", bad, (size_t)(text + len - bad));
		return 0;
	}
	runs = (cJSON *)item(doc, "runs");
	if (!cJSON_IsArray(runs)) {
		fail_read(r, "no \"runs\" array", text, len);
		cJSON_Delete(doc);
		return 0;
	}
	cJSON_ArrayForEach(run, runs) {
		const cJSON *results = item(run, "results"), *res;

		if (!cJSON_IsArray(results))
			continue;
		cJSON_ArrayForEach(res, results)
			if (cJSON_IsObject(res))
				add_result(out->root, run, res, r);
	}
	cJSON_Delete(doc);
	r->status = GATE_PASS;
	for (size_t i = 0; i < r->findings.n; i++)
		if (strcmp(r->findings.v[i].severity, "info") != 0)
			r->status = GATE_FAIL;
	return 0;
}
