/* watchd status [--json] [--sync] [--timeout SEC]: the daemon's live state,
 * or, when none runs, "not running" plus the ledger's last results (exit 3).
 * --sync first waits until every change made before the call has been
 * seen, settled and gated. Exit 1 while a gate fails (fail, error,
 * timeout), else 0. --follow streams the daemon's events instead
 * (status-follow.c). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "daemon/daemon.h"
#include "daemon/ipc/ipc.h"
#include "daemon/run/report-text.h"
#include "lib/buf.h"
#include "lib/color.h"
#include "status-follow.h"

static int cmd_status_exec(struct cli_ctx *, const struct args *);

const struct cmd_entry cmd_status_entry = {
	.name = "status",
	.usage = "[--json] [--sync] [--timeout SEC] [--color WHEN] | --follow [--json] [--color WHEN]",
	.help = "live state from the daemon, or the ledger's last results",
	.flags = CMD_ROOT,
	.args = {
		.opts = (const struct args_opt[]){
			{ "json", 0 },
			{ "sync", 0 },
			{ "timeout", ARGS_VALUE },
			{ "follow", 0 },
			{ "color", ARGS_VALUE },
			{ NULL, 0 },
		},
	},
	.exec = cmd_status_exec,
};

static void print_path(const char *path)
{
	printf("      %s", color_on(1, COLOR_PATH));
	cli_print_path("%s", path);
	printf("%s\n", color_off(1));
}

/* The failing files' first findings (the ledger caps them), then where
 * the rest are; a failing file with no finding to show (an error, a
 * whole-run finding) is listed by name when nothing was left out. */
static void print_findings(const cJSON *g)
{
	const cJSON *ff = cJSON_GetObjectItemCaseSensitive(g, "first_findings");
	const cJSON *total = cJSON_GetObjectItemCaseSensitive(g, "findings");
	const cJSON *run = cJSON_GetObjectItemCaseSensitive(g, "findings_run");
	const cJSON *files = cJSON_GetObjectItemCaseSensitive(g, "files"), *f, *x;
	int shown = cJSON_GetArraySize(ff), more;
	struct buf b;

	buf_init(&b);
	cJSON_ArrayForEach(x, ff) {
		buf_addstr(&b, "      ");
		report_text_finding(x, NULL, &b);
	}
	if (b.len)
		fwrite(b.buf, 1, b.len, stdout);
	buf_release(&b);
	more = cJSON_IsNumber(total) ? total->valueint - shown : 0;
	if (more > 0) {
		printf("      ... %d more: watchd show %s\n", more,
		    cJSON_IsString(run) ? run->valuestring : "RUN_ID");
		return;
	}
	cJSON_ArrayForEach(f, files) {
		bool seen = false;

		if (!cJSON_IsString(f))
			continue;
		cJSON_ArrayForEach(x, ff) {
			const cJSON *p = cJSON_GetObjectItemCaseSensitive(x, "path");

			if (cJSON_IsString(p) && strcmp(p->valuestring, f->valuestring) == 0)
				seen = true;
		}
		if (!seen)
			print_path(f->valuestring);
	}
}

static void print_gates(const cJSON *gates)
{
	const cJSON *g;

	if (!cJSON_IsArray(gates) || cJSON_GetArraySize(gates) == 0) {
		printf("gates: no results yet\n");
		return;
	}
	printf("gates:\n");
	cJSON_ArrayForEach(g, gates) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(g, "name");
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(g, "status");
		const cJSON *ff = cJSON_GetObjectItemCaseSensitive(g, "failing_files");
		const cJSON *fn = cJSON_GetObjectItemCaseSensitive(g, "findings");
		const cJSON *files = cJSON_GetObjectItemCaseSensitive(g, "files"), *f;
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(g, "message");

		printf("  %-20s %s%-8s%s", cJSON_IsString(name) ? name->valuestring : "?",
		    color_on_status(1, cJSON_IsString(st) ? st->valuestring : NULL),
		    cJSON_IsString(st) ? st->valuestring : "?", color_off(1));
		if (cJSON_IsNumber(ff) && ff->valueint > 0)
			printf(" %d failing file(s), %d finding(s)", ff->valueint,
			    cJSON_IsNumber(fn) ? fn->valueint : 0);
		putchar('\n');
		if (cJSON_IsString(msg))
			printf("      %s\n", msg->valuestring);
		if (cJSON_GetObjectItemCaseSensitive(g, "first_findings"))
			print_findings(g);
		else
			cJSON_ArrayForEach(f, files)
				if (cJSON_IsString(f))
					print_path(f->valuestring);
	}
}

static void print_last(const cJSON *o)
{
	const cJSON *last = cJSON_GetObjectItemCaseSensitive(o, "last_run");
	const cJSON *id, *st, *fin;

	if (!cJSON_IsObject(last)) {
		printf("last run: none\n");
		return;
	}
	id = cJSON_GetObjectItemCaseSensitive(last, "id");
	st = cJSON_GetObjectItemCaseSensitive(last, "status");
	fin = cJSON_GetObjectItemCaseSensitive(last, "finished_at");
	printf("last run: %s %s%s%s at %s\n", cJSON_IsString(id) ? id->valuestring : "?",
	    color_on_status(1, cJSON_IsString(st) ? st->valuestring : NULL),
	    cJSON_IsString(st) ? st->valuestring : "?", color_off(1),
	    cJSON_IsString(fin) ? fin->valuestring : "?");
}

/* Why pending files are not gated yet: each reason the daemon holds them. */
static void print_waits(const cJSON *w, const cJSON *q)
{
	const cJSON *ow = cJSON_GetObjectItemCaseSensitive(q, "open_writers");

	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(w, "git_busy")))
		printf("waiting: a git operation is in progress (index.lock, rebase, merge); "
		    "changes are gated once it ends\n");
	if (cJSON_IsNumber(ow) && ow->valueint > 0)
		printf("waiting: %d file(s) still open for writing; gated once closed\n",
		    ow->valueint);
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(w, "rescan_due")))
		printf("waiting: backing off after an event overflow; a rescan of the tree "
		    "is due\n");
}

/* One line: the team's cache, what it answered, and a back-off. */
static void print_remote(const cJSON *rc)
{
	const cJSON *url = cJSON_GetObjectItemCaseSensitive(rc, "url");
	const cJSON *until = cJSON_GetObjectItemCaseSensitive(rc, "backing_off_until");
	const cJSON *why = cJSON_GetObjectItemCaseSensitive(rc, "last_error");

	if (!cJSON_IsString(url))
		return;
	printf("remote cache: %s (%s%s): %.0f hit(s), %.0f miss(es), %.0f upload(s)\n",
	    url->valuestring,
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rc, "read")) ? "read" : "no read",
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rc, "write")) ? ", write" : "",
	    cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rc, "hits")),
	    cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rc, "misses")),
	    cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rc, "uploads")));
	if (cJSON_IsString(until))
		printf("remote cache: not asked until %s after a failure (%s)\n",
		    until->valuestring, cJSON_IsString(why) ? why->valuestring : "?");
}

static void print_live(const cJSON *o)
{
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "watch");
	const cJSON *q = cJSON_GetObjectItemCaseSensitive(o, "queue");
	const cJSON *pid = cJSON_GetObjectItemCaseSensitive(o, "pid");
	const cJSON *root = cJSON_GetObjectItemCaseSensitive(o, "root");
	const cJSON *up = cJSON_GetObjectItemCaseSensitive(o, "uptime_s");

	printf("watchd: running (pid %d) on %s, up %.0f s\n", pid ? pid->valueint : 0,
	    cJSON_IsString(root) ? root->valuestring : "?", up ? up->valuedouble : 0.0);
	if (cJSON_IsObject(w)) {
		const cJSON *dirs = cJSON_GetObjectItemCaseSensitive(w, "dirs");
		const cJSON *deg = cJSON_GetObjectItemCaseSensitive(w, "degraded");
		const cJSON *res = cJSON_GetObjectItemCaseSensitive(w, "rescans");

		const cJSON *why = cJSON_GetObjectItemCaseSensitive(w, "degraded_reason");

		printf("watching: %d directories (inotify), %d rescan(s)%s\n",
		    dirs ? dirs->valueint : 0, res ? res->valueint : 0,
		    cJSON_IsTrue(deg) ? ", DEGRADED" : "");
		if (cJSON_IsTrue(deg))
			printf("degraded: %s\n", cJSON_IsString(why) ? why->valuestring :
			    "some directories are polled (see the log)");
	}
	if (cJSON_IsObject(q)) {
		const cJSON *pf = cJSON_GetObjectItemCaseSensitive(q, "pending_files");
		const cJSON *rg = cJSON_GetObjectItemCaseSensitive(q, "running_gates");

		printf("queue: %d pending file(s), %d running gate(s)\n", pf ? pf->valueint : 0,
		    rg ? rg->valueint : 0);
		print_waits(w, q);
	}
	{
		const cJSON *ce = cJSON_GetObjectItemCaseSensitive(o, "config_error");
		const cJSON *lh = cJSON_GetObjectItemCaseSensitive(o, "ledger");
		const cJSON *le = lh ? cJSON_GetObjectItemCaseSensitive(lh, "error") : NULL;

		/* problems first: they explain why results may be stale */
		if (cJSON_IsString(ce))
			printf("config: NOT RELOADED, the running config stays: %s\n", ce->valuestring);
		if (cJSON_IsString(le))
			printf("ledger: %s\n", le->valuestring);
	}
	print_remote(cJSON_GetObjectItemCaseSensitive(o, "remote_cache"));
	print_last(o);
	print_gates(cJSON_GetObjectItemCaseSensitive(o, "gates"));
}

/* A gate currently failing makes status exit 1: "missing" and "skipped"
 * are not verdicts on the code, so only fail/error/timeout count. */
static bool any_gate_fails(const cJSON *o)
{
	const cJSON *g;

	cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(o, "gates")) {
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(g, "status");

		if (cJSON_IsString(st) && (!strcmp(st->valuestring, "fail") ||
		    !strcmp(st->valuestring, "error") || !strcmp(st->valuestring, "timeout")))
			return true;
	}
	return false;
}

static int cmd_status_exec(struct cli_ctx *ctx, const struct args *args)
{
	bool json = args_has(args, "json"), sync = args_has(args, "sync");
	const char *timeout = args_get(args, "timeout");
	double timeout_s = 60;
	struct wd_err err = { 0 };
	char *sock = NULL, *end;
	cJSON *req, *resp = NULL;
	int rc;

	if (args_has(args, "follow")) {
		if (sync || timeout) {
			cli_error("status: --follow takes no --sync or --timeout");
			return cli_usage(&cmd_status_entry);
		}
		return status_follow(ctx, json);
	}
	/* strtod takes "inf", "nan" and "1e999": each would wrap the int the
	 * wait is counted in, so only a finite count of seconds up to a day
	 * (and at least a millisecond) passes */
	if (timeout) {
		errno = 0;
		timeout_s = strtod(timeout, &end);
		if (end == timeout || *end || errno || !isfinite(timeout_s) || timeout_s < 0.001 ||
		    timeout_s > 86400) {
			cli_error("status: --timeout '%s': expected a number of seconds from 0.001 "
			    "to 86400", timeout);
			return cli_usage(&cmd_status_entry);
		}
	}
	if (ipc_paths(ctx->root, &sock, &err) != 0) {
		cli_error("%s", err.msg);
		return WD_EXIT_RUNTIME;
	}
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "cmd", "status");
	if (sync) {
		cJSON_AddBoolToObject(req, "sync", 1);
		cJSON_AddNumberToObject(req, "timeout_ms", timeout_s * 1000);
	}
	rc = ipc_request(sock, req, (int)(timeout_s * 1000) + 5000, &resp, &err);
	cJSON_Delete(req);
	free(sock);
	if (rc == WD_ENOTRUNNING) {
		cJSON *o = daemon_offline_status(ctx);

		if (json)
			cli_print_json(o, false);
		else {
			const cJSON *lh = cJSON_GetObjectItemCaseSensitive(o, "ledger");
			const cJSON *le = lh ? cJSON_GetObjectItemCaseSensitive(lh, "error") : NULL;

			printf("watchd: not running for %s\n", ctx->root);
			if (cJSON_IsString(le))
				printf("ledger: %s\n", le->valuestring);
			print_last(o);
			print_gates(cJSON_GetObjectItemCaseSensitive(o, "gates"));
		}
		cJSON_Delete(o);
		return WD_EXIT_NOTRUNNING;
	}
	if (rc != 0) {
		cli_error("%s", err.msg);
		return WD_EXIT_RUNTIME;
	}
	if (json)
		cli_print_json(resp, false);
	else
		print_live(resp);
	rc = any_gate_fails(resp) ? WD_EXIT_FAIL : WD_EXIT_OK;
	if (sync && cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(resp, "synced"))) {
		cli_error("--sync: changes were still being processed after %.0f s", timeout_s);
		rc = WD_EXIT_RUNTIME;
	}
	cJSON_Delete(resp);
	return rc;
}
