/* Staged content for `check --staged`: ids from the index, bytes written
 * out lazily. A task whose files, config files (and, for a gate that reads
 * more than its files, whole input set) are in the work tree exactly as
 * staged runs there, on the real paths; otherwise all of them go to a
 * private tree under .watchd/tmp, written once per check. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <ftw.h>
#include <unistd.h>

#include "daemon/run/select.h"
#include "gates/gate.h"
#include "lib/xmalloc.h"
#include "staged.h"

static int staged_blob(void *arg, const char *path, char out[OID_HEX + 1])
{
	struct staged *st = arg;
	struct repo_entry e;
	char *p;
	int rc;

	if (repo_index_entry(st->repo, path, &e) == 0) {
		memcpy(out, e.oid, sizeof(e.oid));
		return 0;
	}
	/* a config file nobody tracks is read where it is */
	p = xasprintf("%s/%s", st->root, path);
	rc = repo_hash_file(p, out);
	free(p);
	return rc;
}

/* Writes the staged version of path (or, if it is not in the index, the
 * working tree's, for config files nobody tracks) under st->dir. */
static int materialize(struct staged *st, const char *path)
{
	char *dest = xasprintf("%s/%s", st->dir, path);
	int rc = repo_index_checkout(st->repo, path, dest);

	if (rc == -ENOENT) {
		char *src = xasprintf("%s/%s", st->root, path);
		FILE *in = fopen(src, "rb"), *out = NULL;

		rc = -ENOENT;
		if (in && (out = fopen(dest, "wb")) != NULL) {
			char buf[65536];
			size_t n;

			while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
				fwrite(buf, 1, n, out);
			rc = 0;
		}
		if (in)
			fclose(in);
		if (out)
			fclose(out);
		free(src);
	}
	free(dest);
	return rc;
}

/* True when the tool would read the staged bytes of path at ROOT/path. */
static bool as_staged(struct staged *st, const char *path)
{
	struct repo_entry e;

	/* only a config file can be missing from the index here, and
	 * materialize() copies such a file from the work tree anyway */
	if (repo_index_entry(st->repo, path, &e) != 0)
		return true;
	return repo_worktree_matches(st->repo, st->root, path, &e);
}

static const char *staged_prepare(void *arg, const struct gate *g, const char *const *files,
    size_t n, struct wd_err *err)
{
	struct staged *st = arg;
	struct strvec need = STRVEC_INIT;
	const char *where = st->root;
	bool clean = true;

	for (size_t i = 0; i < n; i++)
		strvec_push(&need, files[i]);
	strvec_pushv(&need, &g->config_files);
	if (g->tests || g->batching == GATE_BATCH_NONE)
		for (size_t i = 0; i < st->index->n; i++)
			if (select_is_input(g, st->index->v[i]))
				strvec_push(&need, st->index->v[i]);
	strvec_sort_uniq(&need);
	for (size_t i = 0; i < need.n && clean; i++)
		clean = as_staged(st, need.v[i]);
	if (clean)
		goto out;
	if (st->dir == NULL) {
		char *dir = xasprintf("%s/staged-XXXXXX", st->tmp_dir);

		mkdir(st->tmp_dir, 0700);
		if (mkdtemp(dir) == NULL) {
			wd_err_set(err, -errno, "cannot create a directory for the staged "
			    "content: %s", strerror(errno));
			free(dir);
			where = NULL;
			goto out;
		}
		st->dir = dir;
	}
	for (size_t i = 0; i < need.n; i++) {
		int rc;

		if (hmap_gets(&st->written, need.v[i]))
			continue;
		rc = materialize(st, need.v[i]);
		if (rc != 0 && rc != -ENOENT) {
			wd_err_set(err, rc, "cannot write the staged %s: %s", need.v[i],
			    strerror(-rc));
			where = NULL;
			goto out;
		}
		hmap_puts(&st->written, need.v[i], (void *)1);
		st->nwritten++;
	}
	where = st->dir;
out:
	strvec_clear(&need);
	return where;
}

void staged_init(struct staged *st, struct repo *repo, const char *root, const char *tmp_dir,
    const struct strvec *index)
{
	memset(st, 0, sizeof(*st));
	st->repo = repo;
	st->root = root;
	st->tmp_dir = tmp_dir;
	st->index = index;
	st->content.blob = staged_blob;
	st->content.prepare = staged_prepare;
	st->content.arg = st;
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void remove_tree(const char *dir)
{
	/* depth first, links not followed: only the tree itself goes */
	nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

void staged_release(struct staged *st)
{
	if (st->dir)
		remove_tree(st->dir);
	free(st->dir);
	hmap_release(&st->written);
}
