/* SHA-1 as FIPS 180-4 gives it: a 64-byte block function, padding with the
 * bit length, big-endian words. */
#include <string.h>

#include "sha1.h"

static uint32_t rol(uint32_t x, int n)
{
	return (x << n) | (x >> (32 - n));
}

/* Four loops of twenty rounds, the message schedule kept in a ring of 16
 * words: twice the speed of one loop choosing its function each round. */
#define ROUND(f, k) do { \
		uint32_t t = rol(a, 5) + (f) + e + (k) + w[i & 15]; \
		e = d; \
		d = c; \
		c = rol(b, 30); \
		b = a; \
		a = t; \
	} while (0)
#define NEXT_W() (w[i & 15] = rol(w[(i + 13) & 15] ^ w[(i + 8) & 15] ^ \
	w[(i + 2) & 15] ^ w[i & 15], 1))

static void block(uint32_t h[5], const unsigned char *p)
{
	uint32_t w[16], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		    (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (i = 0; i < 16; i++)
		ROUND((b & c) | (~b & d), 0x5A827999);
	for (; i < 20; i++) {
		NEXT_W();
		ROUND((b & c) | (~b & d), 0x5A827999);
	}
	for (; i < 40; i++) {
		NEXT_W();
		ROUND(b ^ c ^ d, 0x6ED9EBA1);
	}
	for (; i < 60; i++) {
		NEXT_W();
		ROUND((b & c) | (b & d) | (c & d), 0x8F1BBCDC);
	}
	for (; i < 80; i++) {
		NEXT_W();
		ROUND(b ^ c ^ d, 0xCA62C1D6);
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

void sha1_init(struct sha1 *c)
{
	static const uint32_t iv[5] = {
		0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0
	};

	memcpy(c->h, iv, sizeof(iv));
	c->len = 0;
	c->n = 0;
}

void sha1_update(struct sha1 *c, const void *data, size_t len)
{
	const unsigned char *p = data;

	c->len += len;
	if (c->n) {
		size_t take = 64 - c->n < len ? 64 - c->n : len;

		memcpy(c->buf + c->n, p, take);
		c->n += take;
		p += take;
		len -= take;
		if (c->n < 64)
			return;
		block(c->h, c->buf);
		c->n = 0;
	}
	for (; len >= 64; p += 64, len -= 64)
		block(c->h, p);
	memcpy(c->buf, p, len);
	c->n = len;
}

void sha1_final(struct sha1 *c, unsigned char out[20])
{
	uint64_t bits = c->len * 8;
	unsigned char pad[72] = { 0x80 };
	size_t npad = (c->n < 56 ? 56 : 120) - c->n;

	for (int i = 0; i < 8; i++)
		pad[npad + (size_t)i] = (unsigned char)(bits >> (56 - 8 * i));
	sha1_update(c, pad, npad + 8);
	for (int i = 0; i < 5; i++) {
		out[4 * i] = (unsigned char)(c->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)c->h[i];
	}
}

void sha1_hex(const unsigned char md[20], char out[41])
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 20; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[40] = '\0';
}
