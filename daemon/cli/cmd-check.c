/* watchd check --staged [--json] [--no-cache]: the pre-commit check. It
 * judges exactly what is staged -- the index's bytes, never the working
 * tree's -- and reuses what the daemon already judged for that content
 * (blob ids from the index, same gate fingerprints): a check whose every
 * result is cached starts no process and writes no file. Only the misses
 * are judged, in the work tree when it holds them as staged, else in a
 * private tree of staged bytes (staged.c). Trigger "hook". Exit 0 pass, 1
 * a gate failed, 4 broken. --commit-msg FILE is the commit-msg hook's
 * check (check-msg.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check-msg.h"
#include "cli.h"
#include "config/config.h"
#include "daemon/git/repo.h"
#include "daemon/run/select.h"
#include "daemon/watch/ignore.h"
#include "lib/xmalloc.h"
#include "oneshot.h"
#include "staged.h"

static int cmd_check_exec(struct cli_ctx *, const struct args *);

const struct cmd_entry cmd_check_entry = {
	.name = "check",
	.usage = "--staged | --commit-msg FILE [--json] [--no-cache] [--color WHEN]",
	.help = "judge the staged content (pre-commit) or a commit message",
	/* the config is loaded here: the staged one is in force */
	.flags = CMD_ROOT,
	.args = {
		.opts = (const struct args_opt[]){
			{ "staged", 0 },
			{ "commit-msg", ARGS_VALUE },
			{ "json", 0 },
			{ "no-cache", 0 },
			{ "color", ARGS_VALUE },
			{ NULL, 0 },
		},
	},
	.exec = cmd_check_exec,
};

static void drop_ignored(struct ignore *ig, struct strvec *sv)
{
	size_t j = 0;

	for (size_t i = 0; i < sv->n; i++) {
		if (ignore_tracked_path(ig, sv->v[i]))
			free(sv->v[i]);
		else
			sv->v[j++] = sv->v[i];
	}
	sv->n = j;
	if (sv->v)
		sv->v[j] = NULL;
}

/* The config path relative to ROOT, or NULL when it lies outside. */
static const char *config_rel(const struct cli_ctx *ctx)
{
	size_t n = strlen(ctx->root);

	if (strncmp(ctx->config_path, ctx->root, n) == 0 && ctx->config_path[n] == '/')
		return ctx->config_path + n + 1;
	return NULL;
}

/* The config in force for a commit is the staged one: loaded from the
 * index when the config file is tracked, else from the work tree. When
 * the commit changes it, the gates whose definition differs from HEAD's
 * (or every gate, without a valid one at HEAD) go into force, to run on
 * every file they include, as the daemon does when the file is saved.
 * Returns 0 or an exit code (a staged config error is a usage error). */
static int load_staged_config(struct cli_ctx *ctx, struct repo *repo,
    const struct strvec *staged, struct strvec *force)
{
	const char *rel = config_rel(ctx);
	struct buf text = BUF_INIT, old = BUF_INIT;
	struct config_err err;
	struct config head;
	int rc = 0;

	if (rel == NULL || repo_read_blob(repo, rel, false, &text) != 0) {
		buf_release(&text);
		return cli_load_config(ctx);
	}
	if (config_parse(ctx->config_path, text.buf ? text.buf : "", text.len, &ctx->cfg,
	    &err) != 0) {
		struct buf b = BUF_INIT;

		config_err_format(&err, &b);
		cli_error("the staged %s: %s", rel, b.buf);
		buf_release(&b);
		rc = WD_EXIT_USAGE;
		goto out;
	}
	ctx->cfg_loaded = true;
	if (strvec_bsearch(staged, rel) < 0)
		goto out;
	memset(&head, 0, sizeof(head));
	if (repo_read_blob(repo, rel, true, &old) != 0 ||
	    config_parse(ctx->config_path, old.buf ? old.buf : "", old.len, &head, &err) != 0) {
		for (size_t i = 0; i < ctx->cfg.ngates; i++)
			strvec_push(force, ctx->cfg.gates[i].name);
		goto out;
	}
	for (size_t i = 0; i < ctx->cfg.ngates; i++) {
		const struct gate *g = &ctx->cfg.gates[i], *was = config_gate(&head, g->name);

		if (was == NULL || strcmp(was->definition, g->definition) != 0)
			strvec_push(force, g->name);
	}
	config_release(&head);
out:
	buf_release(&text);
	buf_release(&old);
	return rc;
}

static int cmd_check_exec(struct cli_ctx *ctx, const struct args *args)
{
	struct oneshot o = { .trigger = "hook", .summary = "staged",
	    .started_ms = oneshot_now_ms() };
	struct strvec staged = STRVEC_INIT, index = STRVEC_INIT, force = STRVEC_INIT;
	struct repo *repo = NULL;
	struct staged sc;
	char *tmp = NULL;
	int rc = WD_EXIT_RUNTIME;

	if (args_get(args, "commit-msg")) {
		if (args_has(args, "staged") || args_has(args, "no-cache")) {
			cli_error("check: --commit-msg judges the message alone");
			return cli_usage(&cmd_check_entry);
		}
		if ((rc = cli_load_config(ctx)) != 0)
			return rc;
		return check_commit_msg(ctx, args_get(args, "commit-msg"), args_has(args, "json"));
	}
	/* the working tree is the daemon's and `run`'s; check judges commits */
	if (!args_has(args, "staged")) {
		cli_error("check: --staged or --commit-msg FILE is required");
		return cli_usage(&cmd_check_entry);
	}
	o.json = args_has(args, "json");
	o.no_cache = args_has(args, "no-cache");
	repo = repo_open(ctx->root);
	if (repo == NULL) {
		cli_error("%s is not a git work tree: check --staged needs an index", ctx->root);
		rc = WD_EXIT_USAGE;
		goto out;
	}
	if (repo_staged(repo, &staged) != 0 || repo_index_paths(repo, &index) != 0) {
		cli_error("cannot read the git index of %s", ctx->root);
		goto out;
	}
	if ((rc = load_staged_config(ctx, repo, &staged, &force)) != 0)
		goto out;
	rc = WD_EXIT_RUNTIME;
	{
		/* the same ignore rules as the daemon: a staged build artefact or
		 * editor backup is not a gate's business */
		struct ignore *ig = ignore_new(&ctx->cfg.ignore, repo);

		drop_ignored(ig, &staged);
		drop_ignored(ig, &index);
		ignore_free(ig);
	}
	if (cli_state_dir(ctx) != 0)
		goto out;
	tmp = xasprintf("%s/tmp", ctx->state_dir);
	staged_init(&sc, repo, ctx->root, tmp, &index);
	o.content_root = ctx->root;
	o.content = &sc.content;
	o.all = &index;
	o.force = &force;
	rc = oneshot_run(ctx, &o, &staged);
	staged_release(&sc);
out:
	free(tmp);
	repo_close(repo);
	strvec_clear(&staged);
	strvec_clear(&index);
	strvec_clear(&force);
	return rc;
}
