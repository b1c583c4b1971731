/* A directory held open by its path, on real directories: the descriptor
 * follows the path when the directory is made again, and none is given
 * while the path names no directory (moved away, deleted). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/blobid.h"
#include "lib/dirhold.h"
#include "lib/xmalloc.h"
#include "test.h"

TEST_IMPL(dirhold_follows_the_path)
{
	char *tmpl = test_tmpl("wd-dirhold");
	char *dir, *away, *cmd;
	struct dirhold h;
	struct stat st;
	char oid[BLOBID_HEX + 1];
	int fd;

	ASSERT_NOT_NULL(mkdtemp(tmpl));
	dir = xasprintf("%s/root", tmpl);
	away = xasprintf("%s/away", tmpl);
	ASSERT_OK(mkdir(dir, 0755));
	test_put(dir, "a.txt", "one\n");
	dirhold_init(&h, dir);
	fd = dirhold_fd(&h);
	ASSERT(fd >= 0);
	ASSERT_EQ(dirhold_fd(&h), fd);			/* the same one while it stands */
	ASSERT_OK(fstatat(fd, "a.txt", &st, AT_SYMLINK_NOFOLLOW));
	ASSERT_OK(blobid_fileat(fd, "a.txt", 0, NULL, oid));
	ASSERT_STR_EQ(oid, "5626abf0f72e58d7a153368ba57db4c673c0e171");	/* git hash-object */
	/* moved away: the old one is never looked into */
	ASSERT_OK(rename(dir, away));
	ASSERT_EQ(dirhold_fd(&h), -1);
	/* made again at the path: the new one */
	ASSERT_OK(mkdir(dir, 0755));
	test_put(dir, "b.txt", "two\n");
	fd = dirhold_fd(&h);
	ASSERT(fd >= 0);
	ASSERT_OK(fstatat(fd, "b.txt", &st, AT_SYMLINK_NOFOLLOW));
	ASSERT(fstatat(fd, "a.txt", &st, AT_SYMLINK_NOFOLLOW) < 0);
	/* a file at the path is no directory */
	cmd = xasprintf("rm -rf '%s' && touch '%s'", dir, dir);
	ASSERT_OK(system(cmd));
	free(cmd);
	ASSERT_EQ(dirhold_fd(&h), -1);
	dirhold_release(&h);
	cmd = xasprintf("rm -rf '%s'", tmpl);
	ASSERT_OK(system(cmd));
	free(cmd);
	free(dir);
	free(away);
	free(tmpl);
	return 0;
}
