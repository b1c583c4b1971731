/* `watchd check --commit-msg FILE`, what the commit-msg hook runs. The
 * commit-msg gates judge in process (gates/commit-msg.c): no tool starts,
 * nothing is cached, and the run goes straight to the ledger under trigger
 * "commit-msg". The gate run lists no files, so a rejected message never
 * shows in `status` as a failing file of the work tree. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check-msg.h"
#include "daemon/git/repo.h"
#include "daemon/ledger/ledger.h"
#include "gates/commit-msg.h"
#include "lib/buf.h"
#include "lib/xmalloc.h"
#include "oneshot.h"

#define MAX_MESSAGE_BYTES (1 << 20)

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* WATCHD_SKIP=a,b: true when name is listed. */
static bool skipped(const char *name)
{
	const char *list = getenv("WATCHD_SKIP");
	size_t n = strlen(name);

	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		while (len && *p == ' ')
			p++, len--;
		while (len && p[len - 1] == ' ')
			len--;
		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p = end ? end + 1 : p + len;
		if (!end)
			break;
	}
	return false;
}

/* The message file as findings name it: relative to ROOT when inside. */
static char *display_path(const char *root, const char *file)
{
	char abs[PATH_MAX];

	if (realpath(file, abs) == NULL)
		return xstrdup(file);
	return gate_relpath(root, abs);
}

static void print_findings(const char *gate, const struct findings *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		const struct finding *f = &fs->v[i];
		char *q = gate_quote_path(f->path);

		printf("%s:%d:%d: %s %s [%s]\n", q, f->line, f->col, f->code, f->message, gate);
		free(q);
	}
}

int check_commit_msg(struct cli_ctx *ctx, const char *file, bool json)
{
	struct buf msg = BUF_INIT;
	struct ledger *ledger = NULL;
	struct repo *repo = NULL;
	struct wd_err err = { 0 };
	struct ledger_run lr;
	char head[OID_HEX + 1], chash[OID_HEX + 1], *path = NULL;
	const char *status = "pass";
	size_t ngates = 0, nfindings = 0, nskipped = 0;
	int c, rc = WD_EXIT_RUNTIME;
	char cc;

	if ((c = buf_read_file(&msg, file, MAX_MESSAGE_BYTES + 1)) < 0) {
		cli_error("cannot read the commit message %s: %s", file, strerror(-c));
		rc = WD_EXIT_USAGE;
		goto out;
	}
	if (msg.len > MAX_MESSAGE_BYTES) {
		cli_error("%s: a commit message over %d bytes is not judged", file,
		    MAX_MESSAGE_BYTES);
		rc = WD_EXIT_USAGE;
		goto out;
	}
	for (size_t i = 0; i < ctx->cfg.ngates; i++)
		ngates += commit_msg_gate_opts(&ctx->cfg.gates[i]) != NULL;
	if (ngates == 0) {
		/* the hook outlived its gate: let the commit through, say why */
		fprintf(stderr, "watchd: no commit-msg gate in %s; message not checked\n",
		    ctx->config_path);
		rc = WD_EXIT_OK;
		goto out;
	}
	if ((c = cli_state_dir(ctx)) != 0) {
		cli_error("cannot create %s: %s", ctx->state_dir, strerror(-c));
		goto out;
	}
	if (ledger_open(ctx->ledger_path, LEDGER_WRITE, &ledger, &err) != 0) {
		cli_error("%s", err.msg);
		goto out;
	}
	repo = repo_open(ctx->root);
	cc = repo_comment_char(repo);
	path = display_path(ctx->root, file);
	memset(&lr, 0, sizeof(lr));
	ulid_new(lr.id);
	lr.trigger = "commit-msg";
	lr.git_head = repo && repo_head(repo, head) == 0 ? head : NULL;
	repo_hash_buf(ctx->cfg.text ? ctx->cfg.text : "", ctx->cfg.text_len, chash);
	lr.config_hash = chash;
	lr.started_ms = wall_ms();
	if (ledger_run_begin(ledger, &lr, &err) != 0 && ledger_queued(ledger) == 0) {
		cli_error("%s", err.msg);
		goto out;
	}
	for (size_t i = 0; i < ctx->cfg.ngates; i++) {
		const struct gate *g = &ctx->cfg.gates[i];
		const struct commit_msg_opts *base = commit_msg_gate_opts(g);
		struct commit_msg_opts o;
		struct findings fs = { 0 };
		struct ledger_gate_run gr = { 0 };
		char fp[OID_HEX + 1], why[128];

		if (base == NULL)
			continue;
		o = *base;
		o.comment_char = cc;
		gr.run_id = lr.id;
		gr.gate = g->name;
		repo_hash_buf(g->definition, strlen(g->definition), fp);
		gr.fingerprint = fp;
		gr.exit_code = -1;
		gr.started_ms = wall_ms();
		gr.tests_total = gr.tests_passed = gr.tests_failed = gr.tests_skipped = -1;
		if (skipped(g->name)) {
			gr.status = GATE_SKIPPED;
			gr.message = "skipped by WATCHD_SKIP";
			nskipped++;
		} else {
			commit_msg_check(msg.buf, msg.len, &o, path, &fs);
			gr.status = fs.n ? GATE_FAIL : GATE_PASS;
			gr.findings = &fs;
			if (fs.n) {
				snprintf(why, sizeof(why), "%zu problem(s) in the commit message", fs.n);
				gr.message = why;
				status = "fail";
			}
		}
		gr.duration_ms = wall_ms() - gr.started_ms;
		if (ledger_gate_record(ledger, &gr, &err) != 0 && ledger_queued(ledger) == 0) {
			cli_error("%s", err.msg);
			findings_release(&fs);
			goto out;
		}
		if (!json)
			print_findings(g->name, &fs);
		nfindings += fs.n;
		findings_release(&fs);
	}
	if ((ledger_run_finish(ledger, lr.id, status, wall_ms(), &err) != 0 &&
	    ledger_queued(ledger) == 0) || ledger_retry(ledger, &err) != 0) {
		cli_error("run %s could not be recorded: %s", lr.id, err.msg);
		goto out;
	}
	rc = oneshot_exit_code(status);
	if (json) {
		cJSON *run = NULL;

		if (ledger_show(ledger, lr.id, &run, &err) != 0) {
			cli_error("%s", err.msg);
			rc = WD_EXIT_RUNTIME;
			goto out;
		}
		cli_print_json(run, false);
		cJSON_Delete(run);
	} else if (rc == WD_EXIT_FAIL) {
		fprintf(stderr, "watchd: commit message rejected: %zu problem(s) (Conventional "
		    "Commits, https://www.conventionalcommits.org/en/v1.0.0/); the message is "
		    "kept in %s\n", nfindings, path);
	} else {
		printf("watchd: commit message passed %zu gate(s)%s\n", ngates - nskipped,
		    nskipped ? " (some skipped by WATCHD_SKIP)" : "");
	}
out:
	free(path);
	repo_close(repo);
	ledger_close(ledger);
	buf_release(&msg);
	return rc;
}
