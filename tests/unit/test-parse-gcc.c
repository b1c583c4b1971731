/* The gcc-style line parser: shellcheck -f gcc, gcc itself, odd names. */
#include "gate-test.h"
#include "gates/parser.h"
#include "lib/xmalloc.h"

static void parse(const char *out, const char *err, int code, struct gate_result *r)
{
	struct gate g = { 0 };
	struct gate_output o = gt_output("/repo", out, strlen(out), code, false);

	o.err = err;
	o.err_len = strlen(err);
	ASSERT_OK(parse_gcc(&g, &o, r));
}

TEST_IMPL(gcc_shellcheck)
{
	struct gate_result r = GATE_RESULT_INIT;

	parse("f.sh:3:6: warning: Double quote to prevent globbing and word splitting. [SC2086]\n"
	    "./g.sh:1:1: error: Tips depend on target shell and yours is unknown. [SC2148]\n"
	    "h.sh:2:3: note: Use $(...) notation instead of legacy backticks. [SC2006]\n",
	    "", 1, &r);
	ASSERT_EQ(r.status, GATE_FAIL);
	ASSERT_EQ(r.findings.n, 3);
	ASSERT_FINDING(&r.findings.v[0], "f.sh", 3, 6, "SC2086", "warning",
	    "Double quote to prevent globbing and word splitting.");
	ASSERT_FINDING(&r.findings.v[1], "g.sh", 1, 1, "SC2148", "error",
	    "Tips depend on target shell and yours is unknown.");
	ASSERT_FINDING(&r.findings.v[2], "h.sh", 2, 3, "SC2006", "info",
	    "Use $(...) notation instead of legacy backticks.");
	gate_result_release(&r);
	return 0;
}

TEST_IMPL(gcc_compiler)
{
	struct gate_result r = GATE_RESULT_INIT;

	parse("", "src/a.c: In function 'main':\n"
	    "/repo/src/a.c:4:9: warning: unused variable 'x' [-Wunused-variable]\n"
	    "    4 |     int x;\n      |         ^\n"
	    "src/b.c:10: error: expected ';' before '}' token\r\n"
	    "src/c:d.c:7:2: fatal error: missing.h: No such file or directory\n"
	    "compilation terminated.\n", 1, &r);
	ASSERT_EQ(r.status, GATE_FAIL);
	ASSERT_EQ(r.findings.n, 3);
	ASSERT_FINDING(&r.findings.v[0], "src/a.c", 4, 9, "-Wunused-variable", "warning",
	    "unused variable 'x'");
	ASSERT_FINDING(&r.findings.v[1], "src/b.c", 10, 0, NULL, "error",
	    "expected ';' before '}' token");
	ASSERT_FINDING(&r.findings.v[2], "src/c:d.c", 7, 2, NULL, "error",
	    "missing.h: No such file or directory");
	gate_result_release(&r);
	return 0;
}

TEST_IMPL(gcc_status)
{
	struct gate_result r = GATE_RESULT_INIT;

	parse("", "", 0, &r);
	ASSERT_EQ(r.status, GATE_PASS);
	gate_result_release(&r);

	r = (struct gate_result)GATE_RESULT_INIT;
	parse("a.sh:1:1: note: just saying [SC1000]\n", "", 0, &r);
	ASSERT_EQ(r.status, GATE_PASS);
	ASSERT_EQ(r.findings.n, 1);
	gate_result_release(&r);

	r = (struct gate_result)GATE_RESULT_INIT;
	parse("usage: shellcheck [OPTIONS...] FILES...\nmore\n", "", 3, &r);
	ASSERT_EQ(r.status, GATE_FAIL);
	ASSERT_STR_EQ(r.message, "exited with status 3: usage: shellcheck [OPTIONS...] FILES...");
	gate_result_release(&r);

	r = (struct gate_result)GATE_RESULT_INIT;
	parse("error: not a diagnostic\nx:y: warning: no line\n", "\n  cc: fatal error: no input\n",
	    1, &r);
	ASSERT_EQ(r.findings.n, 0);
	ASSERT_STR_EQ(r.message, "exited with status 1: cc: fatal error: no input");
	gate_result_release(&r);
	return 0;
}

/* Paths are those of the batch: a name with a newline comes back whole,
 * a path the tool was not given loses its file (and keeps it in the text). */
TEST_IMPL(gcc_paths_stay_in_the_batch)
{
	static const char *const files[] = { "ok.sh", "bad\nnl.sh", "x\ny\nz.sh" };
	struct gate g = { 0 };
	struct gate_result r = GATE_RESULT_INIT;
	const char *text = "bad\nnl.sh:2:6: note: Double quote to prevent globbing. [SC2086]\n"
	    "x\ny\nz.sh:1:1: warning: w [SC1]\n"
	    "/repo/ok.sh:3:1: warning: v [SC2]\n"
	    "lib/other.h:4:2: error: e\n";
	struct gate_output o = gt_output("/repo", text, strlen(text), 1, false);

	g.batching = GATE_BATCH_FILES;
	o.files = files;
	o.nfiles = 3;
	ASSERT_OK(parse_gcc(&g, &o, &r));
	ASSERT_EQ(r.findings.n, 4);
	ASSERT_FINDING(&r.findings.v[0], "bad\nnl.sh", 2, 6, "SC2086", "info",
	    "Double quote to prevent globbing.");
	ASSERT_FINDING(&r.findings.v[1], "x\ny\nz.sh", 1, 1, "SC1", "warning", "w");
	ASSERT_FINDING(&r.findings.v[2], "ok.sh", 3, 1, "SC2", "warning", "v");
	ASSERT_FINDING(&r.findings.v[3], NULL, 4, 2, NULL, "error", "lib/other.h: e");
	gate_result_release(&r);

	/* ambiguous: two batch names end in "nl.sh" after a newline */
	{
		static const char *const two[] = { "a\nnl.sh", "b\nnl.sh" };
		const char *t2 = "nl.sh:1:1: error: which one\n";

		r = (struct gate_result)GATE_RESULT_INIT;
		o = gt_output("/repo", t2, strlen(t2), 1, false);
		o.files = two;
		o.nfiles = 2;
		ASSERT_OK(parse_gcc(&g, &o, &r));
		ASSERT_FINDING(&r.findings.v[0], NULL, 1, 1, NULL, "error", "nl.sh: which one");
		gate_result_release(&r);
	}
	/* a task runner names files itself: they stand */
	r = (struct gate_result)GATE_RESULT_INIT;
	g.batching = GATE_BATCH_NONE;
	o = gt_output("/repo", text, strlen(text), 1, false);
	o.files = files;
	o.nfiles = 3;
	ASSERT_OK(parse_gcc(&g, &o, &r));
	ASSERT_STR_EQ(r.findings.v[3].path, "lib/other.h");
	gate_result_release(&r);
	return 0;
}

TEST_IMPL(quote_path_cases)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "plain/é name.sh", "plain/é name.sh" },
		{ "bad\nnl.sh", "\"bad\\nnl.sh\"" },
		{ "t\tab\r\x1b[31m", "\"t\\tab\\r\\033[31m\"" },
		{ "q\"b\\s", "\"q\\\"b\\\\s\"" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *q = gate_quote_path(cases[i].in);

		ASSERT_STR_EQ(q, cases[i].out);
		free(q);
	}
	return 0;
}

/* Only exit 0, or exit 1 with nothing but diagnostics and compiler
 * context, is a run the tool completed (issue 16, point 4). */
TEST_IMPL(gcc_abnormal_exit)
{
	struct gate_result r = GATE_RESULT_INIT;

	/* a finding, then a crash message, then exit 3 */
	parse("a.sh:1:1: warning: w [SC2034]\n", "shellcheck: hPutChar: invalid argument\n", 3, &r);
	ASSERT(r.abnormal);
	ASSERT_EQ(r.findings.n, 1);
	ASSERT_STR_EQ(r.message, "exited with status 3: shellcheck: hPutChar: invalid argument");
	gate_result_release(&r);

	/* the findings code, but a line no diagnostic explains */
	r = (struct gate_result)GATE_RESULT_INIT;
	parse("a.sh:1:1: warning: w [SC2034]\n", "hPutChar: invalid argument\n", 1, &r);
	ASSERT(r.abnormal);
	gate_result_release(&r);

	/* the findings code with compiler context only */
	r = (struct gate_result)GATE_RESULT_INIT;
	parse("", "In file included from src/a.c:1,\n"
	    "src/a.h: In function 'f':\n"
	    "src/a.h:4:9: warning: unused variable 'x' [-Wunused-variable]\n"
	    "    4 |     int x;\n      |         ^\n"
	    "1 warning generated.\n"
	    "cc1: all warnings being treated as errors\n"
	    "compilation terminated.\n", 1, &r);
	ASSERT(!r.abnormal);
	ASSERT_EQ(r.status, GATE_FAIL);
	gate_result_release(&r);

	/* exit 0 is a completed run, whatever else it printed */
	r = (struct gate_result)GATE_RESULT_INIT;
	parse("some banner\n", "", 0, &r);
	ASSERT(!r.abnormal);
	ASSERT_EQ(r.status, GATE_PASS);
	gate_result_release(&r);
	return 0;
}

/* Output that ends without a newline, in an exact-size heap copy so a read
 * past its end trips ASan. */
TEST_IMPL(gcc_unterminated_numbers)
{
	static const char text[] = "x.c:12:123456789: error: boom";
	size_t n = sizeof(text) - 1;
	char *exact = xmalloc(n);
	struct gate g = { 0 };
	struct gate_output o;
	struct gate_result r = GATE_RESULT_INIT;

	memcpy(exact, text, n);
	o = gt_output("/repo", exact, n, 1, false);
	o.err = "";
	ASSERT_OK(parse_gcc(&g, &o, &r));
	ASSERT_EQ(r.findings.n, 1);
	ASSERT_EQ(r.findings.v[0].line, 12);
	ASSERT_EQ(r.findings.v[0].col, 123456789);
	gate_result_release(&r);
	free(exact);
	return 0;
}
