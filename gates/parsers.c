/* The table of output parsers command gates may name in "parser". */
#include <stddef.h>
#include <string.h>

#include "parser.h"

static const struct output_parser parser_table[] = {
	{ "exit", parse_exit, false },
	{ "gcc", parse_gcc, false },
	{ "sarif", parse_sarif, false },
	{ "junit", parse_junit, true },
	{ NULL, NULL, false },
};

const struct output_parser *parser_find(const char *name)
{
	for (size_t i = 0; parser_table[i].name; i++)
		if (strcmp(parser_table[i].name, name) == 0)
			return &parser_table[i];
	return NULL;
}

const char *parser_names(void)
{
	static char list[128];

	if (list[0] == '\0') {
		for (size_t i = 0; parser_table[i].name; i++) {
			if (i)
				strncat(list, ", ", sizeof(list) - strlen(list) - 1);
			strncat(list, parser_table[i].name, sizeof(list) - strlen(list) - 1);
		}
	}
	return list;
}
