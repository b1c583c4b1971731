/* Finds where a key path ("gates[1].command") sits in a JSON text, so that
 * config errors can name a line and column. cJSON keeps no positions, so
 * this walks the raw text with a minimal scanner; it runs only on the error
 * path and only over text cJSON already accepted (or up to where it failed). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

struct scan {
	const char *p, *end;
};

static void ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* Skips a string starting at '"'; returns 0 or -1. */
static int skip_string(struct scan *s)
{
	if (s->p >= s->end || *s->p != '"')
		return -1;
	for (s->p++; s->p < s->end; s->p++) {
		if (*s->p == '\\')
			s->p++;
		else if (*s->p == '"') {
			s->p++;
			return 0;
		}
	}
	return -1;
}

static int skip_value(struct scan *s, int depth)
{
	ws(s);
	if (s->p >= s->end || depth > 1000)
		return -1;
	if (*s->p == '"')
		return skip_string(s);
	if (*s->p == '{' || *s->p == '[') {
		char close = *s->p == '{' ? '}' : ']';

		s->p++;
		ws(s);
		if (s->p < s->end && *s->p == close) {
			s->p++;
			return 0;
		}
		for (;;) {
			if (close == '}') {
				ws(s);
				if (skip_string(s) < 0)
					return -1;
				ws(s);
				if (s->p >= s->end || *s->p != ':')
					return -1;
				s->p++;
			}
			if (skip_value(s, depth + 1) < 0)
				return -1;
			ws(s);
			if (s->p >= s->end)
				return -1;
			if (*s->p == ',') {
				s->p++;
				continue;
			}
			if (*s->p == close) {
				s->p++;
				return 0;
			}
			return -1;
		}
	}
	while (s->p < s->end && !strchr(",}] \t\r\n", *s->p))
		s->p++;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static long hex4(const char *p, const char *end)
{
	long v = 0;

	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int h = hexval(p[i]);

		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/* True when the JSON string [k, kend) (quotes included) decodes to the
 * klen bytes of key: a key written as "gat\u0065s" is "gates", and an
 * error in it must point at it. */
static bool key_equals(const char *k, const char *kend, const char *key, size_t klen)
{
	const char *p = k + 1, *end = kend - 1;
	size_t i = 0;

	while (p < end) {
		char utf[4];
		size_t n = 1;

		if (*p != '\\') {
			utf[0] = *p++;
		} else if (p + 1 < end && p[1] != 'u') {
			static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
			const char *f = strchr(from, p[1]);

			if (f == NULL || p[1] == '\0')
				return false;
			utf[0] = to[f - from];
			p += 2;
		} else {
			long cp = hex4(p + 2, end);

			p += 6;
			if (cp >= 0xD800 && cp < 0xDC00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
				long lo = hex4(p + 2, end);

				if (lo >= 0xDC00 && lo < 0xE000) {
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					p += 6;
				}
			}
			if (cp < 0)
				return false;
			if (cp < 0x80) {
				utf[0] = (char)cp;
			} else if (cp < 0x800) {
				utf[0] = (char)(0xC0 | (cp >> 6));
				utf[1] = (char)(0x80 | (cp & 0x3F));
				n = 2;
			} else if (cp < 0x10000) {
				utf[0] = (char)(0xE0 | (cp >> 12));
				utf[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
				utf[2] = (char)(0x80 | (cp & 0x3F));
				n = 3;
			} else {
				utf[0] = (char)(0xF0 | (cp >> 18));
				utf[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
				utf[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
				utf[3] = (char)(0x80 | (cp & 0x3F));
				n = 4;
			}
		}
		if (i + n > klen || memcmp(key + i, utf, n) != 0)
			return false;
		i += n;
	}
	return i == klen;
}

/* Within the object at s->p, moves to the last member named key (pointing
 * at its key when at_key, else at its value). 0 or -1. */
static int find_key(struct scan *s, const char *key, size_t klen, const char **keypos)
{
	const char *found = NULL, *found_key = NULL;

	ws(s);
	if (s->p >= s->end || *s->p != '{')
		return -1;
	s->p++;
	ws(s);
	if (s->p < s->end && *s->p == '}')
		return -1;
	for (;;) {
		const char *k, *kend;

		ws(s);
		k = s->p;
		if (skip_string(s) < 0)
			break;
		kend = s->p;
		ws(s);
		if (s->p >= s->end || *s->p != ':')
			break;
		s->p++;
		ws(s);
		if (key_equals(k, kend, key, klen)) {
			found = s->p;
			found_key = k;
		}
		if (skip_value(s, 0) < 0)
			break;
		ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		break;
	}
	if (found == NULL)
		return -1;
	s->p = found;
	*keypos = found_key;
	return 0;
}

static int find_index(struct scan *s, long idx)
{
	ws(s);
	if (s->p >= s->end || *s->p != '[')
		return -1;
	s->p++;
	for (long i = 0;; i++) {
		ws(s);
		if (s->p >= s->end || *s->p == ']')
			return -1;
		if (i == idx)
			return 0;
		if (skip_value(s, 0) < 0)
			return -1;
		ws(s);
		if (s->p < s->end && *s->p == ',')
			s->p++;
		else
			return -1;
	}
}

int json_locate(const char *text, size_t len, const char *keypath, int *line, int *col)
{
	struct scan s = { text, text + len };
	const char *best = NULL, *kp = keypath;
	int exact = -1;

	ws(&s);
	best = s.p;
	while (*kp) {
		const char *keypos = NULL;

		if (*kp == '[') {
			char *endp;
			long idx = strtol(kp + 1, &endp, 10);

			if (*endp != ']' || find_index(&s, idx) < 0)
				goto out;
			best = s.p;
			kp = endp + 1;
		} else {
			size_t n;

			if (*kp == '.')
				kp++;
			n = strcspn(kp, ".[");
			if (find_key(&s, kp, n, &keypos) < 0)
				goto out;
			best = keypos;
			kp += n;
		}
	}
	exact = 0;
out:
	*line = 1;
	*col = 1;
	for (const char *p = text; p < best && p < text + len; p++) {
		if (*p == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)*p & 0xC0) != 0x80)
			(*col)++;
	}
	return exact;
}
