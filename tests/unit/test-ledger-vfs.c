/* The ledger's WAL-gathering VFS against real SQLite files: every commit is
 * in the file (a reader, and a recovery after the writer died, see it);
 * transactions that spill and roll back, or fail to write, leave nothing
 * of theirs behind. */
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "daemon/ledger/ledger-vfs.h"
#include "test.h"

struct tmp {
	char	dir[256];
	char	db[300];
};

static void tmp_init(struct tmp *t)
{
	const char *base = getenv("TMPDIR");

	snprintf(t->dir, sizeof(t->dir), "%s/watchd-vfs-XXXXXX", base && *base ? base : "/tmp");
	ASSERT_NOT_NULL(mkdtemp(t->dir));
	snprintf(t->db, sizeof(t->db), "%s/t.db", t->dir);
}

static void tmp_release(struct tmp *t)
{
	static const char *const sfx[] = { "", "-wal", "-shm" };
	char p[320];

	for (size_t i = 0; i < sizeof(sfx) / sizeof(*sfx); i++) {
		snprintf(p, sizeof(p), "%s%s", t->db, sfx[i]);
		unlink(p);
	}
	rmdir(t->dir);
}

static void exec_ok(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		FAIL_("%s: %s", sql, msg ? msg : "?");
}

/* A writer through the gathering VFS that never checkpoints, so every
 * committed row lives only in the -wal file; a page cache of 8 pages makes
 * a large transaction spill frames before its commit. */
static sqlite3 *open_gathering(const char *path)
{
	const char *vfs = ledger_vfs();
	sqlite3 *db;

	ASSERT_NOT_NULL(vfs);
	ASSERT_EQ(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs),
	    SQLITE_OK);
	exec_ok(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	    " PRAGMA wal_autocheckpoint=0; PRAGMA cache_size=8;"
	    " CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v BLOB NOT NULL)");
	return db;
}

/* Through the default VFS, as another process would read it. */
static int64_t count_rows(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	int64_t n;

	ASSERT_EQ(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	ASSERT_EQ(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

static void insert(sqlite3 *db, int from, int n, int size)
{
	char sql[160];

	snprintf(sql, sizeof(sql), "WITH RECURSIVE c(i) AS (SELECT %d UNION ALL SELECT i + 1"
	    " FROM c WHERE i < %d) INSERT INTO t SELECT i, randomblob(%d) FROM c", from,
	    from + n - 1, size);
	exec_ok(db, sql);
}

static void check_ok(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *s;

	ASSERT_EQ(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL), SQLITE_OK);
	ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
	ASSERT_STR_EQ((const char *)sqlite3_column_text(s, 0), "ok");
	sqlite3_finalize(s);
	sqlite3_close(db);
}

TEST_IMPL(ledger_vfs_commits_are_in_the_file)
{
	struct tmp t;
	sqlite3 *db;

	tmp_init(&t);
	db = open_gathering(t.db);
	/* small transactions, each seen by a reader right after its commit */
	for (int i = 0; i < 50; i++) {
		exec_ok(db, "BEGIN IMMEDIATE");
		insert(db, i * 10, 10, 100);
		exec_ok(db, "COMMIT");
		ASSERT_EQ(count_rows(t.db, "SELECT count(*) FROM t"), (i + 1) * 10);
	}
	/* one larger than what is gathered at once (128 KiB) and than the
	 * page cache, so frames are written before the commit frame too */
	exec_ok(db, "BEGIN IMMEDIATE");
	insert(db, 1000, 400, 3000);
	exec_ok(db, "COMMIT");
	ASSERT_EQ(count_rows(t.db, "SELECT count(*) FROM t"), 900);
	ASSERT_EQ(count_rows(t.db, "SELECT sum(length(v)) FROM t"), 500 * 100 + 400 * 3000);
	sqlite3_close(db);
	check_ok(t.db);
	tmp_release(&t);
	return 0;
}

TEST_IMPL(ledger_vfs_rollback_leaves_nothing)
{
	struct tmp t;
	sqlite3 *db;

	tmp_init(&t);
	db = open_gathering(t.db);
	exec_ok(db, "BEGIN IMMEDIATE");
	insert(db, 0, 10, 100);
	exec_ok(db, "COMMIT");
	/* spills frames past the last commit, then gives them up */
	exec_ok(db, "BEGIN IMMEDIATE");
	insert(db, 100, 300, 3000);
	exec_ok(db, "ROLLBACK");
	ASSERT_EQ(count_rows(t.db, "SELECT count(*) FROM t"), 10);
	/* the next commit writes over the rolled-back frames */
	exec_ok(db, "BEGIN IMMEDIATE");
	insert(db, 1000, 5, 100);
	exec_ok(db, "COMMIT");
	ASSERT_EQ(count_rows(t.db, "SELECT count(*) FROM t"), 15);
	sqlite3_close(db);
	check_ok(t.db);
	ASSERT_EQ(count_rows(t.db, "SELECT count(*) FROM t"), 15);
	tmp_release(&t);
	return 0;
}

/* A writer that dies without closing: a new process recovers every
 * committed transaction from the -wal file alone. */
TEST_IMPL(ledger_vfs_writer_killed)
{
	struct tmp t;
	pid_t pid;
	int status;

	tmp_init(&t);
	if ((pid = fork()) == 0) {
		sqlite3 *db = open_gathering(t.db);

		for (int i = 0; i < 20; i++) {
			exec_ok(db, "BEGIN IMMEDIATE");
			insert(db, i * 10, 10, 200);
			exec_ok(db, "COMMIT");
		}
		exec_ok(db, "BEGIN IMMEDIATE");	/* in flight when it dies */
		insert(db, 5000, 50, 200);
		kill(getpid(), SIGKILL);
	}
	ASSERT(pid > 0);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	ASSERT_EQ(count_rows(t.db, "SELECT count(*) FROM t"), 200);
	check_ok(t.db);
	tmp_release(&t);
	return 0;
}

/* A commit whose frames cannot be written (the file size limit stands in
 * for a full disk) fails as a write, publishes nothing, and the next one
 * succeeds once there is room. */
TEST_IMPL(ledger_vfs_write_error)
{
	struct tmp t;
	char wal[320];
	struct stat st;
	struct rlimit rl;
	sqlite3 *db;
	int rc;

	tmp_init(&t);
	snprintf(wal, sizeof(wal), "%s-wal", t.db);
	db = open_gathering(t.db);
	exec_ok(db, "BEGIN IMMEDIATE");
	insert(db, 0, 10, 100);
	exec_ok(db, "COMMIT");
	ASSERT_EQ(stat(wal, &st), 0);

	signal(SIGXFSZ, SIG_IGN);
	ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &rl), 0);
	rl.rlim_cur = (rlim_t)st.st_size + 8192;
	ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &rl), 0);
	exec_ok(db, "BEGIN IMMEDIATE");
	insert(db, 100, 20, 1000);
	rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	ASSERT_NE(rc, SQLITE_OK);
	ASSERT_EQ(rc & 0xff, SQLITE_IOERR);
	if (!sqlite3_get_autocommit(db))
		exec_ok(db, "ROLLBACK");
	ASSERT_EQ(count_rows(t.db, "SELECT count(*) FROM t"), 10);

	rl.rlim_cur = rl.rlim_max;
	ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &rl), 0);
	exec_ok(db, "BEGIN IMMEDIATE");
	insert(db, 100, 20, 1000);
	exec_ok(db, "COMMIT");
	ASSERT_EQ(count_rows(t.db, "SELECT count(*) FROM t"), 30);
	sqlite3_close(db);
	check_ok(t.db);
	tmp_release(&t);
	return 0;
}
