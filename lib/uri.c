/* Percent-encoding of paths into relative URI references. */
#include <stdbool.h>
#include <string.h>

#include "uri.h"

/* pchar (RFC 3986 section 3.3) less pct-encoded, plus the separator */
static bool literal(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    strchr("-._~!$&'()*+,;=:@/", c) != NULL;
}

void uri_add_relpath(struct buf *out, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t seg = strcspn(path, "/");

	if (memchr(path, ':', seg) != NULL)
		buf_addstr(out, "./");
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (literal(*p)) {
			buf_addch(out, (char)*p);
			continue;
		}
		buf_addch(out, '%');
		buf_addch(out, hex[*p >> 4]);
		buf_addch(out, hex[*p & 15]);
	}
}
