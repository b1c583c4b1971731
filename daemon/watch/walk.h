/* Lists the files under a directory of ROOT that the ignore filter lets
 * through (what `watchd run` checks when given no paths or a directory),
 * or counts the directories it lets through. Symlinks are listed, never
 * followed, except those walk_link_unfit refuses. */
#ifndef WD_WALK_H
#define WD_WALK_H

#include <stdbool.h>

#include "lib/strvec.h"

struct ignore;

/* Appends ROOT-relative paths of files under rel ("" = ROOT) to out.
 * 0 or -errno (for rel itself; unreadable subdirectories are skipped). */
int walk_files(const char *root, const char *rel, struct ignore *ig, struct strvec *out);
/* How many directories the watcher would watch under ROOT: ROOT itself
 * and every directory below it that ig lets through (what `doctor` holds
 * against the inotify watch limit). 0 or -errno for ROOT itself. */
int walk_count_dirs(const char *root, struct ignore *ig, size_t *ndirs);

/* True for a symlink (name in dirfd; AT_FDCWD with an absolute path) that
 * must never be handed to a tool as a file: one that leads to a directory
 * or anything else not a regular file, or that loops. A dangling link is
 * not refused: it is a file whose tool reports it missing, as git sees it. */
bool walk_link_unfit(int dirfd, const char *name);

#endif
