/* The command table: names, setup flags, usage lines. It also drives
 * `watchd --help`. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct cli_cmd cli_table[] = {
	{ "start", cmd_start, CMD_ROOT | CMD_CONFIG, "[--foreground]",
	  "start the daemon for ROOT; returns once it is watching" },
	{ "stop", cmd_stop, CMD_ROOT, "", "stop the daemon; returns once it has exited" },
	{ "status", cmd_status, CMD_ROOT, "[--json] [--sync] [--timeout SEC]",
	  "live state from the daemon, or the ledger's last results" },
	{ "run", cmd_run, CMD_ROOT | CMD_CONFIG, "[--json] [--no-cache] [PATH...]",
	  "run the gates once, without a daemon" },
	{ "check", cmd_check, CMD_ROOT | CMD_CONFIG, "--staged [--json] [--no-cache]",
	  "pre-commit: judge exactly the staged content" },
	{ "ci", cmd_ci, CMD_ROOT | CMD_CONFIG,
	  "[--base REF] [--format text|json|junit|sarif|github] [--report FORMAT=FILE]... "
	  "[--shard K/N]", "CI mirror: the same gates, with CI reports" },
	{ "hook", cmd_hook, CMD_ROOT, "install|uninstall [--force]",
	  "install or remove the git pre-commit hook" },
	{ "log", cmd_log, CMD_ROOT,
	  "[--limit N] [--gate G] [--status S] [--since TIME] [--json]",
	  "recent runs, newest first" },
	{ "show", cmd_show, CMD_ROOT, "RUN_ID [--json]", "one run with its gates and findings" },
	{ "export", cmd_export, CMD_ROOT, "[--since TIME]", "the ledger as JSON lines" },
	{ "gc", cmd_gc, CMD_ROOT, "[--keep-days N] [--keep-runs N]", "prune old runs" },
	{ "config", cmd_config, CMD_ROOT, "check|print", "validate or print the config" },
	{ "version", cmd_version, 0, "", "print the version" },
	{ NULL, NULL, 0, NULL, NULL },
};

void cli_usage_all(FILE *fp)
{
	fprintf(fp, "usage: watchd [--root DIR] [--config FILE] COMMAND [ARGS]\n\ncommands:\n");
	for (const struct cli_cmd *c = cli_table; c->name; c++)
		fprintf(fp, "  %-8s %-40s %s\n", c->name, c->usage, c->help);
	fprintf(fp, "\nexit codes: 0 ok, 1 a gate failed, 2 usage/config error, "
	    "3 no daemon running, 4 runtime error\n");
}

int cli_usage(const char *cmd)
{
	for (const struct cli_cmd *c = cli_table; c->name; c++) {
		if (strcmp(c->name, cmd) == 0) {
			fprintf(stderr, "usage: watchd %s %s\n", c->name, c->usage);
			return WD_EXIT_USAGE;
		}
	}
	cli_usage_all(stderr);
	return WD_EXIT_USAGE;
}

const struct cli_cmd *cli_find(const char *name)
{
	for (const struct cli_cmd *c = cli_table; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}
