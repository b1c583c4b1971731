/* Ledger benchmark: write throughput of ledger_gate_record, with two bare
 * prepared-statement loops beside it for scale (plain figures: no target),
 * then query latency on a 100,000-run ledger, in-process and through the
 * CLI. Built and run by scripts/bench/ledger.sh, linked against the
 * project's objects in build/.
 *
 *   ledger_bench DIR WATCHD     (DIR: an empty scratch directory)
 *
 * Prints one "name value unit target" line per figure on stdout. */
#include <errno.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "daemon/ledger/ledger.h"

#define GATE_RUNS	10000
#define FINDINGS_PER	10
#define GATES_PER_RUN	10
#define TOTAL_RUNS	100000
#define QUERY_REPS	20
#define CLI_REPS	10

extern char **environ;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "ledger_bench: %s: %s\n", what, msg);
	exit(1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/* ---- the three writers ------------------------------------------------------
 *
 * Each records gate runs first..last-1 when asked; main asks them in turns,
 * a slice at a time, so that a burst of load on this shared machine falls
 * on all three alike instead of on whichever ran during it. */

struct writer {
	const char	*name;
	void		(*open)(struct writer *w, const char *path);
	void		(*write)(struct writer *w, int i);	/* gate run i, one transaction */
	void		(*close)(struct writer *w);
	double		 secs;
	struct ledger	*l;
	sqlite3		*db;
	sqlite3_stmt	*st[8];
	char		 run_ids[GATE_RUNS / GATES_PER_RUN][ULID_LEN + 1];
};

#define T0 1764000000000LL

static void exec(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		die(sql, sqlite3_errmsg(db));
}

static void step_reset(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		die(what, sqlite3_errmsg(db));
	sqlite3_reset(st);
}

/* through ledger_gate_record */

static void ledger_w_open(struct writer *w, const char *path)
{
	struct wd_err err = { 0, "" };

	if (ledger_open(path, LEDGER_WRITE, &w->l, &err) != 0)
		die("open", err.msg);
	for (int r = 0; r < GATE_RUNS / GATES_PER_RUN; r++) {
		struct ledger_run lr = { .trigger = "watch", .config_hash = "cfg",
			.started_ms = T0 + r };

		ulid_at(w->run_ids[r], (uint64_t)(T0 + r));
		memcpy(lr.id, w->run_ids[r], sizeof(lr.id));
		if (ledger_run_begin(w->l, &lr, &err) != 0)
			die("run_begin", err.msg);
	}
}

static void ledger_w_write(struct writer *w, int i)
{
	struct wd_err err = { 0, "" };
	char path_s[32], gate[16], key[48];
	struct findings fs = { NULL, 0, 0 };
	struct ledger_file f;
	struct ledger_gate_run g;

	snprintf(path_s, sizeof(path_s), "src/m%d.py", i / GATES_PER_RUN);
	snprintf(gate, sizeof(gate), "gate%d", i % GATES_PER_RUN);
	snprintf(key, sizeof(key), "%040d", i);
	for (int k = 0; k < FINDINGS_PER; k++) {
		struct finding fd = { .path = path_s, .line = k + 1, .col = 1,
			.code = "F401", .severity = "error",
			.message = "'os' imported but unused" };

		findings_add(&fs, &fd);
	}
	f = (struct ledger_file){ .path = path_s, .blob = key, .cache_key = key,
		.cache_status = GATE_FAIL, .reason = "changed", .has_status = true,
		.status = GATE_FAIL };
	g = (struct ledger_gate_run){ .run_id = w->run_ids[i / GATES_PER_RUN], .gate = gate,
		.fingerprint = "fp", .status = GATE_FAIL, .exit_code = 1,
		.started_ms = T0 + i, .duration_ms = 40, .files = &f, .nfiles = 1,
		.findings = &fs, .tests_total = -1, .tests_passed = -1,
		.tests_failed = -1, .tests_skipped = -1 };
	if (ledger_gate_record(w->l, &g, &err) != 0)
		die("gate_record", err.msg);
	findings_release(&fs);
}

static void ledger_w_close(struct writer *w)
{
	struct wd_err err = { 0, "" };

	for (int r = 0; r < GATE_RUNS / GATES_PER_RUN; r++)
		if (ledger_run_finish(w->l, w->run_ids[r], "fail", T0 + r + 500, &err) != 0)
			die("run_finish", err.msg);
	ledger_close(w->l);
}

/* the same findings through one bare prepared statement: one table, one
 * index, one transaction per gate run, the ledger's pragmas */

enum { B_INS, B_BEGIN, B_COMMIT };

static void bare_open(struct writer *w, const char *path)
{
	sqlite3 *db;

	if (sqlite3_open(path, &w->db) != SQLITE_OK)
		die("open", path);
	db = w->db;
	sqlite3_busy_timeout(db, 5000);
	exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
	    " PRAGMA journal_size_limit=67108864; PRAGMA temp_store=MEMORY;"
	    " PRAGMA secure_delete=OFF;");
	exec(db, "CREATE TABLE findings (id INTEGER PRIMARY KEY, gate_run_id INTEGER NOT NULL,"
	    " path TEXT, line INTEGER NOT NULL DEFAULT 0, col INTEGER NOT NULL DEFAULT 0,"
	    " end_line INTEGER NOT NULL DEFAULT 0, end_col INTEGER NOT NULL DEFAULT 0,"
	    " code TEXT, severity TEXT NOT NULL, message TEXT NOT NULL, url TEXT,"
	    " fixable INTEGER NOT NULL DEFAULT 0) STRICT;"
	    "CREATE INDEX findings_gate_run ON findings(gate_run_id, path);");
	sqlite3_prepare_v3(db, "INSERT INTO findings (gate_run_id, path, line, col, end_line,"
	    " end_col, code, severity, message, url, fixable) VALUES"
	    " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)", -1, SQLITE_PREPARE_PERSISTENT,
	    &w->st[B_INS], NULL);
	sqlite3_prepare_v3(db, "BEGIN IMMEDIATE", -1, SQLITE_PREPARE_PERSISTENT,
	    &w->st[B_BEGIN], NULL);
	sqlite3_prepare_v3(db, "COMMIT", -1, SQLITE_PREPARE_PERSISTENT, &w->st[B_COMMIT], NULL);
}

static void bare_write(struct writer *w, int i)
{
	sqlite3_stmt *ins = w->st[B_INS];
	char path_s[32];

	snprintf(path_s, sizeof(path_s), "src/m%d.py", i / GATES_PER_RUN);
	step_reset(w->db, w->st[B_BEGIN], "begin");
	for (int k = 0; k < FINDINGS_PER; k++) {
		sqlite3_bind_int(ins, 1, i + 1);
		sqlite3_bind_text(ins, 2, path_s, -1, SQLITE_STATIC);
		sqlite3_bind_int(ins, 3, k + 1);
		sqlite3_bind_int(ins, 4, 1);
		sqlite3_bind_int(ins, 5, 0);
		sqlite3_bind_int(ins, 6, 0);
		sqlite3_bind_text(ins, 7, "F401", -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 8, "error", -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 9, "'os' imported but unused", -1, SQLITE_STATIC);
		sqlite3_bind_null(ins, 10);
		sqlite3_bind_int(ins, 11, 0);
		step_reset(w->db, ins, "insert");
	}
	step_reset(w->db, w->st[B_COMMIT], "commit");
}

static void bare_close(struct writer *w)
{
	for (size_t i = 0; i < sizeof(w->st) / sizeof(*w->st); i++)
		sqlite3_finalize(w->st[i]);
	sqlite3_close(w->db);
}

/* What ledger_gate_record writes (gate run, file, findings, file state,
 * cache row) into the ledger's schema, by hand with bare prepared
 * statements and SQLite's own checkpoints: the cost of the rows
 * themselves, so the ratio to it is the ledger's own overhead. */

enum { S_GATE, S_FILE, S_FND, S_STATE, S_CACHE, S_BEGIN, S_COMMIT };

static void same_open(struct writer *w, const char *path)
{
	struct wd_err err = { 0, "" };
	struct ledger *l;
	sqlite3 *db;

	if (ledger_open(path, LEDGER_WRITE, &l, &err) != 0)	/* the schema */
		die("open", err.msg);
	ledger_close(l);
	if (sqlite3_open(path, &w->db) != SQLITE_OK)
		die("open", path);
	db = w->db;
	sqlite3_busy_timeout(db, 5000);
	exec(db, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
	    " PRAGMA journal_size_limit=67108864; PRAGMA temp_store=MEMORY;"
	    " PRAGMA secure_delete=OFF; PRAGMA cache_size=-1024;");
	exec(db, "BEGIN");
	for (int r = 0; r < GATE_RUNS / GATES_PER_RUN; r++) {
		char sql[256];

		ulid_at(w->run_ids[r], (uint64_t)(T0 + r));
		snprintf(sql, sizeof(sql), "INSERT INTO runs (id, trigger, status, started_at,"
		    " config_hash) VALUES ('%s', 'watch', 'running', %lld, 'cfg')", w->run_ids[r],
		    (long long)(T0 + r));
		exec(db, sql);
	}
	exec(db, "COMMIT");
#define PREP(i, sql) sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &w->st[i], NULL)
	PREP(S_GATE, "INSERT INTO gate_runs (run_id, gate, fingerprint, status, cached, exit_code,"
	    " started_at, duration_ms) VALUES (?1, ?2, 'fp', 'fail', 0, 1, ?3, 40)");
	PREP(S_FILE, "INSERT INTO gate_files (gate_run_id, path, blob, reason, cache_key)"
	    " VALUES (?1, ?2, ?3, 'changed', ?3)");
	PREP(S_FND, "INSERT INTO findings (gate_run_id, path, seq, line, col, end_line, end_col,"
	    " code, severity, message, url, fixable) VALUES (?1, ?2, ?3, ?3, 1, 0, 0, 'F401',"
	    " 'error', 'os imported but unused', NULL, 0)");
	PREP(S_STATE, "INSERT INTO file_state (gate, path, status, findings, gate_run_id,"
	    " updated_at) VALUES (?1, ?2, 'fail', 10, ?3, ?4) ON CONFLICT (gate, path) DO UPDATE"
	    " SET status = excluded.status, findings = excluded.findings,"
	    " gate_run_id = excluded.gate_run_id, updated_at = excluded.updated_at");
	PREP(S_CACHE, "INSERT OR REPLACE INTO cache (gate, fingerprint, path, cache_key, status,"
	    " gate_run_id, run_id, created_at) VALUES (?1, 'fp', ?2, ?3, 'fail', ?4, ?5, ?6)");
	PREP(S_BEGIN, "BEGIN IMMEDIATE");
	PREP(S_COMMIT, "COMMIT");
#undef PREP
}

static void same_write(struct writer *w, int i)
{
	sqlite3 *db = w->db;
	sqlite3_stmt **st = w->st;
	const char *run_id = w->run_ids[i / GATES_PER_RUN];
	char path_s[32], gname[16], key[48];
	sqlite3_int64 grid;

	snprintf(path_s, sizeof(path_s), "src/m%d.py", i / GATES_PER_RUN);
	snprintf(gname, sizeof(gname), "gate%d", i % GATES_PER_RUN);
	snprintf(key, sizeof(key), "%040d", i);
	step_reset(db, st[S_BEGIN], "begin");
	sqlite3_bind_text(st[S_GATE], 1, run_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st[S_GATE], 2, gname, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st[S_GATE], 3, T0 + i);
	step_reset(db, st[S_GATE], "gate");
	grid = sqlite3_last_insert_rowid(db);
	sqlite3_bind_int64(st[S_FILE], 1, grid);
	sqlite3_bind_text(st[S_FILE], 2, path_s, -1, SQLITE_STATIC);
	sqlite3_bind_text(st[S_FILE], 3, key, -1, SQLITE_STATIC);
	step_reset(db, st[S_FILE], "file");
	for (int k = 0; k < FINDINGS_PER; k++) {
		sqlite3_bind_int64(st[S_FND], 1, grid);
		sqlite3_bind_text(st[S_FND], 2, path_s, -1, SQLITE_STATIC);
		sqlite3_bind_int(st[S_FND], 3, k + 1);
		step_reset(db, st[S_FND], "finding");
	}
	sqlite3_bind_text(st[S_STATE], 1, gname, -1, SQLITE_STATIC);
	sqlite3_bind_text(st[S_STATE], 2, path_s, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st[S_STATE], 3, grid);
	sqlite3_bind_int64(st[S_STATE], 4, T0 + i + 40);
	step_reset(db, st[S_STATE], "state");
	sqlite3_bind_text(st[S_CACHE], 1, gname, -1, SQLITE_STATIC);
	sqlite3_bind_text(st[S_CACHE], 2, path_s, -1, SQLITE_STATIC);
	sqlite3_bind_text(st[S_CACHE], 3, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st[S_CACHE], 4, grid);
	sqlite3_bind_text(st[S_CACHE], 5, run_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st[S_CACHE], 6, T0 + i + 40);
	step_reset(db, st[S_CACHE], "cache");
	step_reset(db, st[S_COMMIT], "commit");
}

/* The three side by side: SLICES turns, each writer's slice timed alone,
 * the order rotated every turn. */
#define SLICES 20

static void bench_writes(struct writer *ws, const char *const *paths, int n)
{
	for (int k = 0; k < n; k++)
		ws[k].open(&ws[k], paths[k]);
	for (int s = 0; s < SLICES; s++) {
		int first = s * GATE_RUNS / SLICES, last = (s + 1) * GATE_RUNS / SLICES;

		for (int j = 0; j < n; j++) {
			struct writer *w = &ws[(s + j) % n];
			double start = now_s();

			for (int i = first; i < last; i++)
				w->write(w, i);
			w->secs += now_s() - start;
		}
	}
	for (int k = 0; k < n; k++)
		ws[k].close(&ws[k]);
}

/* ---- filler: grow to TOTAL_RUNS runs with direct SQL ---------------------- */

static void grow(const char *path, int have)
{
	sqlite3 *db;
	sqlite3_stmt *run, *gate, *file, *fnd;
	int64_t t0 = 1764100000000;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		die("open", path);
	exec(db, "PRAGMA synchronous=NORMAL; BEGIN IMMEDIATE");
	sqlite3_prepare_v2(db, "INSERT INTO runs (id, trigger, status, started_at, finished_at,"
	    " config_hash) VALUES (?1, 'watch', ?2, ?3, ?3 + 120, 'cfg')", -1, &run, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO gate_runs (run_id, gate, fingerprint, status,"
	    " exit_code, started_at, duration_ms) VALUES (?1, 'ruff', 'fp', ?2, ?3, ?4, 100)",
	    -1, &gate, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO gate_files (gate_run_id, path, blob, reason, cache_key)"
	    " VALUES (?1, ?2, 'b10b', 'changed', 'b10b')", -1, &file, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO findings (gate_run_id, path, seq, line, code,"
	    " severity, message) VALUES (?1, ?2, 0, 3, 'E501', 'error', 'line too long')", -1,
	    &fnd, NULL);
	for (int i = have; i < TOTAL_RUNS; i++) {
		char id[ULID_LEN + 1], p[32];
		int64_t ms = t0 + (int64_t)i * 1000;
		int fail = i % 7 == 0;
		sqlite3_int64 grid;

		ulid_at(id, (uint64_t)ms);
		snprintf(p, sizeof(p), "pkg/mod%d.py", i % 500);
		sqlite3_bind_text(run, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(run, 2, fail ? "fail" : "pass", -1, SQLITE_STATIC);
		sqlite3_bind_int64(run, 3, ms);
		if (sqlite3_step(run) != SQLITE_DONE)
			die("filler run", sqlite3_errmsg(db));
		sqlite3_reset(run);
		sqlite3_bind_text(gate, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(gate, 2, fail ? "fail" : "pass", -1, SQLITE_STATIC);
		sqlite3_bind_int(gate, 3, fail);
		sqlite3_bind_int64(gate, 4, ms + 10);
		if (sqlite3_step(gate) != SQLITE_DONE)
			die("filler gate", sqlite3_errmsg(db));
		sqlite3_reset(gate);
		grid = sqlite3_last_insert_rowid(db);
		sqlite3_bind_int64(file, 1, grid);
		sqlite3_bind_text(file, 2, p, -1, SQLITE_TRANSIENT);
		sqlite3_step(file);
		sqlite3_reset(file);
		if (fail) {
			sqlite3_bind_int64(fnd, 1, grid);
			sqlite3_bind_text(fnd, 2, p, -1, SQLITE_TRANSIENT);
			sqlite3_step(fnd);
			sqlite3_reset(fnd);
		}
	}
	sqlite3_finalize(run);
	sqlite3_finalize(gate);
	sqlite3_finalize(file);
	sqlite3_finalize(fnd);
	exec(db, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE)");
	sqlite3_close(db);
}

/* ---- queries ---------------------------------------------------------------- */

enum query { Q_LOG, Q_SHOW, Q_SUMMARY };

static double time_query(const char *path, enum query q, const char *id,
    const char *gate, const char *status)
{
	struct ledger *l;
	struct wd_err err = { 0, "" };
	double v[QUERY_REPS];

	if (ledger_open(path, LEDGER_READ, &l, &err) != 0)
		die("open", err.msg);
	for (int i = 0; i < QUERY_REPS; i++) {
		struct ledger_log_query lq = { .limit = 20, .gate = gate, .status = status };
		cJSON *out = NULL;
		double t = now_s();
		int rc = q == Q_LOG ? ledger_log(l, &lq, &out, &err) :
		    q == Q_SHOW ? ledger_show(l, id, &out, &err) :
		    ledger_gate_summary(l, &out, &err);

		v[i] = (now_s() - t) * 1000;
		if (rc != 0)
			die("query", err.msg);
		cJSON_Delete(out);
	}
	ledger_close(l);
	return median(v, QUERY_REPS);
}

/* Retention on the whole ledger: keep the newest `keep` runs (and every
 * run that holds a file's current judgement). The daemon runs this at
 * start and hourly, on its loop. */
static double time_gc(const char *path, int keep)
{
	struct ledger *l;
	struct wd_err err = { 0, "" };
	int deleted = 0;
	double t;

	if (ledger_open(path, LEDGER_WRITE, &l, &err) != 0)
		die("open", err.msg);
	t = now_s();
	if (ledger_gc(l, 0, keep, &deleted, &err) != 0)
		die("gc", err.msg);
	t = now_s() - t;
	if (deleted < TOTAL_RUNS / 2)
		die("gc", "deleted too few runs");
	ledger_close(l);
	return t * 1000;
}

/* Wall time of `watchd --root ROOT args...` with stdout to /dev/null. */
static double time_cli(const char *watchd, const char *root, const char *a1, const char *a2,
    const char *a3)
{
	double v[CLI_REPS];
	posix_spawn_file_actions_t fa;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 01 /* O_WRONLY */, 0);
	for (int i = 0; i < CLI_REPS; i++) {
		char *argv[] = { (char *)watchd, "--root", (char *)root, (char *)a1, (char *)a2,
			(char *)a3, NULL };
		double t = now_s();
		pid_t pid;
		int st;

		if (posix_spawn(&pid, watchd, &fa, NULL, argv, environ) != 0)
			die("spawn", watchd);
		waitpid(pid, &st, 0);
		v[i] = (now_s() - t) * 1000;
		if (!WIFEXITED(st) || (WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 3))
			die("cli", a1);
	}
	posix_spawn_file_actions_destroy(&fa);
	return median(v, CLI_REPS);
}

int main(int argc, char **argv)
{
	char root[512], state[600], db[700], bare[700], same[700], cfg[700];
	char id[ULID_LEN + 1], prefix[11];
	double lw, bw, sw;
	FILE *fp;

	if (argc != 3) {
		fprintf(stderr, "usage: ledger_bench DIR WATCHD\n");
		return 2;
	}
	snprintf(root, sizeof(root), "%s", argv[1]);
	snprintf(state, sizeof(state), "%s/.watchd", root);
	snprintf(db, sizeof(db), "%s/ledger.db", state);
	snprintf(bare, sizeof(bare), "%s/bare.db", root);
	snprintf(same, sizeof(same), "%s/same.db", root);
	snprintf(cfg, sizeof(cfg), "%s/watch.config.json", root);
	mkdir(state, 0700);
	if ((fp = fopen(cfg, "w")) == NULL)
		die("config", strerror(errno));
	fputs("{\"version\": 1, \"gates\": []}\n", fp);
	fclose(fp);

	{
		static struct writer ws[3] = {
			{ .name = "ledger", .open = ledger_w_open, .write = ledger_w_write,
			  .close = ledger_w_close },
			{ .name = "bare", .open = bare_open, .write = bare_write,
			  .close = bare_close },
			{ .name = "same", .open = same_open, .write = same_write,
			  .close = bare_close },
		};
		const char *paths[3] = { db, bare, same };

		bench_writes(ws, paths, 3);
		lw = ws[0].secs;
		bw = ws[1].secs;
		sw = ws[2].secs;
	}
	printf("write_ledger_gate_record %.0f findings/s\n", GATE_RUNS * FINDINGS_PER / lw);
	printf("write_bare_insert_loop %.0f findings/s\n", GATE_RUNS * FINDINGS_PER / bw);
	printf("write_ratio %.2f x -\n", lw / bw);
	printf("write_bare_same_rows %.0f findings/s\n", GATE_RUNS * FINDINGS_PER / sw);
	printf("write_ratio_same_rows %.2f x -\n", lw / sw);
	fflush(stdout);

	grow(db, GATE_RUNS / GATES_PER_RUN);
	/* a run from the middle of the history, by its 10-character time prefix */
	ulid_at(id, (uint64_t)(1764100000000 + (int64_t)(TOTAL_RUNS / 2) * 1000));
	snprintf(prefix, sizeof(prefix), "%.10s", id);
	printf("q_ledger_log_limit20 %.2f ms <50\n", time_query(db, Q_LOG, NULL, NULL, NULL));
	/* filters whose matches are few or old, so an unindexed walk would
	 * visit every run: gate3 ran only in the first 1% of the history */
	printf("q_ledger_log_gate_old %.2f ms <50\n", time_query(db, Q_LOG, NULL, "gate3", NULL));
	printf("q_ledger_log_gate_none %.2f ms <50\n",
	    time_query(db, Q_LOG, NULL, "nosuch", NULL));
	printf("q_ledger_log_status_none %.2f ms <50\n",
	    time_query(db, Q_LOG, NULL, NULL, "interrupted"));
	printf("q_ledger_log_gate_status %.2f ms <50\n",
	    time_query(db, Q_LOG, NULL, "gate3", "fail"));
	printf("q_ledger_show_prefix %.2f ms <50\n", time_query(db, Q_SHOW, prefix, NULL, NULL));
	printf("q_ledger_gate_summary %.2f ms <50\n",
	    time_query(db, Q_SUMMARY, NULL, NULL, NULL));
	printf("cli_log_json %.2f ms <50\n", time_cli(argv[2], root, "log", "--json", NULL));
	printf("cli_log_gate_json %.2f ms <50\n", time_cli(argv[2], root, "log", "--gate",
	    "gate3"));
	printf("cli_show_json %.2f ms <50\n", time_cli(argv[2], root, "show", prefix, "--json"));
	printf("cli_status_json %.2f ms <50\n", time_cli(argv[2], root, "status", "--json", NULL));
	printf("gc_keep_1000_runs %.0f ms -\n", time_gc(db, 1000));
	return 0;
}
