/* The SQLite ledger against real files in a temporary directory: schema
 * header, records read back as JSON, prefix lookup, cache, per-file state,
 * retention, disk-full handling, time parsing and query plans. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "daemon/ledger/ledger.h"
#include "lib/buf.h"
#include "lib/xmalloc.h"
#include "test.h"

/* ---- fixtures ---------------------------------------------------------- */

struct tmp {
	char	dir[256];
	char	db[300];
};

static void tmp_init(struct tmp *t)
{
	char *tmpl = test_tmpl("watchd-ledger");

	snprintf(t->dir, sizeof(t->dir), "%s", tmpl);
	free(tmpl);
	ASSERT_NOT_NULL(mkdtemp(t->dir));
	snprintf(t->db, sizeof(t->db), "%s/ledger.db", t->dir);
}

static void tmp_release(struct tmp *t)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char p[320];

	for (size_t i = 0; i < sizeof(sfx) / sizeof(*sfx); i++) {
		snprintf(p, sizeof(p), "%s%s", t->db, sfx[i]);
		unlink(p);
	}
	rmdir(t->dir);
}

static struct ledger *open_w(const struct tmp *t)
{
	struct ledger *l = NULL;
	struct wd_err err = { 0, "" };
	int rc = ledger_open(t->db, LEDGER_WRITE, &l, &err);

	if (rc != 0)
		FAIL_("ledger_open: %d %s", rc, err.msg);
	return l;
}

/* Every connection the process opens, captured by an auto extension so a
 * test can reach the ledger's own connection (max_page_count is per
 * connection). */
static sqlite3 *last_db;

static int capture_db(sqlite3 *db, char **errmsg, const void *api)
{
	(void)errmsg;
	(void)api;
	last_db = db;
	return SQLITE_OK;
}

static int raw_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	int v;

	ASSERT_EQ(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ASSERT_EQ(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db;

	ASSERT_EQ(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		FAIL_("%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
}

static void begin_run(struct ledger *l, char id[ULID_LEN + 1], int64_t ms, const char *trigger)
{
	struct ledger_run r = { .trigger = trigger, .git_head = NULL, .config_hash = "cfg1",
		.started_ms = ms };

	ulid_at(id, (uint64_t)ms);
	memcpy(r.id, id, ULID_LEN + 1);
	ASSERT_OK(ledger_run_begin(l, &r, NULL));
}

static void add_finding(struct findings *fs, const char *path, int line, const char *code)
{
	struct finding f = { .path = (char *)path, .line = line, .col = 8, .end_line = line,
		.end_col = 12, .code = (char *)code, .severity = "error",
		.message = "unused import", .url = NULL, .fixable = true };

	findings_add(fs, &f);
}

/* Records gate `gate` over paths with the given status; files in
 * `failing` (NULL-terminated) get one finding each. */
static void record(struct ledger *l, const char *run_id, const char *gate,
    enum gate_status st, const char *const *paths, const char *const *failing,
    const char *cache_key)
{
	struct ledger_file files[8];
	struct findings fs = { NULL, 0, 0 };
	struct ledger_gate_run g = {
		.run_id = run_id, .gate = gate, .fingerprint = "fp1", .status = st,
		.exit_code = st == GATE_FAIL ? 1 : 0, .started_ms = ulid_time(run_id) + 100,
		.duration_ms = 41,
		.files = files, .findings = &fs, .tests_total = -1, .tests_passed = -1,
		.tests_failed = -1, .tests_skipped = -1,
	};
	struct wd_err err = { 0, "" };

	for (size_t i = 0; paths[i]; i++, g.nfiles++) {
		bool fails = false;

		for (size_t j = 0; failing && failing[j]; j++)
			fails |= strcmp(failing[j], paths[i]) == 0;
		files[i] = (struct ledger_file){ .path = paths[i], .blob = "b10b",
			.cache_key = cache_key,
			.cache_status = cache_key == NULL ? -1 : fails ? GATE_FAIL : GATE_PASS,
			.reason = NULL };
		if (fails)
			add_finding(&fs, paths[i], 1, "F401");
	}
	if (ledger_gate_record(l, &g, &err) != 0)
		FAIL_("gate_record: %s", err.msg);
	findings_release(&fs);
}

static const cJSON *get(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (v == NULL)
		FAIL_("no key \"%s\"", key);
	return v;
}

static const char *get_str(const cJSON *o, const char *key)
{
	const cJSON *v = get(o, key);

	if (!cJSON_IsString(v))
		FAIL_("\"%s\" is not a string", key);
	return v->valuestring;
}

static double get_num(const cJSON *o, const char *key)
{
	const cJSON *v = get(o, key);

	if (!cJSON_IsNumber(v))
		FAIL_("\"%s\" is not a number", key);
	return v->valuedouble;
}

/* ---- tests ------------------------------------------------------------- */

TEST_IMPL(ledger_open_create)
{
	struct tmp t;
	struct ledger *l = NULL;
	struct wd_err err = { 0, "" };
	struct stat st;

	tmp_init(&t);
	/* READ on a missing file: -ENOENT, and nothing is created */
	ASSERT_EQ(ledger_open(t.db, LEDGER_READ, &l, &err), -ENOENT);
	ASSERT_NULL(l);
	ASSERT_CONTAINS(err.msg, t.db);
	ASSERT(stat(t.db, &st) < 0 && errno == ENOENT);

	l = open_w(&t);
	ledger_close(l);
	ASSERT_EQ(raw_int(t.db, "PRAGMA application_id"), 0x57544344);
	ASSERT_EQ(raw_int(t.db, "PRAGMA user_version"), 10);
	/* the migrations' rebuilt tables left no free pages behind */
	ASSERT_EQ(raw_int(t.db, "PRAGMA freelist_count"), 0);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM pragma_journal_mode"
	    " WHERE journal_mode = 'wal'"), 1);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
	    " AND name IN ('runs', 'gate_runs', 'gate_file_parts', 'findings', 'file_state',"
	    " 'cache', 'tool_versions') AND sql LIKE '%STRICT%'"), 7);

	/* reopening migrates nothing and keeps the header */
	l = open_w(&t);
	ledger_close(l);
	ASSERT_EQ(raw_int(t.db, "PRAGMA user_version"), 10);

	ASSERT_OK(ledger_open(t.db, LEDGER_READ, &l, &err));
	{
		/* READ connections refuse writes */
		char id[ULID_LEN + 1];
		struct ledger_run r = { .trigger = "run", .started_ms = 5 };

		ulid_at(id, 5);
		memcpy(r.id, id, sizeof(id));
		ASSERT_EQ(ledger_run_begin(l, &r, &err), WD_ELEDGER);
		ASSERT_CONTAINS(err.msg, t.db);
	}
	ledger_close(l);
	ledger_close(NULL);
	tmp_release(&t);
	return 0;
}

TEST_IMPL(ledger_header_refused)
{
	struct tmp t;
	struct ledger *l = NULL;
	struct wd_err err = { 0, "" };

	tmp_init(&t);
	ledger_close(open_w(&t));
	raw_exec(t.db, "PRAGMA user_version = 11");
	ASSERT_EQ(ledger_open(t.db, LEDGER_WRITE, &l, &err), WD_ELEDGER_NEWER);
	ASSERT_NULL(l);
	ASSERT_CONTAINS(err.msg, t.db);
	ASSERT_CONTAINS(err.msg, "version 11");
	ASSERT_CONTAINS(err.msg, "watchd's 10");
	ASSERT_EQ(ledger_open(t.db, LEDGER_READ, &l, &err), WD_ELEDGER_NEWER);
	ASSERT_EQ(raw_int(t.db, "PRAGMA user_version"), 11);	/* untouched */
	tmp_release(&t);

	/* somebody else's SQLite file */
	tmp_init(&t);
	raw_exec(t.db, "CREATE TABLE notes (x TEXT)");
	ASSERT_EQ(ledger_open(t.db, LEDGER_WRITE, &l, &err), WD_ELEDGER);
	ASSERT_CONTAINS(err.msg, "not a watchd ledger");
	ASSERT_EQ(ledger_open(t.db, LEDGER_READ, &l, &err), WD_ELEDGER);
	raw_exec(t.db, "PRAGMA application_id = 1234");
	ASSERT_EQ(ledger_open(t.db, LEDGER_WRITE, &l, &err), WD_ELEDGER);
	ASSERT_CONTAINS(err.msg, "1234");
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM sqlite_schema"), 1);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM pragma_journal_mode"
	    " WHERE journal_mode = 'delete'"), 1);		/* not switched to WAL */
	tmp_release(&t);

	/* not SQLite at all */
	tmp_init(&t);
	{
		FILE *fp = fopen(t.db, "w");

		ASSERT_NOT_NULL(fp);
		for (int i = 0; i < 200; i++)
			fputs("this is not a database\n", fp);
		fclose(fp);
	}
	ASSERT_EQ(ledger_open(t.db, LEDGER_READ, &l, &err), WD_ELEDGER);
	ASSERT_CONTAINS(err.msg, t.db);
	ASSERT_EQ(ledger_open(t.db, LEDGER_WRITE, &l, &err), WD_ELEDGER);
	ASSERT_CONTAINS(err.msg, "not a database");
	ASSERT_NULL(l);
	tmp_release(&t);

	/* an empty file (being created right now) reads as no ledger yet */
	tmp_init(&t);
	fclose(fopen(t.db, "w"));
	ASSERT_EQ(ledger_open(t.db, LEDGER_READ, &l, &err), -ENOENT);
	tmp_release(&t);
	return 0;
}

TEST_IMPL(ledger_record_show)
{
	static const char *const paths[] = { "src/a.py", "src/b.py", NULL };
	struct tmp t;
	struct ledger *l;
	struct wd_err err = { 0, "" };
	char id[ULID_LEN + 1];
	struct findings fs = { NULL, 0, 0 };
	struct ledger_file files[2] = {
		{ .path = "src/a.py", .blob = "aaaa", .cache_key = "k-a", .cache_status = GATE_FAIL,
		  .reason = "changed" },
		{ .path = "src/b.py", .blob = "bbbb", .cache_key = "k-b", .cache_status = GATE_PASS },
	};
	struct ledger_gate_run g = {
		.gate = "ruff", .fingerprint = "fp1", .status = GATE_FAIL, .exit_code = 1,
		.started_ms = 1764000000100, .duration_ms = 41, .files = files, .nfiles = 2,
		.findings = &fs, .message = "1 finding", .output = "src/a.py:1:8: F401",
		.tests_total = -1, .tests_passed = -1, .tests_failed = -1, .tests_skipped = -1,
	};
	struct ledger_gate_run tg = {
		.gate = "pytest", .fingerprint = "fp9", .status = GATE_ERROR, .exit_code = -1,
		.cached = true, .cached_from = "01ARYZ6S41TSV4RRFFQ69G5FAV",
		.started_ms = 1764000000200, .duration_ms = 7, .files = NULL, .nfiles = 0,
		.tests_total = 4, .tests_passed = 2, .tests_failed = 1, .tests_skipped = 1,
	};
	cJSON *run, *arr;
	const cJSON *gates, *g0, *g1, *f0, *tests;
	struct ledger_log_query q = { 0 };

	tmp_init(&t);
	l = open_w(&t);
	begin_run(l, id, 1764000000000, "watch");
	g.run_id = tg.run_id = id;
	add_finding(&fs, "src/a.py", 1, "F401");
	fs.v[0].url = NULL;
	ASSERT_OK(ledger_gate_record(l, &g, &err));
	ASSERT_OK(ledger_gate_record(l, &tg, &err));

	/* still running: finished_at null */
	ASSERT_OK(ledger_show(l, id, &run, &err));
	ASSERT_STR_EQ(get_str(run, "status"), "running");
	ASSERT(cJSON_IsNull(get(run, "finished_at")));
	cJSON_Delete(run);
	ASSERT_OK(ledger_last_run(l, &run, &err));
	ASSERT(cJSON_IsNull(run));
	cJSON_Delete(run);

	ASSERT_OK(ledger_run_finish(l, id, "fail", 1764000001500, &err));
	ASSERT_EQ(ledger_run_finish(l, "01ARYZ6S41TSV4RRFFQ69G5FAV", "fail", 1, &err),
	    WD_ENOTFOUND);
	ASSERT_EQ(ledger_run_finish(l, id, "bogus", 1, &err), WD_ELEDGER);

	ASSERT_OK(ledger_show(l, id, &run, &err));
	ASSERT_STR_EQ(get_str(run, "id"), id);
	ASSERT_STR_EQ(get_str(run, "trigger"), "watch");
	ASSERT_STR_EQ(get_str(run, "status"), "fail");
	ASSERT_STR_EQ(get_str(run, "started_at"), "2025-11-24T16:00:00.000Z");
	ASSERT_STR_EQ(get_str(run, "finished_at"), "2025-11-24T16:00:01.500Z");
	ASSERT_EQ(get_num(run, "duration_ms"), 1500);
	ASSERT(cJSON_IsNull(get(run, "git_head")));
	ASSERT_STR_EQ(get_str(run, "config_hash"), "cfg1");
	gates = get(run, "gates");
	ASSERT_EQ(cJSON_GetArraySize(gates), 2);
	g0 = cJSON_GetArrayItem(gates, 0);
	ASSERT_STR_EQ(get_str(g0, "name"), "ruff");
	ASSERT_STR_EQ(get_str(g0, "status"), "fail");
	ASSERT(cJSON_IsFalse(get(g0, "cached")));
	ASSERT_EQ(get_num(g0, "exit_code"), 1);
	ASSERT_EQ(get_num(g0, "duration_ms"), 41);
	ASSERT_STR_EQ(get_str(g0, "message"), "1 finding");
	ASSERT_STR_EQ(get_str(g0, "output"), "src/a.py:1:8: F401");
	ASSERT_NULL(cJSON_GetObjectItemCaseSensitive(g0, "tests"));
	ASSERT_NULL(cJSON_GetObjectItemCaseSensitive(g0, "cached_from"));
	ASSERT_EQ(cJSON_GetArraySize(get(g0, "files")), 2);
	ASSERT_STR_EQ(cJSON_GetArrayItem(get(g0, "files"), 0)->valuestring, "src/a.py");
	ASSERT_STR_EQ(get_str(get(g0, "reasons"), "src/a.py"), "changed");
	ASSERT_NULL(cJSON_GetObjectItemCaseSensitive(get(g0, "reasons"), "src/b.py"));
	ASSERT_EQ(cJSON_GetArraySize(get(g0, "findings")), 1);
	f0 = cJSON_GetArrayItem(get(g0, "findings"), 0);
	ASSERT_STR_EQ(get_str(f0, "path"), "src/a.py");
	ASSERT_EQ(get_num(f0, "line"), 1);
	ASSERT_EQ(get_num(f0, "col"), 8);
	ASSERT_EQ(get_num(f0, "end_line"), 1);
	ASSERT_EQ(get_num(f0, "end_col"), 12);
	ASSERT_STR_EQ(get_str(f0, "code"), "F401");
	ASSERT_STR_EQ(get_str(f0, "severity"), "error");
	ASSERT_STR_EQ(get_str(f0, "message"), "unused import");
	ASSERT(cJSON_IsNull(get(f0, "url")));
	ASSERT(cJSON_IsTrue(get(f0, "fixable")));

	g1 = cJSON_GetArrayItem(gates, 1);
	ASSERT_STR_EQ(get_str(g1, "name"), "pytest");
	ASSERT_STR_EQ(get_str(g1, "status"), "error");
	ASSERT(cJSON_IsTrue(get(g1, "cached")));
	ASSERT_STR_EQ(get_str(g1, "cached_from"), "01ARYZ6S41TSV4RRFFQ69G5FAV");
	ASSERT(cJSON_IsNull(get(g1, "exit_code")));
	ASSERT_EQ(cJSON_GetArraySize(get(g1, "files")), 0);
	ASSERT_NULL(cJSON_GetObjectItemCaseSensitive(g1, "reasons"));
	tests = get(g1, "tests");
	ASSERT_EQ(get_num(tests, "total"), 4);
	ASSERT_EQ(get_num(tests, "passed"), 2);
	ASSERT_EQ(get_num(tests, "failed"), 1);
	ASSERT_EQ(get_num(tests, "skipped"), 1);
	cJSON_Delete(run);

	/* log: same shape, no findings or output unless asked */
	begin_run(l, id, 1764000005000, "run");
	record(l, id, "ruff", GATE_PASS, paths, NULL, NULL);
	ASSERT_OK(ledger_run_finish(l, id, "pass", 1764000006000, &err));
	ASSERT_OK(ledger_log(l, &q, &arr, &err));
	ASSERT_EQ(cJSON_GetArraySize(arr), 2);
	run = cJSON_GetArrayItem(arr, 0);
	ASSERT_STR_EQ(get_str(run, "id"), id);		/* newest first */
	ASSERT_STR_EQ(get_str(run, "trigger"), "run");
	run = cJSON_GetArrayItem(arr, 1);
	g0 = cJSON_GetArrayItem(get(run, "gates"), 0);
	ASSERT_EQ(cJSON_GetArraySize(get(g0, "files")), 2);
	ASSERT_NULL(cJSON_GetObjectItemCaseSensitive(g0, "findings"));
	ASSERT_NULL(cJSON_GetObjectItemCaseSensitive(g0, "output"));
	cJSON_Delete(arr);

	q.findings = true;
	q.status = "fail";
	ASSERT_OK(ledger_log(l, &q, &arr, &err));
	ASSERT_EQ(cJSON_GetArraySize(arr), 1);
	g0 = cJSON_GetArrayItem(get(cJSON_GetArrayItem(arr, 0), "gates"), 0);
	ASSERT_EQ(cJSON_GetArraySize(get(g0, "findings")), 1);
	cJSON_Delete(arr);

	q = (struct ledger_log_query){ .gate = "pytest" };
	ASSERT_OK(ledger_log(l, &q, &arr, &err));
	ASSERT_EQ(cJSON_GetArraySize(arr), 1);
	cJSON_Delete(arr);
	q = (struct ledger_log_query){ .since_ms = 1764000004000 };
	ASSERT_OK(ledger_log(l, &q, &arr, &err));
	ASSERT_EQ(cJSON_GetArraySize(arr), 1);
	cJSON_Delete(arr);
	q = (struct ledger_log_query){ .limit = 1 };
	ASSERT_OK(ledger_log(l, &q, &arr, &err));
	ASSERT_EQ(cJSON_GetArraySize(arr), 1);
	cJSON_Delete(arr);

	ASSERT_OK(ledger_last_run(l, &run, &err));
	ASSERT_STR_EQ(get_str(run, "id"), id);
	ASSERT_STR_EQ(get_str(run, "status"), "pass");
	ASSERT_STR_EQ(get_str(run, "finished_at"), "2025-11-24T16:00:06.000Z");
	cJSON_Delete(run);

	findings_release(&fs);
	ledger_close(l);

	/* a READ connection sees the same */
	ASSERT_OK(ledger_open(t.db, LEDGER_READ, &l, &err));
	q = (struct ledger_log_query){ 0 };
	ASSERT_OK(ledger_log(l, &q, &arr, &err));
	ASSERT_EQ(cJSON_GetArraySize(arr), 2);
	cJSON_Delete(arr);
	ledger_close(l);
	tmp_release(&t);
	return 0;
}

/* A finding that names no file (a tool's own complaint) is kept with the
 * file's findings, in the tool's order, and read back with a null path;
 * a cache hit on a file serves only that file's. */
TEST_IMPL(ledger_finding_without_file)
{
	struct tmp t;
	struct ledger *l;
	struct wd_err err = { 0, "" };
	char id[ULID_LEN + 1];
	struct findings fs = { NULL, 0, 0 };
	struct ledger_file f = { .path = "a.py", .blob = "b10b", .cache_key = "b10b",
		.cache_status = GATE_FAIL };
	struct ledger_gate_run g = {
		.gate = "ruff", .fingerprint = "fp1", .status = GATE_FAIL, .exit_code = 1,
		.started_ms = 1764000000100, .duration_ms = 41, .files = &f, .nfiles = 1,
		.findings = &fs, .tests_total = -1, .tests_passed = -1, .tests_failed = -1,
		.tests_skipped = -1,
	};
	struct ledger_cache_hit hit;
	const cJSON *arr;
	cJSON *run;

	tmp_init(&t);
	l = open_w(&t);
	begin_run(l, id, 1764000000000, "watch");
	g.run_id = id;
	add_finding(&fs, "a.py", 3, "F401");
	add_finding(&fs, NULL, 0, "W0");
	add_finding(&fs, "a.py", 1, "E501");
	ASSERT_OK(ledger_gate_record(l, &g, &err));
	findings_release(&fs);

	ASSERT_OK(ledger_show(l, id, &run, &err));
	arr = get(cJSON_GetArrayItem(get(run, "gates"), 0), "findings");
	ASSERT_EQ(cJSON_GetArraySize(arr), 3);
	ASSERT(cJSON_IsNull(get(cJSON_GetArrayItem(arr, 0), "path")));
	ASSERT_STR_EQ(get_str(cJSON_GetArrayItem(arr, 0), "code"), "W0");
	ASSERT_STR_EQ(get_str(cJSON_GetArrayItem(arr, 1), "code"), "F401");
	ASSERT_STR_EQ(get_str(cJSON_GetArrayItem(arr, 2), "code"), "E501");
	cJSON_Delete(run);
	ASSERT_EQ(ledger_cache_lookup(l, "ruff", "fp1", "a.py", "b10b", &hit), 1);
	ASSERT_EQ(hit.findings.n, 2);
	ASSERT_STR_EQ(hit.findings.v[0].code, "F401");
	findings_release(&hit.findings);
	ledger_close(l);
	tmp_release(&t);
	return 0;
}

TEST_IMPL(ledger_export_lines)
{
	static const char *const paths[] = { "a.sh", NULL };
	struct tmp t;
	struct ledger *l;
	char id1[ULID_LEN + 1], id2[ULID_LEN + 1], line[4096];
	FILE *fp;
	cJSON *o;
	int n = 0;

	tmp_init(&t);
	l = open_w(&t);
	begin_run(l, id1, 1764000000000, "run");
	record(l, id1, "sh", GATE_FAIL, paths, paths, NULL);
	begin_run(l, id2, 1764000009000, "ci");
	ASSERT_NOT_NULL(fp = tmpfile());
	ASSERT_OK(ledger_export(l, 0, fp, NULL));
	rewind(fp);
	while (fgets(line, sizeof(line), fp)) {
		ASSERT_NOT_NULL(o = cJSON_Parse(line));
		ASSERT_STR_EQ(get_str(o, "id"), n == 0 ? id1 : id2);	/* oldest first */
		if (n == 0)
			ASSERT_EQ(cJSON_GetArraySize(get(cJSON_GetArrayItem(get(o, "gates"), 0),
			    "findings")), 1);
		cJSON_Delete(o);
		n++;
	}
	ASSERT_EQ(n, 2);
	fclose(fp);
	ASSERT_NOT_NULL(fp = tmpfile());
	ASSERT_OK(ledger_export(l, 1764000005000, fp, NULL));
	ASSERT_EQ(ftell(fp) > 0, 1);
	rewind(fp);
	ASSERT_NOT_NULL(fgets(line, sizeof(line), fp));
	ASSERT_CONTAINS(line, id2);
	ASSERT_NULL(fgets(line, sizeof(line), fp));
	fclose(fp);
	ledger_close(l);
	tmp_release(&t);
	return 0;
}

TEST_IMPL(ledger_prefix)
{
	struct tmp t;
	struct ledger *l;
	struct wd_err err = { 0, "" };
	char a[ULID_LEN + 1], b[ULID_LEN + 1], lower[ULID_LEN + 1];
	cJSON *run = NULL;

	tmp_init(&t);
	l = open_w(&t);
	begin_run(l, a, 1764000000000, "run");
	begin_run(l, b, 1764000000000, "run");	/* same ms: 10-char time prefix shared */
	ASSERT_OK(strncmp(a, b, 10));

	ASSERT_EQ(ledger_show(l, "", &run, &err), WD_ENOTFOUND);
	ASSERT_EQ(ledger_show(l, "01", &run, &err), WD_EAMBIGUOUS);
	ASSERT_NULL(run);
	ASSERT_CONTAINS(err.msg, "ambiguous");
	ASSERT_CONTAINS(err.msg, a);
	ASSERT_EQ(ledger_show(l, "ZZZZ", &run, &err), WD_ENOTFOUND);
	ASSERT_CONTAINS(err.msg, "ZZZZ");
	ASSERT_EQ(ledger_show(l, "01-", &run, &err), WD_ENOTFOUND);

	/* shortest unique prefix, in lower case */
	for (size_t n = 1; n <= ULID_LEN; n++) {
		if (strncmp(a, b, n) != 0) {
			for (size_t i = 0; i < n; i++)
				lower[i] = (char)tolower((unsigned char)b[i]);
			lower[n] = '\0';
			break;
		}
	}
	ASSERT_OK(ledger_show(l, lower, &run, &err));
	ASSERT_STR_EQ(get_str(run, "id"), b);
	cJSON_Delete(run);
	ASSERT_OK(ledger_show(l, a, &run, &err));
	ASSERT_STR_EQ(get_str(run, "id"), a);
	cJSON_Delete(run);
	ledger_close(l);
	tmp_release(&t);
	return 0;
}

TEST_IMPL(ledger_cache)
{
	static const char *const paths[] = { "src/a.py", "src/b.py", NULL };
	static const char *const failing[] = { "src/a.py", NULL };
	struct tmp t;
	struct ledger *l;
	struct ledger_cache_hit hit;
	char id[ULID_LEN + 1];

	tmp_init(&t);
	l = open_w(&t);
	begin_run(l, id, 1764000000000, "run");
	record(l, id, "ruff", GATE_FAIL, paths, failing, "key1");
	/* a finding on b.py elsewhere must not leak into a.py's hit */
	ASSERT_EQ(ledger_cache_lookup(l, "ruff", "fp1", "src/a.py", "key1", &hit), 1);
	ASSERT_EQ(hit.status, GATE_FAIL);
	ASSERT_STR_EQ(hit.run_id, id);
	ASSERT_EQ(hit.findings.n, 1);
	ASSERT_STR_EQ(hit.findings.v[0].path, "src/a.py");
	ASSERT_STR_EQ(hit.findings.v[0].code, "F401");
	ASSERT_EQ(hit.findings.v[0].col, 8);
	ASSERT(hit.findings.v[0].fixable);
	findings_release(&hit.findings);

	ASSERT_EQ(ledger_cache_lookup(l, "ruff", "fp1", "src/b.py", "key1", &hit), 1);
	ASSERT_EQ(hit.status, GATE_PASS);
	ASSERT_EQ(hit.findings.n, 0);
	findings_release(&hit.findings);

	ASSERT_EQ(ledger_cache_lookup(l, "ruff", "fp1", "src/a.py", "key2", &hit), 0);
	ASSERT_EQ(ledger_cache_lookup(l, "ruff", "fp2", "src/a.py", "key1", &hit), 0);
	ASSERT_EQ(ledger_cache_lookup(l, "pssa", "fp1", "src/a.py", "key1", &hit), 0);
	ASSERT_EQ(ledger_cache_lookup(l, "ruff", "fp1", "src/c.py", "key1", &hit), 0);
	ASSERT_EQ(hit.findings.n, 0);

	/* no cache_key: nothing cached */
	begin_run(l, id, 1764000001000, "run");
	record(l, id, "mypy", GATE_PASS, paths, NULL, NULL);
	ASSERT_EQ(ledger_cache_lookup(l, "mypy", "fp1", "src/a.py", "key1", &hit), 0);
	ledger_close(l);
	tmp_release(&t);
	return 0;
}

TEST_IMPL(ledger_tool_versions)
{
	struct tmp t;
	struct ledger *l;
	struct wd_err err = { 0, "" };
	struct ledger_tool tool = { "/usr/bin/ruff", 2049, 77, 1000, 1764000000000000000LL };
	char *v = NULL;

	tmp_init(&t);
	l = open_w(&t);
	ASSERT_EQ(ledger_tool_version(l, &tool, &v), 0);
	ASSERT_NULL(v);
	ASSERT_OK(ledger_tool_version_put(l, &tool, "ruff 0.1.6", &err));
	ASSERT_EQ(ledger_tool_version(l, &tool, &v), 1);
	ASSERT_STR_EQ(v, "ruff 0.1.6");
	free(v);
	/* another device and inode, same path, size and mtime: the same
	 * package's binary on a CI runner that restored the ledger */
	tool.dev++;
	tool.ino++;
	ASSERT_EQ(ledger_tool_version(l, &tool, &v), 1);
	ASSERT_STR_EQ(v, "ruff 0.1.6");
	free(v);
	/* a change of size or mtime is a miss: an upgrade rewrote the file */
	tool.size++;
	ASSERT_EQ(ledger_tool_version(l, &tool, &v), 0);
	tool.size--;
	tool.mtime_ns++;
	ASSERT_EQ(ledger_tool_version(l, &tool, &v), 0);
	/* the new identity replaces the old one */
	ASSERT_OK(ledger_tool_version_put(l, &tool, "ruff 0.2.0", &err));
	ASSERT_EQ(ledger_tool_version(l, &tool, &v), 1);
	ASSERT_STR_EQ(v, "ruff 0.2.0");
	free(v);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM tool_versions"), 1);
	ledger_close(l);
	tmp_release(&t);
	return 0;
}

static const cJSON *summary_gate(const cJSON *arr, const char *name)
{
	const cJSON *g;

	cJSON_ArrayForEach(g, arr)
		if (strcmp(get_str(g, "name"), name) == 0)
			return g;
	return NULL;
}

/* ledger_gate_brief agrees with ledger_gate_summary (full) on every field
 * it gives, and gives none of the rest. */
static void check_brief(struct ledger *l, const cJSON *full)
{
	static const char *const same[] = {
		"name", "status", "problem", "message", "failing_files", "findings",
		"error_files", NULL,
	};
	static const char *const left_out[] = {
		"checked_files", "files", "first_findings", "findings_run", NULL,
	};
	struct wd_err err = { 0, "" };
	const cJSON *g, *b;
	cJSON *brief;
	int i = 0;

	ASSERT_OK(ledger_gate_brief(l, &brief, &err));
	ASSERT_EQ(cJSON_GetArraySize(brief), cJSON_GetArraySize(full));
	cJSON_ArrayForEach(g, full) {
		b = cJSON_GetArrayItem(brief, i++);
		for (size_t k = 0; same[k]; k++) {
			const cJSON *x = cJSON_GetObjectItemCaseSensitive(g, same[k]);
			const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, same[k]);

			if ((x == NULL) != (y == NULL) || (x && !cJSON_Compare(x, y, 1)))
				FAIL_("gate %s: brief \"%s\" differs", get_str(g, "name"), same[k]);
		}
		for (size_t k = 0; left_out[k]; k++)
			ASSERT_NULL(cJSON_GetObjectItemCaseSensitive(b, left_out[k]));
	}
	cJSON_Delete(brief);
}

TEST_IMPL(ledger_file_state)
{
	static const char *const paths[] = { "src/b.py", "src/a.py", "src/c.py", NULL };
	static const char *const failing[] = { "src/b.py", "src/a.py", NULL };
	static const char *const only_a[] = { "src/a.py", NULL };
	static const char *const one[] = { "x.ps1", NULL };
	struct tmp t;
	struct ledger *l;
	struct wd_err err = { 0, "" };
	char id[ULID_LEN + 1];
	cJSON *arr;
	const cJSON *g;

	tmp_init(&t);
	l = open_w(&t);
	ASSERT_OK(ledger_gate_summary(l, &arr, &err));
	check_brief(l, arr);
	ASSERT_EQ(cJSON_GetArraySize(arr), 0);
	cJSON_Delete(arr);

	begin_run(l, id, 1764000000000, "watch");
	record(l, id, "ruff", GATE_FAIL, paths, failing, "k");
	record(l, id, "pssa", GATE_TIMEOUT, one, NULL, NULL);
	ASSERT_OK(ledger_gate_summary(l, &arr, &err));
	check_brief(l, arr);
	ASSERT_EQ(cJSON_GetArraySize(arr), 2);
	ASSERT_STR_EQ(get_str(cJSON_GetArrayItem(arr, 0), "name"), "pssa");	/* by name */
	g = summary_gate(arr, "ruff");
	ASSERT_STR_EQ(get_str(g, "status"), "fail");
	ASSERT_EQ(get_num(g, "failing_files"), 2);
	ASSERT_EQ(get_num(g, "findings"), 2);
	ASSERT_EQ(cJSON_GetArraySize(get(g, "files")), 2);
	ASSERT_STR_EQ(cJSON_GetArrayItem(get(g, "files"), 0)->valuestring, "src/a.py");
	ASSERT_STR_EQ(cJSON_GetArrayItem(get(g, "files"), 1)->valuestring, "src/b.py");
	g = summary_gate(arr, "pssa");
	/* cache_status -1 → the gate's; a gate that could not judge says how */
	ASSERT_STR_EQ(get_str(g, "status"), "timeout");
	ASSERT_STR_EQ(get_str(g, "problem"), "timeout");
	ASSERT_EQ(get_num(g, "failing_files"), 0);
	ASSERT_EQ(get_num(g, "error_files"), 1);
	ASSERT_EQ(cJSON_GetArraySize(get(g, "files")), 1);
	cJSON_Delete(arr);

	/* a.py fixed: re-recorded as passing */
	begin_run(l, id, 1764000001000, "watch");
	record(l, id, "ruff", GATE_PASS, only_a, NULL, "k2");
	ASSERT_OK(ledger_gate_summary(l, &arr, &err));
	check_brief(l, arr);
	g = summary_gate(arr, "ruff");
	ASSERT_STR_EQ(get_str(g, "status"), "fail");
	ASSERT_EQ(get_num(g, "failing_files"), 1);
	ASSERT_EQ(get_num(g, "findings"), 1);
	ASSERT_STR_EQ(cJSON_GetArrayItem(get(g, "files"), 0)->valuestring, "src/b.py");
	cJSON_Delete(arr);

	/* b.py removed: its state goes, the gate passes */
	ASSERT_OK(ledger_file_removed(l, "src/b.py", &err));
	ASSERT_OK(ledger_file_removed(l, "x.ps1", &err));
	ASSERT_OK(ledger_gate_summary(l, &arr, &err));
	check_brief(l, arr);
	ASSERT_EQ(cJSON_GetArraySize(arr), 1);
	g = summary_gate(arr, "ruff");
	ASSERT_STR_EQ(get_str(g, "status"), "pass");
	ASSERT_EQ(get_num(g, "failing_files"), 0);
	ASSERT_EQ(get_num(g, "findings"), 0);
	ASSERT_EQ(cJSON_GetArraySize(get(g, "files")), 0);
	cJSON_Delete(arr);
	ledger_close(l);
	tmp_release(&t);
	return 0;
}

TEST_IMPL(ledger_interrupted)
{
	static const char *const paths[] = { "a", NULL };
	struct tmp t;
	struct ledger *l;
	struct wd_err err = { 0, "" };
	char a[ULID_LEN + 1], b[ULID_LEN + 1];
	cJSON *run;
	int n = -1;

	tmp_init(&t);
	l = open_w(&t);
	begin_run(l, a, 1000, "watch");
	record(l, a, "g", GATE_PASS, paths, NULL, NULL);	/* started 1100, 41 ms */
	begin_run(l, b, 2000, "run");
	ASSERT_OK(ledger_run_finish(l, b, "pass", 2500, &err));
	ASSERT_OK(ledger_mark_interrupted(l, &n, NULL, &err));
	ASSERT_EQ(n, 1);
	ASSERT_OK(ledger_show(l, a, &run, &err));
	ASSERT_STR_EQ(get_str(run, "status"), "interrupted");
	/* nobody saw it end: no invented finish time */
	ASSERT(cJSON_IsNull(get(run, "finished_at")));
	ASSERT(cJSON_IsNull(get(run, "duration_ms")));
	cJSON_Delete(run);
	ASSERT_OK(ledger_show(l, b, &run, &err));
	ASSERT_STR_EQ(get_str(run, "status"), "pass");
	cJSON_Delete(run);
	ASSERT_OK(ledger_mark_interrupted(l, &n, NULL, &err));
	ASSERT_EQ(n, 0);
	ledger_close(l);
	tmp_release(&t);
	return 0;
}

static int count_runs(struct ledger *l)
{
	struct ledger_log_query q = { .limit = 1000 };
	cJSON *arr;
	int n;

	ASSERT_OK(ledger_log(l, &q, &arr, NULL));
	n = cJSON_GetArraySize(arr);
	cJSON_Delete(arr);
	return n;
}

/* Frames in the WAL, from a connection of its own. */
static int wal_log_frames(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	int v;

	ASSERT_EQ(sqlite3_open(path, &db), SQLITE_OK);
	ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA wal_checkpoint(NOOP)", -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) != SQLITE_ROW) {
		/* older SQLite: no NOOP mode; PASSIVE reports the same count */
		sqlite3_finalize(s);
		ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA wal_checkpoint(PASSIVE)", -1, &s, NULL),
		    SQLITE_OK);
		ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
	}
	v = sqlite3_column_int(s, 1);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* Commits never checkpoint below 8,000 frames; ledger_idle copies the WAL
 * back and restarts it, so the next commit starts at its beginning. */
TEST_IMPL(ledger_idle_checkpoints)
{
	static const char *const paths[] = { "a.py", "b.py", "c.py", NULL };
	struct tmp t;
	struct ledger *l;
	char id[ULID_LEN + 1];
	int before;

	tmp_init(&t);
	l = open_w(&t);
	begin_run(l, id, 1764000000000, "watch");
	for (int i = 0; i < 300; i++)
		record(l, id, "ruff", GATE_FAIL, paths, paths, "k");
	before = wal_log_frames(t.db);
	if (before < 1000)
		FAIL_("only %d WAL frames after 300 gate runs", before);
	ledger_idle(l);
	if (wal_log_frames(t.db) > 2)
		FAIL_("%d WAL frames after ledger_idle (%d before)", wal_log_frames(t.db), before);
	record(l, id, "ruff", GATE_PASS, paths, NULL, "k2");
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM gate_runs"), 301);
	ledger_close(l);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM pragma_integrity_check WHERE"
	    " integrity_check = 'ok'"), 1);
	tmp_release(&t);
	return 0;
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

/* With the checkpoint thread, commits ask it to copy the WAL back once per
 * 1,000 new frames (none of them checkpoints itself below 8,000): the
 * database file grows while the writer goes on, and everything stays. */
TEST_IMPL(ledger_checkpoint_thread_copies_back)
{
	static const char *const paths[] = { "a.py", "b.py", "c.py", NULL };
	struct tmp t;
	struct ledger *l;
	char id[ULID_LEN + 1];
	off_t size0;
	struct timespec deadline, now;

	tmp_init(&t);
	l = open_w(&t);
	ASSERT_OK(ledger_checkpoint_thread(l));
	ASSERT_OK(ledger_checkpoint_thread(l));		/* once is enough */
	size0 = file_size(t.db);
	begin_run(l, id, 1764000000000, "watch");
	for (int i = 0; i < 300; i++)
		record(l, id, "ruff", GATE_FAIL, paths, paths, "k");
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += 20;
	for (;;) {
		if (file_size(t.db) > size0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > deadline.tv_sec)
			FAIL_("the database never grew past %lld bytes", (long long)size0);
		sched_yield();
	}
	record(l, id, "ruff", GATE_PASS, paths, NULL, "k2");
	ledger_close(l);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM gate_runs"), 301);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM pragma_integrity_check WHERE"
	    " integrity_check = 'ok'"), 1);
	tmp_release(&t);
	return 0;
}

TEST_IMPL(ledger_gc)
{
	static const char *const kept[] = { "kept.py", NULL };
	static const char *const cached[] = { "cached.py", NULL };
	static const char *const plain[] = { "plain.py", NULL };
	int64_t day = 86400000, now = (int64_t)time(NULL) * 1000;
	struct tmp t;
	struct ledger *l;
	struct wd_err err = { 0, "" };
	char ids[6][ULID_LEN + 1];
	cJSON *run;
	int deleted = -1;

	tmp_init(&t);
	l = open_w(&t);
	/* 0: old, backs file_state of kept.py (no cache key) */
	begin_run(l, ids[0], now - 100 * day, "watch");
	record(l, ids[0], "ruff", GATE_PASS, kept, NULL, NULL);
	ASSERT_OK(ledger_run_finish(l, ids[0], "pass", now - 100 * day + 5, &err));
	/* 1: old, its file_state later replaced; its cache row describes
	 * content that is no longer current */
	begin_run(l, ids[1], now - 90 * day, "watch");
	record(l, ids[1], "ruff", GATE_PASS, cached, NULL, "c1");
	ASSERT_OK(ledger_run_finish(l, ids[1], "pass", now - 90 * day + 5, &err));
	/* 2, 3: old, nothing references them once plain.py is re-judged */
	for (int i = 2; i < 4; i++) {
		begin_run(l, ids[i], now - (80 - i) * day, "watch");
		record(l, ids[i], "ruff", GATE_FAIL, plain, plain, NULL);
		ASSERT_OK(ledger_run_finish(l, ids[i], "fail", now - (80 - i) * day + 5, &err));
	}
	/* 4: recent, re-judges cached.py and plain.py (the current content,
	 * cached under c4) */
	begin_run(l, ids[4], now - day, "watch");
	record(l, ids[4], "ruff", GATE_PASS, cached, NULL, NULL);
	record(l, ids[4], "ruff", GATE_PASS, plain, NULL, "c4");
	ASSERT_OK(ledger_run_finish(l, ids[4], "pass", now - day + 5, &err));
	/* 5: old but still running: never touched */
	begin_run(l, ids[5], now - 95 * day, "watch");
	ASSERT_EQ(count_runs(l), 6);

	/* count limit only: 1, 2 and 3 go (with run 1 its cache row for old
	 * content); 0 (file_state), 4 (the newest) and 5 (running) stay */
	ASSERT_OK(ledger_gc(l, 0, 1, &deleted, &err));
	ASSERT_EQ(deleted, 3);
	ASSERT_EQ(ledger_show(l, ids[1], &run, &err), WD_ENOTFOUND);
	ASSERT_EQ(ledger_show(l, ids[2], &run, &err), WD_ENOTFOUND);
	ASSERT_EQ(ledger_show(l, ids[3], &run, &err), WD_ENOTFOUND);
	ASSERT_OK(ledger_show(l, ids[0], &run, &err));
	cJSON_Delete(run);
	ASSERT_EQ(count_runs(l), 3);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM findings"), 0);	/* cascaded */
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM gate_files"), 3);
	/* the current content's cache entry stays and still hits */
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM cache"), 1);
	{
		struct ledger_cache_hit hit;

		ASSERT_EQ(ledger_cache_lookup(l, "ruff", "fp1", "plain.py", "c4", &hit), 1);
		findings_release(&hit.findings);
		ASSERT_EQ(ledger_cache_lookup(l, "ruff", "fp1", "cached.py", "c1", &hit), 0);
	}

	/* age limit: run 0 is old but still backs kept.py's state */
	ASSERT_OK(ledger_gc(l, 30, 0, &deleted, &err));
	ASSERT_EQ(deleted, 0);
	ASSERT_OK(ledger_show(l, ids[0], &run, &err));
	cJSON_Delete(run);
	ASSERT_EQ(count_runs(l), 3);

	/* nothing to do */
	ASSERT_OK(ledger_gc(l, 0, 0, &deleted, &err));
	ASSERT_EQ(deleted, 0);
	ASSERT_OK(ledger_file_removed(l, "kept.py", &err));
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM file_state WHERE path = 'kept.py'"), 0);
	ASSERT_OK(ledger_gc(l, 30, 0, &deleted, &err));
	ASSERT_EQ(deleted, 1);
	ASSERT_EQ(count_runs(l), 2);
	ledger_close(l);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	tmp_release(&t);
	return 0;
}

static void *release_later(void *db)
{
	usleep(300 * 1000);
	ASSERT_EQ(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	return NULL;
}

/* Another writer holding the lock: busy_timeout waits it out instead of
 * failing at once. */
TEST_IMPL(ledger_busy_waits)
{
	struct tmp t;
	struct ledger *l;
	struct wd_err err = { 0, "" };
	char id[ULID_LEN + 1];
	pthread_t th;
	sqlite3 *other;

	tmp_init(&t);
	l = open_w(&t);
	ASSERT_EQ(sqlite3_open(t.db, &other), SQLITE_OK);
	ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	ASSERT_OK(pthread_create(&th, NULL, release_later, other));
	begin_run(l, id, 1764000000000, "run");	/* blocks ~300 ms, then succeeds */
	ASSERT_OK(pthread_join(th, NULL));
	sqlite3_close(other);
	ASSERT_OK(ledger_run_finish(l, id, "pass", 1764000000001, &err));
	ledger_close(l);
	tmp_release(&t);
	return 0;
}

/* A result reused from the cache is recorded again by the run that reused
 * it; the cache row keeps naming the run that judged the content. */
TEST_IMPL(ledger_cache_judged_by)
{
	struct tmp t;
	struct ledger *l;
	struct ledger_cache_hit hit;
	struct wd_err err = { 0, "" };
	struct findings fs = { NULL, 0, 0 };
	char judge[ULID_LEN + 1], reuser[ULID_LEN + 1], third[ULID_LEN + 1];
	struct ledger_file f = { .path = "src/a.py", .blob = "b10b", .cache_key = "key1",
		.cache_status = GATE_FAIL, .has_status = true, .status = GATE_FAIL };
	struct ledger_gate_run g = {
		.gate = "ruff", .fingerprint = "fp1", .status = GATE_FAIL, .exit_code = 1,
		.files = &f, .nfiles = 1, .findings = &fs, .tests_total = -1,
		.tests_passed = -1, .tests_failed = -1, .tests_skipped = -1,
	};

	tmp_init(&t);
	l = open_w(&t);
	add_finding(&fs, "src/a.py", 3, "F401");
	begin_run(l, judge, 1764000000000, "run");
	g.run_id = judge;
	ASSERT_OK(ledger_gate_record(l, &g, &err));
	/* the reusing run copies the findings and names the judge */
	begin_run(l, reuser, 1764000001000, "run");
	g.run_id = reuser;
	g.cached = true;
	g.cached_from = judge;
	f.judged_by = judge;
	ASSERT_OK(ledger_gate_record(l, &g, &err));
	ASSERT_EQ(ledger_cache_lookup(l, "ruff", "fp1", "src/a.py", "key1", &hit), 1);
	ASSERT_STR_EQ(hit.run_id, judge);
	ASSERT_EQ(hit.status, GATE_FAIL);
	ASSERT_EQ(hit.findings.n, 1);
	ASSERT_EQ(hit.findings.v[0].line, 3);
	findings_release(&hit.findings);
	/* a run that judges the content itself takes the row over */
	begin_run(l, third, 1764000002000, "run");
	g.run_id = third;
	g.cached = false;
	g.cached_from = NULL;
	f.judged_by = NULL;
	ASSERT_OK(ledger_gate_record(l, &g, &err));
	ASSERT_EQ(ledger_cache_lookup(l, "ruff", "fp1", "src/a.py", "key1", &hit), 1);
	ASSERT_STR_EQ(hit.run_id, third);
	findings_release(&hit.findings);
	findings_release(&fs);
	ledger_close(l);
	tmp_release(&t);
	return 0;
}

TEST_IMPL(ledger_disk_full)
{
	static const char *const paths[] = { "big.py", NULL };
	struct tmp t;
	struct ledger *l;
	struct wd_err err = { 0, "" };
	char id[ULID_LEN + 1], sql[64];
	struct findings fs = { NULL, 0, 0 };
	struct ledger_file file = { .path = "big.py", .cache_key = "k", .cache_status = GATE_FAIL };
	struct ledger_gate_run g = {
		.gate = "ruff", .fingerprint = "fp1", .status = GATE_FAIL, .exit_code = 1,
		.files = &file, .nfiles = 1, .findings = &fs, .tests_total = -1,
		.tests_passed = -1, .tests_failed = -1, .tests_skipped = -1,
	};
	struct ledger_cache_hit hit;
	sqlite3 *db;
	cJSON *run;
	char *big;
	int pages = 0;

	sqlite3_auto_extension((void (*)(void))capture_db);
	tmp_init(&t);
	l = open_w(&t);
	ASSERT_NOT_NULL(db = last_db);
	begin_run(l, id, 1764000000000, "run");
	record(l, id, "ruff", GATE_PASS, paths, NULL, NULL);
	g.run_id = id;

	{
		sqlite3_stmt *s;

		ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA page_count", -1, &s, NULL), SQLITE_OK);
		ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
		pages = sqlite3_column_int(s, 0);
		sqlite3_finalize(s);
	}
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %d", pages);
	ASSERT_EQ(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);

	big = xcalloc(1, 200001);
	memset(big, 'x', 200000);
	g.output = big;
	for (int i = 0; i < 200; i++)
		add_finding(&fs, "big.py", i + 1, "E501");
	ASSERT_EQ(ledger_gate_record(l, &g, &err), WD_ELEDGER_FULL);
	ASSERT_CONTAINS(err.msg, "database or disk is full");
	ASSERT_CONTAINS(err.msg, t.db);
	ASSERT_CONTAINS(err.msg, "full");
	ASSERT(sqlite3_get_autocommit(db));		/* rolled back */
	ASSERT_EQ(ledger_cache_lookup(l, "ruff", "fp1", "big.py", "k", &hit), 0);
	ASSERT_EQ(ledger_queued(l), 1);			/* kept for a retry */
	/* the caller's copy goes away: the queue holds its own */
	findings_release(&fs);
	memset(big, 'y', 200000);

	/* a later write waits behind it, in order; reads still work */
	ASSERT_EQ(ledger_run_finish(l, id, "fail", 1764000000500, &err), WD_ELEDGER_FULL);
	ASSERT_EQ(ledger_queued(l), 2);
	ASSERT_OK(ledger_show(l, id, &run, &err));
	ASSERT_EQ(cJSON_GetArraySize(get(run, "gates")), 1);	/* the failed one is absent */
	ASSERT_STR_EQ(get_str(run, "status"), "running");
	cJSON_Delete(run);
	{
		cJSON *h;

		ASSERT_OK(ledger_health(l, &h));
		ASSERT(cJSON_IsFalse(get(h, "ok")));
		ASSERT_CONTAINS(get_str(h, "error"), "full");
		ASSERT_CONTAINS(get_str(h, "error"), t.db);
		ASSERT_EQ(get_num(h, "queued_writes"), 2);
		cJSON_Delete(h);
	}
	ASSERT_EQ(ledger_retry(l, &err), 2);		/* still full */
	ASSERT_CONTAINS(err.msg, "full");

	/* room again: the retry records both, oldest first */
	ASSERT_EQ(sqlite3_exec(db, "PRAGMA max_page_count = 1000000", NULL, NULL, NULL),
	    SQLITE_OK);
	ASSERT_EQ(ledger_retry(l, &err), 0);
	ASSERT_EQ(ledger_queued(l), 0);
	ASSERT_EQ(ledger_cache_lookup(l, "ruff", "fp1", "big.py", "k", &hit), 1);
	ASSERT_EQ(hit.findings.n, 200);
	findings_release(&hit.findings);
	ASSERT_OK(ledger_show(l, id, &run, &err));
	ASSERT_STR_EQ(get_str(run, "status"), "fail");
	ASSERT_EQ(cJSON_GetArraySize(get(run, "gates")), 2);
	ASSERT_EQ(strlen(get_str(cJSON_GetArrayItem(get(run, "gates"), 1), "output")), 200000);
	ASSERT_EQ(get_str(cJSON_GetArrayItem(get(run, "gates"), 1), "output")[0], 'x');
	cJSON_Delete(run);
	{
		cJSON *h;

		ASSERT_OK(ledger_health(l, &h));
		ASSERT(cJSON_IsTrue(get(h, "ok")));
		ASSERT(cJSON_IsNull(get(h, "error")));
		ASSERT_EQ(get_num(h, "queued_writes"), 0);
		cJSON_Delete(h);
	}
	free(big);
	ledger_close(l);
	sqlite3_reset_auto_extension();
	tmp_release(&t);
	return 0;
}

/* Rows made one at a time (ledger_gate_run.file_at): each row's strings
 * live only until the next call, so a row the writer kept, or a queued
 * write that did not copy it, shows up as the wrong file. */
struct rows_src {
	const char *const *paths;
	char		 path[32], reason[32];
	int		 calls, reasons;
};

static void rows_at(void *arg, size_t i, bool reason, struct ledger_file *f)
{
	struct rows_src *rs = arg;

	rs->calls++;
	snprintf(rs->path, sizeof(rs->path), "%s", rs->paths[i]);
	f->path = rs->path;
	f->blob = "b10b";
	f->cache_key = rs->path;	/* a key per file */
	f->cache_status = i == 1 ? GATE_FAIL : GATE_PASS;
	if (reason) {
		rs->reasons++;
		snprintf(rs->reason, sizeof(rs->reason), "why %zu", i);
		f->reason = rs->reason;
	}
}

TEST_IMPL(ledger_rows_made_one_at_a_time)
{
	static const char *const paths[] = { "a.py", "b.py", "c.py", "d.py" };
	struct tmp t;
	struct ledger *l;
	struct wd_err err = { 0, "" };
	char id[ULID_LEN + 1], id2[ULID_LEN + 1], sql[64];
	struct rows_src rs = { .paths = paths };
	struct ledger_gate_run g = {
		.gate = "ruff", .fingerprint = "fp1", .status = GATE_FAIL, .exit_code = 1,
		.nfiles = 4, .file_at = rows_at, .file_arg = &rs, .tests_total = -1,
		.tests_passed = -1, .tests_failed = -1, .tests_skipped = -1,
	};
	struct ledger_cache_hit hit;
	sqlite3 *db;
	int pages;

	sqlite3_auto_extension((void (*)(void))capture_db);
	tmp_init(&t);
	l = open_w(&t);
	db = last_db;		/* the ledger's own: raw_int opens others */
	begin_run(l, id, 1764000000000, "run");
	g.run_id = id;
	ASSERT_OK(ledger_gate_record(l, &g, &err));
	/* the reason is made only for the table that keeps it */
	ASSERT_EQ(rs.reasons, 4);
	ASSERT(rs.calls > rs.reasons);
	ASSERT_EQ(raw_int(t.db, "SELECT count(DISTINCT path) FROM gate_files"
	    " WHERE reason = 'why ' || (unicode(path) - unicode('a'))"), 4);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM file_state WHERE status = 'fail'"
	    " AND path = 'b.py'"), 1);
	ASSERT_EQ(ledger_cache_lookup(l, "ruff", "fp1", "c.py", "c.py", &hit), 1);
	ASSERT_EQ(hit.status, GATE_PASS);
	findings_release(&hit.findings);

	/* a write the disk cannot take is queued with copies of every row */
	pages = raw_int(t.db, "PRAGMA page_count");
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %d", pages);
	ASSERT_EQ(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	begin_run(l, id2, 1764000001000, "run");
	g.run_id = id2;
	g.fingerprint = "fp2";
	{
		char big[65536];

		/* findings-free rows are small: an output fills the last page */
		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		g.output = big;
		ASSERT_EQ(ledger_gate_record(l, &g, &err), WD_ELEDGER_FULL);
	}
	g.output = NULL;
	ASSERT_EQ(ledger_queued(l), 1);
	strcpy(rs.path, "gone.py");
	strcpy(rs.reason, "gone");
	ASSERT_EQ(sqlite3_exec(db, "PRAGMA max_page_count = 1000000", NULL, NULL, NULL),
	    SQLITE_OK);
	ASSERT_EQ(ledger_retry(l, &err), 0);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM gate_files WHERE path = 'gone.py'"
	    " OR reason = 'gone'"), 0);
	ASSERT_EQ(raw_int(t.db, "SELECT count(DISTINCT path) FROM gate_files"
	    " WHERE reason = 'why ' || (unicode(path) - unicode('a'))"), 4);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM gate_files"), 8);
	ASSERT_EQ(ledger_cache_lookup(l, "ruff", "fp2", "d.py", "d.py", &hit), 1);
	findings_release(&hit.findings);
	ledger_close(l);
	sqlite3_reset_auto_extension();
	tmp_release(&t);
	return 0;
}

static int64_t real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

TEST_IMPL(ledger_time)
{
	char iso[32];
	int64_t ms;

	ledger_time_iso(0, iso);
	ASSERT_STR_EQ(iso, "1970-01-01T00:00:00.000Z");
	ledger_time_iso(1795521600123, iso);
	ASSERT_STR_EQ(iso, "2026-11-24T12:00:00.123Z");
	ledger_time_iso(-1, iso);
	ASSERT_STR_EQ(iso, "1969-12-31T23:59:59.999Z");

	ASSERT_OK(ledger_time_parse("2026-11-24", &ms));
	ASSERT_EQ(ms, 1795478400000);
	ASSERT_OK(ledger_time_parse("2026-11-24T12:00:00Z", &ms));
	ASSERT_EQ(ms, 1795521600000);
	ASSERT_OK(ledger_time_parse("2026-11-24T12:00:00.123Z", &ms));
	ASSERT_EQ(ms, 1795521600123);
	ASSERT_OK(ledger_time_parse("2026-11-24T12:00:00.5Z", &ms));
	ASSERT_EQ(ms, 1795521600500);
	ASSERT_OK(ledger_time_parse("2026-11-24T12:00", &ms));
	ASSERT_EQ(ms, 1795521600000);
	ASSERT_OK(ledger_time_parse("2026-11-24T14:00:00+02:00", &ms));
	ASSERT_EQ(ms, 1795521600000);
	ASSERT_OK(ledger_time_parse("2024-02-29", &ms));
	iso[0] = '\0';
	ledger_time_iso(ms, iso);
	ASSERT_STR_EQ(iso, "2024-02-29T00:00:00.000Z");

	/* an age is now minus it, now read between the two clock readings
	 * (time() reads a coarser clock and can be a second behind) */
	{
		static const struct { const char *age; int64_t ms; } ages[] = {
			{ "30s", 30000 }, { "15m", 900000 }, { "2h", 7200000 },
			{ "3d", 3 * 86400000LL }, { "1w", 7 * 86400000LL },
		};

		for (size_t i = 0; i < sizeof(ages) / sizeof(*ages); i++) {
			int64_t before = real_ms(), after;

			ASSERT_OK(ledger_time_parse(ages[i].age, &ms));
			after = real_ms();
			if (ms < before - ages[i].ms || ms > after - ages[i].ms)
				FAIL_("%s: %" PRId64 " not in [%" PRId64 ", %" PRId64 "]", ages[i].age,
				    ms, before - ages[i].ms, after - ages[i].ms);
		}
	}

	static const char *const bad[] = { "", "yesterday", "3", "3x", "3dd", "-3d", "2026-13-01",
		"2026-02-30", "2025-02-29", "2026-11-24T25:00", "2026-11-24X", "2026-11-24T12",
		"2026-11-24T12:00:00.Z", "99999999999999999999d", NULL };
	for (size_t i = 0; bad[i]; i++)
		if (ledger_time_parse(bad[i], &ms) == 0)
			FAIL_("\"%s\" parsed", bad[i]);
	return 0;
}

/* The queries behind log, show and status search by index, never by a
 * full scan of a table. */
TEST_IMPL(ledger_query_plans)
{
	static const struct { const char *query, *want; } plans[] = {
		{ "log", "SEARCH runs USING INDEX runs_started" },
		{ "show", "SEARCH runs USING INDEX sqlite_autoindex_runs_1 (id>? AND id<?)" },
		{ "gates", "SEARCH gate_runs USING INDEX gate_runs_run (run_id=?)" },
		{ "files", "SEARCH gate_file_parts USING INDEX sqlite_autoindex_gate_file_parts_1"
		    " (gate_run_id=?)" },
		/* keyed (gate run, path, seq): read in key order, no sort */
		{ "findings", "SEARCH findings USING PRIMARY KEY (gate_run_id=?)" },
		{ "cache", "SEARCH cache USING PRIMARY KEY (gate=? AND fingerprint=? AND path=? AND cache_key=?)" },
		{ "tool", "SEARCH tool_versions USING PRIMARY KEY (path=?)" },
		{ "summary", "SCAN file_state" },
		/* what does not pass, from its own index: no scan of the rest */
		{ "summary_brief", "SEARCH f USING COVERING INDEX file_state_open (gate=?)" },
		{ "summary_files", "SEARCH file_state USING COVERING INDEX file_state_open (gate=?)" },
		{ "last_run", "SCAN runs USING INDEX runs_started" },
		/* file_state has no index on path: one key lookup per gate */
		{ "removed", "SEARCH file_state USING PRIMARY KEY (gate=? AND path=?)" },
		/* the protected gate runs are listed once, not searched per run */
		{ "gc", "LIST SUBQUERY" },
	};
	struct tmp t;
	struct ledger *l;
	struct wd_err err = { 0, "" };
	struct buf b = BUF_INIT;

	tmp_init(&t);
	l = open_w(&t);
	for (size_t i = 0; i < sizeof(plans) / sizeof(*plans); i++) {
		buf_reset(&b);
		ASSERT_OK(ledger_explain(l, plans[i].query, &b, &err));
		if (strstr(b.buf, plans[i].want) == NULL)
			FAIL_("%s: plan\n%swants \"%s\"", plans[i].query, b.buf, plans[i].want);
		/* the summaries group the gates (a few) */
		if (strstr(b.buf, "TEMP B-TREE") && strncmp(plans[i].query, "summary", 7) != 0)
			FAIL_("%s: plan sorts:\n%s", plans[i].query, b.buf);
	}
	/* log filters walk their own index, newest first, without sorting */
	buf_reset(&b);
	ASSERT_OK(ledger_explain(l, "log_gate", &b, &err));
	ASSERT_CONTAINS(b.buf, "SEARCH g USING COVERING INDEX gate_runs_gate (gate=? AND run_id>?)");
	ASSERT_CONTAINS(b.buf, "SEARCH r USING INDEX sqlite_autoindex_runs_1 (id=?)");
	if (strstr(b.buf, "TEMP B-TREE"))
		FAIL_("log_gate sorts:\n%s", b.buf);
	buf_reset(&b);
	ASSERT_OK(ledger_explain(l, "log_status", &b, &err));
	ASSERT_CONTAINS(b.buf, "SEARCH runs USING INDEX runs_status (status=? AND started_at>?)");
	if (strstr(b.buf, "TEMP B-TREE"))
		FAIL_("log_status sorts:\n%s", b.buf);
	ASSERT_EQ(ledger_explain(l, "nope", &b, &err), WD_ENOTFOUND);
	buf_release(&b);
	ledger_close(l);
	tmp_release(&t);
	return 0;
}

/* The schema-1 DDL exactly as watchd 1 wrote it: a frozen copy, so the
 * migration is tested against what is really on users' disks. */
static const char v1_schema[] =
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
	"CREATE INDEX cache_created ON cache(created_at);";

static const char v1_data[] =
	"INSERT INTO runs VALUES ('01KAVS0C00ABCDEFGHJKMNPQRS', 'watch', 'fail',"
	" 1764000000000, 1764000000500, NULL, 'cfg1');"
	"INSERT INTO gate_runs (id, run_id, gate, fingerprint, status, exit_code, started_at,"
	" duration_ms, output) VALUES (7, '01KAVS0C00ABCDEFGHJKMNPQRS', 'ruff', 'fp1', 'fail',"
	" 1, 1764000000100, 41, 'a.py:1:8: F401');"
	"INSERT INTO gate_files VALUES (7, 'a.py', 'b10b', 'changed');"
	"INSERT INTO findings (gate_run_id, path, line, col, code, severity, message)"
	" VALUES (7, 'a.py', 1, 8, 'F401', 'error', 'unused import'),"
	" (7, 'a.py', 2, 1, 'E501', 'error', 'line too long');"
	"INSERT INTO file_state VALUES ('ruff', 'a.py', 'fail', 2, 7, 1764000000141);"
	"INSERT INTO cache VALUES ('ruff', 'fp1', 'a.py', 'b10b', 'fail', 7,"
	" '01KAVS0C00ABCDEFGHJKMNPQRS', 1764000000141);";

static void check_v1_run(struct ledger *l)
{
	struct wd_err err = { 0, "" };
	const cJSON *g;
	cJSON *run;

	if (ledger_show(l, "01KAVS0C00", &run, &err) != 0)
		FAIL_("show: %s", err.msg);
	ASSERT_STR_EQ(get_str(run, "status"), "fail");
	ASSERT_EQ(cJSON_GetArraySize(get(run, "gates")), 1);
	g = cJSON_GetArrayItem(get(run, "gates"), 0);
	ASSERT_STR_EQ(get_str(g, "name"), "ruff");
	ASSERT_STR_EQ(get_str(g, "output"), "a.py:1:8: F401");
	ASSERT_NULL(cJSON_GetObjectItemCaseSensitive(g, "input_digest"));
	ASSERT_EQ(cJSON_GetArraySize(get(g, "findings")), 2);
	ASSERT_STR_EQ(get_str(cJSON_GetArrayItem(get(g, "findings"), 1), "code"), "E501");
	cJSON_Delete(run);
}

TEST_IMPL(ledger_migrate_v1)
{
	struct tmp t;
	struct ledger *l = NULL;
	struct wd_err err = { 0, "" };
	struct ledger_cache_hit hit;
	char sql[64];

	tmp_init(&t);
	raw_exec(t.db, v1_schema);
	raw_exec(t.db, v1_data);
	snprintf(sql, sizeof(sql), "PRAGMA application_id = %d", 0x57544344);
	raw_exec(t.db, sql);
	raw_exec(t.db, "PRAGMA user_version = 1");

	/* READ reads an older schema as it is and changes nothing */
	ASSERT_OK(ledger_open(t.db, LEDGER_READ, &l, &err));
	check_v1_run(l);
	ledger_close(l);
	ASSERT_EQ(raw_int(t.db, "PRAGMA user_version"), 1);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM pragma_table_info('gate_runs')"
	    " WHERE name = 'input_digest'"), 0);

	/* WRITE upgrades in place, keeping every row */
	l = open_w(&t);
	ASSERT_EQ(raw_int(t.db, "PRAGMA user_version"), 10);
	ASSERT_EQ(raw_int(t.db, "PRAGMA application_id"), 0x57544344);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM pragma_table_info('gate_runs')"
	    " WHERE name = 'input_digest' AND type = 'TEXT'"), 1);
	/* (schema 10 made gate_files a view of the same columns) */
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM pragma_table_info('gate_files')"
	    " WHERE name = 'cache_key'"), 1);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM findings"), 2);
	check_v1_run(l);
	ASSERT_EQ(ledger_cache_lookup(l, "ruff", "fp1", "a.py", "b10b", &hit), 1);
	ASSERT_EQ(hit.findings.n, 2);
	findings_release(&hit.findings);
	/* schema 3: file_state and cache rebuilt without their foreign keys
	 * and the indexes that only served them, rows kept */
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM file_state WHERE gate_run_id = 7"), 1);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM pragma_foreign_key_list('file_state')"), 0);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM pragma_foreign_key_list('cache')"), 0);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN"
	    " ('runs_running', 'file_state_path', 'file_state_gate_run', 'cache_gate_run',"
	    " 'cache_created')"), 0);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND"
	    " name IN ('gate_runs_gate', 'runs_status')"), 2);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM sqlite_schema WHERE sql LIKE '%STRICT%'"
	    " AND name IN ('file_state', 'cache')"), 2);
	/* schema 4: findings are one b-tree keyed (gate run, path, seq), the
	 * old ids kept as seq (the tool's order) */
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM sqlite_schema WHERE name = 'findings'"
	    " AND sql LIKE '%WITHOUT ROWID%'"), 1);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM sqlite_schema WHERE name ="
	    " 'findings_gate_run'"), 0);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM findings WHERE gate_run_id = 7"
	    " AND path = 'a.py' AND seq IN (1, 2)"), 2);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM pragma_foreign_key_list('findings')"
	    " WHERE \"table\" = 'gate_runs' AND on_delete = 'CASCADE'"), 1);
	/* schema 5: the tool version cache, empty */
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM tool_versions"), 0);
	/* schema 8: the rows that do not pass, indexed (a.py fails in v1) */
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM file_state INDEXED BY file_state_open"
	    " WHERE gate = 'ruff' AND status <> 'pass'"),
	    raw_int(t.db, "SELECT count(*) FROM file_state WHERE gate = 'ruff' AND status <> 'pass'"));
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM pragma_integrity_check WHERE"
	    " integrity_check = 'ok'"), 1);
	ASSERT_EQ(ledger_quick_check(l, &err), 0);
	ledger_close(l);

	/* a second open has nothing left to do */
	l = open_w(&t);
	ledger_close(l);
	ASSERT_EQ(raw_int(t.db, "PRAGMA user_version"), 10);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM pragma_integrity_check"
	    " WHERE integrity_check <> 'ok'"), 0);
	tmp_release(&t);
	return 0;
}

TEST_IMPL(ledger_input_digest)
{
	static const char *const paths[] = { "t/test_a.py", NULL };
	struct tmp t;
	struct ledger *l;
	struct wd_err err = { 0, "" };
	char id[ULID_LEN + 1];
	struct ledger_file f = { .path = "t/test_a.py", .blob = "b10b", .cache_key = "inputs-1",
		.cache_status = GATE_PASS };
	struct ledger_gate_run g = {
		.gate = "pytest", .fingerprint = "fp9", .status = GATE_PASS, .exit_code = 0,
		.started_ms = 1764000000100, .files = &f, .nfiles = 1, .tests_total = 3,
		.tests_passed = 3, .tests_failed = 0, .tests_skipped = 0,
		.input_digest = "d1e5",
	};
	cJSON *run;
	const cJSON *gates;

	tmp_init(&t);
	l = open_w(&t);
	begin_run(l, id, 1764000000000, "watch");
	g.run_id = id;
	record(l, id, "ruff", GATE_PASS, paths, NULL, "b10b");
	ASSERT_OK(ledger_gate_record(l, &g, &err));
	ASSERT_OK(ledger_show(l, id, &run, &err));
	gates = get(run, "gates");
	ASSERT_NULL(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(gates, 0),
	    "input_digest"));
	ASSERT_STR_EQ(get_str(cJSON_GetArrayItem(gates, 1), "input_digest"), "d1e5");
	cJSON_Delete(run);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM gate_files WHERE cache_key = 'inputs-1'"
	    " AND blob = 'b10b'"), 1);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM gate_files WHERE cache_key = 'b10b'"), 1);
	ledger_close(l);
	tmp_release(&t);
	return 0;
}

/* A full disk keeps at most 10,000 writes; the rest are counted. */
TEST_IMPL(ledger_queue_bound)
{
	static const char *const paths[] = { "a.py", NULL };
	struct tmp t;
	struct ledger *l;
	struct wd_err err = { 0, "" };
	char id[ULID_LEN + 1], *out;
	struct ledger_gate_run g = {
		.gate = "g", .status = GATE_PASS, .exit_code = 0, .tests_total = -1,
		.tests_passed = -1, .tests_failed = -1, .tests_skipped = -1,
	};
	sqlite3 *db;
	cJSON *h;

	sqlite3_auto_extension((void (*)(void))capture_db);
	tmp_init(&t);
	l = open_w(&t);
	begin_run(l, id, 1764000000000, "run");
	record(l, id, "ruff", GATE_PASS, paths, NULL, NULL);
	db = last_db;
	ASSERT_EQ(sqlite3_exec(db, "PRAGMA max_page_count = 1", NULL, NULL, NULL), SQLITE_OK);
	out = xcalloc(1, 60001);
	memset(out, 'o', 60000);	/* more overflow pages than the freelist holds */
	g.run_id = id;
	g.output = out;
	ASSERT_EQ(ledger_gate_record(l, &g, &err), WD_ELEDGER_FULL);
	/* the large one stays at the head of the queue and fails every retry,
	 * so the rest fail too without carrying 60 KB each (600 MB copied) */
	g.output = "o";
	for (int i = 1; i < 10005; i++)
		ASSERT_EQ(ledger_gate_record(l, &g, &err), WD_ELEDGER_FULL);
	ASSERT_EQ(ledger_queued(l), 10000);
	ASSERT_OK(ledger_health(l, &h));
	ASSERT_EQ(get_num(h, "dropped_writes"), 5);
	ASSERT_EQ(get_num(h, "queued_writes"), 10000);
	cJSON_Delete(h);
	/* a READ connection never queues */
	{
		struct ledger *r = NULL;

		ASSERT_OK(ledger_open(t.db, LEDGER_READ, &r, &err));
		ASSERT_EQ(ledger_run_finish(r, id, "pass", 1764000000900, &err), WD_ELEDGER);
		ASSERT_EQ(ledger_queued(r), 0);
		ledger_close(r);
	}
	ASSERT_EQ(sqlite3_exec(db, "PRAGMA max_page_count = 1073741823", NULL, NULL, NULL),
	    SQLITE_OK);
	ASSERT_EQ(ledger_retry(l, &err), 0);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM gate_runs WHERE gate = 'g'"), 10000);
	free(out);
	ledger_close(l);
	sqlite3_reset_auto_extension();
	tmp_release(&t);
	return 0;
}

TEST_IMPL(ledger_quick_check_damage)
{
	struct tmp t;
	struct ledger *l;
	struct wd_err err = { 0, "" };
	cJSON *h;
	int page, pgsize;
	FILE *fp;

	tmp_init(&t);
	l = open_w(&t);
	ASSERT_OK(ledger_quick_check(l, &err));
	ASSERT_OK(ledger_health(l, &h));
	ASSERT(cJSON_IsTrue(get(h, "ok")));
	cJSON_Delete(h);
	ledger_close(l);
	/* scribble over the root page of the runs table (the WAL is
	 * checkpointed by the last close) */
	page = raw_int(t.db, "SELECT rootpage FROM sqlite_schema WHERE name = 'runs'");
	pgsize = raw_int(t.db, "PRAGMA page_size");
	ASSERT_NOT_NULL(fp = fopen(t.db, "r+b"));
	ASSERT_OK(fseek(fp, (long)(page - 1) * pgsize, SEEK_SET));
	for (int i = 0; i < 64; i++)
		fputc(0xee, fp);
	fclose(fp);
	if (ledger_open(t.db, LEDGER_WRITE, &l, &err) == 0) {
		ASSERT(ledger_quick_check(l, &err) != 0);
		ASSERT_CONTAINS(err.msg, t.db);
		ASSERT_OK(ledger_health(l, &h));
		ASSERT(cJSON_IsFalse(get(h, "ok")));
		ASSERT_CONTAINS(get_str(h, "error"), "quick_check");
		cJSON_Delete(h);
		ledger_close(l);
	} else {
		ASSERT_CONTAINS(err.msg, t.db);	/* refused at open: also loud */
	}
	tmp_release(&t);
	return 0;
}

/* Issue 16, point 7: the files of a run a crash cut short come back at the
 * next start, their stale state gone; a finished run's do not. */
TEST_IMPL(ledger_interrupted_hands_back_unjudged_files)
{
	static const char *const old[] = { "a.sh", "b.sh", NULL };
	static const char *const cut[] = { "a.sh", "c.sh", "a.sh" };
	static const char *const done[] = { "d.sh" };
	struct tmp t;
	struct ledger *l;
	struct wd_err err = { 0, "" };
	struct strvec left = STRVEC_INIT;
	char a[ULID_LEN + 1], b[ULID_LEN + 1], c[ULID_LEN + 1];
	cJSON *gates;
	int n = -1;

	tmp_init(&t);
	l = open_w(&t);
	/* a.sh and b.sh judged pass earlier */
	begin_run(l, a, 1000, "watch");
	record(l, a, "g", GATE_PASS, old, NULL, NULL);
	ASSERT_OK(ledger_run_finish(l, a, "pass", 1200, &err));
	/* then a run on new content of a.sh (and c.sh) dies mid-way */
	{
		struct ledger_run r = { .trigger = "watch", .config_hash = "cfg1",
			.started_ms = 2000, .files = cut, .nfiles = 3 };

		ulid_at(b, 2000);
		memcpy(r.id, b, sizeof(r.id));
		ASSERT_OK(ledger_run_begin(l, &r, &err));
	}
	/* a run that finished keeps nothing */
	{
		struct ledger_run r = { .trigger = "watch", .config_hash = "cfg1",
			.started_ms = 3000, .files = done, .nfiles = 1 };

		ulid_at(c, 3000);
		memcpy(r.id, c, sizeof(r.id));
		ASSERT_OK(ledger_run_begin(l, &r, &err));
		ASSERT_OK(ledger_run_finish(l, c, "pass", 3100, &err));
	}
	ASSERT_OK(ledger_mark_interrupted(l, &n, &left, &err));
	ASSERT_EQ(n, 1);
	ASSERT_EQ(left.n, 2);
	ASSERT_STR_EQ(left.v[0], "a.sh");
	ASSERT_STR_EQ(left.v[1], "c.sh");
	/* a.sh's pass was for content before the cut run: no longer shown */
	ASSERT_OK(ledger_gate_summary(l, &gates, &err));
	ASSERT_EQ(cJSON_GetArraySize(gates), 1);
	ASSERT_EQ(get(cJSON_GetArrayItem(gates, 0), "checked_files")->valueint, 1);
	cJSON_Delete(gates);
	/* handed back once */
	strvec_clear(&left);
	ASSERT_OK(ledger_mark_interrupted(l, &n, &left, &err));
	ASSERT_EQ(n, 0);
	ASSERT_EQ(left.n, 0);
	ledger_close(l);
	tmp_release(&t);
	return 0;
}

/* A run over files, keeping them in run_files as the daemon's runs do. */
static void begin_run_files(struct ledger *l, char id[ULID_LEN + 1], int64_t ms,
    const char *const *files)
{
	struct ledger_run r = { .trigger = "watch", .config_hash = "cfg1", .started_ms = ms,
		.files = files };

	while (files[r.nfiles])
		r.nfiles++;
	ulid_at(id, (uint64_t)ms);
	memcpy(r.id, id, ULID_LEN + 1);
	ASSERT_OK(ledger_run_begin(l, &r, NULL));
}

/* A WRITE ledger with a stage, where gate "ruff" has judged a.py: a
 * gate's first rows go straight to file_state (the brief lists the gates
 * from there), so the rows of its later runs can be staged. */
static struct ledger *open_staged(const struct tmp *t)
{
	static const char *const first[] = { "a.py", NULL };
	struct wd_err err = { 0, "" };
	char a[ULID_LEN + 1];
	struct ledger *l = open_w(t);

	ASSERT_OK(ledger_stage(l, NULL, NULL, &err));
	begin_run_files(l, a, 1000, first);
	record(l, a, "ruff", GATE_PASS, first, NULL, "k1");
	ASSERT_OK(ledger_run_finish(l, a, "pass", 1200, &err));
	ASSERT_EQ(ledger_staged(l), 0);
	return l;
}

TEST_IMPL(ledger_stage_writes_results_behind)
{
	static const char *const burst[] = { "b.py", "c.py", NULL };
	static const char *const failing[] = { "c.py", NULL };
	static const char *const again[] = { "b.py", "c.py", NULL };
	static const char *const last[] = { "a.py", NULL };
	struct tmp t;
	struct ledger *l, *l2;
	struct wd_err err = { 0, "" };
	struct strvec left = STRVEC_INIT;
	char b[ULID_LEN + 1], c[ULID_LEN + 1], d[ULID_LEN + 1];
	struct ledger_cache_hit hit;
	cJSON *brief, *brief2;
	int n = -1;

	tmp_init(&t);
	l = open_staged(&t);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM file_state"), 1);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM run_files"), 0);

	/* then b.py passes and waits; c.py fails and is written at once */
	begin_run_files(l, b, 2000, burst);
	record(l, b, "ruff", GATE_FAIL, burst, failing, "k2");
	/* a row per file: b.py's state and cache, c.py's cache */
	ASSERT_EQ(ledger_staged(l), 2);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM file_state WHERE path = 'b.py'"), 0);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM file_state WHERE path = 'c.py'"
	    " AND status = 'fail' AND findings = 1"), 1);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM cache"), 1);
	/* this connection's lookups see what waits, findings and all */
	ASSERT_EQ(ledger_cache_lookup(l, "ruff", "fp1", "b.py", "k2", &hit), 1);
	ASSERT_EQ(hit.status, GATE_PASS);
	ASSERT_STR_EQ(hit.run_id, b);
	findings_release(&hit.findings);
	ASSERT_EQ(ledger_cache_lookup(l, "ruff", "fp1", "c.py", "k2", &hit), 1);
	ASSERT_EQ(hit.status, GATE_FAIL);
	ASSERT_EQ(hit.findings.n, 1);
	findings_release(&hit.findings);
	ASSERT_EQ(ledger_cache_lookup(l, "ruff", "fp2", "b.py", "k2", &hit), 0);
	/* a finished run keeps its files until its rows are written */
	ASSERT_OK(ledger_run_finish(l, b, "fail", 2300, &err));
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM run_files"), 1);
	ASSERT_EQ(raw_int(t.db, "SELECT length(paths) FROM run_files"), 9);	/* b.py, c.py */
	/* the brief reads the same before and after the flush */
	ASSERT_OK(ledger_gate_brief(l, &brief, &err));
	ASSERT_OK(ledger_flush(l, &err));
	ASSERT_EQ(ledger_staged(l), 0);
	ASSERT_OK(ledger_gate_brief(l, &brief2, &err));
	ASSERT(cJSON_Compare(brief, brief2, 1));
	cJSON_Delete(brief);
	cJSON_Delete(brief2);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM file_state WHERE path = 'b.py'"
	    " AND status = 'pass'"), 1);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM cache WHERE cache_key = 'k2'"
	    " AND run_id = (SELECT run_id FROM gate_runs WHERE id = cache.gate_run_id)"), 2);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM run_files"), 0);
	ASSERT_OK(ledger_flush(l, &err));	/* nothing left: no transaction */

	/* c.py fixed: its open row is replaced at once, b.py's waits; then
	 * b.py is removed and its waiting row goes with it */
	begin_run_files(l, c, 3000, again);
	record(l, c, "ruff", GATE_PASS, again, NULL, "k3");
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM file_state WHERE path = 'c.py'"
	    " AND status = 'pass'"), 1);
	ASSERT_EQ(ledger_staged(l), 2);
	ASSERT_OK(ledger_file_removed(l, "b.py", &err));
	ASSERT_OK(ledger_run_finish(l, c, "pass", 3300, &err));
	ASSERT_OK(ledger_flush(l, &err));
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM file_state WHERE path = 'b.py'"), 0);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM cache WHERE cache_key = 'k3'"), 2);

	/* a daemon that dies with rows staged: the next one judges the run's
	 * files again, though the run finished */
	begin_run_files(l, d, 4000, last);
	record(l, d, "ruff", GATE_PASS, last, NULL, "k4");
	ASSERT_OK(ledger_run_finish(l, d, "pass", 4300, &err));
	ASSERT(ledger_staged(l) > 0);
	l2 = open_w(&t);
	ASSERT_OK(ledger_mark_interrupted(l2, &n, &left, &err));
	ASSERT_EQ(n, 0);
	ASSERT_EQ(left.n, 1);
	ASSERT_STR_EQ(left.v[0], "a.py");
	strvec_clear(&left);
	ledger_close(l2);
	ledger_close(l);	/* writes what was staged */
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM cache WHERE cache_key = 'k4'"), 1);
	tmp_release(&t);
	return 0;
}

/* Row i of a gate run over many files: n%04d.py, passing, keyed by path. */
static void many_at(void *arg, size_t i, bool reason, struct ledger_file *f)
{
	char *path = arg;

	(void)reason;
	snprintf(path, 32, "n%04zu.py", i);
	f->path = path;
	f->blob = "b10b";
	f->cache_key = path;
	f->cache_status = GATE_PASS;
}

TEST_IMPL(ledger_stage_flushes_in_slices)
{
	struct tmp t;
	struct ledger *l;
	struct wd_err err = { 0, "" };
	char b[ULID_LEN + 1], path[32];
	struct ledger_gate_run g = {
		.gate = "ruff", .fingerprint = "fp1", .status = GATE_PASS, .nfiles = 1200,
		.file_at = many_at, .file_arg = path, .tests_total = -1, .tests_passed = -1,
		.tests_failed = -1, .tests_skipped = -1,
	};
	struct ledger_run r = { .trigger = "watch", .config_hash = "cfg1", .started_ms = 2000 };
	const char **files = xcalloc(1200, sizeof(*files));
	struct strvec names = STRVEC_INIT;
	size_t left;

	tmp_init(&t);
	l = open_staged(&t);
	for (size_t i = 0; i < 1200; i++)
		strvec_pushf(&names, "n%04zu.py", i);
	for (size_t i = 0; i < 1200; i++)
		files[i] = names.v[i];
	ulid_at(b, 2000);
	memcpy(r.id, b, sizeof(r.id));
	r.files = files;
	r.nfiles = 1200;
	ASSERT_OK(ledger_run_begin(l, &r, &err));
	g.run_id = b;
	ASSERT_OK(ledger_gate_record(l, &g, &err));
	ASSERT_OK(ledger_run_finish(l, b, "pass", 2500, &err));
	ASSERT_EQ(ledger_staged(l), 1200);
	ASSERT(ledger_staged_ms(l) >= 0 && ledger_staged_ms(l) < 60000);

	/* a slice is the first rows in key order; the run keeps its files
	 * until the last one */
	ASSERT_OK(ledger_flush_slice(l, &err));
	left = ledger_staged(l);
	ASSERT(left > 0 && left < 1200);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM file_state WHERE path LIKE 'n%'"),
	    (int)(1200 - left));
	ASSERT_EQ(raw_int(t.db, "SELECT max(path) < 'n1000' FROM file_state"), 1);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM cache WHERE path LIKE 'n%'"),
	    (int)(1200 - left));
	/* its 1,200 files, a few kilobytes a row */
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM run_files"), 2);
	ASSERT_EQ(raw_int(t.db, "SELECT sum(length(paths)) + count(*) FROM run_files"),
	    1200 * 9);	/* "n0000.py" and its NUL, each */
	/* a removed file's staged state goes; its cache row stays */
	ASSERT_OK(ledger_file_removed(l, "n1100.py", &err));
	while (ledger_staged(l) > 0)
		ASSERT_OK(ledger_flush_slice(l, &err));
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM file_state WHERE path LIKE 'n%'"), 1199);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM file_state WHERE path = 'n1100.py'"), 0);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM cache WHERE path LIKE 'n%'"), 1200);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM run_files"), 0);
	ASSERT_EQ(ledger_staged_ms(l), 0);		/* empty: nothing waits */
	ASSERT_EQ(ledger_flush(l, &err), 0);		/* nothing to write */
	ledger_close(l);
	strvec_clear(&names);
	free(files);
	tmp_release(&t);
	return 0;
}

static bool never_busy(void *arg)
{
	(void)arg;
	return false;
}

TEST_IMPL(ledger_stage_only_while_busy)
{
	static const char *const files[] = { "a.py", NULL };
	struct tmp t;
	struct ledger *l;
	struct wd_err err = { 0, "" };
	char a[ULID_LEN + 1], b[ULID_LEN + 1];

	tmp_init(&t);
	l = open_w(&t);
	/* a lone edit: nothing else on its way, its rows go with its gate run */
	ASSERT_OK(ledger_stage(l, never_busy, NULL, &err));
	begin_run_files(l, a, 1000, files);
	record(l, a, "ruff", GATE_PASS, files, NULL, "k1");
	begin_run_files(l, b, 2000, files);
	record(l, b, "ruff", GATE_PASS, files, NULL, "k2");
	ASSERT_EQ(ledger_staged(l), 0);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM cache WHERE cache_key = 'k2'"), 1);
	ledger_close(l);
	tmp_release(&t);
	return 0;
}

static int lookup(struct ledger *l, const char *path, const char *key)
{
	struct ledger_cache_hit hit;
	int rc = ledger_cache_lookup(l, "ruff", "fp1", path, key, &hit);

	findings_release(&hit.findings);
	return rc;
}

/* The key filter answers a miss without a query, and loses no hit: rows
 * there before it was built, rows this connection writes (staged or
 * direct) after, and rows another process writes, which put it out of use
 * until a batch big enough rebuilds it. */
TEST_IMPL(ledger_keyfilter_misses_without_losing_a_hit)
{
	static const char *const paths[] = { "src/a.py", "src/b.py", NULL };
	struct wd_err err = { 0, "" };
	struct tmp t;
	struct ledger *l;
	sqlite3 *own;
	char id[ULID_LEN + 1];

	tmp_init(&t);
	sqlite3_auto_extension((void (*)(void))capture_db);
	l = open_w(&t);
	own = last_db;
	sqlite3_cancel_auto_extension((void (*)(void))capture_db);
	begin_run(l, id, 1764000000000, "run");
	record(l, id, "ruff", GATE_PASS, paths, NULL, "key1");
	if (ledger_keyfilter(l, &err) != 0)
		FAIL_("ledger_keyfilter: %s", err.msg);
	ASSERT_EQ(lookup(l, "src/a.py", "key1"), 1);	/* there before the build */
	ASSERT_EQ(lookup(l, "src/a.py", "key2"), 0);

	/* the filter, not the table, answered: a row put behind the ledger's
	 * back on its own connection (no other writer to notice) is not seen */
	ASSERT_EQ(sqlite3_exec(own, "INSERT INTO cache (gate, fingerprint, path, cache_key, status,"
	    " gate_run_id, run_id, created_at) SELECT gate, fingerprint, path, 'hidden', status,"
	    " gate_run_id, run_id, created_at FROM cache WHERE path = 'src/a.py'", NULL, NULL,
	    NULL), SQLITE_OK);
	ledger_cache_prepare(l, 100000);
	ASSERT_EQ(lookup(l, "src/a.py", "hidden"), 0);

	/* its own writes, direct and staged, are taken as written */
	record(l, id, "ruff", GATE_PASS, paths, NULL, "key2");
	ASSERT_EQ(lookup(l, "src/b.py", "key2"), 1);
	ASSERT_OK(ledger_stage(l, NULL, NULL, &err));
	record(l, id, "ruff", GATE_PASS, paths, NULL, "key3");
	ASSERT(ledger_staged(l) > 0);
	ASSERT_EQ(lookup(l, "src/a.py", "key3"), 1);

	/* another process's write: noticed, and the queries answer until a
	 * batch big enough to pay for the scan rebuilds the filter */
	raw_exec(t.db, "INSERT INTO cache (gate, fingerprint, path, cache_key, status, gate_run_id,"
	    " run_id, created_at) SELECT gate, fingerprint, path, 'key4', status, gate_run_id,"
	    " run_id, created_at FROM cache WHERE cache_key = 'key1'");
	ledger_cache_prepare(l, 1);
	ASSERT_EQ(lookup(l, "src/a.py", "key4"), 1);
	ASSERT_EQ(lookup(l, "src/a.py", "hidden"), 1);	/* out of use: the table answers */
	ledger_cache_prepare(l, 100000);		/* rebuilt, with the stage's keys */
	ASSERT_EQ(lookup(l, "src/b.py", "key4"), 1);
	ASSERT_EQ(lookup(l, "src/a.py", "key3"), 1);
	ASSERT_EQ(lookup(l, "src/a.py", "hidden"), 1);
	ASSERT_EQ(lookup(l, "src/a.py", "key5"), 0);
	ASSERT_OK(ledger_flush(l, &err));
	ASSERT_EQ(lookup(l, "src/a.py", "key3"), 1);

	/* a read connection has none */
	{
		struct ledger *r = NULL;

		ASSERT_OK(ledger_open(t.db, LEDGER_READ, &r, &err));
		ASSERT_NE(ledger_keyfilter(r, &err), 0);
		ASSERT_EQ(lookup(r, "src/a.py", "key4"), 1);
		ledger_close(r);
	}
	ledger_close(l);
	tmp_release(&t);
	return 0;
}

/* Schema 9's gate_files, a row per file, in place of schema 10's parts. */
#define SCHEMA_9_GATE_FILES \
	"DROP VIEW gate_files; DROP TABLE gate_file_parts;" \
	"CREATE TABLE gate_files (" \
	"  gate_run_id INTEGER NOT NULL REFERENCES gate_runs(id) ON DELETE CASCADE," \
	"  path TEXT NOT NULL, blob TEXT, reason TEXT, cache_key TEXT," \
	"  PRIMARY KEY (gate_run_id, path)) STRICT, WITHOUT ROWID;"

/* A ledger of schema 8 kept a row per file of each unfinished run: the
 * migration makes one row per run, and the next daemon still judges every
 * one of those files again. */
TEST_IMPL(ledger_run_files_of_schema_8_migrate)
{
	struct wd_err err = { 0, "" };
	struct strvec left = STRVEC_INIT;
	struct tmp t;
	struct ledger *l;
	char a[ULID_LEN + 1], b[ULID_LEN + 1];
	int n = -1;

	tmp_init(&t);
	l = open_w(&t);
	begin_run(l, a, 1000, "watch");
	begin_run(l, b, 2000, "watch");
	ledger_close(l);
	{
		char *sql = xasprintf(SCHEMA_9_GATE_FILES "DROP TABLE run_files;"
		    "CREATE TABLE run_files (run_id TEXT NOT NULL REFERENCES runs(id)"
		    "  ON DELETE CASCADE, path TEXT NOT NULL, PRIMARY KEY (run_id, path))"
		    "  STRICT, WITHOUT ROWID;"
		    "INSERT INTO run_files VALUES ('%s', 'a.py'), ('%s', 'odd\nname.py'),"
		    "  ('%s', 'a.py'), ('%s', 'b.py');"
		    "PRAGMA user_version = 8;", a, a, b, b);

		raw_exec(t.db, sql);
		free(sql);
	}
	l = open_w(&t);
	ASSERT_EQ(raw_int(t.db, "PRAGMA user_version"), 10);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM run_files"), 2);
	ASSERT_OK(ledger_mark_interrupted(l, &n, &left, &err));
	ASSERT_EQ(n, 2);
	ASSERT_EQ(left.n, 3);
	ASSERT_STR_EQ(left.v[0], "a.py");
	ASSERT_STR_EQ(left.v[1], "b.py");
	ASSERT_STR_EQ(left.v[2], "odd\nname.py");
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM run_files"), 0);
	strvec_clear(&left);
	ledger_close(l);
	tmp_release(&t);
	return 0;
}

/* Schema 9 kept a row per file of each gate run: they become the run's
 * parts, read back by show and by the gate_files view, an odd name and
 * empty fields included. */
TEST_IMPL(ledger_gate_files_of_schema_9_migrate)
{
	static const char *const none[] = { NULL };
	struct wd_err err = { 0, "" };
	struct tmp t;
	struct ledger *l;
	cJSON *run;
	const cJSON *g;
	char a[ULID_LEN + 1];

	tmp_init(&t);
	l = open_w(&t);
	begin_run(l, a, 1000, "watch");
	record(l, a, "ruff", GATE_PASS, none, NULL, NULL);
	ledger_close(l);
	raw_exec(t.db, SCHEMA_9_GATE_FILES
	    "INSERT INTO gate_files SELECT id, 'z.py', 'b10b', 'changed', 'k1' FROM gate_runs;"
	    "INSERT INTO gate_files SELECT id, 'odd' || char(10) || 'name.py', NULL, NULL, NULL"
	    "  FROM gate_runs;"
	    "PRAGMA user_version = 9;");
	l = open_w(&t);
	ASSERT_EQ(raw_int(t.db, "PRAGMA user_version"), 10);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM gate_file_parts"), 1);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM gate_files WHERE path = 'z.py'"
	    " AND blob = 'b10b' AND reason = 'changed' AND cache_key = 'k1'"), 1);
	ASSERT_EQ(raw_int(t.db, "SELECT count(*) FROM gate_files WHERE path = 'odd' || char(10) ||"
	    " 'name.py' AND blob IS NULL AND reason IS NULL AND cache_key IS NULL"), 1);
	ASSERT_OK(ledger_show(l, a, &run, &err));
	g = cJSON_GetArrayItem(get(run, "gates"), 0);
	ASSERT_EQ(cJSON_GetArraySize(get(g, "files")), 2);
	ASSERT_STR_EQ(cJSON_GetArrayItem(get(g, "files"), 0)->valuestring, "odd\nname.py");
	ASSERT_STR_EQ(cJSON_GetArrayItem(get(g, "files"), 1)->valuestring, "z.py");
	ASSERT_STR_EQ(get_str(get(g, "reasons"), "z.py"), "changed");
	ASSERT_NULL(cJSON_GetObjectItemCaseSensitive(get(g, "reasons"), "odd\nname.py"));
	cJSON_Delete(run);
	ledger_close(l);
	tmp_release(&t);
	return 0;
}

/* Row i of a big gate run written in reverse order, with a reason on
 * every third file. */
static void parts_at(void *arg, size_t i, bool reason, struct ledger_file *f)
{
	char *path = arg;

	snprintf(path, 64, "dir/n%05zu.py", 2999 - i);
	f->path = path;
	f->blob = "0123456789abcdef0123456789abcdef01234567";
	f->cache_key = f->blob;
	f->cache_status = GATE_PASS;
	f->reason = reason && i % 3 == 0 ? "changed" : NULL;
}

/* A gate run's files are written a few kilobytes a row: 3,000 of them
 * take several rows, and show lists every one, in path order, with its
 * reason. */
TEST_IMPL(ledger_gate_files_in_parts)
{
	struct wd_err err = { 0, "" };
	struct tmp t;
	struct ledger *l;
	char a[ULID_LEN + 1], path[64];
	struct ledger_gate_run g = {
		.gate = "ruff", .fingerprint = "fp1", .status = GATE_PASS, .nfiles = 3000,
		.file_at = parts_at, .file_arg = path, .tests_total = -1, .tests_passed = -1,
		.tests_failed = -1, .tests_skipped = -1,
	};
	const cJSON *files, *reasons;
	cJSON *run;

	tmp_init(&t);
	l = open_w(&t);
	begin_run(l, a, 1000, "watch");
	g.run_id = a;
	ASSERT_OK(ledger_gate_record(l, &g, &err));
	ASSERT(raw_int(t.db, "SELECT count(*) FROM gate_file_parts") >= 20);
	ASSERT_EQ(raw_int(t.db, "SELECT max(length(files)) <= 8192 FROM gate_file_parts"), 1);
	ASSERT_EQ(raw_int(t.db, "SELECT count(DISTINCT path) FROM gate_files"), 3000);
	ASSERT_OK(ledger_show(l, a, &run, &err));
	files = get(cJSON_GetArrayItem(get(run, "gates"), 0), "files");
	reasons = get(cJSON_GetArrayItem(get(run, "gates"), 0), "reasons");
	ASSERT_EQ(cJSON_GetArraySize(files), 3000);
	for (int i = 0; i < 3000; i++) {
		snprintf(path, sizeof(path), "dir/n%05d.py", i);
		ASSERT_STR_EQ(cJSON_GetArrayItem(files, i)->valuestring, path);
	}
	ASSERT_EQ(cJSON_GetArraySize(reasons), 1000);
	ASSERT_STR_EQ(get_str(reasons, "dir/n02999.py"), "changed");
	cJSON_Delete(run);
	ledger_close(l);
	tmp_release(&t);
	return 0;
}
