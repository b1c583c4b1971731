/* watchd config check|print: validate the config (exit 2 with
 * file:line:col and key path on error), or print the effective config
 * with every default filled in. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int cmd_config_exec(struct cli_ctx *, const struct args *);

const struct cmd_entry cmd_config_entry = {
	.name = "config",
	.usage = "check|print",
	.help = "validate or print the config",
	.flags = CMD_ROOT,
	.args = { .lower = 1, .upper = 1, .missing = "check or print?" },
	.exec = cmd_config_exec,
};

static int cmd_config_exec(struct cli_ctx *ctx, const struct args *args)
{
	const char *what = args->argv[0];
	int rc;

	if (strcmp(what, "check") != 0 && strcmp(what, "print") != 0) {
		cli_error("config: unknown subcommand '%s'", what);
		return cli_usage(&cmd_config_entry);
	}
	if ((rc = cli_load_config(ctx)) != 0)
		return rc;
	if (strcmp(what, "check") == 0) {
		printf("%s: ok (%zu gate%s)\n", ctx->config_path, ctx->cfg.ngates,
		    ctx->cfg.ngates == 1 ? "" : "s");
		return WD_EXIT_OK;
	}
	{
		cJSON *o = config_to_json(&ctx->cfg);

		cli_print_json(o, false);
		cJSON_Delete(o);
	}
	return WD_EXIT_OK;
}
