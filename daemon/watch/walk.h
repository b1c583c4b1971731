/* Lists the files under a directory of ROOT that the ignore filter lets
 * through (what `watchd run` checks when given no paths or a directory).
 * Symlinks are listed, never followed, except those walk_link_unfit refuses. */
#ifndef WD_WALK_H
#define WD_WALK_H

#include <stdbool.h>

#include "lib/strvec.h"

struct ignore;

/* Appends ROOT-relative paths of files under rel ("" = ROOT) to out.
 * 0 or -errno (for rel itself; unreadable subdirectories are skipped). */
int walk_files(const char *root, const char *rel, struct ignore *ig, struct strvec *out);

/* True for a symlink (name in dirfd; AT_FDCWD with an absolute path) that
 * must never be handed to a tool as a file: one that leads to a directory
 * or anything else not a regular file, or that loops. A dangling link is
 * not refused: it is a file whose tool reports it missing, as git sees it. */
bool walk_link_unfit(int dirfd, const char *name);

#endif
