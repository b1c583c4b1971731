/* Ruff's JSON and format-check output, every version drift in FORMATS.md
 * §1.1 against the real snapshots, and what broken output turns into. */
#include "gate-test.h"
#include "gates/parser.h"
#include "lib/xmalloc.h"

extern const struct gate_ops gate_ruff, gate_ruff_format;

static void parse_fixture(const char *path, const char *root, struct gate_result *r)
{
	struct buf b = BUF_INIT;

	gt_read(&b, path);
	ASSERT_OK(ruff_json_parse(root, b.buf, b.len, r));
	buf_release(&b);
}

static void check_v16_findings(const struct gate_result *r)
{
	const struct finding *f = r->findings.v;

	ASSERT_EQ(r->findings.n, 3);
	ASSERT_FINDING(&f[0], "input.py", 1, 8, "F401", "error", "`os` imported but unused");
	ASSERT_EQ(f[0].end_line, 1);
	ASSERT_EQ(f[0].end_col, 10);
	ASSERT_STR_EQ(f[0].url, "https://docs.astral.sh/ruff/rules/unused-import");
	ASSERT(f[0].fixable);
	ASSERT_FINDING(&f[1], "input.py", 2, 5, "F821", "error", "Undefined name `y`");
	ASSERT(!f[1].fixable);
	ASSERT_FINDING(&f[2], "input.py", 3, 1, "invalid-syntax", "error",
	    "Cannot use `match` statement on Python 3.9 (syntax was added in Python 3.10)");
	ASSERT_NULL(f[2].url);
}

TEST_IMPL(ruff_json_v0_16)
{
	struct gate_result r = GATE_RESULT_INIT;

	parse_fixture(FIXTURE("ruff/check_json_v0.16.4.json"), "[TMP]", &r);
	ASSERT_EQ(r.status, GATE_PASS);	/* untouched: the executor decides */
	check_v16_findings(&r);
	gate_result_release(&r);
	return 0;
}

TEST_IMPL(ruff_json_v0_15_no_name_severity)
{
	struct gate_result r = GATE_RESULT_INIT;

	parse_fixture(FIXTURE("ruff/check_json_v0.15.6.json"), "[TMP]/", &r);
	check_v16_findings(&r);
	gate_result_release(&r);
	return 0;
}

TEST_IMPL(ruff_json_jsonl)
{
	struct gate_result r = GATE_RESULT_INIT;

	parse_fixture(FIXTURE("ruff/check_json-lines_v0.16.4.jsonl"), "[TMP]", &r);
	ASSERT_EQ(r.status, GATE_PASS);
	check_v16_findings(&r);
	gate_result_release(&r);
	return 0;
}

TEST_IMPL(ruff_json_legacy_syntax_errors)
{
	struct gate_result r = GATE_RESULT_INIT;

	parse_fixture(FIXTURE("ruff/check_json_syntax_errors_v0.12.3.json"), "/repo", &r);
	ASSERT_EQ(r.findings.n, 2);
	ASSERT_FINDING(&r.findings.v[0], "syntax_errors.py", 1, 15, "invalid-syntax", "error",
	    "Expected one or more symbol names after import");
	ASSERT_FINDING(&r.findings.v[1], "syntax_errors.py", 3, 12, "invalid-syntax", "error",
	    "Expected ')', found newline");
	ASSERT_NULL(r.findings.v[1].url);
	gate_result_release(&r);
	return 0;
}

TEST_IMPL(ruff_json_notebook)
{
	struct gate_result r = GATE_RESULT_INIT;

	parse_fixture(FIXTURE("ruff/check_json_notebook_v0.16.4.json"), "/", &r);
	ASSERT_EQ(r.findings.n, 3);
	ASSERT_FINDING(&r.findings.v[0], "notebook.ipynb", 2, 8, "F401", "error",
	    "`os` imported but unused (cell 1)");
	ASSERT(r.findings.v[0].fixable);
	ASSERT_FINDING(&r.findings.v[2], "notebook.ipynb", 4, 5, "F841", "error",
	    "Local variable `x` is assigned to but never used (cell 3)");
	ASSERT(!r.findings.v[2].fixable);	/* unsafe fixes need --unsafe-fixes */
	gate_result_release(&r);
	return 0;
}

/* Since 0.16 filename/location may be null, --preview codes may be null. */
TEST_IMPL(ruff_json_nulls)
{
	static const char text[] = "[{\"code\": null, \"name\": \"some-diagnostic\", "
	    "\"filename\": null, \"location\": null, \"end_location\": null, \"message\": \"m\","
	    " \"severity\": \"warning\", \"unknown\": {\"x\": 1}}, {}]";
	struct gate_result r = GATE_RESULT_INIT;

	ASSERT_OK(ruff_json_parse("/r", text, strlen(text), &r));
	ASSERT_EQ(r.findings.n, 2);
	ASSERT_FINDING(&r.findings.v[0], NULL, 0, 0, "some-diagnostic", "warning",
	    "m");
	ASSERT_STR_EQ(r.findings.v[1].code, "invalid-syntax");
	ASSERT_STR_EQ(r.findings.v[1].message, "");
	gate_result_release(&r);
	return 0;
}

static void expect_error(const char *text, const char *msg_part)
{
	struct gate_result r = GATE_RESULT_INIT;

	ASSERT_OK(ruff_json_parse("/r", text, strlen(text), &r));
	ASSERT_EQ(r.status, GATE_ERROR);
	ASSERT_EQ(r.findings.n, 0);
	ASSERT_CONTAINS(r.message, msg_part);
	gate_result_release(&r);
}

TEST_IMPL(ruff_json_bad_output)
{
	struct buf b = BUF_INIT;
	struct gate_result r = GATE_RESULT_INIT;

	expect_error("", "empty output");
	expect_error("  \n", "empty output");
	expect_error("error: Failed to parse pyproject.toml", "invalid JSON");
	expect_error("{\"code\": \"F401\"}", "expected a JSON array");
	expect_error("[1, 2]", "not an object");
	expect_error("[{\"code\": \"F401\"}] trailing", "trailing");
	/* a truncated capture: cut the real output in the middle */
	gt_read(&b, FIXTURE("ruff/check_json_v0.16.4.json"));
	ASSERT_OK(ruff_json_parse("/r", b.buf, b.len / 2, &r));
	ASSERT_EQ(r.status, GATE_ERROR);
	ASSERT_EQ(r.findings.n, 0);
	ASSERT_CONTAINS(r.message, "invalid JSON");
	gate_result_release(&r);
	buf_release(&b);
	return 0;
}

static void run_ops(const struct gate_ops *ops, const char *text, const char *err, int code,
    struct gate_result *r)
{
	struct gate g = { 0 };
	struct gate_output o = gt_output("[TMP]", text, strlen(text), code, false);

	o.err = err;
	o.err_len = strlen(err);
	ASSERT_OK(ops->parse(&g, &o, r));
}

TEST_IMPL(ruff_check_exit_codes)
{
	struct buf b = BUF_INIT;
	struct gate_result r = GATE_RESULT_INIT;

	gt_read(&b, FIXTURE("ruff/check_json_v0.16.4.json"));
	run_ops(&gate_ruff, b.buf, "", 1, &r);
	ASSERT_EQ(r.status, GATE_FAIL);
	ASSERT_EQ(r.findings.n, 3);
	gate_result_release(&r);

	r = (struct gate_result)GATE_RESULT_INIT;
	run_ops(&gate_ruff, "[]", "", 0, &r);
	ASSERT_EQ(r.status, GATE_PASS);
	ASSERT_NULL(r.message);
	gate_result_release(&r);

	r = (struct gate_result)GATE_RESULT_INIT;
	run_ops(&gate_ruff, "", "ruff failed\n  Cause: Failed to parse ruff.toml\n", 2, &r);
	ASSERT_EQ(r.status, GATE_ERROR);
	ASSERT_STR_EQ(r.message, "ruff exited with status 2: ruff failed Cause: Failed to "
	    "parse ruff.toml");
	gate_result_release(&r);

	r = (struct gate_result)GATE_RESULT_INIT;
	run_ops(&gate_ruff, "[]", "", 1, &r);
	ASSERT_EQ(r.status, GATE_FAIL);
	ASSERT_CONTAINS(r.message, "without findings");
	gate_result_release(&r);

	r = (struct gate_result)GATE_RESULT_INIT;
	run_ops(&gate_ruff, "[{\"code\": \"F4", "", 1, &r);
	ASSERT_EQ(r.status, GATE_ERROR);
	gate_result_release(&r);
	buf_release(&b);
	return 0;
}

TEST_IMPL(ruff_format_outputs)
{
	static const char *const fixtures[] = {
		FIXTURE("ruff/format_check_default_v0.16.4.txt"),
		FIXTURE("ruff/format_check_default_v0.15.0.txt"),
	};

	for (size_t i = 0; i < 2; i++) {
		struct buf b = BUF_INIT;
		struct gate_result r = GATE_RESULT_INIT;

		gt_read(&b, fixtures[i]);
		run_ops(&gate_ruff_format, b.buf, "", 1, &r);
		ASSERT_EQ(r.status, GATE_FAIL);
		ASSERT_EQ(r.findings.n, 2);
		ASSERT_FINDING(&r.findings.v[0], "bar.py", i == 0 ? 1 : 0, i == 0 ? 7 : 0,
		    "unformatted", "error", "File would be reformatted");
		ASSERT_STR_EQ(r.findings.v[1].path, "foo.py");
		gate_result_release(&r);
		buf_release(&b);
	}
	return 0;
}

TEST_IMPL(ruff_format_json_and_exits)
{
	struct buf b = BUF_INIT;
	struct gate_result r = GATE_RESULT_INIT;

	gt_read(&b, FIXTURE("ruff/format_check_json_v0.16.4.json"));
	run_ops(&gate_ruff_format, b.buf, "", 1, &r);
	ASSERT_EQ(r.status, GATE_FAIL);
	ASSERT_EQ(r.findings.n, 1);
	ASSERT_FINDING(&r.findings.v[0], "input.py", 1, 1, "unformatted", "error",
	    "File would be reformatted");
	gate_result_release(&r);

	r = (struct gate_result)GATE_RESULT_INIT;
	run_ops(&gate_ruff_format, "1 file already formatted\n", "", 0, &r);
	ASSERT_EQ(r.status, GATE_PASS);
	gate_result_release(&r);

	r = (struct gate_result)GATE_RESULT_INIT;
	run_ops(&gate_ruff_format, "", "error: Failed to parse x.py:1:5: Expected an expression\n",
	    2, &r);
	ASSERT_EQ(r.status, GATE_ERROR);
	ASSERT_CONTAINS(r.message, "Failed to parse x.py");
	gate_result_release(&r);

	/* a path with ':' and a CRLF line: numbers are read from the right */
	r = (struct gate_result)GATE_RESULT_INIT;
	run_ops(&gate_ruff_format, "unformatted: File would be reformatted\r\n --> a:b.py:3:4\r\n",
	    "", 1, &r);
	ASSERT_EQ(r.findings.n, 1);
	ASSERT_FINDING(&r.findings.v[0], "a:b.py", 3, 4, "unformatted", "error",
	    "File would be reformatted");
	gate_result_release(&r);
	buf_release(&b);
	return 0;
}

/* A stream cut at the parse limit is never judged from its readable part:
 * the findings in it would be a subset passed off as the whole. */
TEST_IMPL(ruff_cut_output_is_an_error)
{
	struct buf b = BUF_INIT;
	struct gate g = { 0 };
	struct gate_result r = GATE_RESULT_INIT;
	struct gate_output o;

	gt_read(&b, FIXTURE("ruff/check_json_v0.16.4.json"));
	o = gt_output("/repo", b.buf, b.len, 1, false);
	o.out_truncated = true;
	o.limit = (size_t)64 << 20;
	ASSERT_OK(gate_ruff.parse(&g, &o, &r));
	ASSERT_EQ(r.status, GATE_ERROR);
	ASSERT_EQ(r.findings.n, 0);
	ASSERT_CONTAINS(r.message, "more than 64 MiB on stdout");
	gate_result_release(&r);
	r = (struct gate_result)GATE_RESULT_INIT;
	o.out_truncated = false;
	ASSERT_OK(gate_ruff.parse(&g, &o, &r));
	ASSERT_EQ(r.status, GATE_FAIL);
	ASSERT_EQ(r.findings.n, 3);
	gate_result_release(&r);
	buf_release(&b);
	return 0;
}

/* Tool output is a buffer, not a string: its last line may end in digits
 * with nothing after them, and those digits may not fit an int. Each case
 * sits in an exact-size heap copy, so a read past its end trips ASan. */
TEST_IMPL(ruff_format_unterminated_numbers)
{
	static const char *const cases[] = {
		"unformatted: File would be reformatted\n --> a.py:3:4",
		"unformatted: File would be reformatted\n --> a.py:3:99999999999999999999",
		"unformatted: File would be reformatted\n --> a.py:99999999999999999999:7",
	};
	static const int want_line[] = { 3, 3, 2147483647 };
	static const int want_col[] = { 4, 2147483647, 7 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = strlen(cases[i]);
		char *exact = xmalloc(n);
		struct gate_result r = GATE_RESULT_INIT;

		memcpy(exact, cases[i], n);
		ASSERT_OK(ruff_format_text_parse("", exact, n, &r));
		ASSERT_EQ(r.findings.n, 1);
		ASSERT_FINDING(&r.findings.v[0], "a.py", want_line[i], want_col[i], "unformatted",
		    "error", "File would be reformatted");
		gate_result_release(&r);
		free(exact);
	}
	return 0;
}
