/* The glob matcher: a pattern from a config and a path from the disk,
 * split at the first NUL (or newline) of the input. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "lib/glob.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *path;

	memcpy(buf, data, size);
	buf[size] = '\0';
	path = buf + strcspn(buf, "\n");
	if (*path)
		*path++ = '\0';
	if (glob_check(buf) == NULL) {
		glob_match(buf, path);
		glob_match_or_parent(buf, path);
		glob_covers_dir(buf, path);
	}
	free(buf);
	return 0;
}
