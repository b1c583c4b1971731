/* The spawner on a real loop with real processes: exit codes and signals,
 * a program that cannot start, what the child is given (stdin, pipes, its
 * own session, default signals, cwd, env), many children exiting at once
 * (their SIGCHLDs coalesce), a timeout that kills the whole group, and a
 * script with no #! line. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "daemon/run/spawn.h"
#include "lib/xmalloc.h"
#include "test.h"

struct done {
	int		 calls;
	int		 spawn_error, exit_code, term_signal;
	bool		 timed_out;
	char		*out, *err;
	uint64_t	 ms;		/* from the start to the report */
	uint64_t	 started;
	uv_loop_t	*loop;
};

static void on_done(struct spawn_result *res, void *arg)
{
	struct done *d = arg;

	d->calls++;
	d->spawn_error = res->spawn_error;
	d->exit_code = res->exit_code;
	d->term_signal = res->term_signal;
	d->timed_out = res->timed_out;
	d->out = xstrndup(res->out.buf ? res->out.buf : "", res->out.len);
	d->err = xstrndup(res->err.buf ? res->err.buf : "", res->err.len);
	d->ms = uv_now(d->loop) - d->started;
}

/* Runs argv to completion on a fresh loop; the loop ends when every
 * handle of the spawn is closed. */
static void run(char *const *argv, const char *cwd, char *const *env, int timeout_s,
    struct done *d)
{
	uv_loop_t loop;
	struct spawn_opts o = { .cwd = cwd, .argv = argv, .env = env, .timeout_s = timeout_s };

	memset(d, 0, sizeof(*d));
	ASSERT_OK(uv_loop_init(&loop));
	d->loop = &loop;
	d->started = uv_now(&loop);
	spawn_start(&loop, &o, on_done, d, NULL);
	ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
	ASSERT_OK(uv_loop_close(&loop));
	ASSERT_EQ(d->calls, 1);
}

static void done_clear(struct done *d)
{
	free(d->out);
	free(d->err);
}

TEST_IMPL(spawn_exit_code_and_output)
{
	char *argv[] = { "/bin/sh", "-c", "echo out; echo err >&2; exit 3", NULL };
	struct done d;

	run(argv, NULL, NULL, 0, &d);
	ASSERT_EQ(d.spawn_error, 0);
	ASSERT_EQ(d.exit_code, 3);
	ASSERT_EQ(d.term_signal, 0);
	ASSERT_STR_EQ(d.out, "out\n");
	ASSERT_STR_EQ(d.err, "err\n");
	done_clear(&d);
	return 0;
}

TEST_IMPL(spawn_killed_by_signal)
{
	char *argv[] = { "/bin/sh", "-c", "kill -KILL $$", NULL };
	struct done d;

	run(argv, NULL, NULL, 0, &d);
	ASSERT_EQ(d.spawn_error, 0);
	ASSERT_EQ(d.term_signal, SIGKILL);
	ASSERT_EQ(d.exit_code, 0);
	done_clear(&d);
	return 0;
}

TEST_IMPL(spawn_missing_program)
{
	char *argv[] = { "/nonexistent/watchd-no-such-tool", NULL };
	char *bare[] = { "watchd-no-such-tool", NULL };
	struct done d;

	run(argv, NULL, NULL, 0, &d);
	ASSERT_EQ(d.spawn_error, UV_ENOENT);
	done_clear(&d);
	run(bare, NULL, NULL, 0, &d);
	ASSERT_EQ(d.spawn_error, UV_ENOENT);
	done_clear(&d);
	return 0;
}

/* stdin is /dev/null (cat ends at once), stdout and stderr are pipes (a
 * tool may reopen /dev/stdout, which a socket would not allow), and the
 * child leads its own session and process group. */
TEST_IMPL(spawn_child_environment)
{
	char *argv[] = { "/bin/sh", "-c",
		"cat; test -p /dev/stdout && echo pipe; test -p /dev/stderr && echo pipe2;"
		" echo ok > /dev/stdout; exec cat /proc/self/stat", NULL };
	struct done d;
	int pid, pgrp, sid;
	const char *stat;

	run(argv, NULL, NULL, 0, &d);
	ASSERT_EQ(d.exit_code, 0);
	ASSERT_CONTAINS(d.out, "pipe\npipe2\nok\n");
	stat = strrchr(d.out, ')');
	ASSERT_NOT_NULL(stat);
	ASSERT_EQ(sscanf(strstr(d.out, "ok\n") + 3, "%d", &pid), 1);
	ASSERT_EQ(sscanf(stat + 2, "%*c %*d %d %d", &pgrp, &sid), 2);
	ASSERT_EQ(pgrp, pid);
	ASSERT_EQ(sid, pid);
	done_clear(&d);
	return 0;
}

static void on_usr1(int sig)
{
	(void)sig;
}

/* The daemon ignores SIGPIPE and handles others; a tool starts with every
 * signal at its default and none blocked. glibc's posix_spawn leaves its
 * two internal signals (32 and 33, below SIGRTMIN) ignored, which a
 * program's own libc takes over when it needs them; the others must be
 * at their default. */
TEST_IMPL(spawn_signals_reset)
{
	char *argv[] = { "/bin/sh", "-c", "grep -E '^Sig(Ign|Blk)' /proc/self/status", NULL };
	struct sigaction sa;
	sigset_t block;
	struct done d;
	const char *ign;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, NULL);
	run(argv, NULL, NULL, 0, &d);
	ASSERT_EQ(d.exit_code, 0);
	ASSERT_CONTAINS(d.out, "SigBlk:\t0000000000000000\n");
	ign = strstr(d.out, "SigIgn:\t");
	ASSERT_NOT_NULL(ign);
	ASSERT_EQ(strtoull(ign + 8, NULL, 16) & ~0x180000000ULL, 0);
	done_clear(&d);
	return 0;
}

TEST_IMPL(spawn_cwd_and_env)
{
	char *argv[] = { "/bin/sh", "-c", "pwd; echo \"$WD_SPAWN_TEST\"", NULL };
	char *env[] = { "WD_SPAWN_TEST=given", "PATH=/usr/bin:/bin", NULL };
	char tmpl[] = "/tmp/wd-spawn-XXXXXX", real[4096], *want;
	struct done d;

	ASSERT_NOT_NULL(mkdtemp(tmpl));
	ASSERT_NOT_NULL(realpath(tmpl, real));
	run(argv, tmpl, env, 0, &d);
	ASSERT_EQ(d.exit_code, 0);
	want = xasprintf("%s\ngiven\n", real);
	ASSERT_STR_EQ(d.out, want);
	free(want);
	done_clear(&d);
	rmdir(tmpl);
	return 0;
}

/* Children that all exit at once send SIGCHLDs that merge into one; each
 * spawn must still learn its own exit. */
TEST_IMPL(spawn_many_exit_together)
{
	enum { N = 12 };
	char *argv[N][4], code[N][32];
	struct done d[N];
	uv_loop_t loop;

	ASSERT_OK(uv_loop_init(&loop));
	for (int i = 0; i < N; i++) {
		struct spawn_opts o = { .argv = argv[i] };

		snprintf(code[i], sizeof(code[i]), "exit %d", i + 1);
		argv[i][0] = "/bin/sh";
		argv[i][1] = "-c";
		argv[i][2] = code[i];
		argv[i][3] = NULL;
		memset(&d[i], 0, sizeof(d[i]));
		d[i].loop = &loop;
		spawn_start(&loop, &o, on_done, &d[i], NULL);
	}
	ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
	ASSERT_OK(uv_loop_close(&loop));
	for (int i = 0; i < N; i++) {
		ASSERT_EQ(d[i].calls, 1);
		ASSERT_EQ(d[i].spawn_error, 0);
		ASSERT_EQ(d[i].exit_code, i + 1);
		done_clear(&d[i]);
	}
	return 0;
}

/* A tool that hangs with a grandchild holding the pipes: the timeout kills
 * the group, and the report comes well before either sleep would end. */
TEST_IMPL(spawn_timeout_kills_group)
{
	char *argv[] = { "/bin/sh", "-c", "sleep 30 & sleep 30", NULL };
	struct done d;

	run(argv, NULL, NULL, 1, &d);
	ASSERT(d.timed_out);
	ASSERT_EQ(d.term_signal, SIGTERM);
	ASSERT(d.ms < 10000);
	done_clear(&d);
	return 0;
}

/* execvp runs a file with no #! line with sh; so does the spawner. */
TEST_IMPL(spawn_script_without_shebang)
{
	char tmpl[] = "/tmp/wd-spawn-XXXXXX", *path;
	char *argv[] = { NULL, "arg one", NULL };
	struct done d;
	int fd;

	ASSERT_NOT_NULL(mkdtemp(tmpl));
	path = xasprintf("%s/tool", tmpl);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	ASSERT(fd >= 0);
	ASSERT_EQ(write(fd, "echo \"no shebang: $1\"\n", 22), 22);
	close(fd);
	argv[0] = path;
	run(argv, NULL, NULL, 0, &d);
	ASSERT_EQ(d.spawn_error, 0);
	ASSERT_EQ(d.exit_code, 0);
	ASSERT_STR_EQ(d.out, "no shebang: arg one\n");
	done_clear(&d);
	unlink(path);
	rmdir(tmpl);
	free(path);
	return 0;
}
