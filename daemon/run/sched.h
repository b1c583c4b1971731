/* The scheduler: turns a settled batch of changed files into a run (ULID),
 * matches files to gates, consults the result cache, splits work into tool
 * processes within the `jobs` limit, applies each gate's busy policy, and
 * records every finished gate run in the ledger. Runs on the loop thread. */
#ifndef WD_SCHED_H
#define WD_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "config/config.h"
#include "daemon/git/repo.h"
#include "daemon/remote/client.h"
#include "lib/err.h"
#include "lib/strvec.h"
#include "lib/ulid.h"

struct findings;
struct ledger;
struct sched;

/* Where the content judged comes from when it is not the files under root
 * as they are: `check --staged` judges the index. */
struct sched_content {
	/* The content id (git blob id) of path: 0, or -ENOENT when it has
	 * none. Cheap: asked for every file before the cache. */
	int		(*blob)(void *arg, const char *path, char out[OID_HEX + 1]);
	/* Called only for files the cache could not answer, before their
	 * tool starts: makes the content of files[0..n), g's config files and,
	 * for a gate that reads more than its files, its whole input set
	 * readable, and returns the directory the tool runs in (borrowed,
	 * valid while the scheduler lives): root when those files there
	 * already hold that content, else a private tree. NULL with err set
	 * when it cannot. */
	const char	*(*prepare)(void *arg, const struct gate *g, const char *const *files,
			    size_t n, struct wd_err *err);
	void		*arg;
};

/* One gate's recorded result, for sched_opts.gate_done. Everything is
 * borrowed for the call. */
struct sched_gate_done {
	const char		*run_id;
	const char		*gate;
	enum gate_status	 status;
	bool			 cached;	/* every file's result came from the cache */
	int			 exit_code;	/* -1: none */
	int64_t			 duration_ms;
	const struct strvec	*files;		/* the files judged, sorted */
	const struct findings	*findings;
	const char		*message;	/* one-line reason, or NULL */
};

struct sched_opts {
	uv_loop_t		*loop;
	const char		*root;		/* where files are read: the tools' cwd */
	const char		*git_root;	/* the work tree for HEAD; NULL: root */
	const struct config	*cfg;		/* borrowed; outlives the scheduler */
	struct ledger		*ledger;	/* borrowed */
	const char		*tmp_dir;	/* where {report} and output spill files go */
	const char		*trigger;	/* "watch", "run", "hook", "ci" */
	bool			 no_cache;
	/* A batch no gate matches is still recorded as a run (pass, no gates):
	 * one-shot modes, where the caller asked for a run. The daemon leaves
	 * it false: edits outside every gate record nothing. */
	bool			 record_empty;
	/* Lists the eligible files under ROOT that are inputs of gate g
	 * (include or triggers; relative, sorted) into out: needed for
	 * triggers, config-file changes, test gates' and task runners'
	 * inputs. */
	void			(*list_files)(void *arg, const struct gate *g, struct strvec *out);
	void			*list_arg;
	/* NULL: files are read under root as they are. */
	const struct sched_content *content;
	/* The team's result cache, asked after the ledger and before the
	 * tool, and given every result judged here when it takes writes.
	 * Borrowed; NULL: none. */
	struct remote		*remote;
	/* Gate names, borrowed; NULL: none. Gates in skip are recorded as
	 * skipped without running (WATCHD_SKIP); when only is set, gates not
	 * in it are left out of runs altogether (--gate). */
	const struct strvec	*skip;
	const struct strvec	*only;
	/* When set, only the (gate, file) pairs it returns true for are
	 * judged: `ci --shard` splits the work, not the input list, so that
	 * a config-file change or a trigger selects the same pairs in every
	 * shard and each pair is kept by exactly one. */
	bool			(*keep)(void *arg, const struct gate *g, const char *path);
	void			*keep_arg;
	/* Optional (NULL: not told), for the daemon's event stream and its
	 * foreground output; hook_arg is their arg. run_started comes from
	 * sched_submit before any gate of the run can finish, with the names
	 * of the gates it will run and the batch (removed may be NULL);
	 * gate_done after each gate's result is recorded, before the done
	 * callback of its run. Both run on the loop thread and must not call
	 * back into the scheduler. */
	void			(*run_started)(void *arg, const char *run_id,
				    const struct strvec *gates, const struct strvec *changed,
				    const struct strvec *removed);
	void			(*gate_done)(void *arg, const struct sched_gate_done *g);
	void			*hook_arg;
};

/* Called when a run has finished and is recorded. status: "pass", "fail",
 * "error", "interrupted". */
typedef void sched_done_fn(struct sched *s, const char *run_id, const char *status,
    void *arg);

struct sched *sched_new(const struct sched_opts *o, sched_done_fn *cb, void *arg);
/* Submits a batch: changed and removed paths relative to ROOT (borrowed).
 * seq orders batches for `status --sync`. Returns 0 and fills run_id when a
 * run started (with record_empty, a run with no gates is recorded and has
 * finished, cb called, when this returns), 1 when no gate matched any file
 * and record_empty is off (no run), or <0 on a ledger error (err filled;
 * the scheduler stays usable). */
int sched_submit(struct sched *s, const struct strvec *changed, const struct strvec *removed,
    uint64_t seq, char run_id[ULID_LEN + 1], struct wd_err *err);
/* From settle (settle_opts.closed): a writer closed rel, a regular file,
 * which then had stamp; 0: another event, or a look that found rel
 * changed since. A file some gate includes is hashed now, off the loop,
 * and while nothing says 0 for it, its batch uses that id rather than
 * read the file again (see sched-ahead.c). */
void sched_file_closed(struct sched *s, const char *rel, uint64_t stamp);
/* The next sched_submit runs these gates on every file they include
 * (their definition changed). */
void sched_force_gates(struct sched *s, const struct strvec *names);
/* Switches to a new config for future runs; tasks already queued keep the
 * gates of the old one, so the caller keeps it alive until sched_idle(). */
void sched_set_config(struct sched *s, const struct config *cfg);
/* True when no run is queued or running. */
bool sched_idle(const struct sched *s);
/* True while a task is waiting, hashing or running (while one is being
 * recorded: another one). */
bool sched_tasks_left(const struct sched *s);
/* The remote cache from now on (NULL: none); lookups in flight finish
 * with the one they started with, which the caller keeps until idle. */
void sched_set_remote(struct sched *s, struct remote *r);
/* Lowest seq among unfinished runs; UINT64_MAX when idle. */
uint64_t sched_min_seq(const struct sched *s);
void sched_stats(const struct sched *s, int *pending_files, int *running_gates);
/* A running gate's progress: files judged (from the cache, or by a tool
 * process that has ended) of those it must judge. */
struct sched_progress {
	const char	*gate;		/* borrowed until the loop runs again */
	size_t		 done, total;
	int64_t		 elapsed_ms;
};
/* Fills out with at most max running gates, oldest first; returns how many. */
size_t sched_progress(const struct sched *s, struct sched_progress *out, size_t max);
/* The id of the newest run submitted, or "" (borrowed). */
const char *sched_last_run(const struct sched *s);
/* Kills every running tool, records unfinished runs as interrupted, and
 * calls cb for each; the scheduler is then idle. */
void sched_shutdown(struct sched *s);
void sched_free(struct sched *s);	/* NULL-safe; call after shutdown */

#endif
