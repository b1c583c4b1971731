/* The CLI: one file per subcommand (cmd-*.c), each exporting its
 * cmd_entry; cli-table.c lists them, main.c dispatches. Only main.c and
 * cmd-*.c turn results into exit codes. */
#ifndef WD_CLI_H
#define WD_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "args.h"
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
	char		*root;		/* absolute ROOT (CMD_ROOT) */
	char		*config_path;	/* absolute: --config, else ROOT's (CMD_ROOT) */
	bool		 config_given;	/* --config was passed */
	char		*state_dir;	/* ROOT/.watchd */
	char		*ledger_path;	/* ROOT/.watchd/ledger.db */
	struct config	 cfg;		/* CMD_CONFIG, or cli_load_config */
	bool		 cfg_loaded;
};

#define CMD_ROOT	0x1	/* resolve ROOT and the paths under it */
#define CMD_CONFIG	0x2	/* load and validate the config (exit 2 on error) */

/* A subcommand, as tmux's cmd_entry: what it is called, what it takes and
 * how it runs. main.c parses the words after the name against args (an
 * unknown option, a missing value or a wrong number of arguments prints
 * the usage and exits 2), prepares ctx according to flags, then calls
 * exec, which returns an exit code 0..4. */
struct cmd_entry {
	const char	*name;
	const char	*usage;		/* what follows the name, for usage lines */
	const char	*help;		/* one line, for --help */
	unsigned	 flags;		/* CMD_ROOT, CMD_CONFIG */
	struct args_spec args;		/* options and number of arguments */
	int		(*exec)(struct cli_ctx *ctx, const struct args *args);
};

/* Every command, NULL-terminated, in `watchd --help` order (cli-table.c). */
extern const struct cmd_entry *const cmd_table[];

/* Prints "watchd: <msg>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "watchd: warning: MSG" on stderr: the command goes on. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The command named name, or NULL. */
const struct cmd_entry *cli_find(const char *name);
/* Prints the list of commands. */
void cli_usage_all(FILE *fp);
/* `watchd COMMAND --help` and `watchd help COMMAND`: usage, the help
 * line and the options, all from the command's entry. */
void cli_help(const struct cmd_entry *cmd, FILE *fp);
/* Prints the usage of one command on stderr and returns WD_EXIT_USAGE. */
int cli_usage(const struct cmd_entry *cmd);
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
/* ROOT/.watchd/daemon.lock: the daemon holds an flock on it while it runs
 * (one daemon per tree, whatever path reaches it). malloc'ed. */
char *cli_lock_path(const struct cli_ctx *ctx);

#endif
