/* watchd hook install|uninstall [--force]: the git hooks that run watchd.
 * pre-commit runs `watchd check --staged`; commit-msg, installed only when
 * the config has a gate of type "commit-msg", runs `watchd check
 * --commit-msg "$1"`. They go where git looks for hooks (core.hooksPath,
 * else the common git dir's hooks/, shared by linked worktrees).
 *
 * A hook that is not ours is left alone unless --force. Then it is renamed
 * to NAME.local beside ours (the rename keeps its bytes and mode), and ours
 * runs it first, with git's arguments, stdin and environment, so that its
 * failure still blocks the commit; uninstall renames it back. Hooks written
 * by the pre-commit framework are chained the same way: their script finds
 * its config from the work tree, not from its own file name. */
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
#include "lib/buf.h"
#include "lib/xmalloc.h"

#define HOOK_MARK "# installed by watchd hook install"

static int cmd_hook_exec(struct cli_ctx *, const struct args *);

const struct cmd_entry cmd_hook_entry = {
	.name = "hook",
	.usage = "install|uninstall [--force]",
	.help = "install or remove the git pre-commit (and commit-msg) hooks",
	.flags = CMD_ROOT,
	.args = {
		.opts = (const struct args_opt[]){
			{ "force", 0 },
			{ NULL, 0 },
		},
		.lower = 1,
		.upper = 1,
		.missing = "install or uninstall?",
	},
	.exec = cmd_hook_exec,
};

/* One hook watchd installs. */
struct hook_kind {
	const char	*name;		/* file name in the hooks directory */
	const char	*check;		/* what follows `watchd` in the script */
	const char	*what;		/* for the script's comment */
};

static const struct hook_kind hook_pre_commit = {
	"pre-commit", "check --staged", "Judges exactly the staged content",
};
static const struct hook_kind hook_commit_msg = {
	"commit-msg", "check --commit-msg \"$1\"", "Judges the commit message",
};

static bool is_ours(const char *path)
{
	struct buf b = BUF_INIT;
	bool ours = buf_read_file(&b, path, 1 << 16) == 0 && strstr(b.buf, HOOK_MARK) != NULL;

	buf_release(&b);
	return ours;
}

/* Writes our hook script to path through a temporary file, so that a
 * commit starting meanwhile sees the old hook or the new, never half. */
/* self: the sh-quoted binary; opts: global options for it ("" or
 * " --config 'FILE'") */
static int write_hook(const char *path, const struct hook_kind *k, const char *self,
    const char *opts)
{
	char *tmp = xasprintf("%s.watchd-tmp", path);
	FILE *fp = fopen(tmp, "w");
	int rc = 0;

	if (fp == NULL) {
		rc = -errno;
		goto out;
	}
	/* The hook replaced by --force runs first, as git would have run it:
	 * only when executable (git skips it otherwise), with our arguments,
	 * stdin and environment, and its exit status ends the commit. The
	 * binary that installed the hook runs next, else whatever watchd is
	 * on PATH at commit time (a moved or reinstalled binary keeps
	 * working). */
	fprintf(fp, "#!/bin/sh\n%s\n# %s; see `watchd %s`.\n"
	    "# A %s hook replaced by `watchd hook install --force` is kept beside this\n"
	    "# one as %s.local and runs first; `watchd hook uninstall` restores it.\n"
	    "prev=\"$(dirname \"$0\")/%s.local\"\n"
	    "if [ -f \"$prev\" ] && [ -x \"$prev\" ]; then\n"
	    "\t\"$prev\" \"$@\" || exit $?\n"
	    "fi\n"
	    "watchd=%s\n[ -x \"$watchd\" ] || watchd=watchd\n"
	    "exec \"$watchd\"%s %s\n", HOOK_MARK, k->what,
	    k->check, k->name, k->name, k->name, self, opts, k->check);
	if (fclose(fp) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && chmod(tmp, 0755) < 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc != 0)
		unlink(tmp);
out:
	free(tmp);
	return rc;
}

static char *self_path(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n <= 0)
		return xstrdup("watchd");
	buf[n] = '\0';
	return xstrdup(buf);
}

/* Single-quotes s for sh. */
static char *sh_quote(const char *s)
{
	struct buf b = BUF_INIT;

	buf_addch(&b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			buf_addstr(&b, "'\\''");
		else
			buf_addch(&b, *s);
	}
	buf_addch(&b, '\'');
	return buf_detach(&b, NULL);
}

/* mkdir -p: core.hooksPath may name a directory nobody made yet. */
static int make_dirs(const char *dir)
{
	char *p = xstrdup(dir);
	int rc = 0;

	for (char *s = p + 1; rc == 0; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		{
			char c = *s;

			*s = '\0';
			if (mkdir(p, 0755) < 0 && errno != EEXIST)
				rc = -1;
			*s = c;
			if (c == '\0')
				break;
		}
	}
	free(p);
	return rc;
}

/* True when the path exists, as a file or a link (even a dangling one). */
static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Installs one hook in dir. Returns an exit code. */
static int install_one(const char *dir, const struct hook_kind *k, const char *self,
    const char *opts, bool force)
{
	char *hook = xasprintf("%s/%s", dir, k->name);
	char *local = xasprintf("%s.local", hook);
	int w, rc = WD_EXIT_RUNTIME;

	if (exists(hook) && !is_ours(hook)) {
		if (!force) {
			cli_error("%s exists and is not watchd's; keep it, or pass --force (it "
			    "is then kept as %s.local, run before watchd's, and restored on "
			    "uninstall)", hook, k->name);
			rc = WD_EXIT_USAGE;
			goto out;
		}
		if (exists(local)) {
			/* never drop one of the user's hooks on the floor */
			cli_error("%s exists and is not watchd's, and %s is taken: move one "
			    "of them away first", hook, local);
			rc = WD_EXIT_USAGE;
			goto out;
		}
		if (rename(hook, local) < 0) {
			cli_error("cannot move %s aside: %s", hook, strerror(errno));
			goto out;
		}
		printf("watchd: kept the earlier %s hook as %s; it runs first\n", k->name, local);
	}
	if ((w = write_hook(hook, k, self, opts)) != 0) {
		cli_error("cannot write %s: %s", hook, strerror(-w));
		goto out;
	}
	printf("watchd: installed %s\n", hook);
	rc = WD_EXIT_OK;
out:
	free(local);
	free(hook);
	return rc;
}

/* Removes one hook from dir and puts back the one it replaced. quiet: say
 * nothing when there is no hook of ours (the commit-msg hook is optional).
 * Returns an exit code. */
static int uninstall_one(const char *dir, const struct hook_kind *k, bool force, bool quiet)
{
	char *hook = xasprintf("%s/%s", dir, k->name);
	char *local = xasprintf("%s.local", hook);
	int rc = WD_EXIT_RUNTIME;

	if (!exists(hook)) {
		if (!quiet)
			printf("watchd: no %s hook installed\n", k->name);
		rc = WD_EXIT_OK;
		goto out;
	}
	if (!is_ours(hook)) {
		if (quiet || !force) {
			if (!quiet)
				cli_error("%s is not watchd's; left alone (--force removes it)", hook);
			rc = quiet ? WD_EXIT_OK : WD_EXIT_USAGE;
			goto out;
		}
	}
	if (unlink(hook) < 0) {
		cli_error("cannot remove %s: %s", hook, strerror(errno));
		goto out;
	}
	if (exists(local)) {
		if (rename(local, hook) < 0) {
			cli_error("removed %s but cannot restore %s: %s", hook, local,
			    strerror(errno));
			goto out;
		}
		printf("watchd: removed the %s hook; restored the earlier one\n", k->name);
	} else
		printf("watchd: removed %s\n", hook);
	rc = WD_EXIT_OK;
out:
	free(local);
	free(hook);
	return rc;
}

/* Whether the config asks for the commit-msg hook. A config that does not
 * load is an error (exit 2) only when it exists: the pre-commit hook can
 * be installed before the config is written. */
static int wants_commit_msg(struct cli_ctx *ctx, bool *yes)
{
	int rc;

	*yes = false;
	if (!ctx->config_given && access(ctx->config_path, F_OK) != 0)
		return 0;
	if ((rc = cli_load_config(ctx)) != 0)
		return rc;
	for (size_t i = 0; i < ctx->cfg.ngates; i++)
		if (strcmp(ctx->cfg.gates[i].type, "commit-msg") == 0)
			*yes = true;
	return 0;
}

static int cmd_hook_exec(struct cli_ctx *ctx, const struct args *args)
{
	const char *action = args->argv[0];
	struct repo *repo = NULL;
	char *dir = NULL, *quoted = NULL, *opts = NULL;
	bool force = args_has(args, "force"), msg = false;
	int rc = WD_EXIT_RUNTIME;

	if (strcmp(action, "install") != 0 && strcmp(action, "uninstall") != 0) {
		cli_error("hook: unknown action '%s'", action);
		return cli_usage(&cmd_hook_entry);
	}
	repo = repo_open(ctx->root);
	if (repo == NULL) {
		cli_error("%s is not a git work tree", ctx->root);
		rc = WD_EXIT_USAGE;
		goto out;
	}
	dir = repo_hooks_dir(repo);
	if (strcmp(action, "install") == 0) {
		char *self = self_path();

		quoted = sh_quote(self);
		free(self);
		/* a config named at install time is the one the hooks judge by */
		if (ctx->config_given) {
			char *q = sh_quote(ctx->config_path);

			opts = xasprintf(" --config %s", q);
			free(q);
		} else
			opts = xstrdup("");
		if ((rc = wants_commit_msg(ctx, &msg)) != 0)
			goto out;
		rc = WD_EXIT_RUNTIME;
		if (make_dirs(dir) < 0) {
			cli_error("cannot create %s: %s", dir, strerror(errno));
			goto out;
		}
		rc = install_one(dir, &hook_pre_commit, quoted, opts, force);
		/* the commit-msg hook follows the config: installed with a
		 * commit-msg gate, taken out (its predecessor restored) without */
		if (rc == WD_EXIT_OK)
			rc = msg ? install_one(dir, &hook_commit_msg, quoted, opts, force) :
			    uninstall_one(dir, &hook_commit_msg, false, true);
	} else {
		int r2;

		rc = uninstall_one(dir, &hook_pre_commit, force, false);
		r2 = uninstall_one(dir, &hook_commit_msg, force, true);
		if (rc == WD_EXIT_OK)
			rc = r2;
	}
out:
	free(opts);
	free(quoted);
	free(dir);
	repo_close(repo);
	return rc;
}
