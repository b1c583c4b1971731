/* Scheduler: the public API (sched.h) and the life of runs and tasks.
 *
 * A run is one settled batch (or one `watchd run`). It holds one task per
 * gate that matches any of its files; a task is split into chunks, one tool
 * process each. The work is done in parts, one file each:
 *   sched-plan.c   a batch becomes one task per gate, with its files;
 *   sched-busy.c   when a waiting task may start (busy=queue or restart);
 *   sched-chunk.c  a task's files become chunks (argv budget, batch_size,
 *                  {file}), and a failing batch is split in halves;
 *   sched-exec.c   starting tasks and chunks within `jobs`, tool versions,
 *                  fingerprints, content ids and the cache, recording;
 *   verdict.c      what a chunk's result says about each file (pure).
 * This file makes runs, ends tasks and runs, and shuts down. Invariants
 * (each kept, and restated, in the file named):
 *  - a task is WAITING until no RUNNING task of the same gate shares a file
 *    with it: one file is never judged twice at once by one gate (busy);
 *  - a file already in a WAITING task of the same gate is dropped from a
 *    newer task: the waiting one hashes the content when it starts, so it
 *    judges the newest bytes anyway (never lost, never run twice) (plan);
 *  - busy=restart kills the running task instead of waiting; the killed
 *    task is recorded as skipped and its files join the newer task (busy);
 *  - at most `jobs` processes run at once, chunks start in FIFO order
 *    (exec);
 *  - content ids (git blob ids) are taken when a task starts, and the cache
 *    is asked then: a hit costs no process (exec);
 *  - a file gets a verdict of its own (status, cache) only when the tool
 *    gave one: a chunk that passed, a failing chunk whose findings all
 *    name its files, or a chunk of one file (verdict). A failing chunk of
 *    several files that names none of them (the exit parser, unreadable
 *    lines) is run again split in halves until each part passes or is one
 *    file (exec, chunk); a task runner (no file names in its argv) judges
 *    the whole tree at once: its results are cached under a digest of
 *    every file the gate includes, its pass clears every file its gate had
 *    marked failing, and its unattributed failure is never cached (exec,
 *    verdict);
 *  - a run is finished, recorded and reported (the done callback) once its
 *    last task is recorded, or at once when it has none (here).
 * Expected load: batches of a few files while editing; a checkout can bring
 * thousands of files, which become a few chunks per gate. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/git/repo.h"
#include "daemon/ledger/ledger.h"
#include "lib/buf.h"
#include "lib/hmap.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "sched-internal.h"
#include "sched.h"
#include "verdict.h"

extern char **environ;

/* The tools' environment: ours, minus what a git hook may have set. A
 * daemon started from a hook would otherwise point every tool's git at
 * the hook's index (PITFALLS §3). */
static char **tool_env(void)
{
	static const char *const drop[] = {
		"GIT_DIR=", "GIT_INDEX_FILE=", "GIT_WORK_TREE=", "GIT_PREFIX=",
		"GIT_OBJECT_DIRECTORY=", "GIT_ALTERNATE_OBJECT_DIRECTORIES=",
		"GIT_COMMON_DIR=", "WATCHD_READY_FD=", NULL,
	};
	size_t n = 0, k = 0;
	char **env;

	while (environ[n])
		n++;
	env = xcalloc(n + 1, sizeof(*env));
	for (size_t i = 0; i < n; i++) {
		bool skip = false;

		for (size_t j = 0; drop[j] && !skip; j++)
			skip = strncmp(environ[i], drop[j], strlen(drop[j])) == 0;
		if (!skip)
			env[k++] = xstrdup(environ[i]);
	}
	return env;
}

struct sched *sched_new(const struct sched_opts *o, sched_done_fn *cb, void *arg)
{
	struct sched *s = xcalloc(1, sizeof(*s));
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	s->o = *o;
	s->cb = cb;
	s->arg = arg;
	s->max_procs = o->cfg->jobs > 0 ? o->cfg->jobs : (cpus > 0 ? (int)cpus : 2);
	s->env = tool_env();
	s->missing_warned = xcalloc(1, sizeof(*s->missing_warned));
	dirhold_init(&s->root_dir, o->root);
	return s;
}

/* Tasks whose chunks are all in but whose fingerprint waited for the
 * tool's version probe. */
static void finish_awaiting(struct sched *s)
{
	struct task *t, *next;

	for (t = s->tasks; t; t = next) {
		next = t->next;
		if (t->await_version && exec_fingerprint_ready(s, t))
			sched_finish_task(s, t);
		else if (t->parked && exec_version_ready(s, t->gate)) {
			struct hash_job *j = t->parked;

			t->parked = NULL;
			exec_task_hashed(s, t, j);
		}
	}
}

void sched_pump(struct sched *s)
{
	if (s->shutting_down)
		return;
	finish_awaiting(s);
	busy_admit(s);
	exec_start_ready(s);
}

/* Frees t and everything the parts hung on it. */
static void task_free(struct task *t)
{
	for (size_t i = 0; i < t->nchunks; i++)
		free(t->chunks[i].report);
	free(t->chunks);
	while (t->halves) {
		struct chunk *h = t->halves;

		t->halves = h->next_half;
		free(h->report);
		free(h);
	}
	free(t->untried);
	strvec_clear(&t->files);
	if (t->keys != t->blobs)
		free(t->keys);
	free(t->blobs);
	free(t->cached);
	free(t->verdict);
	{
		size_t it = 0;
		struct hmap_slot *sl;

		while ((sl = hmap_next(&t->reasons, &it)) != NULL)
			free(sl->val);
		hmap_release(&t->reasons);
	}
	gate_result_release(&t->agg);
	buf_release(&t->output);
	buf_release(&t->fp_base);
	buf_release(&t->rfp_base);
	hash_job_free(t->parked);
	free(t->remote_hit);
	free(t->judged_by);
	free(t);
}

static void unlink_task(struct sched *s, struct task *t)
{
	for (struct task **pp = &s->tasks; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			return;
		}
	}
}

static void finish_run(struct sched *s, struct run *r, const char *forced)
{
	const char *status = forced ? forced : s->shutting_down ? "interrupted" :
	    r->any_fail ? "fail" : r->any_error ? "error" : "pass";
	struct wd_err err = { 0 };

	if (ledger_run_finish(s->o.ledger, r->id, status, now_ms(), &err) != 0)
		log_warnx("%s", err.msg);
	for (struct run **pp = &s->runs; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	log_info("run %s: %s", r->id, status);
	if (s->cb)
		s->cb(s, r->id, status, s->arg);
	free(r);
}

void sched_finish_task(struct sched *s, struct task *t)
{
	struct run *r = t->run;

	if (!exec_fingerprint_ready(s, t)) {
		t->await_version = true;	/* sched_pump finishes it */
		return;
	}
	t->state = TASK_DONE;
	unlink_task(s, t);
	verdict_finish(&t->agg, t->superseded, t->split, t->split_exit);
	exec_record_task(s, t);
	switch (t->agg.status) {
	case GATE_FAIL:
		r->any_fail = true;
		break;
	case GATE_ERROR:
	case GATE_TIMEOUT:
	case GATE_MISSING:
		r->any_error = true;
		break;
	default:
		break;
	}
	task_free(t);
	if (--r->open_tasks == 0)
		finish_run(s, r, NULL);
}

int sched_submit(struct sched *s, const struct strvec *changed, const struct strvec *removed,
    uint64_t seq, char run_id[ULID_LEN + 1], struct wd_err *err)
{
	const struct config *cfg = s->o.cfg;
	struct task *head = NULL;
	struct ledger_run lr;
	char head_oid[OID_HEX + 1] = "";
	struct repo *repo;
	struct run *r;
	int ntasks, rc;

	for (size_t i = 0; removed && i < removed->n; i++)
		ledger_file_removed(s->o.ledger, removed->v[i], NULL);
	ntasks = plan_tasks(s, changed, removed, &head);
	if (ntasks == 0 && !s->o.record_empty)
		return 1;
	r = xcalloc(1, sizeof(*r));
	ulid_new(r->id);
	r->started_ms = now_ms();
	r->seq = seq;
	r->open_tasks = ntasks;
	memset(&lr, 0, sizeof(lr));
	memcpy(lr.id, r->id, sizeof(lr.id));
	lr.trigger = s->o.trigger;
	if (!s->repo_tried) {
		s->repo = repo_open(s->o.git_root ? s->o.git_root : s->o.root);
		s->repo_tried = true;
	}
	repo = s->repo;
	if (repo && repo_head(repo, head_oid) == 0) {
		lr.git_head = head_oid;
		memcpy(r->head, head_oid, sizeof(r->head));
	}
	{
		char chash[OID_HEX + 1];

		repo_hash_buf(cfg->text ? cfg->text : "", cfg->text_len, chash);
		size_t nf = 0, k = 0;
		const char **files;

		/* the daemon's runs take their files with them: until a run
		 * finishes they are what a crash would leave unjudged, for the
		 * next daemon to judge (a one-shot run is judged again by
		 * whoever runs it again) */
		bool keep = strcmp(s->o.trigger, "watch") == 0;

		for (struct task *t = head; keep && t; t = t->next)
			nf += t->files.n;
		files = xcalloc(nf ? nf : 1, sizeof(*files));
		for (struct task *t = head; keep && t; t = t->next)
			for (size_t i = 0; i < t->files.n; i++)
				files[k++] = t->files.v[i];
		lr.files = files;
		lr.nfiles = nf;
		lr.config_hash = chash;
		lr.started_ms = r->started_ms;
		rc = ledger_run_begin(s->o.ledger, &lr, err);
		free(files);
	}
	if (rc != 0 && ledger_queued(s->o.ledger) > 0) {
		/* the ledger kept the write for a retry: the run goes on and is
		 * recorded, in order, once the ledger can be written again */
		log_warnx("%s (run %s kept for a retry)", err ? err->msg : "ledger error", r->id);
		rc = 0;
	}
	if (rc != 0) {
		while (head) {
			struct task *n = head->next;

			task_free(head);
			head = n;
		}
		free(r);
		return rc;
	}
	for (struct task *t = head; t; t = t->next)
		t->run = r;
	/* append run and tasks, oldest first */
	{
		struct run **rp = &s->runs;
		struct task **tp = &s->tasks;

		while (*rp)
			rp = &(*rp)->next;
		*rp = r;
		while (*tp)
			tp = &(*tp)->next;
		*tp = head;
	}
	memcpy(s->last_run, r->id, sizeof(s->last_run));
	if (run_id)
		memcpy(run_id, r->id, ULID_LEN + 1);
	log_info("run %s: %d gate(s) over %zu changed file(s)", r->id, ntasks, changed->n);
	if (s->o.run_started) {
		struct strvec gates = STRVEC_INIT;

		for (struct task *t = head; t; t = t->next)
			strvec_push(&gates, t->gate->name);
		s->o.run_started(s->o.hook_arg, r->id, &gates, changed, removed);
		strvec_clear(&gates);
	}
	if (ntasks == 0)
		finish_run(s, r, NULL);
	else
		sched_pump(s);
	return 0;
}

void sched_force_gates(struct sched *s, const struct strvec *names)
{
	strvec_pushv(&s->forced, names);
}

void sched_set_config(struct sched *s, const struct config *cfg)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	s->o.cfg = cfg;
	s->max_procs = cfg->jobs > 0 ? cfg->jobs : (cpus > 0 ? (int)cpus : 2);
}

void sched_set_remote(struct sched *s, struct remote *r)
{
	s->o.remote = r;
}

bool sched_idle(const struct sched *s)
{
	return s->runs == NULL;
}

bool sched_tasks_left(const struct sched *s)
{
	return s->tasks != NULL;
}

uint64_t sched_min_seq(const struct sched *s)
{
	uint64_t m = UINT64_MAX;

	for (const struct run *r = s->runs; r; r = r->next)
		if (r->seq < m)
			m = r->seq;
	return m;
}

void sched_stats(const struct sched *s, int *pending_files, int *running_gates)
{
	int pf = 0, rg = 0;

	for (const struct task *t = s->tasks; t; t = t->next) {
		if (t->state == TASK_WAITING)
			pf += (int)t->files.n;
		else
			rg++;
	}
	*pending_files = pf;
	*running_gates = rg;
}

size_t sched_progress(const struct sched *s, struct sched_progress *out, size_t max)
{
	int64_t now = now_ms();
	size_t n = 0;

	for (const struct task *t = s->tasks; t && n < max; t = t->next) {
		size_t left = 0;

		if (t->state != TASK_RUNNING)
			continue;
		/* before the chunks are cut nothing is judged yet; halves of a
		 * split chunk re-judge files already counted */
		for (size_t i = 0; i < t->nchunks; i++)
			if (!t->chunks[i].done)
				left += t->chunks[i].n;
		out[n].gate = t->gate->name;
		out[n].total = t->files.n;
		out[n].done = t->chunks && left <= t->files.n ? t->files.n - left : 0;
		out[n].elapsed_ms = now - t->started_ms;
		n++;
	}
	return n;
}

const char *sched_last_run(const struct sched *s)
{
	return s->last_run;
}

void sched_shutdown(struct sched *s)
{
	s->shutting_down = true;
	ahead_stop(s);
	for (struct task *t = s->tasks; t; t = t->next)
		busy_supersede(t);
	/* Runs end when their killed processes report; finish_run is called
	 * from there. Waiting tasks never started: drop them now. */
	for (struct task *t = s->tasks, *next; t; t = next) {
		next = t->next;
		if (t->state == TASK_WAITING) {
			struct run *r = t->run;

			unlink_task(s, t);
			task_free(t);
			r->any_error = true;
			if (--r->open_tasks == 0)
				finish_run(s, r, "interrupted");
		}
	}
	while (s->ready_head) {
		struct chunk *c = s->ready_head;

		s->ready_head = c->next_ready;
		c->done = true;
		if (--c->task->chunks_left == 0)
			sched_finish_task(s, c->task);
	}
	s->ready_tail = NULL;
	/* the probe's answer is not waited for (exec_fingerprint_ready) */
	for (struct task *t = s->tasks, *next; t; t = next) {
		next = t->next;
		if (t->await_version)
			sched_finish_task(s, t);
		else if (t->parked) {
			struct hash_job *j = t->parked;

			t->parked = NULL;
			exec_task_hashed(s, t, j);	/* superseded: ends unjudged */
		}
	}
}

void sched_free(struct sched *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; s->env[i]; i++)
		free(s->env[i]);
	free(s->env);
	hmap_release(s->missing_warned);
	free(s->missing_warned);
	repo_close(s->repo);
	ahead_free(s);
	dirhold_release(&s->root_dir);
	strvec_clear(&s->forced);
	exec_release(s);
	while (s->tasks) {
		struct task *n = s->tasks->next;

		task_free(s->tasks);
		s->tasks = n;
	}
	while (s->runs) {
		struct run *n = s->runs->next;

		free(s->runs);
		s->runs = n;
	}
	free(s);
}
