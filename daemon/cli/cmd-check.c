/* watchd check --staged [--json] [--no-cache]: the pre-commit check. It
 * judges exactly what is staged -- the index's bytes, written to a private
 * tree under .watchd/tmp -- never the working tree, and reuses what the
 * daemon already judged for that content (same blob ids, same gate
 * fingerprints), so a commit after the daemon has seen the edits is
 * near-instant. Trigger "hook". Exit 0 pass, 1 a gate failed, 4 broken.
 * --commit-msg FILE is the commit-msg hook's check (check-msg.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check-msg.h"
#include "cli.h"
#include "daemon/git/repo.h"
#include "daemon/run/select.h"
#include "daemon/watch/ignore.h"
#include "lib/xmalloc.h"
#include "oneshot.h"

static int cmd_check_exec(struct cli_ctx *, const struct args *);

const struct cmd_entry cmd_check_entry = {
	.name = "check",
	.usage = "--staged | --commit-msg FILE [--json] [--no-cache]",
	.help = "judge the staged content (pre-commit) or a commit message",
	.flags = CMD_ROOT | CMD_CONFIG,
	.args = {
		.opts = (const struct args_opt[]){
			{ "staged", 0 },
			{ "commit-msg", ARGS_VALUE },
			{ "json", 0 },
			{ "no-cache", 0 },
			{ NULL, 0 },
		},
	},
	.exec = cmd_check_exec,
};

/* Writes the staged version of path (or, if it is not in the index, the
 * working tree's, for config files nobody tracks) under dir. */
static int materialize(struct repo *r, const char *root, const char *dir, const char *path)
{
	char *dest = xasprintf("%s/%s", dir, path);
	int rc = repo_index_checkout(r, path, dest);

	if (rc == -ENOENT) {
		char *src = xasprintf("%s/%s", root, path);
		FILE *in = fopen(src, "rb"), *out = NULL;

		rc = -ENOENT;
		if (in && (out = fopen(dest, "wb")) != NULL) {
			char buf[65536];
			size_t n;

			while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
				fwrite(buf, 1, n, out);
			rc = 0;
		}
		if (in)
			fclose(in);
		if (out)
			fclose(out);
		free(src);
	}
	free(dest);
	return rc;
}

static void remove_tree(const char *dir)
{
	char *cmd[] = { "rm", "-rf", "--", (char *)dir, NULL };
	pid_t pid = fork();

	if (pid == 0) {
		execvp("rm", cmd);
		_exit(127);
	}
	if (pid > 0) {
		int st;

		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
}

static int cmd_check_exec(struct cli_ctx *ctx, const struct args *args)
{
	struct oneshot o = { .trigger = "hook", .quiet_pass = true };
	struct strvec staged = STRVEC_INIT, index = STRVEC_INIT, tree = STRVEC_INIT;
	struct repo *repo = NULL;
	char *dir = NULL;
	int rc = WD_EXIT_RUNTIME;

	if (args_get(args, "commit-msg")) {
		if (args_has(args, "staged") || args_has(args, "no-cache")) {
			cli_error("check: --commit-msg judges the message alone");
			return cli_usage(&cmd_check_entry);
		}
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
	{
		/* the same ignore rules as the daemon: a staged build artefact or
		 * editor backup is not a gate's business */
		struct ignore *ig = ignore_new(&ctx->cfg.ignore, repo);
		size_t j = 0;

		for (size_t i = 0; i < staged.n; i++) {
			if (ignore_path(ig, staged.v[i], false))
				free(staged.v[i]);
			else
				staged.v[j++] = staged.v[i];
		}
		staged.n = j;
		if (staged.v)
			staged.v[j] = NULL;
		ignore_free(ig);
	}
	if (cli_state_dir(ctx) != 0)
		goto out;
	{
		char *tmp = xasprintf("%s/tmp", ctx->state_dir);

		mkdir(tmp, 0700);
		dir = xasprintf("%s/staged-XXXXXX", tmp);
		free(tmp);
		if (mkdtemp(dir) == NULL) {
			cli_error("cannot create a directory for the staged content: %s",
			    strerror(errno));
			goto out;
		}
	}
	/* What the gates may read: the staged files, each gate's config files,
	 * and for test gates their whole input set, all as staged. */
	for (size_t i = 0; i < ctx->cfg.ngates; i++) {
		const struct gate *g = &ctx->cfg.gates[i];

		for (size_t k = 0; k < g->config_files.n; k++)
			strvec_push(&tree, g->config_files.v[k]);
		for (size_t k = 0; g->tests && k < index.n; k++)
			if (select_is_input(g, index.v[k]))
				strvec_push(&tree, index.v[k]);
	}
	strvec_pushv(&tree, &staged);
	strvec_sort_uniq(&tree);
	for (size_t i = 0; i < tree.n; i++) {
		int mrc = materialize(repo, ctx->root, dir, tree.v[i]);

		if (mrc != 0 && mrc != -ENOENT) {
			cli_error("cannot write the staged %s: %s", tree.v[i], strerror(-mrc));
			goto out;
		}
	}
	o.content_root = dir;
	o.all = &tree;
	rc = oneshot_run(ctx, &o, &staged);
out:
	if (dir)
		remove_tree(dir);
	free(dir);
	repo_close(repo);
	strvec_clear(&staged);
	strvec_clear(&index);
	strvec_clear(&tree);
	return rc;
}
