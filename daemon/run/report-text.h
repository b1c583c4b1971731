/* The text a person reads for a finished run (`start --foreground`, and
 * the text form of `status --follow`): a one-line summary, then findings
 * as `path:line:col: CODE message [gate]`, grouped by file and capped.
 * JSON in, text out; coloured only as lib/color decided for stdout. */
#ifndef WD_REPORT_TEXT_H
#define WD_REPORT_TEXT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "lib/buf.h"

#define REPORT_TEXT_CAP 50	/* findings printed per run before "... N more" */

/* Appends the text of run to out. run: {"id", "status", "gates": [{"name",
 * "status", "files" (array) or "files_count", "findings": [...],
 * "findings_count" (else the array's size), "cached", "message"}]}, the
 * `show --json` shape or the daemon's event shape. before and after are
 * the gate summaries (`status --json`'s "gates") from before and after the
 * run, or NULL when unknown: a passing run that leaves every gate passing
 * after some failed is said in one line ("all gates pass again (fixed N
 * findings)"), and a passing run while other files still fail says which
 * gates do. At most cap findings are listed, then "... N more: watchd show
 * ID". */
void report_text_run(const cJSON *run, const cJSON *before, const cJSON *after, size_t cap,
    struct buf *out);
/* One finding as a line: `path:line:col: CODE message [gate]`; a name
 * with a control character is quoted (gate_quote_path); no path, line or
 * col when the finding has none. */
void report_text_finding(const cJSON *f, const char *gate, struct buf *out);
/* Appends the findings of the gates array, sorted by file, line and
 * column, at most cap of them; returns how many were left out (the caller
 * says where to see them). */
size_t report_text_findings(const cJSON *gates, size_t cap, struct buf *out);
/* "ruff: missing: ruff is not installed ...": the line of a gate that did
 * not pass and has no finding to show; nothing for the others. */
void report_text_gate_why(const cJSON *g, struct buf *out);
/* "ruff fail (1 file, 4 findings)": one gate's result in a few words. */
void report_text_gate(const cJSON *g, struct buf *out);

#endif
