/* The file lists and the shard filter of `watchd ci`. Only tracked files
 * count: CI checks out what is committed, and parity with it means an
 * untracked file on the laptop is never judged, not even when a changed
 * config file expands a gate to every file it includes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ci-select.h"
#include "daemon/git/repo.h"
#include "daemon/watch/ignore.h"
#include "lib/err.h"
#include "lib/hmap.h"
#include "lib/xmalloc.h"

/* Keeps the paths of v that exist under root and are not ignored. */
static void keep_present(const char *root, struct ignore *ig, struct strvec *v)
{
	size_t j = 0;

	for (size_t i = 0; i < v->n; i++) {
		char *abs = xasprintf("%s/%s", root, v->v[i]);
		struct stat st;
		bool keep = lstat(abs, &st) == 0 && !ignore_path(ig, v->v[i], false);

		free(abs);
		if (keep)
			v->v[j++] = v->v[i];
		else
			free(v->v[i]);
	}
	v->n = j;
	if (v->v)
		v->v[j] = NULL;
}

int ci_list(struct cli_ctx *ctx, const char *base, struct strvec *changed,
    struct strvec *tracked, char merge_base[OID_HEX + 1])
{
	struct wd_err err = { 0 };
	struct repo *repo = repo_open(ctx->root);
	struct ignore *ig = NULL;
	int rc = 0;

	if (repo == NULL) {
		cli_error("%s is not a git work tree: ci checks tracked files", ctx->root);
		return WD_EXIT_USAGE;
	}
	if (repo_index_paths(repo, tracked) != 0) {
		cli_error("cannot read the git index");
		rc = WD_EXIT_RUNTIME;
		goto out;
	}
	if (base && repo_changed_since(repo, base, changed, merge_base, &err) != 0) {
		cli_error("%s", err.msg[0] ? err.msg : "cannot diff against the base");
		rc = WD_EXIT_USAGE;
		goto out;
	}
	ig = ignore_new(&ctx->cfg.ignore, repo);
	keep_present(ctx->root, ig, tracked);
	if (base)
		keep_present(ctx->root, ig, changed);
	else
		strvec_pushv(changed, tracked);
out:
	ignore_free(ig);
	repo_close(repo);
	return rc;
}

int ci_shard_parse(const char *arg, struct ci_shard *out)
{
	char tail;

	if (sscanf(arg, "%d/%d%c", &out->k, &out->n, &tail) != 2 || out->n < 1 ||
	    out->k < 1 || out->k > out->n)
		return -1;
	return 0;
}

bool ci_shard_keep(void *arg, const struct gate *g, const char *path)
{
	const struct ci_shard *sh = arg;
	size_t ng = strlen(g->name), np = strlen(path);
	char *key;
	uint64_t h;

	if (sh->n <= 1)
		return true;
	/* a gate given no file names judges the tree in one process: split,
	 * it would run (and report) in every shard holding one of its files,
	 * so one shard, chosen by its name, has it whole */
	if (g->batching == GATE_BATCH_NONE)
		np = 0;
	/* the NUL keeps ("ab", "c") and ("a", "bc") apart */
	key = xmalloc(ng + 1 + np);
	memcpy(key, g->name, ng + 1);
	memcpy(key + ng + 1, path, np);
	h = hmap_hash(key, ng + 1 + np);
	free(key);
	return (int)(h % (uint64_t)sh->n) == sh->k - 1;
}
