/* SHA-1, streaming: for content ids of files read in pieces (a thread can
 * stop between pieces). Not for security: git's object ids. */
#ifndef WD_SHA1_H
#define WD_SHA1_H

#include <stddef.h>
#include <stdint.h>

struct sha1 {
	uint32_t	 h[5];
	uint64_t	 len;		/* bytes so far */
	unsigned char	 buf[64];
	size_t		 n;		/* bytes in buf */
};

void sha1_init(struct sha1 *c);
void sha1_update(struct sha1 *c, const void *data, size_t len);
/* Writes the 20-byte digest; c must be initialised again before reuse. */
void sha1_final(struct sha1 *c, unsigned char out[20]);
/* The digest as 40 lowercase hex digits and a NUL. */
void sha1_hex(const unsigned char md[20], char out[41]);

#endif
