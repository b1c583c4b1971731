/* watchd entry point: global options, the command table, ROOT and config
 * resolution, and the mapping of results to exit codes 0-4. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "daemon/git/repo.h"
#include "lib/xmalloc.h"

static char *absolute(const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] == '/')
		return xstrdup(path);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return xstrdup(path);
	return xasprintf("%s/%s", cwd, path);
}

/* ROOT: --root, else the git work tree containing cwd, else cwd. */
static int resolve_root(struct cli_ctx *ctx, const char *root_opt)
{
	char real[PATH_MAX];
	char *root;

	if (root_opt) {
		if (realpath(root_opt, real) == NULL) {
			cli_error("--root %s: %s", root_opt, strerror(errno));
			return WD_EXIT_USAGE;
		}
		root = xstrdup(real);
	} else {
		char cwd[PATH_MAX];

		if (getcwd(cwd, sizeof(cwd)) == NULL) {
			cli_error("cannot read the current directory: %s", strerror(errno));
			return WD_EXIT_RUNTIME;
		}
		root = repo_discover_workdir(cwd);
		if (root == NULL)
			root = xstrdup(cwd);
		if (realpath(root, real)) {
			free(root);
			root = xstrdup(real);
		}
	}
	ctx->root = root;
	ctx->state_dir = xasprintf("%s/.watchd", root);
	ctx->ledger_path = xasprintf("%s/.watchd/ledger.db", root);
	if (ctx->config_path == NULL)
		ctx->config_path = xasprintf("%s/%s", root, CONFIG_FILE);
	return 0;
}

/* Started with 0, 1 or 2 closed (a hook run with <&-), the next file we
 * open takes that number: a tool's pipe would become our stdout, and the
 * tool's stdin could replace it. /dev/null holds each until exit. */
static void hold_stdio(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
}

int main(int argc, char **argv)
{
	struct cli_ctx ctx;
	const struct cli_cmd *cmd = NULL;
	const char *root_opt = NULL;
	int i, rc;

	hold_stdio();
	memset(&ctx, 0, sizeof(ctx));
	ctx.argv0 = argv[0];
	/* a CLI hanging up mid-reply must not kill us (PITFALLS §3) */
	signal(SIGPIPE, SIG_IGN);
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--root") == 0 && i + 1 < argc)
			root_opt = argv[++i];
		else if (strncmp(a, "--root=", 7) == 0)
			root_opt = a + 7;
		else if (strcmp(a, "--config") == 0 && i + 1 < argc)
			ctx.config_path = absolute(argv[++i]), ctx.config_given = true;
		else if (strncmp(a, "--config=", 9) == 0)
			ctx.config_path = absolute(a + 9), ctx.config_given = true;
		else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			cli_usage_all(stdout);
			return WD_EXIT_OK;
		} else if (strcmp(a, "--version") == 0) {
			char *v[] = { "version", NULL };

			return cmd_version(&ctx, 1, v);
		} else {
			cli_error("unknown option '%s'", a);
			cli_usage_all(stderr);
			return WD_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		cli_usage_all(stderr);
		return WD_EXIT_USAGE;
	}
	cmd = cli_find(argv[i]);
	if (cmd == NULL) {
		cli_error("unknown command '%s'", argv[i]);
		cli_usage_all(stderr);
		return WD_EXIT_USAGE;
	}
	for (int j = i + 1; j < argc; j++) {
		if (strcmp(argv[j], "--help") == 0 || strcmp(argv[j], "-h") == 0) {
			printf("usage: watchd %s %s\n  %s\n", cmd->name, cmd->usage, cmd->help);
			return WD_EXIT_OK;
		}
		if (strcmp(argv[j], "--") == 0)
			break;
	}
	if ((cmd->flags & CMD_ROOT) && (rc = resolve_root(&ctx, root_opt)) != 0)
		goto out;
	if ((cmd->flags & CMD_CONFIG) && (rc = cli_load_config(&ctx)) != 0)
		goto out;
	rc = cmd->fn(&ctx, argc - i, argv + i);
out:
	if (ctx.cfg_loaded)
		config_release(&ctx.cfg);
	free(ctx.root);
	free(ctx.state_dir);
	free(ctx.ledger_path);
	free(ctx.config_path);
	return rc;
}
