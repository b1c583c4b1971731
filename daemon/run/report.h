/* Reports CI systems read, written from a run in the `show --json` shape:
 * JUnit XML (one testsuite per gate, one testcase per file), SARIF 2.1.0
 * (one run per gate, for code scanning), GitHub Actions workflow
 * commands (annotations on the diff) and GitLab Code Quality. Pure: a run in, text out. */
#ifndef WD_REPORT_H
#define WD_REPORT_H

#include <cjson/cJSON.h>

#include "lib/buf.h"

enum report_format { REPORT_TEXT, REPORT_JSON, REPORT_JUNIT, REPORT_SARIF, REPORT_GITHUB,
	REPORT_CODEQUALITY };

/* -1 when name is not a format. */
int report_format_parse(const char *name);
/* Members of a run's JSON, shared by the report writers: the string at
 * key k of o or NULL, the number or 0. */
const char *report_str(const cJSON *o, const char *k);
int report_num(const cJSON *o, const char *k);
/* Appends the report of run to out. */
void report_write(const cJSON *run, enum report_format fmt, struct buf *out);

/* GitLab Code Quality (report-gitlab.c): the findings as issues. */
void report_codequality(const cJSON *run, struct buf *out);

/* GitHub Actions (report-github.c). GitHub keeps at most this many
 * annotations of each kind (error, warning, notice) per step, and 50 per
 * job. */
#define GITHUB_ANNOTATIONS_PER_KIND	10
#define GITHUB_ANNOTATIONS_PER_JOB	50
/* Workflow commands: one ::group:: per gate holding its findings as text,
 * then annotations, most severe first, up to GitHub's caps, then a line
 * saying how many were left to the summary. */
void report_github(const cJSON *run, struct buf *out);
/* The Markdown job summary ($GITHUB_STEP_SUMMARY): a table of gates (with
 * the files whose results came from the cache), then every finding (up to
 * GitHub's 1 MiB per step, saying so when cut). repro: the command that
 * reproduces the run locally, or NULL. */
void report_github_summary(const cJSON *run, const char *repro, struct buf *out);

#endif
