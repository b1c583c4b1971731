/* ULID generation (https://github.com/ulid/spec semantics). */
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "ulid.h"

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static uint64_t last_ms;
static uint8_t last_rand[10];

static void encode(char out[ULID_LEN + 1], uint64_t ms, const uint8_t r[10])
{
	uint8_t b[16];

	for (int i = 0; i < 6; i++)
		b[i] = (uint8_t)(ms >> (40 - 8 * i));
	memcpy(b + 6, r, 10);
	/* 128 bits as 26 five-bit groups, the first group holding 3 bits */
	for (int i = 0; i < ULID_LEN; i++) {
		int bit = (int)(i * 5) - 2;	/* position of the group's top bit */
		unsigned v = 0;

		for (int k = 0; k < 5; k++, bit++) {
			v <<= 1;
			if (bit >= 0)
				v |= (b[bit / 8] >> (7 - bit % 8)) & 1;
		}
		out[i] = alphabet[v];
	}
	out[ULID_LEN] = '\0';
}

void ulid_at(char out[ULID_LEN + 1], uint64_t ms)
{
	if (ms <= last_ms) {
		/* same millisecond (or clock went back): increment the randomness */
		ms = last_ms;
		for (int i = 9; i >= 0; i--)
			if (++last_rand[i] != 0)
				break;
	} else {
		size_t got = 0;

		while (got < sizeof(last_rand)) {
			ssize_t n = getrandom(last_rand + got, sizeof(last_rand) - got, 0);

			if (n <= 0)
				break;
			got += (size_t)n;
		}
		last_rand[0] &= 0x7f;	/* headroom so increments never overflow */
		last_ms = ms;
	}
	encode(out, ms, last_rand);
}

void ulid_new(char out[ULID_LEN + 1])
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ulid_at(out, (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

static int decode_char(char c)
{
	const char *p;

	if (c >= 'a' && c <= 'z')
		c = (char)(c - 'a' + 'A');
	p = strchr(alphabet, c);
	return (p && c) ? (int)(p - alphabet) : -1;
}

bool ulid_valid(const char *s)
{
	if (strlen(s) != ULID_LEN)
		return false;
	if (decode_char(s[0]) > 7)	/* would overflow 128 bits */
		return false;
	for (int i = 0; i < ULID_LEN; i++)
		if (decode_char(s[i]) < 0)
			return false;
	return true;
}

uint64_t ulid_time(const char *s)
{
	uint64_t ms = 0;

	for (int i = 0; i < 10; i++)
		ms = (ms << 5) | (uint64_t)decode_char(s[i]);
	return ms;
}
