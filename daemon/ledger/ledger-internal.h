/* What the parts of the ledger share and nothing outside daemon/ledger/
 * includes: struct ledger, the ids of its statements, and the helpers that
 * run one statement or one transaction on its connection. Names with two
 * underscores (ledger__) are internal to the ledger, as libuv's uv__ are;
 * ledger.c's opening comment says which part does what. */
#ifndef WD_LEDGER_INTERNAL_H
#define WD_LEDGER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <sqlite3.h>

#include "ledger.h"
#include "lib/bloom.h"
#include "lib/strvec.h"

#define LEDGER_BUSY_MS		5000	/* how long a write waits for another writer */

/* One per entry of stmt.c's table. */
enum stmt_id {
	ST_BEGIN_W, ST_BEGIN_R, ST_COMMIT, ST_ROLLBACK,
	ST_RUN_BEGIN, ST_RUN_FINISH, ST_MARK_INTERRUPTED,
	ST_GATE_INSERT, ST_FILE_INSERT, ST_FINDING_INSERT, ST_STATE_UPSERT, ST_STATE_PASS_ALL,
	ST_CACHE_INSERT, ST_FILE_REMOVED,
	ST_CACHE_LOOKUP, ST_CACHE_FINDINGS,
	ST_LOG, ST_LOG_STATUS, ST_LOG_GATE, ST_SHOW, ST_GATES, ST_FILES, ST_FINDINGS, ST_LAST_RUN,
	ST_SUMMARY, ST_SUMMARY_FILES, ST_SUMMARY_PROBLEM, ST_SUMMARY_FINDINGS, ST_SUMMARY_RUN,
	ST_SUMMARY_BRIEF, ST_EXPORT,
	ST_GC_KEEP, ST_GC_RUNS, ST_GC_CACHE, ST_GC_KEEP_CLEAR,
	ST_TOOL_GET, ST_TOOL_PUT,
	ST_RUN_FILE_INSERT, ST_RUN_FILES_DONE, ST_RUN_FILES_LEFT, ST_RUN_FILES_DROP_LEFT,
	ST_STAGE_GATE_KNOWN, ST_STAGE_GATE_OPEN, ST_STAGE_OPEN, ST_STAGE_ROW,
	ST_STAGE_STATE_DROP, ST_STAGE_LOOKUP, ST_STAGE_NTH, ST_STAGE_LAST,
	ST_STAGE_UPTO_STATE, ST_STAGE_UPTO_CACHE, ST_STAGE_UPTO_CLEAR, ST_STAGE_FORGET,
	ST_DATA_VERSION,
	ST__COUNT
};

struct qentry;		/* a queued write: write.c */
struct ckpt;		/* the checkpoint thread: gc.c */

struct ledger {
	sqlite3			*db;
	char			*path;
	enum ledger_mode	 mode;
	int			 schema;	/* user_version when opened */
	sqlite3_stmt		*st[ST__COUNT];	/* prepared on first use (stmt.c) */
	int			 last_src;	/* SQLite code of the last ledger__fail */
	/* Writes that failed for a reason that passes (disk full, I/O error,
	 * read-only file, lock held too long), oldest first; retried in order
	 * before any later write and by ledger_retry. */
	struct qentry		*qhead, **qtail;
	size_t			 qlen;
	uint64_t		 qdropped;	/* lost: queue full, or failed for good */
	char			 write_err[512];	/* last failed write; "" once recovered */
	char			 check_err[512];	/* quick_check's complaint, or "" */
	bool			 test_hook;	/* WATCHD_TEST_MAX_PAGES was set */
	int			 wal_frames;	/* in the WAL after our last commit */
	int			 ckpt_asked;	/* wal_frames when the checkpoint
						 * thread was last asked */
	struct ckpt		*ckpt;		/* NULL: checkpoints inside commits */
	/* The stage (stage.c): file_state and cache rows held in temp
	 * tables until a flush writes them in key order. */
	bool			 stage_on;	/* ledger_stage was called */
	ledger_busy_fn		*stage_busy;	/* its arguments */
	void			*stage_arg;
	size_t			 staged;	/* rows in the stage, committed */
	int64_t			 stage_since;	/* when it last stopped being empty */
	struct strvec		 stage_runs;	/* runs with rows in the stage */
	struct strvec		 done_runs;	/* ... that finished: their
						 * run_files go with the flush */
	/* what the open write transaction did to the stage, applied by
	 * ledger__commit and forgotten by the next ledger__begin */
	bool			 stx_on;	/* this gate run's rows are staged */
	bool			 stx_probe;	/* ... and its gate has open rows */
	bool			 stx_flushed;	/* the stage was written out */
	size_t			 stx_added;	/* rows staged */
	size_t			 stx_runs;	/* stage_runs / done_runs entries */
	size_t			 stx_done;	/* the flush wrote out */
	size_t			 stx_sliced;	/* rows a partial flush wrote out */
	/* The key filter (keyfilter.c): the cache keys this connection may
	 * find, so that a lookup of content never judged runs no query. */
	bool			 kf_on;		/* ledger_keyfilter was called */
	bool			 kf_ok;		/* kf holds every key as of
						 * kf_version and this
						 * connection's writes since */
	struct bloom		 kf;
	int64_t			 kf_version;	/* PRAGMA data_version at the build */
	size_t			 kf_rows;	/* keys read by the build */
};

/* stmt.c. Each returns 0 or the code it also puts in err (which may be
 * NULL): WD_ELEDGER_FULL when the disk is full, else WD_ELEDGER. */

/* Turns a failed SQLite call (rc) into WD_ELEDGER / WD_ELEDGER_FULL with a
 * message naming the file, and rolls back any transaction SQLite left open
 * (after SQLITE_FULL it keeps it: only the statement failed). */
int ledger__fail(struct ledger *l, int rc, const char *what, struct wd_err *err);
/* The statement, prepared on first use and kept until ledger_close
 * (borrowed); NULL with err set on failure. */
sqlite3_stmt *ledger__stmt(struct ledger *l, enum stmt_id id, struct wd_err *err);
/* Steps s (already bound) through a statement that returns no rows, then
 * resets it and clears its bindings, on failure too. */
int ledger__step(struct ledger *l, sqlite3_stmt *s, const char *what, struct wd_err *err);
/* ledger__stmt, then ledger__step. */
int ledger__exec(struct ledger *l, enum stmt_id id, const char *what, struct wd_err *err);
/* BEGIN IMMEDIATE (write) or BEGIN (a read snapshot); COMMIT. */
int ledger__begin(struct ledger *l, bool write, struct wd_err *err);
int ledger__commit(struct ledger *l, struct wd_err *err);
/* Ends a transaction after a failure that was not SQLite's (a bad
 * argument; err already says why), and ends read transactions. Never
 * fails. */
void ledger__abort(struct ledger *l);

/* ledger.c: the WATCHD_TEST_MAX_PAGES hook (see ledger_open); reread:
 * take the cap from the file test-max-pages instead (ledger_retry). */
void ledger__test_hook(struct ledger *l, bool reread);

/* gc.c: stops the checkpoint thread and closes its connection, if any
 * (ledger_close, before the main connection). */
void ledger__checkpoint_stop(struct ledger *l);

/* stage.c. Inside do_gate_record's write transaction: whether g's
 * file_state and cache rows go to the stage (stx_on), writing the stage out
 * first when g will not use it, when it is full, or when it is old. */
int ledger__stage_open(struct ledger *l, const struct ledger_gate_run *g, struct wd_err *err);
/* While stx_on: one file's rows. Its file_state row (status, NULL: none)
 * is staged when it passes and file_state holds no open row for it, so
 * that what the foreground's brief reads stays exact; otherwise any staged
 * row of that key is dropped and *direct is set: the caller writes the
 * row itself. Its cache row (cache_key NULL: none) is always staged;
 * run_id NULL: the gate run's own. */
int ledger__stage_file(struct ledger *l, const struct ledger_gate_run *g, int64_t grid,
    const char *path, const char *status, const char *cache_key, const char *cache_status,
    const char *run_id, int64_t at, bool *direct, struct wd_err *err);
/* A file_state row about to be written directly: the staged row of its
 * key, which the flush would write over it, loses its state. */
int ledger__stage_drop(struct ledger *l, const char *gate, const char *path,
    struct wd_err *err);
/* do_run_finish: true when the run's run_files must wait for the flush
 * (its rows are staged); the run is then remembered for it. */
bool ledger__stage_defers(struct ledger *l, const char *run_id);
/* Writes the stage out inside the open write transaction: all of it, or
 * its first max rows in key order (0: all). */
int ledger__stage_flush(struct ledger *l, size_t max, struct wd_err *err);
/* Drops the staged file_state rows of a removed file (its transaction). */
int ledger__stage_forget(struct ledger *l, const char *path, struct wd_err *err);
/* keyfilter.c. true: the cache holds no row of this key (the filter is
 * on, up to date, and never took it); false: it may. */
bool ledger__keyfilter_miss(const struct ledger *l, const char *gate, const char *path,
    const char *cache_key);
/* A cache row of this key is being written (staged or direct); NULL parts:
 * none is. */
void ledger__keyfilter_add(struct ledger *l, const char *gate, const char *path,
    const char *cache_key);
/* stmt.c's ledger__begin and ledger__commit: a transaction's effect on
 * the stage's counters starts empty, and counts once it commits. */
void ledger__stage_txn_begin(struct ledger *l);
void ledger__stage_txn_commit(struct ledger *l);
/* ledger_close. */
void ledger__stage_release(struct ledger *l);

/* write.c: frees every queued write (ledger_close). */
void ledger__drop_queue(struct ledger *l);

/* gc.c: sqlite3_wal_hook's callback (arg: the ledger), set on every WRITE
 * connection in place of SQLite's auto-checkpoint. */
int ledger__wal_hook(void *arg, sqlite3 *db, const char *name, int frames);
/* Process-wide SQLite settings; call before any connection opens. */
void ledger__config(void);

static inline int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* v is borrowed until the statement is reset; NULL binds NULL. */
static inline void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

/* -1 ("none") is stored as NULL. */
static inline void bind_opt_int(sqlite3_stmt *s, int i, int64_t v)
{
	if (v < 0)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_int64(s, i, v);
}

/* Borrowed until the statement steps or resets. */
static inline const char *col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

#endif
