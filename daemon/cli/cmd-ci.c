/* watchd ci [--base REF] [--format text|json|junit|sarif|github]
 *           [--report FORMAT=FILE]... [--shard K/N]
 * CI mirror mode: the same gates and config as on the laptop, over the
 * tracked files (or those changed since the merge base with REF), with
 * reports CI systems read. Trigger "ci". Exit 0 pass, 1 fail, 2 usage,
 * 4 a tool or the environment broke. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "daemon/git/repo.h"
#include "daemon/run/oneshot.h"
#include "daemon/run/report.h"
#include "daemon/watch/ignore.h"
#include "lib/err.h"
#include "lib/hmap.h"
#include "lib/xmalloc.h"

#define MAX_REPORTS 8

struct report_out {
	int		 fmt;
	const char	*file;
};

static int write_file(const char *path, const struct buf *b)
{
	FILE *fp = fopen(path, "w");
	int rc = 0;

	if (fp == NULL)
		return -errno;
	if (fwrite(b->buf, 1, b->len, fp) != b->len)
		rc = -EIO;
	if (fclose(fp) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

/* --shard K/N keeps the files whose path hash falls in bucket K: stable
 * across runs and machines, so N jobs split the tree without talking. */
static void shard(struct strvec *files, int k, int n)
{
	size_t j = 0;

	for (size_t i = 0; i < files->n; i++) {
		if ((int)(hmap_hash(files->v[i], strlen(files->v[i])) % (uint64_t)n) == k - 1)
			files->v[j++] = files->v[i];
		else
			free(files->v[i]);
	}
	files->n = j;
	if (files->v)
		files->v[j] = NULL;
}

int cmd_ci(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "base", required_argument, NULL, 'b' },
		{ "format", required_argument, NULL, 'f' },
		{ "report", required_argument, NULL, 'r' },
		{ "shard", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct report_out reports[MAX_REPORTS];
	struct oneshot o = { .content_root = ctx->root, .trigger = "ci" };
	struct strvec files = STRVEC_INIT;
	const char *base = NULL;
	int fmt = REPORT_TEXT, nreports = 0, shard_k = 0, shard_n = 0, c, rc;
	struct wd_err err = { 0 };
	struct repo *repo;
	struct ignore *ig;
	cJSON *run = NULL;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			base = optarg;
			break;
		case 'f':
			if ((fmt = report_format_parse(optarg)) < 0) {
				cli_error("--format %s: expected text, json, junit, sarif or github",
				    optarg);
				return WD_EXIT_USAGE;
			}
			break;
		case 'r': {
			char *eq = strchr(optarg, '=');
			int f;

			if (eq == NULL || eq[1] == '\0' || nreports == MAX_REPORTS) {
				cli_error("--report %s: expected FORMAT=FILE (at most %d)", optarg,
				    MAX_REPORTS);
				return WD_EXIT_USAGE;
			}
			*eq = '\0';
			if ((f = report_format_parse(optarg)) < 0 || f == REPORT_TEXT) {
				cli_error("--report %s: expected json, junit, sarif or github", optarg);
				return WD_EXIT_USAGE;
			}
			reports[nreports].fmt = f;
			reports[nreports++].file = eq + 1;
			break;
		}
		case 's':
			if (sscanf(optarg, "%d/%d", &shard_k, &shard_n) != 2 || shard_n < 1 ||
			    shard_k < 1 || shard_k > shard_n) {
				cli_error("--shard %s: expected K/N with 1 <= K <= N", optarg);
				return WD_EXIT_USAGE;
			}
			break;
		default:
			return cli_usage("ci");
		}
	}
	if (optind != argc)
		return cli_usage("ci");
	repo = repo_open(ctx->root);
	if (repo == NULL) {
		cli_error("%s is not a git work tree: ci checks tracked files", ctx->root);
		return WD_EXIT_USAGE;
	}
	rc = base ? repo_changed_since(repo, base, &files, &err) : repo_index_paths(repo, &files);
	if (rc != 0) {
		cli_error("%s", err.msg[0] ? err.msg : "cannot read the git index");
		repo_close(repo);
		return base ? WD_EXIT_USAGE : WD_EXIT_RUNTIME;
	}
	ig = ignore_new(&ctx->cfg.ignore, repo);
	{
		size_t j = 0;

		for (size_t i = 0; i < files.n; i++) {
			char *abs = xasprintf("%s/%s", ctx->root, files.v[i]);
			struct stat st;
			bool keep = lstat(abs, &st) == 0 && !ignore_path(ig, files.v[i], false);

			free(abs);
			if (keep)
				files.v[j++] = files.v[i];
			else
				free(files.v[i]);
		}
		files.n = j;
		if (files.v)
			files.v[j] = NULL;
	}
	ignore_free(ig);
	repo_close(repo);
	if (shard_n > 1)
		shard(&files, shard_k, shard_n);
	o.run_out = &run;
	rc = oneshot_run(ctx, &o, &files);
	strvec_clear(&files);
	if (run == NULL)
		return rc;
	if (fmt == REPORT_TEXT)
		oneshot_print_text(run);
	else {
		struct buf b = BUF_INIT;

		report_write(run, fmt, &b);
		fwrite(b.buf, 1, b.len, stdout);
		buf_release(&b);
	}
	for (int i = 0; i < nreports; i++) {
		struct buf b = BUF_INIT;
		int w;

		report_write(run, reports[i].fmt, &b);
		if ((w = write_file(reports[i].file, &b)) != 0) {
			cli_error("cannot write %s: %s", reports[i].file, strerror(-w));
			rc = WD_EXIT_RUNTIME;
		}
		buf_release(&b);
	}
	cJSON_Delete(run);
	return rc;
}
