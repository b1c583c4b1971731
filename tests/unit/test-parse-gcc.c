/* The gcc-style line parser: shellcheck -f gcc, gcc itself, odd names. */
#include "gate-test.h"
#include "gates/parser.h"

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
