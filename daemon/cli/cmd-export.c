/* watchd export: every run (or those started since --since) as JSON lines,
 * oldest first, each in the `show --json` shape with findings. */
#include <stdio.h>

#include "ledger-cli.h"

static int cmd_export_exec(struct cli_ctx *, const struct args *);

const struct cmd_entry cmd_export_entry = {
	.name = "export",
	.usage = "[--since TIME]",
	.help = "the ledger as JSON lines",
	.flags = CMD_ROOT,
	.args = {
		.opts = (const struct args_opt[]){
			{ "since", ARGS_VALUE },
			{ NULL, 0 },
		},
	},
	.exec = cmd_export_exec,
};

static int cmd_export_exec(struct cli_ctx *ctx, const struct args *args)
{
	const char *since_arg = args_get(args, "since");
	struct wd_err err = { 0, "" };
	struct ledger *l = NULL;
	int64_t since = 0;
	int rc;

	if (since_arg && (rc = ledger_cli_since("export", since_arg, &since)))
		return rc;
	rc = ledger_cli_open(ctx, LEDGER_READ, &l);
	if (rc == LEDGER_CLI_ABSENT)
		return WD_EXIT_OK;	/* nothing recorded: nothing to export */
	if (rc)
		return rc;
	rc = ledger_export(l, since, stdout, &err);
	ledger_close(l);
	if (rc) {
		cli_error("export: %s", err.msg);
		return WD_EXIT_RUNTIME;
	}
	return WD_EXIT_OK;
}
