/* Glob semantics: *, ?, [..], **, basename patterns, ignore parents. */
#include "lib/glob.h"
#include "test.h"

TEST_IMPL(glob_basic)
{
	ASSERT(glob_match("*.py", "a.py"));
	ASSERT(glob_match("*.py", "src/deep/a.py"));	/* basename rule */
	ASSERT(!glob_match("*.py", "a.pyc"));
	ASSERT(glob_match("src/*.py", "src/a.py"));
	ASSERT(!glob_match("src/*.py", "src/x/a.py"));
	ASSERT(glob_match("a?c", "abc"));
	ASSERT(!glob_match("a?c", "a/c"));
	ASSERT(glob_match("[ab]x", "bx"));
	ASSERT(!glob_match("[!ab]x", "bx"));
	ASSERT(glob_match("[a-c]x", "cx"));
	ASSERT(glob_match("/top.txt", "top.txt"));
	ASSERT(!glob_match("/top.txt", "d/top.txt"));
	return 0;
}

TEST_IMPL(glob_doublestar)
{
	ASSERT(glob_match("**/*.py", "a.py"));
	ASSERT(glob_match("**/*.py", "x/y/z/a.py"));
	ASSERT(glob_match("src/**", "src/a/b"));
	ASSERT(!glob_match("src/**", "srcx/a"));
	ASSERT(glob_match("src/**/test_*.py", "src/test_a.py"));
	ASSERT(glob_match("src/**/test_*.py", "src/a/b/test_a.py"));
	ASSERT(!glob_match("src/**/test_*.py", "lib/test_a.py"));
	ASSERT(glob_match("**/*.Tests.ps1", "t/Foo.Tests.ps1"));
	ASSERT(glob_match("a/**/b", "a/b"));
	ASSERT(glob_match("a/**/b", "a/x/y/b"));
	return 0;
}

TEST_IMPL(glob_ignore_dirs)
{
	ASSERT(glob_covers_dir("build/**", "build"));
	ASSERT(glob_covers_dir("build", "build"));
	ASSERT(glob_covers_dir("build/", "build"));
	ASSERT(glob_covers_dir("node_modules", "a/node_modules"));
	ASSERT(!glob_covers_dir("*.py", "src"));
	ASSERT(glob_match_or_parent("build/**", "build/x/y.o"));
	ASSERT(glob_match_or_parent("node_modules", "a/node_modules/x/y.js"));
	ASSERT(!glob_match_or_parent("build", "src/buildx.c"));
	ASSERT_NULL(glob_check("**/*.py"));
	ASSERT_NOT_NULL(glob_check(""));
	ASSERT_NOT_NULL(glob_check("a[b"));
	return 0;
}
