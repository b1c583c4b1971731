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

#endif
