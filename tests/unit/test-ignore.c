/* The ignore filter on a real git repository (made with the git CLI):
 * rules at several levels, info/exclude, config globs, a tracked directory
 * that rules would ignore, and answers kept until the rules change. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/git/repo.h"
#include "daemon/ipc/ipc.h"
#include "daemon/watch/ignore.h"
#include "lib/strvec.h"
#include "lib/xmalloc.h"
#include "test.h"

static void mkdirs(const char *root, const char *const *dirs)
{
	for (size_t i = 0; dirs[i]; i++) {
		char *p = xasprintf("%s/%s", root, dirs[i]);

		ASSERT_OK(mkdir(p, 0755));
		free(p);
	}
}

static char *make_repo(void)
{
	static const char *const dirs[] = {
		"build", "src", "src/gen", "src/keep", "src/a", "src/a/cache", "src/a/b",
		"src/a/b/cache", "logs.d", "vendor", "vendor/tracked", "docs", "docs/out", NULL,
	};
	char tmpl[] = "/tmp/wd-ignore-XXXXXX", *cmd;

	ASSERT_NOT_NULL(mkdtemp(tmpl));
	mkdirs(tmpl, dirs);
	test_put(tmpl, ".gitignore", "build/\n*.d\nvendor/\n");
	test_put(tmpl, "src/.gitignore", "gen/\n!keep/\n");
	test_put(tmpl, "src/a/.gitignore", "cache/\n");
	test_put(tmpl, "vendor/tracked/file", "x\n");
	cmd = xasprintf("cd %s && git init -q . && echo out/ >> .git/info/exclude && "
	    "git add -f vendor/tracked/file && "
	    "git -c user.name=t -c user.email=t@t commit -q -m init", tmpl);
	ASSERT_OK(system(cmd));
	free(cmd);
	return xstrdup(tmpl);
}

TEST_IMPL(ignore_rules_at_every_level)
{
	static const char *const asked[] = {
		"build", "src", "src/gen", "src/keep", "src/a", "src/a/cache", "src/a/b",
		"src/a/b/cache", "logs.d", "vendor", "vendor/tracked", "docs", "docs/out",
		"docs/config-glob", NULL,
	};
	static const int want[] = { 1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 0, 0, 1, 1 };
	char *root = make_repo(), *cmd;
	struct strvec globs = STRVEC_INIT;
	struct repo *repo = repo_open(root);
	struct ignore *ig;

	ASSERT_NOT_NULL(repo);
	strvec_push(&globs, "docs/config-glob");
	ig = ignore_new(&globs, repo);
	for (size_t i = 0; asked[i]; i++)
		if (ignore_path(ig, asked[i], true) != want[i])
			FAIL_("answer for %s: %d", asked[i], !want[i]);
	/* answered once and kept, until the rules change */
	for (size_t i = 0; asked[i]; i++)
		if (ignore_path(ig, asked[i], true) != want[i])
			FAIL_("kept answer for %s: %d", asked[i], !want[i]);
	test_put(root, ".gitignore", "build/\n*.d\nvendor/\ndocs/\n");
	ASSERT(!ignore_path(ig, "docs", true));
	ignore_refresh(ig);
	ASSERT(ignore_path(ig, "docs", true));
	ignore_free(ig);

	repo_close(repo);
	strvec_clear(&globs);
	cmd = xasprintf("rm -rf %s", root);
	ASSERT_OK(system(cmd));
	free(cmd);
	free(root);
	return 0;
}

/* Without a repository: the config's globs and the built-in rules. */
TEST_IMPL(ignore_without_repo)
{
	struct strvec globs = STRVEC_INIT;
	struct ignore *ig;

	strvec_push(&globs, "out/");
	ig = ignore_new(&globs, NULL);
	ASSERT(!ignore_path(ig, "src", true));
	ASSERT(ignore_path(ig, "out", true));
	ASSERT(ignore_path(ig, "a/out/x.c", false));
	ASSERT(ignore_path(ig, ".git", true));
	ASSERT(ignore_path(ig, "src/x.c.swp", false));
	ASSERT(!ignore_path(ig, "src/x.c", false));
	ignore_free(ig);
	strvec_clear(&globs);
	return 0;
}

/* The sync barrier's cookie files are named in daemon/ipc/ipc.h and hidden
 * by a built-in rule of the ignore filter: the two must agree. */
TEST_IMPL(ignore_builtin_hides_cookies)
{
	ASSERT(ignore_builtin(COOKIE_PREFIX "123-1", false));
	ASSERT(!ignore_builtin("watchd-cookie.txt", false));
	return 0;
}

/* The built-in editor patterns, matched without the general glob
 * matcher: each pattern at its edges (empty star, the pattern's own text,
 * one character short) and in a subdirectory. */
TEST_IMPL(ignore_builtin_editor_names)
{
	static const char *const hidden[] = {
		"a.swp", ".swp", "src/x.c.swo", "x.swx", "notes~", "~", ".#lock",
		".#", "#auto#", "##", "4913", "d/4913", "f.py___jb_tmp___",
		"___jb_old___", ".git", "a/.git", ".git/x", "a/.git/x", ".watchd",
		".watchd/x", NULL,
	};
	static const char *const shown[] = {
		"a.swpx", "swp", "a.sw", "x~y", "a.#b", "#", "#a", "a#", "49130",
		"14913", "f.py___jb_tmp__", "a.gitx", ".gitignore", "x/.watchd",
		"README", NULL,
	};

	for (size_t i = 0; hidden[i]; i++)
		ASSERT(ignore_builtin(hidden[i], false));
	for (size_t i = 0; shown[i]; i++)
		ASSERT(!ignore_builtin(shown[i], false));
	ASSERT(!ignore_builtin("4913", true));	/* a directory: only .git and .watchd */
	return 0;
}
