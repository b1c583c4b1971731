/* Terminal colour, decided once per stream (stdout, stderr): never on a
 * pipe or a file unless asked. Until color_setup runs, colour is off, so a
 * library user (a unit test, the daemon's log) never gets escapes. */
#ifndef WD_COLOR_H
#define WD_COLOR_H

#include <stdbool.h>

enum color_mode { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

enum color_kind {
	COLOR_FAIL,	/* red: a failing gate or run */
	COLOR_PASS,	/* green */
	COLOR_PATH,	/* dim: file names */
	COLOR_WARN,	/* yellow: could not judge (missing, timeout, error) */
};

/* "auto", "always" or "never": 0, else -1. */
int color_mode_parse(const char *s, enum color_mode *out);
/* Decides for fd 1 and 2 now. auto: NO_COLOR set and non-empty disables,
 * else CLICOLOR_FORCE set and not "0" forces, else a terminal (isatty,
 * TERM not "dumb") gets colour. always and never win over the environment. */
void color_setup(enum color_mode mode);
bool color_enabled(int fd);
/* The escape that starts kind on fd, or "" when fd has no colour. */
const char *color_on(int fd, enum color_kind kind);
/* The escape that ends it, or "". */
const char *color_off(int fd);
/* color_on for a status word (color_of_status), or "". */
const char *color_on_status(int fd, const char *status);
/* The colour a gate or run status word gets: pass green, fail red, a
 * problem (error, timeout, missing, interrupted) yellow; others none (-1). */
int color_of_status(const char *status);

#endif
