/* Recursive directory listing with ignore pruning, using d_type where the
 * filesystem gives it so that a large tree costs no stat per file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ignore.h"
#include "lib/buf.h"
#include "lib/dirread.h"
#include "lib/xmalloc.h"
#include "walk.h"

/* What one walk collects: the files (out, or NULL) and how many
 * directories it entered, the first included. */
struct walk {
	struct ignore	*ig;
	struct strvec	*out;
	size_t		 ndirs;
};

static int walk_dir(int dfd, struct buf *rel, struct walk *w, int depth)
{
	struct dirread d;
	const char *name;
	unsigned char type;
	size_t base = rel->len;

	w->ndirs++;
	dirread_open(&d, dfd);
	while (dirread_next(&d, &name, &type)) {
		buf_setlen(rel, base);
		if (base)
			buf_addch(rel, '/');
		buf_addstr(rel, name);
		if (type == DT_UNKNOWN) {
			struct stat st;

			if (fstatat(d.fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG :
			    S_ISLNK(st.st_mode) ? DT_LNK : DT_UNKNOWN;
		}
		if (type == DT_DIR) {
			int sub;

			if (depth > 200 || ignore_path(w->ig, rel->buf, true))
				continue;
			sub = openat(d.fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				walk_dir(sub, rel, w, depth + 1);
		} else if (w->out && (type == DT_REG || type == DT_LNK) &&
		    !ignore_path(w->ig, rel->buf, false)) {
			if (type == DT_LNK && walk_link_unfit(d.fd, name))
				continue;
			strvec_push(w->out, rel->buf);
		}
	}
	buf_setlen(rel, base);
	dirread_close(&d);
	return 0;
}

bool walk_link_unfit(int dirfd, const char *name)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, 0) < 0)
		return errno == ELOOP;
	return !S_ISREG(st.st_mode);
}

static int walk(const char *root, const char *rel, struct walk *w)
{
	struct buf r = BUF_INIT;
	char *abs = *rel ? xasprintf("%s/%s", root, rel) : xstrdup(root);
	int fd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	free(abs);
	if (fd < 0)
		return -errno;
	buf_addstr(&r, rel);
	rc = walk_dir(fd, &r, w, 0);
	buf_release(&r);
	return rc;
}

int walk_files(const char *root, const char *rel, struct ignore *ig, struct strvec *out)
{
	struct walk w = { ig, out, 0 };

	return walk(root, rel, &w);
}

int walk_count_dirs(const char *root, struct ignore *ig, size_t *ndirs)
{
	struct walk w = { ig, NULL, 0 };
	int rc = walk(root, "", &w);

	*ndirs = w.ndirs;
	return rc;
}
