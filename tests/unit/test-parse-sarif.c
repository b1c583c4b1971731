/* SARIF 2.1.0: ruff's real output and GitHub's minimal example. */
#include "gate-test.h"
#include "gates/parser.h"

static void parse(const char *root, const char *text, size_t len, bool report,
    struct gate_result *r)
{
	struct gate g = { 0 };
	struct gate_output o = gt_output(root, text, len, 1, report);

	ASSERT_OK(parse_sarif(&g, &o, r));
}

TEST_IMPL(sarif_ruff)
{
	struct buf b = BUF_INIT;
	struct gate_result r = GATE_RESULT_INIT;

	gt_read(&b, FIXTURE("ruff/check_sarif_v0.16.4.json"));
	parse("[TMP]", b.buf, b.len, false, &r);
	ASSERT_EQ(r.status, GATE_FAIL);
	ASSERT_EQ(r.findings.n, 3);
	ASSERT_FINDING(&r.findings.v[0], "input.py", 1, 8, "F401", "error",
	    "`os` imported but unused");
	ASSERT_EQ(r.findings.v[0].end_line, 1);
	ASSERT_EQ(r.findings.v[0].end_col, 10);
	ASSERT_STR_EQ(r.findings.v[0].url, "https://docs.astral.sh/ruff/rules/unused-import");
	ASSERT_FINDING(&r.findings.v[2], "input.py", 3, 1, "invalid-syntax", "error",
	    "Cannot use `match` statement on Python 3.9 (syntax was added in Python 3.10)");
	ASSERT_NULL(r.findings.v[2].url);
	gate_result_release(&r);
	buf_release(&b);
	return 0;
}

TEST_IMPL(sarif_github_minimal)
{
	struct buf b = BUF_INIT;
	struct gate_result r = GATE_RESULT_INIT;

	gt_read(&b, FIXTURE("sarif/github-docs_minimum-required-properties.sarif.json"));
	parse("/repo", b.buf, b.len, true, &r);
	ASSERT_EQ(r.status, GATE_FAIL);	/* no level: "warning" */
	ASSERT_EQ(r.findings.n, 1);
	ASSERT_FINDING(&r.findings.v[0], "fileURI", 2, 7, "R01", "warning",
	    "Result text. This result does not have a rule associated.");
	ASSERT_EQ(r.findings.v[0].end_col, 10);
	gate_result_release(&r);
	buf_release(&b);
	return 0;
}

TEST_IMPL(sarif_levels_uris_runs)
{
	static const char text[] = "{\"version\": \"2.1.0\", \"runs\": ["
	    "{\"tool\": {\"driver\": {\"name\": \"a\", \"rules\": [{\"id\": \"N1\", "
	    "\"defaultConfiguration\": {\"level\": \"note\"}}]}}, \"results\": [{\"ruleId\": \"N1\", "
	    "\"message\": {\"text\": \"n\"}, \"locations\": [{\"physicalLocation\": "
	    "{\"artifactLocation\": {\"uri\": \"file:///repo/src/a%20b.py\"}}}]}]},"
	    "{\"tool\": {\"driver\": {\"name\": \"b\"}}, \"results\": [{\"level\": \"none\", "
	    "\"message\": {\"text\": \"x\"}}]}, {\"tool\": {}}]}";
	struct gate_result r = GATE_RESULT_INIT;

	parse("/repo", text, strlen(text), false, &r);
	ASSERT_EQ(r.status, GATE_PASS);
	ASSERT_EQ(r.findings.n, 2);
	ASSERT_FINDING(&r.findings.v[0], "src/a b.py", 0, 0, "N1", "info", "n");
	ASSERT_FINDING(&r.findings.v[1], NULL, 0, 0, NULL, "info", "x");
	gate_result_release(&r);
	return 0;
}

TEST_IMPL(sarif_errors)
{
	struct gate_result r = GATE_RESULT_INIT;

	parse("/r", "{\"runs\": [", 10, false, &r);
	ASSERT_EQ(r.status, GATE_ERROR);
	ASSERT_CONTAINS(r.message, "invalid JSON");
	gate_result_release(&r);

	r = (struct gate_result)GATE_RESULT_INIT;
	parse("/r", "[]", 2, false, &r);
	ASSERT_EQ(r.status, GATE_ERROR);
	ASSERT_CONTAINS(r.message, "no \"runs\" array");
	gate_result_release(&r);

	r = (struct gate_result)GATE_RESULT_INIT;
	parse("/r", "", 0, false, &r);
	ASSERT_EQ(r.status, GATE_ERROR);
	ASSERT_CONTAINS(r.message, "no SARIF output");
	gate_result_release(&r);
	return 0;
}
