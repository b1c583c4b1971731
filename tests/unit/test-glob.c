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

/* The old matcher tried every split of the stars: exponential in their
 * number. These bound the work of one call by steps, not by time. */
static unsigned long steps_of(const char *pattern, const char *path, bool want)
{
	unsigned long before = glob_steps();

	ASSERT_EQ(glob_match(pattern, path), want);
	return glob_steps() - before;
}

TEST_IMPL(glob_pathological_bounded)
{
	char name[64], deep[128], hit[64];

	memset(name, 'a', 44);
	name[44] = '\0';
	/* a few hundred steps where the old matcher took 2.6 s */
	ASSERT(steps_of("*a*a*a*a*a*a*a*a*b", name, false) < 500);
	memcpy(hit, name, 45);
	hit[43] = 'b';
	ASSERT(steps_of("*a*a*a*a*a*a*a*a*b", hit, true) < 500);
	snprintf(deep, sizeof(deep), "x/y/z/%s", name);
	ASSERT(steps_of("**/*a*a*a*a*a*a*a*a*b", deep, false) < 500);
	ASSERT(steps_of("x/**/*a*a*a*a*a*a*a*a*b", deep, false) < 500);
	ASSERT(steps_of("**a**a**a**a**a**a**a**a**b", deep, false) < 500);
	/* a double star after a letter cannot abort the ones before it (a
	 * later start would try zero directories anew): polynomial, still
	 * bounded */
	ASSERT(steps_of("**/a**/a**/a**/a**/b", "a/a/a/a/a/a/a/a/a/a/a/a/c", false) < 20000);
	snprintf(deep, sizeof(deep), "a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/c");
	ASSERT(steps_of("**/a/**/a/**/a/**/a/**/a/**/b", deep, false) < 500);
	ASSERT(steps_of("*?*?*?*?*?*?*?*?*?*?*?b", name, false) < 500);
	return 0;
}

/* Patterns and paths longer than any fixed buffer still match: a long
 * name is not silently "no match". */
TEST_IMPL(glob_long_inputs)
{
	size_t n = 10000;
	char *dir = malloc(n + 16), *path = malloc(2 * n + 16), *pat = malloc(n + 16);

	memset(dir, 'd', n);
	dir[n] = '\0';
	snprintf(path, 2 * n + 16, "%s/x.o", dir);
	snprintf(pat, n + 16, "%s/", dir);
	ASSERT(glob_match(pat, path));
	ASSERT(glob_covers_dir(pat, dir));
	ASSERT(glob_match_or_parent(pat, path));
	ASSERT(glob_match_or_parent("*.o", path));
	ASSERT(glob_match_or_parent(dir, path));
	snprintf(pat, n + 16, "%s/**", dir);
	ASSERT(glob_covers_dir(pat, dir));
	ASSERT(glob_match("**/*.o", path));
	ASSERT(!glob_match("**/*.c", path));
	free(dir);
	free(path);
	free(pat);
	return 0;
}

/* The plain backtracking matcher the bounded one replaced: exponential,
 * but the reference of what matches. */
static bool ref_match(const char *p, const char *s)
{
	for (;;) {
		switch (*p) {
		case '\0':
			return *s == '\0';
		case '*':
			if (p[1] == '*') {
				const char *rest = p + 2;

				if (*rest == '/') {
					if (ref_match(rest + 1, s))
						return true;
					for (; *s; s++)
						if (*s == '/' && ref_match(rest + 1, s + 1))
							return true;
					return false;
				}
				if (*rest == '\0')
					return true;
				for (; *s; s++)
					if (ref_match(rest, s))
						return true;
				return ref_match(rest, s);
			}
			p++;
			for (;; s++) {
				if (ref_match(p, s))
					return true;
				if (*s == '\0' || *s == '/')
					return false;
			}
		case '?':
			if (*s == '\0' || *s == '/')
				return false;
			p++;
			s++;
			break;
		default:
			if (*p != *s)
				return false;
			p++;
			s++;
		}
	}
}

/* Giving up early never changes an answer: random short patterns over
 * `*`, `**`, `?`, '/' and two letters agree with the reference. */
TEST_IMPL(glob_bounded_agrees_with_reference)
{
	static const char *const tok[] = { "a", "b", "/", "*", "**", "?", "**/", "/**/" };
	unsigned seed = 12345;
	char pat[64], path[32];

	for (int iter = 0; iter < 200000; iter++) {
		size_t np = 0, ns = 0;
		int k;

		seed = seed * 1103515245u + 12345u;
		k = 1 + (int)((seed >> 16) % 7);
		pat[0] = '\0';
		for (int i = 0; i < k; i++) {
			seed = seed * 1103515245u + 12345u;
			const char *t = tok[(seed >> 16) % 8];

			memcpy(pat + np, t, strlen(t) + 1);
			np += strlen(t);
		}
		seed = seed * 1103515245u + 12345u;
		k = (int)((seed >> 16) % 10);
		for (int i = 0; i < k; i++) {
			seed = seed * 1103515245u + 12345u;
			path[ns++] = "aab/"[(seed >> 16) % 4];
		}
		path[ns] = '\0';
		/* anchored form: the leading '/' makes glob_match use pat as is */
		char full[72];

		snprintf(full, sizeof(full), "/%s", pat);
		if (pat[np - 1] == '/')
			continue;	/* the trailing-'/' rewrite is tested above */
		if (glob_match(full, path) != ref_match(pat, path))
			FAIL_("pattern \"%s\" path \"%s\": %d, reference %d", pat, path,
			    glob_match(full, path), ref_match(pat, path));
	}
	return 0;
}
