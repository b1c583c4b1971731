/* The watched tree: the directories under ROOT that are watched, and the
 * files each holds with the stamp each had when settle last dispatched it.
 * It is the watch stage's state: the watcher builds it and keeps it in
 * step with the disk, settle records dispatch stamps into it, and the
 * scheduler lists it. Pure data: no inotify, no libuv, no I/O. */
#ifndef WD_TREE_H
#define WD_TREE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "lib/dirents.h"

struct buf;
struct strvec;

/* What tree_new and tree_add put in wd: no watch asked for yet. */
#define TREE_WD_NONE		(-2)
/* A watch was asked for and refused (the directory is scanned instead). */
#define TREE_WD_UNWATCHED	(-1)

struct tree_dir {
	struct tree_dir	*parent;	/* NULL: the top, or detached */
	struct tree_dir	*child;		/* first child; siblings follow */
	struct tree_dir	*sibling;
	char		*name;		/* "" for the top */
	struct dirents	 ents;		/* its files: name -> stamp (0: never looked at);
					 * change them through tree_file_* so the count follows */
	bool		 mark;		/* set by its parent's owner; see tree_sweep */
	/* The watcher's, never read here: */
	int		 wd;		/* a watch descriptor, or TREE_WD_* */
	struct timespec	 listed;	/* when ents was last listed */
};

struct tree {
	struct tree_dir	*top;		/* ROOT; never NULL */
	uint64_t	 files;		/* files held by every directory made by this tree,
					 * attached or detached */
};

/* A tree holding ROOT alone. tree_free (NULL-safe) frees it with every
 * directory still attached; detached ones belong to whoever detached them. */
struct tree *tree_new(void);
void tree_free(struct tree *t);

/* ROOT-relative path of d ("" for the top) into b, which is reset first.
 * Under a detached directory it is relative to that directory. */
void tree_path(const struct tree_dir *d, struct buf *b);
/* The child of d named name, or NULL. */
struct tree_dir *tree_child(const struct tree_dir *d, const char *name);
/* The directory at ROOT-relative path rel (len bytes of it; "" is the
 * top), or NULL when the tree has no such directory. */
struct tree_dir *tree_lookup(const struct tree *t, const char *rel, size_t len);
/* A new, empty child of parent (not checked for a namesake: look first). */
struct tree_dir *tree_add(struct tree_dir *parent, const char *name);
/* Unlinks d from its parent (a no-op for the top or a detached d): the
 * subtree keeps its directories and files, and the caller owns it until it
 * attaches or frees it. O(siblings). */
void tree_detach(struct tree_dir *d);
/* Makes detached d a child of parent, renamed to name (NULL: keeps its
 * name). Paths under d change with it; nothing else does. */
void tree_attach(struct tree_dir *parent, struct tree_dir *d, const char *name);

/* Called for each directory of a subtree being freed, after its files and
 * children and before its memory goes. */
typedef void tree_dir_fn(void *arg, struct tree_dir *d);
/* Called with the ROOT-relative path of a file (borrowed, valid during the
 * call). */
typedef void tree_file_fn(void *arg, const char *rel);

/* Frees detached d and everything under it. When file_fn is not NULL it is
 * called for every file, with path (which holds d's path on entry, and
 * again on return) extended by the file's; path may be NULL otherwise.
 * dir_fn (or NULL) sees every directory; files and children go first. */
void tree_free_dir(struct tree *t, struct tree_dir *d, struct buf *path, tree_dir_fn *dir_fn,
    tree_file_fn *file_fn, void *arg);
/* Clears the mark of every child of d. */
void tree_unmark(struct tree_dir *d);
/* Detaches and frees, as tree_free_dir does, every child of d whose mark
 * is not set (path holds d's path). */
void tree_sweep(struct tree *t, struct tree_dir *d, struct buf *path, tree_dir_fn *dir_fn,
    tree_file_fn *file_fn, void *arg);

/* Sets the stamp of file name in d, adding it when new (then true). */
bool tree_file_set(struct tree *t, struct tree_dir *d, const char *name, uint64_t stamp);
/* Removes file name from d; true when it was there. */
bool tree_file_del(struct tree *t, struct tree_dir *d, const char *name);
/* Records what settle saw when it dispatched the file at rel: its stamp,
 * or 0 to forget it. Nothing happens when rel's directory is not in the
 * tree (ignored, or gone since). */
void tree_note(struct tree *t, const char *rel, uint64_t stamp);
/* Forgets every file of d's subtree. */
void tree_forget_files(struct tree *t, struct tree_dir *d);

/* A new listing of d: tree_files_take moves d's files into *old (the
 * caller releases it) and leaves d empty; tree_file_append adds the files
 * listed, in any order; tree_files_sort puts them in order, which the
 * other calls need (tree_file_set, tree_note). */
void tree_files_take(struct tree *t, struct tree_dir *d, struct dirents *old);
static inline void tree_file_append(struct tree *t, struct tree_dir *d, const char *name,
    uint64_t stamp);
void tree_files_sort(struct tree_dir *d);

/* Calls fn for every file of d's subtree, d's own first, then each
 * child's. path holds d's path on entry and again on return. */
void tree_each_file(const struct tree_dir *d, struct buf *path, tree_file_fn *fn, void *arg);
/* Appends to out the ROOT-relative path of every file in the tree for
 * which want(arg, rel) is true (want NULL: all). Unsorted. */
void tree_list_files(const struct tree *t, bool (*want)(const void *arg, const char *rel),
    const void *arg, struct strvec *out);

/* Once per file of every listing: inline, so the scan pays no call for it. */
static inline void tree_file_append(struct tree *t, struct tree_dir *d, const char *name,
    uint64_t stamp)
{
	dirents_append(&d->ents, name, stamp);
	t->files++;
}

#endif
