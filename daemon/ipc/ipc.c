/* Socket location and the blocking client used by the CLI. The CLI never
 * needs an event loop: connect, write one line, poll for one line. */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/version.h"
#include "ipc.h"
#include "lib/buf.h"
#include "lib/xmalloc.h"

char *ipc_runtime_path(void)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (xdg && *xdg == '/')
		return xasprintf("%s/watchd", xdg);
	return xasprintf("/tmp/watchd-%u", (unsigned)getuid());
}

int ipc_runtime_dir(char **dir, struct wd_err *err)
{
	char *d = ipc_runtime_path();
	struct stat st;
	int rc = 0;

	if (mkdir(d, 0700) < 0 && errno != EEXIST) {
		rc = -errno;
		wd_err_set(err, rc, "cannot create %s: %s", d, strerror(-rc));
		goto out;
	}
	/* Another user could have made the shared /tmp path first: only a
	 * real directory of ours with mode 0700 will do. */
	if (lstat(d, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
	    (st.st_mode & 077) != 0) {
		rc = wd_err_set(err, -EPERM, "%s must be a directory owned by uid %u with mode 0700",
		    d, (unsigned)getuid());
		goto out;
	}
	*dir = d;	/* the caller's now */
	d = NULL;
out:
	free(d);
	return rc;
}

/* 64-bit FNV-1a of ROOT names its socket: every CLI command computes it,
 * and a SHA-1 from libgit2 would first cost libgit2's 7 ms start. */
static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static char *path_in(const char *dir, const char *root, const char *ext)
{
	return xasprintf("%s/%016" PRIx64 ".%s", dir, fnv1a(root), ext);
}

int ipc_paths(const char *root, char **sock, struct wd_err *err)
{
	char *dir;
	int rc = ipc_runtime_dir(&dir, err);

	if (rc)
		return rc;
	if (sock)
		*sock = path_in(dir, root, "sock");
	free(dir);
	return 0;
}

char *ipc_socket_path(const char *root)
{
	char *dir = ipc_runtime_path(), *sock = path_in(dir, root, "sock");

	free(dir);
	return sock;
}

int ipc_connect(const char *path)
{
	struct sockaddr_un sa;
	char alt[64], *dir = NULL;
	int fd = -1, dfd = -1, rc;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		rc = -errno;
		goto out;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		/* too long for sun_path: reach it through its directory's fd,
		 * held open until connect() has resolved the name */
		dir = xstrdup(path);
		*strrchr(dir, '/') = '\0';
		if ((dfd = open(dir, O_PATH | O_CLOEXEC)) < 0) {
			rc = -errno;
			goto out;
		}
		snprintf(alt, sizeof(alt), "/proc/self/fd/%d/%s", dfd, strrchr(path, '/') + 1);
		path = alt;
	}
	memcpy(sa.sun_path, path, strlen(path));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		goto out;
	}
	rc = fd;	/* the caller's now */
	fd = -1;
out:
	if (dfd >= 0)
		close(dfd);
	if (fd >= 0)
		close(fd);
	free(dir);
	return rc;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ipc_request(const char *sock, const cJSON *req, int timeout_ms, cJSON **resp,
    struct wd_err *err)
{
	struct buf in = BUF_INIT;
	int fd = -1, rc = 0;
	int64_t deadline = mono_ms() + timeout_ms;

	*resp = NULL;
	if ((rc = ipc_send(sock, req, &fd, err)) != 0)
		goto out;
	for (;;) {
		char chunk[4096];
		struct pollfd pfd = { fd, POLLIN, 0 };
		int64_t left = deadline - mono_ms();
		ssize_t n;
		char *nl;

		if (left <= 0) {
			rc = wd_err_set(err, WD_ETIMEOUT, "no answer from the daemon within %d ms",
			    timeout_ms);
			goto out;
		}
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR) {
			rc = wd_err_set(err, -errno, "poll: %s", strerror(errno));
			goto out;
		}
		if (!(pfd.revents & (POLLIN | POLLHUP)))
			continue;
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = wd_err_set(err, WD_EPROTO, "the daemon closed the connection");
			goto out;
		}
		buf_add(&in, chunk, (size_t)n);
		if ((nl = memchr(in.buf, '\n', in.len)) != NULL) {
			*resp = cJSON_ParseWithLength(in.buf, (size_t)(nl - in.buf));
			if (*resp == NULL)
				rc = wd_err_set(err, WD_EPROTO, "unreadable answer from the daemon");
			goto out;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	buf_release(&in);
	return rc;
}

int ipc_send(const char *sock, const cJSON *req, int *out, struct wd_err *err)
{
	cJSON *r;
	char *s, *line;
	size_t off = 0, len;
	int fd, rc = 0;

	*out = -1;
	if ((fd = ipc_connect(sock)) < 0) {
		if (fd == -ENOENT || fd == -ECONNREFUSED)
			return wd_err_set(err, WD_ENOTRUNNING, "not running");
		return wd_err_set(err, fd, "cannot connect to %s: %s", sock, strerror(-fd));
	}
	r = cJSON_Duplicate(req, 1);
	cJSON_AddNumberToObject(r, "v", WATCHD_PROTO);
	s = cJSON_PrintUnformatted(r);
	cJSON_Delete(r);
	line = xasprintf("%s\n", s);
	cJSON_free(s);
	len = strlen(line);
	while (off < len) {
		ssize_t n = write(fd, line + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = wd_err_set(err, WD_ENOTRUNNING, "not running (%s)", strerror(errno));
			close(fd);
			fd = -1;
			break;
		}
		off += (size_t)n;
	}
	free(line);
	*out = fd;
	return rc;
}
