/* "type": "pester": Invoke-Pester 5 under pwsh on the batch of test files.
 * The result goes to the {report} file as NUnit XML and is read by the
 * shared JUnit/NUnit reader; the process output is only used to explain a
 * run that left no report. */
#include <stdlib.h>

#include "gate.h"
#include "lib/buf.h"
#include "parser.h"
#include "pwsh.h"

static int pester_configure(struct gate *g, const cJSON *obj, const char *path,
    struct jsonget_err *err)
{
	(void)obj;
	(void)path;
	(void)err;
	g->batching = GATE_BATCH_FILES;
	g->wants_report = true;
	g->tests = true;
	return 0;
}

/* Run.Exit stays off: the XML says everything, and an exit code that sums
 * failures would be truncated mod 256 anyway (FORMATS.md §3.1). */
static int pester_argv(const struct gate *g, const char *root, const char *const *files,
    size_t n, const char *report, struct strvec *argv)
{
	struct buf s = BUF_INIT;

	(void)g;
	(void)root;
	buf_addstr(&s, "$ErrorActionPreference = 'Stop'\n"
	    "$ProgressPreference = 'SilentlyContinue'\n"
	    "$files = ");
	pwsh_quote_files(&s, files, n);
	buf_addstr(&s, "\n$report = ");
	pwsh_quote(&s, report ? report : "");
	buf_addstr(&s, "\nImport-Module Pester -MinimumVersion 5.0\n"
	    "$c = New-PesterConfiguration\n"
	    "$c.Run.Path = $files\n"
	    "$c.Run.Exit = $false\n"
	    "$c.TestResult.Enabled = $true\n"
	    "$c.TestResult.OutputFormat = 'NUnitXml'\n"
	    "$c.TestResult.OutputPath = $report\n"
	    "$c.Output.Verbosity = 'None'\n"
	    "Invoke-Pester -Configuration $c\n");
	pwsh_argv(argv, s.buf);
	buf_release(&s);
	return 0;
}

static int pester_version_argv(const struct gate *g, struct strvec *argv)
{
	(void)g;
	pwsh_argv(argv, "(Get-Module -ListAvailable Pester | "
	    "Select-Object -First 1).Version.ToString()");
	return 0;
}

static int pester_parse(const struct gate *g, const struct gate_output *out,
    struct gate_result *r)
{
	size_t i = 0;

	(void)g;
	while (out->report && i < out->report_len &&
	    (out->report[i] == ' ' || out->report[i] == '\n' || out->report[i] == '\r'))
		i++;
	if (out->report == NULL || i == out->report_len) {
		char *ex = out->err_len ? gate_excerpt(out->err, out->err_len) :
		    gate_excerpt(out->out, out->out_len);

		r->status = GATE_ERROR;
		gate_result_msg(r, "Pester wrote no test results (pwsh exit status %d): %s",
		    out->exit_code, ex);
		free(ex);
		return 0;
	}
	return junit_read(out->root, out->files, out->nfiles, out->report, out->report_len, r);
}

const struct gate_ops gate_pester = {
	.type = "pester",
	.configure = pester_configure,
	.argv = pester_argv,
	.parse = pester_parse,
	.version_argv = pester_version_argv,
	.install_hint = "install PowerShell 7 and: Install-Module Pester -MinimumVersion 5.0 "
	    "-Scope CurrentUser",
	/* the code Pester tests is PowerShell, whatever the tests are named */
	.default_triggers = (const char *const[]){ "**/*.ps1", "**/*.psm1", "**/*.psd1", NULL },
};
