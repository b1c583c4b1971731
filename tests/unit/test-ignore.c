/* The ignore filter on a real git repository (made with the git CLI):
 * answers asked ahead on the helper thread are the answers ignore_path
 * gives, for rules at several levels, info/exclude, config globs and a
 * tracked directory that rules would ignore. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/git/repo.h"
#include "daemon/ipc/ipc.h"
#include "daemon/watch/ignore.h"
#include "lib/strvec.h"
#include "lib/xmalloc.h"
#include "test.h"

static void put(const char *root, const char *rel, const char *text)
{
	char *p = xasprintf("%s/%s", root, rel);
	FILE *f = fopen(p, "w");

	ASSERT_NOT_NULL(f);
	fputs(text, f);
	fclose(f);
	free(p);
}

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
	put(tmpl, ".gitignore", "build/\n*.d\nvendor/\n");
	put(tmpl, "src/.gitignore", "gen/\n!keep/\n");
	put(tmpl, "src/a/.gitignore", "cache/\n");
	put(tmpl, "vendor/tracked/file", "x\n");
	cmd = xasprintf("cd %s && git init -q . && echo out/ >> .git/info/exclude && "
	    "git add -f vendor/tracked/file && "
	    "git -c user.name=t -c user.email=t@t commit -q -m init", tmpl);
	ASSERT_OK(system(cmd));
	free(cmd);
	return xstrdup(tmpl);
}

TEST_IMPL(ignore_ahead_matches_direct)
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
	struct ignore *direct, *ahead;
	long tickets[32];

	ASSERT_NOT_NULL(repo);
	strvec_push(&globs, "docs/config-glob");
	direct = ignore_new(&globs, repo);
	for (size_t i = 0; asked[i]; i++)
		if (ignore_path(direct, asked[i], true) != want[i])
			FAIL_("direct answer for %s: %d", asked[i], !want[i]);
	ignore_free(direct);

	ahead = ignore_new(&globs, repo);
	ignore_ahead_start(ahead);
	/* asked last first, as a scan does, then taken in order */
	for (size_t i = sizeof(want) / sizeof(want[0]); i-- > 0;)
		tickets[i] = ignore_ahead_ask(ahead, asked[i]);
	ASSERT_EQ(tickets[13], -1);	/* a config glob needs no git lookup */
	ASSERT(tickets[0] >= 0);
	for (size_t i = 0; asked[i]; i++)
		if (ignore_ahead_take(ahead, asked[i], tickets[i]) != want[i])
			FAIL_("answer asked ahead for %s: %d", asked[i], !want[i]);
	/* answered ahead and kept: asking again needs no lookup */
	ASSERT_EQ(ignore_ahead_ask(ahead, "src/gen"), -1);
	ASSERT(ignore_path(ahead, "src/gen", true));
	/* questions left unanswered at stop are dropped without a leak */
	ignore_ahead_ask(ahead, "docs");
	ignore_ahead_stop(ahead);
	ASSERT(!ignore_path(ahead, "docs", true));
	ignore_free(ahead);

	repo_close(repo);
	strvec_clear(&globs);
	cmd = xasprintf("rm -rf %s", root);
	ASSERT_OK(system(cmd));
	free(cmd);
	free(root);
	return 0;
}

/* Without a repository nothing is asked ahead: every answer comes at the
 * take, from the globs and built-in rules. */
TEST_IMPL(ignore_ahead_without_repo)
{
	struct strvec globs = STRVEC_INIT;
	struct ignore *ig;

	strvec_push(&globs, "out/");
	ig = ignore_new(&globs, NULL);
	ignore_ahead_start(ig);
	ASSERT_EQ(ignore_ahead_ask(ig, "src"), -1);
	ASSERT(!ignore_ahead_take(ig, "src", -1));
	ASSERT(ignore_ahead_take(ig, "out", -1));
	ASSERT(ignore_ahead_take(ig, ".git", -1));
	ignore_ahead_stop(ig);
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
