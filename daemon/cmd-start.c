/* watchd start */
#include "cli.h"

int cmd_start(struct cli_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	cli_error("start: not built yet");
	return WD_EXIT_RUNTIME;
}
