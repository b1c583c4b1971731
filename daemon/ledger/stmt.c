/* Every statement the ledger runs, and the helpers the other parts use to
 * run them: prepare, step, transactions, errors.
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
 * The table below is the one place for the SQL of reads and writes, next to
 * the comments on which index each one walks; ledger_explain shows the plan
 * of those that have a name. The schema they run on is in ledger.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "ledger-internal.h"
#include "lib/xmalloc.h"

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

/* ST_FILES on a ledger before schema 10 (a row per file): the gate run's
 * files in the one part they make (an empty cache key, which show never
 * reads and schema 1 lacks). */
#define FILES_BEFORE_10_SQL \
	"SELECT CAST(group_concat(path || char(0) || coalesce(blob, '') || char(0) ||" \
	" coalesce(reason, '') || char(0), char(0)) AS BLOB) FROM gate_files" \
	" WHERE gate_run_id = ?1"

/* The gates of a run; a READ connection to an older ledger (an older
 * daemon still runs) reads NULL for the columns later schemas added. */
#define GATES_SQL(input_digest, remote) \
	"SELECT id, gate, fingerprint, status, cached, cached_from, exit_code, started_at," \
	" duration_ms, message, output, tests_total, tests_passed, tests_failed," \
	" tests_skipped, " input_digest ", " remote \
	" FROM gate_runs WHERE run_id = ?1 ORDER BY id"

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
	/* A run a crash left unfinished has no finish time: nobody saw it
	 * end, and an invented one would read as a run that completed. */
	[ST_MARK_INTERRUPTED] = { NULL,
	    "UPDATE runs SET status = 'interrupted' WHERE status = 'running'" },
	/* The files a run was given (NUL-separated), kept until it finishes:
	 * a run that never does (kill -9, a stop mid-run) leaves them for the
	 * next daemon to judge. */
	[ST_RUN_FILE_INSERT] = { NULL,
	    "INSERT OR REPLACE INTO run_files (run_id, part, paths) VALUES (?1, ?2, ?3)" },
	[ST_RUN_FILES_DONE] = { NULL, "DELETE FROM run_files WHERE run_id = ?1" },
	/* Any run's: a finished run keeps its files until the rows it staged
	 * are written (stage.c), so a daemon that died before that judges
	 * them again too. */
	[ST_RUN_FILES_LEFT] = { NULL, "SELECT paths FROM run_files" },
	[ST_RUN_FILES_DROP_LEFT] = { NULL, "DELETE FROM run_files" },
	[ST_GATE_INSERT] = { NULL,
	    "INSERT INTO gate_runs (run_id, gate, fingerprint, status, cached, cached_from,"
	    " exit_code, started_at, duration_ms, message, output, tests_total,"
	    " tests_passed, tests_failed, tests_skipped, input_digest, remote, remote_hits)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
	    " ?17, ?18)" },
	/* A gate run's files, each as four NUL-ended fields: path, blob,
	 * reason, cache key (empty for none). */
	[ST_FILE_INSERT] = { NULL,
	    "INSERT INTO gate_file_parts (gate_run_id, part, files) VALUES (?1, ?2, ?3)" },
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
	/* changes when another connection commits (keyfilter.c) */
	[ST_DATA_VERSION] = { NULL, "PRAGMA data_version" },
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
	[ST_GATES] = { "gates", GATES_SQL("input_digest", "remote, remote_hits") },
	[ST_FILES] = { "files",
	    "SELECT files FROM gate_file_parts WHERE gate_run_id = ?1 ORDER BY part" },
	[ST_FINDINGS] = { "findings", FINDINGS_SQL("", "seq") },
	[ST_LAST_RUN] = { "last_run",
	    "SELECT id, status, finished_at FROM runs WHERE finished_at IS NOT NULL"
	    " ORDER BY started_at DESC, id DESC LIMIT 1" },
	[ST_SUMMARY] = { "summary",
	    "SELECT gate, count(*), sum(status = 'fail'),"
	    " sum(status IN ('error', 'timeout', 'missing')),"
	    " sum(CASE WHEN status = 'fail' THEN findings ELSE 0 END)"
	    " FROM file_state GROUP BY gate ORDER BY gate" },
	/* The rows that do not pass are file_state_open's (schema 8): the
	 * condition is its WHERE, word for word, so that the planner may use
	 * it. Every query below that looks for such rows says it too. */
	[ST_SUMMARY_FILES] = { "summary_files",
	    "SELECT path FROM file_state WHERE gate = ?1 AND status <> 'pass'"
	    " ORDER BY path LIMIT ?2" },
	/* The newest judgement that is not a verdict on the files (the tool
	 * is missing, hung or broke), with the gate run's message: what the
	 * user must fix before the gate can say anything. */
	[ST_SUMMARY_PROBLEM] = { NULL,
	    "SELECT f.status, g.message FROM file_state f"
	    " LEFT JOIN gate_runs g ON g.id = f.gate_run_id"
	    " WHERE f.gate = ?1 AND f.status <> 'pass'"
	    " AND f.status IN ('error', 'timeout', 'missing')"
	    " ORDER BY f.updated_at DESC LIMIT 1" },
	/* The first findings of the failing files, in path order: what text
	 * `status` shows. The join walks both primary keys. */
	[ST_SUMMARY_FINDINGS] = { NULL,
	    "SELECT nullif(x.path, ''), x.line, x.col, x.end_line, x.end_col, x.code, x.severity,"
	    " x.message, x.url, x.fixable FROM file_state f"
	    " JOIN findings x ON x.gate_run_id = f.gate_run_id AND x.path = f.path"
	    " WHERE f.gate = ?1 AND f.status <> 'pass' AND f.status = 'fail'"
	    " ORDER BY f.path, x.line, x.col LIMIT ?2" },
	/* The run that judged the newest failing file: where `watchd show`
	 * lists the findings status leaves out. */
	[ST_SUMMARY_RUN] = { NULL,
	    "SELECT g.run_id FROM file_state f JOIN gate_runs g ON g.id = f.gate_run_id"
	    " WHERE f.gate = ?1 AND f.status <> 'pass' AND f.status = 'fail'"
	    " ORDER BY f.updated_at DESC LIMIT 1" },
	/* ST_SUMMARY without the count of files judged, which only a scan
	 * of every row gives: the gates, one key lookup each (the loose
	 * index scan of ST_FILE_REMOVED), and the rows that do not pass,
	 * from file_state_open. What the foreground prints after each run. */
	[ST_SUMMARY_BRIEF] = { "summary_brief",
	    "WITH RECURSIVE g(name) AS (SELECT (SELECT min(gate) FROM file_state)"
	    " UNION ALL SELECT (SELECT min(gate) FROM file_state WHERE gate > g.name)"
	    "  FROM g WHERE g.name IS NOT NULL)"
	    " SELECT g.name, NULL, count(f.status = 'fail' OR NULL),"
	    " count(f.status IN ('error', 'timeout', 'missing') OR NULL),"
	    " sum(CASE WHEN f.status = 'fail' THEN f.findings ELSE 0 END)"
	    " FROM g LEFT JOIN file_state f ON f.gate = g.name AND f.status <> 'pass'"
	    " WHERE g.name IS NOT NULL GROUP BY g.name ORDER BY g.name" },
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
	/* One key lookup; the identity columns must all match. */
	[ST_TOOL_GET] = { "tool",
	    /* ?2 (dev) and ?3 (ino) are bound but not compared: a CI runner
	     * that restores the ledger has the same package's binary (path,
	     * size, mtime) on another device and inode */
	    "SELECT version FROM tool_versions WHERE path = ?1"
	    " AND size = ?4 AND mtime_ns = ?5" },
	/* The stage (stage.c): a temp table, written out in main's key
	 * order. A gate with no row in file_state is not staged: the brief
	 * lists the gates from there. */
	[ST_STAGE_GATE_KNOWN] = { NULL, "SELECT 1 FROM main.file_state WHERE gate = ?1 LIMIT 1" },
	/* file_state_open's condition: these read that small index */
	[ST_STAGE_GATE_OPEN] = { NULL,
	    "SELECT 1 FROM main.file_state WHERE gate = ?1 AND status <> 'pass' LIMIT 1" },
	[ST_STAGE_OPEN] = { NULL,
	    "SELECT 1 FROM main.file_state WHERE gate = ?1 AND path = ?2 AND status <> 'pass'" },
	/* ?8: the gate run has findings; the count is looked up only then */
	[ST_STAGE_ROW] = { NULL,
	    "INSERT OR REPLACE INTO temp.stage (gate, path, gate_run_id, status, findings,"
	    " cache_key, cache_status, run_id, at) VALUES (?9, ?1, ?2, ?3, CASE WHEN ?8 AND ?3"
	    " IS NOT NULL THEN (SELECT count(*) FROM main.findings WHERE gate_run_id = ?2"
	    " AND path = ?1) ELSE 0 END, ?4, ?5, ?6, ?7)" },
	[ST_STAGE_STATE_DROP] = { NULL,
	    "UPDATE temp.stage SET status = NULL WHERE gate = ?1 AND path = ?2"
	    " AND status IS NOT NULL" },
	/* the fingerprint is the gate run's, one rowid lookup */
	[ST_STAGE_LOOKUP] = { NULL,
	    "SELECT s.cache_status, s.gate_run_id, coalesce(s.run_id, g.run_id) FROM temp.stage s"
	    " CROSS JOIN main.gate_runs g ON g.id = s.gate_run_id"
	    " WHERE s.gate = ?1 AND s.path = ?3 AND s.cache_key = ?4 AND g.fingerprint = ?2"
	    " ORDER BY s.gate_run_id DESC LIMIT 1" },
	/* What a flush writes: the rows up to a key (a row-value bound, which
	 * walks the stage's key), the key being a slice's last row or the
	 * stage's last. In the stage's key order, which is file_state's, and
	 * per key the newest gate run last. "WHERE": an upsert's SELECT needs
	 * one. */
	[ST_STAGE_NTH] = { NULL,
	    "SELECT gate, path, gate_run_id FROM temp.stage ORDER BY gate, path, gate_run_id"
	    " LIMIT 1 OFFSET ?1" },
	[ST_STAGE_LAST] = { NULL,
	    "SELECT gate, path, gate_run_id FROM temp.stage"
	    " ORDER BY gate DESC, path DESC, gate_run_id DESC LIMIT 1" },
	[ST_STAGE_UPTO_STATE] = { NULL,
	    "INSERT INTO main.file_state (gate, path, status, findings, gate_run_id, updated_at)"
	    " SELECT gate, path, status, findings, gate_run_id, at FROM temp.stage"
	    " WHERE status IS NOT NULL AND (gate, path, gate_run_id) <= (?1, ?2, ?3)"
	    " ORDER BY gate, path, gate_run_id"
	    " ON CONFLICT (gate, path) DO UPDATE SET status = excluded.status,"
	    " findings = excluded.findings, gate_run_id = excluded.gate_run_id,"
	    " updated_at = excluded.updated_at" },
	/* In the stage's order too: cache's for one fingerprint (a gate's
	 * rows under two fingerprints interleave, still correct), and per
	 * key the newest gate run last: it replaces the older, as when each
	 * was written on its own. */
	[ST_STAGE_UPTO_CACHE] = { NULL,
	    "INSERT OR REPLACE INTO main.cache (gate, fingerprint, path, cache_key, status,"
	    " gate_run_id, run_id, created_at)"
	    " SELECT s.gate, g.fingerprint, s.path, s.cache_key, s.cache_status, s.gate_run_id,"
	    " coalesce(s.run_id, g.run_id), s.at FROM temp.stage s"
	    " CROSS JOIN main.gate_runs g ON g.id = s.gate_run_id WHERE s.cache_key IS NOT NULL"
	    " AND (s.gate, s.path, s.gate_run_id) <= (?1, ?2, ?3)"
	    " ORDER BY s.gate, s.path, s.gate_run_id" },
	[ST_STAGE_UPTO_CLEAR] = { NULL,
	    "DELETE FROM temp.stage WHERE (gate, path, gate_run_id) <= (?1, ?2, ?3)" },
	/* A removed file's staged state, under every gate (the loose index
	 * scan of ST_FILE_REMOVED). */
	[ST_STAGE_FORGET] = { NULL,
	    "WITH RECURSIVE g(name) AS (SELECT (SELECT min(gate) FROM temp.stage)"
	    " UNION ALL SELECT (SELECT min(gate) FROM temp.stage WHERE gate > g.name)"
	    "  FROM g WHERE g.name IS NOT NULL)"
	    " UPDATE temp.stage SET status = NULL WHERE path = ?1"
	    " AND gate IN (SELECT name FROM g WHERE name IS NOT NULL)" },
	[ST_TOOL_PUT] = { NULL,
	    "INSERT OR REPLACE INTO tool_versions (path, dev, ino, size, mtime_ns, version,"
	    " probed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)" },
};

int ledger__fail(struct ledger *l, int rc, const char *what, struct wd_err *err)
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

sqlite3_stmt *ledger__stmt(struct ledger *l, enum stmt_id id, struct wd_err *err)
{
	const char *sql = stmts[id].sql;
	int rc;

	if (l->st[id])
		return l->st[id];
	if (id == ST_GATES && l->schema < 2)
		sql = GATES_SQL("NULL", "NULL, NULL");
	else if (id == ST_GATES && l->schema < 7)
		sql = GATES_SQL("input_digest", "NULL, NULL");
	if (id == ST_FILES && l->schema < 10)
		sql = FILES_BEFORE_10_SQL;
	if (id == ST_FINDINGS && l->schema < 4)
		sql = FINDINGS_SQL("", "id");
	if (id == ST_CACHE_FINDINGS && l->schema < 4)
		sql = FINDINGS_SQL(" AND path = ?2", "id");
	rc = sqlite3_prepare_v3(l->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &l->st[id], NULL);
	if (rc != SQLITE_OK) {
		ledger__fail(l, rc, "cannot prepare a query", err);
		l->st[id] = NULL;
	}
	return l->st[id];
}

int ledger__step(struct ledger *l, sqlite3_stmt *s, const char *what, struct wd_err *err)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		rc = SQLITE_DONE;	/* RETURNING-less writes never give rows */
	if (rc != SQLITE_DONE) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		return ledger__fail(l, rc, what, err);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return 0;
}

int ledger__exec(struct ledger *l, enum stmt_id id, const char *what, struct wd_err *err)
{
	sqlite3_stmt *s = ledger__stmt(l, id, err);

	return s ? ledger__step(l, s, what, err) : (err ? err->code : WD_ELEDGER);
}

int ledger__begin(struct ledger *l, bool write, struct wd_err *err)
{
	ledger__stage_txn_begin(l);
	return ledger__exec(l, write ? ST_BEGIN_W : ST_BEGIN_R,
	    write ? "cannot start a write transaction" : "cannot start a read transaction",
	    err);
}

int ledger__commit(struct ledger *l, struct wd_err *err)
{
	int rc = ledger__exec(l, ST_COMMIT, "cannot commit", err);

	if (rc == 0)
		ledger__stage_txn_commit(l);
	return rc;
}

void ledger__abort(struct ledger *l)
{
	if (!sqlite3_get_autocommit(l->db))
		sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
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
			return ledger__fail(l, rc, "cannot explain", err);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW)
			buf_addf(out, "%s\n", col_text(s, 3));
		sqlite3_finalize(s);
		return rc == SQLITE_DONE ? 0 : ledger__fail(l, rc, "cannot explain", err);
	}
	return wd_err_set(err, WD_ENOTFOUND, "no ledger query '%s'", query);
}
