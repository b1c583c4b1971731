/* One-shot runs (`run`, `check --staged`, `ci`): the scheduler on a
 * private loop over a given file list, the run recorded in the ledger,
 * then printed. The daemon is not involved. */
#ifndef WD_ONESHOT_H
#define WD_ONESHOT_H

#include <stdbool.h>

#include "cli.h"
#include "gates/gate.h"
#include "lib/strvec.h"

struct oneshot {
	const char	*content_root;	/* where files are read and tools run (ROOT,
					 * or a tree of staged content) */
	const struct strvec *all;	/* every eligible file there (sorted), or
					 * NULL: walk content_root */
	const char	*trigger;	/* "run", "hook", "ci" */
	bool		 no_cache;
	bool		 json;
	bool		 quiet_pass;	/* print nothing when every gate passed */
	/* when set: only the (gate, file) pairs it keeps run (ci --shard) */
	bool		(*keep)(void *arg, const struct gate *g, const char *path);
	void		*keep_arg;
	cJSON		**run_out;	/* when set: the run's JSON goes here (the
					 * caller deletes it) and nothing is printed */
};

/* Runs the gates on files (relative paths, borrowed) and prints the run.
 * Returns the exit code: 0 pass, 1 fail, 4 a tool or the ledger broke. */
int oneshot_run(struct cli_ctx *ctx, const struct oneshot *o, const struct strvec *files);
/* Prints a run (show --json shape) as text: gates, findings, status. */
void oneshot_print_text(const cJSON *run);
/* The exit code for a run status. */
int oneshot_exit_code(const char *status);

#endif
