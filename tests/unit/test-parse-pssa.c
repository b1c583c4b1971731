/* PSScriptAnalyzer records as ConvertTo-Json writes them: the real pwsh 7
 * outputs, every shape (nothing, one object, an array), BOM, enums as
 * strings, null positions, and the error cases. */
#include "gate-test.h"

extern const struct gate_ops gate_pssa;

static void parse_report(const char *root, const char *text, size_t len, int exit_code,
    struct gate_result *r)
{
	struct gate g = { 0 };
	struct gate_output o = gt_output(root, text, len, exit_code, true);

	ASSERT_OK(gate_pssa.parse(&g, &o, r));
}

static void parse_str(const char *text, struct gate_result *r)
{
	parse_report("/repo", text, strlen(text), 0, r);
}

TEST_IMPL(pssa_full_depth)
{
	struct buf b = BUF_INIT;
	struct gate_result r = GATE_RESULT_INIT;
	int info = 0, warn = 0;

	gt_read(&b, FIXTURE("psscriptanalyzer/convertto-json_depth-full_pwsh7.json"));
	parse_report("/repo", b.buf, b.len, 0, &r);
	ASSERT_EQ(r.status, GATE_FAIL);
	ASSERT_EQ(r.findings.n, 36);
	for (size_t i = 0; i < r.findings.n; i++) {
		info += strcmp(r.findings.v[i].severity, "info") == 0;
		warn += strcmp(r.findings.v[i].severity, "warning") == 0;
	}
	ASSERT_EQ(info, 30);
	ASSERT_EQ(warn, 6);
	/* Windows paths are not under a POSIX root: kept as given */
	ASSERT_FINDING(&r.findings.v[1],
	    "D:\\IdentityFirst-Ltd\\web\\2026web\\powershell-modules\\Module\\"
	    "IdentityFirst.QuickChecks.psm1", 71, 5, "PSAvoidUsingEmptyCatchBlock", "warning",
	    "Empty catch block is used. Please use Write-Error or throw statements in catch "
	    "blocks.");
	ASSERT_EQ(r.findings.v[1].end_line, 73);
	ASSERT_EQ(r.findings.v[1].end_col, 6);
	gate_result_release(&r);
	buf_release(&b);
	return 0;
}

TEST_IMPL(pssa_truncated_depth_and_null_extent)
{
	struct buf b = BUF_INIT;
	struct gate_result r = GATE_RESULT_INIT;

	gt_read(&b, FIXTURE("psscriptanalyzer/convertto-json_depth-truncated_subset.json"));
	parse_report("C:\\Users\\ichim", b.buf, b.len, 0, &r);
	ASSERT_EQ(r.status, GATE_FAIL);
	ASSERT_EQ(r.findings.n, 20);
	ASSERT_FINDING(&r.findings.v[0], "C:\\Users\\ichim\\OneDrive\\Desktop\\Projects\\"
	    "script_mentenanta\\modules\\core\\CommonUtilities.psm1", 0, 0,
	    "PSUseBOMForUnicodeEncodedFile", "warning",
	    "Missing BOM encoding for non-ASCII encoded file 'CommonUtilities.psm1'");
	ASSERT_EQ(r.findings.v[1].line, 348);
	gate_result_release(&r);
	buf_release(&b);
	return 0;
}

TEST_IMPL(pssa_parse_errors_projected)
{
	struct buf b = BUF_INIT;
	struct gate_result r = GATE_RESULT_INIT;

	gt_read(&b, FIXTURE("psscriptanalyzer/projected_parse_errors.json"));
	parse_report("/repo", b.buf, b.len, 0, &r);
	ASSERT_EQ(r.status, GATE_FAIL);
	ASSERT_EQ(r.findings.n, 4);
	ASSERT_FINDING(&r.findings.v[0], "dev-tools/Create-SelfSignedCert.ps1", 10, 23,
	    "InvalidLeftHandSide", "error", "The assignment expression is not valid. The input "
	    "to an assignment operator must be an object that is able to accept assignments.");
	ASSERT_FINDING(&r.findings.v[3], "Install-QuickChecks.ps1", 189, 18,
	    "TerminatorExpectedAtEndOfString", "error", "The string is missing the terminator: \"@.");
	gate_result_release(&r);
	buf_release(&b);
	return 0;
}

TEST_IMPL(pssa_shapes)
{
	struct gate_result r = GATE_RESULT_INIT;

	/* ConvertTo-Json writes nothing for no input */
	parse_str("", &r);
	ASSERT_EQ(r.status, GATE_PASS);
	ASSERT_EQ(r.findings.n, 0);
	gate_result_release(&r);

	r = (struct gate_result)GATE_RESULT_INIT;
	parse_str("\xef\xbb\xbf[]\r\n", &r);
	ASSERT_EQ(r.status, GATE_PASS);
	gate_result_release(&r);

	/* one record: a bare object; 5.1 spacing; enum as string; BOM */
	r = (struct gate_result)GATE_RESULT_INIT;
	parse_str("\xef\xbb\xbf{\r\n    \"Message\":  \"Line has trailing whitespace\",\r\n"
	    "    \"RuleName\":  \"PSAvoidTrailingWhitespace\",\r\n    \"Severity\":  \"Information\","
	    "\r\n    \"ScriptPath\":  \"/repo/./a.ps1\",\r\n    \"Extent\":  {\"StartLineNumber\": 3,"
	    " \"StartColumnNumber\": 1},\r\n    \"Line\":  null,\r\n    \"Column\":  null\r\n}", &r);
	ASSERT_EQ(r.status, GATE_PASS);	/* info only */
	ASSERT_EQ(r.findings.n, 1);
	ASSERT_FINDING(&r.findings.v[0], "a.ps1", 3, 1, "PSAvoidTrailingWhitespace", "info",
	    "Line has trailing whitespace");
	gate_result_release(&r);

	r = (struct gate_result)GATE_RESULT_INIT;
	parse_str("[{\"RuleName\": \"MissingEndCurlyBrace\", \"Severity\": 3, \"Message\": \"Missing "
	    "closing '}'\", \"ScriptPath\": \"/repo/b.ps1\", \"Line\": 2, \"Column\": 9},"
	    "{\"RuleName\": \"X\", \"Severity\": \"ParseError\", \"Message\": \"\", "
	    "\"ScriptPath\": \"\", \"ScriptName\": \"c.ps1\", \"Extent\": null}]", &r);
	ASSERT_EQ(r.status, GATE_FAIL);
	ASSERT_FINDING(&r.findings.v[0], "b.ps1", 2, 9, "MissingEndCurlyBrace", "error",
	    "Missing closing '}'");
	ASSERT_FINDING(&r.findings.v[1], "c.ps1", 0, 0, "X", "error", "");
	gate_result_release(&r);
	return 0;
}

TEST_IMPL(pssa_errors)
{
	struct gate g = { 0 };
	struct gate_output o = gt_output("/repo", NULL, 0, 0, true);
	struct gate_result r = GATE_RESULT_INIT;

	ASSERT_OK(gate_pssa.parse(&g, &o, &r));
	ASSERT_EQ(r.status, GATE_ERROR);
	ASSERT_STR_EQ(r.message, "PSScriptAnalyzer wrote no report");
	gate_result_release(&r);

	r = (struct gate_result)GATE_RESULT_INIT;
	o.exit_code = 1;
	o.err = "Invoke-ScriptAnalyzer: The term 'Invoke-ScriptAnalyzer' is not recognized\n";
	o.err_len = strlen(o.err);
	ASSERT_OK(gate_pssa.parse(&g, &o, &r));
	ASSERT_EQ(r.status, GATE_ERROR);
	ASSERT_CONTAINS(r.message, "pwsh failed before writing its report: Invoke-ScriptAnalyzer:");
	gate_result_release(&r);

	r = (struct gate_result)GATE_RESULT_INIT;
	parse_str("WARNING: Resulting JSON is truncated\n[{", &r);
	ASSERT_EQ(r.status, GATE_ERROR);
	ASSERT_CONTAINS(r.message, "invalid JSON");
	gate_result_release(&r);

	r = (struct gate_result)GATE_RESULT_INIT;
	parse_str("[{\"RuleName\": \"A\", \"Severity\": 1, \"Message\": \"m\"}, 42]", &r);
	ASSERT_EQ(r.status, GATE_ERROR);
	ASSERT_EQ(r.findings.n, 0);
	ASSERT_CONTAINS(r.message, "not a record");
	gate_result_release(&r);

	r = (struct gate_result)GATE_RESULT_INIT;
	parse_str("\"just a string\"", &r);
	ASSERT_EQ(r.status, GATE_ERROR);
	gate_result_release(&r);
	return 0;
}
