/* Ignore filter. Directory answers are cached (a directory is asked about
 * once per scan, and a miss costs a few libgit2 stats); file answers are
 * computed on demand, since only changed files are ever asked about.
 *
 * libgit2 answers "is this directory ignored?" by stating the .gitignore
 * of every ancestor and info/exclude again, about 20 us a directory. A
 * helper thread once asked it ahead while the scan listed other
 * directories; on a 100,000-file git work tree that made start-up slower
 * (228 against 186 ms to "watching", make bench, 2026-12-03): handing each
 * question over cost more than it saved, so the scan asks here, in line. */
#include <stdlib.h>
#include <string.h>

#include "daemon/git/repo.h"
#include "ignore.h"
#include "lib/glob.h"
#include "lib/hmap.h"
#include "lib/xmalloc.h"

struct ignore {
	const struct strvec	*globs;
	struct repo		*repo;
	struct hmap		 dirs;	/* rel dir -> (void *)1 ignored, 2 not */
};

/* Editor droppings: vim swap/backup and its 4913 write probe, emacs lock
 * and autosave files, JetBrains safe-write temporaries. At most one '*'
 * each and no other glob character (one_star): every file event of a
 * burst is asked about all of them, and the general matcher cost a tenth
 * of the loop thread's time over 20,000 rewrites at full speed. */
static const char *const builtin_files[] = {
	"*.swp", "*.swo", "*.swx", "*~", ".#*", "#*#", "4913",
	"*___jb_tmp___", "*___jb_old___",
	".watchd-cookie-*",	/* a sync cookie (COOKIE_PREFIX, daemon/ipc/ipc.h) a
				 * crash left behind */
	NULL,
};

/* name against a pattern with at most one '*', which matches any run of
 * characters (a base name holds no '/'). */
static bool one_star(const char *pat, const char *name, size_t len)
{
	const char *star = strchr(pat, '*');
	size_t pre, suf;

	if (star == NULL)
		return strcmp(pat, name) == 0;
	pre = (size_t)(star - pat);
	suf = strlen(star + 1);
	return len >= pre + suf && memcmp(name, pat, pre) == 0 &&
	    memcmp(name + len - suf, star + 1, suf) == 0;
}

bool ignore_builtin(const char *rel, bool is_dir)
{
	const char *base = strrchr(rel, '/');
	size_t len;

	base = base ? base + 1 : rel;
	if (strcmp(base, ".git") == 0 || strcmp(rel, ".watchd") == 0 ||
	    strncmp(rel, ".watchd/", 8) == 0 || strncmp(rel, ".git/", 5) == 0 ||
	    strstr(rel, "/.git/") != NULL)
		return true;
	if (is_dir)
		return false;
	len = strlen(base);
	for (size_t i = 0; builtin_files[i]; i++)
		if (one_star(builtin_files[i], base, len))
			return true;
	return false;
}

struct ignore *ignore_new(const struct strvec *globs, struct repo *repo)
{
	struct ignore *ig = xcalloc(1, sizeof(*ig));

	ig->globs = globs;
	ig->repo = repo;
	return ig;
}

void ignore_free(struct ignore *ig)
{
	if (ig == NULL)
		return;
	hmap_release(&ig->dirs);
	free(ig);
}

void ignore_trim(struct ignore *ig)
{
	if (ig == NULL)
		return;
	hmap_release(&ig->dirs);
	repo_trim(ig->repo);
}

void ignore_refresh(struct ignore *ig)
{
	hmap_release(&ig->dirs);
	repo_refresh(ig->repo);
}

static bool by_globs(struct ignore *ig, const char *rel, bool is_dir)
{
	for (size_t i = 0; ig->globs && i < ig->globs->n; i++) {
		const char *g = ig->globs->v[i];

		if (is_dir ? glob_covers_dir(g, rel) : glob_match_or_parent(g, rel))
			return true;
	}
	return false;
}

bool ignore_path(struct ignore *ig, const char *rel, bool is_dir)
{
	void *cached;
	bool ign;

	if (is_dir && (cached = hmap_gets(&ig->dirs, rel)) != NULL)
		return cached == (void *)1;
	ign = ignore_builtin(rel, is_dir) || by_globs(ig, rel, is_dir) ||
	    (ig->repo && repo_ignored(ig->repo, rel, is_dir) == 1);
	if (is_dir)
		hmap_puts(&ig->dirs, rel, ign ? (void *)1 : (void *)2);
	return ign;
}

bool ignore_tracked_path(struct ignore *ig, const char *rel)
{
	return ignore_builtin(rel, false) || by_globs(ig, rel, false);
}

bool ignore_is_rules_file(const char *rel)
{
	const char *base = strrchr(rel, '/');

	base = base ? base + 1 : rel;
	return strcmp(base, ".gitignore") == 0 || strcmp(rel, ".git/info/exclude") == 0;
}

void ignore_rules_files(struct ignore *ig, struct strvec *out)
{
	if (ig->repo)
		repo_rules_files(ig->repo, out);
}
