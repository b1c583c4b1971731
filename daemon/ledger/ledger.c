/* The SQLite ledger: schema and migrations, the per-connection setup, the
 * writes of the scheduler and the queries behind log/show/status/export/gc.
 *
 * Design. One connection per struct ledger, used by one thread. Every
 * statement is prepared once (SQLITE_PREPARE_PERSISTENT) on first use and
 * reset right after, so no read transaction outlives a call: an open reader
 * would stop WAL checkpoints. Every write is a BEGIN IMMEDIATE transaction
 * (a deferred one that reads first can fail with SQLITE_BUSY_SNAPSHOT
 * without waiting, PITFALLS §6), and every failure path rolls back when
 * SQLite left a transaction open (SQLITE_FULL fails only the statement).
 * Queries that build one answer from several statements run inside one
 * read transaction so the answer is a consistent snapshot.
 *
 * The schema is versioned with user_version and recognised by
 * application_id; migrations[i] takes user_version i to i+1 inside one
 * BEGIN IMMEDIATE transaction. Statuses are stored as their names so the
 * file reads well in the sqlite3 shell; -1 "none" values are stored NULL. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "ledger-vfs.h"
#include "ledger.h"
#include "lib/log.h"
#include "lib/strvec.h"
#include "lib/xmalloc.h"

#define LEDGER_APP_ID		0x57544344	/* "WTCD" */
#define LEDGER_SCHEMA		4		/* user_version written by this build */
#define LOG_DEFAULT_LIMIT	20
#define SUMMARY_MAX_FILES	50
#define LEDGER_QUEUE_MAX	10000	/* failed writes kept for a retry */
#define LEDGER_BUSY_MS		5000	/* how long a write waits for another writer */
/* Checkpoints: SQLite's own runs inside the commit that crosses 1,000
 * frames, and the WAL reset after it syncs both files inside the next one,
 * so one run in fifty paid two fdatasyncs before its tool could start.
 * The daemon checkpoints when it goes idle instead (ledger_idle); a commit
 * checkpoints by itself only past WAL_HARD_FRAMES (continuous load, or a
 * one-shot run recording much). */
#define WAL_IDLE_FRAMES		1000
#define WAL_HARD_FRAMES		8000

/* migrations[i] upgrades a ledger at user_version i to i + 1. */
static const char *const migrations[] = {
	/* 0 -> 1: the initial schema */
	"CREATE TABLE runs ("
	"  id          TEXT PRIMARY KEY,"
	"  trigger     TEXT NOT NULL,"
	"  status      TEXT NOT NULL CHECK (status IN"
	"                ('running','pass','fail','error','interrupted')),"
	"  started_at  INTEGER NOT NULL,"
	"  finished_at INTEGER,"
	"  git_head    TEXT,"
	"  config_hash TEXT"
	") STRICT;"
	"CREATE INDEX runs_started ON runs(started_at DESC, id DESC);"
	"CREATE INDEX runs_running ON runs(status) WHERE status = 'running';"
	"CREATE TABLE gate_runs ("
	"  id            INTEGER PRIMARY KEY,"
	"  run_id        TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
	"  gate          TEXT NOT NULL,"
	"  fingerprint   TEXT,"
	"  status        TEXT NOT NULL,"
	"  cached        INTEGER NOT NULL DEFAULT 0,"
	"  cached_from   TEXT,"
	"  exit_code     INTEGER,"
	"  started_at    INTEGER NOT NULL,"
	"  duration_ms   INTEGER NOT NULL,"
	"  message       TEXT,"
	"  output        TEXT,"
	"  tests_total   INTEGER,"
	"  tests_passed  INTEGER,"
	"  tests_failed  INTEGER,"
	"  tests_skipped INTEGER"
	") STRICT;"
	"CREATE INDEX gate_runs_run ON gate_runs(run_id);"
	"CREATE INDEX gate_runs_gate ON gate_runs(gate, status);"
	"CREATE TABLE gate_files ("
	"  gate_run_id INTEGER NOT NULL REFERENCES gate_runs(id) ON DELETE CASCADE,"
	"  path        TEXT NOT NULL,"
	"  blob        TEXT,"
	"  reason      TEXT,"
	"  PRIMARY KEY (gate_run_id, path)"
	") STRICT, WITHOUT ROWID;"
	"CREATE TABLE findings ("
	"  id          INTEGER PRIMARY KEY,"
	"  gate_run_id INTEGER NOT NULL REFERENCES gate_runs(id) ON DELETE CASCADE,"
	"  path        TEXT,"
	"  line        INTEGER NOT NULL DEFAULT 0,"
	"  col         INTEGER NOT NULL DEFAULT 0,"
	"  end_line    INTEGER NOT NULL DEFAULT 0,"
	"  end_col     INTEGER NOT NULL DEFAULT 0,"
	"  code        TEXT,"
	"  severity    TEXT NOT NULL,"
	"  message     TEXT NOT NULL,"
	"  url         TEXT,"
	"  fixable     INTEGER NOT NULL DEFAULT 0"
	") STRICT;"
	"CREATE INDEX findings_gate_run ON findings(gate_run_id, path);"
	/* The latest judgement per gate and file: what `status` summarises. */
	"CREATE TABLE file_state ("
	"  gate        TEXT NOT NULL,"
	"  path        TEXT NOT NULL,"
	"  status      TEXT NOT NULL,"
	"  findings    INTEGER NOT NULL DEFAULT 0,"
	"  gate_run_id INTEGER NOT NULL REFERENCES gate_runs(id),"
	"  updated_at  INTEGER NOT NULL,"
	"  PRIMARY KEY (gate, path)"
	") STRICT, WITHOUT ROWID;"
	"CREATE INDEX file_state_path ON file_state(path);"
	"CREATE INDEX file_state_gate_run ON file_state(gate_run_id);"
	/* Content-addressed results: a hit reuses the findings of that path in
	 * the recorded gate run. */
	"CREATE TABLE cache ("
	"  gate        TEXT NOT NULL,"
	"  fingerprint TEXT NOT NULL,"
	"  path        TEXT NOT NULL,"
	"  cache_key   TEXT NOT NULL,"
	"  status      TEXT NOT NULL,"
	"  gate_run_id INTEGER NOT NULL REFERENCES gate_runs(id),"
	"  run_id      TEXT NOT NULL,"
	"  created_at  INTEGER NOT NULL,"
	"  PRIMARY KEY (gate, fingerprint, path, cache_key)"
	") STRICT, WITHOUT ROWID;"
	"CREATE INDEX cache_gate_run ON cache(gate_run_id);"
	"CREATE INDEX cache_created ON cache(created_at);",
	/* 1 -> 2: the key a file was judged under (a test gate's differs from
	 * the blob: it covers the file's whole input set), and a test gate's
	 * digest of that input set. ADD COLUMN only rewrites the schema row:
	 * existing rows read the new columns as NULL. */
	"ALTER TABLE gate_files ADD COLUMN cache_key TEXT;"
	"ALTER TABLE gate_runs ADD COLUMN input_digest TEXT;",
	/* 2 -> 3: fewer b-trees per finished gate run (twelve were written per
	 * transaction, and the WAL frames of those pages were the cost of
	 * recording), and indexes for the log filters. file_state_path,
	 * file_state_gate_run, cache_gate_run and cache_created served the
	 * foreign keys of file_state and cache (a parent delete looks its
	 * children up) and gc, which now lists what it must keep once per
	 * call. file_state and cache lose their REFERENCES: gc is the only code
	 * that deletes gate runs; it keeps every one file_state names and then
	 * drops the cache rows whose gate run is gone. `log --gate` walks
	 * gate_runs_gate newest first and `log --status` runs_status; the old
	 * (gate, status) index served no query. A rename rebuilds nothing
	 * else: no view, trigger or foreign key names the two tables. */
	"DROP INDEX gate_runs_gate;"
	"CREATE INDEX gate_runs_gate ON gate_runs(gate, run_id);"
	"DROP INDEX runs_running;"
	"CREATE INDEX runs_status ON runs(status, started_at DESC, id DESC);"
	"CREATE TABLE file_state_v3 ("
	"  gate        TEXT NOT NULL,"
	"  path        TEXT NOT NULL,"
	"  status      TEXT NOT NULL,"
	"  findings    INTEGER NOT NULL DEFAULT 0,"
	"  gate_run_id INTEGER NOT NULL,"
	"  updated_at  INTEGER NOT NULL,"
	"  PRIMARY KEY (gate, path)"
	") STRICT, WITHOUT ROWID;"
	"INSERT INTO file_state_v3 SELECT gate, path, status, findings, gate_run_id, updated_at"
	"  FROM file_state;"
	"DROP TABLE file_state;"
	"ALTER TABLE file_state_v3 RENAME TO file_state;"
	"CREATE TABLE cache_v3 ("
	"  gate        TEXT NOT NULL,"
	"  fingerprint TEXT NOT NULL,"
	"  path        TEXT NOT NULL,"
	"  cache_key   TEXT NOT NULL,"
	"  status      TEXT NOT NULL,"
	"  gate_run_id INTEGER NOT NULL,"
	"  run_id      TEXT NOT NULL,"
	"  created_at  INTEGER NOT NULL,"
	"  PRIMARY KEY (gate, fingerprint, path, cache_key)"
	") STRICT, WITHOUT ROWID;"
	"INSERT INTO cache_v3 SELECT gate, fingerprint, path, cache_key, status, gate_run_id,"
	"  run_id, created_at FROM cache;"
	"DROP TABLE cache;"
	"ALTER TABLE cache_v3 RENAME TO cache;",
	/* 3 -> 4: findings keyed by (gate run, path, seq) in one b-tree
	 * instead of a table and an index with the same first columns: a
	 * finished gate run's findings went into two b-trees, which was one
	 * WAL frame and ten index inserts per gate run. A key column cannot be
	 * NULL in a WITHOUT ROWID table, so a finding that names no file has
	 * the path '' (read back as null). The old id keeps the tool's order. */
	"CREATE TABLE findings_v4 ("
	"  gate_run_id INTEGER NOT NULL REFERENCES gate_runs(id) ON DELETE CASCADE,"
	"  path        TEXT NOT NULL,"
	"  seq         INTEGER NOT NULL,"
	"  line        INTEGER NOT NULL DEFAULT 0,"
	"  col         INTEGER NOT NULL DEFAULT 0,"
	"  end_line    INTEGER NOT NULL DEFAULT 0,"
	"  end_col     INTEGER NOT NULL DEFAULT 0,"
	"  code        TEXT,"
	"  severity    TEXT NOT NULL,"
	"  message     TEXT NOT NULL,"
	"  url         TEXT,"
	"  fixable     INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (gate_run_id, path, seq)"
	") STRICT, WITHOUT ROWID;"
	"INSERT INTO findings_v4 SELECT gate_run_id, coalesce(path, ''), id, line, col, end_line,"
	"  end_col, code, severity, message, url, fixable FROM findings;"
	"DROP TABLE findings;"
	"ALTER TABLE findings_v4 RENAME TO findings;",
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(*migrations)))
_Static_assert(sizeof(migrations) / sizeof(*migrations) == LEDGER_SCHEMA,
    "one migration per schema version");

/* The columns of a run, in the order run_json() reads them. */
#define RUN_COLS "id, trigger, status, started_at, finished_at, git_head, config_hash"
#define RUN_COLS_R "r.id, r.trigger, r.status, r.started_at, r.finished_at, r.git_head," \
	" r.config_hash"

/* The findings of a gate run (?2: of one path), in the tool's order per
 * file; a READ connection to a ledger before schema 4 orders by the old
 * rowid (and reads a NULL path as it is). */
#define FINDINGS_SQL(where, seq) \
	"SELECT nullif(path, ''), line, col, end_line, end_col, code, severity, message, url," \
	" fixable FROM findings WHERE gate_run_id = ?1" where " ORDER BY path, " seq

/* The gates of a run; a READ connection to a schema-1 ledger (an older
 * daemon still runs) reads NULL for the columns schema 2 added. */
#define GATES_SQL(input_digest) \
	"SELECT id, gate, fingerprint, status, cached, cached_from, exit_code, started_at," \
	" duration_ms, message, output, tests_total, tests_passed, tests_failed," \
	" tests_skipped, " input_digest " FROM gate_runs WHERE run_id = ?1 ORDER BY id"

enum stmt_id {
	ST_BEGIN_W, ST_BEGIN_R, ST_COMMIT, ST_ROLLBACK,
	ST_RUN_BEGIN, ST_RUN_FINISH, ST_MARK_INTERRUPTED,
	ST_GATE_INSERT, ST_FILE_INSERT, ST_FINDING_INSERT, ST_STATE_UPSERT, ST_STATE_PASS_ALL,
	ST_CACHE_INSERT, ST_FILE_REMOVED,
	ST_CACHE_LOOKUP, ST_CACHE_FINDINGS,
	ST_LOG, ST_LOG_STATUS, ST_LOG_GATE, ST_SHOW, ST_GATES, ST_FILES, ST_FINDINGS, ST_LAST_RUN,
	ST_SUMMARY, ST_SUMMARY_FILES, ST_SUMMARY_PROBLEM, ST_EXPORT,
	ST_GC_KEEP, ST_GC_RUNS, ST_GC_CACHE, ST_GC_KEEP_CLEAR,
	ST__COUNT
};

/* Every statement the ledger runs; `name` is what ledger_explain takes. */
static const struct {
	const char	*name;
	const char	*sql;
} stmts[ST__COUNT] = {
	[ST_BEGIN_W] = { NULL, "BEGIN IMMEDIATE" },
	[ST_BEGIN_R] = { NULL, "BEGIN" },
	[ST_COMMIT] = { NULL, "COMMIT" },
	[ST_ROLLBACK] = { NULL, "ROLLBACK" },
	[ST_RUN_BEGIN] = { NULL,
	    "INSERT INTO runs (id, trigger, status, started_at, git_head, config_hash)"
	    " VALUES (?1, ?2, 'running', ?3, ?4, ?5)" },
	[ST_RUN_FINISH] = { NULL,
	    "UPDATE runs SET status = ?2, finished_at = ?3 WHERE id = ?1" },
	/* An interrupted run ends at its last known activity. */
	[ST_MARK_INTERRUPTED] = { NULL,
	    "UPDATE runs SET status = 'interrupted', finished_at = coalesce("
	    " (SELECT max(g.started_at + g.duration_ms) FROM gate_runs g"
	    "  WHERE g.run_id = runs.id), started_at)"
	    " WHERE status = 'running'" },
	[ST_GATE_INSERT] = { NULL,
	    "INSERT INTO gate_runs (run_id, gate, fingerprint, status, cached, cached_from,"
	    " exit_code, started_at, duration_ms, message, output, tests_total,"
	    " tests_passed, tests_failed, tests_skipped, input_digest)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)" },
	[ST_FILE_INSERT] = { NULL,
	    "INSERT OR IGNORE INTO gate_files (gate_run_id, path, blob, reason, cache_key)"
	    " VALUES (?1, ?2, ?3, ?4, ?5)" },
	[ST_FINDING_INSERT] = { NULL,
	    "INSERT INTO findings (gate_run_id, path, seq, line, col, end_line, end_col, code,"
	    " severity, message, url, fixable)"
	    " VALUES (?1, ?2, ?12, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)" },
	[ST_STATE_UPSERT] = { NULL,
	    "INSERT INTO file_state (gate, path, status, findings, gate_run_id, updated_at)"
	    " VALUES (?1, ?2, ?3, (SELECT count(*) FROM findings"
	    "  WHERE gate_run_id = ?4 AND path = ?2), ?4, ?5)"
	    " ON CONFLICT (gate, path) DO UPDATE SET status = excluded.status,"
	    " findings = excluded.findings, gate_run_id = excluded.gate_run_id,"
	    " updated_at = excluded.updated_at" },
	/* A task runner judges the whole tree: its pass clears whatever an
	 * earlier failure of that gate marked. */
	[ST_STATE_PASS_ALL] = { NULL,
	    "UPDATE file_state SET status = 'pass', findings = 0, gate_run_id = ?2,"
	    " updated_at = ?3 WHERE gate = ?1 AND status <> 'pass'" },
	[ST_CACHE_INSERT] = { NULL,
	    "INSERT OR REPLACE INTO cache (gate, fingerprint, path, cache_key, status,"
	    " gate_run_id, run_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)" },
	/* file_state is keyed (gate, path) with no index on path: the few
	 * gates are enumerated through the key (a loose index scan), and each
	 * (gate, path) is one key lookup. */
	[ST_FILE_REMOVED] = { "removed",
	    "WITH RECURSIVE g(name) AS (SELECT (SELECT min(gate) FROM file_state)"
	    " UNION ALL SELECT (SELECT min(gate) FROM file_state WHERE gate > g.name)"
	    "  FROM g WHERE g.name IS NOT NULL)"
	    " DELETE FROM file_state WHERE path = ?1"
	    " AND gate IN (SELECT name FROM g WHERE name IS NOT NULL)" },
	[ST_CACHE_LOOKUP] = { "cache",
	    "SELECT status, gate_run_id, run_id FROM cache"
	    " WHERE gate = ?1 AND fingerprint = ?2 AND path = ?3 AND cache_key = ?4" },
	[ST_CACHE_FINDINGS] = { NULL, FINDINGS_SQL(" AND path = ?2", "seq") },
	/* One statement per filter, so that each walks its own index in
	 * order and stops at the limit (a "?2 IS NULL OR ..." condition
	 * would leave one plan for all). */
	[ST_LOG] = { "log",
	    "SELECT " RUN_COLS " FROM runs WHERE started_at >= ?1"
	    " ORDER BY started_at DESC, id DESC LIMIT ?4" },
	[ST_LOG_STATUS] = { "log_status",
	    "SELECT " RUN_COLS " FROM runs WHERE status = ?2 AND started_at >= ?1"
	    " ORDER BY started_at DESC, id DESC LIMIT ?4" },
	/* Newest first by run id (a ULID: its time is the run's start), from
	 * the gate's own index entries; ?5 is the smallest id at the --since
	 * time, so older gate runs are never visited. */
	[ST_LOG_GATE] = { "log_gate",
	    "SELECT " RUN_COLS_R " FROM gate_runs g CROSS JOIN runs r ON r.id = g.run_id"
	    " WHERE g.gate = ?3 AND g.run_id >= ?5 AND r.started_at >= ?1"
	    " AND (?2 IS NULL OR r.status = ?2)"
	    " GROUP BY g.run_id ORDER BY g.run_id DESC LIMIT ?4" },
	[ST_SHOW] = { "show",
	    "SELECT " RUN_COLS " FROM runs WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT 2" },
	[ST_GATES] = { "gates", GATES_SQL("input_digest") },
	[ST_FILES] = { "files",
	    "SELECT path, reason FROM gate_files WHERE gate_run_id = ?1 ORDER BY path" },
	[ST_FINDINGS] = { "findings", FINDINGS_SQL("", "seq") },
	[ST_LAST_RUN] = { "last_run",
	    "SELECT id, status, finished_at FROM runs WHERE finished_at IS NOT NULL"
	    " ORDER BY started_at DESC, id DESC LIMIT 1" },
	[ST_SUMMARY] = { "summary",
	    "SELECT gate, count(*), sum(status = 'fail'),"
	    " sum(status IN ('error', 'timeout', 'missing')),"
	    " sum(CASE WHEN status = 'fail' THEN findings ELSE 0 END)"
	    " FROM file_state GROUP BY gate ORDER BY gate" },
	[ST_SUMMARY_FILES] = { NULL,
	    "SELECT path FROM file_state WHERE gate = ?1 AND status <> 'pass'"
	    " ORDER BY path LIMIT ?2" },
	/* The newest judgement that is not a verdict on the files (the tool
	 * is missing, hung or broke), with the gate run's message: what the
	 * user must fix before the gate can say anything. */
	[ST_SUMMARY_PROBLEM] = { NULL,
	    "SELECT f.status, g.message FROM file_state f"
	    " LEFT JOIN gate_runs g ON g.id = f.gate_run_id"
	    " WHERE f.gate = ?1 AND f.status IN ('error', 'timeout', 'missing')"
	    " ORDER BY f.updated_at DESC LIMIT 1" },
	[ST_EXPORT] = { "export",
	    "SELECT " RUN_COLS " FROM runs WHERE started_at >= ?1 ORDER BY started_at, id" },
	/* gc keeps every run with a gate run that holds a file's current
	 * judgement (file_state names it). The run ids are listed once per
	 * call into a temporary table (created by prepare_write), so the test
	 * per run is one key lookup; an IN on gate run ids inside the
	 * correlated subquery had the planner probe every listed id per run. */
	[ST_GC_KEEP] = { NULL,
	    "INSERT OR IGNORE INTO temp.gc_keep SELECT g.run_id FROM file_state f"
	    " JOIN gate_runs g ON g.id = f.gate_run_id" },
	[ST_GC_RUNS] = { "gc",
	    "DELETE FROM runs WHERE status <> 'running'"
	    " AND ((?1 IS NOT NULL AND started_at < ?1)"
	    "  OR (?2 IS NOT NULL AND id NOT IN (SELECT id FROM runs"
	    "   ORDER BY started_at DESC, id DESC LIMIT ?2)))"
	    " AND id NOT IN temp.gc_keep" },
	/* A cache row whose gate run is gone has no findings left to serve. */
	[ST_GC_CACHE] = { "gc_cache",
	    "DELETE FROM cache WHERE NOT EXISTS (SELECT 1 FROM gate_runs g"
	    " WHERE g.id = cache.gate_run_id)" },
	[ST_GC_KEEP_CLEAR] = { NULL, "DELETE FROM temp.gc_keep" },
};

enum qkind { Q_RUN_BEGIN, Q_RUN_FINISH, Q_GATE, Q_FILE_REMOVED };

/* One write, either borrowed from the caller (a first attempt) or a deep
 * copy owned by the retry queue. */
struct qop {
	enum qkind			 kind;
	const struct ledger_run		*run;		/* Q_RUN_BEGIN */
	const char			*run_id;	/* Q_RUN_FINISH */
	const char			*status;	/* Q_RUN_FINISH */
	int64_t				 ms;		/* Q_RUN_FINISH */
	const struct ledger_gate_run	*gate;		/* Q_GATE */
	const char			*path;		/* Q_FILE_REMOVED */
};

struct qentry {
	struct qop		 op;		/* points into the copies below */
	struct ledger_run	 run;
	struct ledger_gate_run	 gate;
	struct ledger_file	*files;
	struct findings		 findings;
	struct strvec		 strs;		/* every string the copies point to */
	struct qentry		*next;
};

struct ledger {
	sqlite3			*db;
	char			*path;
	enum ledger_mode	 mode;
	int			 schema;	/* user_version when opened */
	sqlite3_stmt		*st[ST__COUNT];
	int			 last_src;	/* SQLite code of the last db_fail */
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
};

static void qpop(struct ledger *l);

static const char *const run_statuses[] = {
	"running", "pass", "fail", "error", "interrupted", NULL,
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

/* Turns a failed SQLite call into WD_ELEDGER / WD_ELEDGER_FULL with a
 * message naming the file, and rolls back any transaction SQLite left open
 * (after SQLITE_FULL it keeps it: only the statement failed). */
static int db_fail(struct ledger *l, int rc, const char *what, struct wd_err *err)
{
	int code = (rc & 0xff) == SQLITE_FULL ? WD_ELEDGER_FULL : WD_ELEDGER;
	char msg[256];

	snprintf(msg, sizeof(msg), "%s", sqlite3_errmsg(l->db));
	l->last_src = rc;
	if (!sqlite3_get_autocommit(l->db))
		sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
	if (code == WD_ELEDGER_FULL)
		return wd_err_set(err, code, "ledger '%s': %s: disk is full (%s)", l->path,
		    what, msg);
	return wd_err_set(err, code, "ledger '%s': %s: %s", l->path, what, msg);
}

/* The statement, prepared on first use; NULL with err set on failure. */
static sqlite3_stmt *stmt(struct ledger *l, enum stmt_id id, struct wd_err *err)
{
	const char *sql = stmts[id].sql;
	int rc;

	if (l->st[id])
		return l->st[id];
	if (id == ST_GATES && l->schema < 2)
		sql = GATES_SQL("NULL");
	if (id == ST_FINDINGS && l->schema < 4)
		sql = FINDINGS_SQL("", "id");
	if (id == ST_CACHE_FINDINGS && l->schema < 4)
		sql = FINDINGS_SQL(" AND path = ?2", "id");
	rc = sqlite3_prepare_v3(l->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &l->st[id], NULL);
	if (rc != SQLITE_OK) {
		db_fail(l, rc, "cannot prepare a query", err);
		l->st[id] = NULL;
	}
	return l->st[id];
}

/* Runs a statement that returns no rows (already bound), then resets it. */
static int step_done(struct ledger *l, sqlite3_stmt *s, const char *what, struct wd_err *err)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		rc = SQLITE_DONE;	/* RETURNING-less writes never give rows */
	if (rc != SQLITE_DONE) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		return db_fail(l, rc, what, err);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return 0;
}

static int exec_stmt(struct ledger *l, enum stmt_id id, const char *what, struct wd_err *err)
{
	sqlite3_stmt *s = stmt(l, id, err);

	return s ? step_done(l, s, what, err) : (err ? err->code : WD_ELEDGER);
}

static int tx_begin(struct ledger *l, bool write, struct wd_err *err)
{
	return exec_stmt(l, write ? ST_BEGIN_W : ST_BEGIN_R,
	    write ? "cannot start a write transaction" : "cannot start a read transaction",
	    err);
}

static int tx_commit(struct ledger *l, struct wd_err *err)
{
	return exec_stmt(l, ST_COMMIT, "cannot commit", err);
}

/* Ends a transaction after a failure that was not SQLite's (a bad
 * argument): keeps the error already in err. */
static void tx_abort(struct ledger *l)
{
	if (!sqlite3_get_autocommit(l->db))
		sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

/* -1 ("none") is stored as NULL. */
static void bind_opt_int(sqlite3_stmt *s, int i, int64_t v)
{
	if (v < 0)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_int64(s, i, v);
}

static const char *col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* ---- opening ------------------------------------------------------------ */

static int pragma_int(struct ledger *l, const char *sql, int *v, struct wd_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	rc = sqlite3_prepare_v2(l->db, sql, -1, &s, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		*v = sqlite3_column_int(s, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_OK)
		return db_fail(l, rc, "cannot read the header", err);
	return 0;
}

static int exec_sql(struct ledger *l, const char *sql, const char *what, struct wd_err *err)
{
	int rc = sqlite3_exec(l->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : db_fail(l, rc, what, err);
}

/* Per-connection settings: only journal_mode persists in the file. */
/* Runs after each commit, with the write lock released. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct ledger *l = arg;

	l->wal_frames = frames;
	if (frames >= WAL_HARD_FRAMES &&
	    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL) == SQLITE_OK)
		l->wal_frames = 0;
	return SQLITE_OK;
}

void ledger_idle(struct ledger *l)
{
	int nlog = -1, nckpt = -1;
	char sql[64];

	if (l == NULL || l->mode != LEDGER_WRITE || l->wal_frames < WAL_IDLE_FRAMES)
		return;
	/* Nothing here may wait for a reader (the loop must not block): no
	 * busy timeout, and frames a reader still needs are copied at a later
	 * idle moment. */
	sqlite3_busy_timeout(l->db, 0);
	if (sqlite3_wal_checkpoint_v2(l->db, NULL, SQLITE_CHECKPOINT_RESTART, &nlog,
	    &nckpt) == SQLITE_OK && nlog >= 0 && nckpt >= nlog) {
		/* The first frame written into a restarted WAL syncs its new
		 * header: write one now (the header's own page, unchanged) so
		 * that the next run's first commit does not pay for it. */
		snprintf(sql, sizeof(sql), "BEGIN IMMEDIATE; PRAGMA user_version=%d; COMMIT",
		    l->schema);
		if (sqlite3_exec(l->db, sql, NULL, NULL, NULL) != SQLITE_OK)
			tx_abort(l);
		l->wal_frames = 0;
	} else if (sqlite3_wal_checkpoint_v2(l->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL,
	    NULL) == SQLITE_OK)
		l->wal_frames = WAL_IDLE_FRAMES - 1;	/* try the restart next time */
	sqlite3_busy_timeout(l->db, LEDGER_BUSY_MS);
}

static int setup_connection(struct ledger *l, struct wd_err *err)
{
	int rc;

	sqlite3_extended_result_codes(l->db, 1);
	if ((rc = sqlite3_busy_timeout(l->db, LEDGER_BUSY_MS)) != SQLITE_OK)
		return db_fail(l, rc, "cannot set the busy timeout", err);
	if ((rc = exec_sql(l, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
	    " PRAGMA journal_size_limit=67108864; PRAGMA temp_store=MEMORY;"
	    /* the working set is a few pages per run: 1 MiB of page cache, not
	     * the default 2 MiB, keeps a long-lived daemon small */
	    " PRAGMA cache_size=-1024;"
	    " PRAGMA secure_delete=OFF;", "cannot set pragmas", err)))
		return rc;
	if (l->mode == LEDGER_READ)
		return exec_sql(l, "PRAGMA query_only=1", "cannot set pragmas", err);
	sqlite3_wal_hook(l->db, wal_hook, l);	/* replaces the auto-checkpoint */
	return 0;
}

struct header {
	int	app;		/* application_id */
	int	ver;		/* user_version */
	int	nobjects;	/* rows of sqlite_schema: 0 in a fresh file */
};

static int read_header(struct ledger *l, struct header *h, struct wd_err *err)
{
	int rc;

	if ((rc = pragma_int(l, "PRAGMA application_id", &h->app, err)) ||
	    (rc = pragma_int(l, "PRAGMA user_version", &h->ver, err)) ||
	    (rc = pragma_int(l, "SELECT count(*) FROM sqlite_schema", &h->nobjects, err)))
		return rc;
	return 0;
}

static bool header_fresh(const struct header *h)
{
	return h->app == 0 && h->ver == 0 && h->nobjects == 0;
}

/* A file watchd may use: ours (or fresh) and not from a newer schema. */
static int header_check(struct ledger *l, const struct header *h, struct wd_err *err)
{
	if (header_fresh(h))
		return 0;
	if (h->app != LEDGER_APP_ID)
		return wd_err_set(err, WD_ELEDGER, "'%s' is not a watchd ledger "
		    "(application_id %d)", l->path, h->app);
	if (h->ver > LEDGER_SCHEMA)
		return wd_err_set(err, WD_ELEDGER_NEWER, "ledger '%s' has schema version %d, "
		    "newer than this watchd's %d: upgrade watchd", l->path, h->ver,
		    LEDGER_SCHEMA);
	return 0;
}

/* Brings the schema to LEDGER_SCHEMA, in one IMMEDIATE transaction that
 * re-reads the header: another process may have migrated meanwhile. */
static int migrate(struct ledger *l, bool *fresh, struct wd_err *err)
{
	struct header h;
	int rc;

	if ((rc = exec_sql(l, "BEGIN IMMEDIATE", "cannot start a write transaction", err)))
		return rc;
	if ((rc = read_header(l, &h, err)) || (rc = header_check(l, &h, err)))
		goto fail;
	*fresh = header_fresh(&h);
	if (*fresh) {
		char sql[64];

		snprintf(sql, sizeof(sql), "PRAGMA application_id=%d", LEDGER_APP_ID);
		if ((rc = exec_sql(l, sql, "cannot write the header", err)))
			goto fail;
	}
	for (; h.ver < NMIGRATIONS; h.ver++) {
		char sql[64];

		if ((rc = exec_sql(l, migrations[h.ver], "cannot migrate the schema", err)))
			goto fail;
		snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", h.ver + 1);
		if ((rc = exec_sql(l, sql, "cannot migrate the schema", err)))
			goto fail;
	}
	return exec_sql(l, "COMMIT", "cannot commit the schema", err);
fail:
	tx_abort(l);
	return rc;
}

/* WRITE mode: refuse a foreign or newer file before changing anything in
 * it (journal_mode=WAL would rewrite its header), then set WAL and
 * migrate. */
static int prepare_write(struct ledger *l, struct wd_err *err)
{
	struct header h;
	bool fresh = false;
	int rc;

	if ((rc = read_header(l, &h, err)) || (rc = header_check(l, &h, err)))
		return rc;
	if ((rc = exec_sql(l, "PRAGMA journal_mode=WAL", "cannot enable WAL", err)))
		return rc;
	if ((rc = migrate(l, &fresh, err)))
		return rc;
	/* A new file went through every migration, and the later ones rebuilt
	 * tables the first created: give those pages back, so a new ledger
	 * holds no free pages (cheap while it is empty). */
	if (fresh && (rc = exec_sql(l, "VACUUM", "cannot compact the new ledger", err)))
		return rc;
	if ((rc = exec_sql(l, "CREATE TEMP TABLE gc_keep (run_id TEXT PRIMARY KEY) WITHOUT ROWID",
	    "cannot prepare retention", err)))
		return rc;
	l->schema = LEDGER_SCHEMA;
	return 0;
}

/* READ mode cannot migrate: the header must already be ours and current. */
static int prepare_read(struct ledger *l, struct wd_err *err)
{
	struct header h;
	int rc;

	if ((rc = read_header(l, &h, err)))
		return rc;
	if (header_fresh(&h))
		return wd_err_set(err, -ENOENT, "ledger '%s' is empty", l->path);
	if ((rc = header_check(l, &h, err)))
		return rc;
	/* An older schema is read as it is (the columns it lacks read as
	 * NULL): a daemon of the previous release may still be writing it.
	 * The next WRITE open (`watchd run`, the daemon) upgrades it. */
	if (h.ver < 1)
		return wd_err_set(err, WD_ELEDGER, "ledger '%s' has schema version %d, older "
		    "than %d: run `watchd run` once to upgrade it", l->path, h.ver,
		    LEDGER_SCHEMA);
	l->schema = h.ver;
	return 0;
}

/* Test hook (never set in production): WATCHD_TEST_MAX_PAGES=N caps the
 * WRITE connection at N pages (PRAGMA max_page_count; SQLite keeps at
 * least the current size), which makes every write that needs a new page
 * fail with SQLITE_FULL. ledger_retry re-reads the cap from the file
 * test-max-pages next to the ledger and lifts it when that file is gone. */
static void apply_test_hook(struct ledger *l, bool reread)
{
	char sql[64], *p = NULL, buf[32] = "";
	long pages = 1073741823;	/* SQLITE_MAX_PAGE_COUNT of 3.40 */
	const char *env;
	FILE *fp;

	if (!reread) {
		env = getenv("WATCHD_TEST_MAX_PAGES");
		if (l->mode != LEDGER_WRITE || env == NULL || *env == '\0')
			return;
		l->test_hook = true;
		pages = strtol(env, NULL, 10);
	} else {
		if (!l->test_hook)
			return;
		const char *slash = strrchr(l->path, '/');

		p = xasprintf("%.*stest-max-pages", slash ? (int)(slash - l->path + 1) : 0,
		    l->path);
		if ((fp = fopen(p, "r")) != NULL) {
			if (fgets(buf, sizeof(buf), fp) && strtol(buf, NULL, 10) > 0)
				pages = strtol(buf, NULL, 10);
			fclose(fp);
		}
	}
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count=%ld", pages > 0 ? pages : 1);
	sqlite3_exec(l->db, sql, NULL, NULL, NULL);
	free(p);
}

int ledger_open(const char *path, enum ledger_mode mode, struct ledger **out,
    struct wd_err *err)
{
	struct ledger *l;
	struct stat st;
	int flags, rc;

	*out = NULL;
	if (mode == LEDGER_READ && stat(path, &st) < 0)
		return wd_err_set(err, -errno, "cannot open ledger '%s': %s", path,
		    strerror(errno));
	l = xcalloc(1, sizeof(*l));
	l->path = xstrdup(path);
	l->mode = mode;
	l->qtail = &l->qhead;
	flags = SQLITE_OPEN_NOMUTEX | (mode == LEDGER_READ ? SQLITE_OPEN_READONLY :
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	/* only a writer writes WAL frames */
	rc = sqlite3_open_v2(path, &l->db, flags, mode == LEDGER_WRITE ? ledger_vfs() : NULL);
	if (rc != SQLITE_OK) {
		if (l->db == NULL) {
			rc = wd_err_set(err, WD_ELEDGER, "cannot open ledger '%s': out of memory",
			    path);
		} else {
			rc = wd_err_set(err, (rc & 0xff) == SQLITE_FULL ? WD_ELEDGER_FULL :
			    WD_ELEDGER, "cannot open ledger '%s': %s", path,
			    sqlite3_errmsg(l->db));
		}
		goto fail;
	}
	if ((rc = setup_connection(l, err)))
		goto fail;
	if ((rc = mode == LEDGER_WRITE ? prepare_write(l, err) : prepare_read(l, err)))
		goto fail;
	apply_test_hook(l, false);
	*out = l;
	return 0;
fail:
	ledger_close(l);
	return rc;
}

void ledger_close(struct ledger *l)
{
	if (l == NULL)
		return;
	if (l->qlen)
		log_warnx("ledger '%s': closing with %zu write(s) never recorded", l->path,
		    l->qlen);
	while (l->qhead)
		qpop(l);
	for (int i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(l->st[i]);
	sqlite3_close(l->db);
	free(l->path);
	free(l);
}

/* ---- writes -------------------------------------------------------------- */

static int do_run_begin(struct ledger *l, const struct ledger_run *r, struct wd_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (r->trigger == NULL || !ulid_valid(r->id))
		return wd_err_set(err, WD_ELEDGER, "ledger '%s': bad run id or trigger", l->path);
	if ((rc = tx_begin(l, true, err)))
		return rc;
	if ((s = stmt(l, ST_RUN_BEGIN, err)) == NULL)
		return err ? err->code : WD_ELEDGER;
	bind_text(s, 1, r->id);
	bind_text(s, 2, r->trigger);
	sqlite3_bind_int64(s, 3, r->started_ms);
	bind_text(s, 4, r->git_head);
	bind_text(s, 5, r->config_hash);
	if ((rc = step_done(l, s, "cannot record the run", err)))
		return rc;
	return tx_commit(l, err);
}

static int do_run_finish(struct ledger *l, const char *run_id, const char *status,
    int64_t finished_ms, struct wd_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (status == NULL || strcmp(status, "running") == 0 || !in_list(run_statuses, status))
		return wd_err_set(err, WD_ELEDGER, "ledger '%s': bad run status '%s'", l->path,
		    status ? status : "(null)");
	if ((rc = tx_begin(l, true, err)))
		return rc;
	if ((s = stmt(l, ST_RUN_FINISH, err)) == NULL)
		return err ? err->code : WD_ELEDGER;
	bind_text(s, 1, run_id);
	bind_text(s, 2, status);
	sqlite3_bind_int64(s, 3, finished_ms);
	if ((rc = step_done(l, s, "cannot finish the run", err)))
		return rc;
	if (sqlite3_changes(l->db) == 0) {
		tx_abort(l);
		return wd_err_set(err, WD_ENOTFOUND, "ledger '%s': no run '%s'", l->path, run_id);
	}
	return tx_commit(l, err);
}

int ledger_mark_interrupted(struct ledger *l, int *count, struct wd_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (count)
		*count = 0;
	if ((rc = tx_begin(l, true, err)))
		return rc;
	if ((s = stmt(l, ST_MARK_INTERRUPTED, err)) == NULL)
		return err ? err->code : WD_ELEDGER;
	if ((rc = step_done(l, s, "cannot mark interrupted runs", err)))
		return rc;
	if (count)
		*count = sqlite3_changes(l->db);
	return tx_commit(l, err);
}

static int do_gate_record(struct ledger *l, const struct ledger_gate_run *g,
    struct wd_err *err)
{
	const char *what = "cannot record the gate run";
	sqlite3_stmt *s;
	int64_t grid, at;
	int rc;

	/* file_state and cache rows date from when the gate finished, which
	 * is what retention compares with the runs' own times */
	at = g->started_ms > 0 ? g->started_ms + (g->duration_ms > 0 ? g->duration_ms : 0) :
	    now_ms();
	if (g->run_id == NULL || g->gate == NULL)
		return wd_err_set(err, WD_ELEDGER, "ledger '%s': gate run without run id or gate",
		    l->path);
	if ((rc = tx_begin(l, true, err)))
		return rc;

	if ((s = stmt(l, ST_GATE_INSERT, err)) == NULL)
		goto fail_prepare;
	bind_text(s, 1, g->run_id);
	bind_text(s, 2, g->gate);
	bind_text(s, 3, g->fingerprint);
	bind_text(s, 4, gate_status_name(g->status));
	sqlite3_bind_int(s, 5, g->cached);
	bind_text(s, 6, g->cached_from);
	bind_opt_int(s, 7, g->exit_code);
	sqlite3_bind_int64(s, 8, g->started_ms);
	sqlite3_bind_int64(s, 9, g->duration_ms < 0 ? 0 : g->duration_ms);
	bind_text(s, 10, g->message);
	bind_text(s, 11, g->output);
	bind_opt_int(s, 12, g->tests_total);
	bind_opt_int(s, 13, g->tests_passed);
	bind_opt_int(s, 14, g->tests_failed);
	bind_opt_int(s, 15, g->tests_skipped);
	bind_text(s, 16, g->input_digest);
	if ((rc = step_done(l, s, what, err)))
		return rc;
	grid = sqlite3_last_insert_rowid(l->db);

	if ((s = stmt(l, ST_FILE_INSERT, err)) == NULL)
		goto fail_prepare;
	for (size_t i = 0; i < g->nfiles; i++) {
		const struct ledger_file *f = &g->files[i];

		sqlite3_bind_int64(s, 1, grid);
		bind_text(s, 2, f->path);
		bind_text(s, 3, f->blob);
		bind_text(s, 4, f->reason);
		bind_text(s, 5, f->cache_key);
		if ((rc = step_done(l, s, what, err)))
			return rc;
	}

	if (g->findings && g->findings->n &&
	    (s = stmt(l, ST_FINDING_INSERT, err)) == NULL)
		goto fail_prepare;
	for (size_t i = 0; g->findings && i < g->findings->n; i++) {
		const struct finding *f = &g->findings->v[i];

		sqlite3_bind_int64(s, 1, grid);
		bind_text(s, 2, f->path ? f->path : "");
		sqlite3_bind_int(s, 3, f->line);
		sqlite3_bind_int(s, 4, f->col);
		sqlite3_bind_int(s, 5, f->end_line);
		sqlite3_bind_int(s, 6, f->end_col);
		bind_text(s, 7, f->code);
		bind_text(s, 8, f->severity ? f->severity : "error");
		bind_text(s, 9, f->message ? f->message : "");
		bind_text(s, 10, f->url);
		sqlite3_bind_int(s, 11, f->fixable);
		sqlite3_bind_int64(s, 12, (sqlite3_int64)i);
		if ((rc = step_done(l, s, what, err)))
			return rc;
	}

	if ((s = stmt(l, ST_STATE_UPSERT, err)) == NULL)
		goto fail_prepare;
	for (size_t i = 0; i < g->nfiles; i++) {
		const struct ledger_file *f = &g->files[i];
		enum gate_status st = f->has_status ? f->status : f->cache_status >= 0 ?
		    (enum gate_status)f->cache_status : g->status;

		if (f->path == NULL)
			continue;
		bind_text(s, 1, g->gate);
		bind_text(s, 2, f->path);
		bind_text(s, 3, gate_status_name(st));
		sqlite3_bind_int64(s, 4, grid);
		sqlite3_bind_int64(s, 5, at);
		if ((rc = step_done(l, s, what, err)))
			return rc;
	}

	if (g->whole_gate && g->status == GATE_PASS) {
		if ((s = stmt(l, ST_STATE_PASS_ALL, err)) == NULL)
			goto fail_prepare;
		bind_text(s, 1, g->gate);
		sqlite3_bind_int64(s, 2, grid);
		sqlite3_bind_int64(s, 3, at);
		if ((rc = step_done(l, s, what, err)))
			return rc;
	}

	if ((s = stmt(l, ST_CACHE_INSERT, err)) == NULL)
		goto fail_prepare;
	for (size_t i = 0; g->fingerprint && i < g->nfiles; i++) {
		const struct ledger_file *f = &g->files[i];

		if (f->path == NULL || f->cache_key == NULL || f->cache_status < 0)
			continue;
		bind_text(s, 1, g->gate);
		bind_text(s, 2, g->fingerprint);
		bind_text(s, 3, f->path);
		bind_text(s, 4, f->cache_key);
		bind_text(s, 5, gate_status_name((enum gate_status)f->cache_status));
		sqlite3_bind_int64(s, 6, grid);
		/* a reused result keeps naming the run that judged it */
		bind_text(s, 7, f->judged_by[0] ? f->judged_by : g->run_id);
		sqlite3_bind_int64(s, 8, at);
		if ((rc = step_done(l, s, what, err)))
			return rc;
	}
	return tx_commit(l, err);

fail_prepare:
	tx_abort(l);
	return err ? err->code : WD_ELEDGER;
}

static int do_file_removed(struct ledger *l, const char *path, struct wd_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = tx_begin(l, true, err)))
		return rc;
	if ((s = stmt(l, ST_FILE_REMOVED, err)) == NULL) {
		tx_abort(l);
		return err ? err->code : WD_ELEDGER;
	}
	bind_text(s, 1, path);
	if ((rc = step_done(l, s, "cannot forget a removed file", err)))
		return rc;
	return tx_commit(l, err);
}

/* ---- the retry queue ------------------------------------------------------ */

/* A failure worth retrying: the file or the disk may come back. */
static bool transient(int src)
{
	switch (src & 0xff) {
	case SQLITE_FULL: case SQLITE_IOERR: case SQLITE_READONLY: case SQLITE_BUSY:
	case SQLITE_LOCKED: case SQLITE_CANTOPEN:
		return true;
	default:
		return false;
	}
}

static int apply(struct ledger *l, const struct qop *op, struct wd_err *err)
{
	l->last_src = 0;
	switch (op->kind) {
	case Q_RUN_BEGIN:
		return do_run_begin(l, op->run, err);
	case Q_RUN_FINISH:
		return do_run_finish(l, op->run_id, op->status, op->ms, err);
	case Q_GATE:
		return do_gate_record(l, op->gate, err);
	case Q_FILE_REMOVED:
		return do_file_removed(l, op->path, err);
	}
	return wd_err_set(err, WD_ELEDGER, "ledger '%s': unknown write", l->path);
}

static const char *qdup(struct qentry *e, const char *s)
{
	if (s == NULL)
		return NULL;
	strvec_push(&e->strs, s);
	return e->strs.v[e->strs.n - 1];
}

/* A deep copy of op that the queue owns. */
static struct qentry *qentry_new(const struct qop *op)
{
	struct qentry *e = xcalloc(1, sizeof(*e));

	e->op.kind = op->kind;
	switch (op->kind) {
	case Q_RUN_BEGIN:
		e->run = *op->run;
		e->run.trigger = qdup(e, op->run->trigger);
		e->run.git_head = qdup(e, op->run->git_head);
		e->run.config_hash = qdup(e, op->run->config_hash);
		e->op.run = &e->run;
		break;
	case Q_RUN_FINISH:
		e->op.run_id = qdup(e, op->run_id);
		e->op.status = qdup(e, op->status);
		e->op.ms = op->ms;
		break;
	case Q_GATE: {
		const struct ledger_gate_run *g = op->gate;

		e->gate = *g;
		e->gate.run_id = qdup(e, g->run_id);
		e->gate.gate = qdup(e, g->gate);
		e->gate.fingerprint = qdup(e, g->fingerprint);
		e->gate.cached_from = qdup(e, g->cached_from);
		e->gate.message = qdup(e, g->message);
		e->gate.output = qdup(e, g->output);
		e->gate.input_digest = qdup(e, g->input_digest);
		e->files = xcalloc(g->nfiles ? g->nfiles : 1, sizeof(*e->files));
		for (size_t i = 0; i < g->nfiles; i++) {
			e->files[i] = g->files[i];
			e->files[i].path = qdup(e, g->files[i].path);
			e->files[i].blob = qdup(e, g->files[i].blob);
			e->files[i].cache_key = qdup(e, g->files[i].cache_key);
			e->files[i].reason = qdup(e, g->files[i].reason);
		}
		e->gate.files = e->files;
		for (size_t i = 0; g->findings && i < g->findings->n; i++)
			findings_add(&e->findings, &g->findings->v[i]);
		e->gate.findings = g->findings ? &e->findings : NULL;
		e->op.gate = &e->gate;
		break;
	}
	case Q_FILE_REMOVED:
		e->op.path = qdup(e, op->path);
		break;
	}
	return e;
}

static void qentry_free(struct qentry *e)
{
	findings_release(&e->findings);
	free(e->files);
	strvec_clear(&e->strs);
	free(e);
}

static void qpop(struct ledger *l)
{
	struct qentry *e = l->qhead;

	l->qhead = e->next;
	if (l->qhead == NULL)
		l->qtail = &l->qhead;
	l->qlen--;
	qentry_free(e);
}

static void enqueue(struct ledger *l, const struct qop *op)
{
	struct qentry *e;

	if (l->qlen >= LEDGER_QUEUE_MAX) {
		if (l->qdropped++ % 1000 == 0)
			log_warnx("ledger '%s': %zu writes waiting for a retry: dropping this "
			    "one (%llu dropped so far)", l->path, l->qlen,
			    (unsigned long long)l->qdropped);
		return;
	}
	e = qentry_new(op);
	*l->qtail = e;
	l->qtail = &e->next;
	l->qlen++;
}

/* Applies the queued writes in order. Stops at the first one that fails
 * for a passing reason (0 < return: still queued, err set); drops one that
 * fails for good (it would block every later write), counting it. */
static int flush(struct ledger *l, struct wd_err *err)
{
	int rc;

	while (l->qhead) {
		if ((rc = apply(l, &l->qhead->op, err)) == 0) {
			qpop(l);
			continue;
		}
		if (transient(l->last_src)) {
			snprintf(l->write_err, sizeof(l->write_err), "%s", err->msg);
			return (int)(l->qlen > INT_MAX ? INT_MAX : l->qlen);
		}
		log_warnx("dropping a queued ledger write that cannot succeed: %s", err->msg);
		l->qdropped++;
		qpop(l);
	}
	return 0;
}

/* Every write goes through here: earlier queued writes first, so the
 * ledger sees them in the order they were made. */
static int write_op(struct ledger *l, const struct qop *op, struct wd_err *uerr)
{
	struct wd_err err = { 0, "" };
	int rc;

	if (l->qhead && flush(l, &err) > 0) {
		enqueue(l, op);
		rc = err.code ? err.code : WD_ELEDGER;
		goto fail;
	}
	if ((rc = apply(l, op, &err)) == 0) {
		l->write_err[0] = '\0';
		return 0;
	}
	if (l->mode != LEDGER_WRITE || !transient(l->last_src))
		goto out;
	enqueue(l, op);
fail:
	snprintf(l->write_err, sizeof(l->write_err), "%s", err.msg);
out:
	if (uerr)
		*uerr = err;
	return rc;
}

int ledger_run_begin(struct ledger *l, const struct ledger_run *r, struct wd_err *err)
{
	struct qop op = { .kind = Q_RUN_BEGIN, .run = r };

	return write_op(l, &op, err);
}

int ledger_run_finish(struct ledger *l, const char *run_id, const char *status,
    int64_t finished_ms, struct wd_err *err)
{
	struct qop op = { .kind = Q_RUN_FINISH, .run_id = run_id, .status = status,
		.ms = finished_ms };

	return write_op(l, &op, err);
}

int ledger_gate_record(struct ledger *l, const struct ledger_gate_run *g, struct wd_err *err)
{
	struct qop op = { .kind = Q_GATE, .gate = g };

	return write_op(l, &op, err);
}

int ledger_file_removed(struct ledger *l, const char *path, struct wd_err *err)
{
	struct qop op = { .kind = Q_FILE_REMOVED, .path = path };

	return write_op(l, &op, err);
}

int ledger_retry(struct ledger *l, struct wd_err *err)
{
	struct wd_err e = { 0, "" };
	int n;

	apply_test_hook(l, true);
	if (l->qhead == NULL)
		return 0;
	n = flush(l, &e);
	if (n > 0 && err)
		*err = e;
	if (n == 0) {
		l->write_err[0] = '\0';
		log_info("ledger '%s': every queued write is recorded", l->path);
	}
	return n;
}

size_t ledger_queued(const struct ledger *l)
{
	return l->qlen;
}

int ledger_health(struct ledger *l, cJSON **out)
{
	const char *msg = l->write_err[0] ? l->write_err : l->check_err[0] ? l->check_err :
	    NULL;
	cJSON *o = cJSON_CreateObject();

	if (msg == NULL && l->qlen)
		msg = "writes are waiting for a retry";
	cJSON_AddBoolToObject(o, "ok", msg == NULL);
	cJSON_AddItemToObject(o, "error", msg ? cJSON_CreateString(msg) : cJSON_CreateNull());
	cJSON_AddNumberToObject(o, "queued_writes", (double)l->qlen);
	cJSON_AddNumberToObject(o, "dropped_writes", (double)l->qdropped);
	cJSON_AddStringToObject(o, "path", l->path);
	cJSON_AddNumberToObject(o, "schema", l->schema);
	*out = o;
	return 0;
}

int ledger_quick_check(struct ledger *l, struct wd_err *err)
{
	sqlite3_stmt *s = NULL;
	struct buf b = BUF_INIT;
	struct wd_err e = { 0, "" };
	int rc, nrows = 0;

	l->check_err[0] = '\0';
	if ((rc = sqlite3_prepare_v2(l->db, "PRAGMA quick_check(5)", -1, &s, NULL)) ==
	    SQLITE_OK)
		rc = SQLITE_ROW;
	while (rc == SQLITE_ROW && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *row = col_text(s, 0);

		if (row && strcmp(row, "ok") == 0)
			continue;
		buf_addf(&b, "%s%s", nrows++ ? "; " : "", row ? row : "?");
	}
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_finalize(s);
	if (rc != SQLITE_OK)
		rc = db_fail(l, rc, "cannot run PRAGMA quick_check", &e);
	else if (nrows)
		rc = wd_err_set(&e, WD_ELEDGER, "ledger '%s' is damaged (PRAGMA quick_check): "
		    "%s", l->path, b.buf);
	buf_release(&b);
	if (rc) {
		snprintf(l->check_err, sizeof(l->check_err), "%s", e.msg);
		if (err)
			*err = e;
	}
	return rc;
}

/* ---- cache ------------------------------------------------------------- */

static void read_finding(sqlite3_stmt *s, struct finding *f)
{
	f->path = (char *)col_text(s, 0);
	f->line = sqlite3_column_int(s, 1);
	f->col = sqlite3_column_int(s, 2);
	f->end_line = sqlite3_column_int(s, 3);
	f->end_col = sqlite3_column_int(s, 4);
	f->code = (char *)col_text(s, 5);
	f->severity = (char *)col_text(s, 6);
	f->message = (char *)col_text(s, 7);
	f->url = (char *)col_text(s, 8);
	f->fixable = sqlite3_column_int(s, 9) != 0;
}

int ledger_cache_lookup(struct ledger *l, const char *gate, const char *fingerprint,
    const char *path, const char *cache_key, struct ledger_cache_hit *hit)
{
	sqlite3_stmt *s, *fs;
	int64_t grid;
	int rc, st;

	memset(hit, 0, sizeof(*hit));
	if (gate == NULL || fingerprint == NULL || path == NULL || cache_key == NULL)
		return 0;
	if ((rc = tx_begin(l, false, NULL)))
		return rc;
	if ((s = stmt(l, ST_CACHE_LOOKUP, NULL)) == NULL ||
	    (fs = stmt(l, ST_CACHE_FINDINGS, NULL)) == NULL) {
		tx_abort(l);
		return WD_ELEDGER;
	}
	bind_text(s, 1, gate);
	bind_text(s, 2, fingerprint);
	bind_text(s, 3, path);
	bind_text(s, 4, cache_key);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		tx_abort(l);
		if (rc == SQLITE_DONE)
			return 0;
		return (rc & 0xff) == SQLITE_FULL ? WD_ELEDGER_FULL : WD_ELEDGER;
	}
	st = gate_status_parse(col_text(s, 0));
	hit->status = st < 0 ? GATE_ERROR : (enum gate_status)st;
	grid = sqlite3_column_int64(s, 1);
	snprintf(hit->run_id, sizeof(hit->run_id), "%s", col_text(s, 2));
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);

	sqlite3_bind_int64(fs, 1, grid);
	bind_text(fs, 2, path);
	while ((rc = sqlite3_step(fs)) == SQLITE_ROW) {
		struct finding f;

		read_finding(fs, &f);
		findings_add(&hit->findings, &f);
	}
	sqlite3_reset(fs);
	sqlite3_clear_bindings(fs);
	tx_abort(l);	/* ends the read transaction */
	if (rc != SQLITE_DONE) {
		findings_release(&hit->findings);
		return WD_ELEDGER;
	}
	return 1;
}

/* ---- JSON -------------------------------------------------------------- */

static cJSON *json_str_or_null(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *json_time_or_null(sqlite3_stmt *s, int i)
{
	char iso[32];

	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return cJSON_CreateNull();
	ledger_time_iso(sqlite3_column_int64(s, i), iso);
	return cJSON_CreateString(iso);
}

static cJSON *json_int_or_null(sqlite3_stmt *s, int i)
{
	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return cJSON_CreateNull();
	return cJSON_CreateNumber((double)sqlite3_column_int64(s, i));
}

static cJSON *text_json(sqlite3_stmt *s)
{
	return cJSON_CreateString(col_text(s, 0));
}

static cJSON *finding_json(sqlite3_stmt *s)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddItemToObject(o, "path", json_str_or_null(col_text(s, 0)));
	cJSON_AddNumberToObject(o, "line", sqlite3_column_int(s, 1));
	cJSON_AddNumberToObject(o, "col", sqlite3_column_int(s, 2));
	cJSON_AddNumberToObject(o, "end_line", sqlite3_column_int(s, 3));
	cJSON_AddNumberToObject(o, "end_col", sqlite3_column_int(s, 4));
	cJSON_AddItemToObject(o, "code", json_str_or_null(col_text(s, 5)));
	cJSON_AddStringToObject(o, "severity", col_text(s, 6));
	cJSON_AddStringToObject(o, "message", col_text(s, 7));
	cJSON_AddItemToObject(o, "url", json_str_or_null(col_text(s, 8)));
	cJSON_AddBoolToObject(o, "fixable", sqlite3_column_int(s, 9) != 0);
	return o;
}

/* Steps s (bound) to the end, appending what row() makes of each row to
 * arr; resets s. 0 or a db_fail code. */
static int rows_json(struct ledger *l, sqlite3_stmt *s, cJSON *arr,
    cJSON *(*row)(sqlite3_stmt *), struct wd_err *err)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		cJSON_AddItemToArray(arr, row(s));
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : db_fail(l, rc, "cannot read", err);
}

static int files_json(struct ledger *l, int64_t grid, cJSON *gate, struct wd_err *err)
{
	sqlite3_stmt *s = stmt(l, ST_FILES, err);
	cJSON *files, *reasons;
	int rc;

	if (s == NULL)
		return err ? err->code : WD_ELEDGER;
	files = cJSON_AddArrayToObject(gate, "files");
	reasons = cJSON_CreateObject();
	sqlite3_bind_int64(s, 1, grid);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		cJSON_AddItemToArray(files, cJSON_CreateString(col_text(s, 0)));
		if (sqlite3_column_type(s, 1) != SQLITE_NULL)
			cJSON_AddStringToObject(reasons, col_text(s, 0), col_text(s, 1));
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (reasons->child)
		cJSON_AddItemToObject(gate, "reasons", reasons);
	else
		cJSON_Delete(reasons);
	return rc == SQLITE_DONE ? 0 : db_fail(l, rc, "cannot read", err);
}

#define RUN_JSON_FINDINGS	0x1
#define RUN_JSON_OUTPUT		0x2

/* The gates of one run, appended to run["gates"]. */
static int gates_json(struct ledger *l, const char *run_id, cJSON *run, unsigned flags,
    struct wd_err *err)
{
	sqlite3_stmt *s = stmt(l, ST_GATES, err), *fs = NULL;
	cJSON *gates = cJSON_AddArrayToObject(run, "gates");
	int rc = 0, src;

	if (s == NULL ||
	    ((flags & RUN_JSON_FINDINGS) && (fs = stmt(l, ST_FINDINGS, err)) == NULL))
		return err ? err->code : WD_ELEDGER;
	bind_text(s, 1, run_id);
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		cJSON *g = cJSON_CreateObject();
		int64_t grid = sqlite3_column_int64(s, 0);

		cJSON_AddItemToArray(gates, g);
		cJSON_AddStringToObject(g, "name", col_text(s, 1));
		cJSON_AddStringToObject(g, "status", col_text(s, 3));
		cJSON_AddBoolToObject(g, "cached", sqlite3_column_int(s, 4) != 0);
		if (sqlite3_column_type(s, 5) != SQLITE_NULL)
			cJSON_AddStringToObject(g, "cached_from", col_text(s, 5));
		cJSON_AddItemToObject(g, "exit_code", json_int_or_null(s, 6));
		cJSON_AddItemToObject(g, "started_at", json_time_or_null(s, 7));
		cJSON_AddNumberToObject(g, "duration_ms", (double)sqlite3_column_int64(s, 8));
		cJSON_AddItemToObject(g, "fingerprint", json_str_or_null(col_text(s, 2)));
		if (sqlite3_column_type(s, 9) != SQLITE_NULL)
			cJSON_AddStringToObject(g, "message", col_text(s, 9));
		if ((flags & RUN_JSON_OUTPUT) && sqlite3_column_type(s, 10) != SQLITE_NULL)
			cJSON_AddStringToObject(g, "output", col_text(s, 10));
		if (sqlite3_column_type(s, 11) != SQLITE_NULL) {
			cJSON *t = cJSON_AddObjectToObject(g, "tests");

			cJSON_AddItemToObject(t, "total", json_int_or_null(s, 11));
			cJSON_AddItemToObject(t, "passed", json_int_or_null(s, 12));
			cJSON_AddItemToObject(t, "failed", json_int_or_null(s, 13));
			cJSON_AddItemToObject(t, "skipped", json_int_or_null(s, 14));
		}
		if (sqlite3_column_type(s, 15) != SQLITE_NULL)
			cJSON_AddStringToObject(g, "input_digest", col_text(s, 15));
		if ((rc = files_json(l, grid, g, err)))
			break;
		if (fs) {
			sqlite3_bind_int64(fs, 1, grid);
			if ((rc = rows_json(l, fs, cJSON_AddArrayToObject(g, "findings"),
			    finding_json, err)))
				break;
		}
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc)
		return rc;
	return src == SQLITE_DONE ? 0 : db_fail(l, src, "cannot read", err);
}

/* The run on the current row of s (RUN_COLS), with its gates. */
static int run_json(struct ledger *l, sqlite3_stmt *s, unsigned flags, cJSON **out,
    struct wd_err *err)
{
	cJSON *o = cJSON_CreateObject();
	int rc;

	cJSON_AddStringToObject(o, "id", col_text(s, 0));
	cJSON_AddStringToObject(o, "trigger", col_text(s, 1));
	cJSON_AddStringToObject(o, "status", col_text(s, 2));
	cJSON_AddItemToObject(o, "started_at", json_time_or_null(s, 3));
	cJSON_AddItemToObject(o, "finished_at", json_time_or_null(s, 4));
	if (sqlite3_column_type(s, 4) == SQLITE_NULL)
		cJSON_AddNullToObject(o, "duration_ms");
	else
		cJSON_AddNumberToObject(o, "duration_ms", (double)(sqlite3_column_int64(s, 4) -
		    sqlite3_column_int64(s, 3)));
	cJSON_AddItemToObject(o, "git_head", json_str_or_null(col_text(s, 5)));
	cJSON_AddItemToObject(o, "config_hash", json_str_or_null(col_text(s, 6)));
	if ((rc = gates_json(l, col_text(s, 0), o, flags, err))) {
		cJSON_Delete(o);
		return rc;
	}
	*out = o;
	return 0;
}

/* ---- queries ----------------------------------------------------------- */

int ledger_log(struct ledger *l, const struct ledger_log_query *q, cJSON **out,
    struct wd_err *err)
{
	sqlite3_stmt *s;
	cJSON *arr;
	int rc, src;

	char floor_id[ULID_LEN + 1] = "";

	*out = NULL;
	if ((rc = tx_begin(l, false, err)))
		return rc;
	if ((s = stmt(l, q->gate ? ST_LOG_GATE : q->status ? ST_LOG_STATUS : ST_LOG, err)) == NULL) {
		tx_abort(l);
		return err ? err->code : WD_ELEDGER;
	}
	/* the smallest ULID of the --since millisecond: its time part, then
	 * the lowest randomness */
	if (q->since_ms > 0) {
		ulid_at(floor_id, (uint64_t)q->since_ms);
		memset(floor_id + 10, '0', ULID_LEN - 10);
	}
	sqlite3_bind_int64(s, 1, q->since_ms > 0 ? q->since_ms : INT64_MIN);
	bind_text(s, 2, q->status);
	bind_text(s, 3, q->gate);
	sqlite3_bind_int(s, 4, q->limit > 0 ? q->limit : LOG_DEFAULT_LIMIT);
	if (q->gate)
		bind_text(s, 5, floor_id);
	arr = cJSON_CreateArray();
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		cJSON *run;

		if ((rc = run_json(l, s, q->findings ? RUN_JSON_FINDINGS : 0, &run, err)))
			break;
		cJSON_AddItemToArray(arr, run);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc == 0 && src != SQLITE_DONE)
		rc = db_fail(l, src, "cannot list runs", err);
	tx_abort(l);
	if (rc) {
		cJSON_Delete(arr);
		return rc;
	}
	*out = arr;
	return 0;
}

int ledger_show(struct ledger *l, const char *id, cJSON **out, struct wd_err *err)
{
	char lo[ULID_LEN + 1], hi[ULID_LEN + 2], first[ULID_LEN + 1] = "";
	size_t n = id ? strlen(id) : 0;
	sqlite3_stmt *s;
	int rc = 0, src, found = 0;

	*out = NULL;
	if (n == 0 || n > ULID_LEN)
		return wd_err_set(err, WD_ENOTFOUND, "no run '%s'", id ? id : "");
	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char)id[i]))
			return wd_err_set(err, WD_ENOTFOUND, "no run '%s'", id);
		lo[i] = (char)toupper((unsigned char)id[i]);
	}
	lo[n] = '\0';
	/* every id starting with lo sorts in [lo, lo "~"): ids are [0-9A-Z] */
	snprintf(hi, sizeof(hi), "%s~", lo);
	if ((rc = tx_begin(l, false, err)))
		return rc;
	if ((s = stmt(l, ST_SHOW, err)) == NULL) {
		tx_abort(l);
		return err ? err->code : WD_ELEDGER;
	}
	bind_text(s, 1, lo);
	bind_text(s, 2, hi);
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		if (++found == 1) {
			snprintf(first, sizeof(first), "%s", col_text(s, 0));
			if ((rc = run_json(l, s, RUN_JSON_FINDINGS | RUN_JSON_OUTPUT, out, err)))
				break;
		} else {
			rc = wd_err_set(err, WD_EAMBIGUOUS, "run id prefix '%s' is ambiguous: "
			    "%s, %s, ...", id, first, col_text(s, 0));
			break;
		}
	}
	if (rc == 0 && src != SQLITE_DONE && src != SQLITE_ROW)
		rc = db_fail(l, src, "cannot read the run", err);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	tx_abort(l);
	if (rc == 0 && found == 0)
		rc = wd_err_set(err, WD_ENOTFOUND, "no run '%s'", id);
	if (rc) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	return rc;
}

int ledger_last_run(struct ledger *l, cJSON **out, struct wd_err *err)
{
	sqlite3_stmt *s;
	int rc;

	*out = NULL;
	if ((s = stmt(l, ST_LAST_RUN, err)) == NULL)
		return err ? err->code : WD_ELEDGER;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*out = cJSON_CreateObject();
		cJSON_AddStringToObject(*out, "id", col_text(s, 0));
		cJSON_AddStringToObject(*out, "status", col_text(s, 1));
		cJSON_AddItemToObject(*out, "finished_at", json_time_or_null(s, 2));
		rc = SQLITE_DONE;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return db_fail(l, rc, "cannot read the last run", err);
	if (*out == NULL)
		*out = cJSON_CreateNull();
	return 0;
}

int ledger_gate_summary(struct ledger *l, cJSON **out, struct wd_err *err)
{
	sqlite3_stmt *s, *fs, *ps;
	cJSON *arr;
	int rc = 0, src;

	*out = NULL;
	if ((rc = tx_begin(l, false, err)))
		return rc;
	if ((s = stmt(l, ST_SUMMARY, err)) == NULL ||
	    (fs = stmt(l, ST_SUMMARY_FILES, err)) == NULL ||
	    (ps = stmt(l, ST_SUMMARY_PROBLEM, err)) == NULL) {
		tx_abort(l);
		return err ? err->code : WD_ELEDGER;
	}
	arr = cJSON_CreateArray();
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		cJSON *g = cJSON_CreateObject();
		int64_t failing = sqlite3_column_int64(s, 2), errors = sqlite3_column_int64(s, 3);
		char problem[16] = "", *message = NULL;

		if (errors) {
			bind_text(ps, 1, col_text(s, 0));
			if (sqlite3_step(ps) == SQLITE_ROW) {
				snprintf(problem, sizeof(problem), "%s", col_text(ps, 0));
				if (sqlite3_column_type(ps, 1) != SQLITE_NULL)
					message = xstrdup(col_text(ps, 1));
			}
			sqlite3_reset(ps);
			sqlite3_clear_bindings(ps);
		}
		cJSON_AddItemToArray(arr, g);
		cJSON_AddStringToObject(g, "name", col_text(s, 0));
		/* failing files are the gate's verdict; otherwise a gate that
		 * could not judge says why (missing, timeout, error) */
		cJSON_AddStringToObject(g, "status", failing ? "fail" : problem[0] ? problem :
		    errors ? "error" : "pass");
		if (problem[0]) {
			cJSON_AddStringToObject(g, "problem", problem);
			if (message)
				cJSON_AddStringToObject(g, "message", message);
		}
		free(message);
		cJSON_AddNumberToObject(g, "failing_files", (double)failing);
		cJSON_AddNumberToObject(g, "findings", (double)sqlite3_column_int64(s, 4));
		cJSON_AddNumberToObject(g, "error_files", (double)errors);
		cJSON_AddNumberToObject(g, "checked_files", (double)sqlite3_column_int64(s, 1));
		bind_text(fs, 1, col_text(s, 0));
		sqlite3_bind_int(fs, 2, SUMMARY_MAX_FILES);
		if ((rc = rows_json(l, fs, cJSON_AddArrayToObject(g, "files"), text_json,
		    err)))
			break;
	}
	sqlite3_reset(s);
	if (rc == 0 && src != SQLITE_DONE)
		rc = db_fail(l, src, "cannot summarise gates", err);
	tx_abort(l);
	if (rc) {
		cJSON_Delete(arr);
		return rc;
	}
	*out = arr;
	return 0;
}

int ledger_export(struct ledger *l, int64_t since_ms, FILE *out, struct wd_err *err)
{
	sqlite3_stmt *s;
	int rc = 0, src;

	if ((rc = tx_begin(l, false, err)))
		return rc;
	if ((s = stmt(l, ST_EXPORT, err)) == NULL) {
		tx_abort(l);
		return err ? err->code : WD_ELEDGER;
	}
	sqlite3_bind_int64(s, 1, since_ms > 0 ? since_ms : INT64_MIN);
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		cJSON *run;
		char *text;

		if ((rc = run_json(l, s, RUN_JSON_FINDINGS | RUN_JSON_OUTPUT, &run, err)))
			break;
		text = cJSON_PrintUnformatted(run);
		cJSON_Delete(run);
		if (text == NULL || fputs(text, out) == EOF || fputc('\n', out) == EOF) {
			rc = wd_err_set(err, WD_ELEDGER, "cannot write the export: %s",
			    text ? strerror(errno) : "out of memory");
			cJSON_free(text);
			break;
		}
		cJSON_free(text);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc == 0 && src != SQLITE_DONE)
		rc = db_fail(l, src, "cannot export runs", err);
	tx_abort(l);
	if (rc == 0 && fflush(out) == EOF)
		rc = wd_err_set(err, WD_ELEDGER, "cannot write the export: %s", strerror(errno));
	return rc;
}

int ledger_gc(struct ledger *l, int keep_days, int keep_runs, int *deleted,
    struct wd_err *err)
{
	int64_t cutoff = now_ms() - (int64_t)keep_days * 86400000;
	sqlite3_stmt *s;
	int rc;

	if (deleted)
		*deleted = 0;
	if (keep_days < 0 || keep_runs < 0)
		return wd_err_set(err, WD_ELEDGER, "ledger '%s': negative retention", l->path);
	if (keep_days == 0 && keep_runs == 0)
		return 0;
	if ((rc = tx_begin(l, true, err)))
		return rc;
	if ((rc = exec_stmt(l, ST_GC_KEEP, "cannot list the current results", err)))
		return rc;
	if ((s = stmt(l, ST_GC_RUNS, err)) == NULL)
		goto fail_prepare;
	if (keep_days > 0)
		sqlite3_bind_int64(s, 1, cutoff);
	if (keep_runs > 0)
		sqlite3_bind_int(s, 2, keep_runs);
	if ((rc = step_done(l, s, "cannot prune runs", err)))
		return rc;
	if (deleted)
		*deleted = sqlite3_changes(l->db);
	if ((rc = exec_stmt(l, ST_GC_CACHE, "cannot prune the cache", err)) ||
	    (rc = exec_stmt(l, ST_GC_KEEP_CLEAR, "cannot prune the cache", err)))
		return rc;
	if ((rc = tx_commit(l, err)))
		return rc;
	/* Best effort, and without waiting for readers (TRUNCATE would, on
	 * the loop): copy back what the deletes wrote */
	sqlite3_wal_checkpoint_v2(l->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	l->wal_frames = 0;
	return 0;

fail_prepare:
	tx_abort(l);
	return err ? err->code : WD_ELEDGER;
}

int ledger_explain(struct ledger *l, const char *query, struct buf *out, struct wd_err *err)
{
	sqlite3_stmt *s = NULL;
	char *sql;
	int rc;

	for (int i = 0; i < ST__COUNT; i++) {
		if (stmts[i].name == NULL || strcmp(stmts[i].name, query) != 0)
			continue;
		sql = xasprintf("EXPLAIN QUERY PLAN %s", stmts[i].sql);
		rc = sqlite3_prepare_v2(l->db, sql, -1, &s, NULL);
		free(sql);
		if (rc != SQLITE_OK)
			return db_fail(l, rc, "cannot explain", err);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW)
			buf_addf(out, "%s\n", col_text(s, 3));
		sqlite3_finalize(s);
		return rc == SQLITE_DONE ? 0 : db_fail(l, rc, "cannot explain", err);
	}
	return wd_err_set(err, WD_ENOTFOUND, "no ledger query '%s'", query);
}

/* ---- time -------------------------------------------------------------- */

void ledger_time_iso(int64_t ms, char out[32])
{
	int64_t sec = ms / 1000, frac = ms % 1000;
	struct tm tm;
	time_t t;

	if (frac < 0) {
		frac += 1000;
		sec--;
	}
	t = (time_t)sec;
	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(out, 32, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac);
}

/* Reads exactly n digits at *p into *v. */
static bool digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return false;
		*v = *v * 10 + (**p - '0');
	}
	return true;
}

static int parse_relative(const char *s, int64_t *ms)
{
	static const struct { char unit; int64_t ms; } units[] = {
		{ 's', 1000 }, { 'm', 60000 }, { 'h', 3600000 }, { 'd', 86400000 },
		{ 'w', 7 * 86400000LL },
	};
	char *end;
	long long n;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || end[0] == '\0' || end[1] != '\0')
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(*units); i++) {
		if (units[i].unit == end[0]) {
			if (n > INT64_MAX / units[i].ms / 2)
				return -1;
			*ms = now_ms() - n * units[i].ms;
			return 0;
		}
	}
	return -1;
}

int ledger_time_parse(const char *s, int64_t *ms)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const char *p = s;
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, off = 0;
	time_t t;

	if (s == NULL || *s == '\0')
		return -1;
	if (parse_relative(s, ms) == 0)
		return 0;
	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
	    !digits(&p, 2, &d))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
		return -1;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
			return -1;
		if (*p == ':') {
			p++;
			if (!digits(&p, 2, &sec))
				return -1;
			if (*p == '.' || *p == ',') {
				int scale = 100;

				p++;
				if (!isdigit((unsigned char)*p))
					return -1;
				for (; isdigit((unsigned char)*p); p++, scale /= 10)
					frac += (*p - '0') * scale;
			}
		}
		if (h > 23 || mi > 59 || sec > 60)
			return -1;
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1, oh, om;

			if (!digits(&p, 2, &oh))
				return -1;
			if (*p == ':')
				p++;
			if (!digits(&p, 2, &om) || oh > 23 || om > 59)
				return -1;
			off = sign * (oh * 60 + om);
		}
	}
	if (*p != '\0')
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (tm.tm_mday != d)	/* 29 February outside a leap year */
		return -1;
	*ms = ((int64_t)t - (int64_t)off * 60) * 1000 + frac;
	return 0;
}

/* ---- state pruning ------------------------------------------------------- */

int ledger_state_prune(struct ledger *l, ledger_keep_fn *keep, void *arg, int *pruned,
    struct wd_err *err)
{
	struct strvec gone = STRVEC_INIT;	/* gate, path, gate, path, ... */
	sqlite3_stmt *s = NULL;
	int rc;

	*pruned = 0;
	rc = sqlite3_prepare_v2(l->db, "SELECT gate, path FROM file_state", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return db_fail(l, rc, "cannot list the file state", err);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *gate = (const char *)sqlite3_column_text(s, 0);
		const char *path = (const char *)sqlite3_column_text(s, 1);

		if (gate && path && !keep(arg, gate, path)) {
			strvec_push(&gone, gate);
			strvec_push(&gone, path);
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		strvec_clear(&gone);
		return db_fail(l, rc, "cannot list the file state", err);
	}
	if (gone.n == 0)
		return 0;
	if ((rc = tx_begin(l, true, err))) {
		strvec_clear(&gone);
		return rc;
	}
	rc = sqlite3_prepare_v2(l->db, "DELETE FROM file_state WHERE gate = ?1 AND path = ?2", -1,
	    &s, NULL);
	for (size_t i = 0; rc == SQLITE_OK && i + 1 < gone.n; i += 2) {
		sqlite3_bind_text(s, 1, gone.v[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, gone.v[i + 1], -1, SQLITE_STATIC);
		rc = sqlite3_step(s) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(l->db);
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_OK) {
		tx_abort(l);
		strvec_clear(&gone);
		return db_fail(l, rc, "cannot prune the file state", err);
	}
	*pruned = (int)(gone.n / 2);
	strvec_clear(&gone);
	return tx_commit(l, err);
}
