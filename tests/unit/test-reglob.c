/* pre-commit files/exclude regexes as globs: exact translations, and the
 * regexes that have none; each exact one is checked against paths both
 * ways with the real glob matcher. */
#include <stdio.h>
#include <string.h>

#include "lib/glob.h"
#include "lib/reglob.h"
#include "test.h"

/* The globs of re joined with spaces, or "!" + the reason it is inexact. */
static char *tr(const char *re)
{
	static char out[1024];
	struct strvec v = STRVEC_INIT;
	const char *why = NULL;

	if (reglob_translate(re, &v, &why) != 0) {
		snprintf(out, sizeof(out), "!%s", why);
		return out;
	}
	out[0] = '\0';
	for (size_t i = 0; i < v.n; i++) {
		if (i)
			strcat(out, " ");
		strcat(out, v.v[i]);
	}
	strvec_clear(&v);
	return out;
}

static int any_match(const char *re, const char *path)
{
	struct strvec v = STRVEC_INIT;
	const char *why;
	int m = 0;

	if (reglob_translate(re, &v, &why) != 0)
		return -1;
	for (size_t i = 0; i < v.n; i++)
		m |= glob_match(v.v[i], path);
	strvec_clear(&v);
	return m;
}

TEST_IMPL(reglob_suffixes_and_prefixes)
{
	ASSERT_STR_EQ(tr("\\.py$"), "**/*.py");
	ASSERT_STR_EQ(tr("^src/.*\\.c$"), "src/**/*.c");
	ASSERT_STR_EQ(tr("\\.(c|h)$"), "**/*.c **/*.h");
	ASSERT_STR_EQ(tr("\\.pyi?$"), "**/*.py **/*.pyi");
	ASSERT_STR_EQ(tr("^docs/"), "docs/**");
	ASSERT_STR_EQ(tr("^(profiling/|tests/data/)"), "profiling/** tests/data/**");
	ASSERT_STR_EQ(tr("^pdm\\.lock$"), "/pdm.lock");
	ASSERT_STR_EQ(tr("^setup\\.py$"), "/setup.py");
	ASSERT_STR_EQ(tr("^[^/]+\\.py$"), "/?*.py");
	ASSERT_STR_EQ(tr("^src/[^/]*\\.c$"), "src/*.c");
	ASSERT_STR_EQ(tr("^.*\\.py$"), "**/*.py");
	ASSERT_STR_EQ(tr("^tests/.+"), "tests/**");
	ASSERT_STR_EQ(tr("(^|/)tests/.+\\.py$"),
	    "!a '.+' that does not end the pattern right after a '/'");
	ASSERT_STR_EQ(tr("^crates/.*/resources/mdtest/.*\\.md$"), "crates/**/*/resources/mdtest/**/*.md");
	ASSERT_STR_EQ(tr("^((crates/corpus/.*)|(.*\\.toml))$"), "**/*.toml crates/corpus/**");
	ASSERT_STR_EQ(tr("(CHANGES|the_basics)\\.md$"), "**/*CHANGES.md **/*the_basics.md");
	ASSERT_STR_EQ(tr("crates/corpus/"), "**/*crates/corpus/**");
	ASSERT_STR_EQ(tr("^(?:src|lib)/(?P<n>a|b)\\.[ch]$"),
	    "lib/a.[ch] lib/b.[ch] src/a.[ch] src/b.[ch]");
	return 0;
}

TEST_IMPL(reglob_everything_and_nothing)
{
	ASSERT_STR_EQ(tr(""), "**");
	ASSERT_STR_EQ(tr(".*"), "**");
	ASSERT_STR_EQ(tr("^$"), "");
	/* an unanchored end inside a segment: the segment, or below it */
	ASSERT_STR_EQ(tr("^setup"), "/setup* setup*/**");
	/* inside a segment, .* stays in it or crosses into deeper ones */
	ASSERT_STR_EQ(tr("^a.*b$"), "/a*b a*/**/*b");
	ASSERT_STR_EQ(tr("^a.*/b$"), "a*/**/b");
	ASSERT_STR_EQ(tr("^a\\*b$"), "/a\\*b");
	return 0;
}

TEST_IMPL(reglob_verbose)
{
	ASSERT_STR_EQ(tr("(?x)^(\n  docs/formatter/black\\.md  # one\n  | src/x/\n)$"),
	    "docs/formatter/black.md");
	ASSERT_STR_EQ(tr("(?x)^(\n  a/.*|\n  b/[ ]c\\.py\n)$"), "a/** b/[ ]c.py");
	return 0;
}

TEST_IMPL(reglob_inexact)
{
	ASSERT_CONTAINS(tr("^docs/conf.py$"), "'.'");
	ASSERT_CONTAINS(tr("(.vscode|.devcontainer)"), "'.'");
	ASSERT_CONTAINS(tr("^(?!examples/)"), "lookaround");
	ASSERT_CONTAINS(tr("(?i)\\.py$"), "inline flag");
	ASSERT_CONTAINS(tr("docs/\\w+\\.md"), "\\w");
	ASSERT_CONTAINS(tr("ab*c"), "repeated");
	ASSERT_CONTAINS(tr("a{2}"), "repeated");
	ASSERT_CONTAINS(tr("[^a]\\.py"), "negated");
	ASSERT_CONTAINS(tr("a[/]b"), "'/'");
	ASSERT_CONTAINS(tr("(a|b)*"), "repeated group");
	ASSERT_CONTAINS(tr("a(b"), "unbalanced");
	ASSERT_CONTAINS(tr("a)b"), "unbalanced");
	ASSERT_CONTAINS(tr("a^b"), "anchor");
	ASSERT_CONTAINS(tr("^((homeassistant|script|tests)/.+)?[^/]+\\.py$"), "'.+'");
	ASSERT_CONTAINS(tr("^(a|b)(c|d)(e|f)(g|h)(i|j)(k|l)\\.x$"), "too many");
	return 0;
}

/* The globs and the regex agree on real paths, both ways. */
TEST_IMPL(reglob_matches_like_re_search)
{
	ASSERT_EQ(any_match("\\.py$", "a.py"), 1);
	ASSERT_EQ(any_match("\\.py$", "x/y/a.py"), 1);
	ASSERT_EQ(any_match("\\.py$", "a.pyc"), 0);
	ASSERT_EQ(any_match("^src/.*\\.c$", "src/a.c"), 1);
	ASSERT_EQ(any_match("^src/.*\\.c$", "src/x/y/a.c"), 1);
	ASSERT_EQ(any_match("^src/.*\\.c$", "lib/src/a.c"), 0);
	ASSERT_EQ(any_match("^setup\\.py$", "setup.py"), 1);
	ASSERT_EQ(any_match("^setup\\.py$", "x/setup.py"), 0);
	ASSERT_EQ(any_match("^setup", "setup.cfg"), 1);
	ASSERT_EQ(any_match("^setup", "setuptools/x.py"), 1);
	ASSERT_EQ(any_match("^setup", "x/setup.cfg"), 0);
	ASSERT_EQ(any_match("^a.*b$", "a/x/y/b"), 1);
	ASSERT_EQ(any_match("^a.*b$", "axb"), 1);
	ASSERT_EQ(any_match("^a.*b$", "ab"), 1);
	ASSERT_EQ(any_match("^a.*b$", "a/x"), 0);
	ASSERT_EQ(any_match("^a.*/b$", "a/b"), 1);
	ASSERT_EQ(any_match("^a.*/b$", "ax/y/b"), 1);
	ASSERT_EQ(any_match("crates/corpus/", "crates/corpus/a.py"), 1);
	ASSERT_EQ(any_match("crates/corpus/", "x/crates/corpus/y/a.py"), 1);
	ASSERT_EQ(any_match("crates/corpus/", "crates/corpusx/a.py"), 0);
	ASSERT_EQ(any_match("^(profiling/|tests/data/)", "tests/data/deep/x"), 1);
	ASSERT_EQ(any_match("^(profiling/|tests/data/)", "tests/x"), 0);
	ASSERT_EQ(any_match("^$", "a"), 0);
	ASSERT_EQ(any_match("", "any/thing"), 1);
	return 0;
}
/* Generated with CPython's re.search over every (regex, path) pair: row i,
 * column j is 1 when regexes[i] matches paths[j]. */
static const char *const regexes[] = {
	"\\.py$",
	"^src/.*\\.c$",
	"\\.(c|h)$",
	"\\.pyi?$",
	"^docs/",
	"^(profiling/|tests/data/)",
	"^pdm\\.lock$",
	"^[^/]+\\.py$",
	"^src/[^/]*\\.c$",
	"^tests/.+",
	"^crates/.*/resources/mdtest/.*\\.md$",
	"^((crates/corpus/.*)|(.*\\.toml))$",
	"(CHANGES|the_basics)\\.md$",
	"crates/corpus/",
	"^setup",
	"^a.*b$",
	"^a.*/b$",
	"",
	"^$",
	"test_[^/]*\\.py$",
	"(^|/)tests/",
	"^(?:src|lib)/[ab]\\.c$",
	"_test\\.go$",
	"^\\.github/workflows/",
	"/vendor/",
	"\\.min\\.js$",
	"^README\\.(md|rst)$",
	"(?x) ^( src/ | lib/[^/]+\\.c ) $",
	"x.*y.*z",
};

static const char *const paths[] = {
	"a.py", "x/y/a.py", "a.pyc", "a.pyi", "src/a.c", "src/x/y/a.c", "lib/src/a.c", "src/a.h",
	"docs/index.md", "docs", "mydocs/x", "tests/data/deep/x", "tests/x", "tests/test_a.py",
	"pkg/tests/b.py", "pdm.lock", "x/pdm.lock", "setup.py", "setup.cfg", "setuptools/x.py",
	"x/setup.cfg", "crates/a/resources/mdtest/b/c.md", "crates/resources/mdtest/c.md",
	"crates/corpus/a.py", "x/crates/corpus/y/a.py", "crates/corpusx/a.py", "pyproject.toml",
	"a/b/c.toml", "CHANGES.md", "docs/the_basics.md", "NOTCHANGES.md", "a/x/y/b", "axb", "ab",
	"a/x", "a/b", "ax/y/b", "lib/a.c", "lib/b.c", "lib/c.c", "x_test.go", "a/b_test.go",
	".github/workflows/ci.yml", "a/vendor/b.js", "vendor/b.js", "app.min.js", "README.md",
	"README.rst", "docs/README.md", "README.txt", "mytests/a.py", "src/x", "lib/q/a.c", "xyz",
	"x/y/z", "ax/by/cz", "xz/y", "a/xay/z",
};

static const char *const matches[] = {
	"1100000000000110010100011100000000000000000000000010000000",
	"0000110000000000000000000000000000000000000000000000000000",
	"0000111100000000000000000000000000000111000000000000100000",
	"1101000000000110010100011100000000000000000000000010000000",
	"0000000010000000000000000000010000000000000000001000000000",
	"0000000000010000000000000000000000000000000000000000000000",
	"0000000000000001000000000000000000000000000000000000000000",
	"1000000000000000010000000000000000000000000000000000000000",
	"0000100000000000000000000000000000000000000000000000000000",
	"0000000000011100000000000000000000000000000000000000000000",
	"0000000000000000000001000000000000000000000000000000000000",
	"0000000000000000000000010011000000000000000000000000000000",
	"0000000000000000000000000000111000000000000000000000000000",
	"0000000000000000000000011000000000000000000000000000000000",
	"0000000000000000011100000000000000000000000000000000000000",
	"0000000000000000000000000000000111011000000000000000000000",
	"0000000000000000000000000000000100011000000000000000000000",
	"1111111111111111111111111111111111111111111111111111111111",
	"0000000000000000000000000000000000000000000000000000000000",
	"0000000000000100000000000000000000000000000000000000000000",
	"0000000000011110000000000000000000000000000000000000000000",
	"0000100000000000000000000000000000000110000000000000000000",
	"0000000000000000000000000000000000000000110000000000000000",
	"0000000000000000000000000000000000000000001000000000000000",
	"0000000000000000000000000000000000000000000100000000000000",
	"0000000000000000000000000000000000000000000001000000000000",
	"0000000000000000000000000000000000000000000000110000000000",
	"0000000000000000000000000000000000000111000000000000000000",
	"0000000000000000000000000000000000000000000000000000011101",
};

/* Every regex of the table has an exact translation, and its globs match
 * exactly the paths CPython's re.search matches. */
TEST_IMPL(reglob_agrees_with_python_re)
{
	for (size_t i = 0; i < sizeof(regexes) / sizeof(regexes[0]); i++) {
		for (size_t j = 0; j < sizeof(paths) / sizeof(paths[0]); j++) {
			int want = matches[i][j] == '1', got = any_match(regexes[i], paths[j]);

			if (got != want) {
				fprintf(stderr, "regex '%s' (globs: %s), path '%s': re.search %d, globs %d\n",
				    regexes[i], tr(regexes[i]), paths[j], want, got);
				ASSERT_EQ(got, want);
			}
		}
	}
	return 0;
}
