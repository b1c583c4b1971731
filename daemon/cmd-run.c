/* watchd run */
#include "cli.h"

int cmd_run(struct cli_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	cli_error("run: not built yet");
	return WD_EXIT_RUNTIME;
}
