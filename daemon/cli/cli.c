/* Helpers shared by the subcommands: messages, usage lines from the
 * command list, JSON output, state dir. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "gates/gate.h"
#include "lib/utf8.h"
#include "lib/xmalloc.h"

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("watchd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("watchd: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const struct cmd_entry *cli_find(const char *name)
{
	for (const struct cmd_entry *const *c = cmd_table; *c; c++)
		if (strcmp((*c)->name, name) == 0)
			return *c;
	return NULL;
}

void cli_usage_all(FILE *fp)
{
	fprintf(fp, "usage: watchd [--root DIR] [--config FILE] COMMAND [ARGS]\n\ncommands:\n");
	for (const struct cmd_entry *const *c = cmd_table; *c; c++)
		fprintf(fp, "  %-8s %-40s %s\n", (*c)->name, (*c)->usage, (*c)->help);
	fprintf(fp, "\nexit codes: 0 ok, 1 a gate failed, 2 usage/config error, "
	    "3 no daemon running, 4 runtime error\n");
}

void cli_help(const struct cmd_entry *cmd, FILE *fp)
{
	const struct args_opt *o = cmd->args.opts;

	fprintf(fp, "usage: watchd %s %s\n  %s\n", cmd->name, cmd->usage, cmd->help);
	if (o && o->name) {
		fprintf(fp, "options:");
		for (; o->name; o++) {
			fprintf(fp, " --%s%s", o->name, o->flags & ARGS_VALUE ? " VALUE" : "");
			if (o->flags >> 8)
				fprintf(fp, " (-%c)", (char)(o->flags >> 8));
		}
		fputc('\n', fp);
	}
	fprintf(fp, "global options: --root DIR, --config FILE; see `man watchd`\n");
}

int cli_usage(const struct cmd_entry *cmd)
{
	fprintf(stderr, "usage: watchd %s %s\n", cmd->name, cmd->usage);
	return WD_EXIT_USAGE;
}

int cli_load_config(struct cli_ctx *ctx)
{
	struct config_err err;

	if (ctx->cfg_loaded)
		return 0;
	if (config_load(ctx->config_path, &ctx->cfg, &err) != 0) {
		struct buf b = BUF_INIT;

		config_err_format(&err, &b);
		cli_error("%s", b.buf);
		buf_release(&b);
		return WD_EXIT_USAGE;
	}
	ctx->cfg_loaded = true;
	return 0;
}

void cli_print_path(const char *fmt, const char *path)
{
	char *q = gate_quote_path(path);

	printf(fmt, q);
	free(q);
}

void cli_print_json(const cJSON *v, bool compact)
{
	char *s;

	utf8_repair_json((cJSON *)v);
	s = compact ? cJSON_PrintUnformatted(v) : cJSON_Print(v);

	if (s) {
		fputs(s, stdout);
		fputc('\n', stdout);
		cJSON_free(s);
	}
	fflush(stdout);
}

char *cli_lock_path(const struct cli_ctx *ctx)
{
	return xasprintf("%s/daemon.lock", ctx->state_dir);
}

int cli_state_dir(struct cli_ctx *ctx)
{
	char *ign;
	int fd;

	if (mkdir(ctx->state_dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	ign = xasprintf("%s/.gitignore", ctx->state_dir);
	fd = open(ign, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (write(fd, "*\n", 2) != 2) {
			/* harmless: git would show .watchd/, nothing breaks */
		}
		close(fd);
	}
	free(ign);
	return 0;
}
