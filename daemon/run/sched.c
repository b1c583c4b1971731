/* Scheduler.
 *
 * A run is one settled batch (or one `watchd run`). It holds one task per
 * gate that matches any of its files; a task is split into chunks, one tool
 * process each (argv budget, batch_size, {file}). Invariants:
 *  - a task is WAITING until no RUNNING task of the same gate shares a file
 *    with it: one file is never judged twice at once by one gate;
 *  - a file already in a WAITING task of the same gate is dropped from a
 *    newer task: the waiting one hashes the content when it starts, so it
 *    judges the newest bytes anyway (never lost, never run twice);
 *  - busy=restart kills the running task instead of waiting; the killed
 *    task is recorded as skipped and its files join the newer task;
 *  - at most `jobs` processes run at once, chunks start in FIFO order;
 *  - content ids (git blob ids) are taken when a task starts, and the cache
 *    is asked then: a hit costs no process;
 *  - a file gets a verdict of its own (status, cache) only when the tool
 *    gave one: a chunk that passed, a failing chunk whose findings all
 *    name its files, or a chunk of one file. A failing chunk of several
 *    files that names none of them (the exit parser, unreadable lines) is
 *    run again split in halves until each part passes or is one file; a
 *    task runner (no file names in its argv) judges the whole tree at
 *    once: its results are cached under a digest of every file the gate
 *    includes, its pass clears every file its gate had marked failing, and
 *    its unattributed failure is never cached.
 * Expected load: batches of a few files while editing; a checkout can bring
 * thousands of files, which become a few chunks per gate. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon/git/repo.h"
#include "daemon/ledger/ledger.h"
#include "lib/buf.h"
#include "lib/fstamp.h"
#include "lib/glob.h"
#include "lib/hmap.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "sched.h"
#include "select.h"
#include "spawn.h"
#include "verdict.h"

#define ARGV_BUDGET (128 * 1024)	/* bytes of file names per process */
#define OUTPUT_EXCERPT 8192		/* bytes of tool output kept in the ledger */
#define REPORT_MAX (64 << 20)
/* Tool output: the first CAPTURE_MEM bytes of each stream stay in memory
 * (excerpts), up to PARSE_LIMIT go to a spill file for the parser, and the
 * rest is read and dropped; a parser that needs the stream then says the
 * output could not be judged (gate_output_whole). */
#define CAPTURE_MEM (1 << 20)
#define PARSE_LIMIT ((size_t)64 << 20)

extern char **environ;

enum task_state { TASK_WAITING, TASK_RUNNING, TASK_DONE };

struct run {
	char		 id[ULID_LEN + 1];
	int64_t		 started_ms;
	uint64_t	 seq;
	int		 open_tasks;
	bool		 any_fail, any_error;
	struct run	*next;
};

struct chunk {
	struct task	*task;
	const char	**files;	/* slice of task->untried (borrowed) */
	size_t		 n;
	size_t		 idx;		/* unique in the task: names {report} */
	char		*report;	/* {report} path, or NULL */
	struct spawn	*sp;		/* while running */
	struct chunk	*next_ready;
	struct chunk	*next_half;	/* task->halves: chunks made by splitting */
	bool		 done;
};

struct task {
	struct sched	*s;
	struct run	*run;
	struct gate	*gate;
	enum task_state	 state;
	struct strvec	 files;		/* files to judge, sorted */
	char		(*blobs)[OID_HEX + 1];	/* per file, "" when unknown */
	char		(*keys)[OID_HEX + 1];	/* per file cache key, "" = none;
						 * == blobs unless whole_inputs */
	struct hmap	 reasons;	/* path -> why it runs (malloc'ed) */
	char		 digest[OID_HEX + 1];	/* test gates: the whole input set */
	const char	**untried;	/* files the cache could not answer */
	signed char	*cached;	/* per file: 1 result came from the cache */
	signed char	*verdict;	/* per file: its own gate_status, or -1
					 * when the tool gave none for it alone */
	char		 fingerprint[OID_HEX + 1];
	struct chunk	*chunks;
	size_t		 nchunks, chunks_left;
	struct chunk	*halves;	/* re-runs of split chunks, owned here */
	size_t		 next_idx;
	bool		 split;		/* a failing chunk was re-run in halves */
	int		 split_exit;	/* exit status of the first one */
	struct gate_result agg;
	int		 exit_code;
	int64_t		 started_ms;
	uint64_t	 started_tick;
	struct buf	 output;
	char		(*judged_by)[ULID_LEN + 1];	/* per cached file: the run that
						 * judged it, from its cache row;
						 * NULL while no file is cached */
	bool		 superseded;	/* killed by a newer task (busy=restart) */
	struct task	*next;
};

struct sched {
	struct sched_opts o;
	sched_done_fn	*cb;
	void		*arg;
	struct run	*runs;		/* unfinished, oldest first */
	struct task	*tasks;		/* waiting and running, oldest first */
	struct chunk	*ready_head, *ready_tail;
	int		 running_procs;
	int		 max_procs;
	char		**env;
	char		 last_run[ULID_LEN + 1];
	bool		 shutting_down;
	struct hmap	*missing_warned;
	struct hmap	 blob_memo;	/* path -> struct blob_memo */
	struct strvec	 forced;	/* gates the next submit runs on everything */
	struct hmap	 tools;		/* resolved program path -> struct tool_ver */
	/* argv[0] -> its resolved path (malloc'ed, "" when not found), for
	 * the loop tick which_tick only: starting a task asks for the same
	 * program three or four times (fingerprint, version, each chunk), and
	 * a tool installed later must still be found at the next change */
	struct hmap	 which;
	uint64_t	 which_tick;
	struct repo	*repo;		/* for HEAD, opened once; NULL outside git */
	bool		 repo_tried;
};

/* A tool's version, probed once and trusted while its binary keeps the
 * same size and mtime (an upgrade changes them). */
struct tool_ver {
	struct sched	*s;
	char		*prog;
	off_t		 size;
	struct timespec	 mtime;
	char		*version;	/* first line the probe printed */
	bool		 known;
	bool		 probing;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
	return s;
}

static bool overlaps(const struct task *a, const struct task *b)
{
	/* both file lists are sorted: a merge walk */
	size_t i = 0, j = 0;

	while (i < a->files.n && j < b->files.n) {
		int c = strcmp(a->files.v[i], b->files.v[j]);

		if (c == 0)
			return true;
		if (c < 0)
			i++;
		else
			j++;
	}
	return false;
}

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

/* Why file i ran (or why its result came from the cache): shown by
 * `watchd show`. Borrowed from the task, or composed into *owned (the
 * caller frees it): a 20,000-file batch copies no "changed" per file. */
static const char *file_reason(const struct task *t, size_t i, char **owned)
{
	const char *why = hmap_gets(&t->reasons, t->files.v[i]);

	*owned = NULL;
	if (why == NULL)
		why = SELECT_CHANGED;
	if (!t->cached[i])
		return why;
	return *owned = xasprintf("%s; result reused from the cache (run %s judged the same %s)",
	    why, t->judged_by[i][0] ? t->judged_by[i] : "?",
	    t->gate->tests ? "content and the same inputs" : "content");
}

/* Gates whose verdict depends on more than the files they are given: a
 * test gate (its tests exercise other code) and a task runner (it is given
 * no files and judges the tree). */
static bool whole_inputs(const struct gate *g)
{
	return g->tests || g->batching == GATE_BATCH_NONE;
}

static void record_task(struct sched *s, struct task *t)
{
	struct ledger_file *lf = xcalloc(t->files.n ? t->files.n : 1, sizeof(*lf));
	struct ledger_gate_run gr;
	struct wd_err err = { 0 };
	bool all_cached = t->files.n > 0;
	const char *cached_from = NULL;	/* the one run every cached file came from */
	char **reasons = xcalloc(t->files.n ? t->files.n : 1, sizeof(*reasons));

	for (size_t i = 0; i < t->files.n; i++) {
		lf[i].path = t->files.v[i];
		lf[i].blob = t->blobs[i][0] ? t->blobs[i] : NULL;
		lf[i].cache_key = t->keys[i][0] ? t->keys[i] : NULL;
		/* cached files too: the row then points at this run, which
		 * holds their findings */
		lf[i].cache_status = verdict_cache_status(t->verdict[i], t->gate->cache,
		    s->o.no_cache, t->keys[i][0] != '\0');
		/* without a verdict of its own the file shows the gate's */
		lf[i].has_status = t->verdict[i] >= 0;
		lf[i].status = t->verdict[i] >= 0 ? (enum gate_status)t->verdict[i] : t->agg.status;
		lf[i].reason = file_reason(t, i, &reasons[i]);
		if (!t->cached[i]) {
			all_cached = false;
			continue;
		}
		memcpy(lf[i].judged_by, t->judged_by[i], sizeof(lf[i].judged_by));
		if (i == 0)
			cached_from = t->judged_by[i];
		else if (cached_from && strcmp(cached_from, t->judged_by[i]) != 0)
			cached_from = NULL;
	}
	memset(&gr, 0, sizeof(gr));
	gr.run_id = t->run->id;
	gr.gate = t->gate->name;
	gr.fingerprint = t->fingerprint;
	gr.status = t->agg.status;
	gr.cached = all_cached;
	gr.cached_from = all_cached && cached_from && cached_from[0] ? cached_from : NULL;
	gr.exit_code = t->exit_code;
	gr.started_ms = t->started_ms;
	gr.duration_ms = (int64_t)(uv_now(s->o.loop) - t->started_tick);
	gr.files = lf;
	gr.nfiles = t->files.n;
	gr.findings = &t->agg.findings;
	gr.message = t->agg.message;
	gr.output = t->output.len ? t->output.buf : NULL;
	gr.tests_total = t->agg.tests_total;
	gr.tests_passed = t->agg.tests_passed;
	gr.tests_failed = t->agg.tests_failed;
	gr.tests_skipped = t->agg.tests_skipped;
	gr.input_digest = whole_inputs(t->gate) && t->digest[0] ? t->digest : NULL;
	gr.whole_gate = t->gate->batching == GATE_BATCH_NONE;
	if (ledger_gate_record(s->o.ledger, &gr, &err) != 0)
		log_warnx("%s", err.msg);
	for (size_t i = 0; i < t->files.n; i++)
		free(reasons[i]);
	free(reasons);
	free(lf);
	log_info("run %s gate %s: %s (%zu files, %zu findings)%s", t->run->id, t->gate->name,
	    gate_status_name(t->agg.status), t->files.n, t->agg.findings.n,
	    all_cached ? " cached" : "");
}

static void pump(struct sched *s);
static void enqueue_chunk(struct sched *s, struct chunk *c);

static void finish_task(struct sched *s, struct task *t)
{
	struct run *r = t->run;

	t->state = TASK_DONE;
	unlink_task(s, t);
	verdict_finish(&t->agg, t->superseded, t->split, t->split_exit);
	record_task(s, t);
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

static void add_excerpt(struct buf *dst, const char *label, const char *data, size_t len,
    bool truncated)
{
	size_t room = dst->len < OUTPUT_EXCERPT ? OUTPUT_EXCERPT - dst->len : 0;

	if (len == 0 || room == 0)
		return;
	if (dst->len)
		buf_addch(dst, '\n');
	buf_addf(dst, "[%s]\n", label);
	buf_add(dst, data, len < room ? len : room);
	if (len > room || truncated)
		buf_addstr(dst, "\n[output truncated]");
}

static const char *signame(int sig)
{
	const char *n = sigabbrev_np(sig);

	return n ? n : "?";
}

/* Queues the two halves of chunk c (at least two files) as new chunks of
 * its task. Bisection costs about 2k log2(n/k) extra processes for k
 * failing files among n, and never more than 2n. */
static void split_chunk(struct sched *s, const struct chunk *c)
{
	struct task *t = c->task;
	size_t half = c->n / 2;

	for (int k = 0; k < 2; k++) {
		struct chunk *h = xcalloc(1, sizeof(*h));

		h->task = t;
		h->files = c->files + (k ? half : 0);
		h->n = k ? c->n - half : half;
		h->idx = t->next_idx++;
		h->next_half = t->halves;
		t->halves = h;
		t->chunks_left++;
		enqueue_chunk(s, h);
	}
}

static void on_chunk_done(struct spawn_result *res, void *arg)
{
	struct chunk *c = arg;
	struct task *t = c->task;
	struct sched *s = t->s;
	struct gate_result r = GATE_RESULT_INIT;
	struct buf report = BUF_INIT;
	bool have_report = false, report_too_big = false;

	c->sp = NULL;
	c->done = true;
	s->running_procs--;
	if (c->report) {
		struct stat rst;

		/* a report past the limit is not read in part: a verdict from
		 * half an XML or SARIF file would be a guess */
		if (stat(c->report, &rst) == 0 && rst.st_size > REPORT_MAX)
			report_too_big = true;
		else
			have_report = buf_read_file(&report, c->report, REPORT_MAX) == 0;
		unlink(c->report);
	}
	add_excerpt(&t->output, "stdout", res->out.buf, res->out.len, res->out_truncated);
	add_excerpt(&t->output, "stderr", res->err.buf, res->err.len, res->err_truncated);
	if (res->spawn_error) {
		r.status = res->spawn_error == UV_ENOENT ? GATE_MISSING : GATE_ERROR;
		gate_result_msg(&r, "cannot start %s: %s", t->gate->name,
		    uv_strerror(res->spawn_error));
	} else if (res->killed) {
		r.status = GATE_SKIPPED;
	} else if (res->timed_out) {
		r.status = GATE_TIMEOUT;
		gate_result_msg(&r, "timed out after %d s; process group killed",
		    t->gate->timeout_s);
	} else if (res->term_signal) {
		r.status = GATE_ERROR;
		gate_result_msg(&r, "killed by signal %d (SIG%s)", res->term_signal,
		    signame(res->term_signal));
	} else if (report_too_big) {
		r.status = GATE_ERROR;
		gate_result_msg(&r, "the report file is larger than %d MiB: not read",
		    REPORT_MAX >> 20);
	} else {
		/* the parser reads everything kept, not just the memory part */
		struct spawn_view vo, ve;
		bool cut_o = spawn_view(res, false, &vo) != 0 || res->out_truncated;
		bool cut_e = spawn_view(res, true, &ve) != 0 || res->err_truncated;
		struct gate_output out = {
			.root = s->o.root,
			.files = c->files,
			.nfiles = c->n,
			.exit_code = res->exit_code,
			.out = vo.data, .out_len = vo.len, .out_truncated = cut_o,
			.err = ve.data, .err_len = ve.len, .err_truncated = cut_e,
			.limit = PARSE_LIMIT,
			.report = have_report ? report.buf : NULL,
			.report_len = have_report ? report.len : 0,
		};

		t->gate->ops->parse(t->gate, &out, &r);
		spawn_view_release(&vo);
		spawn_view_release(&ve);
	}
	if (t->exit_code <= 0 && res->spawn_error == 0 && !res->term_signal)
		t->exit_code = res->exit_code;
	if (verdict_bisect(&r, c->files, c->n, t->gate->batching) && !t->superseded &&
	    !s->shutting_down) {
		/* the tool failed the batch without saying which file: ask it
		 * again about each half; its findings come back with them */
		log_debug("gate %s: %zu files failed together, re-running them split",
		    t->gate->name, c->n);
		if (!t->split)
			t->split_exit = res->exit_code;
		t->split = true;
		split_chunk(s, c);
	} else {
		verdict_chunk(&r, c->files, c->n, t->gate->batching, &t->files, t->verdict);
		verdict_merge(&t->agg, &r);
	}
	gate_result_release(&r);
	buf_release(&report);
	if (--t->chunks_left == 0)
		finish_task(s, t);
	pump(s);
}

/* The program a gate's argv[0] names: looked up in PATH, or, for a
 * relative name like "./tool", in ROOT (the tools' working directory) and
 * then in the work tree (`check --staged` runs in a copy of the index). */
static void which_forget(struct sched *s)
{
	size_t it = 0;
	struct hmap_slot *sl;

	while ((sl = hmap_next(&s->which, &it)) != NULL)
		free(sl->val);
	hmap_release(&s->which);
}

static char *tool_path(struct sched *s, const char *prog)
{
	char *p;

	if (s->which_tick != uv_now(s->o.loop)) {
		which_forget(s);
		s->which_tick = uv_now(s->o.loop);
	}
	if ((p = hmap_gets(&s->which, prog)) != NULL)
		return *p ? xstrdup(p) : NULL;
	p = spawn_which(prog, getenv("PATH"), s->o.root);
	if (p == NULL && s->o.git_root && strcmp(s->o.git_root, s->o.root) != 0)
		p = spawn_which(prog, getenv("PATH"), s->o.git_root);
	hmap_puts(&s->which, prog, xstrdup(p ? p : ""));
	return p;
}

/* Starts argv (argv[0] replaced by the resolved prog, which it takes) in
 * ROOT with the tools' environment; cap bytes per stream in memory, up to
 * keep in spill files under tmp_dir (keep 0: cap only). */
static void start_tool(struct sched *s, struct strvec *argv, char *prog, int timeout_s,
    size_t cap, size_t keep, spawn_done_fn *cb, void *arg, struct spawn **sp)
{
	struct spawn_opts so;

	free(argv->v[0]);
	argv->v[0] = prog;
	memset(&so, 0, sizeof(so));
	so.cwd = s->o.root;
	so.argv = argv->v;
	so.env = s->env;
	so.timeout_s = timeout_s;
	so.cap = cap;
	so.keep = keep;
	so.spill_dir = keep ? s->o.tmp_dir : NULL;
	spawn_start(s->o.loop, &so, cb, arg, sp);
}

static void start_chunk(struct sched *s, struct chunk *c)
{
	struct task *t = c->task;
	struct strvec argv = STRVEC_INIT;
	char *prog;
	int rc;

	if (t->gate->wants_report)
		c->report = xasprintf("%s/%s-%s-%zu.report", s->o.tmp_dir, t->run->id,
		    t->gate->name, c->idx);
	rc = t->gate->ops->argv(t->gate, s->o.root, c->files, c->n, c->report, &argv);
	prog = rc == 0 && argv.n ? tool_path(s, argv.v[0]) : NULL;
	s->running_procs++;
	if (prog == NULL) {
		/* Report through the same path as a failed exec: one code path. */
		const char *name = argv.n ? argv.v[0] : t->gate->type;

		if (hmap_gets(s->missing_warned, t->gate->name) == NULL) {
			hmap_puts(s->missing_warned, t->gate->name, (void *)1);
			log_warnx("gate %s: %s not found on PATH (%s)", t->gate->name, name,
			    t->gate->ops->install_hint ? t->gate->ops->install_hint : "install it");
		}
		{
			struct spawn_result res;
			struct gate_result r = GATE_RESULT_INIT;

			memset(&res, 0, sizeof(res));
			r.status = GATE_MISSING;
			gate_result_msg(&r, "%s: not found on PATH; %s", name,
			    t->gate->ops->install_hint ? t->gate->ops->install_hint : "install it");
			s->running_procs--;
			c->done = true;
			verdict_merge(&t->agg, &r);
			gate_result_release(&r);
			strvec_clear(&argv);
			if (--t->chunks_left == 0)
				finish_task(s, t);
			return;
		}
	}
	log_debug("gate %s: starting %s with %zu files", t->gate->name, prog, c->n);
	start_tool(s, &argv, prog, t->gate->timeout_s, CAPTURE_MEM, PARSE_LIMIT, on_chunk_done, c,
	    &c->sp);
	strvec_clear(&argv);
}

static void enqueue_chunk(struct sched *s, struct chunk *c)
{
	c->next_ready = NULL;
	if (s->ready_tail)
		s->ready_tail->next_ready = c;
	else
		s->ready_head = c;
	s->ready_tail = c;
}

/* Fingerprint: the gate's definition, the tool's identity and the bytes of
 * its config files. The tool is identified by its resolved path, size and
 * mtime: an upgrade changes them, so old results stop matching. */
static void compute_fingerprint(struct sched *s, struct task *t)
{
	struct buf b = BUF_INIT;
	struct strvec argv = STRVEC_INIT;
	const char *files[1] = { "x" };

	buf_addstr(&b, t->gate->definition);
	buf_addch(&b, '\0');
	if (t->gate->ops->argv(t->gate, s->o.root, files, 1, "r", &argv) == 0 && argv.n) {
		char *prog = tool_path(s, argv.v[0]);
		struct stat st;

		if (prog && stat(prog, &st) == 0)
			buf_addf(&b, "%s %lld %lld.%09ld", prog, (long long)st.st_size,
			    (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
		free(prog);
	}
	strvec_clear(&argv);
	if (t->gate->ops->version_argv && t->gate->ops->version_argv(t->gate, &argv) == 0 &&
	    argv.n) {
		char *prog = tool_path(s, argv.v[0]);
		struct tool_ver *tv = prog ? hmap_gets(&s->tools, prog) : NULL;

		if (tv && tv->known)
			buf_addf(&b, "\nversion %s", tv->version);
		free(prog);
	}
	strvec_clear(&argv);
	for (size_t i = 0; i < t->gate->config_files.n; i++) {
		char *p = xasprintf("%s/%s", s->o.root, t->gate->config_files.v[i]);
		char oid[OID_HEX + 1];

		buf_addch(&b, '\0');
		buf_addstr(&b, t->gate->config_files.v[i]);
		if (repo_hash_file(p, oid) == 0)
			buf_addstr(&b, oid);
		free(p);
	}
	repo_hash_buf(b.buf, b.len, t->fingerprint);
	buf_release(&b);
}

/* The blob id of a file, remembered by its stamp so that a test gate's
 * whole input set is not re-read at every run. A symlink is stamped by
 * what it resolves to, since that is what repo_hash_file hashes. */
static const char *memo_blob(struct sched *s, const char *rel)
{
	struct blob_memo { uint64_t stamp; char oid[OID_HEX + 1]; } *m;
	char *p = xasprintf("%s/%s", s->o.root, rel);
	struct stat st;
	uint64_t stamp;

	if (stat(p, &st) < 0 && lstat(p, &st) < 0) {
		free(p);
		return "";
	}
	stamp = fstamp(&st);
	m = hmap_gets(&s->blob_memo, rel);
	if (m == NULL) {
		m = xcalloc(1, sizeof(*m));
		hmap_puts(&s->blob_memo, rel, m);
	}
	if (m->stamp != stamp) {
		if (repo_hash_file(p, m->oid) != 0)
			m->oid[0] = '\0';
		m->stamp = stamp;
	}
	free(p);
	return m->oid;
}

/* Test gates and task runners: a digest of the sorted (path, blob id) of
 * every file in the gate's input set (include and triggers). A cached result is reused only
 * when nothing a test could depend on changed -- never for the test file's
 * own content alone, which is how stale passes happen. */
static void input_digest(struct sched *s, struct task *t)
{
	struct strvec all = STRVEC_INIT;
	struct buf b = BUF_INIT;

	t->digest[0] = '\0';
	if (s->o.list_files == NULL)
		return;
	s->o.list_files(s->o.list_arg, t->gate, &all);
	for (size_t i = 0; i < all.n; i++) {
		buf_addstr(&b, all.v[i]);
		buf_addch(&b, '\0');
		buf_addstr(&b, memo_blob(s, all.v[i]));
		buf_addch(&b, '\n');
	}
	repo_hash_buf(b.buf, b.len, t->digest);
	buf_release(&b);
	strvec_clear(&all);
}

/* Hashes the files, answers what the cache can, and splits the rest into
 * chunks. t->files stays sorted (overlap checks rely on it); chunks point
 * into t->untried. */
static void start_task(struct sched *s, struct task *t)
{
	size_t nf = t->files.n, nuntried = 0, budget = 0, first = 0, chunks_alloc = 0;
	bool use_cache = !s->o.no_cache && t->gate->cache != GATE_CACHE_NONE;

	t->state = TASK_RUNNING;
	t->started_ms = now_ms();
	t->started_tick = uv_now(s->o.loop);
	compute_fingerprint(s, t);
	if (whole_inputs(t->gate))
		input_digest(s, t);
	/* per-file state is what a large batch costs: a cache key is the
	 * blob itself unless the gate judges more than its files, and only
	 * a task with a cache hit needs to say which run judged each file */
	t->blobs = xcalloc(nf ? nf : 1, sizeof(*t->blobs));
	t->keys = whole_inputs(t->gate) ? xcalloc(nf ? nf : 1, sizeof(*t->keys)) : t->blobs;
	t->cached = xcalloc(nf ? nf : 1, 1);
	t->verdict = xmalloc(nf ? nf : 1);
	memset(t->verdict, -1, nf ? nf : 1);
	t->untried = xcalloc(nf ? nf : 1, sizeof(*t->untried));
	for (size_t i = 0; i < nf; i++) {
		char *p = xasprintf("%s/%s", s->o.root, t->files.v[i]);
		struct ledger_cache_hit hit;

		if (repo_hash_file(p, t->blobs[i]) != 0)
			t->blobs[i][0] = '\0';
		free(p);
		if (t->blobs[i][0] && whole_inputs(t->gate)) {
			char *k = xasprintf("%s %s", t->blobs[i], t->digest);

			repo_hash_buf(k, strlen(k), t->keys[i]);
			free(k);
		}
		memset(&hit, 0, sizeof(hit));
		if (use_cache && t->keys[i][0] &&
		    ledger_cache_lookup(s->o.ledger, t->gate->name, t->fingerprint, t->files.v[i],
			t->keys[i], &hit) == 1) {
			if (t->gate->cache == GATE_CACHE_PASS_ONLY && hit.status != GATE_PASS) {
				findings_release(&hit.findings);
			} else {
				struct gate_result r = GATE_RESULT_INIT;

				r.status = hit.status;
				r.findings = hit.findings;
				verdict_merge(&t->agg, &r);
				gate_result_release(&r);
				t->cached[i] = 1;
				if (t->judged_by == NULL)
					t->judged_by = xcalloc(nf, sizeof(*t->judged_by));
				memcpy(t->judged_by[i], hit.run_id, sizeof(t->judged_by[i]));
				t->verdict[i] = (signed char)hit.status;
				continue;
			}
		}
		t->untried[nuntried++] = t->files.v[i];
	}
	/* grown as cut, not sized for one chunk per file: 72 bytes a file on
	 * a 20,000-file batch that fits a few argv */
	if (nuntried > 0 && t->gate->batching == GATE_BATCH_NONE) {
		t->chunks = xgrow(t->chunks, &chunks_alloc, 1, sizeof(*t->chunks));
		t->chunks[0] = (struct chunk){ .task = t, .files = t->untried, .n = nuntried };
		t->nchunks = 1;
	} else {
		for (size_t i = 0; i < nuntried; i++) {
			size_t len = strlen(t->untried[i]) + 3;
			size_t n = i - first;
			bool cut = n > 0 &&
			    (t->gate->batching == GATE_BATCH_ONE ||
			     (t->gate->batch_size > 0 && n >= (size_t)t->gate->batch_size) ||
			     budget + len > ARGV_BUDGET);

			if (cut) {
				t->chunks = xgrow(t->chunks, &chunks_alloc, t->nchunks + 1,
				    sizeof(*t->chunks));
				t->chunks[t->nchunks++] = (struct chunk){ .task = t,
				    .files = t->untried + first, .n = n };
				first = i;
				budget = 0;
			}
			budget += len;
		}
		if (nuntried > first) {
			t->chunks = xgrow(t->chunks, &chunks_alloc, t->nchunks + 1,
			    sizeof(*t->chunks));
			t->chunks[t->nchunks++] = (struct chunk){ .task = t,
			    .files = t->untried + first, .n = nuntried - first };
		}
	}
	if (chunks_alloc > t->nchunks && t->nchunks > 0)	/* one per file is the worst */
		t->chunks = xrealloc(t->chunks, t->nchunks * sizeof(*t->chunks));
	for (size_t i = 0; i < t->nchunks; i++)
		t->chunks[i].idx = i;
	t->next_idx = t->nchunks;
	t->chunks_left = t->nchunks;
	if (t->nchunks == 0) {
		finish_task(s, t);
		return;
	}
	for (size_t i = 0; i < t->nchunks; i++)
		enqueue_chunk(s, &t->chunks[i]);
}

static void on_probe_done(struct spawn_result *res, void *arg)
{
	struct tool_ver *tv = arg;
	const char *text = res->out.len ? res->out.buf : res->err.buf;
	size_t n = strcspn(text, "\r\n");

	free(tv->version);
	if (res->spawn_error || res->timed_out || res->term_signal)
		tv->version = xstrdup("unknown (the version probe failed)");
	else
		tv->version = xstrndup(text, n);
	tv->known = true;
	tv->probing = false;
	log_info("%s: version %s", tv->prog, tv->version);
	pump(tv->s);
}

/* True when the gate's tool version is known (or cannot be known: no
 * probe, tool missing); otherwise starts the probe and says false. */
static bool version_ready(struct sched *s, const struct gate *g)
{
	struct strvec argv = STRVEC_INIT;
	struct tool_ver *tv;
	struct stat st;
	char *prog;

	if (g->ops->version_argv == NULL || g->ops->version_argv(g, &argv) != 0 || argv.n == 0) {
		strvec_clear(&argv);
		return true;
	}
	prog = tool_path(s, argv.v[0]);
	if (prog == NULL || stat(prog, &st) < 0) {
		free(prog);
		strvec_clear(&argv);
		return true;	/* missing: the run itself will say so */
	}
	tv = hmap_gets(&s->tools, prog);
	if (tv == NULL) {
		tv = xcalloc(1, sizeof(*tv));
		tv->s = s;
		tv->prog = xstrdup(prog);
		hmap_puts(&s->tools, prog, tv);
	}
	if (tv->probing || (tv->known && tv->size == st.st_size &&
	    tv->mtime.tv_sec == st.st_mtim.tv_sec && tv->mtime.tv_nsec == st.st_mtim.tv_nsec)) {
		free(prog);
		strvec_clear(&argv);
		return !tv->probing;
	}
	tv->size = st.st_size;
	tv->mtime = st.st_mtim;
	tv->known = false;
	tv->probing = true;
	start_tool(s, &argv, prog, 30, 4096, 0, on_probe_done, tv, NULL);
	strvec_clear(&argv);
	return false;
}

static void supersede(struct task *old)
{
	old->superseded = true;
	for (size_t i = 0; i < old->nchunks; i++)
		if (old->chunks[i].sp && !old->chunks[i].done)
			spawn_kill(old->chunks[i].sp);
	for (struct chunk *h = old->halves; h; h = h->next_half)
		if (h->sp && !h->done)
			spawn_kill(h->sp);
}

static void pump(struct sched *s)
{
	struct task *t, *next;

	if (s->shutting_down)
		return;
	for (t = s->tasks; t; t = next) {
		bool blocked = false;

		next = t->next;
		if (t->state != TASK_WAITING)
			continue;
		for (struct task *o = s->tasks; o && !blocked; o = o->next) {
			if (o == t || o->gate != t->gate || o->state != TASK_RUNNING ||
			    !overlaps(o, t))
				continue;
			if (t->gate->busy == GATE_BUSY_RESTART && !o->superseded) {
				/* the newer task inherits the old one's files */
				for (size_t i = 0; i < o->files.n; i++)
					if (strvec_bsearch(&t->files, o->files.v[i]) < 0) {
						strvec_push(&t->files, o->files.v[i]);
						hmap_puts(&t->reasons, o->files.v[i],
						    xstrdup("re-run: a newer change restarted the gate"));
					}
				strvec_sort(&t->files);
				supersede(o);
			}
			blocked = true;
		}
		/* an earlier waiting task on the same files goes first */
		for (struct task *o = s->tasks; o != t && !blocked; o = o->next)
			blocked = o->gate == t->gate && o->state == TASK_WAITING && overlaps(o, t);
		if (!blocked && version_ready(s, t->gate))
			start_task(s, t);
	}
	while (s->ready_head && s->running_procs < s->max_procs) {
		struct chunk *c = s->ready_head;

		s->ready_head = c->next_ready;
		if (s->ready_head == NULL)
			s->ready_tail = NULL;
		if (c->task->superseded) {
			c->done = true;
			if (--c->task->chunks_left == 0)
				finish_task(s, c->task);
			continue;
		}
		start_chunk(s, c);
	}
}

/* Drops from sel every path already waiting in a task of the same gate:
 * that task hashes the content when it starts, so it judges the newest
 * bytes anyway. */
static void drop_waiting(struct sched *s, const struct gate *g, struct selection *sel)
{
	size_t j = 0;

	for (size_t i = 0; i < sel->files.n; i++) {
		bool waiting = false;

		for (struct task *t = s->tasks; t && !waiting; t = t->next)
			waiting = t->gate == g && t->state == TASK_WAITING &&
			    strvec_bsearch(&t->files, sel->files.v[i]) >= 0;
		if (waiting) {
			free(hmap_dels(&sel->reasons, sel->files.v[i]));
			free(sel->files.v[i]);
		} else
			sel->files.v[j++] = sel->files.v[i];
	}
	sel->files.n = j;
	if (sel->files.v)
		sel->files.v[j] = NULL;
}

int sched_submit(struct sched *s, const struct strvec *changed, const struct strvec *removed,
    uint64_t seq, char run_id[ULID_LEN + 1], struct wd_err *err)
{
	const struct config *cfg = s->o.cfg;
	struct task *head = NULL, **tail = &head;
	struct strvec all = STRVEC_INIT;
	bool listed = false;
	struct ledger_run lr;
	char head_oid[OID_HEX + 1] = "";
	struct repo *repo;
	struct run *r;
	int ntasks = 0, rc;

	for (size_t i = 0; removed && i < removed->n; i++)
		ledger_file_removed(s->o.ledger, removed->v[i], NULL);
	for (size_t gi = 0; gi < cfg->ngates; gi++) {
		struct gate *g = &cfg->gates[gi];
		struct selection sel = SELECTION_INIT;
		struct strvec with_removed = STRVEC_INIT;
		const struct strvec *touched = changed;
		struct task *t;

		bool forced = strvec_find(&s->forced, g->name) >= 0;

		/* a config file that went away changed the tool's settings too
		 * (copied only then: a batch can be 20,000 paths) */
		for (size_t i = 0; removed && i < removed->n; i++)
			if (strvec_find(&g->config_files, removed->v[i]) >= 0 &&
			    !gate_matches(g, removed->v[i])) {
				if (touched == changed) {
					strvec_pushv(&with_removed, changed);
					touched = &with_removed;
				}
				strvec_push(&with_removed, removed->v[i]);
			}
		/* listed per gate, each only its own inputs: a 100k-file tree
		 * is never copied whole for a gate that includes a few files */
		strvec_clear(&all);
		listed = false;
		if (s->o.list_files && (forced || select_needs_all(g, touched))) {
			s->o.list_files(s->o.list_arg, g, &all);
			listed = true;
		}
		select_files(g, touched, listed ? &all : NULL, &sel);
		strvec_clear(&with_removed);
		if (forced && listed)
			select_everything(g, &all, "the gate's definition changed", &sel);
		drop_waiting(s, g, &sel);
		if (sel.files.n == 0) {
			selection_release(&sel);
			continue;
		}
		t = xcalloc(1, sizeof(*t));
		t->s = s;
		t->gate = g;
		t->files = sel.files;
		t->reasons = sel.reasons;
		t->exit_code = -1;
		t->agg = (struct gate_result)GATE_RESULT_INIT;
		buf_init(&t->output);
		*tail = t;
		tail = &t->next;
		ntasks++;
	}
	strvec_clear(&all);
	strvec_clear(&s->forced);
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
	if (repo && repo_head(repo, head_oid) == 0)
		lr.git_head = head_oid;
	{
		char chash[OID_HEX + 1];

		repo_hash_buf(cfg->text ? cfg->text : "", cfg->text_len, chash);
		lr.config_hash = chash;
		lr.started_ms = r->started_ms;
		rc = ledger_run_begin(s->o.ledger, &lr, err);
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
	if (ntasks == 0)
		finish_run(s, r, NULL);
	else
		pump(s);
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

bool sched_idle(const struct sched *s)
{
	return s->runs == NULL;
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

const char *sched_last_run(const struct sched *s)
{
	return s->last_run;
}

void sched_shutdown(struct sched *s)
{
	s->shutting_down = true;
	for (struct task *t = s->tasks; t; t = t->next)
		supersede(t);
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
			finish_task(s, c->task);
	}
	s->ready_tail = NULL;
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
	strvec_clear(&s->forced);
	{
		size_t it = 0;
		struct hmap_slot *sl;

		while ((sl = hmap_next(&s->tools, &it)) != NULL) {
			struct tool_ver *tv = sl->val;

			free(tv->prog);
			free(tv->version);
			free(tv);
		}
		hmap_release(&s->tools);
	}
	{
		size_t it = 0;
		struct hmap_slot *sl;

		while ((sl = hmap_next(&s->blob_memo, &it)) != NULL)
			free(sl->val);
		hmap_release(&s->blob_memo);
	}
	which_forget(s);
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
