/* Blob ids without libgit2: the same ids as the git CLI, in
 * pieces, capped, cancellable. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/git/repo.h"
#include "lib/blobid.h"
#include "lib/fstamp.h"
#include "lib/sha1.h"
#include "test.h"

TEST_IMPL(sha1_vectors)
{
	struct sha1 c;
	unsigned char md[20];
	char hex[41];
	static const char *const abc = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

	sha1_init(&c);
	sha1_update(&c, "abc", 3);
	sha1_final(&c, md);
	sha1_hex(md, hex);
	ASSERT_STR_EQ(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
	sha1_init(&c);
	for (const char *p = abc; *p; p++)	/* byte by byte across blocks */
		sha1_update(&c, p, 1);
	sha1_final(&c, md);
	sha1_hex(md, hex);
	ASSERT_STR_EQ(hex, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	blobid_buf("", 0, hex);
	ASSERT_STR_EQ(hex, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");	/* git's empty blob */
	blobid_buf("hello\n", 6, hex);
	ASSERT_STR_EQ(hex, "ce013625030ba8dba906f756967f9e9ca394464a");
	return 0;
}

static char *temp_file(size_t size)
{
	char *path = test_tmpl("wd-blobid");
	int fd = mkstemp(path);
	char *data = malloc(size ? size : 1);

	ASSERT(fd >= 0);
	for (size_t i = 0; i < size; i++)
		data[i] = (char)(i * 7 + i / 251);
	ASSERT_EQ(write(fd, data, size), (int64_t)size);
	close(fd);
	free(data);
	return path;
}

/* git's own answer: `git hash-object --no-filters` (the real git CLI) */
static void git_hash_object(const char *path, char out[41])
{
	char *cmd = NULL;
	FILE *f;

	ASSERT(asprintf(&cmd, "git hash-object --no-filters '%s'", path) > 0);
	ASSERT_NOT_NULL(f = popen(cmd, "r"));
	ASSERT(fgets(out, 41, f) != NULL);
	ASSERT_EQ(pclose(f), 0);
	free(cmd);
}

TEST_IMPL(blobid_file_agrees_with_git)
{
	static const size_t sizes[] = { 0, 1, 55, 56, 64, 1000, (1 << 20) - 1, (1 << 20) + 3,
		(3 << 20) + 17 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *p = temp_file(sizes[i]);
		char a[41], b[41], c[41];

		git_hash_object(p, a);
		ASSERT_OK(blobid_file(p, 0, NULL, b));
		ASSERT_STR_EQ(a, b);
		ASSERT_OK(repo_hash_file(p, c));
		ASSERT_STR_EQ(a, c);
		unlink(p);
		free(p);
	}
	return 0;
}

/* Over the cap a file is keyed by its stamp: not read, yet any change to
 * it (size, mtime) changes the id. Cancelled: -ECANCELED. */
TEST_IMPL(blobid_file_cap_and_cancel)
{
	char *p = temp_file(4096);
	char full[41], capped[41], again[41];
	atomic_int stop = 1;
	struct timespec ts[2] = { { 1000, 0 }, { 1000, 0 } };

	ASSERT_OK(blobid_file(p, 0, NULL, full));
	ASSERT_OK(blobid_file(p, 4096, NULL, again));
	ASSERT_STR_EQ(full, again);				/* at the cap: read */
	ASSERT_OK(blobid_file(p, 100, NULL, capped));
	ASSERT(strcmp(full, capped) != 0);
	ASSERT_OK(blobid_file(p, 100, NULL, again));
	ASSERT_STR_EQ(capped, again);
	ASSERT_OK(utimensat(AT_FDCWD, p, ts, 0));
	ASSERT_OK(blobid_file(p, 100, NULL, again));
	ASSERT(strcmp(capped, again) != 0);
	ASSERT_EQ(blobid_file(p, 0, &stop, again), -ECANCELED);
	ASSERT_EQ(blobid_file("/nonexistent/x", 0, NULL, again), -ENOENT);
	unlink(p);
	free(p);
	return 0;
}

/* Links as git stores them: a link to a file is the file's content here
 * (what a tool reads), a link to anything else is its target text; a fifo
 * is refused at once, never waited on. */
TEST_IMPL(blobid_file_links_and_fifos)
{
	char *p = temp_file(100), *dir = test_tmpl("wd-blobid-dir");
	char *lf = NULL, *ld = NULL, *fifo = NULL;
	char a[41], b[41];

	ASSERT_NOT_NULL(mkdtemp(dir));
	ASSERT(asprintf(&lf, "%s/to-file", dir) > 0);
	ASSERT(asprintf(&ld, "%s/to-dir", dir) > 0);
	ASSERT(asprintf(&fifo, "%s/fifo", dir) > 0);
	ASSERT_OK(symlink(p, lf));
	ASSERT_OK(symlink(dir, ld));
	ASSERT_OK(mkfifo(fifo, 0600));
	ASSERT_OK(blobid_file(p, 0, NULL, a));
	ASSERT_OK(blobid_file(lf, 0, NULL, b));
	ASSERT_STR_EQ(a, b);
	ASSERT_OK(blobid_file(ld, 0, NULL, b));
	blobid_buf(dir, strlen(dir), a);
	ASSERT_STR_EQ(a, b);
	ASSERT_EQ(blobid_file(fifo, 0, NULL, b), -EINVAL);
	unlink(lf);
	unlink(ld);
	unlink(fifo);
	rmdir(dir);
	unlink(p);
	free(lf);
	free(ld);
	free(fifo);
	free(dir);
	free(p);
	return 0;
}

/* Hashing leaves a file's access time alone: a file just written has an
 * atime older than its mtime, which relatime would otherwise update on
 * the first read (an inode write per file of a burst). */
TEST_IMPL(blobid_file_keeps_the_access_time)
{
	char *path = temp_file(5000);
	char hex[41], want[41];
	struct timespec ts[2] = { { 1000000000, 0 }, { 0, UTIME_OMIT } };
	struct stat st;

	ASSERT_OK(utimensat(AT_FDCWD, path, ts, 0));
	ASSERT_OK(blobid_file(path, 0, NULL, hex));
	ASSERT_OK(stat(path, &st));
	ASSERT_EQ(st.st_atim.tv_sec, 1000000000);
	git_hash_object(path, want);
	ASSERT_STR_EQ(hex, want);
	unlink(path);
	free(path);
	return 0;
}

/* Taken ahead of a batch: git's id with the stamp of what was read; a
 * link, a fifo or a file over the limit is left to the batch's own
 * hashing. */
TEST_IMPL(blobid_stamped_ids_and_refusals)
{
	char *p = temp_file(5000), *dir = test_tmpl("wd-blobid-st");
	char *lf = NULL, *fifo = NULL;
	char a[41], b[41];
	uint64_t stamp = 1;
	struct stat st;
	int dfd;

	ASSERT_NOT_NULL(mkdtemp(dir));
	ASSERT(asprintf(&lf, "%s/link", dir) > 0);
	ASSERT(asprintf(&fifo, "%s/fifo", dir) > 0);
	ASSERT_OK(symlink(p, lf));
	ASSERT_OK(mkfifo(fifo, 0600));
	git_hash_object(p, a);
	ASSERT_OK(blobid_stamped(AT_FDCWD, p, 5000, NULL, b, &stamp));
	ASSERT_STR_EQ(a, b);
	ASSERT_OK(lstat(p, &st));
	ASSERT_EQ(stamp, fstamp(&st));
	ASSERT_EQ(blobid_stamped(AT_FDCWD, p, 4999, NULL, b, &stamp), -EFBIG);
	ASSERT_EQ(stamp, 0);
	ASSERT((dfd = open(dir, O_RDONLY | O_DIRECTORY)) >= 0);
	ASSERT_EQ(blobid_stamped(dfd, "link", 1 << 20, NULL, b, &stamp), -ELOOP);
	ASSERT_EQ(blobid_stamped(dfd, "fifo", 1 << 20, NULL, b, &stamp), -EINVAL);
	ASSERT_EQ(blobid_stamped(dfd, "none", 1 << 20, NULL, b, &stamp), -ENOENT);
	ASSERT_EQ(stamp, 0);
	close(dfd);
	unlink(lf);
	unlink(fifo);
	rmdir(dir);
	unlink(p);
	free(lf);
	free(fifo);
	free(dir);
	free(p);
	return 0;
}
