/* "parser": "exit" — the status comes from the exit code alone; a failing
 * tool's output excerpt becomes the message. */
#include <stdio.h>

#include "parser.h"

int parse_exit(const struct gate *g, const struct gate_output *out, struct gate_result *r)
{
	(void)g;
	r->status = out->exit_code == 0 ? GATE_PASS : GATE_FAIL;
	if (r->status == GATE_FAIL)
		gate_result_msg(r, "exited with status %d", out->exit_code);
	return 0;
}
