/* Comma-separated word lists in environment variables: see envlist.h. */
#include <stdlib.h>
#include <string.h>

#include "envlist.h"

bool envlist_has(const char *var, const char *word)
{
	const char *p = getenv(var);
	size_t n = strlen(word);

	if (n == 0)
		return false;
	while (p && *p) {
		size_t len = strcspn(p, ",");

		if (len == n && strncmp(p, word, n) == 0)
			return true;
		p += len;
		if (*p == ',')
			p++;
	}
	return false;
}
