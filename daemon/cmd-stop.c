/* watchd stop */
#include "cli.h"

int cmd_stop(struct cli_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	cli_error("stop: not built yet");
	return WD_EXIT_RUNTIME;
}
