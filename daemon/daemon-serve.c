/* What the daemon's socket serves: requests (status, stop, rescan,
 * ping), the status document (live, or from the ledger when no daemon
 * runs), and the `status --sync` barrier: a cookie file travels the inotify
 * queue behind every earlier change (Watchman's cookie sync), and the sync
 * is answered once everything before it has been settled and gated. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "daemon-internal.h"
#include "daemon/remote/client.h"
#include "daemon/ipc/ipc.h"
#include "daemon/ipc/request.h"
#include "daemon/ipc/server.h"
#include "daemon/ledger/ledger.h"
#include "daemon/run/sched.h"
#include "daemon/watch/settle.h"
#include "daemon/watch/watcher.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "version.h"

#define SYNC_DEFAULT_MS 60000

/* ---- status ---------------------------------------------------------------- */

static void add_ledger_state(cJSON *o, struct ledger *l)
{
	cJSON *last = NULL, *gates = NULL;
	struct wd_err err = { 0 };

	/* the summary counts every file judged, staged ones too */
	ledger_flush(l, &err);
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

/* "remote_cache": where, what it may do, what it answered, and whether
 * it is being left alone after a failure. */
static void add_remote(cJSON *o, const struct remote *r)
{
	cJSON *rc = cJSON_AddObjectToObject(o, "remote_cache");
	struct remote_stats st;
	const char *why;
	int64_t retry = remote_retry_at(r, &why);

	remote_stats(r, &st);
	cJSON_AddStringToObject(rc, "url", remote_url(r));
	cJSON_AddBoolToObject(rc, "read", remote_reads(r));
	cJSON_AddBoolToObject(rc, "write", remote_writes(r));
	cJSON_AddNumberToObject(rc, "requests", (double)(st.gets + st.puts));
	cJSON_AddNumberToObject(rc, "hits", (double)st.hits);
	cJSON_AddNumberToObject(rc, "misses", (double)st.misses);
	cJSON_AddNumberToObject(rc, "uploads", (double)st.puts);
	cJSON_AddNumberToObject(rc, "failures", (double)st.failures);
	if (retry) {
		char iso[32];

		ledger_time_iso(retry, iso);
		cJSON_AddStringToObject(rc, "backing_off_until", iso);
	} else
		cJSON_AddNullToObject(rc, "backing_off_until");
	if (why)
		cJSON_AddStringToObject(rc, "last_error", why);
	else
		cJSON_AddNullToObject(rc, "last_error");
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
	/* a rescan is due but backed off (overflows in a row): changes may
	 * be lost and not reported yet */
	cJSON_AddBoolToObject(w, "rescan_due", watcher_busy(d->watcher));
	q = cJSON_AddObjectToObject(o, "queue");
	cJSON_AddNumberToObject(q, "pending_files", (double)settle_pending(d->settle) + pending);
	cJSON_AddNumberToObject(q, "running_gates", running);
	cJSON_AddNumberToObject(q, "open_writers", (double)settle_writers_open(d->settle));
	cJSON_AddNumberToObject(o, "subscribers", (double)events_subscribers(d->events));
	add_ledger_state(o, d->ledger);
	{
		cJSON *h = NULL;

		ledger_health(d->ledger, &h);
		cJSON_AddItemToObject(o, "ledger", h);
	}
	if (d->remote)
		add_remote(o, d->remote);
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
	if (ipc_paths(ctx->root, &sock, NULL) == 0)
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
	if (server_client_gone(w->client))
		server_release(w->client);	/* no status for a closed connection */
	else {
		resp = live_status(d);
		cJSON_AddBoolToObject(resp, "synced", ok);
		server_reply(w->client, resp);
	}
	uv_close((uv_handle_t *)&w->timer, sync_free_cb);
}

void serve_check_syncs(struct daemon *d)
{
	uint64_t pending = settle_min_seq(d->settle), running = sched_min_seq(d->sched);

	/* a rescan that is due (backed off after overflows) will report
	 * changes lost before the sync began; serve_on_rescanned comes back here */
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
		serve_check_syncs(d);
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

void serve_on_cookie(void *arg, const char *name)
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
	serve_check_syncs(d);
}

/* A full rescan listed the disk as it was after every change made before
 * any waiting sync began: such a sync need no longer see its cookie (an
 * overflow may have dropped it), but must wait for what the rescan
 * reported. */
void serve_on_rescanned(void *arg, bool full)
{
	struct daemon *d = arg;

	events_rescan(d->events, full);
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
	serve_check_syncs(d);
}

void serve_cancel_syncs(struct daemon *d)
{
	while (d->syncs)
		sync_finish(d->syncs, false);
}

/* ---- requests -------------------------------------------------------------- */

void serve_on_request(struct client *c, const cJSON *msg, void *arg)
{
	struct daemon *d = arg;
	struct ipc_request req;
	const char *why = NULL;
	cJSON *resp;

	if (ipc_request_decode(msg, &req, &why) != 0) {
		resp = cJSON_CreateObject();
		cJSON_AddStringToObject(resp, "error", why);
		server_reply(c, resp);
		return;
	}
	switch (req.cmd) {
	case IPC_STATUS:
		if (req.sync && !d->stopping) {
			start_sync(d, c, req.timeout_ms > 0 ? req.timeout_ms : SYNC_DEFAULT_MS);
			return;
		}
		server_reply(c, live_status(d));
		return;
	case IPC_SUBSCRIBE:	/* status --follow */
		events_subscribe(d->events, c);
		return;
	case IPC_STOP:
		resp = cJSON_CreateObject();
		cJSON_AddBoolToObject(resp, "ok", 1);
		cJSON_AddNumberToObject(resp, "pid", getpid());
		server_reply(c, resp);
		daemon_begin_stop(d);
		return;
	case IPC_RESCAN:	/* test and recovery hook */
		watcher_rescan(d->watcher, "requested over the socket");
		resp = cJSON_CreateObject();
		cJSON_AddBoolToObject(resp, "ok", 1);
		server_reply(c, resp);
		return;
	case IPC_PING:
		resp = cJSON_CreateObject();
		cJSON_AddBoolToObject(resp, "ok", 1);
		cJSON_AddNumberToObject(resp, "pid", getpid());
		server_reply(c, resp);
		return;
	case IPC_UNKNOWN:
		break;
	}
	resp = cJSON_CreateObject();
	cJSON_AddStringToObject(resp, "error", "unknown command");
	server_reply(c, resp);
}
