/* CI report writers. Shapes follow what reporters accept (see the fixtures'
 * FORMATS.md): JUnit in Ant's de-facto schema, SARIF 2.1.0 with repo-relative
 * URIs and rules, GitHub workflow commands with their escaping. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "daemon/version.h"
#include "lib/uri.h"
#include "report.h"

const char *report_str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int report_num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valueint : 0;
}

int report_format_parse(const char *name)
{
	static const char *const names[] = { "text", "json", "junit", "sarif", "github",
	    "codequality", NULL };

	for (int i = 0; names[i]; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

static void xml_escape(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '<': buf_addstr(b, "&lt;"); break;
		case '>': buf_addstr(b, "&gt;"); break;
		case '&': buf_addstr(b, "&amp;"); break;
		case '"': buf_addstr(b, "&quot;"); break;
		case '\'': buf_addstr(b, "&apos;"); break;
		default:
			/* XML 1.0 allows no control characters but tab, LF, CR */
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
				buf_addf(b, "\\x%02x", c);
			else
				buf_addch(b, (char)c);
		}
	}
}

static void finding_line(struct buf *b, const cJSON *f)
{
	const char *code = report_str(f, "code");

	buf_addf(b, "%s:%d:%d: %s: %s", report_str(f, "path") ? report_str(f, "path") : "?", report_num(f, "line"),
	    report_num(f, "col"), report_str(f, "severity") ? report_str(f, "severity") : "error",
	    report_str(f, "message") ? report_str(f, "message") : "");
	if (code)
		buf_addf(b, " [%s]", code);
	buf_addch(b, '\n');
}

static bool broken(const char *status)
{
	return status && (strcmp(status, "error") == 0 || strcmp(status, "timeout") == 0 ||
	    strcmp(status, "missing") == 0);
}

static void junit(const cJSON *run, struct buf *b)
{
	const cJSON *g, *gates = cJSON_GetObjectItemCaseSensitive(run, "gates");
	int tests = 0, failures = 0, errors = 0;
	struct buf suites = BUF_INIT;

	cJSON_ArrayForEach(g, gates) {
		const cJSON *files = cJSON_GetObjectItemCaseSensitive(g, "files"), *file;
		const cJSON *findings = cJSON_GetObjectItemCaseSensitive(g, "findings");
		const char *gs = report_str(g, "status"), *name = report_str(g, "name");
		int st = 0, sf = 0, se = 0;
		struct buf cases = BUF_INIT;

		cJSON_ArrayForEach(file, files) {
			const char *path = file->valuestring;
			struct buf text = BUF_INIT;
			int nf = 0;
			const cJSON *f;

			cJSON_ArrayForEach(f, findings) {
				if (report_str(f, "path") && strcmp(report_str(f, "path"), path) == 0) {
					finding_line(&text, f);
					nf++;
				}
			}
			st++;
			buf_addstr(&cases, "    <testcase classname=\"");
			xml_escape(&cases, name);
			buf_addstr(&cases, "\" name=\"");
			xml_escape(&cases, path);
			buf_addstr(&cases, "\" file=\"");
			xml_escape(&cases, path);
			buf_addstr(&cases, "\" time=\"0\"");
			if (broken(gs)) {
				se++;
				buf_addf(&cases, ">\n      <error type=\"%s\" message=\"", gs);
				xml_escape(&cases, report_str(g, "message") ? report_str(g, "message") : gs);
				buf_addstr(&cases, "\"/>\n    </testcase>\n");
			} else if (nf > 0 || (gs && strcmp(gs, "fail") == 0 && cJSON_GetArraySize(findings) == 0)) {
				sf++;
				buf_addf(&cases, ">\n      <failure type=\"%s\" message=\"", name);
				if (nf)
					buf_addf(&cases, "%d finding(s)", nf);
				else
					xml_escape(&cases, report_str(g, "message") ? report_str(g, "message") : "failed");
				buf_addstr(&cases, "\">");
				xml_escape(&cases, text.buf);
				buf_addstr(&cases, "</failure>\n    </testcase>\n");
			} else
				buf_addstr(&cases, "/>\n");
			buf_release(&text);
		}
		buf_addstr(&suites, "  <testsuite name=\"");
		xml_escape(&suites, name);
		buf_addf(&suites, "\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"0\" "
		    "time=\"%.3f\">\n", st, sf, se, report_num(g, "duration_ms") / 1000.0);
		buf_add(&suites, cases.buf, cases.len);
		buf_addstr(&suites, "  </testsuite>\n");
		buf_release(&cases);
		tests += st;
		failures += sf;
		errors += se;
	}
	buf_addstr(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	buf_addf(b, "<testsuites name=\"watchd\" tests=\"%d\" failures=\"%d\" errors=\"%d\" "
	    "skipped=\"0\" time=\"%.3f\">\n", tests, failures, errors,
	    report_num(run, "duration_ms") / 1000.0);
	buf_add(b, suites.buf, suites.len);
	buf_addstr(b, "</testsuites>\n");
	buf_release(&suites);
}

/* The official schema's id (OASIS, with the 2.1.0 errata) */
#define SARIF_SCHEMA "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/" \
	"sarif-schema-2.1.0.json"

static const char *sarif_level(const char *sev)
{
	if (sev == NULL || strcmp(sev, "error") == 0)
		return "error";
	if (strcmp(sev, "warning") == 0)
		return "warning";
	return "note";
}

static void sarif(const cJSON *run, struct buf *b)
{
	cJSON *doc = cJSON_CreateObject(), *runs, *g;
	char *s;

	cJSON_AddStringToObject(doc, "$schema", SARIF_SCHEMA);
	cJSON_AddStringToObject(doc, "version", "2.1.0");
	runs = cJSON_AddArrayToObject(doc, "runs");
	cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(run, "gates")) {
		cJSON *r = cJSON_CreateObject(), *driver, *rules, *results, *f;

		driver = cJSON_AddObjectToObject(cJSON_AddObjectToObject(r, "tool"), "driver");
		cJSON_AddStringToObject(driver, "name", report_str(g, "name"));
		/* the gate is watchd's component: its version and home, which
		 * code scanning shows beside each alert */
		cJSON_AddStringToObject(driver, "version", WATCHD_VERSION);
		cJSON_AddStringToObject(driver, "informationUri", WATCHD_URL);
		rules = cJSON_AddArrayToObject(driver, "rules");
		results = cJSON_AddArrayToObject(r, "results");
		cJSON_AddStringToObject(r, "columnKind", "unicodeCodePoints");
		cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(g, "findings")) {
			const char *code = report_str(f, "code") ? report_str(f, "code") : report_str(g, "name");
			cJSON *res = cJSON_CreateObject(), *loc, *phys, *region, *rule, *known = NULL;

			cJSON_ArrayForEach(rule, rules)
				if (strcmp(report_str(rule, "id"), code) == 0)
					known = rule;
			if (known == NULL) {
				rule = cJSON_CreateObject();
				cJSON_AddStringToObject(rule, "id", code);
				cJSON_AddItemToObject(rule, "shortDescription", cJSON_CreateObject());
				cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(rule,
				    "shortDescription"), "text", code);
				if (report_str(f, "url"))
					cJSON_AddStringToObject(rule, "helpUri", report_str(f, "url"));
				cJSON_AddItemToArray(rules, rule);
			}
			cJSON_AddStringToObject(res, "ruleId", code);
			cJSON_AddStringToObject(res, "level", sarif_level(report_str(f, "severity")));
			cJSON_AddStringToObject(cJSON_AddObjectToObject(res, "message"), "text",
			    report_str(f, "message") && *report_str(f, "message") ? report_str(f, "message") : code);
			loc = cJSON_CreateObject();
			phys = cJSON_AddObjectToObject(loc, "physicalLocation");
			{
				/* a relative reference against the checkout's root:
				 * a raw path with a space, '#' or "c:" is no URI */
				cJSON *art = cJSON_AddObjectToObject(phys, "artifactLocation");
				struct buf u = BUF_INIT;

				uri_add_relpath(&u, report_str(f, "path") ? report_str(f, "path") : "");
				cJSON_AddStringToObject(art, "uri", u.buf);
				cJSON_AddStringToObject(art, "uriBaseId", "%SRCROOT%");
				buf_release(&u);
			}
			region = cJSON_AddObjectToObject(phys, "region");
			cJSON_AddNumberToObject(region, "startLine", report_num(f, "line") > 0 ? report_num(f, "line") : 1);
			if (report_num(f, "col") > 0)
				cJSON_AddNumberToObject(region, "startColumn", report_num(f, "col"));
			if (report_num(f, "end_line") > 0)
				cJSON_AddNumberToObject(region, "endLine", report_num(f, "end_line"));
			if (report_num(f, "end_col") > 0)
				cJSON_AddNumberToObject(region, "endColumn", report_num(f, "end_col"));
			cJSON_AddItemToArray(cJSON_AddArrayToObject(res, "locations"), loc);
			cJSON_AddItemToArray(results, res);
		}
		cJSON_AddItemToArray(runs, r);
	}
	s = cJSON_Print(doc);
	buf_addstr(b, s);
	buf_addch(b, '\n');
	cJSON_free(s);
	cJSON_Delete(doc);
}

void report_write(const cJSON *run, enum report_format fmt, struct buf *out)
{
	switch (fmt) {
	case REPORT_JUNIT:
		junit(run, out);
		break;
	case REPORT_SARIF:
		sarif(run, out);
		break;
	case REPORT_GITHUB:
		report_github(run, out);
		break;
	case REPORT_CODEQUALITY:
		report_codequality(run, out);
		break;
	case REPORT_JSON: {
		char *s = cJSON_Print(run);

		buf_addstr(out, s);
		buf_addch(out, '\n');
		cJSON_free(s);
		break;
	}
	case REPORT_TEXT:
		break;	/* the caller prints text through oneshot_print_text */
	}
}
