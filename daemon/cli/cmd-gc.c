/* watchd gc: prunes runs older than --keep-days or beyond the newest
 * --keep-runs (defaults: the config's "ledger" section, else 30 days),
 * keeping every run that still backs a file's current state or the cache. */
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "ledger-cli.h"

static int cmd_gc_exec(struct cli_ctx *, const struct args *);

const struct cmd_entry cmd_gc_entry = {
	.name = "gc",
	.usage = "[--keep-days N] [--keep-runs N]",
	.help = "prune old runs",
	.flags = CMD_ROOT,
	.args = {
		.opts = (const struct args_opt[]){
			{ "keep-days", ARGS_VALUE },
			{ "keep-runs", ARGS_VALUE },
			{ NULL, 0 },
		},
	},
	.exec = cmd_gc_exec,
};

/* Config defaults without failing gc on a broken config: gc is how a user
 * recovers space, so it should work even then. */
static void config_defaults(struct cli_ctx *ctx, int *keep_days, int *keep_runs)
{
	struct config_err cerr;

	*keep_days = 30;
	*keep_runs = 0;
	if (!ctx->cfg_loaded) {
		if (access(ctx->config_path, F_OK) != 0)
			return;
		if (config_load(ctx->config_path, &ctx->cfg, &cerr) != 0) {
			struct buf b = BUF_INIT;

			config_err_format(&cerr, &b);
			cli_error("gc: ignoring the config (%s); using --keep-days 30", b.buf);
			buf_release(&b);
			return;
		}
		ctx->cfg_loaded = true;
	}
	*keep_days = ctx->cfg.ledger_keep_days;
	*keep_runs = ctx->cfg.ledger_keep_runs;
}

/* --NAME N when given (else *v stays -1): 0, or prints why and returns
 * WD_EXIT_USAGE. */
static int keep_option(const struct args *args, const char *name, int max, int *v)
{
	const char *arg = args_get(args, name);

	if (arg && ledger_cli_uint(arg, max, v) < 0) {
		cli_error("gc: --%s '%s': expected a non-negative integer", name, arg);
		return WD_EXIT_USAGE;
	}
	return 0;
}

static int cmd_gc_exec(struct cli_ctx *ctx, const struct args *args)
{
	struct wd_err err = { 0, "" };
	struct ledger *l = NULL;
	int keep_days = -1, keep_runs = -1, cfg_days, cfg_runs, deleted = 0, rc;

	if ((rc = keep_option(args, "keep-days", 36500, &keep_days)) != 0 ||
	    (rc = keep_option(args, "keep-runs", INT_MAX, &keep_runs)) != 0)
		return rc;
	if (access(ctx->ledger_path, F_OK) != 0) {
		printf("no ledger yet: nothing to prune\n");
		return WD_EXIT_OK;
	}
	if (keep_days < 0 || keep_runs < 0) {
		config_defaults(ctx, &cfg_days, &cfg_runs);
		if (keep_days < 0)
			keep_days = cfg_days;
		if (keep_runs < 0)
			keep_runs = cfg_runs;
	}
	if ((rc = ledger_cli_open(ctx, LEDGER_WRITE, &l)))
		return rc;
	rc = ledger_gc(l, keep_days, keep_runs, &deleted, &err);
	ledger_close(l);
	if (rc) {
		cli_error("gc: %s", err.msg);
		return WD_EXIT_RUNTIME;
	}
	printf("deleted %d run%s (keep-days %d, keep-runs %d)\n", deleted,
	    deleted == 1 ? "" : "s", keep_days, keep_runs);
	return WD_EXIT_OK;
}
