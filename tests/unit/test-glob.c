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

/* `*` and `?` stay inside one segment; `**` spans any number of them,
 * zero included, and a pattern of `**` alone matches every path. */
TEST_IMPL(glob_segments_and_doublestar)
{
	ASSERT(!glob_match("x/a*b", "x/a/b"));
	ASSERT(glob_match("x/a*b", "x/ab"));
	ASSERT(glob_match("x/a*b", "x/a-long-b"));
	ASSERT(!glob_match("x/a?b", "x/a/b"));
	ASSERT(!glob_match("x/?", "x/"));
	ASSERT(glob_match("**", "a"));
	ASSERT(glob_match("**", "a/b/c"));
	ASSERT(glob_match("**/x", "x"));
	ASSERT(glob_match("**/x", "a/b/x"));
	ASSERT(!glob_match("**/x", "a/b/xy"));
	ASSERT(glob_match("a/**/b/**/c", "a/b/c"));
	ASSERT(glob_match("a/**/b/**/c", "a/1/b/2/3/c"));
	ASSERT(!glob_match("a/**/b/**/c", "a/1/c"));
	ASSERT(glob_match("src/**/*.c", "src/x.c"));
	ASSERT(glob_match("src/**/*.c", "src/a/b/x.c"));
	ASSERT(!glob_match("src/**/*.c", "src/a/b/x.h"));
	ASSERT(!glob_match("src/**", "src"));		/* the contents, not the folder */
	return 0;
}

/* [..]: sets, ranges, `!` and `^` negate, a leading ']' is a member, a
 * backslash escapes; a class never matches '/'. An unclosed '[' is a
 * literal when matching (glob_check is what reports it). */
TEST_IMPL(glob_classes)
{
	ASSERT(glob_match("f[0-9].txt", "f7.txt"));
	ASSERT(!glob_match("f[0-9].txt", "fx.txt"));
	ASSERT(glob_match("f[a-cx-z]", "fy"));
	ASSERT(!glob_match("f[a-cx-z]", "fm"));
	ASSERT(glob_match("f[^0-9]", "fx"));
	ASSERT(!glob_match("f[^0-9]", "f5"));
	ASSERT(glob_match("f[!abc]", "fd"));
	ASSERT(!glob_match("f[!abc]", "fa"));
	ASSERT(glob_match("f[]x]", "f]"));
	ASSERT(glob_match("f[]x]", "fx"));
	ASSERT(!glob_match("f[]x]", "fy"));
	ASSERT(glob_match("f[\\]]", "f]"));
	ASSERT(!glob_match("x/a[/]b", "x/a/b"));
	ASSERT(!glob_match("x/a[!b]c", "x/a/c"));
	ASSERT(!glob_match("f[a-z]", "f"));		/* a class takes one character */
	ASSERT(glob_match("a[b", "a[b"));
	ASSERT(!glob_match("a[b", "ab"));
	ASSERT(glob_match("a\\*", "a*"));		/* escaped: no wildcard */
	ASSERT(!glob_match("a\\*", "ab"));
	ASSERT(glob_match("a\\?", "a?"));
	ASSERT(!glob_match("a\\?", "ab"));
	return 0;
}

/* Without '/' a pattern matches the basename at any depth; with a '/' it
 * is anchored at ROOT, a leading '/' only anchors. A trailing '/' means a
 * directory: glob_match sees its contents, never a file of that name. */
TEST_IMPL(glob_anchoring_and_trailing_slash)
{
	ASSERT(glob_match("Makefile", "Makefile"));
	ASSERT(glob_match("Makefile", "a/b/Makefile"));
	ASSERT(!glob_match("Makefile", "a/Makefile.in"));
	ASSERT(glob_match("src/*.py", "src/a.py"));
	ASSERT(!glob_match("src/*.py", "x/src/a.py"));
	ASSERT(glob_match("/src/*.py", "src/a.py"));
	ASSERT(!glob_match("/src/*.py", "x/src/a.py"));
	ASSERT(glob_match("/*.md", "README.md"));
	ASSERT(!glob_match("/*.md", "docs/a.md"));
	ASSERT(glob_match("build/", "build/x.o"));
	ASSERT(glob_match("build/", "build/a/b/x.o"));
	ASSERT(!glob_match("build/", "build"));
	ASSERT(!glob_match("build/", "buildx/y"));
	ASSERT(!glob_match("", "a"));
	ASSERT(!glob_match("", ""));
	return 0;
}

/* Ignore semantics: a path is ignored when it or one of its parent
 * directories matches, at the depth the pattern allows. */
TEST_IMPL(glob_match_or_parent_depths)
{
	ASSERT(glob_match_or_parent("*.log", "a/b.log"));
	ASSERT(!glob_match_or_parent("*.log", "a/b.log.txt"));
	ASSERT(glob_match_or_parent("*.d", "x/y.d/z.c"));	/* a matching folder */
	ASSERT(glob_match_or_parent("logs", "logs"));
	ASSERT(glob_match_or_parent("logs", "logs/x/y"));
	ASSERT(glob_match_or_parent("logs", "a/logs/x"));
	ASSERT(!glob_match_or_parent("logs", "a/logsx/y"));
	ASSERT(glob_match_or_parent("build/", "build/x.o"));
	ASSERT(glob_match_or_parent("build/", "a/build/x.o"));
	ASSERT(glob_match_or_parent("src/gen", "src/gen/a.c"));
	ASSERT(!glob_match_or_parent("src/gen", "x/src/gen/a.c"));
	ASSERT(glob_match_or_parent("/build", "build/x"));
	ASSERT(!glob_match_or_parent("/build", "a/build/x"));
	ASSERT(glob_match_or_parent("out/**", "out/a/b"));
	ASSERT(!glob_match_or_parent("out/**", "src/out.c"));
	ASSERT(!glob_match_or_parent("", "a/b"));
	return 0;
}

/* glob_covers_dir: the whole directory is ignored, so it need not be
 * watched; a pattern that only matches some of its files does not. */
TEST_IMPL(glob_covers_dir_forms)
{
	ASSERT(glob_covers_dir("build//", "build"));
	ASSERT(glob_covers_dir("**/build", "a/b/build"));
	ASSERT(glob_covers_dir("/build/**", "build"));
	/* a '/' before the end anchors, as in .gitignore: "build/" with two
	 * stars is ROOT's build only, as glob_match says for its files */
	ASSERT(!glob_covers_dir("build/**", "a/build"));
	ASSERT(!glob_match("build/**", "a/build/x"));
	ASSERT(!glob_match_or_parent("build/**", "a/build/x"));
	ASSERT(glob_match_or_parent("build/**", "build/x/y"));
	ASSERT(glob_covers_dir("build/", "a/build"));
	ASSERT(glob_covers_dir("src/gen/**", "src/gen"));
	ASSERT(!glob_covers_dir("src/gen/**", "a/src/gen"));
	ASSERT(!glob_covers_dir("/build/**", "a/build"));
	ASSERT(!glob_covers_dir("build/*.o", "build"));
	ASSERT(glob_covers_dir("**", "any/dir"));		/* everything is ignored */
	ASSERT(!glob_covers_dir("", "build"));
	ASSERT(!glob_covers_dir("/", "build"));
	return 0;
}

/* glob_check: NULL for a valid pattern, else a static message. */
TEST_IMPL(glob_check_errors)
{
	ASSERT_STR_EQ(glob_check(""), "empty pattern");
	ASSERT_CONTAINS(glob_check("a[b"), "unclosed '['");
	ASSERT_CONTAINS(glob_check("src/[a-"), "unclosed '['");
	ASSERT_CONTAINS(glob_check("[]"), "unclosed '['");	/* ']' first is a member */
	ASSERT_CONTAINS(glob_check("[!]"), "unclosed '['");
	ASSERT_NULL(glob_check("[]]"));
	ASSERT_NULL(glob_check("a\\[b"));			/* escaped */
	ASSERT_NULL(glob_check("x/[a-z]*/**/?.c"));
	ASSERT_NULL(glob_check("build/"));
	ASSERT_NULL(glob_check("/top"));
	ASSERT_NULL(glob_check("]"));
	return 0;
}
