/* watchd config check|print: validate the config (exit 2 with
 * file:line:col and key path on error), or print the effective config
 * with every default filled in. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_config(struct cli_ctx *ctx, int argc, char **argv)
{
	int rc;

	if (argc != 2 || (strcmp(argv[1], "check") != 0 && strcmp(argv[1], "print") != 0))
		return cli_usage("config");
	if ((rc = cli_load_config(ctx)) != 0)
		return rc;
	if (strcmp(argv[1], "check") == 0) {
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
