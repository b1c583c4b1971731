/* ULIDs: 48-bit millisecond time + 80 random bits in Crockford base32,
 * 26 characters, sortable by time. Ids made in one process within the same
 * millisecond stay strictly increasing. */
#ifndef WD_ULID_H
#define WD_ULID_H

#include <stdbool.h>
#include <stdint.h>

#define ULID_LEN 26

/* Writes 26 characters and a NUL into out. */
void ulid_new(char out[ULID_LEN + 1]);
/* Same, at a given time (ms since the epoch): for tests. */
void ulid_at(char out[ULID_LEN + 1], uint64_t ms);
bool ulid_valid(const char *s);
/* Millisecond timestamp of a valid ULID. */
uint64_t ulid_time(const char *s);

#endif
