/* The SQLite ledger: its schema and migrations, opening and closing a
 * connection (with the same pragmas every time), and its health.
 *
 * The ledger is in eight parts, sharing struct ledger and the statement
 * helpers through ledger-internal.h:
 *   ledger.c  schema, migrations, open/close, health
 *   stmt.c    every statement, prepared once; steps, transactions, errors
 *   write.c   recording runs and gate runs; the queue of failed writes
 *   query.c   cache lookups, log/show/status/export, times
 *   gc.c      retention, state pruning, WAL checkpoints
 *   stage.c   the daemon's file_state and cache rows, written behind
 *   keyfilter.c  the daemon's filter of the cache's keys: misses without a query
 *   tools.c   the tool version cache
 *
 * The schema is versioned with user_version and recognised by
 * application_id; migrations[i] takes user_version i to i+1 inside one
 * BEGIN IMMEDIATE transaction. Statuses are stored as their names so the
 * file reads well in the sqlite3 shell; -1 "none" values are stored NULL.
 * A WRITE connection refuses a foreign or newer file before it changes
 * anything, then migrates; a READ connection never migrates and reads an
 * older schema as it is (stmt.c picks the statements it understands). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "ledger-internal.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

#define LEDGER_APP_ID		0x57544344	/* "WTCD" */

/* gate_files as a table of one row per file, read from gate_file_parts:
 * each step of the recursion peels one field off the part (k counts the
 * four fields of a record) and a record is complete at k = 3. */
#define GATE_FILES_VIEW \
	"CREATE VIEW gate_files (gate_run_id, path, blob, reason, cache_key) AS" \
	" WITH RECURSIVE f(id, rest, k, p, b, r, c) AS (" \
	"  SELECT gate_run_id, CAST(files || x'00' AS BLOB), -1, NULL, NULL, NULL, NULL" \
	"   FROM gate_file_parts" \
	"  UNION ALL" \
	"  SELECT id, substr(rest, instr(rest, x'00') + 1), (k + 1) % 4," \
	"   CASE (k + 1) % 4 WHEN 0 THEN substr(rest, 1, instr(rest, x'00') - 1) ELSE p END," \
	"   CASE (k + 1) % 4 WHEN 1 THEN substr(rest, 1, instr(rest, x'00') - 1) ELSE b END," \
	"   CASE (k + 1) % 4 WHEN 2 THEN substr(rest, 1, instr(rest, x'00') - 1) ELSE r END," \
	"   substr(rest, 1, instr(rest, x'00') - 1)" \
	"  FROM f WHERE length(rest) > 0)" \
	" SELECT id, CAST(p AS TEXT), nullif(CAST(b AS TEXT), ''), nullif(CAST(r AS TEXT), '')," \
	"  nullif(CAST(c AS TEXT), '') FROM f WHERE k = 3"

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
	/* 4 -> 5: tool versions, so that a run whose results are all cached
	 * starts no process to ask a tool its version. A row is trusted
	 * while the executable keeps its identity (device, inode, size,
	 * mtime): an upgrade replaces or rewrites the file. */
	"CREATE TABLE tool_versions ("
	"  path       TEXT PRIMARY KEY,"
	"  dev        INTEGER NOT NULL,"
	"  ino        INTEGER NOT NULL,"
	"  size       INTEGER NOT NULL,"
	"  mtime_ns   INTEGER NOT NULL,"
	"  version    TEXT NOT NULL,"
	"  probed_at  INTEGER NOT NULL"
	") STRICT, WITHOUT ROWID;",
	/* 5 -> 6: the files of each unfinished run, so that a run a crash
	 * cut short is judged again by the next daemon. */
	"CREATE TABLE run_files ("
	"  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
	"  path   TEXT NOT NULL,"
	"  PRIMARY KEY (run_id, path)"
	") STRICT, WITHOUT ROWID;",
	/* 6 -> 7: results taken from a remote cache: which server, and how
	 * many of the gate's files it answered. */
	"ALTER TABLE gate_runs ADD COLUMN remote TEXT;"
	"ALTER TABLE gate_runs ADD COLUMN remote_hits INTEGER;",
	/* 7 -> 8: the rows of file_state that do not pass, in their own
	 * index. The foreground daemon summarises the gates after every run;
	 * scanning every row for that cost a run O(files ever judged): 20-40
	 * ms each at 50,000 rows, most of a 10,000-file burst's extra CPU once
	 * the ledger had judged half the tree. Passing rows (nearly all) never
	 * enter it, so it costs a write nothing but the test; it holds every
	 * column the summary's queries read, so they never visit the table. */
	"CREATE INDEX file_state_open ON file_state(gate, path, status, findings, gate_run_id,"
	"  updated_at) WHERE status <> 'pass';",
	/* 8 -> 9: a run's files a few kilobytes a row, their paths
	 * NUL-separated, rather than a row per file: each file of a burst
	 * cost a b-tree insert as its run began and a delete as it ended,
	 * 4-6% of the daemon's CPU over a series of 10,000-file bursts, for a
	 * list read back only after a crash. (One row a run held a 20,000-file
	 * batch's whole list in memory at once: 0.7 MiB of the daemon's peak.) */
	"CREATE TABLE run_files_v9 ("
	"  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
	"  part   INTEGER NOT NULL,"
	"  paths  BLOB NOT NULL,"
	"  PRIMARY KEY (run_id, part)"
	") STRICT;"
	"INSERT INTO run_files_v9 SELECT run_id, 0, CAST(group_concat(path, char(0)) AS BLOB)"
	"  FROM run_files GROUP BY run_id;"
	"DROP TABLE run_files;"
	"ALTER TABLE run_files_v9 RENAME TO run_files;",
	/* 9 -> 10: a gate run's files a few kilobytes a row (write.c, struct
	 * parts), each as four NUL-ended fields (path, blob, reason, cache
	 * key; empty for none), rather than a row per file. Of the three
	 * b-tree inserts a judged file cost (gate_files, file_state, cache),
	 * this was the one read only by `show`, and the largest statement of
	 * a 20,000-file burst. The view keeps the old table's shape for
	 * whoever queries the file by hand; show reads the parts. */
	"CREATE TABLE gate_file_parts ("
	"  gate_run_id INTEGER NOT NULL REFERENCES gate_runs(id) ON DELETE CASCADE,"
	"  part        INTEGER NOT NULL,"
	"  files       BLOB NOT NULL,"
	"  PRIMARY KEY (gate_run_id, part)"
	") STRICT;"
	"INSERT INTO gate_file_parts SELECT gate_run_id, 0, CAST(group_concat(path || char(0) ||"
	"  coalesce(blob, '') || char(0) || coalesce(reason, '') || char(0) ||"
	"  coalesce(cache_key, ''), char(0)) AS BLOB)"
	"  FROM (SELECT * FROM gate_files ORDER BY gate_run_id, path) GROUP BY gate_run_id;"
	"DROP TABLE gate_files;"
	GATE_FILES_VIEW ";",
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(*migrations)))
_Static_assert(sizeof(migrations) / sizeof(*migrations) == LEDGER_SCHEMA,
    "one migration per schema version");

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
		return ledger__fail(l, rc, "cannot read the header", err);
	return 0;
}

static int exec_sql(struct ledger *l, const char *sql, const char *what, struct wd_err *err)
{
	int rc = sqlite3_exec(l->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : ledger__fail(l, rc, what, err);
}

/* Per-connection settings: only journal_mode persists in the file. */
static int setup_connection(struct ledger *l, struct wd_err *err)
{
	int rc;

	sqlite3_extended_result_codes(l->db, 1);
	if ((rc = sqlite3_busy_timeout(l->db, LEDGER_BUSY_MS)) != SQLITE_OK)
		return ledger__fail(l, rc, "cannot set the busy timeout", err);
	if ((rc = exec_sql(l, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
	    " PRAGMA journal_size_limit=67108864; PRAGMA temp_store=MEMORY;"
	    /* the working set is a few pages per run. A big batch's
	     * transaction spills past the limit into the WAL instead of
	     * holding its pages: 256 KiB, not the default 2 MiB, bounds what
	     * a 20,000-file batch adds to the daemon's peak */
	    " PRAGMA cache_size=-256;"
	    " PRAGMA secure_delete=OFF;"
	    /* before the first temp table: a burst's stage (stage.c) gives
	     * its pages back once written out */
	    " PRAGMA temp.auto_vacuum=FULL;", "cannot set pragmas", err)))
		return rc;
	if (l->mode == LEDGER_READ)
		return exec_sql(l, "PRAGMA query_only=1", "cannot set pragmas", err);
	sqlite3_wal_hook(l->db, ledger__wal_hook, l);	/* replaces the auto-checkpoint */
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
	ledger__abort(l);
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
void ledger__test_hook(struct ledger *l, bool reread)
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

/* SQLite gives every connection's page cache a first block of 20 pages
 * (86 kB at our page size) whether it needs them or not: the daemon's two
 * connections use a few pages each between batches. Pages come one at a
 * time instead. Process-wide, so set once, before SQLite initialises. */
static void config_once(void)
{
	sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
}

void ledger__config(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, config_once);
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
	ledger__config();
	l = xcalloc(1, sizeof(*l));
	l->path = xstrdup(path);
	l->mode = mode;
	l->qtail = &l->qhead;
	flags = SQLITE_OPEN_NOMUTEX | (mode == LEDGER_READ ? SQLITE_OPEN_READONLY :
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	rc = sqlite3_open_v2(path, &l->db, flags, NULL);
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
	ledger__test_hook(l, false);
	*out = l;
	return 0;
fail:
	ledger_close(l);
	return rc;
}

void ledger_close(struct ledger *l)
{
	struct wd_err err = { 0 };

	if (l == NULL)
		return;
	if (l->qlen)
		log_warnx("ledger '%s': closing with %zu write(s) never recorded", l->path,
		    l->qlen);
	if (l->staged && ledger_flush(l, &err) != 0)
		log_warnx("%s (%zu staged result(s) lost; their files are judged again)", err.msg,
		    l->staged);
	ledger__stage_release(l);
	bloom_release(&l->kf);
	ledger__drop_queue(l);
	ledger__checkpoint_stop(l);
	for (int i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(l->st[i]);
	sqlite3_close(l->db);
	free(l->path);
	free(l);
}

int ledger_schema(const struct ledger *l)
{
	return l->schema;
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
		rc = ledger__fail(l, rc, "cannot run PRAGMA quick_check", &e);
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
