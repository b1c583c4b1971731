/* The daemon's wiring and lifetime. Start-up order matters: lock (one
 * daemon per ROOT), ledger (mark runs a crash left as interrupted), watcher
 * (initial scan: from here on nothing is missed), socket, then "ready".
 * The ledger opens on a thread while the scan runs; from "ready" on
 * everything runs on the one loop thread. Shutdown reverses it and lets
 * killed tools report before the ledger closes. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "daemon-internal.h"
#include "daemon/git/repo.h"
#include "daemon/ipc/ipc.h"
#include "daemon/ipc/server.h"
#include "daemon/ledger/ledger.h"
#include "daemon/run/sched.h"
#include "daemon/watch/ignore.h"
#include "daemon/watch/settle.h"
#include "daemon/watch/tree.h"
#include "daemon/watch/watcher.h"
#include "lib/envlist.h"
#include "lib/log.h"
#include "lib/sdnotify.h"
#include "lib/xmalloc.h"
#include "version.h"

#define LEDGER_GC_MS	3600000		/* retention: at start, then hourly */

/* ---- lifetime -------------------------------------------------------------- */

void daemon_begin_stop(struct daemon *d)
{
	if (d->stopping)
		return;
	d->stopping = true;
	log_info("stopping");
	notify_stopping(d);
	events_stopping(d->events);
	serve_cancel_syncs(d);
	server_stop(d->server);
	d->server = NULL;
	watcher_stop(d->watcher);
	settle_stop(d->settle);
	/* freed once its handles close; the runs still ending ask of it
	 * after that (path_busy, serve_check_syncs), so they ask NULL */
	d->settle = NULL;
	sched_shutdown(d->sched);
	uv_close((uv_handle_t *)&d->sigterm, NULL);
	uv_close((uv_handle_t *)&d->sigint, NULL);
	uv_close((uv_handle_t *)&d->ledger_retry, NULL);
	uv_close((uv_handle_t *)&d->ledger_gc, NULL);
	uv_close((uv_handle_t *)&d->ledger_quiet, NULL);
	uv_close((uv_handle_t *)&d->ledger_stage, NULL);
	uv_close((uv_handle_t *)&d->sock_dir_ev, NULL);
	uv_close((uv_handle_t *)&d->sock_parent_ev, NULL);
	stall_watch_stop(d);
}

/* A tmp cleaner may remove the runtime directory, socket and all: the
 * daemon still holds its lock, so clients must find it again. Two inotify
 * watches (through libuv), on the socket's directory and on its parent,
 * see the socket or the directory go: an idle daemon wakes for nothing
 * (a polling timer cost it CPU ticks every second). */
static void sock_watch_arm(struct daemon *d);

static void on_sock_dir_event(uv_fs_event_t *h, const char *name, int events, int status)
{
	struct daemon *d = h->data;
	struct wd_err err = { 0 };
	char *dir = NULL;

	(void)name;
	(void)events;
	(void)status;
	if (d->server == NULL || d->stopping || server_socket_ok(d->server))
		return;
	if (ipc_runtime_dir(&dir, &err) != 0) {
		log_warnx("%s", err.msg);
		return;
	}
	free(dir);
	server_rebind(d->server);
	sock_watch_arm(d);	/* the directory may be a new one */
}

static void sock_watch_arm(struct daemon *d)
{
	char *dir = xstrdup(d->sock_path), *slash = strrchr(dir, '/');

	if (slash == NULL) {
		free(dir);
		return;
	}
	*slash = '\0';
	uv_fs_event_stop(&d->sock_dir_ev);
	if (uv_fs_event_start(&d->sock_dir_ev, on_sock_dir_event, dir[0] ? dir : "/", 0) != 0)
		log_warnx("cannot watch %s: a removed socket is noticed only at its parent", dir);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		uv_fs_event_stop(&d->sock_parent_ev);
		if (uv_fs_event_start(&d->sock_parent_ev, on_sock_dir_event, dir, 0) != 0)
			log_warnx("cannot watch %s", dir);
	}
	free(dir);
}

static void on_signal(uv_signal_t *s, int signum)
{
	log_info("signal %d", signum);
	daemon_begin_stop(s->data);
}

static void ready(int *fd, const char *msg)
{
	if (*fd < 0)
		return;
	if (write(*fd, msg, strlen(msg)) < 0) {
		/* the starter is gone; nothing to tell */
	}
	close(*fd);
	*fd = -1;
}

static int fail_start(int *ready_fd, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Opening the ledger (a new one: schema and compaction, about 10 ms) and
 * the initial scan need nothing from each other, so the ledger opens on a
 * thread while the loop thread scans. The thread touches nothing else;
 * the connection passes to the loop thread at the join (SQLite allows a
 * connection to change threads while it is not in use). */
struct ledger_opening {
	pthread_t	 thread;
	const char	*path;		/* borrowed from the cli_ctx */
	struct ledger	*ledger;	/* the result, or NULL */
	struct wd_err	 err;		/* why not, when rc != 0 */
	int		 rc;
	int		 interrupted;	/* runs marked interrupted */
	struct strvec	 unjudged;	/* their files, to judge again */
	bool		 threaded;	/* a thread is to be joined */
};

static void *ledger_opening_main(void *arg)
{
	struct ledger_opening *lo = arg;
	struct wd_err err = { 0 };

	lo->rc = ledger_open(lo->path, LEDGER_WRITE, &lo->ledger, &lo->err);
	if (lo->rc == 0 && ledger_mark_interrupted(lo->ledger, &lo->interrupted, &lo->unjudged,
	    &err) != 0) {
		lo->interrupted = 0;
		log_warnx("%s", err.msg);
	}
	/* reads every key of the cache: here, beside the initial scan */
	if (lo->rc == 0 && !envlist_has("WATCHD_BENCH_WITHOUT", "keyfilter") &&
	    ledger_keyfilter(lo->ledger, &err) != 0)
		log_warnx("%s: cache lookups go without the key filter", err.msg);
	return NULL;
}

/* Where no thread can be had, the ledger opens here and now. */
static void ledger_opening_begin(struct ledger_opening *lo, const char *path)
{
	memset(lo, 0, sizeof(*lo));
	lo->path = path;
	lo->threaded = !envlist_has("WATCHD_BENCH_WITHOUT", "ledger-thread") &&
	    pthread_create(&lo->thread, NULL, ledger_opening_main, lo) == 0;
	if (!lo->threaded)
		ledger_opening_main(lo);
}

/* The files runs cut short by the last daemon's death were to judge: they
 * go to the scheduler as one batch (seq 0: `status --sync` waits for it).
 * A file gone since is forgotten as removed. */
static void rejudge_unfinished(struct daemon *d, struct strvec *files)
{
	struct strvec changed = STRVEC_INIT, removed = STRVEC_INIT;

	for (size_t i = 0; i < files->n; i++) {
		char *p = xasprintf("%s/%s", d->ctx->root, files->v[i]);
		struct stat st;

		strvec_push(lstat(p, &st) == 0 ? &changed : &removed, files->v[i]);
		free(p);
	}
	if (files->n)
		log_info("judging again %zu file(s) the last daemon was judging when it died "
		    "(%zu gone)", changed.n, removed.n);
	if (changed.n || removed.n)
		path_on_batch(d, &changed, &removed, 0);
	strvec_clear(&changed);
	strvec_clear(&removed);
	strvec_clear(files);
}

/* 0 with *out set, or the ledger's error code with lo->err filled. */
static int ledger_opening_end(struct ledger_opening *lo, struct ledger **out)
{
	if (lo->threaded)
		pthread_join(lo->thread, NULL);
	lo->threaded = false;
	if (lo->rc == 0 && lo->interrupted > 0)
		log_info("%d run(s) left unfinished by the last daemon marked interrupted",
		    lo->interrupted);
	*out = lo->ledger;
	return lo->rc;
}

static int fail_start(int *ready_fd, int code, const char *fmt, ...)
{
	char msg[1024], line[1100];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("%s", msg);
	if (*ready_fd >= 0) {
		snprintf(line, sizeof(line), "error %d %s\n", code, msg);
		ready(ready_fd, line);
	} else
		fprintf(stderr, "watchd: %s\n", msg);
	return code;
}

/* Is pid gone or on its way out? A killed daemon's main thread turns
 * zombie while its other threads may still be exiting and holding its
 * files, the lock among them. */
static bool pid_exiting(int pid)
{
	char path[64], stat[512], *paren;
	ssize_t n;
	int fd;

	if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH))
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT;
	n = read(fd, stat, sizeof(stat) - 1);
	close(fd);
	if (n <= 0)
		return false;
	stat[n] = '\0';
	paren = strrchr(stat, ')');
	return paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

#define LOCK_WAIT_MS	2000	/* for a dead holder's last threads to exit */

/* One daemon per tree: an flock on ROOT/.watchd/daemon.lock. The lock
 * follows the inode, so a second path to the same tree (a bind mount, a
 * symlinked ROOT) meets the same lock, and removing the runtime directory
 * (a tmp cleaner) frees nothing. The file holds our pid and ROOT for the
 * message a second starter prints, and is never unlinked: a starter may
 * hold it open, and a new file would be a second lock. Returns the fd, -1
 * when another daemon holds the lock, -2 (errno set) when it cannot be
 * opened. A lock whose holder is exiting (a start right after a crash or kill
 * -9) is waited for, up to LOCK_WAIT_MS. */
static int take_lock(const char *lock_path, const char *root, int *other_pid,
    char *other_root, size_t other_len)
{
	int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	char buf[4200];

	*other_pid = 0;
	if (fd < 0)
		return -2;
	for (int waited = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; waited += 10) {
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

		*other_pid = 0;
		other_root[0] = '\0';
		if (n > 0) {
			char *nl;

			buf[n] = '\0';
			*other_pid = atoi(buf);
			if ((nl = strchr(buf, '\n')) != NULL) {
				nl[1 + strcspn(nl + 1, "\n")] = '\0';
				snprintf(other_root, other_len, "%s", nl + 1);
			}
		}
		if (waited >= LOCK_WAIT_MS || !pid_exiting(*other_pid)) {
			close(fd);
			return -1;
		}
		usleep(10000);
	}
	if (ftruncate(fd, 0) == 0) {
		int n = snprintf(buf, sizeof(buf), "%d\n%s\n", (int)getpid(), root);

		if (n >= (int)sizeof(buf))
			n = (int)sizeof(buf) - 1;
		if (pwrite(fd, buf, (size_t)n, 0) != n)
			log_warn("cannot write %s", lock_path);
	}
	return fd;
}

int daemon_main(struct cli_ctx *ctx, int ready_fd, const char *log_path)
{
	struct daemon d;
	struct ledger_opening lo;
	struct wd_err err = { 0 };
	char *lock_path = NULL, werr[512] = "", other_root[4096] = "";
	int lock_fd = -1, other = 0, rc = WD_EXIT_OK, n;
	const char *gitdir = NULL;

	memset(&d, 0, sizeof(d));
	d.ctx = ctx;
	/* first: no tool, and no environment snapshot taken for tools, may
	 * hold systemd's socket */
	d.notify = sdnotify_init() == 1;
	signal(SIGPIPE, SIG_IGN);
	/* One malloc arena, before any thread starts. With one per thread
	 * (the ledger's opening, the thread pool's hashing) each kept its
	 * own freed memory resident, beside the loop's: 170 kB of RssAnon
	 * when ready on a 10,000-file tree. The threads allocate little
	 * (a read buffer per file hashed), so they seldom wait for its
	 * lock. */
	mallopt(M_ARENA_MAX, 1);
	/* A working directory inside ROOT would pin it: its deletion would
	 * not be reported (IN_DELETE_SELF waits for the last reference) and
	 * status could not say "root removed". Every path here is absolute. */
	if (chdir("/") != 0)
		log_warn("chdir /");
	if ((n = cli_state_dir(ctx)) != 0)
		return fail_start(&ready_fd, WD_EXIT_RUNTIME, "cannot create %s: %s",
		    ctx->state_dir, strerror(-n));
	log_init(log_path, LOG_LVL_INFO);
	if (ipc_paths(ctx->root, &d.sock_path, &err) != 0)
		return fail_start(&ready_fd, WD_EXIT_RUNTIME, "%s", err.msg);
	lock_path = cli_lock_path(ctx);
	lock_fd = take_lock(lock_path, ctx->root, &other, other_root, sizeof(other_root));
	if (lock_fd == -2) {
		rc = fail_start(&ready_fd, WD_EXIT_RUNTIME, "cannot lock %s: %s", lock_path,
		    strerror(errno));
		goto out_paths;
	}
	if (lock_fd < 0) {
		if (other_root[0] && strcmp(other_root, ctx->root) != 0)
			rc = fail_start(&ready_fd, WD_EXIT_RUNTIME, "already running for %s (pid %d, "
			    "watching it as %s)", ctx->root, other, other_root);
		else
			rc = fail_start(&ready_fd, WD_EXIT_RUNTIME, "already running for %s (pid %d)",
			    ctx->root, other);
		goto out_paths;
	}
	/* In a repository libgit2 is needed before the scan (ignore rules,
	 * the git directory): its initialisation overlaps the ledger's
	 * opening. Elsewhere nothing needs it (blob ids come from lib/blobid):
	 * it starts when a repository appears (repo_open), and until then
	 * costs no memory. */
	if (!repo_absent(ctx->root))
		repo_global_init_start();
	ledger_opening_begin(&lo, ctx->ledger_path);
	d.tmp_dir = xasprintf("%s/tmp", ctx->state_dir);
	d.repo = repo_open(ctx->root);
	if (d.repo)
		gitdir = repo_gitdir(d.repo);
	d.ig = ignore_new(&ctx->cfg.ignore, d.repo);
	{
		size_t rl = strlen(ctx->root);

		if (strncmp(ctx->config_path, ctx->root, rl) == 0 && ctx->config_path[rl] == '/')
			d.config_rel = xstrdup(ctx->config_path + rl + 1);
	}
	d.loop = uv_default_loop();
	d.tree = tree_new();
	{
		struct sched_opts so = {
			.loop = d.loop, .root = ctx->root, .cfg = &ctx->cfg,
			.tmp_dir = d.tmp_dir, .trigger = "watch",
			.list_files = path_list_files, .list_arg = &d,
			.run_started = events_run_started, .gate_done = events_gate_done,
			.hook_arg = &d,
		};
		struct settle_opts se = {
			.loop = d.loop, .root = ctx->root, .gitdir = gitdir, .tree = d.tree,
			.debounce_ms = ctx->cfg.debounce_ms, .max_wait_ms = ctx->cfg.max_wait_ms,
			.stability_ms = ctx->cfg.stability_ms,
			.writer_timeout_ms = ctx->cfg.writer_timeout_ms,
			.backlog = path_backlog,
			/* closed files hashed while their batch settles */
			.closed = envlist_has("WATCHD_BENCH_WITHOUT", "ahead") ? NULL :
			    path_on_closed,
		};
		struct watcher_cb wcb = {
			.file = path_on_file, .git = path_on_git, .rules = path_on_rules,
			.cookie_prefix = COOKIE_PREFIX, .cookie = serve_on_cookie,
			.rescanned = serve_on_rescanned, .arg = &d,
		};

		d.settle = settle_new(&se, path_on_batch, &d);
		d.started = uv_now(d.loop);
		/* nothing calls back into the daemon before the loop runs */
		n = watcher_start(d.loop, ctx->root, gitdir, d.ig, d.tree, &wcb, &d.watcher, werr,
		    sizeof(werr));
		/* a ledger that cannot be used is the first thing to report, as
		 * when it opened before the scan */
		if (ledger_opening_end(&lo, &d.ledger) != 0) {
			rc = fail_start(&ready_fd, WD_EXIT_RUNTIME, "%s", lo.err.msg);
			if (n == 0)
				watcher_stop(d.watcher);
			settle_stop(d.settle);
			goto out_loop;
		}
		if (n != 0) {
			rc = fail_start(&ready_fd, WD_EXIT_RUNTIME, "%s", werr);
			settle_stop(d.settle);
			goto out_loop;
		}
		/* checkpoints off the loop: the daemon is the writer under load */
		if (!envlist_has("WATCHD_BENCH_WITHOUT", "checkpoint-thread") &&
		    ledger_checkpoint_thread(d.ledger) != 0)
			log_warnx("ledger: no checkpoint thread; checkpoints run on the loop");
		/* a burst's results written together (ledger_stage) */
		if (!envlist_has("WATCHD_BENCH_WITHOUT", "stage") &&
		    ledger_stage(d.ledger, path_busy, &d, &err) != 0)
			log_warnx("%s: results are written run by run", err.msg);
		mkdir(d.tmp_dir, 0700);
		so.ledger = d.ledger;
		d.sched = sched_new(&so, path_on_run_done, &d);
		remote_begin(&d);
	}
	if (server_start(d.loop, d.sock_path, serve_on_request, &d, &d.server, &err) != 0) {
		rc = fail_start(&ready_fd, WD_EXIT_RUNTIME, "%s", err.msg);
		watcher_stop(d.watcher);
		settle_stop(d.settle);
		goto out_loop;
	}
	uv_signal_init(d.loop, &d.sigterm);
	uv_signal_init(d.loop, &d.sigint);
	d.sigterm.data = d.sigint.data = &d;
	uv_signal_start(&d.sigterm, on_signal, SIGTERM);
	uv_signal_start(&d.sigint, on_signal, SIGINT);
	stall_watch_start(&d);
	uv_timer_init(d.loop, &d.ledger_retry);
	uv_timer_init(d.loop, &d.ledger_gc);
	uv_timer_init(d.loop, &d.ledger_quiet);
	uv_timer_init(d.loop, &d.ledger_stage);
	d.ledger_retry.data = d.ledger_gc.data = d.ledger_quiet.data = d.ledger_stage.data = &d;
	uv_timer_start(&d.ledger_gc, path_on_ledger_gc, LEDGER_GC_MS, LEDGER_GC_MS);
	notify_begin(&d);
	uv_fs_event_init(d.loop, &d.sock_dir_ev);
	uv_fs_event_init(d.loop, &d.sock_parent_ev);
	d.sock_dir_ev.data = d.sock_parent_ev.data = &d;
	sock_watch_arm(&d);
	{
		struct watcher_stats ws;
		char msg[1024];

		watcher_get_stats(d.watcher, &ws);
		log_info("watchd %s watching %s: %d directories, %llu files, socket %s",
		    WATCHD_VERSION, ctx->root, ws.dirs, (unsigned long long)ws.files, d.sock_path);
		/* the starter says it too: a user who never reads the log must
		 * still learn that a limit makes this daemon scan */
		if (ws.degraded && ws.reason)
			snprintf(msg, sizeof(msg), "ok degraded %s\n", ws.reason);
		else
			snprintf(msg, sizeof(msg), "ok\n");
		ready(&ready_fd, msg);
		notify_ready(&d);
	}
	/* Housekeeping that can take a while on a big ledger comes after
	 * "ready": watching is what the starter waits for. */
	if (ledger_quick_check(d.ledger, &err) != 0)
		log_warnx("LEDGER DAMAGED, results may be missing: %s", err.msg);
	path_prune_state(&d);
	path_ledger_prune(&d);
	d.events = events_new(&d, log_path == NULL);
	rejudge_unfinished(&d, &lo.unjudged);
	uv_run(d.loop, UV_RUN_DEFAULT);
out_loop:
	remote_end(&d);
	strvec_clear(&lo.unjudged);
	/* let every closing handle (and killed tool) report */
	uv_run(d.loop, UV_RUN_DEFAULT);
	sched_free(d.sched);
	events_free(d.events);
	tree_free(d.tree);	/* the watcher and settle wrote into it until closed */
	path_free_retired(&d);
	free(d.config_rel);
	free(d.config_error);
	if (uv_loop_close(d.loop) != 0)
		log_warnx("handles left open at exit");
	ignore_free(d.ig);
	repo_close(d.repo);
	free(d.tmp_dir);
	if (d.ledger && ledger_retry(d.ledger, &err) > 0)	/* a last chance for queued writes */
		log_warnx("%s", err.msg);
	ledger_close(d.ledger);	/* writes out what is staged */
	close(lock_fd);
out_paths:
	/* exit() must not run libraries' destructors under a thread still
	 * initialising libgit2 */
	repo_global_init_wait();
	log_info("exit");
	free(lock_path);
	free(d.sock_path);
	return rc;
}
