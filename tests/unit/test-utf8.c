/* utf8: what counts as valid (overlongs, surrogates, beyond U+10FFFF and
 * truncated sequences do not), repair (each invalid byte becomes U+FFFD)
 * and repair of a whole cJSON tree, keys included. */
#include <stdlib.h>

#include "lib/utf8.h"
#include "test.h"

#define FFFD "\xEF\xBF\xBD"

static bool valid(const char *s)
{
	return utf8_valid(s, strlen(s));
}

TEST_IMPL(utf8_valid_sequences)
{
	ASSERT(valid(""));
	ASSERT(valid("plain ascii"));
	ASSERT(valid("\xC2\x80"));			/* U+0080, the first 2-byte */
	ASSERT(valid("caf\xC3\xA9"));			/* é */
	ASSERT(valid("\xE2\x82\xAC"));			/* € */
	ASSERT(valid("\xED\x9F\xBF"));			/* U+D7FF, below the surrogates */
	ASSERT(valid("\xEE\x80\x80"));			/* U+E000, above them */
	ASSERT(valid("\xF0\x9F\x98\x80"));		/* 😀 */
	ASSERT(valid("\xF4\x8F\xBF\xBF"));		/* U+10FFFF, the last */
	ASSERT(utf8_valid("a\0b", 3));			/* NUL is a character */

	ASSERT(!valid("\x80"));				/* a lone continuation */
	ASSERT(!valid("\xC0\x80"));			/* overlong NUL */
	ASSERT(!valid("\xC1\xBF"));			/* overlong */
	ASSERT(!valid("\xE0\x80\x80"));			/* overlong 3-byte */
	ASSERT(!valid("\xF0\x80\x80\x80"));		/* overlong 4-byte */
	ASSERT(!valid("\xED\xA0\x80"));			/* U+D800, a surrogate */
	ASSERT(!valid("\xED\xBF\xBF"));			/* U+DFFF */
	ASSERT(!valid("\xF4\x90\x80\x80"));		/* U+110000 */
	ASSERT(!valid("\xF5\x80\x80\x80"));
	ASSERT(!valid("\xFF"));
	ASSERT(!valid("\xE2\x82"));			/* truncated */
	ASSERT(!valid("\xE2\x82x"));			/* interrupted */
	ASSERT(!utf8_valid("\xE2\x82\xAC", 2));		/* len is the end */
	ASSERT(utf8_valid("ok\xFF", 2));		/* nothing past len is read */
	return 0;
}

/* Each invalid byte becomes one U+FFFD; valid text comes back the same,
 * as a new malloc'ed string. */
TEST_IMPL(utf8_repair_bytes)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "", "" },
		{ "caf\xC3\xA9 \xE2\x82\xAC", "caf\xC3\xA9 \xE2\x82\xAC" },
		{ "a\xFF" "b", "a" FFFD "b" },
		{ "\x80\x80", FFFD FFFD },
		{ "\xE2\x82", FFFD FFFD },		/* truncated: byte by byte */
		{ "\xE2\x82x\xE2\x82\xAC", FFFD FFFD "x\xE2\x82\xAC" },
		{ "\xC0\x80", FFFD FFFD },
		{ "\xED\xA0\x80", FFFD FFFD FFFD },
		{ "\xF4\x90\x80\x80!", FFFD FFFD FFFD FFFD "!" },
		{ "name\xFE.txt", "name" FFFD ".txt" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *r = utf8_repair(cases[i].in);

		ASSERT_NOT_NULL(r);
		ASSERT(r != cases[i].in);
		ASSERT_STR_EQ(r, cases[i].out);
		ASSERT(valid(r));
		free(r);
	}
	return 0;
}

/* utf8_repair_json fixes string values and keys at any depth, constant
 * keys included, and leaves everything else as it was. */
TEST_IMPL(utf8_repair_json_tree)
{
	cJSON *root = cJSON_CreateObject(), *arr = cJSON_CreateArray(), *inner;
	char *out;

	cJSON_AddStringToObject(root, "path", "bad\xFF.py");
	cJSON_AddStringToObject(root, "good", "caf\xC3\xA9");
	cJSON_AddNumberToObject(root, "n\xC0", 3);
	cJSON_AddItemToObjectCS(root, "const\xFF", cJSON_CreateTrue());
	cJSON_AddItemToArray(arr, cJSON_CreateString("\xE2\x82"));
	cJSON_AddItemToArray(arr, cJSON_CreateNull());
	inner = cJSON_CreateObject();
	cJSON_AddStringToObject(inner, "deep\x80", "x\x80y");
	cJSON_AddItemToArray(arr, inner);
	cJSON_AddItemToObject(root, "list", arr);

	utf8_repair_json(root);
	ASSERT_STR_EQ(cJSON_GetObjectItem(root, "path")->valuestring, "bad" FFFD ".py");
	ASSERT_STR_EQ(cJSON_GetObjectItem(root, "good")->valuestring, "caf\xC3\xA9");
	ASSERT_EQ(cJSON_GetObjectItem(root, "n" FFFD)->valuedouble, 3);
	ASSERT(cJSON_IsTrue(cJSON_GetObjectItem(root, "const" FFFD)));
	ASSERT_STR_EQ(cJSON_GetArrayItem(arr, 0)->valuestring, FFFD FFFD);
	ASSERT(cJSON_IsNull(cJSON_GetArrayItem(arr, 1)));
	ASSERT_STR_EQ(cJSON_GetObjectItem(inner, "deep" FFFD)->valuestring, "x" FFFD "y");
	out = cJSON_PrintUnformatted(root);
	ASSERT(valid(out));
	ASSERT_STR_EQ(out, "{\"path\":\"bad" FFFD ".py\",\"good\":\"caf\xC3\xA9\",\"n" FFFD
	    "\":3,\"const" FFFD "\":true,\"list\":[\"" FFFD FFFD "\",null,{\"deep" FFFD
	    "\":\"x" FFFD "y\"}]}");
	free(out);
	utf8_repair_json(NULL);				/* nothing to do */
	cJSON_Delete(root);				/* the repaired keys free cleanly */
	return 0;
}
