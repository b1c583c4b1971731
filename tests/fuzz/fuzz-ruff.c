/* Ruff's JSON and JSON-lines output (check) and its text (format --check). */
#include "fuzz.h"
#include "gates/parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gate_result r = GATE_RESULT_INIT;

	ruff_json_parse("/repo", (const char *)data, size, &r);
	gate_result_release(&r);
	r = (struct gate_result)GATE_RESULT_INIT;
	ruff_format_text_parse("/repo", (const char *)data, size, &r);
	gate_result_release(&r);
	return 0;
}
