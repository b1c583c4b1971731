/* watchd export: every run (or those started since --since) as JSON lines,
 * oldest first, each in the `show --json` shape with findings. */
#include <getopt.h>
#include <stdio.h>

#include "ledger-cli.h"

int cmd_export(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	struct wd_err err = { 0, "" };
	struct ledger *l = NULL;
	int64_t since = 0;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'S')
			return cli_usage("export");
		if ((rc = ledger_cli_since("export", optarg, &since)))
			return rc;
	}
	if (optind < argc) {
		cli_error("export: unexpected argument '%s'", argv[optind]);
		return cli_usage("export");
	}
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
