/* The stage: the daemon's file_state and cache rows, held in temp tables
 * and written out together, in the key order of the tables they go to.
 *
 * Why. A burst (a checkout, a formatter over the tree) arrives as dozens of
 * gate runs of a few hundred files each, spread over the whole tree. Each
 * run written on its own touched a different leaf of file_state and of
 * cache for nearly every file: two to three WAL pages per file, written,
 * read back and checkpointed. That was four tenths of the daemon's CPU in
 * such a burst. Written out together in key order, a leaf is written once
 * for all the burst's rows that land in it.
 *
 * What stays exact while rows wait:
 *   - the brief the foreground prints after each run reads only the rows
 *     that do not pass, and the gates that have a row: a row is staged only
 *     when it passes, replaces no open row, and its gate has rows already;
 *   - the daemon's own cache lookups read the stage first;
 *   - a crash loses no judgement: a run whose rows are staged keeps its
 *     run_files until they are written, and the next daemon judges those
 *     files again (ledger_mark_interrupted);
 *   - a file written directly (it fails, or a big gate run's) or removed
 *     drops its staged state, which would otherwise be written over it;
 *   - anything else that reads file_state or cache (status, gc, pruning)
 *     writes the stage out first, and the daemon writes it out as soon as
 *     nothing is left to settle or run, a slice of it per loop turn
 *     (ledger_flush_slice: in key order, slices write the same pages).
 *
 * Only a gate run recorded while more changes are on their way (the
 * caller's busy callback) is staged: a lone edit's rows would be written
 * out right after it, one transaction more for nothing.
 *
 * The stage lives in the connection's temp schema (temp_store=MEMORY): it
 * joins the write transactions of the main file, so a rolled-back gate run
 * leaves no staged row and a failed flush keeps them all. Only a WRITE
 * connection that asked for it (ledger_stage) has one. */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "ledger-internal.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

/* Files the stage holds at most: about 120 bytes each in temp pages. A
 * gate run bigger than a quarter of it is written directly (its rows
 * arrive in key order already), so that a 20,000-file batch adds nothing
 * to the daemon's peak memory. */
#define STAGE_MAX		16384
/* Rows per slice (ledger_flush_slice): about 10 ms of the loop on a slow
 * guest. A burst's 10,000 rows in one transaction held the loop for 170 ms;
 * slices in key order write the same pages, give or take the one each
 * shares with the next. */
#define STAGE_SLICE		512

/* One row per file of a gate run: its file_state row (status NULL: written
 * directly, or none) and its cache row (cache_key NULL: none). The
 * fingerprint and run id are the gate run's, joined at the flush; run_id
 * only when a reused result names another run. Keyed in file_state's
 * order, so the flush walks it in the order it writes, without a sort (a
 * sorter held a copy of every row at the daemon's peak). The temp schema
 * is auto-vacuumed (ledger.c), so the pages go back once a flush has
 * emptied it. */
static const char stage_sql[] =
	"CREATE TEMP TABLE IF NOT EXISTS stage ("
	"  gate         TEXT NOT NULL,"
	"  path         TEXT NOT NULL,"
	"  gate_run_id  INTEGER NOT NULL,"
	"  status       TEXT,"
	"  findings     INTEGER NOT NULL,"
	"  cache_key    TEXT,"
	"  cache_status TEXT,"
	"  run_id       TEXT,"
	"  at           INTEGER NOT NULL,"
	"  PRIMARY KEY (gate, path, gate_run_id)"
	") WITHOUT ROWID;";

int ledger_stage(struct ledger *l, ledger_busy_fn *busy, void *arg, struct wd_err *err)
{
	int rc;

	if (l->mode != LEDGER_WRITE)
		return wd_err_set(err, WD_ELEDGER, "ledger '%s': a read connection has no stage",
		    l->path);
	if ((rc = sqlite3_exec(l->db, stage_sql, NULL, NULL, NULL)) != SQLITE_OK)
		return ledger__fail(l, rc, "cannot create the stage", err);
	l->stage_on = true;
	l->stage_busy = busy;
	l->stage_arg = arg;
	return 0;
}

size_t ledger_staged(const struct ledger *l)
{
	return l ? l->staged : 0;
}

int64_t ledger_staged_ms(const struct ledger *l)
{
	int64_t ms;

	if (l == NULL || l->staged == 0)
		return 0;
	ms = now_ms() - l->stage_since;
	return ms > 0 ? ms : 0;
}

void ledger__stage_txn_begin(struct ledger *l)
{
	l->stx_on = l->stx_flushed = false;
	l->stx_added = l->stx_runs = l->stx_done = l->stx_sliced = 0;
}

void ledger__stage_txn_commit(struct ledger *l)
{
	if (l->stx_flushed) {
		l->staged = 0;
		strvec_drop_front(&l->stage_runs, l->stx_runs);
		strvec_drop_front(&l->done_runs, l->stx_done);
	} else if (l->stx_sliced)
		l->staged = l->staged > l->stx_sliced ? l->staged - l->stx_sliced : 0;
	if (l->stx_added) {
		if (l->staged == 0)
			l->stage_since = now_ms();
		l->staged += l->stx_added;
	}
	ledger__stage_txn_begin(l);
}

void ledger__stage_release(struct ledger *l)
{
	strvec_clear(&l->stage_runs);
	strvec_clear(&l->done_runs);
}

/* The key of the row a flush writes up to: the stage's max-th in key
 * order, or its last (max 0): *found, and if so *gate and *path (the
 * caller frees) and *grid. 0 or an error code. */
static int flush_bound(struct ledger *l, size_t max, bool *found, char **gate, char **path,
    int64_t *grid, struct wd_err *err)
{
	sqlite3_stmt *s = ledger__stmt(l, max ? ST_STAGE_NTH : ST_STAGE_LAST, err);
	int src;

	if (s == NULL) {
		ledger__abort(l);
		return err ? err->code : WD_ELEDGER;
	}
	if (max)
		sqlite3_bind_int64(s, 1, (sqlite3_int64)max - 1);
	if ((src = sqlite3_step(s)) == SQLITE_ROW) {
		*gate = xstrdup(col_text(s, 0));
		*path = xstrdup(col_text(s, 1));
		*grid = sqlite3_column_int64(s, 2);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	*found = src == SQLITE_ROW;
	if (src != SQLITE_ROW && src != SQLITE_DONE)
		return ledger__fail(l, src, "cannot write the staged results", err);
	return 0;
}

/* Writes the stage's rows up to a key, in key order, and drops them. */
static int flush_upto(struct ledger *l, const char *gate, const char *path, int64_t grid,
    struct wd_err *err)
{
	static const enum stmt_id steps[] = {
		ST_STAGE_UPTO_STATE, ST_STAGE_UPTO_CACHE, ST_STAGE_UPTO_CLEAR,
	};
	sqlite3_stmt *s;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < sizeof(steps) / sizeof(*steps); i++) {
		if ((s = ledger__stmt(l, steps[i], err)) == NULL) {
			ledger__abort(l);
			return err ? err->code : WD_ELEDGER;
		}
		bind_text(s, 1, gate);
		bind_text(s, 2, path);
		sqlite3_bind_int64(s, 3, grid);
		rc = ledger__step(l, s, "cannot write the staged results", err);
	}
	return rc;
}

/* A slice (max rows, while the stage holds more) or the whole stage (max
 * 0). Runs keep their run_files, kept for a crash, until the whole stage
 * is written: their other rows may be in a later slice. */
int ledger__stage_flush(struct ledger *l, size_t max, struct wd_err *err)
{
	const char *what = "cannot write the staged results";
	char *gate = NULL, *path = NULL;
	sqlite3_stmt *s = NULL;
	int64_t grid = 0;
	bool found = false;
	int rc;

	if (max > 0 && l->staged + l->stx_added <= max)
		max = 0;
	rc = flush_bound(l, max, &found, &gate, &path, &grid, err);
	if (rc == 0 && !found && max > 0) {
		max = 0;	/* fewer rows than counted: all of them */
		rc = flush_bound(l, 0, &found, &gate, &path, &grid, err);
	}
	if (rc == 0 && found)
		rc = flush_upto(l, gate, path, grid, err);
	free(gate);
	free(path);
	if (rc)
		return rc;
	if (max > 0) {
		l->stx_sliced += max;
		return 0;
	}
	if (l->done_runs.n && (s = ledger__stmt(l, ST_RUN_FILES_DONE, err)) == NULL) {
		ledger__abort(l);
		return err ? err->code : WD_ELEDGER;
	}
	for (size_t i = 0; i < l->done_runs.n; i++) {
		bind_text(s, 1, l->done_runs.v[i]);
		if ((rc = ledger__step(l, s, what, err)))
			return rc;
	}
	l->stx_flushed = true;
	l->stx_added = 0;
	l->stx_runs = l->stage_runs.n;
	l->stx_done = l->done_runs.n;
	return 0;
}

/* One row for (gate, path) from a probe statement, or an error code. */
static int probe(struct ledger *l, enum stmt_id id, const char *gate, const char *path,
    bool *found, struct wd_err *err)
{
	sqlite3_stmt *s = ledger__stmt(l, id, err);
	int src;

	if (s == NULL) {
		ledger__abort(l);
		return err ? err->code : WD_ELEDGER;
	}
	bind_text(s, 1, gate);
	if (path)
		bind_text(s, 2, path);
	src = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (src != SQLITE_ROW && src != SQLITE_DONE)
		return ledger__fail(l, src, "cannot read the file state", err);
	*found = src == SQLITE_ROW;
	return 0;
}

/* Whether run_id is among v's entries from the first-th on (the ones
 * before were written out by this transaction's flush). */
static bool listed(const struct strvec *v, size_t first, const char *run_id)
{
	for (size_t i = first; i < v->n; i++)
		if (strcmp(v->v[i], run_id) == 0)
			return true;
	return false;
}

int ledger__stage_open(struct ledger *l, const struct ledger_gate_run *g, struct wd_err *err)
{
	bool want = false;
	int rc;

	l->stx_on = l->stx_probe = false;
	if (!l->stage_on)
		return 0;
	if (!g->whole_gate && g->nfiles <= STAGE_MAX / 4 &&
	    (l->stage_busy == NULL || l->stage_busy(l->stage_arg)) &&
	    (rc = probe(l, ST_STAGE_GATE_KNOWN, g->gate, NULL, &want, err)))
		return rc;
	/* Full: a slice makes room (a gate run written directly drops the
	 * staged rows it replaces instead, ledger__stage_drop). How long rows
	 * may wait is the caller's to say (ledger_staged_ms). */
	if (l->staged && want && l->staged + g->nfiles > STAGE_MAX) {
		size_t over = l->staged + g->nfiles - STAGE_MAX;

		if ((rc = ledger__stage_flush(l, over > STAGE_SLICE ? over : STAGE_SLICE, err)))
			return rc;
	}
	/* the per-file probe only for a gate that has open rows at all */
	if (want && (rc = probe(l, ST_STAGE_GATE_OPEN, g->gate, NULL, &l->stx_probe, err)))
		return rc;
	l->stx_on = want;
	if (want && !listed(&l->stage_runs, l->stx_flushed ? l->stx_runs : 0, g->run_id))
		strvec_push(&l->stage_runs, g->run_id);
	return 0;
}

int ledger__stage_file(struct ledger *l, const struct ledger_gate_run *g, int64_t grid,
    const char *path, const char *status, const char *cache_key, const char *cache_status,
    const char *run_id, int64_t at, bool *direct, struct wd_err *err)
{
	const char *what = "cannot record the gate run";
	sqlite3_stmt *s;
	bool open = false;
	int rc;

	*direct = false;
	if (status && strcmp(status, "pass") != 0)
		open = true;
	else if (status && l->stx_probe &&
	    (rc = probe(l, ST_STAGE_OPEN, g->gate, path, &open, err)))
		return rc;
	if (open) {
		*direct = true;
		status = NULL;
		if ((rc = ledger__stage_drop(l, g->gate, path, err)))
			return rc;
	}
	if (status == NULL && cache_key == NULL)
		return 0;
	ledger__keyfilter_add(l, g->gate, path, cache_key);
	if ((s = ledger__stmt(l, ST_STAGE_ROW, err)) == NULL)
		goto fail_prepare;
	bind_text(s, 1, path);
	sqlite3_bind_int64(s, 2, grid);
	bind_text(s, 3, status);
	bind_text(s, 4, cache_key);
	bind_text(s, 5, cache_key ? cache_status : NULL);
	bind_text(s, 6, run_id);
	sqlite3_bind_int64(s, 7, at);
	sqlite3_bind_int(s, 8, g->findings && g->findings->n > 0);
	bind_text(s, 9, g->gate);
	if ((rc = ledger__step(l, s, what, err)))
		return rc;
	l->stx_added++;
	return 0;

fail_prepare:
	ledger__abort(l);
	return err ? err->code : WD_ELEDGER;
}

int ledger__stage_drop(struct ledger *l, const char *gate, const char *path,
    struct wd_err *err)
{
	sqlite3_stmt *s;

	if (l->staged + l->stx_added == 0)
		return 0;
	if ((s = ledger__stmt(l, ST_STAGE_STATE_DROP, err)) == NULL) {
		ledger__abort(l);
		return err ? err->code : WD_ELEDGER;
	}
	bind_text(s, 1, gate);
	bind_text(s, 2, path);
	return ledger__step(l, s, "cannot record the gate run", err);
}

int ledger__stage_forget(struct ledger *l, const char *path, struct wd_err *err)
{
	sqlite3_stmt *s;

	if (l->staged == 0)
		return 0;
	if ((s = ledger__stmt(l, ST_STAGE_FORGET, err)) == NULL) {
		ledger__abort(l);
		return err ? err->code : WD_ELEDGER;
	}
	bind_text(s, 1, path);
	return ledger__step(l, s, "cannot forget a removed file", err);
}

bool ledger__stage_defers(struct ledger *l, const char *run_id)
{
	if (l->staged == 0 || !listed(&l->stage_runs, 0, run_id))
		return false;
	if (!listed(&l->done_runs, 0, run_id))
		strvec_push(&l->done_runs, run_id);
	return true;
}

/* One transaction writing out the stage, or its first max rows. */
static int flush_tx(struct ledger *l, size_t max, struct wd_err *err)
{
	uint64_t t0;
	size_t n;
	int rc;

	if (l == NULL || l->staged == 0)
		return 0;
	t0 = log_stage_start();
	n = max && max < l->staged ? max : l->staged;
	if ((rc = ledger__begin(l, true, err)) || (rc = ledger__stage_flush(l, max, err)) ||
	    (rc = ledger__commit(l, err)))
		return rc;
	log_stage("ledger_flush", n, t0);
	return 0;
}

int ledger_flush(struct ledger *l, struct wd_err *err)
{
	return flush_tx(l, 0, err);
}

int ledger_flush_slice(struct ledger *l, struct wd_err *err)
{
	return flush_tx(l, STAGE_SLICE, err);
}
