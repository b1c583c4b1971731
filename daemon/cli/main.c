/* watchd entry point: global options, dispatch to the command's entry
 * (its options and arguments parsed from its declaration), ROOT and config
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
#include "lib/color.h"
#include "lib/xmalloc.h"

static bool declares(const struct args_spec *spec, const char *name)
{
	for (const struct args_opt *o = spec->opts; o && o->name; o++)
		if (strcmp(o->name, name) == 0)
			return true;
	return false;
}

/* --color WHEN for the commands that print for a person; the others
 * decide from the environment and the terminal alone. */
static int setup_color(const struct cmd_entry *cmd, const struct args *a)
{
	enum color_mode mode = COLOR_AUTO;
	const char *when = declares(&cmd->args, "color") ? args_get(a, "color") : NULL;

	if (when && color_mode_parse(when, &mode) != 0) {
		cli_error("%s: --color '%s': expected auto, always or never", cmd->name, when);
		return cli_usage(cmd);
	}
	color_setup(mode);
	return 0;
}

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
static int resolve_root(struct cli_ctx *ctx, const char *root_opt, bool may_be_gone)
{
	char real[PATH_MAX];
	char *root;

	if (root_opt) {
		if (realpath(root_opt, real) == NULL) {
			/* a daemon whose ROOT was deleted or moved away still
			 * answers `status` and `stop` at the path it watched */
			if (may_be_gone && errno == ENOENT && root_opt[0] == '/') {
				size_t n = strlen(root_opt);

				while (n > 1 && root_opt[n - 1] == '/')
					n--;
				root = xstrndup(root_opt, n);
				goto resolved;
			}
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
resolved:
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

/* The options before the command; the command's words are its own. */
static const struct args_spec global = {
	.opts = (const struct args_opt[]){
		{ "root", ARGS_VALUE },
		{ "config", ARGS_VALUE },
		{ "help", ARGS_LETTER('h') },
		{ "version", 0 },
		{ NULL, 0 },
	},
	.upper = -1,
	.options_first = true,
};

/* --help anywhere before "--" answers, whatever else is wrong. */
static bool wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	struct args gargs = { 0 }, cargs = { 0 };
	struct wd_err err = { 0 };
	struct cli_ctx ctx;
	const struct cmd_entry *cmd;
	int cargc, rc;
	char **cargv;

	hold_stdio();
	memset(&ctx, 0, sizeof(ctx));
	/* a CLI hanging up mid-reply must not kill us (PITFALLS §3) */
	signal(SIGPIPE, SIG_IGN);
	rc = WD_EXIT_USAGE;
	if (args_parse(&gargs, &global, argc - 1, argv + 1, &err) != 0) {
		cli_error("%s", err.msg);
		cli_usage_all(stderr);
		goto out;
	}
	if (args_has(&gargs, "help")) {
		cli_usage_all(stdout);
		rc = WD_EXIT_OK;
		goto out;
	}
	if (args_has(&gargs, "version")) {
		/* `watchd --version ANYTHING` is `watchd version`, as it was */
		cmd = cli_find("version");
		cargc = 0;
		cargv = gargs.argv;
	} else if (gargs.argc == 0) {
		cli_usage_all(stderr);
		goto out;
	} else if ((cmd = cli_find(gargs.argv[0])) == NULL) {
		cli_error("unknown command '%s'", gargs.argv[0]);
		cli_usage_all(stderr);
		goto out;
	} else {
		cargc = gargs.argc - 1;
		cargv = gargs.argv + 1;
	}
	if (args_get(&gargs, "config")) {
		ctx.config_path = absolute(args_get(&gargs, "config"));
		ctx.config_given = true;
	}
	if (wants_help(cargc, cargv)) {
		cli_help(cmd, stdout);
		rc = WD_EXIT_OK;
		goto out;
	}
	if (args_parse(&cargs, &cmd->args, cargc, cargv, &err) != 0) {
		cli_error("%s: %s", cmd->name, err.msg);
		rc = cli_usage(cmd);
		goto out;
	}
	if ((rc = setup_color(cmd, &cargs)) != 0)
		goto out;
	if ((cmd->flags & CMD_ROOT) && (rc = resolve_root(&ctx, args_get(&gargs, "root"),
	    strcmp(cmd->name, "status") == 0 || strcmp(cmd->name, "stop") == 0)) != 0)
		goto out;
	if ((cmd->flags & CMD_CONFIG) && (rc = cli_load_config(&ctx)) != 0)
		goto out;
	rc = cmd->exec(&ctx, &cargs);
out:
	if (ctx.cfg_loaded)
		config_release(&ctx.cfg);
	free(ctx.root);
	free(ctx.state_dir);
	free(ctx.ledger_path);
	free(ctx.config_path);
	args_release(&cargs);
	args_release(&gargs);
	return rc;
}
