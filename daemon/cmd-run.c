/* watchd run [--json] [--no-cache] [PATH...]: one-shot, no daemon. The
 * files (PATHs, or every eligible file under ROOT) enter the same
 * scheduler the daemon uses and the run is recorded with trigger "run".
 * Exit 0 all passed, 1 a gate failed, 4 a tool could not run. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "cli.h"
#include "ignore.h"
#include "ledger.h"
#include "repo.h"
#include "sched.h"
#include "walk.h"
#include "xmalloc.h"

struct run_state {
	char	id[ULID_LEN + 1];
	char	status[16];
	bool	done;
};

static void on_done(struct sched *s, const char *run_id, const char *status, void *arg)
{
	struct run_state *rs = arg;

	(void)s;
	memcpy(rs->id, run_id, sizeof(rs->id));
	snprintf(rs->status, sizeof(rs->status), "%s", status);
	rs->done = true;
}

/* PATH as given (relative to cwd) -> path relative to ROOT; NULL outside. */
static char *root_relative(const char *root, const char *arg)
{
	char cwd[PATH_MAX], *abs, *norm = NULL;
	size_t n = strlen(root);

	if (arg[0] == '/')
		abs = xstrdup(arg);
	else if (getcwd(cwd, sizeof(cwd)))
		abs = xasprintf("%s/%s", cwd, arg);
	else
		return NULL;
	/* resolve the directory part only: the file itself may be a symlink */
	{
		char *slash = strrchr(abs, '/'), real[PATH_MAX];

		*slash = '\0';
		if (realpath(*abs ? abs : "/", real) != NULL) {
			const char *base = slash + 1;

			if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0 || *base == '\0') {
				char *full = xasprintf("%s/%s", real, base), real2[PATH_MAX];

				if (realpath(full, real2))
					norm = xstrdup(real2);
				free(full);
			} else
				norm = xasprintf("%s%s%s", real, strcmp(real, "/") ? "/" : "", base);
		}
	}
	free(abs);
	if (norm == NULL)
		return NULL;
	if (strcmp(norm, root) == 0) {
		free(norm);
		return xstrdup("");
	}
	if (strncmp(norm, root, n) != 0 || norm[n] != '/') {
		free(norm);
		return NULL;
	}
	{
		char *rel = xstrdup(norm + n + 1);

		free(norm);
		return rel;
	}
}

static void print_run_text(const cJSON *run)
{
	const cJSON *gates = cJSON_GetObjectItemCaseSensitive(run, "gates"), *g;
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(run, "status");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(run, "id");

	cJSON_ArrayForEach(g, gates) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(g, "name");
		const cJSON *gs = cJSON_GetObjectItemCaseSensitive(g, "status");
		const cJSON *files = cJSON_GetObjectItemCaseSensitive(g, "files");
		const cJSON *fnd = cJSON_GetObjectItemCaseSensitive(g, "findings"), *f;
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(g, "message");
		const cJSON *cached = cJSON_GetObjectItemCaseSensitive(g, "cached");

		printf("%-20s %-8s %d file(s)%s\n", name ? name->valuestring : "?",
		    gs ? gs->valuestring : "?", cJSON_GetArraySize(files),
		    cJSON_IsTrue(cached) ? " (cached)" : "");
		cJSON_ArrayForEach(f, fnd) {
			const cJSON *p = cJSON_GetObjectItemCaseSensitive(f, "path");
			const cJSON *l = cJSON_GetObjectItemCaseSensitive(f, "line");
			const cJSON *c = cJSON_GetObjectItemCaseSensitive(f, "col");
			const cJSON *sev = cJSON_GetObjectItemCaseSensitive(f, "severity");
			const cJSON *m = cJSON_GetObjectItemCaseSensitive(f, "message");
			const cJSON *code = cJSON_GetObjectItemCaseSensitive(f, "code");

			printf("  %s:%d:%d: %s: %s", cJSON_IsString(p) ? p->valuestring : "?",
			    cJSON_IsNumber(l) ? l->valueint : 0, cJSON_IsNumber(c) ? c->valueint : 0,
			    cJSON_IsString(sev) ? sev->valuestring : "error",
			    cJSON_IsString(m) ? m->valuestring : "");
			if (cJSON_IsString(code))
				printf(" [%s]", code->valuestring);
			putchar('\n');
		}
		if (cJSON_IsString(msg) && gs && strcmp(gs->valuestring, "pass") != 0)
			printf("  %s\n", msg->valuestring);
	}
	printf("run %s: %s\n", cJSON_IsString(id) ? id->valuestring : "-",
	    cJSON_IsString(st) ? st->valuestring : "?");
}

static int exit_for(const char *status)
{
	if (strcmp(status, "pass") == 0)
		return WD_EXIT_OK;
	if (strcmp(status, "fail") == 0)
		return WD_EXIT_FAIL;
	return WD_EXIT_RUNTIME;
}

int cmd_run(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "no-cache", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false, no_cache = false;
	struct strvec files = STRVEC_INIT;
	struct ledger *ledger = NULL;
	struct repo *repo = NULL;
	struct ignore *ig = NULL;
	struct sched *s = NULL;
	struct run_state rs;
	struct wd_err err = { 0 };
	char *tmp_dir = NULL;
	uv_loop_t loop;
	int c, rc = WD_EXIT_RUNTIME;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else if (c == 'n')
			no_cache = true;
		else
			return cli_usage("run");
	}
	memset(&rs, 0, sizeof(rs));
	repo = repo_open(ctx->root);
	ig = ignore_new(&ctx->cfg.ignore, repo);
	if (optind == argc) {
		walk_files(ctx->root, "", ig, &files);
	}
	for (int i = optind; i < argc; i++) {
		char *rel = root_relative(ctx->root, argv[i]);
		struct stat st;
		char *abs;

		if (rel == NULL) {
			cli_error("%s: not inside ROOT (%s)", argv[i], ctx->root);
			rc = WD_EXIT_USAGE;
			goto out;
		}
		abs = *rel ? xasprintf("%s/%s", ctx->root, rel) : xstrdup(ctx->root);
		if (lstat(abs, &st) < 0) {
			cli_error("%s: %s", argv[i], strerror(errno));
			free(abs);
			free(rel);
			rc = WD_EXIT_USAGE;
			goto out;
		}
		if (S_ISDIR(st.st_mode))
			walk_files(ctx->root, rel, ig, &files);
		else
			strvec_push(&files, rel);
		free(abs);
		free(rel);
	}
	strvec_sort_uniq(&files);
	if ((c = cli_state_dir(ctx)) != 0) {
		cli_error("cannot create %s: %s", ctx->state_dir, strerror(-c));
		goto out;
	}
	if (ledger_open(ctx->ledger_path, LEDGER_WRITE, &ledger, &err) != 0) {
		cli_error("%s", err.msg);
		goto out;
	}
	tmp_dir = xasprintf("%s/tmp", ctx->state_dir);
	mkdir(tmp_dir, 0700);
	uv_loop_init(&loop);
	{
		struct sched_opts so = {
			.loop = &loop, .root = ctx->root, .cfg = &ctx->cfg, .ledger = ledger,
			.tmp_dir = tmp_dir, .trigger = "run", .no_cache = no_cache,
		};

		s = sched_new(&so, on_done, &rs);
	}
	c = sched_submit(s, &files, NULL, 1, rs.id, &err);
	if (c < 0) {
		cli_error("%s", err.msg);
	} else if (c == 1) {
		if (json) {
			cJSON *o = cJSON_CreateObject();

			cJSON_AddNullToObject(o, "id");
			cJSON_AddStringToObject(o, "trigger", "run");
			cJSON_AddStringToObject(o, "status", "pass");
			cJSON_AddItemToObject(o, "gates", cJSON_CreateArray());
			cli_print_json(o, false);
			cJSON_Delete(o);
		} else
			printf("watchd: no file matched any gate (%zu file(s) considered)\n", files.n);
		rc = WD_EXIT_OK;
	} else {
		cJSON *run = NULL;

		while (!rs.done && uv_run(&loop, UV_RUN_ONCE))
			;
		if (ledger_retry(ledger, &err) != 0) {
			/* a one-shot has no later chance to record what is queued */
			cli_error("run %s could not be recorded: %s", rs.id, err.msg);
			snprintf(rs.status, sizeof(rs.status), "error");
		} else if (ledger_show(ledger, rs.id, &run, &err) == 0) {
			if (json)
				cli_print_json(run, false);
			else
				print_run_text(run);
			cJSON_Delete(run);
		} else
			cli_error("%s", err.msg);
		rc = exit_for(rs.status);
	}
	sched_shutdown(s);
	uv_run(&loop, UV_RUN_DEFAULT);
	sched_free(s);
	uv_loop_close(&loop);
out:
	ledger_close(ledger);
	ignore_free(ig);
	repo_close(repo);
	strvec_clear(&files);
	free(tmp_dir);
	return rc;
}
