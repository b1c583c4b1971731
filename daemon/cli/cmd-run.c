/* watchd run [--json] [--no-cache] [--gate NAME]... [PATH...]: one-shot, no
 * daemon. The files (PATHs, or every eligible file under ROOT) enter the
 * same scheduler the daemon uses and the run is recorded with trigger
 * "run"; --gate keeps only the gates named.
 * Exit 0 all passed, 1 a gate failed, 4 a tool could not run. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "daemon/git/repo.h"
#include "daemon/watch/ignore.h"
#include "daemon/watch/walk.h"
#include "lib/xmalloc.h"
#include "oneshot.h"

static int cmd_run_exec(struct cli_ctx *, const struct args *);

const struct cmd_entry cmd_run_entry = {
	.name = "run",
	.usage = "[--json] [--no-cache] [--gate NAME]... [--color WHEN] [PATH...]",
	.help = "run the gates once, without a daemon",
	.flags = CMD_ROOT | CMD_CONFIG,
	.args = {
		.opts = (const struct args_opt[]){
			{ "json", 0 },
			{ "no-cache", 0 },
			{ "gate", ARGS_VALUE | ARGS_REPEAT },
			{ "color", ARGS_VALUE },
			{ NULL, 0 },
		},
		.upper = -1,
	},
	.exec = cmd_run_exec,
};

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

static int cmd_run_exec(struct cli_ctx *ctx, const struct args *args)
{
	struct oneshot o = { .content_root = ctx->root, .trigger = "run" };
	struct strvec files = STRVEC_INIT, only = STRVEC_INIT;
	struct repo *repo = NULL;
	struct ignore *ig = NULL;
	char **argv = args->argv;
	int rc = WD_EXIT_USAGE;

	o.json = args_has(args, "json");
	o.no_cache = args_has(args, "no-cache");
	if ((rc = oneshot_only_list(ctx, args, &only)) != 0)
		return rc;
	rc = WD_EXIT_USAGE;
	o.only = only.n ? &only : NULL;
	repo = repo_open(ctx->root);
	ig = ignore_new(&ctx->cfg.ignore, repo);
	if (args->argc == 0)
		walk_files(ctx->root, "", ig, &files);
	for (int i = 0; i < args->argc; i++) {
		char *rel = root_relative(ctx->root, argv[i]);
		struct stat st;
		char *abs;

		if (rel == NULL) {
			cli_error("%s: not inside ROOT (%s)", argv[i], ctx->root);
			goto out;
		}
		abs = *rel ? xasprintf("%s/%s", ctx->root, rel) : xstrdup(ctx->root);
		if (lstat(abs, &st) < 0) {
			cli_error("%s: %s", argv[i], strerror(errno));
			free(abs);
			free(rel);
			goto out;
		}
		if (S_ISDIR(st.st_mode)) {
			walk_files(ctx->root, rel, ig, &files);
		} else if (S_ISLNK(st.st_mode) && walk_link_unfit(AT_FDCWD, abs)) {
			cli_error("%s: a symbolic link to a directory, or a loop: not a file, "
			    "skipped", argv[i]);
		} else {
			strvec_push(&files, rel);
		}
		free(abs);
		free(rel);
	}
	strvec_sort_uniq(&files);
	rc = oneshot_run(ctx, &o, &files);
out:
	ignore_free(ig);
	repo_close(repo);
	strvec_clear(&files);
	strvec_clear(&only);
	return rc;
}
