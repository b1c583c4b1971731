/* dirread: getdents64 and the readdir path list the same entries (without
 * "." and ".."), with their types, and leave the fd usable for *at(). */
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/dirread.h"
#include "lib/strvec.h"
#include "lib/xmalloc.h"
#include "test.h"

static void list(const char *dir, bool use_readdir, struct strvec *out)
{
	struct dirread r;
	const char *name;
	unsigned char type;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;

	ASSERT(fd >= 0);
	if (use_readdir)
		dirread_open_readdir(&r, fd);
	else
		dirread_open(&r, fd);
	while (dirread_next(&r, &name, &type)) {
		char *e = xasprintf("%s:%c", name, type == DT_DIR ? 'd' : type == DT_REG ? 'f' : '?');

		strvec_push(out, e);
		free(e);
		ASSERT_OK(fstatat(r.fd, name, &st, AT_SYMLINK_NOFOLLOW));
	}
	ASSERT_EQ(r.err, 0);
	dirread_close(&r);
	strvec_sort(out);
}

TEST_IMPL(dirread_both_ways_agree)
{
	char tmpl[] = "/tmp/wd-dirread-XXXXXX";
	char *root = mkdtemp(tmpl), *p;
	struct strvec a = STRVEC_INIT, b = STRVEC_INIT;

	ASSERT_NOT_NULL(root);
	for (int i = 0; i < 600; i++) {	/* more than one getdents64 buffer */
		p = xasprintf("%s/file-with-a-longish-name-%04d.txt", root, i);
		close(open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
		free(p);
	}
	p = xasprintf("%s/sub", root);
	ASSERT_OK(mkdir(p, 0755));
	free(p);
	list(root, false, &a);
	list(root, true, &b);
	ASSERT_EQ(a.n, 601);
	ASSERT_EQ(b.n, a.n);
	for (size_t i = 0; i < a.n; i++)
		ASSERT_STR_EQ(a.v[i], b.v[i]);
	ASSERT(strvec_bsearch(&a, "sub:d") >= 0);
	strvec_clear(&a);
	strvec_clear(&b);
	p = xasprintf("rm -rf %s", root);
	ASSERT_OK(system(p));
	free(p);
	return 0;
}
