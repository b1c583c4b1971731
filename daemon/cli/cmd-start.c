/* watchd start [--foreground]: start the daemon for ROOT. Without
 * --foreground the daemon runs detached, and this returns only once it is
 * watching (the child reports through a pipe), or with its start-up error. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "daemon/daemon.h"
#include "daemon/ipc/ipc.h"
#include "lib/xmalloc.h"

static int cmd_start_exec(struct cli_ctx *, const struct args *);

const struct cmd_entry cmd_start_entry = {
	.name = "start",
	.usage = "[--foreground] [--color WHEN]",
	.help = "start the daemon for ROOT; returns once it is watching",
	.flags = CMD_ROOT | CMD_CONFIG,
	.args = {
		.opts = (const struct args_opt[]){
			{ "foreground", ARGS_LETTER('f') },
			{ "color", ARGS_VALUE },
			{ NULL, 0 },
		},
	},
	.exec = cmd_start_exec,
};

static int spawn_detached(struct cli_ctx *ctx)
{
	int pfd[2] = { -1, -1 }, rc = WD_EXIT_RUNTIME;
	char buf[1200];
	size_t got = 0;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		cli_error("pipe: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		cli_error("fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		/* Child: its own session, no terminal, stdio on /dev/null and
		 * the log; then a second fork so the daemon is not our child
		 * and cannot become a zombie of the caller. */
		char *log = xasprintf("%s/watchd.log", ctx->state_dir);
		int nul;

		close(pfd[0]);
		setsid();
		if (fork() != 0)
			_exit(0);
		/* pin no directory: neither the starter's nor ROOT, whose
		 * deletion must reach the watcher at once (daemon_main) */
		if (chdir("/") != 0)
			_exit(WD_EXIT_RUNTIME);
		nul = open("/dev/null", O_RDWR);
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
			dup2(nul, 2);
			if (nul > 2)
				close(nul);
		}
		cli_state_dir(ctx);
		{
			int lfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

			if (lfd >= 0) {
				dup2(lfd, 2);	/* sanitizer reports and stray prints */
				close(lfd);
			}
		}
		_exit(daemon_main(ctx, pfd[1], log));
	}
	close(pfd[1]);
	pfd[1] = -1;
	waitpid(pid, NULL, 0);
	for (;;) {
		ssize_t n = read(pfd[0], buf + got, sizeof(buf) - 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got >= sizeof(buf) - 1)
			break;
	}
	buf[got] = '\0';
	if (strncmp(buf, "ok", 2) == 0) {
		printf("watchd: watching %s\n", ctx->root);
		if (strncmp(buf, "ok degraded ", 12) == 0) {
			buf[12 + strcspn(buf + 12, "\n")] = '\0';
			fprintf(stderr, "watchd: warning: %s\n", buf + 12);
		}
		rc = WD_EXIT_OK;
	} else if (strncmp(buf, "error ", 6) == 0) {
		char *msg;
		int code = (int)strtol(buf + 6, &msg, 10);

		while (*msg == ' ')
			msg++;
		msg[strcspn(msg, "\n")] = '\0';
		cli_error("%s", msg);
		rc = code ? code : WD_EXIT_RUNTIME;
	} else
		cli_error("the daemon exited during start-up; see %s/watchd.log", ctx->state_dir);
out:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	return rc;
}

static int cmd_start_exec(struct cli_ctx *ctx, const struct args *args)
{
	if (args_has(args, "foreground"))
		return daemon_main(ctx, -1, NULL);
	return spawn_detached(ctx);
}
