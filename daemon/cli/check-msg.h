/* `watchd check --commit-msg FILE`: the commit-msg gates on a message. */
#ifndef WD_CHECK_MSG_H
#define WD_CHECK_MSG_H

#include <stdbool.h>

#include "cli.h"

/* Judges the message in file (a path as given, relative to the current
 * directory, as git hands it to the commit-msg hook) with every gate of
 * type commit-msg in ctx's config, records the run in the ledger under
 * trigger "commit-msg" and prints findings as `path:line:col: CODE message
 * [gate]` (or the run as JSON). WATCHD_SKIP names gates to skip. Returns
 * the exit code: 0 pass, 1 a finding, 2 file unreadable, 4 ledger broken. */
int check_commit_msg(struct cli_ctx *ctx, const char *file, bool json);

#endif
