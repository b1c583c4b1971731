/* A directory listing straight from getdents64 on a descriptor the caller
 * opened: what opendir/fdopendir would do, minus the fstat and the two
 * fcntl calls they add per directory (a 10k-directory tree is listed with
 * 30k fewer system calls). */
#ifndef WD_DIRREAD_H
#define WD_DIRREAD_H

#include <dirent.h>
#include <stddef.h>

struct dirread {
	int	 fd;
	char	*buf;		/* DIRREAD_BUF bytes */
	size_t	 pos, len;
	int	 err;		/* errno of a failed read, or 0 */
	DIR	*dir;		/* dirread_open_readdir only, else NULL */
};

/* Takes ownership of fd (closed by dirread_close). */
void dirread_open(struct dirread *r, int fd);
/* The same through fdopendir/readdir, for measuring what getdents64
 * saves; r->fd stays usable for *at() calls. */
void dirread_open_readdir(struct dirread *r, int fd);
/* The next entry other than "." and "..": its name (borrowed until the
 * next call) and d_type (DT_UNKNOWN where the file system does not say).
 * 1, or 0 at the end or on an error (r->err). */
int dirread_next(struct dirread *r, const char **name, unsigned char *type);
void dirread_close(struct dirread *r);

#endif
