/* "type": "psscriptanalyzer": Invoke-ScriptAnalyzer under pwsh. The records
 * go to the {report} file as JSON, because pwsh prints warnings on stdout
 * (FORMATS.md §2.2); the parser accepts every shape ConvertTo-Json writes. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gate.h"
#include "lib/buf.h"
#include "lib/jsonget.h"
#include "lib/xmalloc.h"
#include "pwsh.h"

static const char *const pssa_keys[] = { "settings", NULL };

static int pssa_configure(struct gate *g, const cJSON *obj, const char *path,
    struct jsonget_err *err)
{
	int rc;

	if ((rc = jsonget_string(obj, path, "settings", &g->settings, err)) != 0)
		return rc;
	if (g->settings == NULL)
		g->settings = xstrdup("PSScriptAnalyzer.psd1");
	/* the settings decide what is reported: editing them re-runs the gate */
	gate_add_config_file(g, g->settings);
	g->batching = GATE_BATCH_FILES;
	g->wants_report = true;
	return 0;
}

/* The script names every outside value once, as a quoted literal in an
 * assignment; tests/tools/pwsh relies on exactly these assignments. The
 * settings file is optional, so it is looked up when the gate runs.
 * -Path takes wildcards, hence the escape; an error in one file stops the
 * run (no report), which the parser turns into "error". */
static int pssa_argv(const struct gate *g, const char *root, const char *const *files,
    size_t n, const char *report, struct strvec *argv)
{
	struct buf s = BUF_INIT;

	(void)root;
	buf_addstr(&s, "$ErrorActionPreference = 'Stop'\n"
	    "$WarningPreference = 'SilentlyContinue'\n"
	    "$ProgressPreference = 'SilentlyContinue'\n"
	    "$files = ");
	pwsh_quote_files(&s, files, n);
	buf_addstr(&s, "\n$report = ");
	pwsh_quote(&s, report ? report : "");
	buf_addstr(&s, "\n$settings = ");
	pwsh_quote(&s, g->settings ? g->settings : "");
	buf_addstr(&s, "\n$opts = @{}\n"
	    "if ($settings -and (Test-Path -LiteralPath $settings)) { $opts['Settings'] = $settings }\n"
	    "$records = @(foreach ($f in $files) {\n"
	    "\tInvoke-ScriptAnalyzer -Path ([WildcardPattern]::Escape($f)) @opts\n"
	    "})\n"
	    "ConvertTo-Json -InputObject @($records) -Depth 6 |\n"
	    "\tSet-Content -LiteralPath $report -Encoding utf8\n");
	pwsh_argv(argv, s.buf);
	buf_release(&s);
	return 0;
}

static int pssa_version_argv(const struct gate *g, struct strvec *argv)
{
	(void)g;
	pwsh_argv(argv, "(Get-Module -ListAvailable PSScriptAnalyzer | "
	    "Select-Object -First 1).Version.ToString()");
	return 0;
}

static const cJSON *item(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static const char *str_item(const cJSON *o, const char *key)
{
	const cJSON *v = item(o, key);

	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

static int num_item(const cJSON *o, const char *key)
{
	const cJSON *v = item(o, key);

	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e9)
		return 0;
	return (int)v->valuedouble;
}

/* Severity is an int (enum DiagnosticSeverity) unless -EnumsAsStrings;
 * ParseError is a finding like any other error. */
static const char *severity(const cJSON *o)
{
	static const char *const names[] = { "Information", "Warning", "Error", "ParseError" };
	static const char *const ours[] = { "info", "warning", "error", "error" };
	const cJSON *v = item(o, "Severity");

	if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 3)
		return ours[(int)v->valuedouble];
	if (cJSON_IsString(v))
		for (size_t i = 0; i < 4; i++)
			if (strcasecmp(v->valuestring, names[i]) == 0)
				return ours[i];
	return "warning";
}

/* Line/Column are null when Extent is; projections may keep only them. */
static void position(const cJSON *o, struct finding *f)
{
	const cJSON *ext = item(o, "Extent");

	f->line = num_item(o, "Line");
	f->col = num_item(o, "Column");
	if (!cJSON_IsObject(ext))
		return;
	if (f->line == 0)
		f->line = num_item(ext, "StartLineNumber");
	if (f->col == 0)
		f->col = num_item(ext, "StartColumnNumber");
	f->end_line = num_item(ext, "EndLineNumber");
	f->end_col = num_item(ext, "EndColumnNumber");
}

static const char *record_path(const cJSON *o)
{
	const cJSON *ext = item(o, "Extent");
	const char *p = str_item(o, "ScriptPath");

	if (p == NULL && cJSON_IsObject(ext))
		p = str_item(ext, "File");
	if (p == NULL)
		p = str_item(o, "File");
	if (p == NULL)
		p = str_item(o, "ScriptName");
	return p;
}

static int add_record(const char *root, const cJSON *o, struct gate_result *r)
{
	struct finding f = { 0 };
	const char *msg = str_item(o, "Message");

	if (!cJSON_IsObject(o) || (!item(o, "RuleName") && !item(o, "Message")))
		return -1;
	position(o, &f);
	f.path = gate_relpath(root, record_path(o));
	f.code = (char *)str_item(o, "RuleName");
	f.severity = (char *)severity(o);
	f.message = (char *)(msg ? msg : "");
	findings_add(&r->findings, &f);
	free(f.path);
	return 0;
}

static void report_error(struct gate_result *r, const char *what, const char *s, size_t len)
{
	char *ex = gate_excerpt(s, len);

	r->status = GATE_ERROR;
	gate_result_msg(r, "%s: %s", what, ex);
	free(ex);
}

/* The records as a JSON document: nothing, one object or an array. */
static void read_records(const char *root, const char *text, size_t len, struct gate_result *r)
{
	const char *bad;
	cJSON *doc = gate_json_parse(text, len, &bad), *o;
	int rc = 0;

	if (doc == NULL) {
		report_error(r, "cannot read the PSScriptAnalyzer report (invalid JSON)", bad,
		    (size_t)(text + len - bad));
		return;
	}
	if (cJSON_IsArray(doc)) {
		cJSON_ArrayForEach(o, doc)
			if ((rc = add_record(root, o, r)) != 0)
				break;
	} else if (!cJSON_IsNull(doc))
		rc = add_record(root, doc, r);
	if (rc != 0) {
		findings_release(&r->findings);
		report_error(r, "cannot read the PSScriptAnalyzer report (not a record)", text, len);
	}
	cJSON_Delete(doc);
}

static bool blank(const char *s, size_t len)
{
	s = gate_skip_bom(s, &len);
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

static int pssa_parse(const struct gate *g, const struct gate_output *out, struct gate_result *r)
{
	bool empty = out->report == NULL || blank(out->report, out->report_len);

	(void)g;
	if (empty && out->exit_code != 0) {
		report_error(r, "pwsh failed before writing its report",
		    out->err_len ? out->err : out->out, out->err_len ? out->err_len : out->out_len);
		return 0;
	}
	if (out->report == NULL) {
		r->status = GATE_ERROR;
		gate_result_msg(r, "PSScriptAnalyzer wrote no report");
		return 0;
	}
	/* ConvertTo-Json writes nothing at all for no records */
	if (!empty)
		read_records(out->root, out->report, out->report_len, r);
	if (r->status == GATE_ERROR)
		return 0;
	r->status = GATE_PASS;
	for (size_t i = 0; i < r->findings.n; i++)
		if (strcmp(r->findings.v[i].severity, "info") != 0)
			r->status = GATE_FAIL;
	return 0;
}

const struct gate_ops gate_pssa = {
	.type = "psscriptanalyzer",
	.keys = pssa_keys,
	.configure = pssa_configure,
	.argv = pssa_argv,
	.parse = pssa_parse,
	.version_argv = pssa_version_argv,
	.install_hint = "install PowerShell 7 and: Install-Module PSScriptAnalyzer -Scope CurrentUser",
};
