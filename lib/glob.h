/* Glob matching for include/exclude/ignore patterns, against paths relative
 * to ROOT. `*` and `?` never cross '/', `[...]` is a class (`!` or `^`
 * negates), `**` matches any number of directories. A pattern without '/'
 * matches the basename at any depth, as in .gitignore; a leading '/'
 * anchors it to ROOT. */
#ifndef WD_GLOB_H
#define WD_GLOB_H

#include <stdbool.h>
#include <stddef.h>

bool glob_match(const char *pattern, const char *path);
/* True when path or one of its parent directories matches: the semantics of
 * an ignore pattern (ignoring "build" ignores everything under it). */
bool glob_match_or_parent(const char *pattern, const char *path);
/* True when pattern ignores the directory dir as a whole, so it need not be
 * watched or scanned (build, build/ and build/ followed by two stars). */
bool glob_covers_dir(const char *pattern, const char *dir);
/* Pattern characters compared by this thread's matches so far: tests bound
 * the work of one call by the difference (the matcher gives up early, as
 * git's wildmatch does, instead of trying every split of the stars). */
unsigned long glob_steps(void);
/* NULL when valid, else a static message ("empty pattern", "unclosed '['"). */
const char *glob_check(const char *pattern);

#endif
