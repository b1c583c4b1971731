/* What `watchd ci` does for the CI system around it. The reproduction
 * command is what makes a red CI job actionable: the same options, the
 * base pinned to a commit id, shell-quoted so it can be pasted. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ci-env.h"
#include "daemon/run/report.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/xmalloc.h"

int ci_default_format(void)
{
	const char *gha = getenv("GITHUB_ACTIONS");

	return gha && strcmp(gha, "true") == 0 ? REPORT_GITHUB : REPORT_TEXT;
}

/* POSIX shell quoting: bare when only safe characters, else '...' with
 * each ' as '\'' */
static void sh_quote(struct buf *b, const char *s)
{
	if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-_./=:,+@%^") == strlen(s)) {
		buf_addstr(b, s);
		return;
	}
	buf_addch(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			buf_addstr(b, "'\\''");
		else
			buf_addch(b, *s);
	}
	buf_addch(b, '\'');
}

char *ci_repro_command(const struct cli_ctx *ctx, const struct args *args,
    const char *merge_base, const char *head)
{
	const char *skip = getenv("WATCHD_SKIP");
	struct buf b = BUF_INIT;

	if (head && *head)
		buf_addf(&b, "git checkout %s && ", head);
	if (skip && *skip) {
		buf_addstr(&b, "WATCHD_SKIP=");
		sh_quote(&b, skip);
		buf_addch(&b, ' ');
	}
	buf_addstr(&b, "watchd");
	if (ctx->config_given) {
		size_t n = strlen(ctx->root);
		const char *p = ctx->config_path;

		/* relative to the checkout, which is where the laptop runs it */
		if (strncmp(p, ctx->root, n) == 0 && p[n] == '/')
			p += n + 1;
		buf_addstr(&b, " --config ");
		sh_quote(&b, p);
	}
	buf_addstr(&b, " ci");
	for (size_t i = 0; i < args->nvals; i++) {
		const struct args_value *v = &args->vals[i];
		const char *name = v->opt->name, *val = v->value;

		/* where the reports go is the runner's business */
		if (strcmp(name, "format") == 0 || strcmp(name, "report") == 0)
			continue;
		if (strcmp(name, "base") == 0 && merge_base && *merge_base)
			val = merge_base;
		buf_addf(&b, " --%s", name);
		if (val) {
			buf_addch(&b, ' ');
			sh_quote(&b, val);
		}
	}
	return buf_detach(&b, NULL);
}

int ci_step_summary(const cJSON *run, const char *repro)
{
	const char *path = getenv("GITHUB_STEP_SUMMARY");
	struct buf b = BUF_INIT;
	FILE *fp;
	int rc = 0;

	if (path == NULL || *path == '\0')
		return 0;
	report_github_summary(run, repro, &b);
	if ((fp = fopen(path, "a")) == NULL) {
		rc = -errno;
	} else {
		if (fwrite(b.buf, 1, b.len, fp) != b.len)
			rc = -EIO;
		if (fclose(fp) != 0 && rc == 0)
			rc = -errno;
	}
	buf_release(&b);
	return rc;
}

int ci_epilogue(const struct cli_ctx *ctx, const struct args *args, const cJSON *run,
    int fmt, const char *merge_base)
{
	const cJSON *head = cJSON_GetObjectItemCaseSensitive(run, "git_head");
	char *repro = ci_repro_command(ctx, args, merge_base,
	    cJSON_IsString(head) ? head->valuestring : NULL);
	int rc = 0, w;

	if ((w = ci_step_summary(run, repro)) != 0) {
		cli_error("cannot append to $GITHUB_STEP_SUMMARY: %s", strerror(-w));
		rc = WD_EXIT_RUNTIME;
	}
	fflush(stdout);
	fprintf(fmt == REPORT_TEXT || fmt == REPORT_GITHUB ? stdout : stderr,
	    "reproduce locally: %s\n", repro);
	free(repro);
	return rc;
}
