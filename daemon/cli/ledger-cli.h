/* What the ledger subcommands (log, show, export, gc) share: opening the
 * ledger with CLI error reporting, and formatting for text output. */
#ifndef WD_LEDGER_CLI_H
#define WD_LEDGER_CLI_H

#include <stdint.h>

#include "cli.h"
#include "daemon/ledger/ledger.h"

#define LEDGER_CLI_ABSENT	(-1)	/* no ledger file yet: not an error */

/* Opens ctx->ledger_path. Returns 0 (*l set), LEDGER_CLI_ABSENT when the
 * file does not exist (READ mode only), or an exit code after printing
 * the error: WD_EXIT_RUNTIME for an unreadable, foreign or newer ledger. */
int ledger_cli_open(struct cli_ctx *ctx, enum ledger_mode mode, struct ledger **l);
/* Parses --since: 0, or prints the error and returns WD_EXIT_USAGE. */
int ledger_cli_since(const char *cmd, const char *arg, int64_t *ms);
/* Parses a whole non-negative decimal int (at most max): 0 or -1. */
int ledger_cli_uint(const char *arg, int max, int *v);
/* "41ms", "1.5s", "2m05s", "1h02m" into out. */
void ledger_cli_duration(double ms, char out[16]);

#endif
