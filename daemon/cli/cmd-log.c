/* watchd log: recent runs from the ledger, newest first, as aligned text
 * or (--json) an array of run objects in the `show --json` shape. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ledger-cli.h"
#include "lib/buf.h"

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
	printf("%-26s  %-20s  %-7s  %-11s  %8s  %s\n", str(run, "id"), when,
	    str(run, "trigger"), str(run, "status"), dur, gates.buf);
	buf_release(&gates);
}

int cmd_log(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "limit", required_argument, NULL, 'n' },
		{ "gate", required_argument, NULL, 'g' },
		{ "status", required_argument, NULL, 's' },
		{ "since", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct ledger_log_query q = { 0 };
	struct wd_err err = { 0, "" };
	struct ledger *l = NULL;
	cJSON *runs = NULL;
	bool json = false;
	const cJSON *run;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (ledger_cli_uint(optarg, 1000000, &q.limit) < 0 || q.limit == 0) {
				cli_error("log: --limit '%s': expected a positive integer", optarg);
				return WD_EXIT_USAGE;
			}
			break;
		case 'g':
			q.gate = optarg;
			break;
		case 's': {
			bool known = false;

			for (const char *const *s = run_statuses; *s; s++)
				known |= strcmp(*s, optarg) == 0;
			if (!known) {
				cli_error("log: --status '%s': expected pass, fail, error, "
				    "interrupted or running", optarg);
				return WD_EXIT_USAGE;
			}
			q.status = optarg;
			break;
		}
		case 'S':
			if ((rc = ledger_cli_since("log", optarg, &q.since_ms)))
				return rc;
			break;
		case 'j':
			json = true;
			break;
		default:
			return cli_usage("log");
		}
	}
	if (optind < argc) {
		cli_error("log: unexpected argument '%s'", argv[optind]);
		return cli_usage("log");
	}

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
	if ((rc = ledger_log(l, &q, &runs, &err)) != 0) {
		cli_error("%s", err.msg);
		ledger_close(l);
		return WD_EXIT_RUNTIME;
	}
	ledger_close(l);
	if (json) {
		cli_print_json(runs, false);
	} else if (cJSON_GetArraySize(runs) == 0) {
		printf("%s\n", q.gate || q.status || q.since_ms ? "no matching runs" :
		    "no runs recorded yet");
	} else {
		printf("%-26s  %-20s  %-7s  %-11s  %8s  %s\n", "ID", "STARTED", "TRIGGER",
		    "STATUS", "DURATION", "GATES (* cached)");
		cJSON_ArrayForEach(run, runs)
			print_run(run);
	}
	cJSON_Delete(runs);
	return WD_EXIT_OK;
}
