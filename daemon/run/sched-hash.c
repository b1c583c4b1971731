/* A starting task's content ids (git blob ids). For files on disk (the
 * daemon, `run` and `ci` on the work tree) they are taken on libuv's thread
 * pool: hashing a 3 GB file on the loop thread held it for 6-9 s, so
 * status, new events and stop all waited. A big task's files are cut into
 * one part per core, hashed side by side. The worker reads files in 1 MiB
 * pieces and stops at the next piece when the task is superseded or the
 * daemon stops. Files the gate's tool is not handed by name (the input set
 * of a test gate, the files of a gate given no names) are read only up to
 * HASH_UNREAD_MAX; a larger one is keyed by its stamp instead, which any
 * write changes (a re-run, never a stale cached pass). Staged content
 * (`check --staged`) has its ids in the git index already: they are looked
 * up on the loop thread, which reads no file. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/blobid.h"
#include "lib/log.h"
#include "lib/strvec.h"
#include "lib/xmalloc.h"
#include "sched-internal.h"

#define HASH_UNREAD_MAX ((uint64_t)16 << 20)
#define HASH_PART_MIN 128

static void hash_work(uv_work_t *req)
{
	struct hash_part *part = req->data;
	struct hash_job *j = part->j;
	char path[PATH_MAX];
	size_t first = j->nconf + j->ninputs;

	for (size_t i = part->from; i < part->to; i++) {
		uint64_t cap;
		int n;

		if (j->paths[i] == NULL)
			continue;
		if (atomic_load(&j->cancel))
			break;
		cap = i < j->nconf ? 0 : i < first ? HASH_UNREAD_MAX : j->files_cap;
		if (j->root_fd >= 0) {
			if (blobid_fileat(j->root_fd, j->paths[i], cap, &j->cancel,
			    hash_oid(j, i)) != 0)
				hash_oid(j, i)[0] = '\0';
			continue;
		}
		n = snprintf(path, sizeof(path), "%s/%s", j->root, j->paths[i]);
		if (n < 0 || (size_t)n >= sizeof(path) ||
		    blobid_file(path, cap, &j->cancel, hash_oid(j, i)) != 0)
			hash_oid(j, i)[0] = '\0';
	}
}

static void hash_done(uv_work_t *req, int status)
{
	struct hash_part *part = req->data;
	struct hash_job *j = part->j;
	struct sched *s = j->s;

	uint64_t t0;
	size_t nf = j->t->files.n;

	if (status == UV_ECANCELED)
		atomic_store(&j->cancel, 1);
	if (--j->left > 0)
		return;		/* the other parts are still being hashed */
	log_stage("hash", j->n, j->queued);
	j->t->hashing = NULL;
	t0 = log_stage_start();
	exec_task_hashed(s, j->t, j);	/* frees j */
	log_stage("cache_lookup", nf, t0);
	t0 = log_stage_start();
	sched_pump(s);
	log_stage("spawn", nf, t0);
}

/* Staged content: every id from the content source, as the index has it. */
static void content_ids(struct sched *s, struct task *t, struct hash_job *j)
{
	const struct sched_content *c = s->o.content;
	size_t k = 0;

	for (size_t i = 0; i < t->gate->config_files.n; i++, k++)
		if (c->blob(c->arg, t->gate->config_files.v[i], hash_oid(j, k)) != 0)
			hash_oid(j, k)[0] = '\0';
	for (size_t i = 0; i < j->inputs.n; i++, k++)
		if (c->blob(c->arg, j->inputs.v[i], hash_oid(j, k)) != 0)
			hash_oid(j, k)[0] = '\0';
	for (size_t i = 0; i < t->files.n; i++, k++)
		if (c->blob(c->arg, t->files.v[i], hash_oid(j, k)) != 0)
			hash_oid(j, k)[0] = '\0';
}

/* One part per core for a job big enough that each part has
 * HASH_PART_MIN items: reading and hashing 20,000 small files is some
 * 13 us each, and a burst's last batch waited for one thread to do all of
 * them while the other cores idled. */
static void cut_parts(struct hash_job *j)
{
	unsigned cores = uv_available_parallelism();
	size_t n = j->n / HASH_PART_MIN, per;

	if (n > cores)
		n = cores;
	if (n > HASH_PARTS_MAX)
		n = HASH_PARTS_MAX;
	if (n == 0)
		n = 1;
	per = (j->n + n - 1) / n;
	for (size_t p = 0; p < n; p++) {
		j->parts[p].req.data = &j->parts[p];
		j->parts[p].j = j;
		j->parts[p].from = p * per < j->n ? p * per : j->n;
		j->parts[p].to = (p + 1) * per < j->n ? (p + 1) * per : j->n;
	}
	j->nparts = j->left = n;
}

void hash_start(struct sched *s, struct task *t)
{
	struct hash_job *j = xcalloc(1, sizeof(*j));
	const struct gate *g = t->gate;
	bool whole = task_whole_inputs(g);
	size_t k = 0, nparts, ahead = 0, unread = 0;
	uint64_t t0;
	int rc, fd;

	j->s = s;
	j->t = t;
	j->root = s->o.root;
	j->root_fd = -1;
	atomic_init(&j->cancel, 0);
	if (whole && s->o.list_files)
		s->o.list_files(s->o.list_arg, g, &j->inputs);
	j->nconf = g->config_files.n;
	j->ninputs = j->inputs.n;
	j->n = j->nconf + j->ninputs + t->files.n;
	j->paths = xcalloc(j->n ? j->n : 1, sizeof(*j->paths));
	j->stamps = xcalloc(j->ninputs ? j->ninputs : 1, sizeof(*j->stamps));
	j->oids = xcalloc(j->nconf + j->ninputs ? j->nconf + j->ninputs : 1, sizeof(*j->oids));
	j->file_oids = xcalloc(t->files.n ? t->files.n : 1, sizeof(*j->file_oids));
	j->files_cap = g->batching == GATE_BATCH_NONE ? HASH_UNREAD_MAX : 0;
	if (s->o.content) {
		content_ids(s, t, j);
		exec_task_hashed(s, t, j);
		return;
	}
	for (size_t i = 0; i < g->config_files.n; i++, k++)
		j->paths[k] = g->config_files.v[i];
	for (size_t i = 0; i < j->inputs.n; i++, k++) {
		/* unchanged since last time: the memo answers */
		if (exec_memo_lookup(s, j->inputs.v[i], &j->stamps[i], j->oids[k]))
			continue;
		j->paths[k] = j->inputs.v[i];
	}
	t0 = log_stage_start();
	for (size_t i = 0; i < t->files.n; i++, k++) {
		/* hashed as its writer closed it, and unchanged since */
		if (ahead_take(s, t->files.v[i], hash_oid(j, k))) {
			ahead++;
			continue;
		}
		j->paths[k] = t->files.v[i];
	}
	for (size_t i = 0; i < j->n; i++)
		unread += j->paths[i] != NULL;
	log_stage("hash_ahead", ahead, t0);
	if (unread == 0) {
		/* nothing to read: no round trip through the pool (the
		 * caller is pumping) */
		size_t nf = t->files.n;

		t0 = log_stage_start();
		exec_task_hashed(s, t, j);	/* frees j */
		log_stage("cache_lookup", nf, t0);
		return;
	}
	t->hashing = j;
	j->queued = log_stage_start();
	/* relative lookups walk only the path below ROOT; the job's own
	 * descriptor, as the held one is replaced when ROOT is */
	if ((fd = dirhold_fd(&s->root_dir)) >= 0)
		j->root_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	cut_parts(j);
	nparts = j->nparts;	/* j is freed once the last part is done */
	for (size_t p = 0; p < nparts; p++) {
		rc = uv_queue_work(s->o.loop, &j->parts[p].req, hash_work, hash_done);
		if (rc != 0) {
			/* cannot happen with a live loop; hash here rather
			 * than lose the task (the caller is pumping already) */
			hash_work(&j->parts[p].req);
			if (--j->left == 0) {
				t->hashing = NULL;
				exec_task_hashed(s, t, j);
			}
		}
	}
}

void hash_cancel(struct task *t)
{
	if (t->hashing)
		atomic_store(&t->hashing->cancel, 1);
}

void hash_job_free(struct hash_job *j)
{
	if (j == NULL)
		return;
	free(j->paths);
	free(j->stamps);
	free(j->oids);
	free(j->file_oids);
	strvec_clear(&j->inputs);
	if (j->root_fd >= 0)
		close(j->root_fd);
	free(j);
}
