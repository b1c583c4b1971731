/* Git blob ids of files, read in 1 MiB pieces so that a thread hashing a
 * large file can be told to stop, and capped for files whose bytes need
 * not be read (see blobid_file). Same ids as git and libgit2. */
#ifndef WD_BLOBID_H
#define WD_BLOBID_H

#include <stdatomic.h>
#include <stdint.h>

#define BLOBID_HEX 40

/* The blob id git gives the file at path (raw bytes, no filters);
 * a symlink to a regular file is that file's content, a dangling one (or
 * one to a directory) its link text. With cap > 0, a regular file larger
 * than cap bytes is not read: its id is the blob id of a line naming its
 * size and stamp (size, mtime, ctime, inode), which any change alters.
 * cancel (may be NULL) is read between pieces. 0, -ECANCELED, -EIO when
 * the file changed size while read, or -errno. Thread-safe. */
int blobid_file(const char *path, uint64_t cap, const atomic_int *cancel,
    char out[BLOBID_HEX + 1]);
/* The same for path relative to dirfd (AT_FDCWD: as blobid_file). */
int blobid_fileat(int dirfd, const char *path, uint64_t cap, const atomic_int *cancel,
    char out[BLOBID_HEX + 1]);
/* The blob id of the regular file at path relative to dirfd, of at most
 * max bytes, and in *stamp its stamp (lib/fstamp.h) when it was opened:
 * the id is that of the bytes the stamp stands for, unless the file was
 * rewritten within the stamp's time granularity while it was read, which
 * the next look cannot tell either. A symlink is not followed. 0, -ELOOP
 * (a symlink), -EINVAL (not a regular file), -EFBIG (larger than max),
 * -ECANCELED, -EIO or -errno; *stamp is 0 then. Thread-safe. */
int blobid_stamped(int dirfd, const char *path, uint64_t max, const atomic_int *cancel,
    char out[BLOBID_HEX + 1], uint64_t *stamp);
/* The blob id of a buffer. */
void blobid_buf(const void *data, size_t len, char out[BLOBID_HEX + 1]);

#endif
