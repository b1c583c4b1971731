/* The daemon's data path: what the watcher, settle and the scheduler call
 * back with, in data-path order (an event is filtered and fed to settle; a
 * settled batch becomes a run, after a config reload when the config was
 * in it), and the ledger's upkeep around it (queued writes retried,
 * retention, a checkpoint once idle). */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <uv.h>

#include "daemon-internal.h"
#include "daemon/ledger/ledger.h"
#include "daemon/run/sched.h"
#include "daemon/run/select.h"
#include "daemon/watch/ignore.h"
#include "daemon/watch/settle.h"
#include "daemon/watch/tree.h"
#include "daemon/watch/watcher.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/strvec.h"
#include "lib/xmalloc.h"

#define LEDGER_RETRY_MS	2000		/* while ledger writes wait in its queue */
#define LEDGER_QUIET_MS	1000		/* idle this long before a checkpoint */
#define LEDGER_STAGE_MS	3000		/* staged results wait at most this long
					 * while changes keep coming */
#define LEDGER_SLICE_BUSY_MS 50		/* then a slice per this */

/* ---- ledger upkeep ------------------------------------------------------- */

/* Failed writes wait in the ledger's queue (disk full, read-only file);
 * retry them every LEDGER_RETRY_MS until none is left. Watching goes on
 * meanwhile: a later write also retries them first. */
static void on_ledger_retry(uv_timer_t *t)
{
	struct daemon *d = t->data;
	struct wd_err err = { 0, "" };
	int n = ledger_retry(d->ledger, &err);

	if (n == 0) {
		log_info("ledger writable again: every queued write is recorded");
		uv_timer_stop(t);
	} else
		log_debug("%d ledger write(s) still queued: %s", n, err.msg);
}

static void ledger_watch(struct daemon *d)
{
	size_t n = ledger_queued(d->ledger);
	char msg[128];

	if (n == 0 || d->stopping || uv_is_active((uv_handle_t *)&d->ledger_retry))
		return;
	snprintf(msg, sizeof(msg), "%zu ledger write(s) queued; retrying every %d ms", n,
	    LEDGER_RETRY_MS);
	log_warnx("%s", msg);
	events_error(d->events, "ledger", msg);
	uv_timer_start(&d->ledger_retry, on_ledger_retry, LEDGER_RETRY_MS, LEDGER_RETRY_MS);
}

/* More changes on their way (ledger_stage): paths still settling, or
 * another task still to finish. A run recorded then is part of a bigger
 * change, whose rows are written out together; a lone edit's are written
 * with its gate run. Without the tasks, a burst's last but one run wrote
 * its rows directly while the last one hashed (nothing left to settle):
 * 12 ms of the loop in front of the burst's last report. */
bool path_busy(void *arg)
{
	const struct daemon *d = arg;

	return settle_pending(d->settle) > 0 || sched_tasks_left(d->sched);
}

/* Nothing left to settle or run: the time to write the stage out. */
static bool path_quiet(const struct daemon *d)
{
	return sched_idle(d->sched) && settle_pending(d->settle) == 0;
}

static void report_flush(struct daemon *d, const struct wd_err *err)
{
	log_warnx("%s", err->msg);
	events_error(d->events, "ledger", err->msg);
}

/* The staged results (ledger_stage) into the file, where other processes
 * (a hook's `check --staged`, `watchd log`) read them: all at once. */
static void path_ledger_flush(struct daemon *d)
{
	struct wd_err err = { 0, "" };

	uv_timer_stop(&d->ledger_stage);
	if (ledger_flush(d->ledger, &err) != 0)
		report_flush(d, &err);
}

/* The same a slice at a time (a burst's stage in one go held the loop for
 * 170 ms): one per millisecond once nothing is left to settle or run.
 * While changes still come, none until the stage has waited
 * LEDGER_STAGE_MS, then one per LEDGER_SLICE_BUSY_MS: a slice written
 * then held up the batch being settled, 2-8 ms of a burst's last report
 * (which comes 30-40 ms after its last write). */
static void on_ledger_stage(uv_timer_t *t)
{
	struct daemon *d = t->data;
	struct wd_err err = { 0, "" };
	bool quiet = path_quiet(d);
	int64_t waited = ledger_staged_ms(d->ledger);

	if (!quiet && waited < LEDGER_STAGE_MS) {
		uv_timer_start(&d->ledger_stage, on_ledger_stage,
		    (uint64_t)(LEDGER_STAGE_MS - waited), 0);
		return;
	}
	if (ledger_flush_slice(d->ledger, &err) != 0)
		report_flush(d, &err);	/* kept staged: the next run or status retries */
	else if (ledger_staged(d->ledger))
		/* 1, not 0: libuv runs a timer restarted at 0 from its own
		 * callback again in the same pass, and every slice went in
		 * one turn of up to 140 ms */
		uv_timer_start(&d->ledger_stage, on_ledger_stage, quiet ? 1 : LEDGER_SLICE_BUSY_MS,
		    0);
}

/* Retention from the config's "ledger" section; gc never deletes runs
 * whose results back the cache or the per-file state. */
void path_ledger_prune(struct daemon *d)
{
	const struct config *cfg = &d->ctx->cfg;
	struct wd_err err = { 0, "" };
	int n = 0;

	if (cfg->ledger_keep_days == 0 && cfg->ledger_keep_runs == 0)
		return;
	if (ledger_gc(d->ledger, cfg->ledger_keep_days, cfg->ledger_keep_runs, &n, &err) != 0)
		log_warnx("ledger retention: %s", err.msg);
	else if (n > 0)
		log_info("ledger retention: %d old run(s) deleted (keep_days %d, keep_runs %d)",
		    n, cfg->ledger_keep_days, cfg->ledger_keep_runs);
}

void path_on_ledger_gc(uv_timer_t *t)
{
	path_ledger_prune(t->data);
}

/* ---- data path ------------------------------------------------------------ */

void path_on_file(void *arg, const char *rel, unsigned what, uint64_t read_ms)
{
	struct daemon *d = arg;

	if (!(what & WEV_REMOVED) && ignore_path(d->ig, rel, false))
		return;
	settle_event_at(d->settle, rel, what, ++d->seq, read_ms ? read_ms : uv_now(d->loop));
}

void path_on_git(void *arg, const char *name, bool gone)
{
	struct daemon *d = arg;

	settle_git_changed(d->settle, name, gone);
}

bool path_backlog(void *arg)
{
	struct daemon *d = arg;

	return d->watcher && watcher_backlog(d->watcher);
}

void path_on_rules(void *arg, const char *rel)
{
	struct daemon *d = arg;

	/* New ignore rules can hide or reveal whole directories: forget the
	 * cached answers and reconcile the tree (watches follow). */
	ignore_refresh(d->ig);
	watcher_rules_changed(d->watcher, rel);
}

static bool strvec_equal(const struct strvec *a, const struct strvec *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return false;
	return true;
}

void path_free_retired(struct daemon *d)
{
	while (d->retired) {
		struct retired *r = d->retired;

		d->retired = r->next;
		config_release(&r->cfg);
		remote_free(r->remote);
		free(r);
	}
}

/* A state row still describes something: the gate exists, includes the
 * file, and the file is there. */
static bool state_current(void *arg, const char *gate, const char *path)
{
	struct daemon *d = arg;
	const struct gate *g = config_gate(&d->ctx->cfg, gate);
	char *abs;
	struct stat st;
	bool ok;

	if (g == NULL || !gate_matches(g, path))
		return false;
	abs = xasprintf("%s/%s", d->ctx->root, path);
	ok = lstat(abs, &st) == 0;
	free(abs);
	return ok;
}

/* Forgets results for files and gates the config no longer has: they
 * would otherwise haunt `status` for ever. */
void path_prune_state(struct daemon *d)
{
	struct wd_err err = { 0 };
	int n = 0;

	if (ledger_state_prune(d->ledger, state_current, d, &n, &err) != 0)
		log_warnx("%s", err.msg);
	else if (n)
		log_info("forgot the results of %d file(s) no gate checks any more", n);
}

/* The config file changed: validate the new one completely before it
 * replaces anything. A bad edit keeps the running config (and says why in
 * the log and in status); a good one re-runs exactly the gates whose
 * definition changed, on everything they include. */
static void reload_config(struct daemon *d)
{
	struct cli_ctx *ctx = d->ctx;
	struct config fresh;
	struct config_err cerr;
	struct strvec changed_gates = STRVEC_INIT;
	struct retired *old;
	bool ignore_changed;

	notify_reloading(d);
	if (config_load(ctx->config_path, &fresh, &cerr) != 0) {
		struct buf b = BUF_INIT;

		config_err_format(&cerr, &b);
		log_warnx("config not reloaded, the running one stays: %s", b.buf);
		events_config_error(d->events, &cerr, b.buf);
		free(d->config_error);
		d->config_error = buf_detach(&b, NULL);
		notify_reloaded(d);
		return;
	}
	free(d->config_error);
	d->config_error = NULL;
	for (size_t i = 0; i < fresh.ngates; i++) {
		const struct gate *g = &fresh.gates[i];
		const struct gate *was = config_gate(&ctx->cfg, g->name);

		if (was == NULL || strcmp(was->definition, g->definition) != 0)
			strvec_push(&changed_gates, g->name);
	}
	ignore_changed = !strvec_equal(&fresh.ignore, &ctx->cfg.ignore);
	old = xcalloc(1, sizeof(*old));
	old->cfg = ctx->cfg;	/* queued tasks still point at its gates */
	old->next = d->retired;
	d->retired = old;
	ctx->cfg = fresh;
	sched_set_config(d->sched, &ctx->cfg);
	remote_reconfigure(d, old);
	settle_set_timing(d->settle, ctx->cfg.debounce_ms, ctx->cfg.max_wait_ms,
	    ctx->cfg.stability_ms, ctx->cfg.writer_timeout_ms);
	sched_force_gates(d->sched, &changed_gates);
	log_info("config reloaded: %zu gate(s) new or changed", changed_gates.n);
	events_config_reloaded(d->events, &changed_gates);
	strvec_clear(&changed_gates);
	if (ignore_changed) {
		ignore_refresh(d->ig);
		watcher_rules_changed(d->watcher, "the config's ignore list changed");
	}
	path_prune_state(d);
	if (sched_idle(d->sched))
		path_free_retired(d);
	notify_reloaded(d);
}

void path_on_batch(void *arg, const struct strvec *changed, const struct strvec *removed,
    uint64_t seq)
{
	struct daemon *d = arg;
	char id[ULID_LEN + 1];
	struct wd_err err = { 0 };

	/* a deleted config is reported as a refused reload: the running one
	 * stays, and status and the log say why */
	if (d->config_rel && (strvec_bsearch(changed, d->config_rel) >= 0 ||
	    strvec_find(removed, d->config_rel) >= 0))
		reload_config(d);
	if (sched_submit(d->sched, changed, removed, seq, id, &err) < 0) {
		char *msg = xasprintf("cannot record a run: %s", err.msg);

		log_warnx("%s", msg);
		events_error(d->events, "ledger", msg);
		free(msg);
	}
	ledger_watch(d);
	serve_check_syncs(d);
}

struct gate_listing {
	const struct daemon	*d;
	const struct gate	*g;
};

/* The tree holds every file of the watched directories: the ignore rules
 * filter it as they filter events (path_on_file). */
static bool gate_input(const void *arg, const char *rel)
{
	const struct gate_listing *l = arg;

	return select_is_input(l->g, rel) && !ignore_path(l->d->ig, rel, false);
}

/* From the watched tree: the disk was listed once already, and every
 * change since has been applied to it. */
void path_list_files(void *arg, const struct gate *g, struct strvec *out)
{
	struct gate_listing l = { arg, g };

	tree_list_files(l.d->tree, gate_input, &l, out);
	strvec_sort(out);
}

void path_on_closed(void *arg, const char *rel, uint64_t stamp)
{
	struct daemon *d = arg;

	sched_file_closed(d->sched, rel, stamp);
}

/* A checkpoint blocks the loop for a few milliseconds (pages copied, two
 * syncs): done right when a run ends, it delayed the next change's tool
 * whenever an edit came during it, the slowest one or two in 200 (p99).
 * It waits for a second in which nothing ran. */
static void on_ledger_quiet(uv_timer_t *t)
{
	struct daemon *d = t->data;

	if (path_quiet(d)) {
		path_ledger_flush(d);
		ledger_idle(d->ledger);
		/* A big batch leaves freed memory between live blocks, which
		 * glibc keeps resident; a quiet second is the time to hand it
		 * back. */
		malloc_trim(0);
	}
}

void path_on_run_done(struct sched *s, const char *run_id, const char *status, void *arg)
{
	struct daemon *d = arg;

	/* A burst's runs leave their results staged, to be written together.
	 * Once nothing is left to settle or run, the first slice is written
	 * before the run is announced (all of a small change's: whoever reads
	 * the ledger then finds them), the rest one slice a turn; until then
	 * on_ledger_stage sets its timer for when the stage is old enough. */
	if (ledger_staged(d->ledger) &&
	    (path_quiet(d) || !uv_is_active((uv_handle_t *)&d->ledger_stage)))
		on_ledger_stage(&d->ledger_stage);
	notify_run_done(d, run_id, status);
	events_run_finished(d->events, run_id, status);
	if (sched_idle(s)) {
		path_free_retired(d);
		uv_timer_start(&d->ledger_quiet, on_ledger_quiet, LEDGER_QUIET_MS, 0);
	}
	ledger_watch(d);
	serve_check_syncs(d);
}
