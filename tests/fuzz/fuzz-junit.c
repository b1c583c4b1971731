/* JUnit and NUnit XML (Pester, pytest, any {report} test runner), read
 * with expat. */
#include "fuzz.h"
#include "gates/parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const files[] = { "tests/a.Tests.ps1", "test_b.py" };
	struct gate_result r = GATE_RESULT_INIT;

	junit_read("/repo", files, 2, (const char *)data, size, &r);
	gate_result_release(&r);
	return 0;
}
