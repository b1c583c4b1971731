/* The one table of gate executors. Adding a tool is one file plus one row. */
#include <stddef.h>
#include <string.h>

#include "gate.h"

extern const struct gate_ops gate_command;
extern const struct gate_ops gate_ruff;
extern const struct gate_ops gate_ruff_format;
extern const struct gate_ops gate_pssa;
extern const struct gate_ops gate_pester;
extern const struct gate_ops gate_commit_msg;

static const struct gate_ops *const gate_table[] = {
	&gate_command,
	&gate_ruff,
	&gate_ruff_format,
	&gate_pssa,
	&gate_pester,
	&gate_commit_msg,
	NULL,
};

const struct gate_ops *gate_ops_find(const char *type)
{
	for (size_t i = 0; gate_table[i]; i++)
		if (strcmp(gate_table[i]->type, type) == 0)
			return gate_table[i];
	return NULL;
}

const char *gate_types(void)
{
	static char list[256];

	if (list[0] == '\0') {
		for (size_t i = 0; gate_table[i]; i++) {
			if (i)
				strncat(list, ", ", sizeof(list) - strlen(list) - 1);
			strncat(list, gate_table[i]->type, sizeof(list) - strlen(list) - 1);
		}
	}
	return list;
}
