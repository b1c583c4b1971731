/* watchd stop: ask the daemon to stop and wait until it has exited (its
 * lock is released), so a following start cannot race it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "daemon/ipc/ipc.h"

#define STOP_WAIT_MS 15000

static int cmd_stop_exec(struct cli_ctx *, const struct args *);

const struct cmd_entry cmd_stop_entry = {
	.name = "stop",
	.usage = "",
	.help = "stop the daemon; returns once it has exited",
	.flags = CMD_ROOT,
	.exec = cmd_stop_exec,
};

static bool lock_free(const char *lock)
{
	int fd = open(lock, O_RDWR | O_CLOEXEC);
	bool free_ = true;

	if (fd < 0)
		return true;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		free_ = false;
	close(fd);
	return free_;
}

static int cmd_stop_exec(struct cli_ctx *ctx, const struct args *args)
{
	struct wd_err err = { 0 };
	char *sock = NULL, *lock = NULL;
	cJSON *req = NULL, *resp = NULL;
	int rc, waited = 0;

	(void)args;
	lock = cli_lock_path(ctx);
	if (ipc_paths(ctx->root, &sock, &err) != 0) {
		cli_error("%s", err.msg);
		rc = WD_EXIT_RUNTIME;
		goto out;
	}
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "cmd", "stop");
	rc = ipc_request(sock, req, 5000, &resp, &err);
	if (rc == WD_ENOTRUNNING) {
		printf("watchd: not running for %s\n", ctx->root);
		rc = WD_EXIT_NOTRUNNING;
		goto out;
	}
	if (rc != 0) {
		cli_error("%s", err.msg);
		rc = WD_EXIT_RUNTIME;
		goto out;
	}
	while (!lock_free(lock) && waited < STOP_WAIT_MS) {
		poll(NULL, 0, 20);
		waited += 20;
	}
	if (waited >= STOP_WAIT_MS) {
		cli_error("the daemon did not exit within %d s", STOP_WAIT_MS / 1000);
		rc = WD_EXIT_RUNTIME;
		goto out;
	}
	printf("watchd: stopped\n");
	rc = WD_EXIT_OK;
out:
	cJSON_Delete(resp);
	cJSON_Delete(req);
	free(lock);
	free(sock);
	return rc;
}
