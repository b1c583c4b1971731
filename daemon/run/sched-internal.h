/* What the parts of the scheduler share: the run, task and chunk records,
 * the scheduler itself, and the calls one part makes into another. Private
 * to daemon/run/sched*.c (the API is sched.h). Everything here runs on the
 * loop thread. */
#ifndef WD_SCHED_INTERNAL_H
#define WD_SCHED_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <uv.h>

#include "daemon/git/repo.h"
#include "gates/gate.h"
#include "lib/buf.h"
#include "lib/dirhold.h"
#include "lib/hmap.h"
#include "lib/strvec.h"
#include "lib/ulid.h"
#include "sched.h"

enum task_state { TASK_WAITING, TASK_RUNNING, TASK_DONE };

/* One submitted batch. Owned by sched->runs until finished. */
struct run {
	char		 id[ULID_LEN + 1];
	char		 head[OID_HEX + 1];	/* HEAD's commit, "" outside git */
	int64_t		 started_ms;
	uint64_t	 seq;
	int		 open_tasks;	/* tasks not yet recorded */
	bool		 any_fail, any_error;
	struct run	*next;
};

/* One tool process's worth of a task's files. */
struct chunk {
	struct task	*task;
	const char	**files;	/* slice of task->untried (borrowed) */
	size_t		 n;
	size_t		 idx;		/* unique in the task: names {report} */
	char		*report;	/* {report} path, or NULL */
	struct spawn	*sp;		/* while running */
	struct chunk	*next_ready;
	struct chunk	*next_half;	/* task->halves: chunks made by splitting */
	bool		 done;
};

/* One gate's work in one run. Made by plan_tasks, owned by sched->tasks
 * until finished, freed by sched_finish_task. */
struct task {
	struct sched	*s;
	struct run	*run;
	struct gate	*gate;
	enum task_state	 state;
	struct strvec	 files;		/* files to judge, sorted */
	char		(*blobs)[OID_HEX + 1];	/* per file, "" when unknown */
	char		(*keys)[OID_HEX + 1];	/* per file cache key, "" = none;
						 * == blobs unless whole_inputs */
	struct hmap	 reasons;	/* path -> why it runs (malloc'ed) */
	char		 digest[OID_HEX + 1];	/* test gates: the whole input set */
	const char	**untried;	/* files the cache could not answer */
	signed char	*cached;	/* per file: 1 result came from the cache */
	signed char	*verdict;	/* per file: its own gate_status, or -1
					 * when the tool gave none for it alone */
	char		 fingerprint[OID_HEX + 1];
	struct buf	 fp_base;	/* the fingerprint's input but the tool
					 * version, while that is being probed */
	bool		 fp_late;	/* the version was unknown at start: the
					 * cache was not asked, and the fingerprint
					 * is made when the probe answers */
	bool		 await_version;	/* every chunk is in; waiting for it */
	const char	*root;		/* where its tools run (s->o.root, or the
					 * content's private tree) */
	struct chunk	*chunks;
	size_t		 nchunks, chunks_left;
	struct chunk	*halves;	/* re-runs of split chunks, owned here */
	size_t		 next_idx;
	bool		 split;		/* a failing chunk was re-run in halves */
	int		 split_exit;	/* exit status of the first one */
	struct gate_result agg;
	int		 exit_code;
	int64_t		 started_ms;
	uint64_t	 started_tick;
	struct buf	 output;
	char		(*judged_by)[ULID_LEN + 1];	/* per cached file: the run that
						 * judged it, from its cache row;
						 * NULL while no file is cached */
	bool		 superseded;	/* killed by a newer task (busy=restart) */
	bool		 skipped;	/* named by WATCHD_SKIP: recorded, not run */
	struct hash_job	*hashing;	/* while its content ids are being taken */
	struct hash_job	*parked;	/* taken, waiting for the tool's version */
	/* The remote cache: the fingerprint its keys use (no machine's paths
	 * in it), what answered (per file, NULL while nothing did), and the
	 * lookup in flight. */
	char		 rfingerprint[OID_HEX + 1];
	struct buf	 rfp_base;
	signed char	*remote_hit;
	size_t		 remote_hits;
	struct remote_lookup *rlookup;
	struct task	*next;
};

#define HASH_PARTS_MAX 4

/* A starting task's content ids: items [0, nconf) are the gate's config
 * files, [nconf, nconf + ninputs) its input set (test gates and task
 * runners), the rest its files in order. Taken on libuv's thread pool when
 * the content is the tree on disk; the worker reads root, paths, files_cap and cancel
 * and writes oids, nothing else is shared. With a content source (staged
 * content) they are the index's, looked up on the loop thread (no file is
 * read). Owned by the task while it runs (t->hashing), freed after the
 * answer is used. */
struct hash_part {
	uv_work_t	 req;
	struct hash_job	*j;
	size_t		 from, to;	/* items [from, to) */
};

struct hash_job {
	/* A big job is cut into parts, one per core, hashed side by side;
	 * left counts those not done yet (the loop's alone). */
	struct hash_part parts[HASH_PARTS_MAX];
	size_t		 nparts, left;
	struct sched	*s;
	struct task	*t;
	atomic_int	 cancel;	/* set on shutdown or supersession */
	size_t		 n, nconf, ninputs;
	const char	*root;		/* paths are relative to it */
	int		 root_fd;	/* ROOT, the job's own descriptor; -1: none,
					 * absolute paths are used */
	/* Borrowed from the gate, inputs and t->files, none of which changes
	 * while the task runs; the worker makes each absolute in turn (a
	 * copy per file was 1.4 MB for a 20,000-file batch). NULL: known
	 * already. */
	const char	**paths;
	uint64_t	 files_cap;	/* bytes read at most of each of the task's
					 * files (0: all); HASH_UNREAD_MAX for
					 * the input set, config files all */
	uint64_t	*stamps;	/* per input: the stamp the memo keeps */
	/* Content ids, "" when not taken: oids for the config files and the
	 * input set, file_oids for the task's files, which the task takes as
	 * its blobs (a copy was 0.8 MB for a 20,000-file batch). Reach them
	 * through hash_oid. */
	char		(*oids)[OID_HEX + 1];
	char		(*file_oids)[OID_HEX + 1];
	struct strvec	 inputs;	/* the input set, relative, sorted */
	uint64_t	 queued;	/* log_stage_start() when queued */
};

struct sched {
	struct sched_opts o;
	sched_done_fn	*cb;
	void		*arg;
	struct run	*runs;		/* unfinished, oldest first */
	struct task	*tasks;		/* waiting and running, oldest first */
	struct chunk	*ready_head, *ready_tail;
	int		 running_procs;
	int		 max_procs;
	char		**env;
	char		 last_run[ULID_LEN + 1];
	bool		 shutting_down;
	struct hmap	*missing_warned;
	struct hmap	 blob_memo;	/* path -> struct blob_memo */
	struct strvec	 forced;	/* gates the next submit runs on everything */
	struct hmap	 tools;		/* resolved program path -> struct tool_ver */
	/* argv[0] -> its resolved path (malloc'ed, "" when not found), for
	 * the loop tick which_tick only: starting a task asks for the same
	 * program three or four times (fingerprint, version, each chunk), and
	 * a tool installed later must still be found at the next change */
	struct hmap	 which;
	uint64_t	 which_tick;
	struct repo	*repo;		/* for HEAD, opened once; NULL outside git */
	bool		 repo_tried;
	/* resolved program -> "SIZE MTIME BLOBID" (malloc'ed): the content of
	 * a tool with no version probe, for remote fingerprints */
	struct hmap	 prog_ids;
	/* ROOT held open: hash jobs look files up relative to it (a dup
	 * each, as ROOT may be replaced while they run) */
	struct dirhold	 root_dir;
	struct ahead	*ahead;		/* ids taken at closes (sched-ahead.c), or NULL */
};

static inline int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether g's results depend on more than each file's own bytes: a test
 * gate (its tests exercise other code) and a task runner (it is given no
 * files and judges the tree). */
static inline bool task_whole_inputs(const struct gate *g)
{
	return g->tests || g->batching == GATE_BATCH_NONE;
}

/* sched.c: the life of runs and tasks. */
/* Starts the waiting tasks the busy policy lets through, then as many
 * ready chunks as `jobs` allows. Does nothing while shutting down. */
void sched_pump(struct sched *s);
/* Ends t once its last chunk is in: settles the gate's status, records
 * it, frees t, and finishes its run when t was the run's last task. */
void sched_finish_task(struct sched *s, struct task *t);

/* sched-plan.c: a submitted batch becomes tasks. */
/* Makes one task per gate with files to judge in this batch, in gate order,
 * as a list at *head (the caller owns it; tasks are WAITING, with no run
 * yet). Consumes s->forced. Returns how many. */
int plan_tasks(struct sched *s, const struct strvec *changed, const struct strvec *removed,
    struct task **head);

/* sched-busy.c: when a waiting task may start. */
/* Starts every WAITING task that no other task of its gate holds back,
 * superseding running ones under busy=restart. */
void busy_admit(struct sched *s);
/* Marks t superseded and kills its running chunks; they report as usual. */
void busy_supersede(struct task *t);

/* sched-chunk.c: a task's files become tool processes. */
/* Cuts t->untried[0..nuntried) into t->chunks and numbers them; sets
 * chunks_left. Queues nothing. */
void chunk_cut(struct task *t, size_t nuntried);
/* Queues the two halves of c (at least two files) as new chunks of its
 * task, owned by the task. */
void chunk_split(struct sched *s, const struct chunk *c);

/* sched-ahead.c: content ids taken as files are closed. */
/* The id of rel taken at its last close into oid, when nothing said since
 * that rel changed; false when there is none (rel must be hashed, and a
 * close of rel still waiting for the pool is taken back). */
bool ahead_take(struct sched *s, const char *rel, char oid[OID_HEX + 1]);
/* Stops taking ids: queued closes are dropped and jobs told to stop. */
void ahead_stop(struct sched *s);
/* After the loop has run its last: frees what ahead_stop left. */
void ahead_free(struct sched *s);

/* sched-hash.c: content ids, off the loop thread for files on disk. */
/* Takes t's content ids (t->hashing while they are taken) and calls
 * exec_task_hashed with them: from the thread pool's answer (which then
 * pumps the scheduler) for files on disk, at once for a content source. */
void hash_start(struct sched *s, struct task *t);
/* Tells t's job, if any, to stop reading: t then ends unjudged. */
void hash_cancel(struct task *t);
/* Frees a job once its answer was used. */
void hash_job_free(struct hash_job *j);
/* Item i's content id (see struct hash_job). */
static inline char *hash_oid(struct hash_job *j, size_t i)
{
	size_t first = j->nconf + j->ninputs;

	return i < first ? j->oids[i] : j->file_oids[i - first];
}

/* sched-exec.c: running tasks and chunks, and recording them. */
/* Marks t running and starts taking its content ids; the rest happens in
 * exec_task_hashed. */
void exec_start_task(struct sched *s, struct task *t);
/* With t's content ids in j: the fingerprint, answers from the cache, and
 * chunks queued for the rest; may finish t at once (all cached, or the job
 * cancelled). Takes j. Does not pump. With a remote cache to read and the
 * tool's version still being probed, j is parked in t->parked instead,
 * and sched_pump calls this again once the version is known. */
void exec_task_hashed(struct sched *s, struct task *t, struct hash_job *j);
/* The input set's memo: when the stat of rel says the memo still holds
 * its id (or the file is gone: no id), fills oid and returns true; *stamp
 * is the stamp to keep with a new id. */
bool exec_memo_lookup(struct sched *s, const char *rel, uint64_t *stamp, char oid[OID_HEX + 1]);
/* True when g's tool version is known or cannot be (no probe, tool
 * missing), from memory or the ledger; otherwise starts the probe, which
 * pumps when done. */
bool exec_version_ready(struct sched *s, const struct gate *g);
/* Makes t's fingerprint once the version is known (fp_late); false while
 * the probe still runs. */
bool exec_fingerprint_ready(struct sched *s, struct task *t);
/* Appends c to the ready queue (FIFO). */
void exec_enqueue(struct sched *s, struct chunk *c);
/* Starts ready chunks while fewer than max_procs run. */
void exec_start_ready(struct sched *s);
/* Writes t's gate run, its files and findings to the ledger. */
void exec_record_task(struct sched *s, struct task *t);
/* Frees the tool, content-id and program-path memos. */
void exec_release(struct sched *s);
/* With t's local cache answered: the content of its untried files (staged
 * content) is prepared, they are cut into chunks and queued, or t finishes
 * when none is left. Does not pump. */
void exec_task_untried(struct sched *s, struct task *t, size_t nuntried);

/* sched-remote.c: the team's cache, between the ledger and the tool. */
/* Asks the remote cache about t's nuntried untried files when it can
 * (reading on, a fingerprint, a cache key); true when it did: t goes on
 * from the answer (exec_task_untried, then a pump). */
bool remote_lookup_start(struct sched *s, struct task *t, size_t nuntried);
/* Ends t's lookup early (stop, supersession); its answer still comes. */
void remote_lookup_abort(struct task *t);
/* Uploads the results t judged itself (not those from any cache), after
 * they were recorded. */
void remote_upload(struct sched *s, struct task *t);

#endif
