/* libgit2 wrapper: the only file that includes git2.h. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>

#include <pthread.h>
#include <stdbool.h>

#include <git2.h>
#include <libssh2.h>

#include "lib/blobid.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/xmalloc.h"
#include "repo.h"

struct repo {
	git_repository	*repo;
	git_index	*index;		/* cached; reloaded by repo_refresh */
	git_index	*hook_index;	/* the index a commit is being made from */
	bool		 index_read;	/* commit_index re-read r->index already: one
					 * snapshot per handle (libgit2 re-reads the
					 * file's checksum on every git_index_read) */
	char		*gitdir;
};

/* git_libgit2_init parses the system's CA bundle for TLS we never use:
 * 7 ms, so the daemon runs it on a thread while it opens its ledger. */
static pthread_t init_thread;
static enum { INIT_NONE, INIT_RUNNING, INIT_DONE } init_state;

static void global_init(void)
{
	/* libgit2 initialises libssh2 for its SSH transport, and libssh2 then
	 * initialises OpenSSL's libcrypto: 1.6 MiB resident for transports
	 * watchd never uses. libssh2 initialises its crypto only in its first
	 * libssh2_init, so this one, before libgit2's, turns that off. */
	libssh2_init(LIBSSH2_INIT_NO_CRYPTO);
	git_libgit2_init();
	/* With mbedTLS (Debian's build), that init parsed the system's CA
	 * bundle into 400 kB of heap held for the process's life, for HTTPS
	 * watchd never speaks through libgit2 (the remote cache uses curl).
	 * libgit2 frees the old chain once a new location loads: a directory
	 * holding no regular file (only one per thread) loads an empty one.
	 * Without TLS in libgit2 the call fails, which is as good. */
	git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, NULL, "/proc/self/task");
	git_error_clear();
}

static void *init_main(void *arg)
{
	(void)arg;
	global_init();
	return NULL;
}

void repo_global_init_start(void)
{
	if (init_state == INIT_NONE && pthread_create(&init_thread, NULL, init_main, NULL) == 0)
		init_state = INIT_RUNNING;
}

void repo_global_init_wait(void)
{
	if (init_state == INIT_RUNNING) {
		pthread_join(init_thread, NULL);
		init_state = INIT_DONE;
	}
}

void repo_global_init(void)
{
	if (init_state == INIT_RUNNING)
		pthread_join(init_thread, NULL);
	else if (init_state == INIT_NONE)
		global_init();
	init_state = INIT_DONE;
}

/* A git work tree is a directory holding ".git": a repository directory
 * (with HEAD) or a file naming one ("gitdir: ..."; linked worktrees,
 * submodules). Like libgit2's discovery without its environment: upwards
 * from dir, not across file systems. */
static bool has_dotgit(const char *dir, dev_t *dev)
{
	char *p = xasprintf("%s/.git", dir);
	struct stat st;
	bool yes = false;

	if (lstat(p, &st) == 0) {
		*dev = st.st_dev;
		if (S_ISDIR(st.st_mode)) {
			char *head = xasprintf("%s/HEAD", p);

			yes = access(head, F_OK) == 0;
			free(head);
		} else if (S_ISREG(st.st_mode)) {
			char buf[8] = "";
			int fd = open(p, O_RDONLY | O_CLOEXEC);

			if (fd >= 0) {
				yes = read(fd, buf, 7) == 7 && memcmp(buf, "gitdir:", 7) == 0;
				close(fd);
			}
		}
	}
	free(p);
	return yes;
}

/* Where a directory named ".git" is itself what dir is in (cwd inside
 * the git directory), libgit2's answer is needed. */
static bool inside_gitdir(const char *dir)
{
	return strstr(dir, "/.git/") != NULL || (strlen(dir) >= 5 &&
	    strcmp(dir + strlen(dir) - 5, "/.git") == 0);
}

char *repo_discover_workdir(const char *dir)
{
	git_repository *r = NULL;
	const char *wd;
	char *out = NULL;
	struct stat st;

	/* the common case without libgit2: CLI commands then start in a few
	 * milliseconds instead of paying for its initialisation */
	if (!inside_gitdir(dir) && stat(dir, &st) == 0) {
		char *d = xstrdup(dir);
		dev_t dev0 = st.st_dev, dev;

		for (;;) {
			char *slash;

			if (stat(d, &st) != 0 || st.st_dev != dev0)
				break;
			if (has_dotgit(d, &dev)) {
				size_t n = strlen(d);

				while (n > 1 && d[n - 1] == '/')
					n--;
				d[n] = '\0';
				return d;
			}
			slash = strrchr(d, '/');
			if (slash == NULL || slash == d)
				break;
			*slash = '\0';
		}
		free(d);
		return NULL;
	}
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

bool repo_absent(const char *root)
{
	char *p = xasprintf("%s/.git", root);
	struct stat st;
	bool none;

	/* What git_repository_open_ext with NO_SEARCH accepts is root/.git
	 * (a directory, a "gitdir:" file or a link to either) or root itself
	 * as a git directory, which has HEAD. Anything there at all, even
	 * unreadable, is left to libgit2. */
	none = lstat(p, &st) < 0 && errno == ENOENT;
	free(p);
	if (none) {
		p = xasprintf("%s/HEAD", root);
		none = lstat(p, &st) < 0 && errno == ENOENT;
		free(p);
	}
	return none;
}

struct repo *repo_open(const char *root)
{
	git_repository *gr = NULL;
	struct repo *r;

	/* without libgit2 where there is nothing to open: its initialisation
	 * need then not be waited for */
	if (repo_absent(root))
		return NULL;
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
	git_index_free(r->hook_index);
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

/* lib/blobid gives git's ids without libgit2 (the scheduler hashes on the
 * thread pool with it): one implementation serves both, and neither waits
 * for libgit2's initialisation. */
void repo_hash_buf(const void *data, size_t len, char out[OID_HEX + 1])
{
	blobid_buf(data, len, out);
}

int repo_hash_file(const char *path, char out[OID_HEX + 1])
{
	return blobid_file(path, 0, NULL, out);
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

void repo_trim(struct repo *r)
{
	if (r)
		git_attr_cache_flush(r->repo);
}

int repo_ignored(struct repo *r, const char *relpath, bool is_dir)
{
	int ignored = 0;

	if (r == NULL)
		return 0;
	/* a tracked file is never ignored: asked first, from the index in
	 * memory, it spares libgit2's check, which stats every rules file on
	 * the way to the path (four to six calls a file) */
	if (!is_dir && tracked(r, relpath, false))
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

/* libgit2's attribute cache takes core.excludesFile from the config as
 * written (expanding "~/"), else $XDG_CONFIG_HOME/git/ignore or
 * ~/.config/git/ignore when that exists; relative paths resolve against
 * the process's directory, which for the daemon is ROOT. */
int repo_rules_files(struct repo *r, struct strvec *out)
{
	git_buf buf = { 0 };
	git_config *cfg = NULL;
	const char *wd;

	if (r == NULL)
		return 0;
	wd = git_repository_workdir(r->repo);
	if (git_repository_item_path(&buf, r->repo, GIT_REPOSITORY_ITEM_INFO) == 0) {
		size_t n = strlen(buf.ptr);

		strvec_pushf(out, "%s%sexclude", buf.ptr, n && buf.ptr[n - 1] == '/' ? "" : "/");
		git_buf_dispose(&buf);
	}
	if (git_repository_config_snapshot(&cfg, r->repo) == 0 &&
	    git_config_get_path(&buf, cfg, "core.excludesFile") == 0 && buf.ptr && *buf.ptr) {
		if (buf.ptr[0] == '/' || wd == NULL)
			strvec_push(out, buf.ptr);
		else
			strvec_pushf(out, "%s%s", wd, buf.ptr);
	} else {
		const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
		char *def = NULL;
		struct stat st;

		if (xdg && *xdg)
			def = xasprintf("%s/git/ignore", xdg);
		else if (home && *home)
			def = xasprintf("%s/.config/git/ignore", home);
		if (def && stat(def, &st) == 0)
			strvec_push_owned(out, def);
		else
			free(def);
	}
	git_buf_dispose(&buf);
	git_config_free(cfg);
	return 0;
}

void repo_refresh(struct repo *r)
{
	if (r == NULL)
		return;
	if (r->index)
		git_index_read(r->index, 0);
	r->index_read = false;
}

/* Inside a pre-commit hook git points GIT_INDEX_FILE at the index being
 * committed (.git/index.lock for `commit -a`, next-index-*.lock for
 * `commit PATHS`): that, not .git/index, is what will be committed. */
static git_index *commit_index(struct repo *r)
{
	const char *env = getenv("GIT_INDEX_FILE");

	if (r->hook_index)
		return r->hook_index;
	if (env && *env) {
		char *path = env[0] == '/' ? xstrdup(env) : NULL;

		if (path == NULL) {
			char cwd[PATH_MAX];

			if (getcwd(cwd, sizeof(cwd)) == NULL)
				return index_of(r);
			path = xasprintf("%s/%s", cwd, env);
		}
		if (git_index_open(&r->hook_index, path) != 0)
			r->hook_index = NULL;
		free(path);
		if (r->hook_index)
			return r->hook_index;
	}
	if (index_of(r) && !r->index_read) {
		git_index_read(r->index, 0);
		r->index_read = true;
	}
	return r->index;
}

int repo_staged(struct repo *r, struct strvec *out)
{
	git_index *idx = commit_index(r);
	git_tree *head = NULL;
	git_object *obj = NULL;
	git_diff *diff = NULL;
	git_diff_options opts;
	int rc;

	if (idx == NULL)
		return WD_EGIT;
	/* an unborn HEAD diffs against the empty tree (NULL) */
	if (git_revparse_single(&obj, r->repo, "HEAD^{tree}") == 0)
		head = (git_tree *)obj;
	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	opts.flags = GIT_DIFF_IGNORE_SUBMODULES;
	rc = git_diff_tree_to_index(&diff, r->repo, head, idx, &opts);
	if (rc == 0) {
		size_t n = git_diff_num_deltas(diff);

		for (size_t i = 0; i < n; i++) {
			const git_diff_delta *d = git_diff_get_delta(diff, i);

			if (d->status == GIT_DELTA_DELETED || d->new_file.mode == GIT_FILEMODE_COMMIT)
				continue;
			strvec_push(out, d->new_file.path);
		}
	}
	git_diff_free(diff);
	git_tree_free(head);
	strvec_sort(out);
	return rc == 0 ? 0 : WD_EGIT;
}

int repo_index_paths(struct repo *r, struct strvec *out)
{
	git_index *idx = commit_index(r);
	size_t n;

	if (idx == NULL)
		return WD_EGIT;
	n = git_index_entrycount(idx);
	for (size_t i = 0; i < n; i++) {
		const git_index_entry *e = git_index_get_byindex(idx, i);

		if (e == NULL || GIT_INDEX_ENTRY_STAGE(e) != 0 || e->mode == GIT_FILEMODE_COMMIT)
			continue;
		strvec_push(out, e->path);
	}
	strvec_sort(out);
	return 0;
}

int repo_index_entry(struct repo *r, const char *path, struct repo_entry *out)
{
	git_index *idx = commit_index(r);
	const git_index_entry *e;

	if (idx == NULL || (e = git_index_get_bypath(idx, path, 0)) == NULL ||
	    e->mode == GIT_FILEMODE_COMMIT)
		return -ENOENT;
	git_oid_tostr(out->oid, sizeof(out->oid), &e->id);
	out->mode = e->mode;
	out->mtime_s = e->mtime.seconds;
	out->mtime_ns = e->mtime.nanoseconds;
	out->size = e->file_size;
	out->ino = e->ino;
	return 0;
}

bool repo_worktree_matches(struct repo *r, const char *root, const char *path,
    const struct repo_entry *e)
{
	git_index *idx = commit_index(r);
	const char *ipath = idx ? git_index_path(idx) : NULL;
	char *full = xasprintf("%s/%s", root, path);
	char oid[OID_HEX + 1];
	struct stat st, ist;
	bool same = false;

	if (lstat(full, &st) < 0 || !S_ISREG(st.st_mode) || e->mode == GIT_FILEMODE_LINK ||
	    (uint32_t)st.st_size != e->size)
		goto out;
	/* git's own test: the stat data it recorded still holds, and the
	 * index was written after the file last changed (a file modified in
	 * the same second as the index may still carry old stat data) */
	if (st.st_mtim.tv_sec == e->mtime_s && st.st_mtim.tv_nsec == e->mtime_ns &&
	    (uint32_t)st.st_ino == e->ino && ipath && stat(ipath, &ist) == 0 &&
	    (st.st_mtim.tv_sec < ist.st_mtim.tv_sec ||
	     (st.st_mtim.tv_sec == ist.st_mtim.tv_sec &&
	      st.st_mtim.tv_nsec < ist.st_mtim.tv_nsec))) {
		same = true;
		goto out;
	}
	same = repo_hash_file(full, oid) == 0 && strcmp(oid, e->oid) == 0;
out:
	free(full);
	return same;
}

int repo_read_blob(struct repo *r, const char *path, bool from_head, struct buf *out)
{
	git_object *obj = NULL;
	git_blob *blob = NULL;
	int rc = 0;

	if (from_head) {
		char *spec = xasprintf("HEAD:%s", path);

		rc = git_revparse_single(&obj, r->repo, spec);
		free(spec);
		if (rc != 0 || git_object_type(obj) != GIT_OBJECT_BLOB) {
			git_object_free(obj);
			return -ENOENT;
		}
		blob = (git_blob *)obj;
	} else {
		git_index *idx = commit_index(r);
		const git_index_entry *e;

		if (idx == NULL || (e = git_index_get_bypath(idx, path, 0)) == NULL)
			return -ENOENT;
		if (git_blob_lookup(&blob, r->repo, &e->id) != 0)
			return WD_EGIT;
	}
	buf_add(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	git_blob_free(blob);
	return rc;
}

static int mkdirs_for(const char *path)
{
	char *p = xstrdup(path);

	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST) {
			int rc = -errno;

			free(p);
			return rc;
		}
		*s = '/';
	}
	free(p);
	return 0;
}

int repo_index_checkout(struct repo *r, const char *path, const char *dest)
{
	git_index *idx = commit_index(r);
	const git_index_entry *e;
	git_blob *blob = NULL;
	const void *data;
	size_t len;
	int rc = 0, fd;

	if (idx == NULL || (e = git_index_get_bypath(idx, path, 0)) == NULL)
		return -ENOENT;
	if (git_blob_lookup(&blob, r->repo, &e->id) != 0)
		return WD_EGIT;
	data = git_blob_rawcontent(blob);
	len = (size_t)git_blob_rawsize(blob);
	if ((rc = mkdirs_for(dest)) != 0)
		goto out;
	unlink(dest);
	if (e->mode == GIT_FILEMODE_LINK) {
		char *target = xstrndup(data, len);

		if (symlink(target, dest) < 0)
			rc = -errno;
		free(target);
		goto out;
	}
	fd = open(dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    e->mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, (const char *)data + off, len - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		off += (size_t)w;
	}
	close(fd);
out:
	git_blob_free(blob);
	return rc;
}

char *repo_hooks_dir(struct repo *r)
{
	git_config *cfg = NULL;
	git_buf val = { 0 };
	char *out = NULL;

	/* git_config_get_path expands "~/" as git does for core.hooksPath */
	if (git_repository_config_snapshot(&cfg, r->repo) == 0 &&
	    git_config_get_path(&val, cfg, "core.hooksPath") == 0 && val.size > 0) {
		const char *wd = git_repository_workdir(r->repo);

		if (val.ptr[0] == '/' || wd == NULL)
			out = xstrdup(val.ptr);
		else
			out = xasprintf("%s%s", wd, val.ptr);
	}
	git_buf_dispose(&val);
	git_config_free(cfg);
	if (out == NULL) {
		/* a linked worktree's git dir is .git/worktrees/NAME, but git
		 * runs the hooks of the common directory */
		const char *common = git_repository_commondir(r->repo);
		const char *dir = common ? common : r->gitdir;
		size_t n = strlen(dir);

		out = xasprintf("%.*s%shooks", (int)n, dir, n && dir[n - 1] == '/' ? "" : "/");
	}
	{
		size_t n = strlen(out);

		while (n > 1 && out[n - 1] == '/')
			out[--n] = '\0';
	}
	return out;
}

int repo_changed_since(struct repo *r, const char *base, struct strvec *out,
    char merge_base[OID_HEX + 1], struct wd_err *err)
{
	git_object *base_obj = NULL, *base_commit = NULL;
	git_oid head, mb;
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	git_diff *diff = NULL;
	git_diff_options opts;
	int rc = WD_EGIT;

	if (git_revparse_single(&base_obj, r->repo, base) != 0) {
		wd_err_set(err, WD_EGIT, "--base %s: no such revision%s", base,
		    git_repository_is_shallow(r->repo) ? " (this is a shallow clone: fetch the "
		    "base, e.g. fetch-depth: 0)" : "");
		return WD_EGIT;
	}
	/* an annotated tag names a tag object, which the merge base search
	 * does not follow: peel it (and any commit-ish) to its commit */
	if (git_object_peel(&base_commit, base_obj, GIT_OBJECT_COMMIT) != 0) {
		wd_err_set(err, WD_EGIT, "--base %s: names a %s, not a commit", base,
		    git_object_type2string(git_object_type(base_obj)));
		goto out;
	}
	if (git_reference_name_to_id(&head, r->repo, "HEAD") != 0) {
		wd_err_set(err, WD_EGIT, "HEAD does not point at a commit");
		goto out;
	}
	/* libgit2's revwalk does not understand shallow history: say so
	 * instead of reporting a bogus "object not found" (PITFALLS §5) */
	if (git_merge_base(&mb, r->repo, &head, git_object_id(base_commit)) != 0) {
		wd_err_set(err, WD_EGIT, "--base %s: no merge base with HEAD%s", base,
		    git_repository_is_shallow(r->repo) ? ": this is a shallow clone, fetch the "
		    "full history (e.g. fetch-depth: 0)" : "");
		goto out;
	}
	if (merge_base)
		git_oid_tostr(merge_base, OID_HEX + 1, &mb);
	if (git_commit_lookup(&commit, r->repo, &mb) != 0 || git_commit_tree(&tree, commit) != 0) {
		wd_err_set(err, WD_EGIT, "cannot read the merge base's tree");
		goto out;
	}
	/* tracked files only: an untracked file is no part of what CI checks
	 * out, so judging it would break local/CI parity */
	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	opts.flags = GIT_DIFF_IGNORE_SUBMODULES;
	if (git_diff_tree_to_workdir_with_index(&diff, r->repo, tree, &opts) != 0) {
		wd_err_set(err, WD_EGIT, "cannot diff against %s", base);
		goto out;
	}
	for (size_t i = 0; i < git_diff_num_deltas(diff); i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);

		if (d->status == GIT_DELTA_DELETED || d->status == GIT_DELTA_UNTRACKED ||
		    d->new_file.mode == GIT_FILEMODE_COMMIT)
			continue;
		strvec_push(out, d->new_file.path);
	}
	strvec_sort_uniq(out);
	rc = 0;
out:
	git_diff_free(diff);
	git_tree_free(tree);
	git_commit_free(commit);
	git_object_free(base_commit);
	git_object_free(base_obj);
	return rc;
}

char repo_comment_char(struct repo *r)
{
	git_config *cfg = NULL;
	git_buf val = { 0 };
	char c = '#';

	/* "auto" picks a character per message when git writes the template;
	 * what it picked is not recorded, so '#' it is */
	if (r && git_repository_config_snapshot(&cfg, r->repo) == 0 &&
	    git_config_get_string_buf(&val, cfg, "core.commentChar") == 0 && val.size == 1)
		c = val.ptr[0];
	git_buf_dispose(&val);
	git_config_free(cfg);
	return c;
}
