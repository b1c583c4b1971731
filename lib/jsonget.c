/* Typed, checked reads of cJSON values, each failure named by key path
 * (see jsonget.h). The messages are part of watchd's interface: a user
 * reads them, and tests compare them byte for byte. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "glob.h"
#include "jsonget.h"
#include "xmalloc.h"

int jsonget_err_set(struct jsonget_err *e, const char *keypath, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return WD_ECONFIG;
	snprintf(e->keypath, sizeof(e->keypath), "%s", keypath ? keypath : "");
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return WD_ECONFIG;
}

void jsonget_path(char *out, size_t n, const char *prefix, const char *key)
{
	if (prefix == NULL || *prefix == '\0')
		snprintf(out, n, "%s", key);
	else
		snprintf(out, n, "%s.%s", prefix, key);
}

const char *jsonget_type_name(const cJSON *v)
{
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsArray(v))
		return "an array";
	if (cJSON_IsObject(v))
		return "an object";
	return "something else";
}

int jsonget_string(const cJSON *obj, const char *prefix, const char *key, char **out,
    struct jsonget_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char kp[256];

	if (v == NULL)
		return 0;
	jsonget_path(kp, sizeof(kp), prefix, key);
	if (!cJSON_IsString(v))
		return jsonget_err_set(err, kp, "expected a string, found %s", jsonget_type_name(v));
	if (v->valuestring[0] == '\0')
		return jsonget_err_set(err, kp, "must not be empty");
	free(*out);
	*out = xstrdup(v->valuestring);
	return 0;
}

/* cJSON keeps numbers as doubles (valueint saturates and truncates), so
 * the double is checked for being whole and in range before conversion. */
int jsonget_int(const cJSON *obj, const char *prefix, const char *key, int min, int max,
    int *out, struct jsonget_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char kp[256];
	double d;

	if (v == NULL)
		return 0;
	jsonget_path(kp, sizeof(kp), prefix, key);
	if (!cJSON_IsNumber(v))
		return jsonget_err_set(err, kp, "expected an integer, found %s",
		    jsonget_type_name(v));
	d = v->valuedouble;
	if (d != floor(d) || !isfinite(d))
		return jsonget_err_set(err, kp, "expected an integer, found %g", d);
	if (d < min || d > max)
		return jsonget_err_set(err, kp, "must be between %d and %d, found %.0f", min, max,
		    d);
	*out = (int)d;
	return 0;
}

int jsonget_bool(const cJSON *obj, const char *prefix, const char *key, bool *out,
    struct jsonget_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char kp[256];

	if (v == NULL)
		return 0;
	if (!cJSON_IsBool(v)) {
		jsonget_path(kp, sizeof(kp), prefix, key);
		return jsonget_err_set(err, kp, "expected true or false, found %s",
		    jsonget_type_name(v));
	}
	*out = cJSON_IsTrue(v);
	return 0;
}

int jsonget_enum(const cJSON *obj, const char *prefix, const char *key,
    const char *const *names, int *out, struct jsonget_err *err)
{
	struct buf list = BUF_INIT;
	char *s = NULL, kp[256];
	int rc = jsonget_string(obj, prefix, key, &s, err);

	if (rc || s == NULL)
		return rc;
	for (int i = 0; names[i]; i++) {
		if (strcmp(names[i], s) == 0) {
			*out = i;
			free(s);
			return 0;
		}
	}
	for (int i = 0; names[i]; i++)
		buf_addf(&list, "%s\"%s\"", i ? ", " : "", names[i]);
	jsonget_path(kp, sizeof(kp), prefix, key);
	rc = jsonget_err_set(err, kp, "unknown value \"%s\" (expected %s)", s, list.buf);
	buf_release(&list);
	free(s);
	return rc;
}

int jsonget_strings(const cJSON *obj, const char *prefix, const char *key, unsigned flags,
    struct strvec *out, struct jsonget_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key), *it;
	char kp[256];
	int i = 0;

	if (v == NULL)
		return 0;
	jsonget_path(kp, sizeof(kp), prefix, key);
	if (!cJSON_IsArray(v))
		return jsonget_err_set(err, kp, "expected an array of strings, found %s",
		    jsonget_type_name(v));
	strvec_clear(out);
	cJSON_ArrayForEach(it, v) {
		char ikp[300];
		const char *why;

		snprintf(ikp, sizeof(ikp), "%s[%d]", kp, i++);
		if (!cJSON_IsString(it))
			return jsonget_err_set(err, ikp, "expected a string, found %s",
			    jsonget_type_name(it));
		if ((flags & JSONGET_GLOBS) && (why = glob_check(it->valuestring)) != NULL)
			return jsonget_err_set(err, ikp, "%s", why);
		strvec_push(out, it->valuestring);
	}
	return 0;
}

int jsonget_known_keys(const cJSON *obj, const char *prefix, const char *const *allowed,
    const char *const *extra, struct jsonget_err *err)
{
	const cJSON *it;

	for (it = obj->child; it; it = it->next) {
		bool ok = false;
		char kp[256];

		for (size_t i = 0; allowed[i] && !ok; i++)
			ok = strcmp(allowed[i], it->string) == 0;
		for (size_t i = 0; extra && extra[i] && !ok; i++)
			ok = strcmp(extra[i], it->string) == 0;
		if (!ok) {
			jsonget_path(kp, sizeof(kp), prefix, it->string);
			return jsonget_err_set(err, kp, "unknown key \"%s\"", it->string);
		}
	}
	return 0;
}

int jsonget_unique_keys(const cJSON *v, const char *prefix, struct jsonget_err *err)
{
	const cJSON *a, *b;
	int i = 0;

	if (cJSON_IsObject(v)) {
		for (a = v->child; a; a = a->next) {
			char kp[256];

			jsonget_path(kp, sizeof(kp), prefix, a->string);
			for (b = v->child; b != a; b = b->next)
				if (strcmp(a->string, b->string) == 0)
					return jsonget_err_set(err, kp, "duplicate key \"%s\"",
					    a->string);
			if (jsonget_unique_keys(a, kp, err))
				return WD_ECONFIG;
		}
	} else if (cJSON_IsArray(v)) {
		cJSON_ArrayForEach(a, v) {
			char kp[256];

			snprintf(kp, sizeof(kp), "%s[%d]", prefix ? prefix : "", i++);
			if (jsonget_unique_keys(a, kp, err))
				return WD_ECONFIG;
		}
	}
	return 0;
}
