/* File stamps: see fstamp.h. */
#include <sys/stat.h>

#include "fstamp.h"
#include "hmap.h"

uint64_t fstamp(const struct stat *st)
{
	uint64_t v[6] = {
		(uint64_t)st->st_size, (uint64_t)st->st_mtim.tv_sec, (uint64_t)st->st_mtim.tv_nsec,
		(uint64_t)st->st_ctim.tv_sec ^ ((uint64_t)st->st_ctim.tv_nsec << 32),
		(uint64_t)st->st_ino, (uint64_t)(st->st_mode & S_IFMT),
	};
	uint64_t h = hmap_hash(v, sizeof(v));

	return h ? h : 1;
}
