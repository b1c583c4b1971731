/* `watchd ci` and the CI system it runs in: the default format (GitHub
 * Actions gets workflow commands), the job summary, and the local command
 * that reproduces a run. */
#ifndef WD_CI_ENV_H
#define WD_CI_ENV_H

#include <cjson/cJSON.h>

#include "cli.h"

/* The --format when none is given: github under GitHub Actions
 * (GITHUB_ACTIONS=true), else text. A report_format value. */
int ci_default_format(void);
/* The command line that reproduces this run on a laptop (malloc'ed):
 * the options as given but the output ones, --base replaced by the merge
 * base's id (a branch name on the runner may be another commit locally)
 * and WATCHD_SKIP when set, preceded by the commit to check out. */
char *ci_repro_command(const struct cli_ctx *ctx, const struct args *args,
    const char *merge_base, const char *head);
/* What ends every ci run that produced one: the job summary, then the
 * reproduction command (on stdout for the text and github formats, else on
 * stderr, not to spoil a machine-read stdout). 0, or WD_EXIT_RUNTIME after
 * printing why the summary could not be written. */
int ci_epilogue(const struct cli_ctx *ctx, const struct args *args, const cJSON *run,
    int fmt, const char *merge_base);
/* Appends the Markdown summary of run to $GITHUB_STEP_SUMMARY when that is
 * set. 0, or -errno (the file could not be written). */
int ci_step_summary(const cJSON *run, const char *repro);

#endif
