/* What the daemon tells the people and tools that watch it: events (a run
 * started, each gate finished with its findings, the run finished,
 * rescans, config reloads and errors, stopping) as JSON objects for the
 * `status --follow` subscribers (ipc/subscribe.c), whose shapes README.md
 * documents. A run's gates are gathered here from its start to its end
 * (the scheduler's hooks), each with at most EVENT_FINDINGS_MAX findings;
 * under `start --foreground` a finished run is printed on stdout as a
 * person reads it (report-text.c), while log lines go to stderr. Nothing
 * is built while nobody listens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "daemon-internal.h"
#include "daemon/ipc/server.h"
#include "daemon/ipc/subscribe.h"
#include "daemon/ledger/ledger.h"
#include "daemon/run/report-text.h"
#include "daemon/run/sched.h"
#include "daemon/watch/watcher.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "version.h"

#define EVENT_FINDINGS_MAX	1000	/* per gate; findings_count says how many */
#define EVENT_FILES_MAX		1000	/* per run or gate; files_count likewise */

/* A run from its start to its end. */
struct ev_run {
	char		 id[ULID_LEN + 1];
	uint64_t	 started;	/* loop time */
	cJSON		*gates;		/* gate objects, in the order they finished */
	struct ev_run	*next;
};

struct events {
	struct daemon	*d;
	bool		 foreground;	/* print finished runs on stdout */
	cJSON		*summary;	/* foreground: the gates' state after the
					 * last run printed, or NULL */
	struct ev_run	*runs;
	struct subscribers *subs;	/* NULL once the daemon stops */
};

static bool listening(const struct events *ev)
{
	return ev->foreground || subscribe_count(ev->subs) > 0;
}

static int64_t wall_ms(void)
{
	uv_timeval64_t tv;

	if (uv_gettimeofday(&tv) != 0)
		return 0;
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* A new event object: {"event": name, "time": now}. */
static cJSON *event_new(const char *name)
{
	cJSON *o = cJSON_CreateObject();
	char t[32];

	ledger_time_iso(wall_ms(), t);
	cJSON_AddStringToObject(o, "event", name);
	cJSON_AddStringToObject(o, "time", t);
	return o;
}

/* Sends ev (taken) to the subscribers. */
static void publish(struct events *ev, cJSON *o)
{
	subscribe_publish(ev->subs, o);
	cJSON_Delete(o);
}

static cJSON *gate_summary(struct events *ev)
{
	cJSON *sum = NULL;
	struct wd_err err = { 0 };

	/* after every run: the brief one costs the same at any ledger size */
	if (ledger_gate_brief(ev->d->ledger, &sum, &err) != 0) {
		log_debug("%s", err.msg);
		return NULL;
	}
	return sum;
}

struct events *events_new(struct daemon *d, bool foreground)
{
	struct events *ev = xcalloc(1, sizeof(*ev));

	ev->d = d;
	ev->foreground = foreground;
	ev->subs = subscribe_new(d->loop);
	/* what "pass again" is measured against */
	if (foreground)
		ev->summary = gate_summary(ev);
	return ev;
}

void events_free(struct events *ev)
{
	if (ev == NULL)
		return;
	while (ev->runs) {
		struct ev_run *r = ev->runs;

		ev->runs = r->next;
		cJSON_Delete(r->gates);
		free(r);
	}
	/* normally closed by events_stopping, and freed by the loop since */
	subscribe_close(ev->subs, NULL);
	cJSON_Delete(ev->summary);
	free(ev);
}

static cJSON *str_or_null(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* An array of at most EVENT_FILES_MAX of v's strings. */
static cJSON *files_json(const struct strvec *v)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; v && i < v->n && i < EVENT_FILES_MAX; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v->v[i]));
	return a;
}

static cJSON *finding_json(const struct finding *f)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddItemToObject(o, "path", str_or_null(f->path));
	cJSON_AddNumberToObject(o, "line", f->line);
	cJSON_AddNumberToObject(o, "col", f->col);
	cJSON_AddNumberToObject(o, "end_line", f->end_line);
	cJSON_AddNumberToObject(o, "end_col", f->end_col);
	cJSON_AddItemToObject(o, "code", str_or_null(f->code));
	cJSON_AddStringToObject(o, "severity", f->severity ? f->severity : "error");
	cJSON_AddStringToObject(o, "message", f->message ? f->message : "");
	cJSON_AddItemToObject(o, "url", str_or_null(f->url));
	cJSON_AddBoolToObject(o, "fixable", f->fixable);
	return o;
}

/* The gate in the `show --json` gate shape, lists capped. */
static cJSON *gate_json(const struct sched_gate_done *g)
{
	cJSON *o = cJSON_CreateObject(), *fs;

	cJSON_AddStringToObject(o, "name", g->gate);
	cJSON_AddStringToObject(o, "status", gate_status_name(g->status));
	cJSON_AddBoolToObject(o, "cached", g->cached);
	if (g->exit_code >= 0)
		cJSON_AddNumberToObject(o, "exit_code", g->exit_code);
	else
		cJSON_AddNullToObject(o, "exit_code");
	cJSON_AddNumberToObject(o, "duration_ms", (double)g->duration_ms);
	cJSON_AddItemToObject(o, "files", files_json(g->files));
	cJSON_AddNumberToObject(o, "files_count", (double)g->files->n);
	fs = cJSON_AddArrayToObject(o, "findings");
	for (size_t i = 0; i < g->findings->n && i < EVENT_FINDINGS_MAX; i++)
		cJSON_AddItemToArray(fs, finding_json(&g->findings->v[i]));
	cJSON_AddNumberToObject(o, "findings_count", (double)g->findings->n);
	cJSON_AddItemToObject(o, "message", str_or_null(g->message));
	return o;
}

static struct ev_run *find_run(struct events *ev, const char *id, bool unlink)
{
	for (struct ev_run **pp = &ev->runs; *pp; pp = &(*pp)->next) {
		struct ev_run *r = *pp;

		if (strcmp(r->id, id) == 0) {
			if (unlink)
				*pp = r->next;
			return r;
		}
	}
	return NULL;
}

void events_run_started(void *arg, const char *run_id, const struct strvec *gates,
    const struct strvec *changed, const struct strvec *removed)
{
	struct daemon *d = arg;
	struct events *ev = d->events;
	struct ev_run *r;

	if (ev == NULL)
		return;
	r = xcalloc(1, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", run_id);
	r->started = uv_now(d->loop);
	r->gates = cJSON_CreateArray();
	r->next = ev->runs;
	ev->runs = r;
	if (subscribe_count(ev->subs) > 0) {
		cJSON *o = event_new("run_started");

		cJSON_AddStringToObject(o, "run_id", run_id);
		cJSON_AddStringToObject(o, "trigger", "watch");
		cJSON_AddItemToObject(o, "gates", files_json(gates));
		cJSON_AddItemToObject(o, "files", files_json(changed));
		cJSON_AddNumberToObject(o, "files_count", (double)changed->n);
		cJSON_AddItemToObject(o, "removed", files_json(removed));
		publish(ev, o);
	}
}

void events_gate_done(void *arg, const struct sched_gate_done *g)
{
	struct daemon *d = arg;
	struct events *ev = d->events;
	struct ev_run *r;
	cJSON *gate;

	if (ev == NULL || !listening(ev))
		return;
	gate = gate_json(g);
	if (subscribe_count(ev->subs) > 0) {
		cJSON *o = event_new("gate_finished"), *it;

		cJSON_AddStringToObject(o, "run_id", g->run_id);
		cJSON_AddStringToObject(o, "gate", g->gate);
		cJSON_ArrayForEach(it, gate)
			if (strcmp(it->string, "name") != 0)
				cJSON_AddItemToObject(o, it->string, cJSON_Duplicate(it, 1));
		publish(ev, o);
	}
	if ((r = find_run(ev, g->run_id, false)) != NULL)
		cJSON_AddItemToArray(r->gates, gate);
	else
		cJSON_Delete(gate);
}

/* The foreground's account of a run: a summary line, its findings. */
static void print_run(struct events *ev, const cJSON *run)
{
	struct buf b = BUF_INIT;
	uint64_t t0 = log_stage_start();
	cJSON *after = gate_summary(ev);

	log_stage("summary", 0, t0);
	report_text_run(run, ev->summary, after, REPORT_TEXT_CAP, &b);
	cJSON_Delete(ev->summary);
	ev->summary = after;
	if (fwrite(b.buf, 1, b.len, stdout) != b.len || fflush(stdout) != 0)
		log_debug("stdout: cannot print run %s", cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(run, "id")));
	buf_release(&b);
}

void events_run_finished(struct events *ev, const char *run_id, const char *status)
{
	struct ev_run *r;
	cJSON *run;

	if (ev == NULL || (r = find_run(ev, run_id, true)) == NULL)
		return;
	run = cJSON_CreateObject();
	cJSON_AddStringToObject(run, "id", run_id);
	cJSON_AddStringToObject(run, "status", status);
	cJSON_AddItemToObject(run, "gates", r->gates);
	if (subscribe_count(ev->subs) > 0) {
		cJSON *o = event_new("run_finished"), *gs, *g;
		double total = 0;

		cJSON_AddStringToObject(o, "run_id", run_id);
		cJSON_AddStringToObject(o, "status", status);
		cJSON_AddNumberToObject(o, "duration_ms",
		    (double)(uv_now(ev->d->loop) - r->started));
		gs = cJSON_AddArrayToObject(o, "gates");
		cJSON_ArrayForEach(g, r->gates) {
			cJSON *x = cJSON_CreateObject();
			double n = cJSON_GetNumberValue(
			    cJSON_GetObjectItemCaseSensitive(g, "findings_count"));

			cJSON_AddStringToObject(x, "name", cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(g, "name")));
			cJSON_AddStringToObject(x, "status", cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(g, "status")));
			cJSON_AddNumberToObject(x, "findings_count", n);
			cJSON_AddItemToArray(gs, x);
			total += n;
		}
		cJSON_AddNumberToObject(o, "findings_count", total);
		publish(ev, o);
	}
	if (ev->foreground)
		print_run(ev, run);
	cJSON_Delete(run);
	free(r);
}

void events_subscribe(struct events *ev, struct client *c)
{
	cJSON *hello;
	int fd, rc;

	if (ev == NULL || ev->subs == NULL) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddStringToObject(e, "error", "stopping");
		server_reply(c, e);
		return;
	}
	if ((fd = server_detach(c)) < 0) {
		log_warnx("cannot take over a subscriber: %s", uv_strerror(fd));
		return;
	}
	hello = event_new("subscribed");
	cJSON_AddNumberToObject(hello, "pid", getpid());
	cJSON_AddStringToObject(hello, "root", ev->d->ctx->root);
	cJSON_AddStringToObject(hello, "version", WATCHD_VERSION);
	if ((rc = subscribe_add(ev->subs, fd, hello)) != 0)
		log_warnx("cannot add a subscriber: %s", uv_strerror(rc));
	cJSON_Delete(hello);
}

size_t events_subscribers(const struct events *ev)
{
	return ev ? subscribe_count(ev->subs) : 0;
}

void events_rescan(struct events *ev, bool full)
{
	struct watcher_stats ws;
	cJSON *o;

	if (ev == NULL || subscribe_count(ev->subs) == 0)
		return;
	watcher_get_stats(ev->d->watcher, &ws);
	o = event_new("rescan");
	cJSON_AddBoolToObject(o, "full", full);
	cJSON_AddNumberToObject(o, "rescans", (double)ws.rescans);
	cJSON_AddNumberToObject(o, "overflows", (double)ws.overflows);
	publish(ev, o);
}

void events_config_reloaded(struct events *ev, const struct strvec *changed_gates)
{
	cJSON *o;

	if (ev == NULL || subscribe_count(ev->subs) == 0)
		return;
	o = event_new("config_reloaded");
	cJSON_AddStringToObject(o, "config", ev->d->ctx->config_path);
	cJSON_AddItemToObject(o, "changed_gates", files_json(changed_gates));
	publish(ev, o);
}

void events_config_error(struct events *ev, const struct config_err *e, const char *msg)
{
	cJSON *o;

	if (ev == NULL || subscribe_count(ev->subs) == 0)
		return;
	o = event_new("config_error");
	cJSON_AddStringToObject(o, "config", ev->d->ctx->config_path);
	cJSON_AddStringToObject(o, "message", msg);
	cJSON_AddStringToObject(o, "file", e->file);
	cJSON_AddNumberToObject(o, "line", e->line);
	cJSON_AddNumberToObject(o, "col", e->col);
	cJSON_AddStringToObject(o, "keypath", e->keypath);
	publish(ev, o);
}

void events_error(struct events *ev, const char *what, const char *msg)
{
	cJSON *o;

	if (ev == NULL || subscribe_count(ev->subs) == 0)
		return;
	o = event_new("error");
	cJSON_AddStringToObject(o, "what", what);
	cJSON_AddStringToObject(o, "message", msg);
	publish(ev, o);
}

void events_stopping(struct events *ev)
{
	cJSON *o;

	if (ev == NULL || ev->subs == NULL)
		return;
	o = event_new("stopping");
	subscribe_close(ev->subs, o);
	ev->subs = NULL;
	cJSON_Delete(o);
}
