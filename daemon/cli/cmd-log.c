/* watchd log: recent runs from the ledger, newest first, as aligned text
 * or (--json) an array of run objects in the `show --json` shape. */
#include <stdio.h>
#include <string.h>

#include "ledger-cli.h"
#include "lib/buf.h"

static int cmd_log_exec(struct cli_ctx *, const struct args *);

const struct cmd_entry cmd_log_entry = {
	.name = "log",
	.usage = "[--limit N] [--gate G] [--status S] [--since TIME] [--json]",
	.help = "recent runs, newest first",
	.flags = CMD_ROOT,
	.args = {
		.opts = (const struct args_opt[]){
			{ "limit", ARGS_VALUE | ARGS_LETTER('n') },
			{ "gate", ARGS_VALUE },
			{ "status", ARGS_VALUE },
			{ "since", ARGS_VALUE },
			{ "json", 0 },
			{ NULL, 0 },
		},
	},
	.exec = cmd_log_exec,
};

static const char *const run_statuses[] = {
	"pass", "fail", "error", "interrupted", "running", NULL,
};

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void print_run(const cJSON *run)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(run, "duration_ms");
	const cJSON *g;
	const char *started = str(run, "started_at");
	char when[24] = "-", dur[16] = "-";
	struct buf gates = BUF_INIT;

	/* whole seconds are enough in a listing: "2026-11-24T12:00:00Z" */
	if (started && strlen(started) >= 19)
		snprintf(when, sizeof(when), "%.19sZ", started);
	if (cJSON_IsNumber(d))
		ledger_cli_duration(d->valuedouble, dur);
	cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(run, "gates")) {
		buf_addf(&gates, "%s%s:%s%s", gates.len ? " " : "", str(g, "name"),
		    str(g, "status"),
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(g, "cached")) ? "*" : "");
	}
	printf("%-26s  %-20s  %-10s  %-11s  %8s  %s\n", str(run, "id"), when,
	    str(run, "trigger"), str(run, "status"), dur, gates.buf);
	buf_release(&gates);
}

/* The options into *q (strings borrowed from argv): 0, or prints why and
 * returns WD_EXIT_USAGE. */
static int parse_query(const struct args *args, struct ledger_log_query *q)
{
	const char *limit = args_get(args, "limit"), *status = args_get(args, "status");
	const char *since = args_get(args, "since");

	if (limit && (ledger_cli_uint(limit, 1000000, &q->limit) < 0 || q->limit == 0)) {
		cli_error("log: --limit '%s': expected a positive integer", limit);
		return WD_EXIT_USAGE;
	}
	if (status) {
		bool known = false;

		for (const char *const *s = run_statuses; *s; s++)
			known |= strcmp(*s, status) == 0;
		if (!known) {
			cli_error("log: --status '%s': expected pass, fail, error, "
			    "interrupted or running", status);
			return WD_EXIT_USAGE;
		}
	}
	q->gate = args_get(args, "gate");
	q->status = status;
	return since ? ledger_cli_since("log", since, &q->since_ms) : 0;
}

static int cmd_log_exec(struct cli_ctx *ctx, const struct args *args)
{
	struct ledger_log_query q = { 0 };
	struct wd_err err = { 0, "" };
	struct ledger *l = NULL;
	cJSON *runs = NULL;
	bool json = args_has(args, "json");
	const cJSON *run;
	int rc;

	if ((rc = parse_query(args, &q)) != 0)
		return rc;
	rc = ledger_cli_open(ctx, LEDGER_READ, &l);
	if (rc == LEDGER_CLI_ABSENT) {
		if (json)
			printf("[]\n");
		else
			printf("no runs recorded yet\n");
		return WD_EXIT_OK;
	}
	if (rc)
		return rc;
	rc = ledger_log(l, &q, &runs, &err);
	ledger_close(l);
	if (rc != 0) {
		cli_error("%s", err.msg);
		return WD_EXIT_RUNTIME;
	}
	if (json) {
		cli_print_json(runs, false);
	} else if (cJSON_GetArraySize(runs) == 0) {
		printf("%s\n", q.gate || q.status || q.since_ms ? "no matching runs" :
		    "no runs recorded yet");
	} else {
		printf("%-26s  %-20s  %-10s  %-11s  %8s  %s\n", "ID", "STARTED", "TRIGGER",
		    "STATUS", "DURATION", "GATES (* cached)");
		cJSON_ArrayForEach(run, runs)
			print_run(run);
	}
	cJSON_Delete(runs);
	return WD_EXIT_OK;
}
