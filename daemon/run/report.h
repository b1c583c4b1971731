/* Reports CI systems read, written from a run in the `show --json` shape:
 * JUnit XML (one testsuite per gate, one testcase per file), SARIF 2.1.0
 * (one run per gate, for code scanning) and GitHub Actions workflow
 * commands (annotations on the diff). Pure: a run in, text out. */
#ifndef WD_REPORT_H
#define WD_REPORT_H

#include <cjson/cJSON.h>

#include "lib/buf.h"

enum report_format { REPORT_TEXT, REPORT_JSON, REPORT_JUNIT, REPORT_SARIF, REPORT_GITHUB };

/* -1 when name is not a format. */
int report_format_parse(const char *name);
/* Appends the report of run to out. */
void report_write(const cJSON *run, enum report_format fmt, struct buf *out);

#endif
