/* SHA-256 through libcrypto's one-shot EVP digest (see sha256.h). */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "sha256.h"

void sha256_hex(const void *data, size_t len, char out[SHA256_HEX + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	/* only fails when libcrypto cannot allocate: as malloc failing */
	if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
		abort();
	for (unsigned i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[SHA256_HEX] = '\0';
}

int sha256_is_hex(const char *s)
{
	size_t i;

	for (i = 0; i < SHA256_HEX; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[i] == '\0';
}
