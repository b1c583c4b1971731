/* URI references (RFC 3986) from file paths. */
#ifndef WD_URI_H
#define WD_URI_H

#include "buf.h"

/* Appends the relative-path reference for path (relative, '/'-separated,
 * bytes as they are: UTF-8 names become their octets): every byte outside
 * unreserved, sub-delims, ':', '@' and '/' is percent-encoded (space, '%',
 * '#', '?', '[', non-ASCII...), and a first segment holding ':' gets "./"
 * in front so that it cannot read as a scheme (RFC 3986 section 4.2). */
void uri_add_relpath(struct buf *out, const char *path);

#endif
