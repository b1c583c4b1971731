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
}

int dirread_next(struct dirread *r, const char **name, unsigned char *type)
{
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
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	free(r->buf);
	r->buf = NULL;
}
