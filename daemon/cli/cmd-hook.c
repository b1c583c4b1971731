/* watchd hook install|uninstall [--force]: the git pre-commit hook that
 * runs `watchd check --staged`. The hook goes where git looks for hooks
 * (core.hooksPath when set, else .git/hooks). An existing hook that is not
 * ours is left alone unless --force, which keeps it as pre-commit.local
 * and restores it on uninstall. */
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
	.help = "install or remove the git pre-commit hook",
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

static bool is_ours(const char *path)
{
	struct buf b = BUF_INIT;
	bool ours = buf_read_file(&b, path, 1 << 16) == 0 && strstr(b.buf, HOOK_MARK) != NULL;

	buf_release(&b);
	return ours;
}

static int write_hook(const char *path, const char *self)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL)
		return -errno;
	/* The binary that installed the hook, else whatever watchd is on PATH
	 * at commit time (a moved or reinstalled binary keeps working). */
	fprintf(fp, "#!/bin/sh\n%s\n# Judges exactly the staged content; see `watchd check --staged`.\n"
	    "watchd=%s\n[ -x \"$watchd\" ] || watchd=watchd\n"
	    "exec \"$watchd\" check --staged\n", HOOK_MARK, self);
	if (fclose(fp) != 0)
		return -errno;
	return chmod(path, 0755) < 0 ? -errno : 0;
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

static int cmd_hook_exec(struct cli_ctx *ctx, const struct args *args)
{
	const char *action = args->argv[0];
	struct repo *repo = NULL;
	char *dir = NULL, *hook = NULL, *local = NULL, *quoted = NULL;
	bool force = args_has(args, "force");
	int w, rc = WD_EXIT_RUNTIME;

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
	hook = xasprintf("%s/pre-commit", dir);
	local = xasprintf("%s/pre-commit.local", dir);
	if (strcmp(action, "install") == 0) {
		char *self = self_path();

		quoted = sh_quote(self);
		free(self);
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			cli_error("cannot create %s: %s", dir, strerror(errno));
			goto out;
		}
		if (access(hook, F_OK) == 0 && !is_ours(hook)) {
			if (!force) {
				cli_error("%s exists and is not watchd's; keep it, or pass --force (it "
				    "is then kept as pre-commit.local and restored on uninstall)", hook);
				rc = WD_EXIT_USAGE;
				goto out;
			}
			if (rename(hook, local) < 0) {
				cli_error("cannot move %s aside: %s", hook, strerror(errno));
				goto out;
			}
		}
		if ((w = write_hook(hook, quoted)) != 0) {
			cli_error("cannot write %s: %s", hook, strerror(-w));
			goto out;
		}
		printf("watchd: installed %s\n", hook);
		rc = WD_EXIT_OK;
	} else {
		if (access(hook, F_OK) != 0) {
			printf("watchd: no pre-commit hook installed\n");
			rc = WD_EXIT_OK;
			goto out;
		}
		if (!is_ours(hook) && !force) {
			cli_error("%s is not watchd's; left alone (--force removes it)", hook);
			rc = WD_EXIT_USAGE;
			goto out;
		}
		if (unlink(hook) < 0) {
			cli_error("cannot remove %s: %s", hook, strerror(errno));
			goto out;
		}
		if (access(local, F_OK) == 0 && rename(local, hook) == 0)
			printf("watchd: removed the hook; restored the earlier one\n");
		else
			printf("watchd: removed %s\n", hook);
		rc = WD_EXIT_OK;
	}
out:
	free(quoted);
	free(local);
	free(hook);
	free(dir);
	repo_close(repo);
	return rc;
}
