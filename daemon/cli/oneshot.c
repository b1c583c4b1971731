/* One-shot runs through the same scheduler as the daemon. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <uv.h>

#include "daemon/git/repo.h"
#include "daemon/ledger/ledger.h"
#include "daemon/remote/settings.h"
#include "daemon/run/sched.h"
#include "daemon/run/select.h"
#include "daemon/watch/ignore.h"
#include "daemon/watch/walk.h"
#include "gates/gate.h"
#include "lib/color.h"
#include "lib/hmap.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "oneshot.h"
#include "progress.h"

struct state {
	char			 id[ULID_LEN + 1];
	char			 status[16];
	bool			 done;
	const struct oneshot	*o;
	struct ignore		*ig;
	struct strvec		 walked;	/* content_root's files, walked once */
	bool			 have_walked;
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
	const struct strvec *all = st->o->all;

	/* asked once per gate and again by uploads: the tree is walked once
	 * per command, a snapshot as the run itself is */
	if (all == NULL) {
		if (!st->have_walked)
			walk_files(st->o->content_root, "", st->ig, &st->walked);
		st->have_walked = true;
		all = &st->walked;
	}
	for (size_t i = 0; i < all->n; i++)
		if (select_is_input(g, all->v[i]))
			strvec_push(out, all->v[i]);
	strvec_sort(out);
}

int64_t oneshot_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void print_summary(const struct oneshot *o, const cJSON *run, const struct strvec *files)
{
	const cJSON *gates = cJSON_GetObjectItemCaseSensitive(run, "gates"), *g;
	struct hmap seen = HMAP_INIT;
	int passed = 0, skipped = 0;
	size_t cached = 0;

	cJSON_ArrayForEach(g, gates) {
		const char *st = jstr(g, "status");

		if (st && strcmp(st, "skipped") == 0)
			skipped++;
		else
			passed++;
	}
	/* A file came from the cache when every gate that judged it reused a
	 * result: the whole gate was cached, or the file's reason says so
	 * (the scheduler's wording, sched-exec.c file_reason). Per path:
	 * 1 all cached so far, 2 one gate ran a tool on it. */
	cJSON_ArrayForEach(g, gates) {
		const cJSON *f, *w;
		bool all = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(g, "cached"));
		struct hmap reused = HMAP_INIT;

		/* one pass over the reasons: a lookup per file would walk the
		 * object's list each time */
		cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(g, "reasons"))
			if (!all && w->string && cJSON_IsString(w) &&
			    strstr(w->valuestring, "reused from the cache"))
				hmap_puts(&reused, w->string, (void *)1);
		cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(g, "files")) {
			if (!cJSON_IsString(f))
				continue;
			if (!all && hmap_gets(&reused, f->valuestring) == NULL)
				hmap_puts(&seen, f->valuestring, (void *)2);
			else if (hmap_gets(&seen, f->valuestring) == NULL)
				hmap_puts(&seen, f->valuestring, (void *)1);
		}
		hmap_release(&reused);
	}
	for (size_t i = 0; i < files->n; i++)
		cached += hmap_gets(&seen, files->v[i]) == (void *)1;
	hmap_release(&seen);
	printf("watchd: %d gate%s passed", passed, passed == 1 ? "" : "s");
	if (skipped)
		printf(", %d skipped", skipped);
	printf(" on %zu %s file%s (%zu from cache) in %lld ms\n", files->n, o->summary,
	    files->n == 1 ? "" : "s", cached, (long long)(oneshot_now_ms() - o->started_ms));
}

int oneshot_exit_code(const char *status)
{
	if (strcmp(status, "pass") == 0)
		return WD_EXIT_OK;
	if (strcmp(status, "fail") == 0)
		return WD_EXIT_FAIL;
	return WD_EXIT_RUNTIME;
}

void oneshot_print_text(const cJSON *run)
{
	const cJSON *g;

	cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(run, "gates")) {
		const cJSON *f, *cached = cJSON_GetObjectItemCaseSensitive(g, "cached");
		const char *gs = jstr(g, "status"), *msg = jstr(g, "message");

		printf("%-20s %s%-8s%s %d file(s)%s\n", jstr(g, "name"), color_on_status(1, gs),
		    gs ? gs : "?", color_off(1),
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
				printf("  %s%s%s:%d:%d: ", color_on(1, COLOR_PATH), q, color_off(1),
				    cJSON_IsNumber(l) ? l->valueint : 0,
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
	printf("run %s: %s%s%s\n", jstr(run, "id"), color_on_status(1, jstr(run, "status")),
	    jstr(run, "status"), color_off(1));
}

void oneshot_skip_list(const struct config *cfg, struct strvec *out)
{
	const char *env = getenv("WATCHD_SKIP"), *p = env;

	while (p && *p) {
		size_t n = strcspn(p, ",");
		const char *a = p, *b = p + n;

		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		if (b > a) {
			char *name = xstrndup(a, (size_t)(b - a));

			if (config_gate(cfg, name) == NULL)
				cli_warn("WATCHD_SKIP: no gate named '%s' (ignored)", name);
			strvec_push_owned(out, name);
		}
		p += n + (p[n] == ',');
	}
}

int oneshot_only_list(struct cli_ctx *ctx, const struct args *args, struct strvec *out)
{
	const char *name;
	size_t it = 0;

	while ((name = args_next(args, "gate", &it)) != NULL) {
		if (config_gate(&ctx->cfg, name) == NULL) {
			cli_error("--gate %s: no gate named '%s' in %s", name, name,
			    ctx->config_path);
			return WD_EXIT_USAGE;
		}
		strvec_push(out, name);
	}
	return 0;
}

static void remote_warned(void *arg, const char *msg)
{
	(void)arg;
	cli_warn("%s", msg);
}

/* The remote cache from the config and the environment, or NULL. Its
 * back-off is kept in the state directory, so that the next hook does not
 * wait on a server the last one found down. */
static struct remote *oneshot_remote(struct cli_ctx *ctx, uv_loop_t *loop)
{
	struct remote_opts ro;
	struct remote *r;
	const char *why = NULL;
	char *state;

	if (!remote_settings(&ctx->cfg, &ro))
		return NULL;
	state = xasprintf("%s/remote-backoff", ctx->state_dir);
	ro.state_path = state;
	r = remote_new(loop, &ro, remote_warned, NULL, &why);
	free(state);
	if (r == NULL)
		cli_warn("remote cache not used: %s", why);
	return r;
}

int oneshot_run(struct cli_ctx *ctx, const struct oneshot *o, const struct strvec *files)
{
	struct strvec skip = STRVEC_INIT;
	struct ledger *ledger = NULL;
	struct repo *repo = NULL;
	struct sched *s = NULL;
	struct remote *remote = NULL;
	struct progress *prog = NULL;
	struct state st;
	struct wd_err err = { 0 };
	char *tmp_dir = NULL;
	uv_loop_t loop;
	int c, rc = WD_EXIT_RUNTIME;

	memset(&st, 0, sizeof(st));
	st.o = o;
	/* the scheduler logs for a daemon's log file; here a person reads
	 * stdout, where a missing tool is already told once with its hint,
	 * and a ledger failure is reported below as one error */
	log_init(NULL, LOG_OFF);
	if ((c = cli_state_dir(ctx)) != 0) {
		cli_error("cannot create %s: %s", ctx->state_dir, strerror(-c));
		return WD_EXIT_RUNTIME;
	}
	if (ledger_open(ctx->ledger_path, LEDGER_WRITE, &ledger, &err) != 0) {
		cli_error("%s", err.msg);
		return WD_EXIT_RUNTIME;
	}
	oneshot_skip_list(&ctx->cfg, &skip);
	repo = repo_open(o->content_root);
	st.ig = ignore_new(&ctx->cfg.ignore, repo);
	tmp_dir = xasprintf("%s/tmp", ctx->state_dir);
	mkdir(tmp_dir, 0700);
	uv_loop_init(&loop);
	remote = oneshot_remote(ctx, &loop);
	prog = progress_new(&loop);
	{
		struct sched_opts so = {
			.loop = &loop, .root = o->content_root, .git_root = ctx->root,
			.cfg = &ctx->cfg, .ledger = ledger, .tmp_dir = tmp_dir,
			.trigger = o->trigger, .no_cache = o->no_cache,
			.list_files = list_files, .list_arg = &st, .record_empty = true,
			.content = o->content,
			.skip = &skip, .only = o->only,
			.keep = o->keep, .keep_arg = o->keep_arg,
			.gate_done = progress_gate_done, .hook_arg = prog,
			.remote = remote,
		};

		s = sched_new(&so, on_done, &st);
		progress_attach(prog, s);
	}
	if (o->force && o->force->n)
		sched_force_gates(s, o->force);
	/* record_empty: c is 0 or an error; a batch no gate matches is a run too */
	c = sched_submit(s, files, NULL, 1, st.id, &err);
	if (c != 0) {
		cli_error("%s", c < 0 ? err.msg : "no run was started");
	} else {
		cJSON *run = NULL;

		while (!st.done && uv_run(&loop, UV_RUN_ONCE))
			;
		/* the drawn lines go before the result is printed */
		progress_end(prog);
		prog = NULL;
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
			else if (o->summary && rc == WD_EXIT_OK)
				print_summary(o, run, files);
			else {
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
	progress_end(prog);
	/* the result is out; uploads may take up to the server's timeout */
	remote_flush(remote, &loop, strcmp(o->trigger, "hook") == 0);
	sched_shutdown(s);
	uv_run(&loop, UV_RUN_DEFAULT);
	remote_free(remote);
	uv_run(&loop, UV_RUN_DEFAULT);
	sched_free(s);
	uv_loop_close(&loop);
	ignore_free(st.ig);
	strvec_clear(&st.walked);
	repo_close(repo);
	ledger_close(ledger);
	free(tmp_dir);
	strvec_clear(&skip);
	return rc;
}
