/* sd_notify without libsystemd: the protocol is one datagram on a Unix
 * socket, small enough that a dependency would cost more than it saves. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/sdnotify.h"
#include "lib/xmalloc.h"

static struct sockaddr_un sd_addr;
static socklen_t sd_addrlen;	/* 0: no socket */
static uint64_t sd_watchdog_usec;

int sdnotify_init(void)
{
	const char *sock = getenv("NOTIFY_SOCKET");
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	size_t n;

	sd_addrlen = 0;
	sd_watchdog_usec = 0;
	if (usec && *usec) {
		char *end;
		unsigned long long v = strtoull(usec, &end, 10);

		/* WATCHDOG_PID names who the interval is for: a child of the
		 * service's main process must not ping for it */
		if (*end == '\0' && (pid == NULL || atol(pid) == (long)getpid()))
			sd_watchdog_usec = v;
	}
	if (sock && (sock[0] == '/' || sock[0] == '@') &&
	    (n = strlen(sock)) < sizeof(sd_addr.sun_path)) {
		memset(&sd_addr, 0, sizeof(sd_addr));
		sd_addr.sun_family = AF_UNIX;
		memcpy(sd_addr.sun_path, sock, n);
		if (sock[0] == '@')
			sd_addr.sun_path[0] = '\0';	/* abstract namespace */
		sd_addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
		    (sock[0] == '/'));
	}
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	return sd_addrlen > 0;
}

int sdnotify_send(const char *msg)
{
	int fd, rc = 0;

	if (sd_addrlen == 0)
		return -ENOTCONN;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sd_addr,
	    sd_addrlen) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

uint64_t sdnotify_watchdog_usec(void)
{
	return sd_addrlen ? sd_watchdog_usec : 0;
}

static bool plain(char c, bool first)
{
	if (first && c == '.')
		return false;
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == ':' || c == '_' || c == '.';
}

char *sdnotify_escape_path(const char *path)
{
	struct buf b = BUF_INIT;
	const char *p = path, *end;

	/* systemd first simplifies the path: duplicate and outer slashes */
	while (*p == '/')
		p++;
	end = p + strlen(p);
	while (end > p && end[-1] == '/')
		end--;
	if (p == end)
		return xstrdup("-");
	for (bool first = true; p < end; p++, first = false) {
		if (*p == '/') {
			if (p[1] == '/')
				continue;
			buf_addch(&b, '-');
		} else if (plain(*p, first)) {
			buf_addch(&b, *p);
		} else {
			buf_addf(&b, "\\x%02x", (unsigned char)*p);
		}
	}
	return buf_detach(&b, NULL);
}
