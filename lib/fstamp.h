/* A 64-bit summary of what identifies a file's state on disk, so that
 * "did it change?" is one comparison and costs 8 bytes a file to keep. */
#ifndef WD_FSTAMP_H
#define WD_FSTAMP_H

#include <stdint.h>

struct stat;

/* Size, mtime, ctime, inode and file type, hashed. Equal stamps mean "not
 * changed". Never 0, so callers may use 0 for "unknown". */
uint64_t fstamp(const struct stat *st);

#endif
