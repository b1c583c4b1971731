/* Directory entries from getdents64 into a heap buffer per open directory
 * (a recursive scan holds one per level). */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "dirread.h"
#include "xmalloc.h"

#define DIRREAD_BUF 16384

/* The kernel's record (linux_dirent64); glibc's struct dirent64 has the
 * same layout but a fixed-size name field that must not be copied. */
struct kdirent {
	uint64_t	ino;
	int64_t		off;
	unsigned short	reclen;
	unsigned char	type;
	char		name[];
};

void dirread_open(struct dirread *r, int fd)
{
	r->fd = fd;
	r->buf = xmalloc(DIRREAD_BUF);
	r->pos = r->len = 0;
	r->err = 0;
	r->dir = NULL;
}

void dirread_open_readdir(struct dirread *r, int fd)
{
	dirread_open(r, fd);
	r->dir = fdopendir(fd);
	if (r->dir == NULL)
		r->err = errno;
}

static int next_readdir(struct dirread *r, const char **name, unsigned char *type)
{
	const struct dirent *e;

	for (;;) {
		errno = 0;
		if (r->dir == NULL || (e = readdir(r->dir)) == NULL) {
			if (r->dir)
				r->err = errno;
			return 0;
		}
		if (e->d_name[0] == '.' && (e->d_name[1] == '\0' ||
		    (e->d_name[1] == '.' && e->d_name[2] == '\0')))
			continue;
		*name = e->d_name;
		*type = e->d_type;
		return 1;
	}
}

int dirread_next(struct dirread *r, const char **name, unsigned char *type)
{
	if (r->dir || r->err)
		return r->dir ? next_readdir(r, name, type) : 0;
	for (;;) {
		const struct kdirent *k;

		if (r->pos >= r->len) {
			ssize_t n;

			do
				n = getdents64(r->fd, r->buf, DIRREAD_BUF);
			while (n < 0 && errno == EINTR);
			if (n <= 0) {
				r->err = n < 0 ? errno : 0;
				return 0;
			}
			r->len = (size_t)n;
			r->pos = 0;
		}
		k = (const struct kdirent *)(const void *)(r->buf + r->pos);
		r->pos += k->reclen;
		if (k->name[0] == '.' && (k->name[1] == '\0' ||
		    (k->name[1] == '.' && k->name[2] == '\0')))
			continue;
		*name = k->name;
		*type = k->type;
		return 1;
	}
}

void dirread_close(struct dirread *r)
{
	if (r->dir)
		closedir(r->dir);	/* closes fd too */
	else if (r->fd >= 0)
		close(r->fd);
	r->dir = NULL;
	r->fd = -1;
	free(r->buf);
	r->buf = NULL;
}
