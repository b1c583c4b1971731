/* Tool processes: posix_spawn (glibc starts the child with CLONE_VFORK, so
 * no page tables are copied: 0.35 ms here against 2.1-2.5 ms for libuv
 * 1.44's fork-based uv_spawn, which sat on every gate run's latency), in
 * its own session (so kill(-pid) reaches grandchildren), stdout and
 * stderr real pipes read from the start (backpressure would otherwise
 * stall the tool), a timeout that escalates SIGTERM -> SIGKILL, and a
 * bounded wait for EOF after exit because an escaped grandchild can hold
 * the pipes open for ever. The exit is learnt from SIGCHLD through a
 * uv_signal_t per process, which reaps only its own pid (nothing else in
 * the process may reap with waitpid(-1)). The job is reported only when
 * exit, both EOFs (or the EOF deadline) and every close callback have
 * happened: exit and EOF come in either order. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "spawn.h"

#define KILL_GRACE_MS 2000	/* SIGTERM -> SIGKILL */
#define EOF_GRACE_MS 2000	/* exit -> stop waiting for EOF */

struct spawn {
	uv_signal_t	 chld;		/* SIGCHLD: has our pid exited? */
	uv_pipe_t	 out, err;
	uv_timer_t	 timer;
	uv_loop_t	*loop;
	spawn_done_fn	*cb;
	void		*arg;
	struct spawn_result res;
	size_t		 cap, keep;
	char		*spill_dir;	/* NULL: no spill files */
	uint64_t	 started;
	uint64_t	 stage_t0;	/* log_stage_start() */
	size_t		 nargs;		/* for the stage log */
	int		 pid;
	int		 open_handles;	/* handles not yet closed */
	bool		 exited;	/* reaped: never signal the pid alone again */
	bool		 out_eof, err_eof;
	bool		 closing;
	int		 kill_stage;	/* 0 none, 1 TERM sent, 2 KILL sent */
};

static void on_close(uv_handle_t *h)
{
	struct spawn *sp = h->data;

	if (--sp->open_handles > 0)
		return;
	sp->res.duration_ms = (int64_t)(uv_now(sp->loop) - sp->started);
	log_stage("tool", sp->nargs, sp->stage_t0);
	sp->cb(&sp->res, sp->arg);
	buf_release(&sp->res.out);
	buf_release(&sp->res.err);
	if (sp->res.out_fd >= 0)
		close(sp->res.out_fd);
	if (sp->res.err_fd >= 0)
		close(sp->res.err_fd);
	free(sp->spill_dir);
	free(sp);
}

static void close_all(struct spawn *sp)
{
	if (sp->closing)
		return;
	sp->closing = true;
	uv_close((uv_handle_t *)&sp->timer, on_close);
	uv_close((uv_handle_t *)&sp->chld, on_close);
	uv_close((uv_handle_t *)&sp->out, on_close);
	uv_close((uv_handle_t *)&sp->err, on_close);
}

static void maybe_finish(struct spawn *sp)
{
	if (sp->exited && sp->out_eof && sp->err_eof)
		close_all(sp);
}

static void signal_group(struct spawn *sp, int sig)
{
	if (sp->pid <= 0)
		return;
	/* After the leader exits its pid may be recycled, but the group can
	 * live on; a group signal is safe while a member remains because the
	 * pgid cannot be reused until the last member is gone. */
	if (kill(-sp->pid, sig) < 0 && errno != ESRCH)
		log_warn("kill(-%d, %d)", sp->pid, sig);
}

static void on_timer(uv_timer_t *t)
{
	struct spawn *sp = t->data;

	if (sp->exited) {
		/* EOF deadline passed: a grandchild holds our pipes */
		signal_group(sp, SIGKILL);
		sp->out_eof = sp->err_eof = true;
		maybe_finish(sp);
		return;
	}
	if (sp->kill_stage == 0) {
		if (!sp->res.killed)
			sp->res.timed_out = true;
		sp->kill_stage = 1;
		signal_group(sp, SIGTERM);
		uv_timer_start(&sp->timer, on_timer, KILL_GRACE_MS, 0);
	} else {
		sp->kill_stage = 2;
		signal_group(sp, SIGKILL);
		uv_timer_start(&sp->timer, on_timer, KILL_GRACE_MS, 0);
	}
}

static void child_exited(struct spawn *sp, int status)
{
	sp->exited = true;
	/* as libuv reported it: a signalled process has exit code 0 */
	sp->res.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
	sp->res.term_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	uv_signal_stop(&sp->chld);
	uv_timer_stop(&sp->timer);
	if (sp->kill_stage > 0 || sp->res.killed)
		signal_group(sp, SIGKILL);	/* finish off stragglers */
	if (!(sp->out_eof && sp->err_eof))
		uv_timer_start(&sp->timer, on_timer, EOF_GRACE_MS, 0);
	maybe_finish(sp);
}

/* Any child's exit wakes every watcher, and signals coalesce, so each
 * asks only after its own pid, without blocking. */
static void on_sigchld(uv_signal_t *h, int sig)
{
	struct spawn *sp = h->data;
	int status = 0;
	pid_t r;

	(void)sig;
	if (sp->exited)
		return;
	do
		r = waitpid(sp->pid, &status, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return;
	if (r < 0) {
		/* someone reaped it behind our back: its status is lost, but
		 * waiting on would hang the gate for ever */
		log_warn("waitpid(%d)", sp->pid);
		status = 255 << 8;
	}
	child_exited(sp, status);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	static char scratch[65536];

	(void)h;
	(void)hint;
	/* one static buffer: reads are consumed synchronously in on_read */
	b->base = scratch;
	b->len = sizeof(scratch);
}

/* An unlinked file in dir for one stream's spilled output; -1 on failure. */
static int spill_open(const char *dir)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		char *tmpl = xasprintf("%s/spill-XXXXXX", dir);

		fd = mkostemp(tmpl, O_CLOEXEC);
		if (fd >= 0)
			unlink(tmpl);
		free(tmpl);
	}
	return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Keeps n more bytes of one stream: the first cap in memory, everything up
 * to keep in the spill file (opened when the memory part is full). A spill
 * file that cannot be written is dropped: the stream is then kept as far
 * as memory holds it, and marked truncated. */
static void keep_bytes(struct spawn *sp, bool is_out, const char *data, size_t n)
{
	struct buf *dst = is_out ? &sp->res.out : &sp->res.err;
	int *fd = is_out ? &sp->res.out_fd : &sp->res.err_fd;
	size_t *kept = is_out ? &sp->res.out_kept : &sp->res.err_kept;
	bool *trunc = is_out ? &sp->res.out_truncated : &sp->res.err_truncated;
	size_t limit = sp->spill_dir ? sp->keep : sp->cap;

	if (*kept + n > limit) {
		n = limit > *kept ? limit - *kept : 0;
		*trunc = true;
	}
	if (n == 0)
		return;
	if (dst->len < sp->cap)
		buf_add(dst, data, n < sp->cap - dst->len ? n : sp->cap - dst->len);
	if (*kept + n > sp->cap && *fd < 0 && sp->spill_dir) {
		/* the memory part holds everything so far: it starts the file */
		if ((*fd = spill_open(sp->spill_dir)) < 0 ||
		    write_all(*fd, dst->buf, *kept) != 0) {
			log_warn("cannot spill tool output to %s", sp->spill_dir);
			if (*fd >= 0)
				close(*fd);
			*fd = -1;
			free(sp->spill_dir);
			sp->spill_dir = NULL;
		}
	}
	if (*fd >= 0 && write_all(*fd, data, n) != 0) {
		log_warn("cannot spill tool output");
		close(*fd);
		*fd = -1;
		*kept = dst->len;
		*trunc = true;
		free(sp->spill_dir);
		sp->spill_dir = NULL;
		return;
	}
	if (*fd < 0 && *kept + n > sp->cap) {
		*kept = dst->len;
		*trunc = true;
		return;
	}
	*kept += n;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct spawn *sp = s->data;
	bool is_out = s == (uv_stream_t *)&sp->out;

	if (n > 0) {
		keep_bytes(sp, is_out, b->base, (size_t)n);
		return;
	}
	if (n < 0) {
		uv_read_stop(s);
		if (is_out)
			sp->out_eof = true;
		else
			sp->err_eof = true;
		maybe_finish(sp);
	}
}

int spawn_view(const struct spawn_result *res, bool err, struct spawn_view *v)
{
	const struct buf *b = err ? &res->err : &res->out;
	int fd = err ? res->err_fd : res->out_fd;
	size_t kept = err ? res->err_kept : res->out_kept;
	void *m;

	memset(v, 0, sizeof(*v));
	v->data = b->buf;
	v->len = b->len;
	if (fd < 0 || kept <= b->len)
		return 0;
	/* one NUL past the end, so that the mapping is a C string too */
	if (pwrite(fd, "", 1, (off_t)kept) != 1)
		return -errno;
	m = mmap(NULL, kept + 1, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	v->map = m;
	v->map_len = kept + 1;
	v->data = m;
	v->len = kept;
	return 0;
}

void spawn_view_release(struct spawn_view *v)
{
	if (v->map)
		munmap(v->map, v->map_len);
	memset(v, 0, sizeof(*v));
}

static void report_later(uv_timer_t *t)
{
	close_all(t->data);
}

/* Starts argv with stdin on /dev/null, stdout and stderr on the write
 * ends, in its own session, every signal at its default action and none
 * blocked (the daemon ignores SIGPIPE; a tool must not inherit that), in
 * cwd. Returns 0 or a UV_E* code; the child is reaped by glibc when its
 * exec failed. */
static int launch(struct spawn *sp, const struct spawn_opts *o, int out_w, int err_w)
{
	extern char **environ;
	char *const *env = o->env ? o->env : environ;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t all, none;
	pid_t pid;
	int rc;

	sigfillset(&all);
	sigemptyset(&none);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_w, 1);
	posix_spawn_file_actions_adddup2(&fa, err_w, 2);
	if (o->cwd)
		posix_spawn_file_actions_addchdir_np(&fa, o->cwd);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF |
	    POSIX_SPAWN_SETSIGMASK);
	if (strchr(o->argv[0], '/'))
		rc = posix_spawn(&pid, o->argv[0], &fa, &at, o->argv, env);
	else
		rc = posix_spawnp(&pid, o->argv[0], &fa, &at, o->argv, env);
	if (rc == ENOEXEC) {
		/* no #! line: run it with sh, as execvp and the shell do */
		size_t n = 0;
		char **sh;

		while (o->argv[n])
			n++;
		sh = xcalloc(n + 2, sizeof(*sh));
		sh[0] = "/bin/sh";
		memcpy(sh + 1, o->argv, n * sizeof(*sh));
		rc = posix_spawn(&pid, sh[0], &fa, &at, sh, env);
		free(sh);
	}
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return -rc;
	sp->pid = pid;
	return 0;
}

/* Both pipes, their read ends owned by the stream handles, then the child. */
static int start_child(struct spawn *sp, const struct spawn_opts *o)
{
	int out[2], err[2], rc;

	if ((rc = uv_pipe(out, UV_NONBLOCK_PIPE, 0)) != 0)
		return rc;
	if ((rc = uv_pipe(err, UV_NONBLOCK_PIPE, 0)) != 0) {
		close(out[0]);
		close(out[1]);
		return rc;
	}
	if ((rc = uv_pipe_open(&sp->out, out[0])) != 0)
		close(out[0]);
	else if ((rc = uv_pipe_open(&sp->err, err[0])) != 0)
		close(err[0]);
	else {
		/* watching before the child exists: its exit cannot be missed */
		uv_signal_start(&sp->chld, on_sigchld, SIGCHLD);
		if ((rc = launch(sp, o, out[1], err[1])) != 0)
			uv_signal_stop(&sp->chld);
	}
	close(out[1]);
	close(err[1]);
	return rc;
}

void spawn_start(uv_loop_t *loop, const struct spawn_opts *o, spawn_done_fn *cb, void *arg,
    struct spawn **out)
{
	struct spawn *sp = xcalloc(1, sizeof(*sp));
	int rc;

	sp->loop = loop;
	sp->cb = cb;
	sp->arg = arg;
	sp->cap = o->cap ? o->cap : (1 << 20);
	sp->keep = o->keep > sp->cap ? o->keep : sp->cap;
	sp->spill_dir = o->spill_dir && sp->keep > sp->cap ? xstrdup(o->spill_dir) : NULL;
	sp->started = uv_now(loop);
	sp->stage_t0 = log_stage_start();
	while (o->argv[sp->nargs])
		sp->nargs++;
	buf_init(&sp->res.out);
	buf_init(&sp->res.err);
	sp->res.out_fd = sp->res.err_fd = -1;
	sp->res.exit_code = -1;
	uv_timer_init(loop, &sp->timer);
	uv_signal_init(loop, &sp->chld);
	uv_pipe_init(loop, &sp->out, 0);
	uv_pipe_init(loop, &sp->err, 0);
	sp->timer.data = sp->chld.data = sp->out.data = sp->err.data = sp;
	sp->open_handles = 4;
	if (out)
		*out = sp;

	rc = start_child(sp, o);
	if (rc != 0) {
		/* the report goes out from the loop, never re-entrantly */
		sp->res.spawn_error = rc;
		sp->exited = true;
		uv_timer_start(&sp->timer, report_later, 0, 0);
		return;
	}
	uv_read_start((uv_stream_t *)&sp->out, on_alloc, on_read);
	uv_read_start((uv_stream_t *)&sp->err, on_alloc, on_read);
	if (o->timeout_s > 0)
		uv_timer_start(&sp->timer, on_timer, (uint64_t)o->timeout_s * 1000, 0);
}

void spawn_kill(struct spawn *sp)
{
	if (sp->exited || sp->res.killed)
		return;
	sp->res.killed = true;
	uv_timer_stop(&sp->timer);
	on_timer(&sp->timer);
}

/* dir/name (or name alone when dir is NULL) as an absolute path when it is
 * an executable regular file, else NULL. A relative result is taken from
 * cwd, or from the caller's directory when cwd is NULL. */
static char *executable(const char *cwd, const char *dir, const char *name)
{
	char *cand = dir ? xasprintf("%s/%s", *dir ? dir : ".", name) : xstrdup(name);
	char real[PATH_MAX];
	struct stat st;

	if (cand[0] != '/' && cwd) {
		char *abs = xasprintf("%s/%s", cwd, cand);

		free(cand);
		cand = abs;
	}
	if (stat(cand, &st) != 0 || !S_ISREG(st.st_mode) || access(cand, X_OK) != 0) {
		free(cand);
		return NULL;
	}
	if (cand[0] != '/') {
		char *abs = realpath(cand, real) ? xstrdup(real) : NULL;

		free(cand);
		return abs;
	}
	return cand;
}

char *spawn_which(const char *prog, const char *path_env, const char *cwd)
{
	const char *p;

	if (prog[0] == '\0')
		return NULL;
	if (strchr(prog, '/'))
		return executable(cwd, NULL, prog);
	if (path_env == NULL || *path_env == '\0')
		path_env = "/usr/local/bin:/usr/bin:/bin";
	for (p = path_env; *p;) {
		size_t n = strcspn(p, ":");
		char *dir = xstrndup(p, n), *hit = executable(cwd, dir, prog);

		free(dir);
		if (hit)
			return hit;
		p += n;
		if (*p == ':')
			p++;
	}
	return NULL;
}
