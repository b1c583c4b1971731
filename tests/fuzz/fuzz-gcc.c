/* gcc-style "path:line:col: severity: message" lines ("parser": "gcc"). */
#include "fuzz.h"
#include "gates/parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_gate_parse(parse_gcc, data, size);
	return 0;
}
