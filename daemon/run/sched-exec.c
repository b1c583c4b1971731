/* Running and recording: a task starts (content ids, fingerprint, cache
 * lookups), its chunks start as `jobs` allows, each finished process
 * becomes a result (verdict.c says what it means for each file), and a
 * finished task goes to the ledger. The tools' identity lives here too:
 * programs resolved on PATH, version probes, fingerprints. Keeps the
 * invariants:
 *  - at most `jobs` processes run at once, chunks start in FIFO order;
 *  - content ids (git blob ids) are taken when a task starts (off the loop
 *    thread for files on disk), and the cache is asked then: a hit costs
 *    no process;
 *  - a failing chunk of several files that names none of them (the exit
 *    parser, unreadable lines), or whose process ended abnormally (an exit
 *    code that is not the tool's findings code, output the parser could
 *    not read: a crash partway), is run again split in halves until each
 *    part passes or is one file; a lone file ended abnormally is an error;
 *  - a test gate or a task runner (no file names in its argv) judges more
 *    than its files: its results are cached under a digest of every file
 *    the gate includes, and the ledger is told when a task runner judged
 *    the whole tree (its pass clears every file its gate had marked
 *    failing). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "daemon/git/repo.h"
#include "daemon/ledger/ledger.h"
#include "lib/blobid.h"
#include "lib/buf.h"
#include "lib/fstamp.h"
#include "lib/hmap.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "sched-internal.h"
#include "select.h"
#include "spawn.h"
#include "verdict.h"

#define PROBE_TIMEOUT_S 30		/* a version probe's limit */
#define OUTPUT_EXCERPT 8192		/* bytes of tool output kept in the ledger */
#define REPORT_MAX (64 << 20)
/* Tool output: the first CAPTURE_MEM bytes of each stream stay in memory
 * (excerpts), up to PARSE_LIMIT go to a spill file for the parser, and the
 * rest is read and dropped; a parser that needs the stream then says the
 * output could not be judged (gate_output_whole). */
#define CAPTURE_MEM (1 << 20)
#define PARSE_LIMIT ((size_t)64 << 20)

/* A tool's version, probed once and trusted while its binary keeps the
 * same identity (an upgrade changes it); the ledger keeps it for later
 * runs and other processes. */
struct tool_ver {
	struct sched	*s;
	char		*prog;
	dev_t		 dev;
	ino_t		 ino;
	off_t		 size;
	struct timespec	 mtime;
	char		*version;	/* first line the probe printed */
	bool		 known;
	bool		 probing;
};

/* Gates whose verdict depends on more than the files they are given: a
 * test gate (its tests exercise other code) and a task runner (it is given
 * no files and judges the tree). */
static bool whole_inputs(const struct gate *g)
{
	return task_whole_inputs(g);
}

static void which_forget(struct sched *s)
{
	size_t it = 0;
	struct hmap_slot *sl;

	while ((sl = hmap_next(&s->which, &it)) != NULL)
		free(sl->val);
	hmap_release(&s->which);
}

/* The program a gate's argv[0] names: looked up in PATH, or, for a
 * relative name like "./tool", in ROOT (the tools' working directory) and
 * then in the work tree (`check --staged` runs in a copy of the index).
 * malloc'ed; NULL when not found. */
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
static void start_tool(struct sched *s, const char *cwd, struct strvec *argv, char *prog,
    int timeout_s, size_t cap, size_t keep, spawn_done_fn *cb, void *arg, struct spawn **sp)
{
	struct spawn_opts so;

	free(argv->v[0]);
	argv->v[0] = prog;
	memset(&so, 0, sizeof(so));
	so.cwd = cwd;
	so.argv = argv->v;
	so.env = s->env;
	so.timeout_s = timeout_s;
	so.cap = cap;
	so.keep = keep;
	so.spill_dir = keep ? s->o.tmp_dir : NULL;
	spawn_start(s->o.loop, &so, cb, arg, sp);
}

static void tool_identity(const struct tool_ver *tv, struct ledger_tool *lt)
{
	lt->path = tv->prog;
	lt->dev = (int64_t)tv->dev;
	lt->ino = (int64_t)tv->ino;
	lt->size = (int64_t)tv->size;
	lt->mtime_ns = (int64_t)tv->mtime.tv_sec * 1000000000 + tv->mtime.tv_nsec;
}

static void on_probe_done(struct spawn_result *res, void *arg)
{
	struct tool_ver *tv = arg;
	const char *text = res->out.len ? res->out.buf : res->err.buf;
	size_t n = strcspn(text, "\r\n");
	bool failed = res->spawn_error || res->timed_out || res->term_signal;

	free(tv->version);
	if (failed)
		tv->version = xstrdup("unknown (the version probe failed)");
	else
		tv->version = xstrndup(text, n);
	tv->known = true;
	tv->probing = false;
	log_info("%s: version %s", tv->prog, tv->version);
	if (!failed) {
		struct ledger_tool lt;
		struct wd_err err = { 0 };

		tool_identity(tv, &lt);
		if (ledger_tool_version_put(tv->s->o.ledger, &lt, tv->version, &err) != 0)
			log_warnx("%s", err.msg);
	}
	sched_pump(tv->s);
}

bool exec_version_ready(struct sched *s, const struct gate *g)
{
	struct strvec argv = STRVEC_INIT;
	struct tool_ver *tv;
	struct ledger_tool lt;
	struct stat st;
	char *prog, *version = NULL;

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
	if (tv->probing || (tv->known && tv->size == st.st_size && tv->dev == st.st_dev &&
	    tv->ino == st.st_ino && tv->mtime.tv_sec == st.st_mtim.tv_sec &&
	    tv->mtime.tv_nsec == st.st_mtim.tv_nsec)) {
		free(prog);
		strvec_clear(&argv);
		return !tv->probing;
	}
	tv->dev = st.st_dev;
	tv->ino = st.st_ino;
	tv->size = st.st_size;
	tv->mtime = st.st_mtim;
	/* asked before, by this or another process: no process to start */
	tool_identity(tv, &lt);
	if (ledger_tool_version(s->o.ledger, &lt, &version) == 1) {
		free(tv->version);
		tv->version = version;
		tv->known = true;
		free(prog);
		strvec_clear(&argv);
		return true;
	}
	tv->known = false;
	tv->probing = true;
	/* a probe never takes longer than the gate may: a tool that hangs
	 * would otherwise hold the gate's result for the probe's 30 s */
	start_tool(s, s->o.root, &argv, prog, g->timeout_s > 0 && g->timeout_s < PROBE_TIMEOUT_S ?
	    g->timeout_s : PROBE_TIMEOUT_S, 4096, 0, on_probe_done, tv, NULL);
	strvec_clear(&argv);
	return false;
}

/* Fingerprint: the gate's definition, the tool's identity and version, and
 * the bytes of its config files. The tool is identified by its resolved
 * path, size and mtime: an upgrade changes them, so old results stop
 * matching. Everything but the version is taken when the task starts
 * (into fp_base); the version is added once known. */
static void fingerprint_base(struct sched *s, struct task *t, const struct hash_job *j)
{
	struct buf *b = &t->fp_base;
	struct strvec argv = STRVEC_INIT;
	const char *files[1] = { "x" };
	size_t conf_at;

	buf_addstr(b, t->gate->definition);
	buf_addch(b, '\0');
	if (t->gate->ops->argv(t->gate, s->o.root, files, 1, "r", &argv) == 0 && argv.n) {
		char *prog = tool_path(s, argv.v[0]);
		struct stat st;

		if (prog && stat(prog, &st) == 0)
			buf_addf(b, "%s %lld %lld.%09ld", prog, (long long)st.st_size,
			    (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
		free(prog);
	}
	/* the version goes here, between the tool and its config */
	buf_addch(b, '\1');
	conf_at = b->len;
	for (size_t i = 0; i < j->nconf; i++) {
		buf_addch(b, '\0');
		buf_addstr(b, t->gate->config_files.v[i]);
		buf_addstr(b, j->oids[i]);
	}
	if (s->o.remote) {
		/* The same, for keys other machines compute: the tool as the
		 * config names it (not where it is installed here), its version
		 * or else its content, added by fingerprint_finish. */
		struct buf *r = &t->rfp_base;

		buf_addstr(r, "watchd-rfp 1");
		buf_addch(r, '\0');
		buf_addstr(r, t->gate->definition);
		buf_addch(r, '\0');
		if (argv.n)
			buf_addf(r, "tool %s", argv.v[0]);
		buf_addch(r, '\1');
		buf_add(r, b->buf + conf_at, b->len - conf_at);
	}
	strvec_clear(&argv);
}

/* "SIZE MTIME BLOBID" of a program, memoised while its stat holds: what
 * identifies a tool that has no version probe to another machine. NULL
 * when it cannot be read. Borrowed from s->prog_ids. */
static const char *prog_content(struct sched *s, const char *prog)
{
	struct stat st;
	char oid[OID_HEX + 1], *id, *prev;
	size_t stamp_len;

	if (stat(prog, &st) < 0)
		return NULL;
	id = xasprintf("%lld %lld.%09ld ", (long long)st.st_size,
	    (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	stamp_len = strlen(id);
	prev = hmap_gets(&s->prog_ids, prog);
	if (prev && strncmp(prev, id, stamp_len) == 0) {
		free(id);
		return prev + stamp_len;
	}
	/* once per tool and upgrade, on the loop thread: a program is
	 * small next to what the run itself reads */
	if (blobid_file(prog, 0, NULL, oid) != 0) {
		free(id);
		return NULL;
	}
	free(prev);
	prev = xasprintf("%s%s", id, oid);
	free(id);
	hmap_puts(&s->prog_ids, prog, prev);
	return prev + stamp_len;
}

/* The remote fingerprint: rfp_base with the tool's version, or its
 * content when it has no version probe; none (rfingerprint "") when the
 * tool is not there to be identified. */
static void remote_fingerprint(struct sched *s, struct task *t)
{
	struct buf b = BUF_INIT;
	struct strvec argv = STRVEC_INIT;
	const char *mark = memchr(t->rfp_base.buf, '\1', t->rfp_base.len);
	size_t head = (size_t)(mark - t->rfp_base.buf);
	bool known = false;

	t->rfingerprint[0] = '\0';
	buf_add(&b, t->rfp_base.buf, head);
	if (t->gate->ops->version_argv && t->gate->ops->version_argv(t->gate, &argv) == 0 &&
	    argv.n) {
		char *prog = tool_path(s, argv.v[0]);
		struct tool_ver *tv = prog ? hmap_gets(&s->tools, prog) : NULL;

		/* a failed probe says nothing about which tool this is */
		if (tv && tv->known && strncmp(tv->version, "unknown", 7) != 0) {
			buf_addf(&b, "\nversion %s", tv->version);
			known = true;
		}
		free(prog);
	} else {
		struct strvec run_argv = STRVEC_INIT;
		const char *files[1] = { "x" };

		if (t->gate->ops->argv(t->gate, s->o.root, files, 1, "r", &run_argv) == 0 &&
		    run_argv.n) {
			char *prog = tool_path(s, run_argv.v[0]);
			const char *id = prog ? prog_content(s, prog) : NULL;

			if (id) {
				buf_addf(&b, "\ncontent %s", id);
				known = true;
			}
			free(prog);
		}
		strvec_clear(&run_argv);
	}
	strvec_clear(&argv);
	buf_add(&b, mark + 1, t->rfp_base.len - head - 1);
	if (known)
		repo_hash_buf(b.buf, b.len, t->rfingerprint);
	buf_release(&b);
	buf_release(&t->rfp_base);
}

static void fingerprint_finish(struct sched *s, struct task *t)
{
	struct buf b = BUF_INIT;
	struct strvec argv = STRVEC_INIT;
	const char *mark = memchr(t->fp_base.buf, '\1', t->fp_base.len);
	size_t head = mark ? (size_t)(mark - t->fp_base.buf) : t->fp_base.len;

	buf_add(&b, t->fp_base.buf, head);
	if (t->gate->ops->version_argv && t->gate->ops->version_argv(t->gate, &argv) == 0 &&
	    argv.n) {
		char *prog = tool_path(s, argv.v[0]);
		struct tool_ver *tv = prog ? hmap_gets(&s->tools, prog) : NULL;

		if (tv && tv->known)
			buf_addf(&b, "\nversion %s", tv->version);
		free(prog);
	}
	strvec_clear(&argv);
	if (mark)
		buf_add(&b, mark + 1, t->fp_base.len - head - 1);
	repo_hash_buf(b.buf, b.len, t->fingerprint);
	buf_release(&b);
	buf_release(&t->fp_base);
	if (t->rfp_base.len)
		remote_fingerprint(s, t);
}

bool exec_fingerprint_ready(struct sched *s, struct task *t)
{
	if (!t->fp_late)
		return true;
	if (!s->shutting_down && !exec_version_ready(s, t->gate))
		return false;
	fingerprint_finish(s, t);
	t->fp_late = false;
	return true;
}

/* The blob id of a file, remembered by its stamp so that a test gate's
 * whole input set is not re-read at every run. A symlink is stamped by
 * what it resolves to, since that is what blobid_file hashes. */
struct blob_memo {
	uint64_t	 stamp;
	char		 oid[OID_HEX + 1];
};

bool exec_memo_lookup(struct sched *s, const char *rel, uint64_t *stamp, char oid[OID_HEX + 1])
{
	char *p = xasprintf("%s/%s", s->o.root, rel);
	struct blob_memo *m;
	struct stat st;

	*stamp = 0;
	if (stat(p, &st) < 0 && lstat(p, &st) < 0) {
		free(p);
		oid[0] = '\0';
		return true;	/* gone: no id */
	}
	free(p);
	*stamp = fstamp(&st);
	m = hmap_gets(&s->blob_memo, rel);
	if (m == NULL || m->stamp != *stamp)
		return false;
	memcpy(oid, m->oid, OID_HEX + 1);
	return true;
}

/* Keeps what the worker found for the input set (stamped before it read). */
static void memo_store(struct sched *s, const struct hash_job *j)
{
	for (size_t i = 0; i < j->ninputs; i++) {
		size_t k = j->nconf + i;
		struct blob_memo *m;

		if (j->paths[k] == NULL || j->stamps[i] == 0)
			continue;
		m = hmap_gets(&s->blob_memo, j->inputs.v[i]);
		if (m == NULL) {
			m = xcalloc(1, sizeof(*m));
			hmap_puts(&s->blob_memo, j->inputs.v[i], m);
		}
		m->stamp = j->oids[k][0] ? j->stamps[i] : 0;
		memcpy(m->oid, j->oids[k], OID_HEX + 1);
	}
}

/* Test gates and task runners: a digest of the sorted (path, blob id) of
 * every file in the gate's input set (include and triggers). A cached result is reused only
 * when nothing a test could depend on changed -- never for the test file's
 * own content alone, which is how stale passes happen. */
static void input_digest(struct task *t, const struct hash_job *j)
{
	struct buf b = BUF_INIT;

	t->digest[0] = '\0';
	if (j->ninputs == 0 && t->s->o.list_files == NULL)
		return;
	for (size_t i = 0; i < j->ninputs; i++) {
		buf_addstr(&b, j->inputs.v[i]);
		buf_addch(&b, '\0');
		buf_addstr(&b, j->oids[j->nconf + i]);
		buf_addch(&b, '\n');
	}
	repo_hash_buf(b.buf, b.len, t->digest);
	buf_release(&b);
}

/* Content ids are taken now, when the task starts, not when the batch was
 * submitted: a file that changed while the task waited is judged as it is
 * now, and the cache is asked about those bytes (a hit costs no process).
 * t->files stays sorted (overlap checks rely on it); chunks point into
 * t->untried. When the tool's version is not known (a new or upgraded
 * tool: no result can be cached under its fingerprint yet), the task
 * does not wait for the probe: the cache is not asked, the tool runs
 * beside the probe, and the fingerprint is made when both are done.
 * Files on disk are hashed on the thread pool (sched-hash.c), and the task
 * goes on in exec_task_hashed; staged content's ids come from the index at
 * once. */
void exec_start_task(struct sched *s, struct task *t)
{
	size_t nf = t->files.n;


	t->state = TASK_RUNNING;
	t->started_ms = now_ms();
	t->started_tick = uv_now(s->o.loop);
	t->root = s->o.root;
	if (t->skipped) {
		/* the user said so: no fingerprint, version, cache or process */
		size_t n = nf ? nf : 1;

		t->blobs = xcalloc(n, sizeof(*t->blobs));
		t->keys = t->blobs;
		t->cached = xcalloc(n, 1);
		t->verdict = xmalloc(n);
		memset(t->verdict, -1, n);
		t->agg.status = GATE_SKIPPED;
		gate_result_msg(&t->agg, "skipped: WATCHD_SKIP names it");
		sched_finish_task(s, t);
		return;
	}
	/* a tool not yet probed is probed while its files are hashed */
	(void)exec_version_ready(s, t->gate);
	hash_start(s, t);
}

void exec_task_hashed(struct sched *s, struct task *t, struct hash_job *j)
{
	size_t nf = t->files.n, nuntried = 0;
	bool use_cache = !s->o.no_cache && t->gate->cache != GATE_CACHE_NONE, snapshot;
	bool cancelled = atomic_load(&j->cancel) || t->superseded;

	/* The remote cache's keys need the tool's version: a fresh clone
	 * knows none yet, and the tool would run beside the probe for every
	 * file the team already judged. The task, its content ids taken
	 * while the probe ran, waits for its answer (sched_pump resumes it);
	 * the local cache alone never needs to. */
	if (!cancelled && !s->shutting_down && remote_reads(s->o.remote) &&
	    !exec_version_ready(s, t->gate)) {
		t->parked = j;
		return;
	}
	if (!cancelled && s->o.content == NULL)
		memo_store(s, j);
	fingerprint_base(s, t, j);
	t->fp_late = true;
	if (!exec_fingerprint_ready(s, t))
		use_cache = false;
	if (whole_inputs(t->gate))
		input_digest(t, j);
	/* per-file state is what a large batch costs: a cache key is the
	 * blob itself unless the gate judges more than its files, and only
	 * a task with a cache hit needs to say which run judged each file */
	t->blobs = j->file_oids;	/* taken from the job */
	j->file_oids = NULL;
	t->keys = whole_inputs(t->gate) ? xcalloc(nf ? nf : 1, sizeof(*t->keys)) : t->blobs;
	t->cached = xcalloc(nf ? nf : 1, 1);
	t->verdict = xmalloc(nf ? nf : 1);
	memset(t->verdict, -1, nf ? nf : 1);
	t->untried = xcalloc(nf ? nf : 1, sizeof(*t->untried));
	snapshot = !cancelled && use_cache && !t->fp_late && nf > 1 &&
	    ledger_read_begin(s->o.ledger) == 0;
	if (!cancelled && use_cache && !t->fp_late)
		ledger_cache_prepare(s->o.ledger, nf);
	for (size_t i = 0; i < nf; i++) {
		struct ledger_cache_hit hit;

		if (cancelled) {
			/* stopped or superseded while hashing: nothing runs, and
			 * nothing is judged (the task ends as skipped) */
			t->blobs[i][0] = '\0';
			continue;
		}
		if (t->blobs[i][0] && whole_inputs(t->gate)) {
			char *k = xasprintf("%s %s", t->blobs[i], t->digest);

			repo_hash_buf(k, strlen(k), t->keys[i]);
			free(k);
		}
		memset(&hit, 0, sizeof(hit));
		if (use_cache && !t->fp_late && t->keys[i][0] &&
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
	if (snapshot)
		ledger_read_end(s->o.ledger);
	hash_job_free(j);
	log_debug("run %s gate %s: %zu of %zu file(s) from the ledger", t->run->id,
	    t->gate->name, nf - nuntried, nf);
	if (nuntried > 0 && !cancelled && use_cache && remote_lookup_start(s, t, nuntried))
		return;
	exec_task_untried(s, t, nuntried);
}

void exec_task_untried(struct sched *s, struct task *t, size_t nuntried)
{
	if (nuntried > 0 && s->o.content) {
		/* only now, for the misses, is any content written out */
		struct wd_err err = { 0 };
		const char *root = s->o.content->prepare(s->o.content->arg, t->gate,
		    t->untried, nuntried, &err);

		if (root == NULL) {
			struct gate_result r = GATE_RESULT_INIT;

			r.status = GATE_ERROR;
			gate_result_msg(&r, "%s", err.msg);
			verdict_merge(&t->agg, &r);
			gate_result_release(&r);
			nuntried = 0;
		} else
			t->root = root;
	}
	chunk_cut(t, nuntried);
	if (t->nchunks == 0) {
		sched_finish_task(s, t);
		return;
	}
	for (size_t i = 0; i < t->nchunks; i++)
		exec_enqueue(s, &t->chunks[i]);
}

void exec_enqueue(struct sched *s, struct chunk *c)
{
	c->next_ready = NULL;
	if (s->ready_tail)
		s->ready_tail->next_ready = c;
	else
		s->ready_head = c;
	s->ready_tail = c;
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

/* A chunk's process ended: what it left becomes a result, which verdict.c
 * reads per file, or which sends the chunk back in halves. */
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
			.root = t->root,
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
		chunk_split(s, c);
	} else {
		verdict_distrust(&r, t->gate->batching);
		verdict_chunk(&r, c->files, c->n, t->gate->batching, &t->files, t->verdict);
		verdict_merge(&t->agg, &r);
	}
	gate_result_release(&r);
	buf_release(&report);
	if (--t->chunks_left == 0)
		sched_finish_task(s, t);
	sched_pump(s);
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
	rc = t->gate->ops->argv(t->gate, t->root, c->files, c->n, c->report, &argv);
	prog = rc == 0 && argv.n ? tool_path(s, argv.v[0]) : NULL;
	s->running_procs++;
	if (prog == NULL) {
		/* a missing tool is a result, not an error: the chunk ends here,
		 * judged GATE_MISSING, with no process (and no file verdict) */
		const char *name = argv.n ? argv.v[0] : t->gate->type;
		struct gate_result r = GATE_RESULT_INIT;

		if (hmap_gets(s->missing_warned, t->gate->name) == NULL) {
			hmap_puts(s->missing_warned, t->gate->name, (void *)1);
			log_warnx("gate %s: %s not found on PATH (%s)", t->gate->name, name,
			    t->gate->ops->install_hint ? t->gate->ops->install_hint : "install it");
		}
		r.status = GATE_MISSING;
		gate_result_msg(&r, "%s: not found on PATH; %s", name,
		    t->gate->ops->install_hint ? t->gate->ops->install_hint : "install it");
		s->running_procs--;
		c->done = true;
		verdict_merge(&t->agg, &r);
		gate_result_release(&r);
		strvec_clear(&argv);
		if (--t->chunks_left == 0)
			sched_finish_task(s, t);
		return;
	}
	log_debug("gate %s: starting %s with %zu files", t->gate->name, prog, c->n);
	start_tool(s, t->root, &argv, prog, t->gate->timeout_s, CAPTURE_MEM, PARSE_LIMIT,
	    on_chunk_done, c, &c->sp);
	strvec_clear(&argv);
}

/* FIFO, and never more than max_procs (`jobs`) at once: running_procs
 * counts a chunk from start_chunk until on_chunk_done (a missing tool
 * gives its slot back at once). */
void exec_start_ready(struct sched *s)
{
	while (s->ready_head && s->running_procs < s->max_procs) {
		struct chunk *c = s->ready_head;

		s->ready_head = c->next_ready;
		if (s->ready_head == NULL)
			s->ready_tail = NULL;
		if (c->task->superseded) {
			c->done = true;
			if (--c->task->chunks_left == 0)
				sched_finish_task(s, c->task);
			continue;
		}
		start_chunk(s, c);
	}
}

/* Why file i ran (or why its result came from the cache): shown by
 * `watchd show`. Borrowed from the task, or composed into *owned (the
 * caller frees it): a 20,000-file batch copies no "changed" per file. */
static const char *file_reason(const struct sched *s, const struct task *t, size_t i,
    char **owned)
{
	const char *why = hmap_gets(&t->reasons, t->files.v[i]);

	*owned = NULL;
	if (why == NULL)
		why = SELECT_CHANGED;
	if (!t->cached[i])
		return why;
	if (t->remote_hit && t->remote_hit[i])
		return *owned = xasprintf("%s; " SELECT_CACHED " of %s (run %s judged the same %s)",
		    why, remote_url(s->o.remote), t->judged_by[i],
		    t->gate->tests ? "content and the same inputs" : "content");
	return *owned = xasprintf("%s; " SELECT_CACHED " (run %s judged the same %s)", why,
	    t->judged_by[i][0] ? t->judged_by[i] : "?", t->gate->tests ? "content and the same inputs" : "content");
}

/* exec_record_task's rows, made one at a time as the ledger writes them. */
struct row_source {
	struct sched	*s;
	struct task	*t;
	char		*reason;	/* the last row's, when composed */
};

static void task_file_at(void *arg, size_t i, bool reason, struct ledger_file *f)
{
	struct row_source *rs = arg;
	struct task *t = rs->t;

	f->path = t->files.v[i];
	f->blob = t->blobs[i][0] ? t->blobs[i] : NULL;
	f->cache_key = t->keys[i][0] ? t->keys[i] : NULL;
	/* cached files too: the row then points at this run, which holds
	 * their findings */
	f->cache_status = verdict_cache_status(t->verdict[i], t->gate->cache,
	    rs->s->o.no_cache, t->keys[i][0] != '\0');
	/* without a verdict of its own the file shows the gate's */
	f->has_status = t->verdict[i] >= 0;
	f->status = t->verdict[i] >= 0 ? (enum gate_status)t->verdict[i] : t->agg.status;
	if (reason) {
		free(rs->reason);
		f->reason = file_reason(rs->s, t, i, &rs->reason);
	}
	if (t->cached[i])
		f->judged_by = t->judged_by[i];
}

void exec_record_task(struct sched *s, struct task *t)
{
	struct row_source rs = { .s = s, .t = t };
	struct ledger_gate_run gr;
	struct wd_err err = { 0 };
	bool all_cached = t->files.n > 0;
	const char *cached_from = NULL;	/* the one run every cached file came from */

	for (size_t i = 0; i < t->files.n; i++) {
		if (!t->cached[i]) {
			all_cached = false;
			continue;
		}
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
	if (t->remote_hits > 0) {
		gr.remote = remote_url(s->o.remote);
		gr.remote_hits = (int)t->remote_hits;
		if (all_cached && t->remote_hits == t->files.n)
			gr.cached_from = "remote";
	}
	gr.exit_code = t->exit_code;
	gr.started_ms = t->started_ms;
	gr.duration_ms = (int64_t)(uv_now(s->o.loop) - t->started_tick);
	gr.file_at = task_file_at;
	gr.file_arg = &rs;
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
	else if (remote_writes(s->o.remote))
		remote_upload(s, t);
	free(rs.reason);
	log_info("run %s gate %s: %s (%zu files, %zu findings)%s", t->run->id, t->gate->name,
	    gate_status_name(t->agg.status), t->files.n, t->agg.findings.n,
	    all_cached ? " cached" : "");
	if (s->o.gate_done) {
		struct sched_gate_done gd = {
			.run_id = t->run->id, .gate = t->gate->name, .status = t->agg.status,
			.cached = all_cached, .exit_code = t->exit_code,
			.duration_ms = gr.duration_ms, .files = &t->files,
			.findings = &t->agg.findings, .message = t->agg.message,
		};

		s->o.gate_done(s->o.hook_arg, &gd);
	}
}

void exec_release(struct sched *s)
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
	it = 0;
	while ((sl = hmap_next(&s->blob_memo, &it)) != NULL)
		free(sl->val);
	hmap_release(&s->blob_memo);
	it = 0;
	while ((sl = hmap_next(&s->prog_ids, &it)) != NULL)
		free(sl->val);
	hmap_release(&s->prog_ids);
	which_forget(s);
}
