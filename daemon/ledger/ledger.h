/* The SQLite ledger at ROOT/.watchd/ledger.db: runs, gate runs, findings,
 * the per-file latest state behind `status`, and the content-addressed
 * result cache. WAL mode; one transaction per finished gate run; every
 * connection gets the same pragmas (see PITFALLS: only journal_mode
 * persists). Nothing here touches libuv: calls block briefly and may run
 * on the loop thread. Times are milliseconds since the epoch in the API and
 * ISO-8601 UTC strings in JSON. */
#ifndef WD_LEDGER_H
#define WD_LEDGER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "gates/gate.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/strvec.h"
#include "lib/ulid.h"

struct ledger;

#define LEDGER_SCHEMA	10	/* the schema version (user_version) this build writes */

enum ledger_mode {
	LEDGER_READ,		/* CLI queries: read-only, query_only */
	LEDGER_WRITE,		/* daemon and one-shot runs: create + migrate */
};

/* Opens path. READ mode on a missing (or empty) file gives -ENOENT and
 * creates nothing; WRITE mode creates the file (not its directory) and
 * migrates the schema forward in place (one BEGIN IMMEDIATE transaction
 * that also sets user_version; data kept). READ mode never migrates: an
 * older schema is read as it is, the columns it lacks reading as NULL. A
 * ledger written by a newer schema gives WD_ELEDGER_NEWER; one that is not
 * a watchd ledger gives WD_ELEDGER. err gets a sentence naming the file.
 * Test hook: WATCHD_TEST_MAX_PAGES=N caps a WRITE connection at N pages
 * (see ledger_retry). */
int ledger_open(const char *path, enum ledger_mode mode, struct ledger **out,
    struct wd_err *err);
void ledger_close(struct ledger *l);	/* NULL-safe */
/* The schema version of the open file: LEDGER_SCHEMA once a WRITE open has
 * migrated it; in READ mode what the file holds (1..LEDGER_SCHEMA). */
int ledger_schema(const struct ledger *l);

struct ledger_run {
	char		 id[ULID_LEN + 1];
	const char	*trigger;	/* "watch", "run", "hook", "ci" */
	const char	*git_head;	/* 40 hex, or NULL outside git / unborn */
	const char	*config_hash;
	int64_t		 started_ms;
	const char *const *files;	/* what the run is to judge (duplicates and */
	size_t		 nfiles;	/* NULL entries ignored); kept until it finishes */
};

/* Writes: ledger_run_begin, ledger_run_finish, ledger_gate_record and
 * ledger_file_removed. When one fails because the disk is full, on an I/O
 * error, a read-only file or a lock held beyond the busy timeout (WRITE
 * mode only), it returns the error as usual but keeps a deep copy of the
 * write in a queue inside the ledger (at most 10,000; beyond that writes
 * are dropped, counted and logged). Queued writes are retried in order
 * before the next write and by ledger_retry, so the ledger sees every
 * write in the order it was made; one that then fails for good (a
 * constraint) is dropped and counted. */

/* Inserts the run with status "running" (so a crash leaves a mark), with
 * its files. */
int ledger_run_begin(struct ledger *l, const struct ledger_run *r, struct wd_err *err);
/* status: "pass", "fail", "error", "interrupted". The run's files are
 * forgotten, except for "interrupted" (stopped mid-run) and while rows of
 * the run wait in the stage (until ledger_flush): the next
 * ledger_mark_interrupted hands them back. */
int ledger_run_finish(struct ledger *l, const char *run_id, const char *status,
    int64_t finished_ms, struct wd_err *err);
/* Daemon start, in one transaction: marks every run still "running" as
 * "interrupted" (finished_at stays NULL: nobody saw it end), and hands the
 * files of every unfinished run (those, runs stopped mid-run, and runs
 * whose staged rows were never written) to
 * unjudged (sorted, unique; may be NULL) while forgetting their per-file
 * state: `status` must not show a verdict on content nobody judged. The
 * caller judges them again. *count: the runs marked. */
int ledger_mark_interrupted(struct ledger *l, int *count, struct strvec *unjudged,
    struct wd_err *err);

struct ledger_file {
	const char	*path;		/* relative to ROOT */
	const char	*blob;		/* git blob id of the content judged, or NULL */
	const char	*cache_key;	/* key for the result cache, or NULL: no caching */
	const char	*reason;	/* why the file ran, or NULL */
	/* The run that judged this content when the result came from the
	 * cache; NULL or "" when this run judged it. The cache row keeps
	 * naming it, while its findings are read from this gate run's copy.
	 * A pointer like the rest (a queued write copies it): an inline array
	 * made each row 72 bytes, 1.4 MB for a 20,000-file batch. */
	const char	*judged_by;
	int		 cache_status;	/* gate status to cache for this file, -1: none */
	bool		 has_status;	/* status below is this file's own verdict */
	enum gate_status status;	/* else the state table takes cache_status or the gate's */
};

struct ledger_gate_run {
	const char		*run_id;
	const char		*gate;
	const char		*fingerprint;
	enum gate_status	 status;
	bool			 cached;
	const char		*cached_from;	/* run id the result was reused from */
	int			 exit_code;	/* -1: none (not started, killed) */
	int64_t			 started_ms;
	int64_t			 duration_ms;
	const struct ledger_file *files;
	size_t			 nfiles;
	/* Or, when set, the rows are made one at a time: row i into *row,
	 * its strings borrowed until the next call (files is then unused),
	 * its reason only when asked for (composing one may cost a format).
	 * A 20,000-file batch then holds no array of 20,000 rows, 1.1 MB at
	 * the daemon's peak. */
	void			(*file_at)(void *arg, size_t i, bool reason,
				    struct ledger_file *row);
	void			*file_arg;
	const struct findings	*findings;	/* may be NULL */
	const char		*message;	/* one-line reason, or NULL */
	const char		*output;	/* stdout+stderr excerpt, or NULL */
	int			 tests_total, tests_passed, tests_failed, tests_skipped; /* -1 */
	const char		*input_digest;	/* test gates: digest of the whole input
						 * set, or NULL; shown when set */
	bool			 whole_gate;	/* a task runner's: its pass is a pass
						 * for every file of the gate */
	const char		*remote;	/* the remote cache that answered for
						 * remote_hits files, or NULL */
	int			 remote_hits;
};

/* Records one finished gate run in one transaction: the gate run, its
 * files, findings, the per-file state behind `status`, and a cache row for
 * every file with a cache_key and cache_status >= 0 (its run_id: the file's
 * judged_by, else this run; its findings: this gate run's). A passing
 * whole_gate run also marks every other file of its gate as passing. On any
 * failure
 * nothing is recorded and no transaction stays open: WD_ELEDGER_FULL when
 * the disk is full, else WD_ELEDGER (both name the file in err). */
int ledger_gate_record(struct ledger *l, const struct ledger_gate_run *g, struct wd_err *err);
/* Drops per-file state rows (what `status` summarises) that keep() says
 * no longer describe anything: a gate that is gone, a file the gate no
 * longer includes or that no longer exists. One transaction. */
typedef bool ledger_keep_fn(void *arg, const char *gate, const char *path);
int ledger_state_prune(struct ledger *l, ledger_keep_fn *keep, void *arg, int *pruned,
    struct wd_err *err);
/* Forgets the per-file state of a removed file (all gates). */
int ledger_file_removed(struct ledger *l, const char *path, struct wd_err *err);

/* Applies the queued writes, oldest first, stopping at the first that
 * still fails (err then says why). Returns how many are still queued (0:
 * all recorded). Test hook: with WATCHD_TEST_MAX_PAGES set at open, first
 * re-reads the page cap from the file `test-max-pages` next to the ledger,
 * or lifts it when that file is absent. Cheap when nothing is queued. */
int ledger_retry(struct ledger *l, struct wd_err *err);
/* Writes waiting in the queue. */
size_t ledger_queued(const struct ledger *l);

/* The stage (stage.c): from now on, the file_state and cache rows of small
 * gate runs wait in memory and are written together, in key order, by
 * ledger_flush or ledger_flush_slice (when is the caller's to say; a slice
 * also goes once the stage is full). A burst of
 * runs then writes each page of those tables once rather than once per
 * run. What waits stays visible to this connection's cache lookups and
 * leaves the foreground's brief exact; gc and pruning flush first, and a
 * crash loses no judgement (the runs keep their files for the next
 * daemon). Other processes see staged rows only once flushed: the daemon
 * flushes as soon as nothing is left to settle or run, and before its
 * status answers (which counts every file judged).
 * WRITE mode. */
typedef bool ledger_busy_fn(void *arg);
/* busy (may be NULL: always) says whether more changes are on their way
 * when a gate run is recorded: only then are its rows staged, as a small
 * change's would be written out right after anyway. */
int ledger_stage(struct ledger *l, ledger_busy_fn *busy, void *arg, struct wd_err *err);
/* The key filter (keyfilter.c): from now on this connection keeps in
 * memory which cache keys the cache may hold, read now from the whole
 * cache (call it where a scan of the cache may take a while: the opening
 * thread), so that ledger_cache_lookup answers a miss for content never
 * judged without a query. Another process's writes are noticed and put the
 * filter out of use until ledger_cache_prepare rebuilds it. WRITE mode;
 * 0 or an error (lookups then query as before). */
int ledger_keyfilter(struct ledger *l, struct wd_err *err);
/* Before the cache lookups of a batch of nfiles files (inside
 * ledger_read_begin's snapshot, where there is one): notices another
 * process's writes, and rebuilds the filter when they or its own growth
 * made it stale and the batch is big enough to pay for the scan. NULL-safe;
 * nothing without ledger_keyfilter. */
void ledger_cache_prepare(struct ledger *l, size_t nfiles);
/* Rows waiting in the stage; NULL-safe. */
size_t ledger_staged(const struct ledger *l);
/* How long the stage has held rows (since it was last empty), in ms; 0
 * when empty. NULL-safe. */
int64_t ledger_staged_ms(const struct ledger *l);
/* Writes the stage out in one transaction. NULL-safe; 0 when nothing
 * waits. On failure the rows stay staged (err says why). */
int ledger_flush(struct ledger *l, struct wd_err *err);
/* The same for the stage's first few hundred rows in key order (a few
 * milliseconds): a caller on an event loop writes a burst's stage out one
 * slice a turn. */
int ledger_flush_slice(struct ledger *l, struct wd_err *err);
/* *out (caller deletes): {"ok": bool, "error": the last failed write or
 * quick_check's complaint (naming the file and SQLite's message) or null,
 * "queued_writes": N, "dropped_writes": N, "path": ..., "schema": N}.
 * ok is false while writes are queued or quick_check failed. 0. */
int ledger_health(struct ledger *l, cJSON **out);
/* PRAGMA quick_check (cheap: skips index contents; run at daemon start).
 * 0, or WD_ELEDGER naming the file and the first problems; the complaint
 * stays in ledger_health's "error". */
int ledger_quick_check(struct ledger *l, struct wd_err *err);

struct ledger_cache_hit {
	enum gate_status status;
	char		 run_id[ULID_LEN + 1];	/* run that judged it */
	struct findings	 findings;		/* that file's findings; caller releases */
};

/* 1 on a hit (hit filled), 0 on a miss, negative on error. */
int ledger_cache_lookup(struct ledger *l, const char *gate, const char *fingerprint,
    const char *path, const char *cache_key, struct ledger_cache_hit *hit);

/* One read snapshot around many ledger_cache_lookup calls (a lock taken
 * and dropped once, not per lookup). 0 or WD_ELEDGER; no write may come
 * before ledger_read_end, which never fails. */
int ledger_read_begin(struct ledger *l);
void ledger_read_end(struct ledger *l);

/* An executable's identity: the version probed for it holds while all of
 * these stay the same (an upgrade replaces or rewrites the file). */
struct ledger_tool {
	const char	*path;		/* resolved, absolute */
	int64_t		 dev, ino, size, mtime_ns;
};

/* The version last probed for tool: 1 and *version (malloc'ed, the caller
 * frees it) on a hit, 0 on a miss (also on a ledger older than schema 5),
 * negative on error. */
int ledger_tool_version(struct ledger *l, const struct ledger_tool *tool, char **version);
/* Remembers version for tool (replacing what its path had). A WRITE
 * connection's own transaction; 0 or WD_ELEDGER(_FULL) with err. Not
 * queued for a retry: a lost row only costs one more probe. */
int ledger_tool_version_put(struct ledger *l, const struct ledger_tool *tool,
    const char *version, struct wd_err *err);

struct ledger_log_query {
	int		 limit;		/* 0: default 20 */
	const char	*gate;		/* only runs where this gate ran, or NULL */
	const char	*status;	/* only runs with this status, or NULL */
	int64_t		 since_ms;	/* 0: no bound */
	bool		 findings;	/* include findings in each gate */
};

/* Runs newest first, each in the `show --json` shape. *out: a cJSON array. */
int ledger_log(struct ledger *l, const struct ledger_log_query *q, cJSON **out,
    struct wd_err *err);
/* One run by id or unique id prefix, with gates and findings. WD_ENOTFOUND,
 * WD_EAMBIGUOUS. */
int ledger_show(struct ledger *l, const char *id, cJSON **out, struct wd_err *err);
/* {"id","status","finished_at"} of the newest finished run, or cJSON null. */
int ledger_last_run(struct ledger *l, cJSON **out, struct wd_err *err);
/* [{"name","status","failing_files","findings","error_files","checked_files",
 * "files":[...paths not passing], "problem","message"}]: each gate's current
 * state from the per-file state table. status is "fail" when a file fails,
 * else the newest of error/timeout/missing (also in "problem", with the gate
 * run's message, e.g. the install hint), else "pass". */
int ledger_gate_summary(struct ledger *l, cJSON **out, struct wd_err *err);
/* The same without "checked_files", "files", "first_findings" and
 * "findings_run": what a gate's state is, read from the rows that do not
 * pass, so it costs the same however many files the ledger has judged
 * (ledger_gate_summary counts them all). For the daemon's account of each
 * run. */
int ledger_gate_brief(struct ledger *l, cJSON **out, struct wd_err *err);

/* Copies the WAL back into the database when it holds 1,000 frames or
 * more, without waiting for readers: for the daemon once nothing ran for a
 * while, so that checkpoints (and the syncs of the WAL's reset) stay out of
 * the path between a change and its tool. Also frees the page cache's
 * unused pages. WRITE mode; NULL-safe; never fails. */
void ledger_idle(struct ledger *l);
/* From now on the WAL is copied back on a thread of the ledger's own, on a
 * connection of its own, whenever a commit leaves WAL_BG_FRAMES or more in
 * it, instead of inside the commit that crosses WAL_HARD_FRAMES: that one
 * held the daemon's loop for 0.3 s in the middle of a burst once a few
 * hundred runs had filled the WAL (nothing was copied back while runs
 * kept coming less than a second apart). WRITE mode, called on the thread
 * that uses l; stopped by ledger_close. Returns 0, or -errno (the inline
 * checkpoint stays). */
int ledger_checkpoint_thread(struct ledger *l);

/* Retention (`watchd gc`), one transaction. Deletes finished runs (with
 * their gate runs, files and findings) started more than keep_days ago
 * (0: no age limit) or beyond the newest keep_runs (0: no count limit). A
 * run with a gate run that holds some file's current judgement (file_state)
 * is kept whole, so the results describing current content, and their cache
 * entries, survive; running runs are never touched. Cache entries whose gate
 * run went are dropped. *deleted: runs deleted. 0, WD_ELEDGER,
 * WD_ELEDGER_FULL. About 1 s per 100,000 runs deleted. */
int ledger_gc(struct ledger *l, int keep_days, int keep_runs, int *deleted,
    struct wd_err *err);
/* Writes every run started at or after since_ms (0: all), oldest first, as
 * one compact JSON object per line in the `show --json` shape. 0 or
 * WD_ELEDGER (also on a write error on out). */
int ledger_export(struct ledger *l, int64_t since_ms, FILE *out, struct wd_err *err);
/* Appends the EXPLAIN QUERY PLAN lines of one of the ledger's own queries
 * ("log", "log_status", "log_gate", "show", "gates", "files", "findings",
 * "cache", "summary", "last_run", "export", "removed", "gc", "gc_cache") to out, one per line: for tests and diagnostics.
 * WD_ENOTFOUND for an unknown name. */
int ledger_explain(struct ledger *l, const char *query, struct buf *out, struct wd_err *err);

/* ISO-8601 UTC with milliseconds ("2026-11-24T12:00:00.123Z"). */
void ledger_time_iso(int64_t ms, char out[32]);
/* Parses ISO-8601 dates/times ("2026-11-24", "2026-11-24T12:00:00Z",
 * optional fraction and +HH:MM offset; no zone means UTC) or relative
 * "30s", "15m", "2h", "3d", "1w" (that long before now): 0 or -1. */
int ledger_time_parse(const char *s, int64_t *ms);

#endif
