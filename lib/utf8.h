/* JSON must be UTF-8, Linux file names are bytes. Before any JSON leaves
 * watchd, invalid sequences become U+FFFD (the ledger keeps the bytes). */
#ifndef WD_UTF8_H
#define WD_UTF8_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

bool utf8_valid(const char *s, size_t len);
/* A malloc'ed copy with each invalid byte replaced by U+FFFD. */
char *utf8_repair(const char *s);
/* Repairs every string value and key in the tree, in place. */
void utf8_repair_json(cJSON *v);

#endif
