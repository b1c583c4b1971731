/* Git blob ids without libgit2: SHA-1 of "blob SIZE\0" and the bytes, the
 * bytes read a piece at a time (libgit2's git_odb_hashfile reads a whole
 * file in one call that cannot be stopped). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blobid.h"
#include "fstamp.h"
#include "sha1.h"
#include "xmalloc.h"

#define PIECE (1 << 20)

/* Cleared once the kernel refuses O_NOATIME (files someone else owns). */
static atomic_int noatime_ok = 1;

/* openat for reading, without updating the file's access time where the
 * kernel lets us. A file just written has an atime older than its mtime,
 * so even relatime updates it on the first read: a journalled inode write
 * per file hashed, 3% of the daemon's CPU over a 10,000-file burst. Only
 * the owner (or CAP_FOWNER) may ask; anyone else gets EPERM, and then a
 * plain open, and no more asking. */
static int open_read(int dirfd, const char *path, int flags)
{
	int fd;

	if (atomic_load_explicit(&noatime_ok, memory_order_relaxed)) {
		fd = openat(dirfd, path, flags | O_NOATIME);
		if (fd >= 0 || errno != EPERM)
			return fd;
		atomic_store_explicit(&noatime_ok, 0, memory_order_relaxed);
	}
	return openat(dirfd, path, flags);
}

void blobid_buf(const void *data, size_t len, char out[BLOBID_HEX + 1])
{
	struct sha1 c;
	unsigned char md[20];
	char hdr[32];
	int n = snprintf(hdr, sizeof(hdr), "blob %zu", len);

	sha1_init(&c);
	sha1_update(&c, hdr, (size_t)n + 1);
	sha1_update(&c, data, len);
	sha1_final(&c, md);
	sha1_hex(md, out);
}

int blobid_file(const char *path, uint64_t cap, const atomic_int *cancel,
    char out[BLOBID_HEX + 1])
{
	return blobid_fileat(AT_FDCWD, path, cap, cancel, out);
}

/* The id of the regular file open at fd, which st describes: its
 * st_size bytes, read a PIECE at a time. */
static int hash_fd(int fd, const struct stat *st, const atomic_int *cancel,
    char out[BLOBID_HEX + 1])
{
	struct sha1 c;
	unsigned char md[20], *buf;
	char hdr[64];
	uint64_t left;
	size_t piece;
	int n, rc = 0;

	n = snprintf(hdr, sizeof(hdr), "blob %" PRIu64, (uint64_t)st->st_size);
	sha1_init(&c);
	sha1_update(&c, hdr, (size_t)n + 1);
	/* Most files are small: a buffer of their size, not a PIECE. Once one
	 * PIECE was freed, glibc's mmap threshold rises above it and later
	 * PIECEs come from the hashing thread's arena, which keeps every page
	 * a read touched. */
	piece = (uint64_t)st->st_size < PIECE ? (size_t)st->st_size : PIECE;
	buf = xmalloc(piece ? piece : 1);
	for (left = (uint64_t)st->st_size; left > 0;) {
		ssize_t got;

		if (cancel && atomic_load(cancel)) {
			rc = -ECANCELED;
			break;
		}
		got = read(fd, buf, left < piece ? (size_t)left : piece);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = -errno;
			break;
		}
		if (got == 0) {		/* shrank while read */
			rc = -EIO;
			break;
		}
		sha1_update(&c, buf, (size_t)got);
		left -= (uint64_t)got;
	}
	free(buf);
	if (rc == 0) {
		sha1_final(&c, md);
		sha1_hex(md, out);
	}
	return rc;
}

int blobid_fileat(int dirfd, const char *path, uint64_t cap, const atomic_int *cancel,
    char out[BLOBID_HEX + 1])
{
	struct stat st;
	char hdr[64];
	int fd = -1, n, rc = 0;

	/* Open first, one path walk rather than two (an lstat, then the
	 * open): O_NOFOLLOW makes a symlink fail with ELOOP, and O_NONBLOCK
	 * keeps a fifo that took the name from blocking the open. */
	fd = open_read(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && errno != ELOOP)
		return -errno;
	if (fd < 0) {
		if (fstatat(dirfd, path, &st, 0) < 0 || !S_ISREG(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t len = readlinkat(dirfd, path, target, sizeof(target));

			if (len < 0)
				return -errno;
			blobid_buf(target, (size_t)len, out);
			return 0;
		}
		/* a link to a regular file: its content */
		if ((fd = open_read(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
			return -errno;
	}
	if (fstat(fd, &st) < 0)
		rc = -errno;
	else if (!S_ISREG(st.st_mode))
		rc = -EINVAL;
	else if (cap > 0 && (uint64_t)st.st_size > cap) {
		n = snprintf(hdr, sizeof(hdr), "watchd stamp %" PRIu64 " %016" PRIx64 "\n",
		    (uint64_t)st.st_size, fstamp(&st));
		blobid_buf(hdr, (size_t)n, out);
	} else
		rc = hash_fd(fd, &st, cancel, out);
	close(fd);
	return rc;
}

int blobid_stamped(int dirfd, const char *path, uint64_t max, const atomic_int *cancel,
    char out[BLOBID_HEX + 1], uint64_t *stamp)
{
	struct stat st;
	int fd, rc;

	*stamp = 0;
	fd = open_read(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		rc = -errno;
	else if (!S_ISREG(st.st_mode))
		rc = -EINVAL;
	else if ((uint64_t)st.st_size > max)
		rc = -EFBIG;
	else if ((rc = hash_fd(fd, &st, cancel, out)) == 0)
		*stamp = fstamp(&st);
	close(fd);
	return rc;
}
