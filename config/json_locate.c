/* Finds where a key path ("gates[1].command") sits in a JSON text, so that
 * config errors can name a line and column. cJSON keeps no positions, so
 * this walks the raw text with a minimal scanner; it runs only on the error
 * path and only over text cJSON already accepted (or up to where it failed). */
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
		const char *k;

		ws(s);
		k = s->p;
		if (skip_string(s) < 0)
			break;
		ws(s);
		if (s->p >= s->end || *s->p != ':')
			break;
		s->p++;
		ws(s);
		if ((size_t)(s->p - k) >= klen + 2 && strncmp(k + 1, key, klen) == 0 &&
		    k[klen + 1] == '"') {
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
