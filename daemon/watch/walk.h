/* Lists the files under a directory of ROOT that the ignore filter lets
 * through (what `watchd run` checks when given no paths or a directory).
 * Symlinks are listed, never followed. */
#ifndef WD_WALK_H
#define WD_WALK_H

#include "lib/strvec.h"

struct ignore;

/* Appends ROOT-relative paths of files under rel ("" = ROOT) to out.
 * 0 or -errno (for rel itself; unreadable subdirectories are skipped). */
int walk_files(const char *root, const char *rel, struct ignore *ig, struct strvec *out);

#endif
