/* watchd show: placeholder until the ledger queries land. */
#include "cli.h"

int cmd_show(struct cli_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	cli_error("show: not built yet");
	return WD_EXIT_RUNTIME;
}
