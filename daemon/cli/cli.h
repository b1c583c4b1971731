/* The CLI: one file per subcommand (cmd-*.c), listed in main.c's table.
 * Only main.c and cmd-*.c turn results into exit codes. */
#ifndef WD_CLI_H
#define WD_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "config/config.h"

enum {
	WD_EXIT_OK = 0,		/* success, every gate passed */
	WD_EXIT_FAIL = 1,	/* a gate failed */
	WD_EXIT_USAGE = 2,	/* usage or configuration error */
	WD_EXIT_NOTRUNNING = 3,	/* no daemon running (status, stop) */
	WD_EXIT_RUNTIME = 4,	/* ledger unwritable, tool environment broken */
};

/* Resolved by main.c before a command runs, according to its flags. */
struct cli_ctx {
	const char	*argv0;
	char		*root;		/* absolute ROOT (CMD_ROOT) */
	char		*config_path;	/* absolute config path (CMD_ROOT) */
	bool		 config_given;	/* --config was passed */
	char		*state_dir;	/* ROOT/.watchd */
	char		*ledger_path;	/* ROOT/.watchd/ledger.db */
	struct config	 cfg;		/* loaded when CMD_CONFIG */
	bool		 cfg_loaded;
};

#define CMD_ROOT	0x1	/* resolve ROOT and the paths under it */
#define CMD_CONFIG	0x2	/* load and validate the config (exit 2 on error) */

/* A subcommand: argv[0] is the command name; returns an exit code 0..4. */
typedef int cli_fn(struct cli_ctx *ctx, int argc, char **argv);

struct cli_cmd {
	const char	*name;
	cli_fn		*fn;
	unsigned	 flags;
	const char	*usage;		/* arguments, for --help */
	const char	*help;		/* one line */
};

cli_fn cmd_start, cmd_stop, cmd_status, cmd_run, cmd_check, cmd_ci, cmd_hook,
    cmd_log, cmd_show, cmd_config, cmd_version, cmd_export, cmd_gc;

/* Prints "watchd: <msg>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The command named name, or NULL. */
const struct cli_cmd *cli_find(const char *name);
/* Prints the list of commands. */
void cli_usage_all(FILE *fp);
/* Prints usage of one command on stderr and returns WD_EXIT_USAGE. */
int cli_usage(const char *cmd);
/* Loads the config into ctx if not loaded yet; prints the error and
 * returns WD_EXIT_USAGE on failure, else 0. */
int cli_load_config(struct cli_ctx *ctx);
/* Prints a cJSON value on stdout followed by a newline (compact when
 * compact), and frees nothing. */
void cli_print_json(const cJSON *v, bool compact);
/* printf(fmt, path) with the path quoted (gate_quote_path) when it holds
 * control characters: a file name with a newline must not forge a line of
 * text output. */
void cli_print_path(const char *fmt, const char *path);
/* Makes ROOT/.watchd (with its .gitignore holding "*"). 0 or -errno. */
int cli_state_dir(struct cli_ctx *ctx);

#endif
