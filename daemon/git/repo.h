/* Git access through libgit2: finding the work tree, HEAD, blob ids.
 * One struct repo per thread (libgit2 objects are not thread-safe). */
#ifndef WD_REPO_H
#define WD_REPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/strvec.h"

#define OID_HEX 40

struct repo;

/* Initialises libgit2 once per process (idempotent); waits for an
 * initialisation repo_global_init_start began. */
void repo_global_init(void);
/* Begins that initialisation on a thread (a no-op once begun or done);
 * every other repo_* call waits for it to finish. */
void repo_global_init_start(void);
/* Waits for an initialisation repo_global_init_start began, if any; starts
 * none (before exit: no library destructor may run under it). */
void repo_global_init_wait(void);
/* The work tree containing dir (absolute, no trailing slash, malloc'ed),
 * or NULL when dir is not inside a git work tree. */
char *repo_discover_workdir(const char *dir);
/* True when root is certainly neither a work tree nor a git directory
 * (neither root/.git nor root/HEAD exists): two lstat calls, no libgit2.
 * False means only repo_open can tell. */
bool repo_absent(const char *root);
/* Opens the repository whose work tree is root; NULL when there is none. */
struct repo *repo_open(const char *root);
void repo_close(struct repo *r);	/* NULL-safe */
/* The git directory (absolute, with trailing '/'), borrowed. */
const char *repo_gitdir(const struct repo *r);
/* HEAD's commit id in hex; 0, or -1 when unborn/detached-less/none. */
int repo_head(struct repo *r, char out[OID_HEX + 1]);
/* The blob id git would give the bytes of the file at path (raw bytes, no
 * filters: what the tool reads). A symlink that resolves to a regular file
 * hashes that file's content; a dangling one (or one to a directory) its
 * link text. 0 or -errno. */
int repo_hash_file(const char *path, char out[OID_HEX + 1]);
/* The blob id of a buffer. */
void repo_hash_buf(const void *data, size_t len, char out[OID_HEX + 1]);
/* 1 when path (relative to the work tree) is ignored by .gitignore,
 * .git/info/exclude or core.excludesFile and not tracked; 0 otherwise.
 * is_dir: the path names a directory. */
int repo_ignored(struct repo *r, const char *relpath, bool is_dir);
/* Drops what libgit2 cached while answering repo_ignored (an entry per
 * directory asked about, .gitignore or not); later answers rebuild what
 * they need. For after a full scan. */
void repo_trim(struct repo *r);
/* The index calls below read that index once per struct repo (a snapshot
 * for a one-shot command; repo_refresh reads it again). */
/* The paths staged for commit (added, modified, renamed, type-changed;
 * not deleted, no submodules), from the index git is using: the one
 * GIT_INDEX_FILE names inside a hook, else the repository's. Sorted.
 * 0 or a negative code. */
int repo_staged(struct repo *r, struct strvec *out);
/* Every path in that index (stage 0, no submodules), sorted. */
int repo_index_paths(struct repo *r, struct strvec *out);
/* A stage-0 entry of that index: the blob id and what git recorded of
 * the work tree file when it last hashed it (git keeps 32 bits of size,
 * inode and device). */
struct repo_entry {
	char		 oid[OID_HEX + 1];
	unsigned	 mode;		/* 0100644, 0100755, 0120000 */
	int64_t		 mtime_s, mtime_ns;
	uint32_t	 size, ino;
};
/* 0 and *e for path, or -ENOENT when that index has no stage-0 entry. */
int repo_index_entry(struct repo *r, const char *path, struct repo_entry *e);
/* True when the regular file root/path holds exactly the staged bytes of
 * e: by git's stat data when it matches and the index was written after
 * the file's mtime (else git's "racy" case), otherwise by hashing the
 * file. A symlink or a missing file is false. */
bool repo_worktree_matches(struct repo *r, const char *root, const char *path,
    const struct repo_entry *e);
/* Appends the bytes of path as staged (from_head false: the index above)
 * or as committed at HEAD (from_head true) to out. 0, -ENOENT when it is
 * not there (or HEAD is unborn), or WD_EGIT. */
struct buf;
int repo_read_blob(struct repo *r, const char *path, bool from_head, struct buf *out);
/* Writes the staged bytes of path to dest (creating directories; symlinks
 * are written as links). 0, -ENOENT when not in the index, or -errno. */
int repo_index_checkout(struct repo *r, const char *path, const char *dest);
/* Tracked files that differ between the merge base of HEAD and base and
 * the working tree (what a CI job on a branch should check), not deleted
 * or untracked ones. base: any commit-ish git accepts (branches, remote
 * branches, tags lightweight or annotated, HEAD~3, abbreviated ids).
 * Sorted. merge_base (unless NULL) gets the merge base's id. 0, or
 * WD_EGIT with err saying why (unknown ref, not a commit, shallow clone). */
struct wd_err;
int repo_changed_since(struct repo *r, const char *base, struct strvec *out,
    char merge_base[OID_HEX + 1], struct wd_err *err);
/* Where git looks for hooks (`git rev-parse --git-path hooks`):
 * core.hooksPath (relative to the work tree, "~/" expanded)
 * when set, else the common git dir's hooks/ (shared by linked worktrees).
 * malloc'ed, no trailing '/'. */
char *repo_hooks_dir(struct repo *r);
/* git's comment character for commit messages (core.commentChar; '#'
 * when unset, "auto" or longer than one byte). r may be NULL. */
char repo_comment_char(struct repo *r);
/* Appends the absolute paths of the ignore files outside the work tree's
 * .gitignore files that git reads: GITDIR/info/exclude (of the common
 * directory, for linked worktrees) and core.excludesFile (or git's XDG
 * default when it exists). Files need not exist. 0. */
int repo_rules_files(struct repo *r, struct strvec *out);
/* Drops cached index and ignore rules (after .gitignore or index changes). */
void repo_refresh(struct repo *r);

#endif
