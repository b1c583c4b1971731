/* watchd config */
#include "cli.h"

int cmd_config(struct cli_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	cli_error("config: not built yet");
	return WD_EXIT_RUNTIME;
}
