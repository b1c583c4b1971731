/* libgit2 wrapper: the only file that includes git2.h. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "repo.h"
#include "xmalloc.h"

struct repo {
	git_repository	*repo;
	git_index	*index;		/* cached; reloaded by repo_refresh */
	char		*gitdir;
};

void repo_global_init(void)
{
	static int done;

	if (!done) {
		git_libgit2_init();
		/* The ledger and tools never share libgit2 objects across threads;
		 * ownership checks would refuse repositories in containers where
		 * the owner differs, which is not ours to judge. */
		done = 1;
	}
}

char *repo_discover_workdir(const char *dir)
{
	git_repository *r = NULL;
	const char *wd;
	char *out = NULL;

	repo_global_init();
	if (git_repository_open_ext(&r, dir, 0, NULL) != 0)
		return NULL;
	wd = git_repository_workdir(r);
	if (wd) {
		size_t n = strlen(wd);

		while (n > 1 && wd[n - 1] == '/')
			n--;
		out = xstrndup(wd, n);
	}
	git_repository_free(r);
	return out;
}

struct repo *repo_open(const char *root)
{
	git_repository *gr = NULL;
	struct repo *r;

	repo_global_init();
	if (git_repository_open_ext(&gr, root, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) != 0)
		return NULL;
	r = xcalloc(1, sizeof(*r));
	r->repo = gr;
	r->gitdir = xstrdup(git_repository_path(gr));
	return r;
}

void repo_close(struct repo *r)
{
	if (r == NULL)
		return;
	git_index_free(r->index);
	git_repository_free(r->repo);
	free(r->gitdir);
	free(r);
}

const char *repo_gitdir(const struct repo *r)
{
	return r->gitdir;
}

int repo_head(struct repo *r, char out[OID_HEX + 1])
{
	git_oid oid;

	out[0] = '\0';
	if (r == NULL || git_reference_name_to_id(&oid, r->repo, "HEAD") != 0)
		return -1;
	git_oid_tostr(out, OID_HEX + 1, &oid);
	return 0;
}

void repo_hash_buf(const void *data, size_t len, char out[OID_HEX + 1])
{
	git_oid oid;

	repo_global_init();
	git_odb_hash(&oid, data, len, GIT_OBJECT_BLOB);
	git_oid_tostr(out, OID_HEX + 1, &oid);
}

int repo_hash_file(const char *path, char out[OID_HEX + 1])
{
	struct stat st;
	git_oid oid;

	repo_global_init();
	if (lstat(path, &st) < 0)
		return -errno;
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlink(path, target, sizeof(target));

		if (n < 0)
			return -errno;
		repo_hash_buf(target, (size_t)n, out);
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (git_odb_hashfile(&oid, path, GIT_OBJECT_BLOB) != 0)
		return access(path, R_OK) < 0 ? -errno : -EIO;
	git_oid_tostr(out, OID_HEX + 1, &oid);
	return 0;
}

static git_index *index_of(struct repo *r)
{
	if (r->index == NULL && git_repository_index(&r->index, r->repo) != 0)
		r->index = NULL;
	return r->index;
}

/* A tracked file is never ignored (git itself keeps showing its changes). */
static bool tracked(struct repo *r, const char *relpath, bool is_dir)
{
	git_index *idx = index_of(r);
	size_t pos;

	if (idx == NULL)
		return false;
	if (!is_dir)
		return git_index_get_bypath(idx, relpath, 0) != NULL;
	{
		char *prefix = xasprintf("%s/", relpath);
		int found = git_index_find_prefix(&pos, idx, prefix) == 0;

		free(prefix);
		return found;
	}
}

int repo_ignored(struct repo *r, const char *relpath, bool is_dir)
{
	int ignored = 0;

	if (r == NULL)
		return 0;
	if (is_dir) {
		char *p = xasprintf("%s/", relpath);

		if (git_ignore_path_is_ignored(&ignored, r->repo, p) != 0)
			ignored = 0;
		free(p);
	} else if (git_ignore_path_is_ignored(&ignored, r->repo, relpath) != 0)
		ignored = 0;
	if (ignored && tracked(r, relpath, is_dir))
		return 0;
	return ignored;
}

void repo_refresh(struct repo *r)
{
	if (r == NULL)
		return;
	if (r->index)
		git_index_read(r->index, 0);
}
