/* UTF-8 validation and repair for JSON output. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "utf8.h"

/* Length of the valid sequence at p (1-4), or 0 when invalid. */
static size_t seq_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	size_t n;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2, cp = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, cp = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	/* overlong forms, surrogates and beyond U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

bool utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		size_t n = seq_len(p, end);

		if (n == 0)
			return false;
		p += n;
	}
	return true;
}

char *utf8_repair(const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
	struct buf b = BUF_INIT;

	while (p < end) {
		size_t n = seq_len(p, end);

		if (n == 0) {
			buf_addstr(&b, "\xEF\xBF\xBD");
			p++;
		} else {
			buf_add(&b, p, n);
			p += n;
		}
	}
	return buf_detach(&b, NULL);
}

void utf8_repair_json(cJSON *v)
{
	for (; v; v = v->next) {
		if (v->string && !utf8_valid(v->string, strlen(v->string))) {
			char *fixed = utf8_repair(v->string);

			if (!(v->type & cJSON_StringIsConst))
				cJSON_free(v->string);
			/* cJSON frees keys with its own allocator: give it one */
			v->string = cJSON_malloc(strlen(fixed) + 1);
			memcpy(v->string, fixed, strlen(fixed) + 1);
			v->type &= ~cJSON_StringIsConst;
			free(fixed);
		}
		if (cJSON_IsString(v) && v->valuestring &&
		    !utf8_valid(v->valuestring, strlen(v->valuestring))) {
			char *fixed = utf8_repair(v->valuestring);

			cJSON_SetValuestring(v, fixed);
			free(fixed);
		}
		if (v->child)
			utf8_repair_json(v->child);
	}
}
