/* watchd help [COMMAND]: the command list, or one command's help. Both
 * come from the command table, so `help X` and `X --help` never differ. */
#include <stdio.h>

#include "cli.h"

static int cmd_help_exec(struct cli_ctx *, const struct args *);

const struct cmd_entry cmd_help_entry = {
	.name = "help",
	.usage = "[COMMAND]",
	.help = "the command list, or one command's usage and options",
	.args = {
		.lower = 0,
		.upper = 1,
	},
	.exec = cmd_help_exec,
};

static int cmd_help_exec(struct cli_ctx *ctx, const struct args *args)
{
	const struct cmd_entry *cmd;

	(void)ctx;
	if (args->argc == 0) {
		cli_usage_all(stdout);
		return WD_EXIT_OK;
	}
	if ((cmd = cli_find(args->argv[0])) == NULL) {
		cli_error("help: unknown command '%s'", args->argv[0]);
		cli_usage_all(stderr);
		return WD_EXIT_USAGE;
	}
	cli_help(cmd, stdout);
	return WD_EXIT_OK;
}
