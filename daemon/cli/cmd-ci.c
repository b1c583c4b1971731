/* watchd ci [--base REF] [--format text|json|junit|sarif|github|codequality]
 *           [--report FORMAT=FILE]... [--shard K/N]
 * CI mirror mode: the same gates and config as on the laptop, over the
 * tracked files (or those changed since the merge base with REF), with
 * reports CI systems read. What is judged and by which shard: ci-select.c;
 * the CI around it (default format, job summary, reproduction): ci-env.c. Trigger "ci". Exit 0 pass, 1 fail, 2 usage,
 * 4 a tool or the environment broke. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ci-env.h"
#include "ci-select.h"
#include "cli.h"
#include "daemon/run/report.h"
#include "lib/err.h"
#include "lib/xmalloc.h"
#include "oneshot.h"

#define MAX_REPORTS 8

static int cmd_ci_exec(struct cli_ctx *, const struct args *);

const struct cmd_entry cmd_ci_entry = {
	.name = "ci",
	.usage = "[--base REF] [--format text|json|junit|sarif|github|codequality] "
	    "[--report FORMAT=FILE]... [--shard K/N] [--gate NAME]... [--color WHEN]",
	.help = "CI mirror: the same gates, with CI reports",
	.flags = CMD_ROOT | CMD_CONFIG,
	.args = {
		.opts = (const struct args_opt[]){
			{ "base", ARGS_VALUE },
			{ "format", ARGS_VALUE },
			{ "report", ARGS_VALUE | ARGS_REPEAT },
			{ "shard", ARGS_VALUE },
			{ "gate", ARGS_VALUE | ARGS_REPEAT },
			{ "color", ARGS_VALUE },
			{ NULL, 0 },
		},
	},
	.exec = cmd_ci_exec,
};

struct report_out {
	int		 fmt;
	const char	*file;
};

static int write_file(const char *path, const struct buf *b)
{
	FILE *fp = fopen(path, "w");
	int rc = 0;

	if (fp == NULL)
		return -errno;
	if (fwrite(b->buf, 1, b->len, fp) != b->len)
		rc = -EIO;
	if (fclose(fp) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

/* --report FORMAT=FILE, each time given: 0, or prints why and returns
 * WD_EXIT_USAGE. The files are borrowed from argv. */
static int parse_reports(const struct args *args, struct report_out *reports, int *n)
{
	size_t it = 0;
	const char *v;

	*n = 0;
	while ((v = args_next(args, "report", &it)) != NULL) {
		const char *eq = strchr(v, '=');
		char *name;
		int f;

		if (eq == NULL || eq[1] == '\0' || *n == MAX_REPORTS) {
			cli_error("--report %s: expected FORMAT=FILE (at most %d)", v, MAX_REPORTS);
			return WD_EXIT_USAGE;
		}
		name = xstrndup(v, (size_t)(eq - v));
		f = report_format_parse(name);
		if (f < 0 || f == REPORT_TEXT) {
			cli_error("--report %s: expected json, junit, sarif, github or "
			    "codequality", name);
			free(name);
			return WD_EXIT_USAGE;
		}
		free(name);
		reports[*n].fmt = f;
		reports[(*n)++].file = eq + 1;
	}
	return 0;
}

static int cmd_ci_exec(struct cli_ctx *ctx, const struct args *args)
{
	struct report_out reports[MAX_REPORTS];
	struct oneshot o = { .content_root = ctx->root, .trigger = "ci" };
	struct strvec files = STRVEC_INIT, tracked = STRVEC_INIT, only = STRVEC_INIT;
	const char *format = args_get(args, "format"), *shard_arg = args_get(args, "shard");
	struct ci_shard sh = { 1, 1 };
	int fmt = ci_default_format(), nreports = 0, rc, e;
	char merge_base[OID_HEX + 1] = "";
	cJSON *run = NULL;

	if (format && (fmt = report_format_parse(format)) < 0) {
		cli_error("--format %s: expected text, json, junit, sarif, github or "
		    "codequality", format);
		return WD_EXIT_USAGE;
	}
	if ((rc = parse_reports(args, reports, &nreports)) != 0)
		return rc;
	if (shard_arg && ci_shard_parse(shard_arg, &sh) != 0) {
		cli_error("--shard %s: expected K/N with 1 <= K <= N", shard_arg);
		return WD_EXIT_USAGE;
	}
	if ((rc = oneshot_only_list(ctx, args, &only)) != 0)
		goto out;
	o.only = only.n ? &only : NULL;
	if ((rc = ci_list(ctx, args_get(args, "base"), &files, &tracked, merge_base)) != 0)
		goto out;
	o.all = &tracked;
	o.keep = ci_shard_keep;
	o.keep_arg = &sh;
	o.run_out = &run;
	rc = oneshot_run(ctx, &o, &files);
	if (run == NULL)
		goto out;
	if (fmt == REPORT_TEXT)
		oneshot_print_text(run);
	else {
		struct buf b = BUF_INIT;

		report_write(run, fmt, &b);
		fwrite(b.buf, 1, b.len, stdout);
		buf_release(&b);
	}
	for (int i = 0; i < nreports; i++) {
		struct buf b = BUF_INIT;
		int w;

		report_write(run, reports[i].fmt, &b);
		if ((w = write_file(reports[i].file, &b)) != 0) {
			cli_error("cannot write %s: %s", reports[i].file, strerror(-w));
			rc = WD_EXIT_RUNTIME;
		}
		buf_release(&b);
	}
	if ((e = ci_epilogue(ctx, args, run, fmt, merge_base)) != 0)
		rc = e;
out:
	cJSON_Delete(run);
	strvec_clear(&files);
	strvec_clear(&only);
	strvec_clear(&tracked);
	return rc;
}
