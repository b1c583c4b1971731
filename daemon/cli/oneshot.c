/* One-shot runs through the same scheduler as the daemon. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <uv.h>

#include "daemon/git/repo.h"
#include "daemon/ledger/ledger.h"
#include "daemon/run/sched.h"
#include "daemon/run/select.h"
#include "daemon/watch/ignore.h"
#include "daemon/watch/walk.h"
#include "gates/gate.h"
#include "lib/xmalloc.h"
#include "oneshot.h"

struct state {
	char			 id[ULID_LEN + 1];
	char			 status[16];
	bool			 done;
	const struct oneshot	*o;
	struct ignore		*ig;
};

static void on_done(struct sched *s, const char *run_id, const char *status, void *arg)
{
	struct state *st = arg;

	(void)s;
	memcpy(st->id, run_id, sizeof(st->id));
	snprintf(st->status, sizeof(st->status), "%s", status);
	st->done = true;
}

static void list_files(void *arg, const struct gate *g, struct strvec *out)
{
	struct state *st = arg;
	struct strvec all = STRVEC_INIT;

	if (st->o->all)
		strvec_pushv(&all, st->o->all);
	else
		walk_files(st->o->content_root, "", st->ig, &all);
	for (size_t i = 0; i < all.n; i++)
		if (select_is_input(g, all.v[i]))
			strvec_push(out, all.v[i]);
	strvec_clear(&all);
	strvec_sort(out);
}

int oneshot_exit_code(const char *status)
{
	if (strcmp(status, "pass") == 0)
		return WD_EXIT_OK;
	if (strcmp(status, "fail") == 0)
		return WD_EXIT_FAIL;
	return WD_EXIT_RUNTIME;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

void oneshot_print_text(const cJSON *run)
{
	const cJSON *g;

	cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(run, "gates")) {
		const cJSON *f, *cached = cJSON_GetObjectItemCaseSensitive(g, "cached");
		const char *gs = jstr(g, "status"), *msg = jstr(g, "message");

		printf("%-20s %-8s %d file(s)%s\n", jstr(g, "name"), gs ? gs : "?",
		    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(g, "files")),
		    cJSON_IsTrue(cached) ? " (cached)" : "");
		cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(g, "findings")) {
			const cJSON *l = cJSON_GetObjectItemCaseSensitive(f, "line");
			const cJSON *c = cJSON_GetObjectItemCaseSensitive(f, "col");
			const char *code = jstr(f, "code"), *p = jstr(f, "path");

			char *q = p ? gate_quote_path(p) : NULL;

			/* a name with a newline is quoted, so it cannot forge a line;
			 * a finding of the gate run as a whole has no file */
			if (q)
				printf("  %s:%d:%d: ", q, cJSON_IsNumber(l) ? l->valueint : 0,
				    cJSON_IsNumber(c) ? c->valueint : 0);
			else
				printf("  ");
			printf("%s: %s", jstr(f, "severity"), jstr(f, "message"));
			free(q);
			if (code)
				printf(" [%s]", code);
			putchar('\n');
		}
		if (msg && gs && strcmp(gs, "pass") != 0)
			printf("  %s\n", msg);
	}
	printf("run %s: %s\n", jstr(run, "id"), jstr(run, "status"));
}

int oneshot_run(struct cli_ctx *ctx, const struct oneshot *o, const struct strvec *files)
{
	struct ledger *ledger = NULL;
	struct repo *repo = NULL;
	struct sched *s = NULL;
	struct state st;
	struct wd_err err = { 0 };
	char *tmp_dir = NULL;
	uv_loop_t loop;
	int c, rc = WD_EXIT_RUNTIME;

	memset(&st, 0, sizeof(st));
	st.o = o;
	if ((c = cli_state_dir(ctx)) != 0) {
		cli_error("cannot create %s: %s", ctx->state_dir, strerror(-c));
		return WD_EXIT_RUNTIME;
	}
	if (ledger_open(ctx->ledger_path, LEDGER_WRITE, &ledger, &err) != 0) {
		cli_error("%s", err.msg);
		return WD_EXIT_RUNTIME;
	}
	repo = repo_open(o->content_root);
	st.ig = ignore_new(&ctx->cfg.ignore, repo);
	tmp_dir = xasprintf("%s/tmp", ctx->state_dir);
	mkdir(tmp_dir, 0700);
	uv_loop_init(&loop);
	{
		struct sched_opts so = {
			.loop = &loop, .root = o->content_root, .git_root = ctx->root,
			.cfg = &ctx->cfg, .ledger = ledger, .tmp_dir = tmp_dir,
			.trigger = o->trigger, .no_cache = o->no_cache,
			.list_files = list_files, .list_arg = &st, .record_empty = true,
			.keep = o->keep, .keep_arg = o->keep_arg,
		};

		s = sched_new(&so, on_done, &st);
	}
	/* record_empty: c is 0 or an error; a batch no gate matches is a run too */
	c = sched_submit(s, files, NULL, 1, st.id, &err);
	if (c != 0) {
		cli_error("%s", c < 0 ? err.msg : "no run was started");
	} else {
		cJSON *run = NULL;

		while (!st.done && uv_run(&loop, UV_RUN_ONCE))
			;
		if (ledger_retry(ledger, &err) != 0) {
			/* a one-shot has no later chance to record what is queued */
			cli_error("run %s could not be recorded: %s", st.id, err.msg);
			rc = WD_EXIT_RUNTIME;
		} else if (ledger_show(ledger, st.id, &run, &err) == 0) {
			rc = oneshot_exit_code(st.status);
			if (o->run_out) {
				*o->run_out = run;
				run = NULL;
			} else if (o->json)
				cli_print_json(run, false);
			else if (!(o->quiet_pass && rc == WD_EXIT_OK)) {
				if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(run,
				    "gates")) == 0)
					printf("watchd: no file matched any gate (%zu file(s) "
					    "considered)\n", files->n);
				oneshot_print_text(run);
			}
			cJSON_Delete(run);
		} else {
			cli_error("run %s could not be recorded: %s", st.id, err.msg);
			rc = WD_EXIT_RUNTIME;
		}
	}
	sched_shutdown(s);
	uv_run(&loop, UV_RUN_DEFAULT);
	sched_free(s);
	uv_loop_close(&loop);
	ignore_free(st.ig);
	repo_close(repo);
	ledger_close(ledger);
	free(tmp_dir);
	return rc;
}
