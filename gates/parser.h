/* Output parsers shared by command gates ("parser": "gcc" | "sarif" |
 * "junit" | "exit"), and by the specialised executors that read the same
 * formats (pester reads NUnit/JUnit XML through parse_junit). */
#ifndef WD_PARSER_H
#define WD_PARSER_H

#include "gate.h"

struct output_parser {
	const char	*name;
	gate_parse_fn	*parse;
	bool		 wants_report;	/* reads {report} rather than stdout */
};

/* NULL when unknown. */
const struct output_parser *parser_find(const char *name);
const char *parser_names(void);

gate_parse_fn parse_exit;
gate_parse_fn parse_gcc;
gate_parse_fn parse_sarif;
gate_parse_fn parse_junit;

/* Reads a JUnit XML (testsuites/testsuite/testcase) or NUnit 2.5 XML
 * (test-results/test-suite/test-case) document into r: one "error" finding
 * per failed test (code = test name, path relative to root), the test
 * counts, and the status: a container that failed to load (NUnit errors,
 * a failed suite without tests, a JUnit suite with errors but no testcase)
 * is GATE_ERROR; any failed test GATE_FAIL; otherwise GATE_PASS. XML that
 * cannot be parsed is GATE_ERROR with expat's message and line. Always 0. */
int junit_read(const char *root, const char *const *files, size_t nfiles, const char *xml,
    size_t len, struct gate_result *r);

/* Reads `ruff check --output-format=json` text (json-lines too) into
 * r->findings, paths made relative to root. Always 0; unreadable output
 * sets r->status = GATE_ERROR and r->message. r->status is otherwise left
 * alone: the caller decides from the findings and the exit code. */
int ruff_json_parse(const char *root, const char *text, size_t len, struct gate_result *r);
/* Reads `ruff format --check` text (the "Would reformat: PATH" lines before
 * 0.16, the "unformatted:" diagnostics since) into "unformatted" findings.
 * Always 0; lines it does not know are skipped. */
int ruff_format_text_parse(const char *root, const char *text, size_t len,
    struct gate_result *r);

#endif
