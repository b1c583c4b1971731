/* Test-gate file selection: conventions, map rules, triggers, config files. */
#include "daemon/run/select.h"
#include "lib/xmalloc.h"
#include "test.h"

static void gate_init(struct gate *g, const char *include, const char *trigger)
{
	memset(g, 0, sizeof(*g));
	g->name = xstrdup("t");
	strvec_push(&g->include, include);
	if (trigger)
		strvec_push(&g->triggers, trigger);
	g->tests = trigger != NULL;
}

static void list(struct strvec *sv, const char *const *paths)
{
	for (; *paths; paths++)
		strvec_push(sv, *paths);
	strvec_sort(sv);
}

TEST_IMPL(select_pester_convention)
{
	static const char *const files[] = { "src/Foo.Tests.ps1", "tests/Bar.Tests.ps1",
	    "other/Bar.Tests.ps1", "src/Baz.Tests.ps1", "Tests/Foo.Tests.ps1",
	    "other/Foo.Tests.ps1", "misc/Qux.Tests.ps1", NULL };
	struct strvec cand = STRVEC_INIT, out = STRVEC_INIT;
	struct gate g;

	gate_init(&g, "**/*.Tests.ps1", "**/*.ps1");
	list(&cand, files);
	/* beside it and under a tests folder: both belong, both run */
	select_map_trigger(&g, "src/Foo.ps1", &cand, &out);
	ASSERT_EQ(out.n, 2);
	ASSERT_STR_EQ(out.v[0], "Tests/Foo.Tests.ps1");
	ASSERT_STR_EQ(out.v[1], "src/Foo.Tests.ps1");
	strvec_clear(&out);
	/* neither: any test of that name */
	select_map_trigger(&g, "lib/Qux.ps1", &cand, &out);
	ASSERT_EQ(out.n, 1);
	ASSERT_STR_EQ(out.v[0], "misc/Qux.Tests.ps1");
	strvec_clear(&out);
	select_map_trigger(&g, "lib/Bar.psm1", &cand, &out);	/* under tests/ */
	ASSERT_EQ(out.n, 1);
	ASSERT_STR_EQ(out.v[0], "tests/Bar.Tests.ps1");
	strvec_clear(&out);
	select_map_trigger(&g, "lib/None.ps1", &cand, &out);
	ASSERT_EQ(out.n, 0);
	strvec_clear(&out);
	strvec_clear(&cand);
	gate_release(&g);
	return 0;
}

TEST_IMPL(select_pytest_convention_and_map)
{
	static const char *const files[] = { "tests/unit/test_foo.py", "tests/bar_test.py",
	    "tests/test_other.py", "spec/check_foo.py", NULL };
	struct strvec cand = STRVEC_INIT, out = STRVEC_INIT;
	struct gate g;

	gate_init(&g, "tests/**/*.py", "**/*.py");
	list(&cand, files);
	select_map_trigger(&g, "pkg/foo.py", &cand, &out);
	ASSERT_EQ(out.n, 1);
	ASSERT_STR_EQ(out.v[0], "tests/unit/test_foo.py");
	strvec_clear(&out);
	select_map_trigger(&g, "pkg/sub/bar.py", &cand, &out);
	ASSERT_EQ(out.n, 1);
	ASSERT_STR_EQ(out.v[0], "tests/bar_test.py");
	strvec_clear(&out);
	/* a map rule replaces the conventions where it applies */
	g.map = xcalloc(1, sizeof(*g.map));
	g.map[0].from = xstrdup("pkg/{name}.py");
	g.map[0].to = xstrdup("spec/check_{name}.py");
	g.nmap = 1;
	select_map_trigger(&g, "pkg/foo.py", &cand, &out);
	ASSERT_EQ(out.n, 1);
	ASSERT_STR_EQ(out.v[0], "spec/check_foo.py");
	strvec_clear(&out);
	strvec_clear(&cand);
	gate_release(&g);
	return 0;
}

/* pytest: every test_foo.py / foo_test.py under the test roots belongs to
 * pkg/foo.py, one beside the source included; none is preferred over the
 * others. */
TEST_IMPL(select_pytest_runs_every_same_named_test)
{
	static const char *const files[] = { "pkg/test_foo.py", "tests/test_foo.py",
	    "tests/unit/foo_test.py", "tests/test_bar.py", "pkg/test_foobar.py", NULL };
	static const char *const all_files[] = { "pkg/foo.py", "pkg/test_foo.py",
	    "tests/test_foo.py", "tests/unit/foo_test.py", "tests/test_bar.py",
	    "pkg/test_foobar.py", NULL };
	struct strvec cand = STRVEC_INIT, out = STRVEC_INIT, all = STRVEC_INIT;
	struct strvec changed = STRVEC_INIT;
	struct selection sel = SELECTION_INIT;
	struct gate g;

	gate_init(&g, "**/test_*.py", "**/*.py");
	strvec_push(&g.include, "**/*_test.py");
	list(&cand, files);
	select_map_trigger(&g, "pkg/foo.py", &cand, &out);
	ASSERT_EQ(out.n, 3);
	ASSERT_STR_EQ(out.v[0], "pkg/test_foo.py");
	ASSERT_STR_EQ(out.v[1], "tests/test_foo.py");
	ASSERT_STR_EQ(out.v[2], "tests/unit/foo_test.py");
	strvec_clear(&out);
	/* through select_files: each says which source triggered it */
	list(&all, all_files);
	strvec_push(&changed, "pkg/foo.py");
	select_files(&g, &changed, &all, &sel);
	ASSERT_EQ(sel.files.n, 3);
	ASSERT_STR_EQ(hmap_gets(&sel.reasons, "tests/test_foo.py"), "triggered by pkg/foo.py");
	ASSERT_STR_EQ(hmap_gets(&sel.reasons, "pkg/test_foo.py"), "triggered by pkg/foo.py");
	selection_release(&sel);
	strvec_clear(&changed);
	strvec_clear(&all);
	strvec_clear(&cand);
	gate_release(&g);
	return 0;
}

TEST_IMPL(select_triggers_whole_set_and_config)
{
	static const char *const all_files[] = { "pkg/foo.py", "pkg/util.py", "pyproject.toml",
	    "tests/test_foo.py", "tests/test_bar.py", NULL };
	struct strvec all = STRVEC_INIT, changed = STRVEC_INIT;
	struct selection sel = SELECTION_INIT;
	struct gate g;

	gate_init(&g, "tests/test_*.py", "**/*.py");
	strvec_push(&g.config_files, "pyproject.toml");
	list(&all, all_files);
	strvec_push(&changed, "pkg/foo.py");
	ASSERT(select_needs_all(&g, &changed));
	select_files(&g, &changed, &all, &sel);
	ASSERT_EQ(sel.files.n, 1);
	ASSERT_STR_EQ(sel.files.v[0], "tests/test_foo.py");
	ASSERT_STR_EQ(hmap_gets(&sel.reasons, "tests/test_foo.py"), "triggered by pkg/foo.py");
	selection_release(&sel);
	/* an unmapped module: the whole set */
	strvec_clear(&changed);
	strvec_push(&changed, "pkg/util.py");
	select_files(&g, &changed, &all, &sel);
	ASSERT_EQ(sel.files.n, 2);
	ASSERT_CONTAINS(hmap_gets(&sel.reasons, "tests/test_bar.py"), "whole set");
	selection_release(&sel);
	/* a test file changed runs itself, "changed": no reason entry */
	strvec_clear(&changed);
	strvec_push(&changed, "tests/test_bar.py");
	ASSERT(!select_needs_all(&g, &changed));
	select_files(&g, &changed, NULL, &sel);
	ASSERT_EQ(sel.files.n, 1);
	ASSERT_NULL(hmap_gets(&sel.reasons, "tests/test_bar.py"));
	ASSERT_EQ(sel.reasons.n, 0);
	selection_release(&sel);
	/* a config file re-runs everything the gate includes */
	strvec_clear(&changed);
	strvec_push(&changed, "pyproject.toml");
	ASSERT(select_needs_all(&g, &changed));
	select_files(&g, &changed, &all, &sel);
	ASSERT_EQ(sel.files.n, 2);
	ASSERT_STR_EQ(hmap_gets(&sel.reasons, "tests/test_foo.py"), "config file pyproject.toml changed");
	selection_release(&sel);
	strvec_clear(&changed);
	strvec_clear(&all);
	gate_release(&g);
	return 0;
}

/* A changed file that a trigger (or everything) selects too runs once, as
 * changed; changed files need no reason entry, duplicates in the batch
 * included. */
TEST_IMPL(select_changed_wins)
{
	static const char *const all_files[] = { "pkg/foo.py", "pkg/util.py",
	    "tests/test_bar.py", "tests/test_foo.py", NULL };
	struct strvec all = STRVEC_INIT, changed = STRVEC_INIT;
	struct selection sel = SELECTION_INIT;
	struct gate g;

	gate_init(&g, "tests/test_*.py", "**/*.py");
	list(&all, all_files);
	strvec_push(&changed, "tests/test_foo.py");
	strvec_push(&changed, "pkg/foo.py");
	strvec_push(&changed, "tests/test_foo.py");
	select_files(&g, &changed, &all, &sel);
	ASSERT_EQ(sel.files.n, 1);
	ASSERT_STR_EQ(sel.files.v[0], "tests/test_foo.py");
	ASSERT_EQ(sel.reasons.n, 0);
	/* the gate's definition changed: the rest joins with that reason */
	select_everything(&g, &all, "the gate's definition changed", &sel);
	ASSERT_EQ(sel.files.n, 2);
	ASSERT_STR_EQ(sel.files.v[0], "tests/test_bar.py");
	ASSERT_STR_EQ(sel.files.v[1], "tests/test_foo.py");
	ASSERT_NULL(hmap_gets(&sel.reasons, "tests/test_foo.py"));
	ASSERT_STR_EQ(hmap_gets(&sel.reasons, "tests/test_bar.py"),
	    "the gate's definition changed");
	selection_release(&sel);
	strvec_clear(&changed);
	strvec_clear(&all);
	gate_release(&g);
	return 0;
}

/* Neither Pester nor pytest: foo.ext -> foo.test.ext, foo.spec.ext and
 * foo_test.ext, in any folder, and only with the source's extension. */
TEST_IMPL(select_other_conventions)
{
	static const char *const files[] = { "src/util.test.ts", "test/util.spec.ts",
	    "pkg/util_test.go", "src/utility.test.ts", "src/util.test.js", NULL };
	struct strvec cand = STRVEC_INIT, out = STRVEC_INIT;
	struct gate g;

	gate_init(&g, "**/*.test.ts", "**/*.ts");
	strvec_push(&g.include, "**/*.spec.ts");
	strvec_push(&g.include, "**/*_test.go");
	strvec_push(&g.triggers, "**/*.go");
	list(&cand, files);
	select_map_trigger(&g, "src/util.ts", &cand, &out);
	ASSERT_EQ(out.n, 2);
	ASSERT_STR_EQ(out.v[0], "src/util.test.ts");
	ASSERT_STR_EQ(out.v[1], "test/util.spec.ts");
	strvec_clear(&out);
	select_map_trigger(&g, "pkg/util.go", &cand, &out);
	ASSERT_EQ(out.n, 1);
	ASSERT_STR_EQ(out.v[0], "pkg/util_test.go");
	strvec_clear(&out);
	/* a test is not its own source */
	select_map_trigger(&g, "src/util.test.ts", &cand, &out);
	ASSERT_EQ(out.n, 0);
	strvec_clear(&cand);
	gate_release(&g);
	return 0;
}

/* A map rule binds the longest {name} that holds no '/'; once a rule
 * applies, the conventions are not consulted, and a rule that maps to no
 * test runs the whole set. */
TEST_IMPL(select_map_rule_edges)
{
	static const char *const all_files[] = { "src/a.b.py", "src/c.py", "src/sub/d.py",
	    "tests/test_a.b.py", "tests/test_b.py", "tests/test_a.py", "tests/c_test.py",
	    "tests/test_d.py", NULL };
	struct strvec cand = STRVEC_INIT, out = STRVEC_INIT, all = STRVEC_INIT;
	struct strvec changed = STRVEC_INIT;
	struct selection sel = SELECTION_INIT;
	struct gate g;

	gate_init(&g, "tests/**/*.py", "src/**/*.py");
	g.map = xcalloc(1, sizeof(*g.map));
	g.map[0].from = xstrdup("src/{name}.py");
	g.map[0].to = xstrdup("tests/test_{name}.py");
	g.nmap = 1;
	list(&all, all_files);
	for (size_t i = 0; i < all.n; i++)
		if (gate_matches(&g, all.v[i]))
			strvec_push(&cand, all.v[i]);
	select_map_trigger(&g, "src/a.b.py", &cand, &out);
	ASSERT_EQ(out.n, 1);
	ASSERT_STR_EQ(out.v[0], "tests/test_a.b.py");
	strvec_clear(&out);
	/* the rule applies and maps to nothing: c_test.py is not consulted */
	select_map_trigger(&g, "src/c.py", &cand, &out);
	ASSERT_EQ(out.n, 0);
	/* {name} never spans a folder: no rule applies, the conventions do */
	select_map_trigger(&g, "src/sub/d.py", &cand, &out);
	ASSERT_EQ(out.n, 1);
	ASSERT_STR_EQ(out.v[0], "tests/test_d.py");
	strvec_clear(&out);
	/* through select_files: the unmapped source runs every test */
	strvec_push(&changed, "src/c.py");
	select_files(&g, &changed, &all, &sel);
	ASSERT_EQ(sel.files.n, 5);
	ASSERT_CONTAINS(hmap_gets(&sel.reasons, "tests/c_test.py"), "whole set runs");
	selection_release(&sel);
	strvec_clear(&changed);
	strvec_clear(&all);
	strvec_clear(&cand);
	gate_release(&g);
	return 0;
}

/* A linter: changed files it includes run, excluded ones (or under an
 * excluded folder) never do, and it never needs the whole tree. */
TEST_IMPL(select_linter_include_exclude)
{
	static const char *const all_files[] = { "a.py", "lib/b.py", "vendor/c.py", NULL };
	struct strvec changed = STRVEC_INIT, all = STRVEC_INIT;
	struct selection sel = SELECTION_INIT;
	struct gate g;

	gate_init(&g, "**/*.py", NULL);
	strvec_push(&g.exclude, "vendor");
	ASSERT(select_is_input(&g, "a.py"));
	ASSERT(select_is_input(&g, "lib/b.py"));
	ASSERT(!select_is_input(&g, "vendor/c.py"));
	ASSERT(!select_is_input(&g, "README.md"));
	strvec_push(&changed, "vendor/c.py");
	strvec_push(&changed, "lib/b.py");
	strvec_push(&changed, "README.md");
	strvec_push(&changed, "a.py");
	ASSERT(!select_needs_all(&g, &changed));
	select_files(&g, &changed, NULL, &sel);
	ASSERT_EQ(sel.files.n, 2);
	ASSERT_STR_EQ(sel.files.v[0], "a.py");
	ASSERT_STR_EQ(sel.files.v[1], "lib/b.py");
	ASSERT_EQ(sel.reasons.n, 0);
	/* everything it includes, still without the excluded folder */
	list(&all, all_files);
	selection_release(&sel);
	select_everything(&g, &all, "the gate's definition changed", &sel);
	ASSERT_EQ(sel.files.n, 2);
	ASSERT_STR_EQ(hmap_gets(&sel.reasons, "a.py"), "the gate's definition changed");
	selection_release(&sel);
	strvec_clear(&all);
	strvec_clear(&changed);
	gate_release(&g);
	return 0;
}

/* A trigger and a config file in one batch: each test runs once, with the
 * first reason the batch gave it. A trigger is an input of the gate. */
TEST_IMPL(select_first_reason_stands)
{
	static const char *const all_files[] = { "pkg/foo.py", "pyproject.toml",
	    "tests/test_bar.py", "tests/test_foo.py", NULL };
	struct strvec all = STRVEC_INIT, changed = STRVEC_INIT;
	struct selection sel = SELECTION_INIT;
	struct gate g;

	gate_init(&g, "tests/test_*.py", "**/*.py");
	strvec_push(&g.config_files, "pyproject.toml");
	ASSERT(select_is_input(&g, "pkg/foo.py"));
	ASSERT(select_is_input(&g, "tests/test_foo.py"));
	ASSERT(!select_is_input(&g, "pyproject.toml"));
	list(&all, all_files);
	strvec_push(&changed, "pkg/foo.py");
	strvec_push(&changed, "pyproject.toml");
	select_files(&g, &changed, &all, &sel);
	ASSERT_EQ(sel.files.n, 2);
	ASSERT_STR_EQ(hmap_gets(&sel.reasons, "tests/test_foo.py"), "triggered by pkg/foo.py");
	ASSERT_STR_EQ(hmap_gets(&sel.reasons, "tests/test_bar.py"),
	    "config file pyproject.toml changed");
	selection_release(&sel);
	strvec_clear(&changed);
	strvec_clear(&all);
	gate_release(&g);
	return 0;
}

/* A reason is the truth: a file that changed and whose gate's config file
 * changed too says both; one that did not change says only the config. */
TEST_IMPL(select_reason_changed_and_config)
{
	static const char *const all_files[] = { "a.py", "b.py", "ruff.toml", NULL };
	struct strvec all = STRVEC_INIT, changed = STRVEC_INIT;
	struct selection sel = SELECTION_INIT;
	struct gate g;

	gate_init(&g, "**/*.py", NULL);
	strvec_push(&g.config_files, "ruff.toml");
	list(&all, all_files);
	strvec_push(&changed, "b.py");
	strvec_push(&changed, "ruff.toml");
	select_files(&g, &changed, &all, &sel);
	ASSERT_EQ(sel.files.n, 2);
	ASSERT_STR_EQ(sel.files.v[0], "a.py");
	ASSERT_STR_EQ(sel.files.v[1], "b.py");
	ASSERT_STR_EQ(hmap_gets(&sel.reasons, "a.py"), "config file ruff.toml changed");
	ASSERT_STR_EQ(hmap_gets(&sel.reasons, "b.py"), "changed; config file ruff.toml changed");
	selection_release(&sel);
	strvec_clear(&changed);
	strvec_clear(&all);
	gate_release(&g);
	return 0;
}
