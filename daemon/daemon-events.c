/* What the daemon tells the people and tools that watch it. A run's gates
 * are gathered here from its start to its end (the scheduler's hooks), each
 * with at most EVENT_FINDINGS_MAX findings; under `start --foreground` a
 * finished run is printed on stdout as a person reads it (report-text.c),
 * while log lines go to stderr. Nothing is gathered while nobody listens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "daemon-internal.h"
#include "daemon/ledger/ledger.h"
#include "daemon/run/report-text.h"
#include "daemon/run/sched.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

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
};

static bool listening(const struct events *ev)
{
	return ev->foreground;
}

static cJSON *gate_summary(struct events *ev)
{
	cJSON *sum = NULL;
	struct wd_err err = { 0 };

	if (ledger_gate_summary(ev->d->ledger, &sum, &err) != 0) {
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

	(void)gates;
	(void)changed;
	(void)removed;
	if (ev == NULL)
		return;
	r = xcalloc(1, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", run_id);
	r->started = uv_now(d->loop);
	r->gates = cJSON_CreateArray();
	r->next = ev->runs;
	ev->runs = r;
}

void events_gate_done(void *arg, const struct sched_gate_done *g)
{
	struct daemon *d = arg;
	struct events *ev = d->events;
	struct ev_run *r;

	if (ev == NULL || !listening(ev) || (r = find_run(ev, g->run_id, false)) == NULL)
		return;
	cJSON_AddItemToArray(r->gates, gate_json(g));
}

/* The foreground's account of a run: a summary line, its findings. */
static void print_run(struct events *ev, const cJSON *run)
{
	struct buf b = BUF_INIT;
	cJSON *after = gate_summary(ev);

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
	if (ev->foreground)
		print_run(ev, run);
	cJSON_Delete(run);
	free(r);
}
