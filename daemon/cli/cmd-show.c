/* watchd show: one run by id (or unique, case-insensitive id prefix) with
 * its gates, files and findings, as text or (--json) the run object. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ledger-cli.h"
#include "lib/color.h"

#define SHOW_MAX_FILES		20	/* file names listed per gate in text */
#define SHOW_OUTPUT_LINES	20	/* lines of tool output shown for errors */

static int cmd_show_exec(struct cli_ctx *, const struct args *);

const struct cmd_entry cmd_show_entry = {
	.name = "show",
	.usage = "RUN_ID [--json] [--color WHEN]",
	.help = "one run with its gates and findings",
	.flags = CMD_ROOT,
	.args = {
		.opts = (const struct args_opt[]){
			{ "json", 0 },
			{ "color", ARGS_VALUE },
			{ NULL, 0 },
		},
		.lower = 1,
		.upper = 1,
		.missing = "which run? (see `watchd log`)",
	},
	.exec = cmd_show_exec,
};

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v : NULL;
}

static void print_finding(const cJSON *f)
{
	const char *path = str(f, "path"), *code = str(f, "code");
	const cJSON *line = num(f, "line"), *col = num(f, "col");

	printf("  ");
	if (path) {
		printf("%s", color_on(1, COLOR_PATH));
		cli_print_path("%s", path);
		printf("%s:", color_off(1));
		if (line && line->valueint > 0) {
			printf("%d:", line->valueint);
			if (col && col->valueint > 0)
				printf("%d:", col->valueint);
		}
		printf(" ");
	}
	printf("%s: %s", str(f, "severity"), str(f, "message"));
	if (code)
		printf(" [%s]", code);
	printf("\n");
}

/* The first lines of a tool's output, indented. */
static void print_excerpt(const char *out)
{
	int n = 0;

	printf("  output:\n");
	while (*out && n < SHOW_OUTPUT_LINES) {
		const char *nl = strchr(out, '\n');
		int len = nl ? (int)(nl - out) : (int)strlen(out);

		printf("    | %.*s\n", len, out);
		n++;
		out += len + (nl != NULL);
	}
	if (*out)
		printf("    | ...\n");
}

static void print_gate(const cJSON *g)
{
	const cJSON *files = cJSON_GetObjectItemCaseSensitive(g, "files");
	const cJSON *tests = cJSON_GetObjectItemCaseSensitive(g, "tests");
	const cJSON *exit_code = num(g, "exit_code"), *d = num(g, "duration_ms"), *v;
	const char *status = str(g, "status"), *message = str(g, "message");
	const char *output = str(g, "output");
	int nfiles = cJSON_GetArraySize(files), i = 0;
	char dur[16] = "-";

	if (d)
		ledger_cli_duration(d->valuedouble, dur);
	printf("\n%s  %s%s%s", str(g, "name"), color_on_status(1, status), status,
	    color_off(1));
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(g, "cached")))
		printf("  cached%s%s", str(g, "cached_from") ? " from " : "",
		    str(g, "cached_from") ? str(g, "cached_from") : "");
	if (exit_code)
		printf("  exit %d", exit_code->valueint);
	printf("  %s  %d file%s", dur, nfiles, nfiles == 1 ? "" : "s");
	if (cJSON_IsObject(tests)) {
		const cJSON *t = num(tests, "total"), *p = num(tests, "passed");
		const cJSON *f = num(tests, "failed"), *s = num(tests, "skipped");

		printf("  tests %d/%d passed, %d failed, %d skipped", p ? p->valueint : 0,
		    t ? t->valueint : 0, f ? f->valueint : 0, s ? s->valueint : 0);
	}
	printf("\n");
	if (nfiles) {
		printf("  files:");
		cJSON_ArrayForEach(v, files) {
			if (i++ == SHOW_MAX_FILES) {
				printf(" ... and %d more", nfiles - SHOW_MAX_FILES);
				break;
			}
			if (cJSON_IsString(v))
				cli_print_path(" %s", v->valuestring);
		}
		printf("\n");
	}
	{
		/* why each file ran (or came from the cache), whatever the reason:
		 * the same list as the JSON's "reasons" */
		const cJSON *reasons = cJSON_GetObjectItemCaseSensitive(g, "reasons"), *r;
		int shown = 0;

		cJSON_ArrayForEach(r, reasons) {
			if (!cJSON_IsString(r))
				continue;
			if (shown++ == SHOW_MAX_FILES) {
				printf("  ...\n");
				break;
			}
			cli_print_path("  why %s: ", r->string);
			printf("%s\n", r->valuestring);
		}
	}
	if (message)
		printf("  message: %s\n", message);
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(g, "findings"))
		print_finding(v);
	if (output && *output && strcmp(status, "pass") != 0 && strcmp(status, "fail") != 0)
		print_excerpt(output);
}

static void print_run(const cJSON *run)
{
	const cJSON *d = num(run, "duration_ms"), *g;
	const char *head = str(run, "git_head"), *cfg = str(run, "config_hash");
	const char *finished = str(run, "finished_at");
	char dur[16];

	printf("run %s  %s%s%s\n", str(run, "id"), color_on_status(1, str(run, "status")),
	    str(run, "status"), color_off(1));
	printf("  trigger   %s\n", str(run, "trigger"));
	printf("  started   %s\n", str(run, "started_at"));
	if (finished && d) {
		ledger_cli_duration(d->valuedouble, dur);
		printf("  finished  %s (%s)\n", finished, dur);
	} else {
		printf("  finished  -\n");
	}
	printf("  git head  %s\n", head ? head : "-");
	printf("  config    %s\n", cfg ? cfg : "-");
	cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(run, "gates"))
		print_gate(g);
}

static int cmd_show_exec(struct cli_ctx *ctx, const struct args *args)
{
	const char *id = args->argv[0];
	struct wd_err err = { 0, "" };
	struct ledger *l = NULL;
	cJSON *run = NULL;
	int rc;

	rc = ledger_cli_open(ctx, LEDGER_READ, &l);
	if (rc == LEDGER_CLI_ABSENT) {
		cli_error("show: no run '%s': no runs recorded yet", id);
		return WD_EXIT_USAGE;
	}
	if (rc)
		return rc;
	rc = ledger_show(l, id, &run, &err);
	ledger_close(l);
	if (rc == WD_ENOTFOUND || rc == WD_EAMBIGUOUS) {
		cli_error("show: %s", err.msg);
		return WD_EXIT_USAGE;
	}
	if (rc) {
		cli_error("%s", err.msg);
		return WD_EXIT_RUNTIME;
	}
	if (args_has(args, "json"))
		cli_print_json(run, false);
	else
		print_run(run);
	cJSON_Delete(run);
	return WD_EXIT_OK;
}
