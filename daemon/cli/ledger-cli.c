/* Helpers shared by the ledger subcommands: opening with CLI error
 * messages, checking option values and formatting durations. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "ledger-cli.h"

int ledger_cli_open(struct cli_ctx *ctx, enum ledger_mode mode, struct ledger **l)
{
	struct wd_err err = { 0, "" };
	int rc = ledger_open(ctx->ledger_path, mode, l, &err);

	if (rc == 0)
		return 0;
	if (rc == -ENOENT && mode == LEDGER_READ)
		return LEDGER_CLI_ABSENT;
	cli_error("%s", err.msg[0] ? err.msg : wd_strerror(rc));
	return WD_EXIT_RUNTIME;
}

int ledger_cli_since(const char *cmd, const char *arg, int64_t *ms)
{
	if (ledger_time_parse(arg, ms) == 0)
		return 0;
	cli_error("%s: --since '%s': expected a date (2026-11-24, 2026-11-24T12:00:00Z) "
	    "or an age (30s, 15m, 2h, 3d, 1w)", cmd, arg);
	return WD_EXIT_USAGE;
}

int ledger_cli_uint(const char *arg, int max, int *v)
{
	char *end;
	long n;

	if (arg[0] < '0' || arg[0] > '9')
		return -1;
	errno = 0;
	n = strtol(arg, &end, 10);
	if (errno || *end || n < 0 || n > max)
		return -1;
	*v = (int)n;
	return 0;
}

void ledger_cli_duration(double ms, char out[16])
{
	long long s = (long long)(ms / 1000);

	if (ms < 1000)
		snprintf(out, 16, "%.0fms", ms);
	else if (ms < 60000)
		snprintf(out, 16, "%.1fs", ms / 1000);
	else if (s < 3600)
		snprintf(out, 16, "%lldm%02llds", s / 60, s % 60);
	else
		snprintf(out, 16, "%lldh%02lldm", s / 3600, s / 60 % 60);
}
