/* Typed, checked reads of a parsed JSON document (cJSON), for a file that
 * people write by hand. Every failure names the value by its key path and
 * says what was expected, in a caller-supplied struct; the caller adds the
 * file name and the position. Knows nothing of watchd.
 *
 * A key path joins object members with '.' and gives array elements as
 * [i]: "gates[2].command[1]". The prefix argument below is the path of obj
 * itself ("" for the top level), and every path is cut to fit keypath. */
#ifndef WD_JSONGET_H
#define WD_JSONGET_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "strvec.h"

struct jsonget_err {
	char	keypath[256];	/* "gates[1].command"; "" for the whole document */
	char	msg[512];	/* "expected an array of strings, found a string" */
};

/* Flags for jsonget_strings(). */
#define JSONGET_GLOBS	0x1	/* each string must pass glob_check() */

/* Fills e (which may be NULL) and returns WD_ECONFIG, so callers can
 * write `return jsonget_err_set(err, kp, "must name a program");`.
 * keypath may be NULL for "". */
int jsonget_err_set(struct jsonget_err *e, const char *keypath, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The path of member key under prefix: "key" when prefix is "" or NULL,
 * else "prefix.key"; cut to n bytes. */
void jsonget_path(char *out, size_t n, const char *prefix, const char *key);
/* "a string", "a number", "an array", ...: what a message says was found.
 * Static. */
const char *jsonget_type_name(const cJSON *v);

/* The readers below look up the member key of the object obj, case
 * sensitively. A member that is absent is no error: they return 0 and
 * leave *out as it was, so the caller sets defaults first. Otherwise they
 * return 0 with *out set, or WD_ECONFIG with err filled and *out as it was
 * (jsonget_strings excepted: see there). */

/* A non-empty string. *out is freed and replaced by a malloc'ed copy
 * (the caller owns it; *out must be NULL or malloc'ed). */
int jsonget_string(const cJSON *obj, const char *prefix, const char *key, char **out,
    struct jsonget_err *err);
/* A number that is a whole number in [min, max]. */
int jsonget_int(const cJSON *obj, const char *prefix, const char *key, int min, int max,
    int *out, struct jsonget_err *err);
/* true or false. */
int jsonget_bool(const cJSON *obj, const char *prefix, const char *key, bool *out,
    struct jsonget_err *err);
/* A string equal to one of names (NULL-terminated): *out is its index.
 * Anything else is an error that lists the names. */
int jsonget_enum(const cJSON *obj, const char *prefix, const char *key,
    const char *const *names, int *out, struct jsonget_err *err);
/* An array of strings (empty ones included, unless JSONGET_GLOBS rejects
 * them), copied into out after clearing it. On an error in an element,
 * out holds the elements before it. */
int jsonget_strings(const cJSON *obj, const char *prefix, const char *key, unsigned flags,
    struct strvec *out, struct jsonget_err *err);

/* Every member of obj is named in allowed or in extra (NULL-terminated
 * lists; extra may be NULL); the first that is not is an error. */
int jsonget_known_keys(const cJSON *obj, const char *prefix, const char *const *allowed,
    const char *const *extra, struct jsonget_err *err);
/* No object anywhere inside v (v included) has the same member twice.
 * cJSON keeps every duplicate and reads the first, so a second "timeout"
 * would be silently ignored. The path named is that of the second one. */
int jsonget_unique_keys(const cJSON *v, const char *prefix, struct jsonget_err *err);

#endif
