/* The write path: recording runs and gate runs, forgetting removed files,
 * marking interrupted runs, and the queue that keeps the writes that failed.
 *
 * Design. Each do_* function is one write transaction: when it fails,
 * nothing of it stays. Every public write becomes a struct qop and goes
 * through write_op(): the queued writes first, oldest first, then this one,
 * so the ledger sees writes in the order they were made. A write that fails
 * for a reason that passes (transient(): a full disk, an I/O error, a
 * read-only file, a lock held past the busy timeout) on a WRITE connection
 * is deep-copied into the queue (qentry_new: the caller's pointers are only
 * borrowed for the call) and retried before the next write and by
 * ledger_retry. A queued write that then fails for good (a constraint) is
 * dropped and counted: it would block every later write. The queue holds
 * at most LEDGER_QUEUE_MAX; past that, writes are dropped and counted. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "ledger-internal.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/strvec.h"
#include "lib/xmalloc.h"

#define LEDGER_QUEUE_MAX	10000	/* failed writes kept for a retry */

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
	struct strvec		 run_files;	/* run.files */
	struct qentry		*next;
};

static const char *const run_statuses[] = {
	"running", "pass", "fail", "error", "interrupted", NULL,
};

static bool in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

/* ---- writes -------------------------------------------------------------- */

/* Bytes a run_files or gate_file_parts row holds at most (one longer
 * record is a row of its own): the list of a 20,000-file batch is never in
 * memory whole. */
#define PART_BYTES	8192

/* Rows of NUL-separated records for one owner: a run (run_id) or a gate
 * run (grid), written PART_BYTES at a time. */
struct parts {
	enum stmt_id	 id;		/* INSERT (owner, part, bytes) */
	const char	*run_id;	/* the owner when set, else grid */
	int64_t		 grid;
	int		 n;		/* rows written */
	struct buf	 b;		/* the row being filled, each field ended by a NUL */
	const char	*what;		/* what failed, for the error */
};

/* One row: the fields in p->b, then p->b emptied. */
static int parts_put(struct ledger *l, struct parts *p, struct wd_err *err)
{
	sqlite3_stmt *s = ledger__stmt(l, p->id, err);
	int rc;

	if (s == NULL) {
		ledger__abort(l);
		return err ? err->code : WD_ELEDGER;
	}
	if (p->run_id)
		bind_text(s, 1, p->run_id);
	else
		sqlite3_bind_int64(s, 1, p->grid);
	sqlite3_bind_int(s, 2, p->n++);
	/* the last terminator ends the row, not a field */
	sqlite3_bind_blob(s, 3, p->b.buf, (int)p->b.len - 1, SQLITE_STATIC);
	rc = ledger__step(l, s, p->what, err);
	buf_reset(&p->b);
	return rc;
}

/* One record of nf fields (NULL is written as an empty field). */
static int parts_add(struct ledger *l, struct parts *p, const char *const *fields, size_t nf,
    struct wd_err *err)
{
	size_t len = 0;
	int rc;

	for (size_t i = 0; i < nf; i++)
		len += (fields[i] ? strlen(fields[i]) : 0) + 1;
	if (p->b.len > 0 && p->b.len + len > PART_BYTES && (rc = parts_put(l, p, err)))
		return rc;
	for (size_t i = 0; i < nf; i++) {
		const char *f = fields[i] ? fields[i] : "";

		buf_add(&p->b, f, strlen(f) + 1);
	}
	return 0;
}

/* The last row, if any; p's buffer released either way. */
static int parts_end(struct ledger *l, struct parts *p, int rc, struct wd_err *err)
{
	if (rc == 0 && p->b.len > 0)
		rc = parts_put(l, p, err);
	buf_release(&p->b);
	return rc;
}

static int do_run_begin(struct ledger *l, const struct ledger_run *r, struct wd_err *err)
{
	struct parts files = { .id = ST_RUN_FILE_INSERT, .run_id = r->id, .b = BUF_INIT,
			       .what = "cannot record the run" };
	sqlite3_stmt *s;
	int rc;

	if (r->trigger == NULL || !ulid_valid(r->id))
		return wd_err_set(err, WD_ELEDGER, "ledger '%s': bad run id or trigger", l->path);
	if ((rc = ledger__begin(l, true, err)))
		return rc;
	if ((s = ledger__stmt(l, ST_RUN_BEGIN, err)) == NULL)
		return err ? err->code : WD_ELEDGER;
	bind_text(s, 1, r->id);
	bind_text(s, 2, r->trigger);
	sqlite3_bind_int64(s, 3, r->started_ms);
	bind_text(s, 4, r->git_head);
	bind_text(s, 5, r->config_hash);
	if ((rc = ledger__step(l, s, "cannot record the run", err)))
		return rc;
	for (size_t i = 0; i < r->nfiles && rc == 0; i++)
		if (r->files[i])
			rc = parts_add(l, &files, &r->files[i], 1, err);
	rc = parts_end(l, &files, rc, err);
	return rc ? rc : ledger__commit(l, err);
}

static int do_run_finish(struct ledger *l, const char *run_id, const char *status,
    int64_t finished_ms, struct wd_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (status == NULL || strcmp(status, "running") == 0 || !in_list(run_statuses, status))
		return wd_err_set(err, WD_ELEDGER, "ledger '%s': bad run status '%s'", l->path,
		    status ? status : "(null)");
	if ((rc = ledger__begin(l, true, err)))
		return rc;
	if ((s = ledger__stmt(l, ST_RUN_FINISH, err)) == NULL)
		return err ? err->code : WD_ELEDGER;
	bind_text(s, 1, run_id);
	bind_text(s, 2, status);
	sqlite3_bind_int64(s, 3, finished_ms);
	if ((rc = ledger__step(l, s, "cannot finish the run", err)))
		return rc;
	if (sqlite3_changes(l->db) == 0) {
		ledger__abort(l);
		return wd_err_set(err, WD_ENOTFOUND, "ledger '%s': no run '%s'", l->path, run_id);
	}
	/* a run stopped mid-way keeps its files for the next daemon, and so
	 * does one whose rows wait in the stage until they are written */
	if (strcmp(status, "interrupted") != 0 && !ledger__stage_defers(l, run_id)) {
		if ((s = ledger__stmt(l, ST_RUN_FILES_DONE, err)) == NULL) {
			ledger__abort(l);
			return err ? err->code : WD_ELEDGER;
		}
		bind_text(s, 1, run_id);
		if ((rc = ledger__step(l, s, "cannot finish the run", err)))
			return rc;
	}
	return ledger__commit(l, err);
}

int ledger_mark_interrupted(struct ledger *l, int *count, struct strvec *unjudged,
    struct wd_err *err)
{
	const char *what = "cannot mark interrupted runs";
	struct strvec left = STRVEC_INIT;
	sqlite3_stmt *s;
	int rc, src;

	if (count)
		*count = 0;
	if ((rc = ledger__begin(l, true, err)))
		return rc;
	if ((s = ledger__stmt(l, ST_RUN_FILES_LEFT, err)) == NULL)
		goto fail_prepare;
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		const char *p = sqlite3_column_blob(s, 0);
		const char *end;

		if (p == NULL)
			continue;	/* an empty part */
		end = p + sqlite3_column_bytes(s, 0);
		/* NUL-separated, the last one ended by the blob's end */
		while (p < end) {
			const char *nul = memchr(p, '\0', (size_t)(end - p));
			size_t len = nul ? (size_t)(nul - p) : (size_t)(end - p);

			strvec_pushn(&left, p, len);
			p += len + 1;
		}
	}
	sqlite3_reset(s);
	strvec_sort_uniq(&left);	/* two runs may have had the same file */
	if (src != SQLITE_DONE) {
		rc = ledger__fail(l, src, what, err);
		goto out;
	}
	if (left.n && (s = ledger__stmt(l, ST_FILE_REMOVED, err)) == NULL)
		goto fail_prepare;
	for (size_t i = 0; i < left.n; i++) {
		bind_text(s, 1, left.v[i]);
		if ((rc = ledger__step(l, s, what, err)))
			goto out;
	}
	if ((s = ledger__stmt(l, ST_RUN_FILES_DROP_LEFT, err)) == NULL)
		goto fail_prepare;
	if ((rc = ledger__step(l, s, what, err)))
		goto out;
	if ((s = ledger__stmt(l, ST_MARK_INTERRUPTED, err)) == NULL)
		goto fail_prepare;
	if ((rc = ledger__step(l, s, what, err)))
		goto out;
	if (count)
		*count = sqlite3_changes(l->db);
	if ((rc = ledger__commit(l, err)) == 0 && unjudged) {
		strvec_pushv(unjudged, &left);
		strvec_sort(unjudged);
	}
out:
	strvec_clear(&left);
	return rc;
fail_prepare:
	ledger__abort(l);
	strvec_clear(&left);
	return err ? err->code : WD_ELEDGER;
}

/* g's row for file i: from its array, or made into *tmp (its reason only
 * when asked for). */
static const struct ledger_file *gate_file(const struct ledger_gate_run *g, size_t i,
    bool reason, struct ledger_file *tmp)
{
	if (g->file_at == NULL)
		return &g->files[i];
	memset(tmp, 0, sizeof(*tmp));
	g->file_at(g->file_arg, i, reason, tmp);
	return tmp;
}

/* The judgement file_state keeps for f: its own, else its cache verdict,
 * else the gate run's. */
static enum gate_status file_status(const struct ledger_gate_run *g,
    const struct ledger_file *f)
{
	return f->has_status ? f->status : f->cache_status >= 0 ?
	    (enum gate_status)f->cache_status : g->status;
}

/* One file_state row, inside the gate run's transaction. */
static int state_row(struct ledger *l, const struct ledger_gate_run *g, const char *path,
    enum gate_status st, int64_t grid, int64_t at, struct wd_err *err)
{
	sqlite3_stmt *s = ledger__stmt(l, ST_STATE_UPSERT, err);

	if (s == NULL) {
		ledger__abort(l);
		return err ? err->code : WD_ELEDGER;
	}
	bind_text(s, 1, g->gate);
	bind_text(s, 2, path);
	bind_text(s, 3, gate_status_name(st));
	sqlite3_bind_int64(s, 4, grid);
	sqlite3_bind_int64(s, 5, at);
	return ledger__step(l, s, "cannot record the gate run", err);
}

/* g's file_state and cache rows into the stage (stage.c), but for the
 * file_state rows it must write directly. */
static int stage_files(struct ledger *l, const struct ledger_gate_run *g, int64_t grid,
    int64_t at, struct wd_err *err)
{
	struct ledger_file row;
	int rc;

	for (size_t i = 0; i < g->nfiles; i++) {
		const struct ledger_file *f = gate_file(g, i, false, &row);
		enum gate_status st = file_status(g, f);
		bool cached = g->fingerprint && f->cache_key && f->cache_status >= 0, direct;
		/* a reused result keeps naming the run that judged it */
		const char *by = f->judged_by && f->judged_by[0] &&
		    strcmp(f->judged_by, g->run_id) != 0 ? f->judged_by : NULL;

		if (f->path == NULL)
			continue;
		if ((rc = ledger__stage_file(l, g, grid, f->path, gate_status_name(st),
		    cached ? f->cache_key : NULL,
		    cached ? gate_status_name((enum gate_status)f->cache_status) : NULL, by, at,
		    &direct, err)))
			return rc;
		if (direct && (rc = state_row(l, g, f->path, st, grid, at, err)))
			return rc;
	}
	return 0;
}

static int do_gate_record(struct ledger *l, const struct ledger_gate_run *g,
    struct wd_err *err)
{
	/* path, blob, reason and cache key of each file */
	struct parts files = { .id = ST_FILE_INSERT, .b = BUF_INIT,
			       .what = "cannot record the gate run" };
	struct ledger_file row;
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
	if ((rc = ledger__begin(l, true, err)) || (rc = ledger__stage_open(l, g, err)))
		return rc;

	if ((s = ledger__stmt(l, ST_GATE_INSERT, err)) == NULL)
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
	bind_text(s, 17, g->remote);
	if (g->remote)
		sqlite3_bind_int(s, 18, g->remote_hits);
	else
		sqlite3_bind_null(s, 18);
	if ((rc = ledger__step(l, s, what, err)))
		return rc;
	grid = sqlite3_last_insert_rowid(l->db);

	files.grid = grid;
	for (size_t i = 0; i < g->nfiles && rc == 0; i++) {
		const struct ledger_file *f = gate_file(g, i, true, &row);
		const char *rec[4] = { f->path, f->blob, f->reason, f->cache_key };

		if (f->path)
			rc = parts_add(l, &files, rec, 4, err);
	}
	if ((rc = parts_end(l, &files, rc, err)))
		return rc;

	if (g->findings && g->findings->n &&
	    (s = ledger__stmt(l, ST_FINDING_INSERT, err)) == NULL)
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
		if ((rc = ledger__step(l, s, what, err)))
			return rc;
	}

	if (l->stx_on) {
		if ((rc = stage_files(l, g, grid, at, err)))
			return rc;
		return ledger__commit(l, err);	/* a whole gate is never staged */
	}

	for (size_t i = 0; i < g->nfiles; i++) {
		const struct ledger_file *f = gate_file(g, i, false, &row);

		if (f->path && ((rc = ledger__stage_drop(l, g->gate, f->path, err)) ||
		    (rc = state_row(l, g, f->path, file_status(g, f), grid, at, err))))
			return rc;
	}

	if (g->whole_gate && g->status == GATE_PASS) {
		if ((s = ledger__stmt(l, ST_STATE_PASS_ALL, err)) == NULL)
			goto fail_prepare;
		bind_text(s, 1, g->gate);
		sqlite3_bind_int64(s, 2, grid);
		sqlite3_bind_int64(s, 3, at);
		if ((rc = ledger__step(l, s, what, err)))
			return rc;
	}

	if ((s = ledger__stmt(l, ST_CACHE_INSERT, err)) == NULL)
		goto fail_prepare;
	for (size_t i = 0; g->fingerprint && i < g->nfiles; i++) {
		const struct ledger_file *f = gate_file(g, i, false, &row);

		if (f->path == NULL || f->cache_key == NULL || f->cache_status < 0)
			continue;
		ledger__keyfilter_add(l, g->gate, f->path, f->cache_key);
		bind_text(s, 1, g->gate);
		bind_text(s, 2, g->fingerprint);
		bind_text(s, 3, f->path);
		bind_text(s, 4, f->cache_key);
		bind_text(s, 5, gate_status_name((enum gate_status)f->cache_status));
		sqlite3_bind_int64(s, 6, grid);
		/* a reused result keeps naming the run that judged it */
		bind_text(s, 7, f->judged_by && f->judged_by[0] ? f->judged_by : g->run_id);
		sqlite3_bind_int64(s, 8, at);
		if ((rc = ledger__step(l, s, what, err)))
			return rc;
	}
	return ledger__commit(l, err);

fail_prepare:
	ledger__abort(l);
	return err ? err->code : WD_ELEDGER;
}

static int do_file_removed(struct ledger *l, const char *path, struct wd_err *err)
{
	sqlite3_stmt *s;
	int rc;

	/* no staged row may bring the file back */
	if ((rc = ledger__begin(l, true, err)) || (rc = ledger__stage_forget(l, path, err)))
		return rc;
	if ((s = ledger__stmt(l, ST_FILE_REMOVED, err)) == NULL) {
		ledger__abort(l);
		return err ? err->code : WD_ELEDGER;
	}
	bind_text(s, 1, path);
	if ((rc = ledger__step(l, s, "cannot forget a removed file", err)))
		return rc;
	return ledger__commit(l, err);
}

/* ---- the retry queue ----------------------------------------------------- */

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
		for (size_t i = 0; i < op->run->nfiles; i++)
			if (op->run->files[i])
				strvec_push(&e->run_files, op->run->files[i]);
		e->run.files = (const char *const *)e->run_files.v;
		e->run.nfiles = e->run_files.n;
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
		e->gate.remote = qdup(e, g->remote);
		e->gate.message = qdup(e, g->message);
		e->gate.output = qdup(e, g->output);
		e->gate.input_digest = qdup(e, g->input_digest);
		e->files = xcalloc(g->nfiles ? g->nfiles : 1, sizeof(*e->files));
		for (size_t i = 0; i < g->nfiles; i++) {
			struct ledger_file row;
			const struct ledger_file *f = gate_file(g, i, true, &row);

			e->files[i] = *f;
			e->files[i].path = qdup(e, f->path);
			e->files[i].blob = qdup(e, f->blob);
			e->files[i].cache_key = qdup(e, f->cache_key);
			e->files[i].reason = qdup(e, f->reason);
			e->files[i].judged_by = qdup(e, f->judged_by);
		}
		e->gate.files = e->files;
		e->gate.file_at = NULL;
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
	strvec_clear(&e->run_files);
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

void ledger__drop_queue(struct ledger *l)
{
	while (l->qhead)
		qpop(l);
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
	uint64_t t0 = log_stage_start();
	int rc = write_op(l, &op, err);

	log_stage("ledger_run_begin", r->nfiles, t0);
	return rc;
}

int ledger_run_finish(struct ledger *l, const char *run_id, const char *status,
    int64_t finished_ms, struct wd_err *err)
{
	struct qop op = { .kind = Q_RUN_FINISH, .run_id = run_id, .status = status,
		.ms = finished_ms };
	uint64_t t0 = log_stage_start();
	int rc = write_op(l, &op, err);

	log_stage("ledger_run_finish", 0, t0);
	return rc;
}

int ledger_gate_record(struct ledger *l, const struct ledger_gate_run *g, struct wd_err *err)
{
	struct qop op = { .kind = Q_GATE, .gate = g };
	uint64_t t0 = log_stage_start();
	int rc = write_op(l, &op, err);

	log_stage("ledger_gate", g->nfiles, t0);
	return rc;
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

	ledger__test_hook(l, true);
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
