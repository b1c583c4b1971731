/* watchd status */
#include "cli.h"

int cmd_status(struct cli_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	cli_error("status: not built yet");
	return WD_EXIT_RUNTIME;
}
