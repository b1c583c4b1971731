/* What the ledger keeps, and for how long: retention of old runs (`watchd
 * gc`), pruning of per-file state that no longer describes anything, and
 * the checkpoints that copy the WAL back into the database.
 *
 * Checkpoints. SQLite's own runs inside the commit that crosses 1,000
 * frames, and the WAL reset after it syncs both files inside the next one,
 * so one run in fifty paid two fdatasyncs before its tool could start.
 * Instead, every WRITE connection tells ledger__wal_hook how many frames
 * each commit left in the WAL, and the daemon calls ledger_idle once
 * nothing has run for a while; a commit checkpoints by itself only past
 * WAL_HARD_FRAMES (continuous load, or a one-shot run recording much). No
 * checkpoint here waits for a reader: the daemon's loop must not block.
 * Continuous load is the daemon's normal day (edits less than a second
 * apart, a burst after them), so the daemon hands checkpoints to a thread
 * (ledger_checkpoint_thread): a PASSIVE checkpoint on another connection
 * runs beside the writer's commits, which go on appending to the WAL. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "ledger-internal.h"
#include "lib/strvec.h"
#include "lib/xmalloc.h"

#define WAL_IDLE_FRAMES		1000	/* ledger_idle copies back from this many */
#define WAL_HARD_FRAMES		8000	/* a commit checkpoints from this many */
#define WAL_BG_FRAMES		1000	/* the thread is asked per this many new */

/* ---- checkpoints --------------------------------------------------------- */

/* The checkpoint thread and its connection; mu guards wanted and stop. */
struct ckpt {
	pthread_t	 thread;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	sqlite3		*db;
	bool		 wanted, stop;
};

static void *ckpt_main(void *arg)
{
	struct ckpt *c = arg;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->wanted && !c->stop)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->stop)
			break;
		c->wanted = false;
		pthread_mutex_unlock(&c->mu);
		/* frames a reader still needs are copied next time */
		sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int ledger_checkpoint_thread(struct ledger *l)
{
	struct ckpt *c;
	int rc;

	/* the test hook caps the main connection's pages; leave its
	 * checkpoints where they were */
	if (l == NULL || l->mode != LEDGER_WRITE || l->ckpt || l->test_hook)
		return 0;
	c = xcalloc(1, sizeof(*c));
	/* one read first: until a connection has read the database its pager
	 * does not know the WAL, and a checkpoint on it does nothing. A
	 * header field is read without parsing the schema, which this
	 * connection never needs (100 kB of it) */
	if (sqlite3_open_v2(l->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
	    NULL) != SQLITE_OK || sqlite3_exec(c->db, "PRAGMA schema_version", NULL,
	    NULL, NULL) != SQLITE_OK) {
		sqlite3_close(c->db);
		free(c);
		return -EIO;
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if ((rc = pthread_create(&c->thread, NULL, ckpt_main, c)) != 0) {
		pthread_cond_destroy(&c->cv);
		pthread_mutex_destroy(&c->mu);
		sqlite3_close(c->db);
		free(c);
		return -rc;
	}
	l->ckpt = c;
	return 0;
}

void ledger__checkpoint_stop(struct ledger *l)
{
	struct ckpt *c = l->ckpt;

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	/* not the last connection (l->db is open): no checkpoint on close */
	sqlite3_close(c->db);
	free(c);
	l->ckpt = NULL;
}

/* Runs after each commit, with the write lock released. */
int ledger__wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct ledger *l = arg;

	l->wal_frames = frames;
	if (l->ckpt) {
		/* A PASSIVE checkpoint leaves the WAL as long as it was, so
		 * the count is of frames since the thread was last asked, not
		 * in the WAL: asked after every commit past the threshold, it
		 * copied the same hot pages (the tails of runs and gate_runs,
		 * file_state's leaves) back and synced both files after every
		 * commit of a burst. Measured over three aged 10,000-file
		 * bursts: the thread's CPU 570 -> 410 ms, bytes written by the
		 * daemon 609 -> 568 MB. */
		if (frames < l->ckpt_asked)
			l->ckpt_asked = 0;	/* the WAL was restarted */
		if (frames - l->ckpt_asked >= WAL_BG_FRAMES) {
			l->ckpt_asked = frames;
			pthread_mutex_lock(&l->ckpt->mu);
			l->ckpt->wanted = true;
			pthread_cond_signal(&l->ckpt->cv);
			pthread_mutex_unlock(&l->ckpt->mu);
		}
		return SQLITE_OK;
	}
	if (frames >= WAL_HARD_FRAMES &&
	    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL) == SQLITE_OK)
		l->wal_frames = 0;
	return SQLITE_OK;
}

void ledger_idle(struct ledger *l)
{
	int nlog = -1, nckpt = -1;
	char sql[64];

	if (l == NULL || l->mode != LEDGER_WRITE)
		return;
	/* the pages a big batch's transaction left in the cache are read
	 * again, from the OS's cache, when next needed */
	sqlite3_db_release_memory(l->db);
	if (l->wal_frames < WAL_IDLE_FRAMES)
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
			ledger__abort(l);
		l->wal_frames = 0;
	} else if (sqlite3_wal_checkpoint_v2(l->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL,
	    NULL) == SQLITE_OK)
		l->wal_frames = WAL_IDLE_FRAMES - 1;	/* try the restart next time */
	sqlite3_busy_timeout(l->db, LEDGER_BUSY_MS);
}

/* ---- retention ----------------------------------------------------------- */

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
	if ((rc = ledger__begin(l, true, err)) ||
	    (l->staged && (rc = ledger__stage_flush(l, 0, err))))
		return rc;
	if ((rc = ledger__exec(l, ST_GC_KEEP, "cannot list the current results", err)))
		return rc;
	if ((s = ledger__stmt(l, ST_GC_RUNS, err)) == NULL)
		goto fail_prepare;
	if (keep_days > 0)
		sqlite3_bind_int64(s, 1, cutoff);
	if (keep_runs > 0)
		sqlite3_bind_int(s, 2, keep_runs);
	if ((rc = ledger__step(l, s, "cannot prune runs", err)))
		return rc;
	if (deleted)
		*deleted = sqlite3_changes(l->db);
	if ((rc = ledger__exec(l, ST_GC_CACHE, "cannot prune the cache", err)) ||
	    (rc = ledger__exec(l, ST_GC_KEEP_CLEAR, "cannot prune the cache", err)))
		return rc;
	if ((rc = ledger__commit(l, err)))
		return rc;
	/* Best effort, and without waiting for readers (TRUNCATE would, on
	 * the loop): copy back what the deletes wrote */
	sqlite3_wal_checkpoint_v2(l->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	l->wal_frames = 0;
	return 0;

fail_prepare:
	ledger__abort(l);
	return err ? err->code : WD_ELEDGER;
}

/* ---- state pruning ------------------------------------------------------- */

int ledger_state_prune(struct ledger *l, ledger_keep_fn *keep, void *arg, int *pruned,
    struct wd_err *err)
{
	struct strvec gone = STRVEC_INIT;	/* gate, path, gate, path, ... */
	sqlite3_stmt *s = NULL;
	int rc;

	*pruned = 0;
	if ((rc = ledger_flush(l, err)))
		return rc;
	rc = sqlite3_prepare_v2(l->db, "SELECT gate, path FROM file_state", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return ledger__fail(l, rc, "cannot list the file state", err);
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
		return ledger__fail(l, rc, "cannot list the file state", err);
	}
	if (gone.n == 0)
		return 0;
	if ((rc = ledger__begin(l, true, err))) {
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
		ledger__abort(l);
		strvec_clear(&gone);
		return ledger__fail(l, rc, "cannot prune the file state", err);
	}
	*pruned = (int)(gone.n / 2);
	strvec_clear(&gone);
	return ledger__commit(l, err);
}
