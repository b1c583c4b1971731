/* watchd export: placeholder until the ledger queries land. */
#include "cli.h"

int cmd_export(struct cli_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	cli_error("export: not built yet");
	return WD_EXIT_RUNTIME;
}
