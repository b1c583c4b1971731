/* Comma-separated word lists in environment variables (a=b,c,d), read
 * where a program decides something once, at start. */
#ifndef WD_ENVLIST_H
#define WD_ENVLIST_H

#include <stdbool.h>

/* True when the environment variable var holds word as one of its
 * comma-separated items. False when var is unset or empty. */
bool envlist_has(const char *var, const char *word);

#endif
