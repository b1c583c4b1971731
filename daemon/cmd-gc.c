/* watchd gc: placeholder until the ledger queries land. */
#include "cli.h"

int cmd_gc(struct cli_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	cli_error("gc: not built yet");
	return WD_EXIT_RUNTIME;
}
