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

int cmd_stop(struct cli_ctx *ctx, int argc, char **argv)
{
	struct wd_err err = { 0 };
	char *sock = NULL, *lock = NULL;
	cJSON *req, *resp = NULL;
	int rc, waited = 0;

	(void)argv;
	if (argc != 1)
		return cli_usage("stop");
	if (ipc_paths(ctx->root, &sock, &lock, &err) != 0) {
		cli_error("%s", err.msg);
		return WD_EXIT_RUNTIME;
	}
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "cmd", "stop");
	rc = ipc_request(sock, req, 5000, &resp, &err);
	cJSON_Delete(req);
	cJSON_Delete(resp);
	if (rc == WD_ENOTRUNNING) {
		printf("watchd: not running for %s\n", ctx->root);
		free(sock);
		free(lock);
		return WD_EXIT_NOTRUNNING;
	}
	if (rc != 0) {
		cli_error("%s", err.msg);
		free(sock);
		free(lock);
		return WD_EXIT_RUNTIME;
	}
	while (!lock_free(lock) && waited < STOP_WAIT_MS) {
		poll(NULL, 0, 20);
		waited += 20;
	}
	free(sock);
	free(lock);
	if (waited >= STOP_WAIT_MS) {
		cli_error("the daemon did not exit within %d s", STOP_WAIT_MS / 1000);
		return WD_EXIT_RUNTIME;
	}
	printf("watchd: stopped\n");
	return WD_EXIT_OK;
}
