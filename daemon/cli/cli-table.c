/* The command list: every cmd-*.c exports one entry, and this is the only
 * place that names them all. Its order is `watchd --help`'s. */
#include <stddef.h>

#include "cli.h"

extern const struct cmd_entry cmd_start_entry;
extern const struct cmd_entry cmd_stop_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_run_entry;
extern const struct cmd_entry cmd_check_entry;
extern const struct cmd_entry cmd_ci_entry;
extern const struct cmd_entry cmd_hook_entry;
extern const struct cmd_entry cmd_service_entry;
extern const struct cmd_entry cmd_log_entry;
extern const struct cmd_entry cmd_show_entry;
extern const struct cmd_entry cmd_export_entry;
extern const struct cmd_entry cmd_gc_entry;
extern const struct cmd_entry cmd_init_entry;
extern const struct cmd_entry cmd_config_entry;
extern const struct cmd_entry cmd_doctor_entry;
extern const struct cmd_entry cmd_help_entry;
extern const struct cmd_entry cmd_version_entry;

const struct cmd_entry *const cmd_table[] = {
	&cmd_start_entry,
	&cmd_stop_entry,
	&cmd_status_entry,
	&cmd_run_entry,
	&cmd_check_entry,
	&cmd_ci_entry,
	&cmd_hook_entry,
	&cmd_service_entry,
	&cmd_log_entry,
	&cmd_show_entry,
	&cmd_export_entry,
	&cmd_gc_entry,
	&cmd_init_entry,
	&cmd_config_entry,
	&cmd_doctor_entry,
	&cmd_help_entry,
	&cmd_version_entry,
	NULL,
};
