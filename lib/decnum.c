/* Bounded, saturating decimal reads for untrusted text (see decnum.h). */
#include <ctype.h>
#include <limits.h>

#include "decnum.h"

int decnum(const char *s, size_t n)
{
	long v = 0;

	for (size_t i = 0; i < n && isdigit((unsigned char)s[i]); i++) {
		v = v * 10 + (s[i] - '0');
		if (v > INT_MAX)
			return INT_MAX;
	}
	return (int)v;
}
