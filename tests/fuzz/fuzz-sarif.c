/* SARIF 2.1.0 reports of command gates ("parser": "sarif"). */
#include "fuzz.h"
#include "gates/parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_gate_parse(parse_sarif, data, size);
	return 0;
}
