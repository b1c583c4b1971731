/* A directory held open by its path (see dirhold.h). */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dirhold.h"
#include "xmalloc.h"

void dirhold_init(struct dirhold *h, const char *path)
{
	h->path = xstrdup(path);
	h->fd = -1;
	h->dev = 0;
	h->ino = 0;
}

static void drop(struct dirhold *h)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
}

int dirhold_fd(struct dirhold *h)
{
	struct stat st, got;
	int fd;

	if (stat(h->path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		drop(h);
		return -1;
	}
	if (h->fd >= 0 && st.st_dev == h->dev && st.st_ino == h->ino)
		return h->fd;
	drop(h);
	fd = open(h->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &got) < 0 || got.st_dev != st.st_dev || got.st_ino != st.st_ino) {
		/* swapped between the stat and the open: none this time */
		close(fd);
		return -1;
	}
	h->fd = fd;
	h->dev = st.st_dev;
	h->ino = st.st_ino;
	return fd;
}

void dirhold_release(struct dirhold *h)
{
	drop(h);
	free(h->path);
	h->path = NULL;
}
