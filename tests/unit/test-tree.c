/* The watched tree as pure data: building and looking up directories,
 * file entries and dispatch stamps, moves, freeing subtrees with what they
 * report, relisting, and listing files through a filter. No inotify. */
#include <stdlib.h>
#include <string.h>

#include "daemon/watch/tree.h"
#include "lib/buf.h"
#include "lib/strvec.h"
#include "test.h"

/* What the callbacks of a subtree being freed saw. */
struct seen {
	struct strvec	files;
	struct strvec	dirs;
};

static void saw_file(void *arg, const char *rel)
{
	strvec_push(&((struct seen *)arg)->files, rel);
}

static void saw_dir(void *arg, struct tree_dir *d)
{
	strvec_push(&((struct seen *)arg)->dirs, d->name);
}

static void seen_clear(struct seen *s)
{
	strvec_clear(&s->files);
	strvec_clear(&s->dirs);
}

static struct tree_dir *lookup(const struct tree *t, const char *rel)
{
	return tree_lookup(t, rel, strlen(rel));
}

static void assert_path(const struct tree_dir *d, const char *want)
{
	struct buf b = BUF_INIT;

	buf_addstr(&b, "stale");
	tree_path(d, &b);
	ASSERT_STR_EQ(b.buf, want);
	buf_release(&b);
}

/* All files of the tree, sorted and joined with spaces. */
static char *all_files(const struct tree *t)
{
	struct strvec v = STRVEC_INIT;
	struct buf b = BUF_INIT;

	tree_list_files(t, NULL, NULL, &v);
	strvec_sort(&v);
	for (size_t i = 0; i < v.n; i++)
		buf_addf(&b, "%s%s", i ? " " : "", v.v[i]);
	strvec_clear(&v);
	return buf_detach(&b, NULL);
}

static void assert_files(const struct tree *t, const char *want)
{
	char *got = all_files(t);

	ASSERT_STR_EQ(got, want);
	free(got);
}

static uint64_t stamp_of(const struct tree_dir *d, const char *name)
{
	long i = dirents_find(&d->ents, name);

	return i >= 0 ? d->ents.v[i].stamp : UINT64_MAX;
}

TEST_IMPL(tree_build_and_lookup)
{
	struct tree *t = tree_new();
	struct tree_dir *a, *b, *c;

	ASSERT_NOT_NULL(t->top);
	ASSERT_STR_EQ(t->top->name, "");
	ASSERT_EQ(t->top->wd, TREE_WD_NONE);
	ASSERT_EQ(t->files, 0);
	assert_path(t->top, "");
	a = tree_add(t->top, "a");
	b = tree_add(a, "b");
	c = tree_add(b, "c");
	tree_add(t->top, "ab");			/* a namesake's prefix must not match */
	ASSERT_EQ(c->wd, TREE_WD_NONE);
	ASSERT(c->parent == b);
	ASSERT(tree_child(a, "b") == b);
	ASSERT_NULL(tree_child(a, "c"));
	assert_path(a, "a");
	assert_path(c, "a/b/c");
	ASSERT(lookup(t, "") == t->top);
	ASSERT(lookup(t, "a") == a);
	ASSERT(lookup(t, "a/b/c") == c);
	ASSERT(tree_lookup(t, "a/b/c.txt", 3) == b);	/* a file's directory, in place */
	ASSERT(tree_lookup(t, "a/bc", 3) == b);
	ASSERT_NULL(lookup(t, "a/c"));
	ASSERT_NULL(lookup(t, "a/b/c/d"));
	ASSERT_NULL(lookup(t, "b"));
	ASSERT_NULL(lookup(t, "a//b"));
	ASSERT(lookup(t, "ab") != a);
	tree_free(t);
	tree_free(NULL);
	return 0;
}

TEST_IMPL(tree_file_entries_and_notes)
{
	struct tree *t = tree_new();
	struct tree_dir *src = tree_add(t->top, "src");

	ASSERT(tree_file_set(t, src, "m.py", 0));
	ASSERT(tree_file_set(t, src, "a.py", 0));
	ASSERT(!tree_file_set(t, src, "m.py", 5));	/* an update, not a new file */
	ASSERT_EQ(t->files, 2);
	ASSERT_EQ(stamp_of(src, "m.py"), 5);
	ASSERT_EQ(stamp_of(src, "a.py"), 0);
	ASSERT(tree_file_del(t, src, "a.py"));
	ASSERT(!tree_file_del(t, src, "a.py"));
	ASSERT_EQ(t->files, 1);

	/* what settle records at dispatch */
	tree_note(t, "src/m.py", 42);
	ASSERT_EQ(stamp_of(src, "m.py"), 42);
	tree_note(t, "src/new.py", 7);			/* unknown file: added */
	ASSERT_EQ(stamp_of(src, "new.py"), 7);
	ASSERT_EQ(t->files, 2);
	tree_note(t, "top.txt", 9);			/* in ROOT itself */
	ASSERT_EQ(stamp_of(t->top, "top.txt"), 9);
	tree_note(t, "gone/x.py", 3);			/* unknown directory: nothing */
	tree_note(t, "src/sub/x.py", 3);
	ASSERT_EQ(t->files, 3);
	tree_note(t, "src/new.py", 0);			/* 0: forget */
	ASSERT_EQ(stamp_of(src, "new.py"), UINT64_MAX);
	ASSERT_EQ(t->files, 2);
	assert_files(t, "src/m.py top.txt");
	tree_free(t);
	return 0;
}

TEST_IMPL(tree_move_detach_attach)
{
	struct tree *t = tree_new();
	struct tree_dir *a = tree_add(t->top, "a"), *b = tree_add(a, "b"), *c = tree_add(b, "c");
	struct tree_dir *z = tree_add(t->top, "z");

	tree_file_set(t, b, "f1", 1);
	tree_file_set(t, c, "f2", 2);
	tree_file_set(t, a, "f0", 0);
	assert_files(t, "a/b/c/f2 a/b/f1 a/f0");

	/* a rename within the tree: b goes from a/ to z/, as "y" */
	tree_detach(b);
	ASSERT_NULL(b->parent);
	ASSERT_NULL(tree_child(a, "b"));
	assert_path(c, "c");				/* a detached root counts as a top */
	assert_files(t, "a/f0");
	ASSERT_EQ(t->files, 3);				/* a detached subtree still counts */
	tree_attach(z, b, "y");
	ASSERT(lookup(t, "z/y/c") == c);
	ASSERT_NULL(lookup(t, "a/b"));
	assert_path(c, "z/y/c");
	ASSERT_EQ(stamp_of(b, "f1"), 1);		/* entries and stamps move with it */
	assert_files(t, "a/f0 z/y/c/f2 z/y/f1");

	/* attach keeping the name */
	tree_detach(c);
	tree_attach(a, c, NULL);
	assert_path(c, "a/c");
	assert_files(t, "a/c/f2 a/f0 z/y/f1");

	tree_detach(t->top);				/* a no-op */
	ASSERT(lookup(t, "a") == a);
	ASSERT_EQ(t->files, 3);
	tree_free(t);
	return 0;
}

TEST_IMPL(tree_free_subtree_reports)
{
	struct tree *t = tree_new();
	struct tree_dir *d = tree_add(t->top, "d"), *e = tree_add(d, "e");
	struct seen s = { STRVEC_INIT, STRVEC_INIT };
	struct buf path = BUF_INIT;

	tree_add(e, "empty");
	tree_file_set(t, d, "x", 1);
	tree_file_set(t, e, "y", 2);
	tree_file_set(t, e, "z", 3);
	tree_file_set(t, t->top, "keep", 4);
	ASSERT_EQ(t->files, 4);

	tree_detach(d);
	buf_addstr(&path, "d");
	tree_free_dir(t, d, &path, saw_dir, saw_file, &s);
	ASSERT_STR_EQ(path.buf, "d");			/* given back as it came */
	strvec_sort(&s.files);
	ASSERT_EQ(s.files.n, 3);
	ASSERT_STR_EQ(s.files.v[0], "d/e/y");
	ASSERT_STR_EQ(s.files.v[1], "d/e/z");
	ASSERT_STR_EQ(s.files.v[2], "d/x");
	/* every directory, children before their parent */
	ASSERT_EQ(s.dirs.n, 3);
	ASSERT_STR_EQ(s.dirs.v[0], "empty");
	ASSERT_STR_EQ(s.dirs.v[1], "e");
	ASSERT_STR_EQ(s.dirs.v[2], "d");
	ASSERT_EQ(t->files, 1);
	assert_files(t, "keep");
	seen_clear(&s);

	/* without a file callback nothing is reported, the count still follows */
	d = tree_add(t->top, "q");
	tree_file_set(t, d, "r", 0);
	tree_detach(d);
	tree_free_dir(t, d, NULL, NULL, NULL, NULL);
	ASSERT_EQ(t->files, 1);
	buf_release(&path);
	tree_free(t);
	return 0;
}

TEST_IMPL(tree_sweep_unmarked)
{
	struct tree *t = tree_new();
	struct tree_dir *p = tree_add(t->top, "p");
	struct tree_dir *a = tree_add(p, "a"), *b = tree_add(p, "b"), *c = tree_add(p, "c");
	struct seen s = { STRVEC_INIT, STRVEC_INIT };
	struct buf path = BUF_INIT;

	tree_file_set(t, a, "1", 0);
	tree_file_set(t, b, "2", 0);
	tree_file_set(t, tree_add(b, "deep"), "3", 0);
	tree_file_set(t, c, "4", 0);
	a->mark = b->mark = c->mark = true;
	tree_unmark(p);
	ASSERT(!a->mark && !b->mark && !c->mark);
	a->mark = c->mark = true;			/* what a listing found again */
	tree_path(p, &path);
	tree_sweep(t, p, &path, saw_dir, saw_file, &s);
	ASSERT_STR_EQ(path.buf, "p");
	strvec_sort(&s.files);
	ASSERT_EQ(s.files.n, 2);
	ASSERT_STR_EQ(s.files.v[0], "p/b/2");
	ASSERT_STR_EQ(s.files.v[1], "p/b/deep/3");
	ASSERT_EQ(s.dirs.n, 2);
	ASSERT(tree_child(p, "a") == a && tree_child(p, "c") == c);
	ASSERT_NULL(tree_child(p, "b"));
	ASSERT_EQ(t->files, 2);
	assert_files(t, "p/a/1 p/c/4");
	seen_clear(&s);

	/* at the top the paths have no leading slash */
	tree_unmark(t->top);
	buf_reset(&path);
	tree_sweep(t, t->top, &path, NULL, saw_file, &s);
	strvec_sort(&s.files);
	ASSERT_EQ(s.files.n, 2);
	ASSERT_STR_EQ(s.files.v[0], "p/a/1");
	ASSERT_STR_EQ(s.files.v[1], "p/c/4");
	ASSERT_NULL(t->top->child);
	ASSERT_EQ(t->files, 0);
	seen_clear(&s);
	buf_release(&path);
	tree_free(t);
	return 0;
}

TEST_IMPL(tree_relist_and_forget)
{
	struct tree *t = tree_new();
	struct tree_dir *d = tree_add(t->top, "d"), *sub = tree_add(d, "sub");
	struct dirents old;

	tree_file_set(t, d, "keep", 11);
	tree_file_set(t, d, "gone", 12);
	tree_file_set(t, sub, "s", 13);
	ASSERT_EQ(t->files, 3);

	/* a new listing of d: the old entries come back to the caller */
	tree_files_take(t, d, &old);
	ASSERT_EQ(d->ents.n, 0);
	ASSERT_EQ(old.n, 2);
	ASSERT_EQ(t->files, 1);
	tree_file_append(t, d, "zz", 0);
	tree_file_append(t, d, "keep", 11);
	tree_file_append(t, d, "aa", 0);
	tree_files_sort(d);
	ASSERT_EQ(t->files, 4);
	ASSERT_STR_EQ(dirents_name(&d->ents, 0), "aa");
	ASSERT_EQ(stamp_of(d, "keep"), 11);
	ASSERT(dirents_find(&old, "gone") >= 0);
	dirents_release(&old);
	tree_note(t, "d/zz", 5);			/* sorted again: notes find it */
	ASSERT_EQ(stamp_of(d, "zz"), 5);
	ASSERT_EQ(t->files, 4);

	/* a parked move forgets a whole subtree's files, keeps its directories */
	tree_forget_files(t, d);
	ASSERT_EQ(t->files, 0);
	ASSERT(tree_child(d, "sub") == sub);
	assert_files(t, "");
	tree_free(t);
	return 0;
}

static bool want_py(const void *arg, const char *rel)
{
	const char *suffix = arg;
	size_t n = strlen(rel), k = strlen(suffix);

	return n >= k && strcmp(rel + n - k, suffix) == 0;
}

TEST_IMPL(tree_list_files_filtered)
{
	struct tree *t = tree_new();
	struct tree_dir *pkg = tree_add(t->top, "pkg"), *sub = tree_add(pkg, "sub");
	struct strvec out = STRVEC_INIT;

	tree_file_set(t, t->top, "setup.py", 0);
	tree_file_set(t, t->top, "README", 0);
	tree_file_set(t, pkg, "__init__.py", 0);
	tree_file_set(t, pkg, "data.json", 0);
	tree_file_set(t, sub, "deep.py", 0);
	tree_add(t->top, "empty");
	strvec_push(&out, "already-there");		/* appended to, not replaced */
	tree_list_files(t, want_py, ".py", &out);
	strvec_sort(&out);
	ASSERT_EQ(out.n, 4);
	ASSERT_STR_EQ(out.v[0], "already-there");
	ASSERT_STR_EQ(out.v[1], "pkg/__init__.py");
	ASSERT_STR_EQ(out.v[2], "pkg/sub/deep.py");
	ASSERT_STR_EQ(out.v[3], "setup.py");
	strvec_clear(&out);
	tree_list_files(t, NULL, NULL, &out);
	ASSERT_EQ(out.n, 5);
	strvec_clear(&out);
	tree_free(t);
	return 0;
}
