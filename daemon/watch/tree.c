/* The watched tree: directories and the files each holds (see tree.h).
 *
 * A directory knows its parent and its name, not its path, so that a
 * directory renamed within ROOT is re-parented in O(1) however much lies
 * under it; paths are built on demand by walking up. Each directory keeps
 * its files as a sorted, packed array of (name, stamp) (lib/dirents): that
 * is what a rescan compares the disk against. A file's stamp is 0 until
 * settle dispatches it, then what settle saw (tree_note), so a rescan after
 * lost events reports exactly the files changed since they were dispatched.
 * Children are a singly linked list: lookups by name walk it, which is
 * cheap at the fan-out of real trees and costs no memory per directory.
 * Expected load: 10k directories and 100k files in a few MiB. */
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/strvec.h"
#include "lib/xmalloc.h"
#include "tree.h"

struct tree *tree_new(void)
{
	struct tree *t = xcalloc(1, sizeof(*t));

	t->top = xcalloc(1, sizeof(*t->top));
	t->top->name = xstrdup("");
	t->top->wd = TREE_WD_NONE;
	return t;
}

void tree_free(struct tree *t)
{
	if (t == NULL)
		return;
	tree_free_dir(t, t->top, NULL, NULL, NULL, NULL);
	free(t);
}

void tree_path(const struct tree_dir *d, struct buf *b)
{
	if (d->parent == NULL) {
		buf_reset(b);
		return;
	}
	tree_path(d->parent, b);
	if (b->len)
		buf_addch(b, '/');
	buf_addstr(b, d->name);
}

struct tree_dir *tree_child(const struct tree_dir *d, const char *name)
{
	for (struct tree_dir *c = d->child; c; c = c->sibling)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

struct tree_dir *tree_lookup(const struct tree *t, const char *rel, size_t len)
{
	struct tree_dir *d = t->top;
	const char *p = rel, *end = rel + len;

	while (d && p < end) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		size_t n = slash ? (size_t)(slash - p) : (size_t)(end - p);
		struct tree_dir *c;

		for (c = d->child; c; c = c->sibling)
			if (strncmp(c->name, p, n) == 0 && c->name[n] == '\0')
				break;
		d = c;
		p += n + 1;
	}
	return d;
}

struct tree_dir *tree_add(struct tree_dir *parent, const char *name)
{
	struct tree_dir *c = xcalloc(1, sizeof(*c));

	c->name = xstrdup(name);
	c->wd = TREE_WD_NONE;
	tree_attach(parent, c, NULL);
	return c;
}

void tree_detach(struct tree_dir *d)
{
	if (d->parent == NULL)
		return;
	for (struct tree_dir **pp = &d->parent->child; *pp; pp = &(*pp)->sibling) {
		if (*pp == d) {
			*pp = d->sibling;
			break;
		}
	}
	d->parent = NULL;
	d->sibling = NULL;
}

void tree_attach(struct tree_dir *parent, struct tree_dir *d, const char *name)
{
	if (name) {
		free(d->name);
		d->name = xstrdup(name);
	}
	d->parent = parent;
	d->sibling = parent->child;
	parent->child = d;
}

static void path_push(struct buf *path, const char *name)
{
	if (path->len)
		buf_addch(path, '/');
	buf_addstr(path, name);
}

void tree_free_dir(struct tree *t, struct tree_dir *d, struct buf *path, tree_dir_fn *dir_fn,
    tree_file_fn *file_fn, void *arg)
{
	size_t base = path ? path->len : 0;

	while (d->child) {
		struct tree_dir *c = d->child;

		d->child = c->sibling;
		c->parent = NULL;
		if (file_fn)
			path_push(path, c->name);
		tree_free_dir(t, c, path, dir_fn, file_fn, arg);
		if (file_fn)
			buf_setlen(path, base);
	}
	if (file_fn) {
		for (uint32_t i = 0; i < d->ents.n; i++) {
			path_push(path, dirents_name(&d->ents, i));
			file_fn(arg, path->buf);
			buf_setlen(path, base);
		}
	}
	t->files -= d->ents.n;
	if (dir_fn)
		dir_fn(arg, d);
	dirents_release(&d->ents);
	free(d->name);
	free(d);
}

void tree_unmark(struct tree_dir *d)
{
	for (struct tree_dir *c = d->child; c; c = c->sibling)
		c->mark = false;
}

void tree_sweep(struct tree *t, struct tree_dir *d, struct buf *path, tree_dir_fn *dir_fn,
    tree_file_fn *file_fn, void *arg)
{
	size_t base = path->len;

	for (struct tree_dir **pp = &d->child; *pp;) {
		struct tree_dir *c = *pp;

		if (c->mark) {
			pp = &c->sibling;
			continue;
		}
		*pp = c->sibling;
		c->parent = NULL;
		c->sibling = NULL;
		path_push(path, c->name);
		tree_free_dir(t, c, path, dir_fn, file_fn, arg);
		buf_setlen(path, base);
	}
}

bool tree_file_set(struct tree *t, struct tree_dir *d, const char *name, uint64_t stamp)
{
	if (!dirents_set(&d->ents, name, stamp))
		return false;
	t->files++;
	return true;
}

bool tree_file_del(struct tree *t, struct tree_dir *d, const char *name)
{
	if (!dirents_del(&d->ents, name))
		return false;
	t->files--;
	return true;
}

void tree_note(struct tree *t, const char *rel, uint64_t stamp)
{
	const char *slash = strrchr(rel, '/');
	const char *name = slash ? slash + 1 : rel;
	struct tree_dir *d = tree_lookup(t, rel, slash ? (size_t)(slash - rel) : 0);

	if (d == NULL)
		return;
	if (stamp == 0)
		tree_file_del(t, d, name);
	else
		tree_file_set(t, d, name, stamp);
}

void tree_forget_files(struct tree *t, struct tree_dir *d)
{
	t->files -= d->ents.n;
	dirents_release(&d->ents);
	for (struct tree_dir *c = d->child; c; c = c->sibling)
		tree_forget_files(t, c);
}

void tree_files_take(struct tree *t, struct tree_dir *d, struct dirents *old)
{
	*old = d->ents;
	d->ents = (struct dirents)DIRENTS_INIT;
	t->files -= old->n;
}

void tree_files_sort(struct tree_dir *d)
{
	dirents_sort(&d->ents);
}

void tree_each_file(const struct tree_dir *d, struct buf *path, tree_file_fn *fn, void *arg)
{
	size_t base = path->len;

	for (uint32_t i = 0; i < d->ents.n; i++) {
		path_push(path, dirents_name(&d->ents, i));
		fn(arg, path->buf);
		buf_setlen(path, base);
	}
	for (const struct tree_dir *c = d->child; c; c = c->sibling) {
		path_push(path, c->name);
		tree_each_file(c, path, fn, arg);
		buf_setlen(path, base);
	}
}

struct listing {
	bool		(*want)(const void *arg, const char *rel);
	const void	*arg;
	struct strvec	*out;
};

static void list_one(void *arg, const char *rel)
{
	struct listing *l = arg;

	if (l->want == NULL || l->want(l->arg, rel))
		strvec_push(l->out, rel);
}

void tree_list_files(const struct tree *t, bool (*want)(const void *arg, const char *rel),
    const void *arg, struct strvec *out)
{
	struct buf rel = BUF_INIT;
	struct listing l = { want, arg, out };

	tree_each_file(t->top, &rel, list_one, &l);
	buf_release(&rel);
}
