/* buf: never NULL, always NUL-terminated; appends and formatted appends
 * that grow it, truncation, detach, and reading a file with a limit. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/xmalloc.h"
#include "test.h"

TEST_IMPL(buf_init_add_setlen)
{
	struct buf b = BUF_INIT;

	ASSERT_NOT_NULL(b.buf);
	ASSERT_STR_EQ(b.buf, "");
	ASSERT_EQ(b.len, 0);
	buf_setlen(&b, 0);			/* harmless before the first append */
	buf_reset(&b);
	ASSERT_STR_EQ(b.buf, "");
	buf_release(&b);			/* and so is a release */
	ASSERT_STR_EQ(b.buf, "");

	buf_addstr(&b, "abc");
	buf_addch(&b, '-');
	buf_add(&b, "xyz", 2);
	buf_add(&b, "", 0);
	ASSERT_STR_EQ(b.buf, "abc-xy");
	ASSERT_EQ(b.len, 6);
	ASSERT(b.alloc > b.len);		/* room for the NUL */
	buf_add(&b, "\0z", 2);			/* bytes, NUL included */
	ASSERT_EQ(b.len, 8);
	ASSERT_EQ(b.buf[6], '\0');
	ASSERT_EQ(b.buf[7], 'z');
	ASSERT_EQ(b.buf[8], '\0');
	buf_setlen(&b, 3);
	ASSERT_STR_EQ(b.buf, "abc");
	ASSERT_EQ(b.len, 3);
	buf_reset(&b);
	ASSERT_STR_EQ(b.buf, "");
	ASSERT_EQ(b.len, 0);
	buf_release(&b);
	ASSERT_EQ(b.alloc, 0);
	ASSERT_STR_EQ(b.buf, "");
	return 0;
}

/* buf_grow reserves room without changing the contents. */
TEST_IMPL(buf_grow_keeps_contents)
{
	struct buf b = BUF_INIT;

	buf_grow(&b, 0);
	ASSERT_STR_EQ(b.buf, "");
	ASSERT(b.alloc >= 1);
	buf_addstr(&b, "keep");
	buf_grow(&b, 10000);
	ASSERT(b.alloc >= b.len + 10000 + 1);
	ASSERT_STR_EQ(b.buf, "keep");
	ASSERT_EQ(b.len, 4);
	buf_release(&b);
	return 0;
}

/* Formatted appends grow the buffer as far as the output needs, through
 * many reallocations and in one large step. */
TEST_IMPL(buf_addf_growth)
{
	struct buf b = BUF_INIT;
	char *big = xmalloc(100001), want[32];
	size_t off = 0;

	for (int i = 0; i < 5000; i++)
		buf_addf(&b, "%d,", i);
	for (int i = 0; i < 5000; i++) {
		int n = snprintf(want, sizeof(want), "%d,", i);

		ASSERT(memcmp(b.buf + off, want, (size_t)n) == 0);
		off += (size_t)n;
	}
	ASSERT_EQ(b.len, off);
	ASSERT_EQ(strlen(b.buf), b.len);
	buf_reset(&b);
	memset(big, 'q', 100000);
	big[100000] = '\0';
	buf_addf(&b, "<%s>%c%5.2f", big, '!', 2.5);
	ASSERT_EQ(b.len, 100000 + 2 + 1 + 5);
	ASSERT_EQ(b.buf[0], '<');
	ASSERT_EQ(b.buf[100000], 'q');
	ASSERT_STR_EQ(b.buf + 100001, ">! 2.50");
	buf_addf(&b, "%s", "");			/* an empty append changes nothing */
	ASSERT_EQ(b.len, 100008);
	free(big);
	buf_release(&b);
	return 0;
}

/* buf_detach hands over a malloc'ed string, never NULL (also for an empty
 * buffer), and leaves the buffer empty and usable. */
TEST_IMPL(buf_detach_hands_over)
{
	struct buf b = BUF_INIT;
	size_t len = 99;
	char *s;

	s = buf_detach(&b, &len);
	ASSERT_NOT_NULL(s);
	ASSERT_STR_EQ(s, "");
	ASSERT_EQ(len, 0);
	free(s);				/* malloc'ed even when empty */
	buf_addf(&b, "run %d", 7);
	s = buf_detach(&b, &len);
	ASSERT_STR_EQ(s, "run 7");
	ASSERT_EQ(len, 5);
	ASSERT_EQ(b.len, 0);
	ASSERT_EQ(b.alloc, 0);
	ASSERT_STR_EQ(b.buf, "");
	buf_addstr(&b, "again");		/* the buffer is independent of s */
	ASSERT_STR_EQ(s, "run 7");
	free(s);
	s = buf_detach(&b, NULL);
	ASSERT_STR_EQ(s, "again");
	free(s);
	return 0;
}

static char *write_tmp(const char *name, const char *data, size_t len)
{
	char tmpl[] = "/tmp/wd-buf-XXXXXX";
	char *path;
	int fd;

	ASSERT_NOT_NULL(mkdtemp(tmpl));
	path = xasprintf("%s/%s", tmpl, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ASSERT(fd >= 0);
	ASSERT_EQ(write(fd, data, len), (long)len);
	close(fd);
	return path;
}

static void remove_tmp(char *path)
{
	char *dir = xstrdup(path);

	*strrchr(dir, '/') = '\0';
	ASSERT_OK(unlink(path));
	ASSERT_OK(rmdir(dir));
	free(dir);
	free(path);
}

/* buf_read_file: the whole file (several reads' worth, NUL bytes kept),
 * or at most `max` bytes of it; -errno when it cannot be read. */
TEST_IMPL(buf_read_file_limit)
{
	const size_t size = 200000;
	char *data = xmalloc(size), *path, *empty;
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < size; i++)
		data[i] = (char)(i * 7 % 251);	/* NUL bytes included */
	path = write_tmp("data", data, size);

	ASSERT_OK(buf_read_file(&b, path, 0));
	ASSERT_EQ(b.len, size);
	ASSERT(memcmp(b.buf, data, size) == 0);
	ASSERT_EQ(b.buf[size], '\0');
	buf_release(&b);

	ASSERT_OK(buf_read_file(&b, path, 100000));
	ASSERT_EQ(b.len, 100000);
	ASSERT(memcmp(b.buf, data, 100000) == 0);
	buf_release(&b);

	ASSERT_OK(buf_read_file(&b, path, size));	/* exactly the size */
	ASSERT_EQ(b.len, size);
	buf_release(&b);

	ASSERT_OK(buf_read_file(&b, path, size + 1));	/* the caller's "too big?" probe */
	ASSERT_EQ(b.len, size);
	buf_release(&b);

	ASSERT_OK(buf_read_file(&b, path, 1));
	ASSERT_EQ(b.len, 1);
	ASSERT_EQ(b.buf[0], data[0]);
	buf_release(&b);

	/* max caps the whole buffer: one already past it reads nothing, and
	 * the read never runs past the stack buffer (max - len must not wrap) */
	buf_addstr(&b, "0123456789");
	ASSERT_OK(buf_read_file(&b, path, 4));
	ASSERT_EQ(b.len, 10);
	ASSERT_OK(buf_read_file(&b, path, 12));
	ASSERT_EQ(b.len, 12);
	ASSERT(memcmp(b.buf + 10, data, 2) == 0);
	buf_release(&b);

	empty = write_tmp("empty", "", 0);
	ASSERT_OK(buf_read_file(&b, empty, 0));
	ASSERT_EQ(b.len, 0);
	ASSERT_STR_EQ(b.buf, "");
	buf_release(&b);

	ASSERT_EQ(buf_read_file(&b, "/nonexistent/watchd-test", 0), -ENOENT);
	ASSERT_EQ(b.len, 0);
	ASSERT_EQ(buf_read_file(&b, "/tmp", 0), -EISDIR);
	ASSERT_EQ(b.len, 0);
	buf_release(&b);

	remove_tmp(empty);
	remove_tmp(path);
	free(data);
	return 0;
}
