/* The JUnit/NUnit reader against real Pester, ruff and hand-made reports:
 * exact counts, failed tests as findings, containers that failed to load. */
#include "gate-test.h"
#include "gates/parser.h"

extern const struct gate_ops gate_pester;

static void read_fixture(const char *path, const char *root, struct gate_result *r)
{
	struct buf b = BUF_INIT;

	gt_read(&b, path);
	ASSERT_OK(junit_read(root, NULL, 0, b.buf, b.len, r));
	buf_release(&b);
}

static void read_str(const char *xml, struct gate_result *r)
{
	ASSERT_OK(junit_read("/repo", NULL, 0, xml, strlen(xml), r));
}

static void counts(const struct gate_result *r, int total, int passed, int failed, int skipped)
{
	ASSERT_EQ(r->tests_total, total);
	ASSERT_EQ(r->tests_passed, passed);
	ASSERT_EQ(r->tests_failed, failed);
	ASSERT_EQ(r->tests_skipped, skipped);
}

TEST_IMPL(junit_nunit_pester5_one_failure)
{
	struct gate_result r = GATE_RESULT_INIT;

	read_fixture(FIXTURE("pester/nunit25_pester5_one_failure.xml"),
	    "/Users/arnehalvorsen/dev/repos/PsLocations", &r);
	ASSERT_EQ(r.status, GATE_FAIL);
	counts(&r, 2, 1, 1, 0);
	ASSERT_EQ(r.findings.n, 1);
	/* line 54 is the frame in the test file, not the helper's line 31 */
	ASSERT_FINDING(&r.findings.v[0], "PsLocations/tests/PsLocations.tests.ps1", 54, 0,
	    "PsLocations tests.loc should be able to create a new location, make notes and "
	    "navigate and remove it", "error",
	    "Expected path '/Users/arnehalvorsen/dev/repos/PsLocations/PsLocations/tests/"
	    "TestLocations/Test/Arnes-MBP.home' to exist, but it did not exist.");
	gate_result_release(&r);
	return 0;
}

TEST_IMPL(junit_nunit_empty_run)
{
	struct gate_result r = GATE_RESULT_INIT;

	read_fixture(FIXTURE("pester/nunit25_pester5_empty_run.xml"), "/r", &r);
	ASSERT_EQ(r.status, GATE_PASS);
	counts(&r, 0, 0, 0, 0);
	ASSERT_EQ(r.findings.n, 0);
	ASSERT_NULL(r.message);
	gate_result_release(&r);
	return 0;
}

TEST_IMPL(junit_nunit_big_ci_run)
{
	struct gate_result r = GATE_RESULT_INIT;
	const struct finding *last;

	read_fixture(FIXTURE("pester/nunit25_pester5_ci_failures_skips_parameterized.xml"),
	    "/home/runner/work/winget-dsc/winget-dsc", &r);
	ASSERT_EQ(r.status, GATE_FAIL);
	counts(&r, 152, 1, 147, 4);
	ASSERT_EQ(r.findings.n, 147);
	ASSERT_FINDING(&r.findings.v[0], "tests/GitDsc/GitDsc.tests.ps1", 24, 0,
	    "List available DSC resources.Shows DSC Resources", "error",
	    "CommandNotFoundException: The term 'Get-DscResource' is not recognized as a name "
	    "of a cmdlet, function, script file, or executable program.");
	last = &r.findings.v[146];
	ASSERT_STR_EQ(last->path, "tests/Microsoft.VSCode.Dsc/Microsoft.VSCode.Dsc.Tests.ps1");
	ASSERT_EQ(last->line, 100);
	ASSERT_STR_EQ(last->code, "VSCodeExtension.Sets prerelease extension");
	/* parameterized suites are not files: every finding has the file's path */
	for (size_t i = 0; i < r.findings.n; i++)
		ASSERT_CONTAINS(r.findings.v[i].path, ".ps1");
	gate_result_release(&r);
	return 0;
}

TEST_IMPL(junit_nunit_pester3_legacy)
{
	struct gate_result r = GATE_RESULT_INIT;

	read_fixture(FIXTURE("pester/nunit25_pester3.4_legacy.xml"), "D:\\dev\\SuperHexLink", &r);
	ASSERT_EQ(r.status, GATE_FAIL);
	counts(&r, 5, 0, 5, 0);
	ASSERT_EQ(r.findings.n, 5);
	/* no per-file suite, and the only frame is inside Pester itself */
	ASSERT_FINDING(&r.findings.v[0], NULL, 0, 0,
	    "CheckCsprojMapping.maps Assets/Scripts/Player.cs to Assembly-CSharp.csproj when "
	    "Assembly-CSharp exists", "error", "'-Contain' is not a valid Should operator.");
	ASSERT_STR_EQ(r.findings.v[4].message, "'-Be' is not a valid Should operator.");
	gate_result_release(&r);
	return 0;
}

TEST_IMPL(junit_pester5_junit)
{
	struct gate_result r = GATE_RESULT_INIT;

	read_fixture(FIXTURE("pester/junit4_pester5_subset.xml"), "E:\\GitHub\\AZDOPS", &r);
	ASSERT_EQ(r.status, GATE_FAIL);
	counts(&r, 10, 4, 6, 0);
	ASSERT_EQ(r.findings.n, 6);
	ASSERT_FINDING(&r.findings.v[0], "E:\\GitHub\\AZDOPS\\Tests\\Disconnect-ADOPS.tests.ps1",
	    21, 0, "Disconnect-ADOPS.Parameters.Should have parameter Organization", "error",
	    "Expected command Disconnect-ADOPS to have a parameter Organization, but the "
	    "parameter is missing.");
	ASSERT_EQ(r.findings.v[2].line, 72);
	ASSERT_EQ(r.findings.v[5].line, 108);
	gate_result_release(&r);
	return 0;
}

TEST_IMPL(junit_ruff_junit)
{
	struct gate_result r = GATE_RESULT_INIT;

	read_fixture(FIXTURE("ruff/check_junit_v0.16.4.xml"), "[TMP]", &r);
	ASSERT_EQ(r.status, GATE_FAIL);
	counts(&r, 3, 0, 3, 0);
	ASSERT_FINDING(&r.findings.v[0], "input.py", 1, 0, "org.ruff.F401", "error",
	    "`os` imported but unused");
	ASSERT_EQ(r.findings.v[2].line, 3);
	gate_result_release(&r);
	return 0;
}

/* pytest --junitxml: errors, skips, a file attribute, CRLF and entities. */
TEST_IMPL(junit_pytest_shapes)
{
	static const char xml[] = "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n"
	    "<testsuites><testsuite name=\"pytest\" errors=\"1\" failures=\"1\" skipped=\"1\" "
	    "tests=\"4\">\r\n"
	    "<testcase classname=\"tests.test_a\" name=\"test_ok\" time=\"0.001\" />\r\n"
	    "<testcase classname=\"tests.test_a\" name=\"test_bad\" file=\"/repo/tests/test_a.py\" "
	    "line=\"7\"><failure message=\"assert 1 == 2&#10;+ where\">def test_bad():\r\n"
	    "&gt;  assert 1 == 2</failure></testcase>\r\n"
	    "<testcase classname=\"tests.test_a\" name=\"test_err\"><error message=\"fixture "
	    "&apos;db&apos; not found\" /></testcase>\r\n"
	    "<testcase classname=\"tests.test_a\" name=\"test_skip\"><skipped message=\"no\" "
	    "/></testcase>\r\n"
	    "</testsuite></testsuites>\r\n";
	struct gate_result r = GATE_RESULT_INIT;

	read_str(xml, &r);
	ASSERT_EQ(r.status, GATE_FAIL);
	counts(&r, 4, 1, 2, 1);
	ASSERT_EQ(r.findings.n, 2);
	ASSERT_FINDING(&r.findings.v[0], "tests/test_a.py", 7, 0, "test_bad", "error",
	    "assert 1 == 2");
	ASSERT_FINDING(&r.findings.v[1], NULL, 0, 0, "test_err", "error",
	    "fixture 'db' not found");
	gate_result_release(&r);
	return 0;
}

TEST_IMPL(junit_failed_containers)
{
	struct gate_result r = GATE_RESULT_INIT;

	/* Pester 5: a test file that does not parse is a failed suite, no cases */
	read_str("<test-results errors=\"1\" total=\"0\"><test-suite type=\"TestFixture\" "
	    "name=\"Pester\" result=\"Failure\"><results><test-suite type=\"TestFixture\" "
	    "name=\"/repo/t/Bad.Tests.ps1\" result=\"Failure\"><results /></test-suite>"
	    "</results></test-suite></test-results>", &r);
	ASSERT_EQ(r.status, GATE_ERROR);
	ASSERT_STR_EQ(r.message, "test container failed to load: /repo/t/Bad.Tests.ps1");
	counts(&r, 0, 0, 0, 0);
	gate_result_release(&r);

	r = (struct gate_result)GATE_RESULT_INIT;
	read_str("<test-results errors=\"2\" total=\"0\"></test-results>", &r);
	ASSERT_EQ(r.status, GATE_ERROR);
	ASSERT_CONTAINS(r.message, "2 test container(s) failed to load");
	gate_result_release(&r);

	r = (struct gate_result)GATE_RESULT_INIT;
	read_str("<testsuites><testsuite name=\"x.Tests.ps1\" tests=\"0\" errors=\"1\">"
	    "</testsuite></testsuites>", &r);
	ASSERT_EQ(r.status, GATE_ERROR);
	ASSERT_CONTAINS(r.message, "x.Tests.ps1");
	gate_result_release(&r);
	return 0;
}

TEST_IMPL(junit_bad_xml)
{
	struct buf b = BUF_INIT;
	struct gate_result r = GATE_RESULT_INIT;

	read_str("<testsuites><testsuite name=\"a\">\n<testcase name=\"t\"><failure>x</testcase>"
	    "</testsuite></testsuites>", &r);
	ASSERT_EQ(r.status, GATE_ERROR);
	ASSERT_CONTAINS(r.message, "line 2: mismatched tag");
	ASSERT_EQ(r.findings.n, 0);
	gate_result_release(&r);

	r = (struct gate_result)GATE_RESULT_INIT;
	read_str("not xml at all", &r);
	ASSERT_EQ(r.status, GATE_ERROR);
	ASSERT_CONTAINS(r.message, "cannot parse the test report: line 1");
	gate_result_release(&r);

	/* truncated in the middle of a big real file */
	r = (struct gate_result)GATE_RESULT_INIT;
	gt_read(&b, FIXTURE("pester/nunit25_pester5_ci_failures_skips_parameterized.xml"));
	ASSERT_OK(junit_read("/r", NULL, 0, b.buf, b.len / 2, &r));
	ASSERT_EQ(r.status, GATE_ERROR);
	ASSERT_EQ(r.findings.n, 0);
	gate_result_release(&r);
	buf_release(&b);
	return 0;
}

TEST_IMPL(junit_parser_entry)
{
	const struct output_parser *p = parser_find("junit");
	struct gate g = { 0 };
	struct gate_output o = gt_output("/r", NULL, 0, 4, true);
	struct gate_result r = GATE_RESULT_INIT;
	static const char xml[] = "<testsuite><testcase name=\"a\"/></testsuite>";

	ASSERT_NOT_NULL(p);
	ASSERT(p->wants_report);
	o.err = "ERROR: usage: pytest\n";
	o.err_len = strlen(o.err);
	ASSERT_OK(p->parse(&g, &o, &r));
	ASSERT_EQ(r.status, GATE_ERROR);
	ASSERT_STR_EQ(r.message, "no test report (exit status 4): ERROR: usage: pytest");
	gate_result_release(&r);

	/* no report: the tool printed the XML on stdout */
	r = (struct gate_result)GATE_RESULT_INIT;
	o = gt_output("/r", xml, strlen(xml), 0, false);
	ASSERT_OK(p->parse(&g, &o, &r));
	ASSERT_EQ(r.status, GATE_PASS);
	ASSERT_EQ(r.tests_total, 1);
	gate_result_release(&r);
	return 0;
}

TEST_IMPL(pester_parse_report)
{
	struct gate g = { 0 };
	struct gate_result r = GATE_RESULT_INIT;
	struct gate_output o = gt_output("/r", NULL, 0, 1, true);
	struct buf b = BUF_INIT;

	o.err = "Import-Module: The specified module 'Pester' was not loaded\n";
	o.err_len = strlen(o.err);
	ASSERT_OK(gate_pester.parse(&g, &o, &r));
	ASSERT_EQ(r.status, GATE_ERROR);
	ASSERT_CONTAINS(r.message, "Pester wrote no test results (pwsh exit status 1): "
	    "Import-Module: The specified module");
	gate_result_release(&r);

	r = (struct gate_result)GATE_RESULT_INIT;
	gt_read(&b, FIXTURE("pester/nunit25_pester5_one_failure.xml"));
	o = gt_output("/Users/arnehalvorsen/dev/repos/PsLocations/PsLocations", b.buf, b.len, 0,
	    true);
	ASSERT_OK(gate_pester.parse(&g, &o, &r));
	ASSERT_EQ(r.status, GATE_FAIL);
	ASSERT_STR_EQ(r.findings.v[0].path, "tests/PsLocations.tests.ps1");
	gate_result_release(&r);
	buf_release(&b);
	return 0;
}

/* pytest (xunit2) gives no file, only a dotted class name: it is pinned on
 * the batch file it names. */
TEST_IMPL(junit_pytest_classname_to_file)
{
	const char *xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><testsuites><testsuite "
	    "name=\"pytest\" errors=\"0\" failures=\"1\" skipped=\"0\" tests=\"2\">"
	    "<testcase classname=\"tests.test_foo\" name=\"test_foo\" time=\"0.001\">"
	    "<failure message=\"assert 3 == 1\">def test_foo():</failure></testcase>"
	    "<testcase classname=\"tests.test_bar.TestBar\" name=\"test_ok\" time=\"0\"/>"
	    "</testsuite></testsuites>";
	const char *files[] = { "tests/test_bar.py", "tests/test_foo.py" };
	struct gate_result r = GATE_RESULT_INIT;

	ASSERT_OK(junit_read("/repo", files, 2, xml, strlen(xml), &r));
	ASSERT_EQ(r.status, GATE_FAIL);
	ASSERT_EQ(r.findings.n, 1);
	ASSERT_STR_EQ(r.findings.v[0].path, "tests/test_foo.py");
	ASSERT_STR_EQ(r.findings.v[0].code, "test_foo");
	ASSERT_EQ(r.tests_total, 2);
	gate_result_release(&r);
	return 0;
}
