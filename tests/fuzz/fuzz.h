/* Shared by the libFuzzer harnesses: each file defines
 * LLVMFuzzerTestOneInput for one parser of untrusted input. */
#ifndef WD_FUZZ_H
#define WD_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "gates/gate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Runs the output parser ops->parse of a gate of type `type` (and parser
 * `parser` for command gates, else NULL) on data, given both as stdout
 * and as the {report} file, for a batch of two files. */
static inline void fuzz_gate_parse(gate_parse_fn *parse, const uint8_t *data, size_t size)
{
	static const char *const files[] = { "a.py", "dir/b c.ps1" };
	struct gate g = { 0 };
	struct gate_output o = { 0 };
	struct gate_result r = GATE_RESULT_INIT;

	o.root = "/repo";
	o.files = files;
	o.nfiles = 2;
	o.exit_code = 1;
	o.out = (const char *)data;
	o.out_len = size;
	o.report = (const char *)data;
	o.report_len = size;
	o.limit = size + 1;
	g.name = (char *)"fuzz";
	parse(&g, &o, &r);
	gate_result_release(&r);
}

#endif
