/* What watchd never dispatches and never watches: built-in defaults
 * (.git, .watchd, editor swap and backup files), the config's "ignore"
 * globs, and git's ignore rules (.gitignore at every level,
 * .git/info/exclude, core.excludesFile) evaluated by libgit2. Tracked
 * files are never ignored by git rules. */
#ifndef WD_IGNORE_H
#define WD_IGNORE_H

#include <stdbool.h>

#include "lib/strvec.h"

struct ignore;
struct repo;

/* globs: borrowed, must outlive the filter; repo may be NULL (not git). */
struct ignore *ignore_new(const struct strvec *globs, struct repo *repo);
void ignore_free(struct ignore *ig);
/* rel: path relative to ROOT, no leading "./". is_dir: it names a
 * directory (then an ignored answer means: do not watch or descend). */
bool ignore_path(struct ignore *ig, const char *rel, bool is_dir);
/* The same for a file git tracks: .gitignore never applies to one, so only
 * the built-in rules and the config's globs are asked (no I/O). */
bool ignore_tracked_path(struct ignore *ig, const char *rel);
/* True for names watchd makes itself and for editor droppings: cheap,
 * no git lookup. */
bool ignore_builtin(const char *rel, bool is_dir);
/* Forgets the answers kept for directories (and what libgit2 kept to give
 * them) after a full scan: the watcher's tree holds the outcome, and ~80
 * bytes per directory are better given back. */
void ignore_trim(struct ignore *ig);
/* Forgets every cached answer: a .gitignore, an exclude file or the
 * config's ignore list changed. */
void ignore_refresh(struct ignore *ig);
/* True when rel is a file whose change alters ignore rules. */
bool ignore_is_rules_file(const char *rel);
/* Appends the absolute paths of the rules files that live outside the
 * tree's own .gitignore files (info/exclude, core.excludesFile): what the
 * watcher must watch besides the tree. */
void ignore_rules_files(struct ignore *ig, struct strvec *out);

#endif
