/* File selection per gate: direct changes, triggers mapped to tests, and
 * config-file changes. Mapping conventions, used when the gate has no
 * "map" rule that applies:
 *   Pester:  Foo.ps1 / Foo.psm1 -> every Foo.Tests.ps1 beside it or under a
 *            tests/ or Tests/ folder (any Foo.Tests.ps1 when there is none);
 *   pytest:  pkg/foo.py -> every test_foo.py and foo_test.py anywhere in
 *            the gate's include set (its test roots);
 *   others:  foo.ext -> every foo.test.ext, foo.spec.ext, foo_test.ext.
 * A "map" rule is {"src/{name}.py": "tests/test_{name}.py"}: {name} matches
 * one path segment's worth of characters; the right side may use globs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/glob.h"
#include "lib/xmalloc.h"
#include "select.h"

bool select_is_input(const struct gate *g, const char *path)
{
	if (gate_matches(g, path))
		return true;
	for (size_t i = 0; i < g->triggers.n; i++)
		if (glob_match(g->triggers.v[i], path))
			return true;
	return false;
}

static bool is_trigger(const struct gate *g, const char *path)
{
	for (size_t i = 0; i < g->triggers.n; i++)
		if (glob_match(g->triggers.v[i], path))
			return true;
	return false;
}

static bool is_config_file(const struct gate *g, const char *path)
{
	return strvec_find(&g->config_files, path) >= 0;
}

bool select_needs_all(const struct gate *g, const struct strvec *changed)
{
	for (size_t i = 0; i < changed->n; i++) {
		const char *p = changed->v[i];

		if (is_config_file(g, p) || (is_trigger(g, p) && !gate_matches(g, p)))
			return true;
	}
	return false;
}

static char *subst_name(const char *tmpl, const char *name)
{
	const char *at = strstr(tmpl, "{name}");

	if (at == NULL)
		return xstrdup(tmpl);
	return xasprintf("%.*s%s%s", (int)(at - tmpl), tmpl, name, at + 6);
}

/* If src matches the rule's left side, returns the {name} it binds. */
static char *match_rule(const char *from, const char *src)
{
	size_t n = strlen(src);

	/* Try names from the longest: "src/{name}.py" on "src/a.b.py" binds
	 * "a.b". Paths are short, so the quadratic search is cheap. */
	for (size_t len = n; len > 0; len--) {
		for (size_t i = 0; i + len <= n; i++) {
			char *name = xstrndup(src + i, len), *pat;
			bool ok;

			if (strchr(name, '/')) {
				free(name);
				continue;
			}
			pat = subst_name(from, name);
			ok = glob_match(pat, src);
			free(pat);
			if (ok)
				return name;
			free(name);
		}
	}
	return NULL;
}

static const char *base_of(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static size_t dir_len(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? (size_t)(s - p) : 0;
}

static bool in_tests_dir(const char *p)
{
	static const char *const names[] = { "tests/", "Tests/", "test/", "Test/", NULL };

	for (size_t i = 0; names[i]; i++) {
		size_t n = strlen(names[i]);

		if (strncmp(p, names[i], n) == 0)
			return true;
		for (const char *q = strchr(p, '/'); q; q = strchr(q + 1, '/'))
			if (strncmp(q + 1, names[i], n) == 0)
				return true;
	}
	return false;
}

static bool is_pester_test(const char *p)
{
	size_t n = strlen(p);

	return n >= 10 && (strcmp(p + n - 10, ".Tests.ps1") == 0 ||
	    strcmp(p + n - 10, ".tests.ps1") == 0);
}

/* Basenames a test of src may have, by convention. */
static void test_names(const char *src, struct strvec *names)
{
	const char *base = base_of(src), *dot = strrchr(base, '.');
	size_t stem = dot ? (size_t)(dot - base) : strlen(base);
	const char *ext = dot ? dot : "";

	strvec_pushf(names, "%.*s.Tests.ps1", (int)stem, base);
	strvec_pushf(names, "%.*s.tests.ps1", (int)stem, base);
	strvec_pushf(names, "test_%.*s.py", (int)stem, base);
	strvec_pushf(names, "%.*s_test.py", (int)stem, base);
	strvec_pushf(names, "%.*s.test%s", (int)stem, base, ext);
	strvec_pushf(names, "%.*s.spec%s", (int)stem, base, ext);
	strvec_pushf(names, "%.*s_test%s", (int)stem, base, ext);
}

void select_map_trigger(const struct gate *g, const char *src, const struct strvec *candidates,
    struct strvec *out)
{
	struct strvec names = STRVEC_INIT, hits = STRVEC_INIT;
	bool ruled = false;

	for (size_t r = 0; r < g->nmap; r++) {
		char *name = match_rule(g->map[r].from, src), *pat;

		if (name == NULL)
			continue;
		ruled = true;
		pat = subst_name(g->map[r].to, name);
		for (size_t i = 0; i < candidates->n; i++)
			if (glob_match(pat, candidates->v[i]))
				strvec_push(out, candidates->v[i]);
		free(pat);
		free(name);
	}
	if (ruled)
		return;
	test_names(src, &names);
	for (size_t i = 0; i < candidates->n; i++) {
		const char *c = candidates->v[i];

		if (strcmp(c, src) != 0 && strvec_find(&names, base_of(c)) >= 0)
			strvec_push(&hits, c);
	}
	/* Every test that carries the name belongs to src: running one too
	 * many is cheap, skipping one is a missed failure. Pester's convention
	 * alone is scoped (beside the source or under a tests folder, any
	 * Foo.Tests.ps1 only when neither has one); pytest's test roots can be
	 * anywhere, so test_foo.py / foo_test.py all run. */
	{
		size_t dl = dir_len(src), pester = 0;

		for (size_t i = 0; i < hits.n; i++) {
			const char *h = hits.v[i];

			if (!is_pester_test(h))
				strvec_push(out, h);
			else if ((dir_len(h) == dl && strncmp(h, src, dl) == 0) || in_tests_dir(h)) {
				strvec_push(out, h);
				pester++;
			}
		}
		for (size_t i = 0; i < hits.n && pester == 0; i++)
			if (is_pester_test(hits.v[i]))
				strvec_push(out, hits.v[i]);
	}
	strvec_clear(&hits);
	strvec_clear(&names);
}

/* The first reason stands. The first nsorted files of sel, sorted, were
 * selected before as changed (no reasons entry, SELECT_CHANGED); later
 * ones have their reason. both: a changed file gets this reason too
 * ("changed; config file X changed"), for a reason that alters the
 * verdict on its own (the tool's settings); a trigger adds nothing to
 * a test that runs anyway. */
static void add(struct selection *sel, size_t nsorted, const char *path, char *reason,
    bool both)
{
	struct strvec before = { sel->files.v, nsorted, nsorted };

	if (hmap_gets(&sel->reasons, path)) {
		free(reason);
		return;
	}
	if (nsorted && strvec_bsearch(&before, path) >= 0) {
		if (!both) {
			free(reason);
			return;
		}
		hmap_puts(&sel->reasons, path, xasprintf("%s; %s", SELECT_CHANGED, reason));
		free(reason);
		return;
	}
	hmap_puts(&sel->reasons, path, reason);
	strvec_push(&sel->files, path);
}

void select_files(const struct gate *g, const struct strvec *changed, const struct strvec *all,
    struct selection *out)
{
	struct strvec members = STRVEC_INIT;
	bool have_members = false;
	size_t nchanged;

	/* The changed files need no map entry each: a batch can be 20,000. */
	for (size_t i = 0; i < changed->n; i++)
		if (gate_matches(g, changed->v[i]))
			strvec_push(&out->files, changed->v[i]);
	strvec_sort_uniq(&out->files);
	nchanged = out->files.n;
	for (size_t i = 0; all && i < changed->n; i++) {
		const char *p = changed->v[i];
		struct strvec tests = STRVEC_INIT;

		if (!have_members) {
			for (size_t k = 0; k < all->n; k++)
				if (gate_matches(g, all->v[k]))
					strvec_push(&members, all->v[k]);
			have_members = true;
		}
		if (is_config_file(g, p)) {
			for (size_t k = 0; k < members.n; k++)
				add(out, nchanged, members.v[k], xasprintf("config file %s changed",
				    p), true);
			continue;
		}
		if (!is_trigger(g, p) || gate_matches(g, p))
			continue;
		select_map_trigger(g, p, &members, &tests);
		if (tests.n == 0) {
			for (size_t k = 0; k < members.n; k++)
				add(out, nchanged, members.v[k], xasprintf("triggered by %s (no test "
				    "maps to it: the whole set runs)", p), false);
		}
		for (size_t k = 0; k < tests.n; k++)
			add(out, nchanged, tests.v[k], xasprintf("triggered by %s", p), false);
		strvec_clear(&tests);
	}
	strvec_clear(&members);
	strvec_sort(&out->files);
}

void select_everything(const struct gate *g, const struct strvec *all, const char *reason,
    struct selection *out)
{
	size_t nsorted = out->files.n;	/* sorted by select_files */

	for (size_t k = 0; k < all->n; k++)
		if (gate_matches(g, all->v[k]))
			add(out, nsorted, all->v[k], xstrdup(reason), false);
	strvec_sort(&out->files);
}

void selection_release(struct selection *sel)
{
	size_t it = 0;
	struct hmap_slot *s;

	while ((s = hmap_next(&sel->reasons, &it)) != NULL)
		free(s->val);
	hmap_release(&sel->reasons);
	strvec_clear(&sel->files);
}
