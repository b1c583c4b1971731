/* SHA-256 digests as hex, from OpenSSL's libcrypto: the remote cache's keys
 * and checksums, which another machine computes the same way. */
#ifndef WD_SHA256_H
#define WD_SHA256_H

#include <stddef.h>

#define SHA256_HEX	64

/* The digest of data[0..len) as 64 lowercase hex digits and a NUL. */
void sha256_hex(const void *data, size_t len, char out[SHA256_HEX + 1]);
/* True when s is 64 lowercase hex digits and a NUL. */
int sha256_is_hex(const char *s);

#endif
