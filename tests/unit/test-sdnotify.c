/* sdnotify: the unit-name escaping of paths (as systemd-escape --path),
 * and a real datagram through sdnotify_send to a socket bound here. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/sdnotify.h"
#include "test.h"

static int escaped(const char *path, const char *want)
{
	char *got = sdnotify_escape_path(path);
	int ok = strcmp(got, want) == 0;

	if (!ok)
		fprintf(stderr, "escape(%s) = %s, want %s\n", path, got, want);
	free(got);
	return ok;
}

TEST_IMPL(sdnotify_escape)
{
	ASSERT(escaped("/", "-"));
	ASSERT(escaped("/home/u/src", "home-u-src"));
	ASSERT(escaped("/home/u/a-b", "home-u-a\\x2db"));
	ASSERT(escaped("/a//b/", "a-b"));
	ASSERT(escaped("/.hidden/x", "\\x2ehidden-x"));
	ASSERT(escaped("/a/.b", "a-.b"));
	ASSERT(escaped("/with space", "with\\x20space"));
	ASSERT(escaped("/\xc3\xbc", "\\xc3\\xbc"));
	return 0;
}

TEST_IMPL(sdnotify_send_datagram)
{
	/* /tmp, not $TMPDIR: a socket's path must fit in sun_path's 108 bytes */
	char dir[] = "/tmp/wdsdXXXXXX", path[128], got[256];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;
	ssize_t n;

	ASSERT_NOT_NULL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	ASSERT(fd >= 0);
	strcpy(sa.sun_path, path);
	ASSERT_OK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	unsetenv("NOTIFY_SOCKET");
	ASSERT_EQ(sdnotify_init(), 0);
	ASSERT(sdnotify_send("READY=1") < 0);	/* no socket: nothing sent */
	setenv("NOTIFY_SOCKET", path, 1);
	setenv("WATCHDOG_USEC", "5000000", 1);
	ASSERT_EQ(sdnotify_init(), 1);
	ASSERT_NULL(getenv("NOTIFY_SOCKET"));	/* children never see it */
	ASSERT_NULL(getenv("WATCHDOG_USEC"));
	ASSERT_EQ(sdnotify_watchdog_usec(), 5000000);
	ASSERT_OK(sdnotify_send("READY=1\nSTATUS=ok"));
	n = recv(fd, got, sizeof(got) - 1, 0);
	ASSERT_EQ(n, 17);
	got[n] = '\0';
	ASSERT_STR_EQ(got, "READY=1\nSTATUS=ok");
	close(fd);
	unlink(path);
	rmdir(dir);
	return 0;
}
