/* watchd status --follow [--json]: subscribes to the daemon's events and
 * writes them until the daemon stops: with --json each event as the JSON
 * line the daemon sent, else as a line or a few a person reads. Exit 0
 * when the daemon stopped, 3 when none runs, 4 when the daemon dropped us
 * for reading too slowly ({"event":"lagged"}), refused (an older daemon) or
 * the connection broke. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "daemon/ipc/ipc.h"
#include "daemon/run/report-text.h"
#include "gates/gate.h"
#include "lib/buf.h"
#include "status-follow.h"

struct follow {
	bool	json;
	bool	stopping;	/* the daemon said it stops */
	bool	lagged;		/* it dropped us */
	bool	refused;	/* it answered with an error */
};

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jnum(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* "a.py, b.py and 3 more" from an array of names and its full count. */
static void names(struct buf *b, const cJSON *arr, double total, size_t max)
{
	const cJSON *it;
	size_t i = 0;

	cJSON_ArrayForEach(it, arr) {
		if (!cJSON_IsString(it))
			continue;
		if (i == max)
			break;
		if (i++ > 0)
			buf_addstr(b, ", ");
		{
			char *q = gate_quote_path(it->valuestring);

			buf_addstr(b, q);
			free(q);
		}
	}
	if (total > (double)i)
		buf_addf(b, "%s%.0f more", i ? " and " : "", total - (double)i);
}

/* One event as text; returns false for events a person need not see. */
static bool event_text(const cJSON *ev, struct buf *b)
{
	const char *name = jstr(ev, "event"), *msg = jstr(ev, "message");

	if (name == NULL)
		return false;
	if (strcmp(name, "subscribed") == 0) {
		buf_addf(b, "following the daemon (pid %.0f) on %s\n", jnum(ev, "pid"),
		    jstr(ev, "root") ? jstr(ev, "root") : "?");
	} else if (strcmp(name, "run_started") == 0) {
		const cJSON *files = cJSON_GetObjectItemCaseSensitive(ev, "files");
		const cJSON *gates = cJSON_GetObjectItemCaseSensitive(ev, "gates");

		buf_addf(b, "run %s started: ", jstr(ev, "run_id"));
		names(b, gates, cJSON_GetArraySize(gates), 10);
		buf_addstr(b, " on ");
		names(b, files, jnum(ev, "files_count"), 3);
		buf_addch(b, '\n');
	} else if (strcmp(name, "gate_finished") == 0) {
		cJSON *one = cJSON_CreateArray();
		size_t more;

		buf_addstr(b, "  ");
		report_text_gate(ev, b);
		buf_addch(b, '\n');
		cJSON_AddItemReferenceToArray(one, (cJSON *)ev);
		more = report_text_findings(one, REPORT_TEXT_CAP, b);
		cJSON_Delete(one);
		report_text_gate_why(ev, b);
		if (more)
			buf_addf(b, "... %zu more: watchd show %s\n", more, jstr(ev, "run_id"));
	} else if (strcmp(name, "run_finished") == 0) {
		buf_addf(b, "run %s %s in %.1f s\n", jstr(ev, "run_id"), jstr(ev, "status"),
		    jnum(ev, "duration_ms") / 1000.0);
	} else if (strcmp(name, "rescan") == 0) {
		buf_addf(b, "rescanned %s\n", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev,
		    "full")) ? "the whole tree" : "part of the tree");
	} else if (strcmp(name, "config_reloaded") == 0) {
		const cJSON *g = cJSON_GetObjectItemCaseSensitive(ev, "changed_gates");

		buf_addf(b, "config reloaded: %d gate(s) new or changed", cJSON_GetArraySize(g));
		if (cJSON_GetArraySize(g) > 0) {
			buf_addstr(b, " (");
			names(b, g, cJSON_GetArraySize(g), 10);
			buf_addch(b, ')');
		}
		buf_addch(b, '\n');
	} else if (strcmp(name, "config_error") == 0) {
		buf_addf(b, "config not reloaded, the running one stays: %s\n", msg ? msg : "?");
	} else if (strcmp(name, "error") == 0) {
		buf_addf(b, "error: %s\n", msg ? msg : "?");
	} else if (strcmp(name, "stopping") == 0) {
		buf_addstr(b, "the daemon is stopping\n");
	} else
		return false;	/* an event of a newer daemon */
	return true;
}

static void on_line(struct follow *f, const char *line, size_t len)
{
	cJSON *ev = cJSON_ParseWithLength(line, len);
	const char *name = ev ? jstr(ev, "event") : NULL;
	struct buf b = BUF_INIT;

	if (ev && name == NULL && jstr(ev, "error")) {
		/* an older daemon ("unknown command"), or one stopping */
		cli_error("status --follow: the daemon refused: %s", jstr(ev, "error"));
		f->refused = true;
		cJSON_Delete(ev);
		return;
	}
	if (name && strcmp(name, "stopping") == 0)
		f->stopping = true;
	if (name && strcmp(name, "lagged") == 0)
		f->lagged = true;
	if (f->json) {
		fwrite(line, 1, len, stdout);
		putchar('\n');
	} else if (ev && !f->lagged && event_text(ev, &b)) {
		char ts[16];
		time_t now = time(NULL);
		struct tm tm;

		/* the time a person reads beside each first line */
		strftime(ts, sizeof(ts), "%H:%M:%S", localtime_r(&now, &tm));
		if (b.buf[0] != ' ')
			printf("%s ", ts);
		fwrite(b.buf, 1, b.len, stdout);
	}
	if (f->lagged && !f->json)
		cli_error("status --follow: %s", ev && jstr(ev, "message") ? jstr(ev, "message") :
		    "dropped for reading too slowly");
	fflush(stdout);
	buf_release(&b);
	cJSON_Delete(ev);
}

int status_follow(struct cli_ctx *ctx, bool json)
{
	struct follow f = { .json = json };
	struct wd_err err = { 0 };
	struct buf in = BUF_INIT;
	char *sock = NULL;
	cJSON *req;
	int fd = -1, rc;

	if (ipc_paths(ctx->root, &sock, &err) != 0) {
		cli_error("%s", err.msg);
		return WD_EXIT_RUNTIME;
	}
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "cmd", "subscribe");
	rc = ipc_send(sock, req, &fd, &err);
	cJSON_Delete(req);
	free(sock);
	if (rc == WD_ENOTRUNNING) {
		cli_error("not running for %s", ctx->root);
		return WD_EXIT_NOTRUNNING;
	}
	if (rc != 0) {
		cli_error("%s", err.msg);
		return WD_EXIT_RUNTIME;
	}
	for (;;) {
		char chunk[65536], *nl;
		ssize_t n = read(fd, chunk, sizeof(chunk));
		size_t off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buf_add(&in, chunk, (size_t)n);
		while (!f.refused && (nl = memchr(in.buf + off, '\n', in.len - off)) != NULL) {
			on_line(&f, in.buf + off, (size_t)(nl - (in.buf + off)));
			off = (size_t)(nl - in.buf) + 1;
		}
		memmove(in.buf, in.buf + off, in.len - off);
		buf_setlen(&in, in.len - off);
		if (f.refused)
			break;
	}
	close(fd);
	buf_release(&in);
	if (f.lagged || f.refused)
		return WD_EXIT_RUNTIME;
	if (!f.stopping) {
		cli_error("status --follow: the daemon closed the connection");
		return WD_EXIT_RUNTIME;
	}
	return WD_EXIT_OK;
}
