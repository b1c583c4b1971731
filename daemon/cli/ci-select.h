/* What `watchd ci` judges: the tracked files (or the tracked files changed
 * since a base), the tracked set a config-file change or a trigger expands
 * to, and which (gate, file) pairs a shard owns. */
#ifndef WD_CI_SELECT_H
#define WD_CI_SELECT_H

#include <stdbool.h>

#include "cli.h"
#include "daemon/git/repo.h"
#include "gates/gate.h"
#include "lib/strvec.h"

struct ci_shard {
	int	k, n;		/* shard k of n, 1 <= k <= n; n == 0: no sharding */
};

/* Fills tracked with every tracked file (index) that exists and is not
 * ignored, and changed with those changed since the merge base with base
 * (or, without base, all of tracked). Both sorted; merge_base gets the
 * merge base's id when base is given. 0, or an exit code after printing
 * why (2 for a bad base, naming it). */
int ci_list(struct cli_ctx *ctx, const char *base, struct strvec *changed,
    struct strvec *tracked, char merge_base[OID_HEX + 1]);
/* Parses "K/N". 0, or -1 when malformed or out of range. */
int ci_shard_parse(const char *arg, struct ci_shard *out);
/* The oneshot keep filter for arg, a struct ci_shard: a stable hash of the
 * gate name and the path, the same on every machine and run (of the name
 * alone for a gate given no file names: it runs once, in one shard). */
bool ci_shard_keep(void *arg, const struct gate *g, const char *path);

#endif
