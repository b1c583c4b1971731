/* PSScriptAnalyzer's records as ConvertTo-Json writes them. */
#include "fuzz.h"

extern const struct gate_ops gate_pssa;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_gate_parse(gate_pssa.parse, data, size);
	return 0;
}
