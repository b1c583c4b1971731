/* Building `pwsh -Command` lines for the PowerShell executors: everything
 * that comes from outside (file names, paths) goes in as a single-quoted
 * literal, so the script text never depends on what a name contains. */
#ifndef WD_PWSH_H
#define WD_PWSH_H

#include "lib/buf.h"
#include "lib/strvec.h"

/* Appends s as a PowerShell single-quoted string literal: every quote
 * character PowerShell accepts as a single quote (' and U+2018..U+201B) is
 * doubled. Other bytes, newlines and invalid UTF-8 included, are copied. */
void pwsh_quote(struct buf *b, const char *s);
/* Appends "@('a', 'b')" for the files; a name starting with '-' gets "./"
 * like gate_push_path(), for symmetry with the other executors. */
void pwsh_quote_files(struct buf *b, const char *const *files, size_t n);
/* Pushes "pwsh -NoLogo -NoProfile -NonInteractive -Command SCRIPT". */
void pwsh_argv(struct strvec *argv, const char *script);

#endif
