/* One-shot runs (`run`, `check --staged`, `ci`): the scheduler on a
 * private loop over a given file list, the run recorded in the ledger,
 * then printed. The daemon is not involved. */
#ifndef WD_ONESHOT_H
#define WD_ONESHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "cli.h"
#include "daemon/run/sched.h"
#include "gates/gate.h"
#include "lib/strvec.h"

struct oneshot {
	const char	*content_root;	/* where files are read and tools run (ROOT,
					 * or a tree of staged content) */
	const struct strvec *all;	/* every eligible file there (sorted), or
					 * NULL: walk content_root */
	const char	*trigger;	/* "run", "hook", "ci" */
	const struct sched_content *content;	/* NULL, or staged content */
	const struct strvec *only;	/* --gate: only these gates, or NULL */
	const struct strvec *force;	/* gates run on every file they include
					 * (their definition changed), or NULL */
	bool		 no_cache;
	bool		 json;
	/* When every gate passed, print only one line instead of the run
	 * ("watchd: 3 gates passed on 12 staged files (12 from cache) in
	 * 41 ms"): a hook that prints nothing looks like it never ran. The
	 * files are called <summary> files; NULL: print the run as usual. */
	const char	*summary;
	int64_t		 started_ms;	/* CLOCK_MONOTONIC at the command's start */
	bool		 quiet_pass;	/* print nothing when every gate passed */
	/* when set: only the (gate, file) pairs it keeps run (ci --shard) */
	bool		(*keep)(void *arg, const struct gate *g, const char *path);
	void		*keep_arg;
	cJSON		**run_out;	/* when set: the run's JSON goes here (the
					 * caller deletes it) and nothing is printed */
};

/* The gate names in WATCHD_SKIP (comma-separated, blanks around names
 * ignored) into out; a name no gate of cfg has is a warning on stderr. */
void oneshot_skip_list(const struct config *cfg, struct strvec *out);
/* Collects the values of the repeatable --gate option into out; 0, or exit
 * code 2 (after naming it) when one names no gate of ctx's config. */
int oneshot_only_list(struct cli_ctx *ctx, const struct args *args, struct strvec *out);
/* Runs the gates on files (relative paths, borrowed) and prints the run.
 * Returns the exit code: 0 pass, 1 fail, 4 a tool or the ledger broke. */
int oneshot_run(struct cli_ctx *ctx, const struct oneshot *o, const struct strvec *files);
/* Prints a run (show --json shape) as text: gates, findings, status. */
void oneshot_print_text(const cJSON *run);
/* CLOCK_MONOTONIC in milliseconds, for started_ms. */
int64_t oneshot_now_ms(void);
/* The exit code for a run status. */
int oneshot_exit_code(const char *status);

#endif
