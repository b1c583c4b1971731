/* lib/jsonget: each typed read's errors, with the key path and the exact
 * message a user sees, and that a failed read leaves the output alone. */
#include <stdlib.h>

#include "lib/err.h"
#include "lib/jsonget.h"
#include "lib/strvec.h"
#include "test.h"

/* rc must be WD_ECONFIG with err naming keypath and saying msg exactly. */
#define ASSERT_JERR(rc, err, kp, m) do { \
	ASSERT_EQ((rc), WD_ECONFIG); \
	ASSERT_STR_EQ((err).keypath, (kp)); \
	ASSERT_STR_EQ((err).msg, (m)); \
} while (0)

static cJSON *parse(const char *text)
{
	cJSON *j = cJSON_Parse(text);

	if (j == NULL)
		FAIL_("bad test JSON: %s", text);
	return j;
}

TEST_IMPL(jsonget_string)
{
	cJSON *o = parse("{\"s\": \"ruff.toml\", \"n\": 1, \"e\": \"\", \"a\": [\"x\"], "
	    "\"z\": null}");
	struct jsonget_err err = { "", "" };
	char *s = NULL;

	ASSERT_OK(jsonget_string(o, "gates[1]", "absent", &s, &err));
	ASSERT_NULL(s);
	ASSERT_OK(jsonget_string(o, "gates[1]", "s", &s, &err));
	ASSERT_STR_EQ(s, "ruff.toml");
	ASSERT_JERR(jsonget_string(o, "gates[1]", "n", &s, &err), err, "gates[1].n",
	    "expected a string, found a number");
	ASSERT_JERR(jsonget_string(o, "gates[1]", "a", &s, &err), err, "gates[1].a",
	    "expected a string, found an array");
	ASSERT_JERR(jsonget_string(o, "", "z", &s, &err), err, "z",
	    "expected a string, found null");
	ASSERT_JERR(jsonget_string(o, NULL, "e", &s, &err), err, "e", "must not be empty");
	/* a failed read keeps the earlier value */
	ASSERT_STR_EQ(s, "ruff.toml");
	free(s);
	cJSON_Delete(o);
	return 0;
}

TEST_IMPL(jsonget_int)
{
	cJSON *o = parse("{\"ok\": 42, \"s\": \"5\", \"f\": 2.5, \"big\": 11, \"neg\": -1, "
	    "\"inf\": 1e999, \"b\": true, \"o\": {}}");
	struct jsonget_err err = { "", "" };
	int v = 7;

	ASSERT_OK(jsonget_int(o, "", "absent", 0, 10, &v, &err));
	ASSERT_EQ(v, 7);
	ASSERT_OK(jsonget_int(o, "", "ok", 0, 100, &v, &err));
	ASSERT_EQ(v, 42);
	ASSERT_JERR(jsonget_int(o, "", "s", 0, 10, &v, &err), err, "s",
	    "expected an integer, found a string");
	ASSERT_JERR(jsonget_int(o, "ledger", "f", 0, 10, &v, &err), err, "ledger.f",
	    "expected an integer, found 2.5");
	ASSERT_JERR(jsonget_int(o, "ledger", "inf", 0, 10, &v, &err), err, "ledger.inf",
	    "expected an integer, found inf");
	ASSERT_JERR(jsonget_int(o, "gates[0]", "big", 0, 10, &v, &err), err, "gates[0].big",
	    "must be between 0 and 10, found 11");
	ASSERT_JERR(jsonget_int(o, "gates[0]", "neg", 0, 10, &v, &err), err, "gates[0].neg",
	    "must be between 0 and 10, found -1");
	ASSERT_JERR(jsonget_int(o, "", "b", 0, 10, &v, &err), err, "b",
	    "expected an integer, found a boolean");
	ASSERT_JERR(jsonget_int(o, "", "o", 0, 10, &v, &err), err, "o",
	    "expected an integer, found an object");
	ASSERT_EQ(v, 42);
	cJSON_Delete(o);
	return 0;
}

TEST_IMPL(jsonget_bool)
{
	cJSON *o = parse("{\"t\": true, \"f\": false, \"s\": \"true\", \"n\": 0}");
	struct jsonget_err err = { "", "" };
	bool b = true;

	ASSERT_OK(jsonget_bool(o, "gates[3]", "absent", &b, &err));
	ASSERT(b);
	ASSERT_OK(jsonget_bool(o, "gates[3]", "f", &b, &err));
	ASSERT(!b);
	ASSERT_OK(jsonget_bool(o, "gates[3]", "t", &b, &err));
	ASSERT(b);
	ASSERT_JERR(jsonget_bool(o, "gates[3]", "s", &b, &err), err, "gates[3].s",
	    "expected true or false, found a string");
	ASSERT_JERR(jsonget_bool(o, "gates[3]", "n", &b, &err), err, "gates[3].n",
	    "expected true or false, found a number");
	ASSERT(b);
	cJSON_Delete(o);
	return 0;
}

TEST_IMPL(jsonget_enum)
{
	static const char *const names[] = { "queue", "restart", NULL };
	cJSON *o = parse("{\"ok\": \"restart\", \"bad\": \"Queue\", \"n\": 1, \"e\": \"\"}");
	struct jsonget_err err = { "", "" };
	int v = -1;

	ASSERT_OK(jsonget_enum(o, "gates[0]", "absent", names, &v, &err));
	ASSERT_EQ(v, -1);
	ASSERT_OK(jsonget_enum(o, "gates[0]", "ok", names, &v, &err));
	ASSERT_EQ(v, 1);
	ASSERT_JERR(jsonget_enum(o, "gates[0]", "bad", names, &v, &err), err, "gates[0].bad",
	    "unknown value \"Queue\" (expected \"queue\", \"restart\")");
	ASSERT_JERR(jsonget_enum(o, "gates[0]", "n", names, &v, &err), err, "gates[0].n",
	    "expected a string, found a number");
	ASSERT_JERR(jsonget_enum(o, "gates[0]", "e", names, &v, &err), err, "gates[0].e",
	    "must not be empty");
	ASSERT_EQ(v, 1);
	cJSON_Delete(o);
	return 0;
}

TEST_IMPL(jsonget_strings)
{
	cJSON *o = parse("{\"ok\": [\"a\", \"\", \"b/**\"], \"s\": \"a\", \"mixed\": [\"a\", 1], "
	    "\"globs\": [\"*.py\", \"[abc\"], \"empty\": [\"*.py\", \"\"], \"none\": []}");
	struct jsonget_err err = { "", "" };
	struct strvec sv = STRVEC_INIT;

	strvec_push(&sv, "old");
	ASSERT_OK(jsonget_strings(o, "gates[2]", "absent", 0, &sv, &err));
	ASSERT_EQ(sv.n, 1);
	/* without JSONGET_GLOBS an empty string is a value like any other */
	ASSERT_OK(jsonget_strings(o, "gates[2]", "ok", 0, &sv, &err));
	ASSERT_EQ(sv.n, 3);
	ASSERT_STR_EQ(sv.v[0], "a");
	ASSERT_STR_EQ(sv.v[1], "");
	ASSERT_OK(jsonget_strings(o, "gates[2]", "none", JSONGET_GLOBS, &sv, &err));
	ASSERT_EQ(sv.n, 0);
	ASSERT_JERR(jsonget_strings(o, "gates[2]", "s", 0, &sv, &err), err, "gates[2].s",
	    "expected an array of strings, found a string");
	ASSERT_JERR(jsonget_strings(o, "gates[2]", "mixed", 0, &sv, &err), err,
	    "gates[2].mixed[1]", "expected a string, found a number");
	/* the elements before the bad one stay read */
	ASSERT_EQ(sv.n, 1);
	ASSERT_STR_EQ(sv.v[0], "a");
	ASSERT_JERR(jsonget_strings(o, "", "globs", JSONGET_GLOBS, &sv, &err), err, "globs[1]",
	    "unclosed '[' in pattern");
	ASSERT_JERR(jsonget_strings(o, "", "empty", JSONGET_GLOBS, &sv, &err), err, "empty[1]",
	    "empty pattern");
	strvec_clear(&sv);
	cJSON_Delete(o);
	return 0;
}

TEST_IMPL(jsonget_known_keys)
{
	static const char *const common[] = { "name", "type", NULL };
	static const char *const extra[] = { "args", NULL };
	cJSON *o = parse("{\"name\": \"r\", \"type\": \"ruff\", \"args\": []}");
	cJSON *top = parse("{\"version\": 1, \"bogus\": 2}");
	struct jsonget_err err = { "", "" };

	ASSERT_OK(jsonget_known_keys(o, "gates[4]", common, extra, &err));
	ASSERT_JERR(jsonget_known_keys(o, "gates[4]", common, NULL, &err), err,
	    "gates[4].args", "unknown key \"args\"");
	ASSERT_JERR(jsonget_known_keys(top, "", common, NULL, &err), err, "version",
	    "unknown key \"version\"");
	cJSON_Delete(o);
	cJSON_Delete(top);
	return 0;
}

TEST_IMPL(jsonget_unique_keys)
{
	cJSON *top = parse("{\"jobs\": 1, \"gates\": [], \"jobs\": 2}");
	cJSON *deep = parse("{\"gates\": [{\"name\": \"a\"}, {\"map\": {\"x\": \"1\", "
	    "\"y\": \"2\", \"x\": \"3\"}}]}");
	cJSON *fine = parse("{\"a\": {\"b\": 1}, \"b\": [{\"b\": 1}, {\"b\": 2}]}");
	struct jsonget_err err = { "", "" };

	ASSERT_JERR(jsonget_unique_keys(top, "", &err), err, "jobs", "duplicate key \"jobs\"");
	ASSERT_JERR(jsonget_unique_keys(deep, "", &err), err, "gates[1].map.x",
	    "duplicate key \"x\"");
	ASSERT_JERR(jsonget_unique_keys(cJSON_GetObjectItemCaseSensitive(deep, "gates"), "root", &err), err,
	    "root[1].map.x", "duplicate key \"x\"");
	/* the same name in different objects is no duplicate */
	ASSERT_OK(jsonget_unique_keys(fine, "", &err));
	cJSON_Delete(top);
	cJSON_Delete(deep);
	cJSON_Delete(fine);
	return 0;
}

TEST_IMPL(jsonget_paths_and_names)
{
	struct jsonget_err err = { "", "" };
	char kp[16];
	cJSON *o = parse("[null, true, 1, \"s\", [], {}]");
	static const char *const want[] = { "null", "a boolean", "a number", "a string",
		"an array", "an object" };
	int i = 0;
	const cJSON *it;

	jsonget_path(kp, sizeof(kp), "", "jobs");
	ASSERT_STR_EQ(kp, "jobs");
	jsonget_path(kp, sizeof(kp), NULL, "jobs");
	ASSERT_STR_EQ(kp, "jobs");
	jsonget_path(kp, sizeof(kp), "gates[2]", "args");
	ASSERT_STR_EQ(kp, "gates[2].args");
	jsonget_path(kp, sizeof(kp), "gates[2]", "command");	/* cut to fit */
	ASSERT_STR_EQ(kp, "gates[2].comman");
	cJSON_ArrayForEach(it, o)
		ASSERT_STR_EQ(jsonget_type_name(it), want[i++]);
	ASSERT_EQ(i, 6);
	ASSERT_STR_EQ(jsonget_type_name(NULL), "something else");
	ASSERT_EQ(jsonget_err_set(NULL, "x", "ignored"), WD_ECONFIG);
	ASSERT_JERR(jsonget_err_set(&err, NULL, "at the top: %d", 1), err, "", "at the top: 1");
	cJSON_Delete(o);
	return 0;
}
