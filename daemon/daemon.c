/* The daemon's wiring and lifetime. Start-up order matters: lock (one
 * daemon per ROOT), ledger (mark runs a crash left as interrupted), watcher
 * (initial scan: from here on nothing is missed), socket, then "ready".
 * The ledger opens on a thread while the scan runs; from "ready" on
 * everything runs on the one loop thread. Shutdown reverses it and lets
 * killed tools report before the ledger closes. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "daemon.h"
#include "daemon/git/repo.h"
#include "daemon/ipc/ipc.h"
#include "daemon/ipc/server.h"
#include "daemon/ledger/ledger.h"
#include "daemon/run/sched.h"
#include "daemon/run/select.h"
#include "daemon/watch/ignore.h"
#include "daemon/watch/settle.h"
#include "daemon/watch/tree.h"
#include "daemon/watch/watcher.h"
#include "lib/buf.h"
#include "lib/envlist.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "version.h"

#define SYNC_DEFAULT_MS 60000
#define LEDGER_RETRY_MS	2000		/* while ledger writes wait in its queue */
#define LEDGER_GC_MS	3600000		/* retention: at start, then hourly */
#define LEDGER_QUIET_MS	1000		/* idle this long before a checkpoint */

struct sync_wait {
	struct daemon	*d;
	struct client	*client;
	char		*cookie;	/* file name in ROOT */
	uint64_t	 seq;		/* 0 until the cookie event is seen */
	uv_timer_t	 timer;
	struct sync_wait *next;
};

struct daemon {
	struct cli_ctx	*ctx;
	uv_loop_t	*loop;
	uv_signal_t	 sigterm, sigint;
	struct ledger	*ledger;
	struct repo	*repo;
	struct ignore	*ig;
	struct tree	*tree;		/* the watch stage's state: built by the
					 * watcher, dispatch stamps from settle;
					 * freed once both have closed */
	struct watcher	*watcher;
	struct settle	*settle;
	struct sched	*sched;
	struct server	*server;
	char		*sock_path;
	char		*tmp_dir;
	uint64_t	 seq;		/* event sequence numbers */
	uint64_t	 cookie_n;
	uint64_t	 started;	/* loop time */
	struct sync_wait *syncs;
	bool		 stopping;
	char		*config_rel;	/* the config's path under ROOT, or NULL */
	char		*config_error;	/* why the last reload was refused, or NULL */
	struct retired	*retired;	/* configs still used by queued tasks */
	uv_timer_t	 ledger_retry;	/* runs while ledger_queued() > 0 */
	uv_timer_t	 ledger_gc;	/* hourly retention */
	uv_timer_t	 ledger_quiet;	/* checkpoint once nothing ran for a while */
};

struct retired {
	struct config	 cfg;
	struct retired	*next;
};

static void check_syncs(struct daemon *d);

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

	if (n == 0 || d->stopping || uv_is_active((uv_handle_t *)&d->ledger_retry))
		return;
	log_warnx("%zu ledger write(s) queued; retrying every %d ms", n, LEDGER_RETRY_MS);
	uv_timer_start(&d->ledger_retry, on_ledger_retry, LEDGER_RETRY_MS, LEDGER_RETRY_MS);
}

/* Retention from the config's "ledger" section; gc never deletes runs
 * whose results back the cache or the per-file state. */
static void ledger_prune(struct daemon *d)
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

static void on_ledger_gc(uv_timer_t *t)
{
	ledger_prune(t->data);
}

/* ---- data path ------------------------------------------------------------ */

static void on_file(void *arg, const char *rel, unsigned what, uint64_t read_ms)
{
	struct daemon *d = arg;

	if (!(what & WEV_REMOVED) && ignore_path(d->ig, rel, false))
		return;
	settle_event_at(d->settle, rel, what, ++d->seq, read_ms ? read_ms : uv_now(d->loop));
}

static void on_cookie(void *arg, const char *name)
{
	struct daemon *d = arg;

	for (struct sync_wait *w = d->syncs; w; w = w->next) {
		if (w->seq == 0 && strcmp(w->cookie, name) == 0) {
			char *p = xasprintf("%s/%s", d->ctx->root, name);

			/* every event queued before the cookie has a lower seq */
			w->seq = ++d->seq;
			unlink(p);
			free(p);
		}
	}
	check_syncs(d);
}

static void on_git(void *arg, const char *name)
{
	struct daemon *d = arg;

	(void)name;
	settle_git_changed(d->settle);
}

static void on_rules(void *arg, const char *rel)
{
	struct daemon *d = arg;

	/* New ignore rules can hide or reveal whole directories: forget the
	 * cached answers and reconcile the tree (watches follow). */
	ignore_refresh(d->ig);
	watcher_rules_changed(d->watcher, rel);
}

/* A full rescan listed the disk as it was after every change made before
 * any waiting sync began: such a sync need no longer see its cookie (an
 * overflow may have dropped it), but must wait for what the rescan
 * reported. */
static void on_rescanned(void *arg, bool full)
{
	struct daemon *d = arg;

	if (!full)
		return;
	for (struct sync_wait *w = d->syncs; w; w = w->next) {
		if (w->seq == 0) {
			char *p = xasprintf("%s/%s", d->ctx->root, w->cookie);

			unlink(p);
			free(p);
		}
		w->seq = ++d->seq;
	}
	check_syncs(d);
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

static void free_retired(struct daemon *d)
{
	while (d->retired) {
		struct retired *r = d->retired;

		d->retired = r->next;
		config_release(&r->cfg);
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
static void prune_state(struct daemon *d)
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

	if (config_load(ctx->config_path, &fresh, &cerr) != 0) {
		struct buf b = BUF_INIT;

		config_err_format(&cerr, &b);
		log_warnx("config not reloaded, the running one stays: %s", b.buf);
		free(d->config_error);
		d->config_error = buf_detach(&b, NULL);
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
	settle_set_timing(d->settle, ctx->cfg.debounce_ms, ctx->cfg.max_wait_ms,
	    ctx->cfg.stability_ms, ctx->cfg.writer_timeout_ms);
	sched_force_gates(d->sched, &changed_gates);
	log_info("config reloaded: %zu gate(s) new or changed", changed_gates.n);
	strvec_clear(&changed_gates);
	if (ignore_changed) {
		ignore_refresh(d->ig);
		watcher_rules_changed(d->watcher, "the config's ignore list changed");
	}
	prune_state(d);
	if (sched_idle(d->sched))
		free_retired(d);
}

static void on_batch(void *arg, const struct strvec *changed, const struct strvec *removed,
    uint64_t seq)
{
	struct daemon *d = arg;
	char id[ULID_LEN + 1];
	struct wd_err err = { 0 };

	if (d->config_rel && strvec_bsearch(changed, d->config_rel) >= 0)
		reload_config(d);
	if (sched_submit(d->sched, changed, removed, seq, id, &err) < 0)
		log_warnx("cannot record a run: %s", err.msg);
	ledger_watch(d);
	check_syncs(d);
}

struct gate_listing {
	const struct daemon	*d;
	const struct gate	*g;
};

/* The tree holds every file of the watched directories: the ignore rules
 * filter it as they filter events (on_file). */
static bool gate_input(const void *arg, const char *rel)
{
	const struct gate_listing *l = arg;

	return select_is_input(l->g, rel) && !ignore_path(l->d->ig, rel, false);
}

/* From the watched tree: the disk was listed once already, and every
 * change since has been applied to it. */
static void list_files(void *arg, const struct gate *g, struct strvec *out)
{
	struct gate_listing l = { arg, g };

	tree_list_files(l.d->tree, gate_input, &l, out);
	strvec_sort(out);
}

/* A checkpoint blocks the loop for a few milliseconds (pages copied, two
 * syncs): done right when a run ends, it delayed the next change's tool
 * whenever an edit came during it, the slowest one or two in 200 (p99).
 * It waits for a second in which nothing ran. */
static void on_ledger_quiet(uv_timer_t *t)
{
	struct daemon *d = t->data;

	if (sched_idle(d->sched) && settle_pending(d->settle) == 0)
		ledger_idle(d->ledger);
}

static void on_run_done(struct sched *s, const char *run_id, const char *status, void *arg)
{
	struct daemon *d = arg;

	(void)run_id;
	(void)status;
	if (sched_idle(s)) {
		free_retired(d);
		uv_timer_start(&d->ledger_quiet, on_ledger_quiet, LEDGER_QUIET_MS, 0);
	}
	ledger_watch(d);
	check_syncs(d);
}

/* ---- status ---------------------------------------------------------------- */

static void add_ledger_state(cJSON *o, struct ledger *l)
{
	cJSON *last = NULL, *gates = NULL;
	struct wd_err err = { 0 };

	if (l && ledger_last_run(l, &last, &err) == 0 && last)
		cJSON_AddItemToObject(o, "last_run", last);
	else
		cJSON_AddNullToObject(o, "last_run");
	if (l && ledger_gate_summary(l, &gates, &err) == 0 && gates)
		cJSON_AddItemToObject(o, "gates", gates);
	else
		cJSON_AddItemToObject(o, "gates", cJSON_CreateArray());
	if (err.msg[0])
		cJSON_AddStringToObject(o, "ledger_error", err.msg);
}

static cJSON *live_status(struct daemon *d)
{
	cJSON *o = cJSON_CreateObject(), *w, *q;
	struct watcher_stats ws;
	int pending = 0, running = 0;

	watcher_get_stats(d->watcher, &ws);
	sched_stats(d->sched, &pending, &running);
	cJSON_AddBoolToObject(o, "running", 1);
	cJSON_AddNumberToObject(o, "pid", getpid());
	cJSON_AddStringToObject(o, "root", d->ctx->root);
	cJSON_AddStringToObject(o, "socket", d->sock_path);
	cJSON_AddStringToObject(o, "config", d->ctx->config_path);
	if (d->config_error)
		cJSON_AddStringToObject(o, "config_error", d->config_error);
	else
		cJSON_AddNullToObject(o, "config_error");
	cJSON_AddStringToObject(o, "version", WATCHD_VERSION);
	cJSON_AddNumberToObject(o, "uptime_s", (double)(uv_now(d->loop) - d->started) / 1000.0);
	w = cJSON_AddObjectToObject(o, "watch");
	cJSON_AddStringToObject(w, "backend", ws.inotify ? "inotify" : "scan");
	cJSON_AddNumberToObject(w, "dirs", ws.dirs);
	cJSON_AddNumberToObject(w, "files", (double)ws.files);
	cJSON_AddBoolToObject(w, "degraded", ws.degraded);
	if (ws.reason)
		cJSON_AddStringToObject(w, "degraded_reason", ws.reason);
	cJSON_AddNumberToObject(w, "unwatched_dirs", ws.unwatched);
	cJSON_AddNumberToObject(w, "rescans", (double)ws.rescans);
	cJSON_AddNumberToObject(w, "overflows", (double)ws.overflows);
	cJSON_AddBoolToObject(w, "git_busy", settle_git_busy(d->settle));
	q = cJSON_AddObjectToObject(o, "queue");
	cJSON_AddNumberToObject(q, "pending_files", (double)settle_pending(d->settle) + pending);
	cJSON_AddNumberToObject(q, "running_gates", running);
	add_ledger_state(o, d->ledger);
	{
		cJSON *h = NULL;

		ledger_health(d->ledger, &h);
		cJSON_AddItemToObject(o, "ledger", h);
	}
	return o;
}

cJSON *daemon_offline_status(struct cli_ctx *ctx)
{
	cJSON *o = cJSON_CreateObject();
	struct ledger *l = NULL;
	struct wd_err err = { 0 };
	char *sock = NULL;

	cJSON_AddBoolToObject(o, "running", 0);
	cJSON_AddStringToObject(o, "root", ctx->root);
	if (ipc_paths(ctx->root, &sock, NULL, NULL) == 0)
		cJSON_AddStringToObject(o, "socket", sock);
	free(sock);
	/* No ledger yet is normal; one that cannot be read (newer schema,
	 * not a watchd file, damaged) must be said, not shown as "no results" */
	if (ledger_open(ctx->ledger_path, LEDGER_READ, &l, &err) != 0) {
		l = NULL;
		if (err.code != -ENOENT) {
			cJSON *h = cJSON_AddObjectToObject(o, "ledger");

			cJSON_AddBoolToObject(h, "ok", 0);
			cJSON_AddStringToObject(h, "error", err.msg);
		}
	}
	add_ledger_state(o, l);
	ledger_close(l);
	return o;
}

/* ---- sync (status --sync) -------------------------------------------------- */

static void sync_free_cb(uv_handle_t *h)
{
	struct sync_wait *w = h->data;

	free(w->cookie);
	free(w);
}

static void sync_finish(struct sync_wait *w, bool ok)
{
	struct daemon *d = w->d;
	cJSON *resp;

	for (struct sync_wait **pp = &d->syncs; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	if (w->seq == 0) {
		char *p = xasprintf("%s/%s", d->ctx->root, w->cookie);

		unlink(p);
		free(p);
	}
	resp = live_status(d);
	cJSON_AddBoolToObject(resp, "synced", ok);
	server_reply(w->client, resp);
	uv_close((uv_handle_t *)&w->timer, sync_free_cb);
}

static void check_syncs(struct daemon *d)
{
	uint64_t pending = settle_min_seq(d->settle), running = sched_min_seq(d->sched);

	/* a rescan that is due (backed off after overflows) will report
	 * changes lost before the sync began; on_rescanned comes back here */
	if (d->syncs == NULL || watcher_busy(d->watcher))
		return;
	for (struct sync_wait *w = d->syncs, *next; w; w = next) {
		next = w->next;
		if (w->seq && pending > w->seq && running > w->seq)
			sync_finish(w, true);
	}
}

static void on_sync_timeout(uv_timer_t *t)
{
	sync_finish(t->data, false);
}

static void start_sync(struct daemon *d, struct client *c, int timeout_ms)
{
	struct sync_wait *w = xcalloc(1, sizeof(*w));
	char *path;
	int fd;

	w->d = d;
	w->client = c;
	w->cookie = xasprintf("%s%d-%llu", COOKIE_PREFIX, (int)getpid(),
	    (unsigned long long)++d->cookie_n);
	uv_timer_init(d->loop, &w->timer);
	w->timer.data = w;
	w->next = d->syncs;
	d->syncs = w;
	uv_timer_start(&w->timer, on_sync_timeout, (uint64_t)timeout_ms, 0);
	/* Directories without a watch are listed now, so that what changed
	 * there before this call is reported (with a lower seq than the
	 * cookie's). Without a watch on ROOT no cookie can be seen: the
	 * listing was the whole barrier. */
	if (!watcher_scan_unwatched(d->watcher)) {
		w->seq = ++d->seq;
		check_syncs(d);
		return;
	}
	/* The cookie travels the same inotify queue as every earlier change,
	 * so seeing it means everything before it has been read (Watchman's
	 * cookie sync). */
	path = xasprintf("%s/%s", d->ctx->root, w->cookie);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	else
		log_warn("cannot create sync cookie %s", path);
	free(path);
}

/* ---- requests -------------------------------------------------------------- */

static void begin_stop(struct daemon *d);

static void on_request(struct client *c, const cJSON *msg, void *arg)
{
	struct daemon *d = arg;
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(msg, "cmd");
	const char *name = cJSON_IsString(cmd) ? cmd->valuestring : "";
	cJSON *resp;

	if (strcmp(name, "status") == 0) {
		const cJSON *sync = cJSON_GetObjectItemCaseSensitive(msg, "sync");
		const cJSON *tmo = cJSON_GetObjectItemCaseSensitive(msg, "timeout_ms");

		if (cJSON_IsTrue(sync) && !d->stopping) {
			int ms = cJSON_IsNumber(tmo) && tmo->valuedouble > 0 ?
			    (int)tmo->valuedouble : SYNC_DEFAULT_MS;

			start_sync(d, c, ms);
			return;
		}
		server_reply(c, live_status(d));
		return;
	}
	if (strcmp(name, "stop") == 0) {
		resp = cJSON_CreateObject();
		cJSON_AddBoolToObject(resp, "ok", 1);
		cJSON_AddNumberToObject(resp, "pid", getpid());
		server_reply(c, resp);
		begin_stop(d);
		return;
	}
	if (strcmp(name, "rescan") == 0) {	/* test and recovery hook */
		watcher_rescan(d->watcher, "requested over the socket");
		resp = cJSON_CreateObject();
		cJSON_AddBoolToObject(resp, "ok", 1);
		server_reply(c, resp);
		return;
	}
	if (strcmp(name, "ping") == 0) {
		resp = cJSON_CreateObject();
		cJSON_AddBoolToObject(resp, "ok", 1);
		cJSON_AddNumberToObject(resp, "pid", getpid());
		server_reply(c, resp);
		return;
	}
	resp = cJSON_CreateObject();
	cJSON_AddStringToObject(resp, "error", "unknown command");
	server_reply(c, resp);
}

/* ---- lifetime -------------------------------------------------------------- */

static void begin_stop(struct daemon *d)
{
	if (d->stopping)
		return;
	d->stopping = true;
	log_info("stopping");
	while (d->syncs)
		sync_finish(d->syncs, false);
	server_stop(d->server);
	d->server = NULL;
	watcher_stop(d->watcher);
	settle_stop(d->settle);
	sched_shutdown(d->sched);
	uv_close((uv_handle_t *)&d->sigterm, NULL);
	uv_close((uv_handle_t *)&d->sigint, NULL);
	uv_close((uv_handle_t *)&d->ledger_retry, NULL);
	uv_close((uv_handle_t *)&d->ledger_gc, NULL);
	uv_close((uv_handle_t *)&d->ledger_quiet, NULL);
}

static void on_signal(uv_signal_t *s, int signum)
{
	log_info("signal %d", signum);
	begin_stop(s->data);
}

static void ready(int *fd, const char *msg)
{
	if (*fd < 0)
		return;
	if (write(*fd, msg, strlen(msg)) < 0) {
		/* the starter is gone; nothing to tell */
	}
	close(*fd);
	*fd = -1;
}

static int fail_start(int *ready_fd, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Opening the ledger (a new one: schema and compaction, about 10 ms) and
 * the initial scan need nothing from each other, so the ledger opens on a
 * thread while the loop thread scans. The thread touches nothing else;
 * the connection passes to the loop thread at the join (SQLite allows a
 * connection to change threads while it is not in use). */
struct ledger_opening {
	pthread_t	 thread;
	const char	*path;		/* borrowed from the cli_ctx */
	struct ledger	*ledger;	/* the result, or NULL */
	struct wd_err	 err;		/* why not, when rc != 0 */
	int		 rc;
	int		 interrupted;	/* runs marked interrupted */
	bool		 threaded;	/* a thread is to be joined */
};

static void *ledger_opening_main(void *arg)
{
	struct ledger_opening *lo = arg;
	struct wd_err err = { 0 };

	lo->rc = ledger_open(lo->path, LEDGER_WRITE, &lo->ledger, &lo->err);
	if (lo->rc == 0 && ledger_mark_interrupted(lo->ledger, &lo->interrupted, &err) != 0)
		lo->interrupted = 0;
	return NULL;
}

/* Where no thread can be had, the ledger opens here and now. */
static void ledger_opening_begin(struct ledger_opening *lo, const char *path)
{
	memset(lo, 0, sizeof(*lo));
	lo->path = path;
	lo->threaded = !envlist_has("WATCHD_BENCH_WITHOUT", "ledger-thread") &&
	    pthread_create(&lo->thread, NULL, ledger_opening_main, lo) == 0;
	if (!lo->threaded)
		ledger_opening_main(lo);
}

/* 0 with *out set, or the ledger's error code with lo->err filled. */
static int ledger_opening_end(struct ledger_opening *lo, struct ledger **out)
{
	if (lo->threaded)
		pthread_join(lo->thread, NULL);
	lo->threaded = false;
	if (lo->rc == 0 && lo->interrupted > 0)
		log_info("%d run(s) left unfinished by the last daemon marked interrupted",
		    lo->interrupted);
	*out = lo->ledger;
	return lo->rc;
}

static int fail_start(int *ready_fd, int code, const char *fmt, ...)
{
	char msg[1024], line[1100];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("%s", msg);
	if (*ready_fd >= 0) {
		snprintf(line, sizeof(line), "error %d %s\n", code, msg);
		ready(ready_fd, line);
	} else
		fprintf(stderr, "watchd: %s\n", msg);
	return code;
}

/* Is pid gone or on its way out? A killed daemon's main thread turns
 * zombie while its other threads may still be exiting and holding its
 * files, the lock among them. */
static bool pid_exiting(int pid)
{
	char path[64], stat[512], *paren;
	ssize_t n;
	int fd;

	if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH))
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT;
	n = read(fd, stat, sizeof(stat) - 1);
	close(fd);
	if (n <= 0)
		return false;
	stat[n] = '\0';
	paren = strrchr(stat, ')');
	return paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

#define LOCK_WAIT_MS	2000	/* for a dead holder's last threads to exit */

/* One daemon per ROOT: an flock on a file next to the socket, holding our
 * pid for the message a second starter prints. Returns the fd or -1. A
 * lock whose holder is exiting (a start right after a crash or kill -9)
 * is waited for, up to LOCK_WAIT_MS. */
static int take_lock(const char *lock_path, int *other_pid)
{
	int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	char buf[32];

	*other_pid = 0;
	if (fd < 0)
		return -1;
	for (int waited = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; waited += 10) {
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

		*other_pid = 0;
		if (n > 0) {
			buf[n] = '\0';
			*other_pid = atoi(buf);
		}
		if (waited >= LOCK_WAIT_MS || !pid_exiting(*other_pid)) {
			close(fd);
			return -1;
		}
		usleep(10000);
	}
	if (ftruncate(fd, 0) == 0) {
		int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());

		if (pwrite(fd, buf, (size_t)n, 0) != n)
			log_warn("cannot write %s", lock_path);
	}
	return fd;
}

int daemon_main(struct cli_ctx *ctx, int ready_fd, const char *log_path)
{
	struct daemon d;
	struct ledger_opening lo;
	struct wd_err err = { 0 };
	char *lock_path = NULL, werr[512] = "";
	int lock_fd = -1, other = 0, rc = WD_EXIT_OK, n;
	const char *gitdir = NULL;

	memset(&d, 0, sizeof(d));
	d.ctx = ctx;
	signal(SIGPIPE, SIG_IGN);
	if ((n = cli_state_dir(ctx)) != 0)
		return fail_start(&ready_fd, WD_EXIT_RUNTIME, "cannot create %s: %s",
		    ctx->state_dir, strerror(-n));
	log_init(log_path, LOG_LVL_INFO);
	if (ipc_paths(ctx->root, &d.sock_path, &lock_path, &err) != 0)
		return fail_start(&ready_fd, WD_EXIT_RUNTIME, "%s", err.msg);
	lock_fd = take_lock(lock_path, &other);
	if (lock_fd < 0) {
		rc = fail_start(&ready_fd, WD_EXIT_RUNTIME, "already running for %s (pid %d)",
		    ctx->root, other);
		goto out_paths;
	}
	/* In a repository libgit2 is needed before the scan (ignore rules,
	 * the git directory): its initialisation overlaps the ledger's
	 * opening. Elsewhere nothing needs it before the first gate run's blob
	 * ids, so it starts after the scan instead of competing with it. */
	if (!repo_absent(ctx->root))
		repo_global_init_start();
	ledger_opening_begin(&lo, ctx->ledger_path);
	d.tmp_dir = xasprintf("%s/tmp", ctx->state_dir);
	d.repo = repo_open(ctx->root);
	if (d.repo)
		gitdir = repo_gitdir(d.repo);
	d.ig = ignore_new(&ctx->cfg.ignore, d.repo);
	{
		size_t rl = strlen(ctx->root);

		if (strncmp(ctx->config_path, ctx->root, rl) == 0 && ctx->config_path[rl] == '/')
			d.config_rel = xstrdup(ctx->config_path + rl + 1);
	}
	d.loop = uv_default_loop();
	d.tree = tree_new();
	{
		struct sched_opts so = {
			.loop = d.loop, .root = ctx->root, .cfg = &ctx->cfg,
			.tmp_dir = d.tmp_dir, .trigger = "watch",
			.list_files = list_files, .list_arg = &d,
		};
		struct settle_opts se = {
			.loop = d.loop, .root = ctx->root, .gitdir = gitdir, .tree = d.tree,
			.debounce_ms = ctx->cfg.debounce_ms, .max_wait_ms = ctx->cfg.max_wait_ms,
			.stability_ms = ctx->cfg.stability_ms,
			.writer_timeout_ms = ctx->cfg.writer_timeout_ms,
		};
		struct watcher_cb wcb = {
			.file = on_file, .cookie_prefix = COOKIE_PREFIX, .cookie = on_cookie, .git = on_git, .rules = on_rules,
			.arg = &d, .rescanned = on_rescanned,
		};

		d.settle = settle_new(&se, on_batch, &d);
		d.started = uv_now(d.loop);
		/* nothing calls back into the daemon before the loop runs */
		n = watcher_start(d.loop, ctx->root, gitdir, d.ig, d.tree, &wcb, &d.watcher, werr,
		    sizeof(werr));
		/* a ledger that cannot be used is the first thing to report, as
		 * when it opened before the scan */
		if (ledger_opening_end(&lo, &d.ledger) != 0) {
			rc = fail_start(&ready_fd, WD_EXIT_RUNTIME, "%s", lo.err.msg);
			if (n == 0)
				watcher_stop(d.watcher);
			settle_stop(d.settle);
			goto out_loop;
		}
		if (n != 0) {
			rc = fail_start(&ready_fd, WD_EXIT_RUNTIME, "%s", werr);
			settle_stop(d.settle);
			goto out_loop;
		}
		mkdir(d.tmp_dir, 0700);
		so.ledger = d.ledger;
		d.sched = sched_new(&so, on_run_done, &d);
	}
	repo_global_init_start();	/* runs during the first debounce */
	if (server_start(d.loop, d.sock_path, on_request, &d, &d.server, &err) != 0) {
		rc = fail_start(&ready_fd, WD_EXIT_RUNTIME, "%s", err.msg);
		watcher_stop(d.watcher);
		settle_stop(d.settle);
		goto out_loop;
	}
	uv_signal_init(d.loop, &d.sigterm);
	uv_signal_init(d.loop, &d.sigint);
	d.sigterm.data = d.sigint.data = &d;
	uv_signal_start(&d.sigterm, on_signal, SIGTERM);
	uv_signal_start(&d.sigint, on_signal, SIGINT);
	uv_timer_init(d.loop, &d.ledger_retry);
	uv_timer_init(d.loop, &d.ledger_gc);
	uv_timer_init(d.loop, &d.ledger_quiet);
	d.ledger_retry.data = d.ledger_gc.data = d.ledger_quiet.data = &d;
	uv_timer_start(&d.ledger_gc, on_ledger_gc, LEDGER_GC_MS, LEDGER_GC_MS);
	{
		struct watcher_stats ws;
		char msg[1024];

		watcher_get_stats(d.watcher, &ws);
		log_info("watchd %s watching %s: %d directories, %llu files, socket %s",
		    WATCHD_VERSION, ctx->root, ws.dirs, (unsigned long long)ws.files, d.sock_path);
		/* the starter says it too: a user who never reads the log must
		 * still learn that a limit makes this daemon scan */
		if (ws.degraded && ws.reason)
			snprintf(msg, sizeof(msg), "ok degraded %s\n", ws.reason);
		else
			snprintf(msg, sizeof(msg), "ok\n");
		ready(&ready_fd, msg);
	}
	/* Housekeeping that can take a while on a big ledger comes after
	 * "ready": watching is what the starter waits for. */
	if (ledger_quick_check(d.ledger, &err) != 0)
		log_warnx("LEDGER DAMAGED, results may be missing: %s", err.msg);
	prune_state(&d);
	ledger_prune(&d);
	uv_run(d.loop, UV_RUN_DEFAULT);
out_loop:
	/* let every closing handle (and killed tool) report */
	uv_run(d.loop, UV_RUN_DEFAULT);
	sched_free(d.sched);
	tree_free(d.tree);	/* the watcher and settle wrote into it until closed */
	free_retired(&d);
	free(d.config_rel);
	free(d.config_error);
	if (uv_loop_close(d.loop) != 0)
		log_warnx("handles left open at exit");
	ignore_free(d.ig);
	repo_close(d.repo);
	free(d.tmp_dir);
	if (d.ledger && ledger_retry(d.ledger, &err) > 0)	/* a last chance for queued writes */
		log_warnx("%s", err.msg);
	ledger_close(d.ledger);
	close(lock_fd);
	unlink(lock_path);
out_paths:
	/* exit() must not run libraries' destructors under a thread still
	 * initialising libgit2 */
	repo_global_init();
	log_info("exit");
	free(lock_path);
	free(d.sock_path);
	return rc;
}
