/* A VFS over the default one that writes a transaction's WAL frames with
 * one system call instead of two per frame.
 *
 * SQLite appends each frame to the -wal file as two pwrite()s, its 24-byte
 * header and its page; a finished gate run dirties about eleven pages, so a
 * commit cost 22 system calls, which on a paravirtualised guest were most of
 * the cost of recording (see docs/BENCHMARKS.md). Here the writes to a -wal
 * file that continue one another are gathered in memory and written
 * together when the commit frame is complete, before SQLite publishes the
 * commit in the wal-index, so a reader never finds a committed frame that
 * is not in the file, and the commit's write error (SQLITE_FULL) is still
 * the error of a write. Any other operation on the file (read, sync,
 * truncate, size, close, a write elsewhere) writes what is gathered first.
 * Files other than the WAL are opened by the default VFS itself, in place.
 *
 * Durability is unchanged: with synchronous=NORMAL a WAL commit is not
 * synced anyway, and a process killed with frames still gathered had not
 * committed them (they are the tail of a transaction SQLite would ignore
 * at recovery too). */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "ledger-vfs.h"

#define WAL_FRAME_HDR	24		/* SQLite's frame header, before each page */
#define GATHER_MAX	(128 * 1024)	/* past this, write what is gathered */
#define WRITE_MAX	(64 * 1024)	/* bytes per write of the default VFS */

struct wal_file {
	sqlite3_file	base;		/* first: SQLite sees this */
	sqlite3_file	*real;		/* the default VFS's file, right after us */
	unsigned char	*buf;		/* gathered bytes, owned */
	size_t		len, cap;
	sqlite3_int64	off;		/* file offset of buf[0] */
	int		commit;		/* the last header gathered was a commit frame's */
};

static sqlite3_vfs gather_vfs;
static sqlite3_vfs *real_vfs;

static int flush(struct wal_file *w)
{
	int rc = SQLITE_OK;

	/* the default VFS writes at most 128 KiB per call */
	for (size_t done = 0; done < w->len && rc == SQLITE_OK; done += WRITE_MAX) {
		size_t n = w->len - done < WRITE_MAX ? w->len - done : WRITE_MAX;

		rc = w->real->pMethods->xWrite(w->real, w->buf + done, (int)n,
		    w->off + (sqlite3_int64)done);
	}
	w->len = 0;
	w->commit = 0;
	return rc;
}

static int gather(struct wal_file *w, const void *data, int amt, sqlite3_int64 off)
{
	size_t need;

	/* elsewhere in the file, or past what is gathered at once */
	if (w->len && (off != w->off + (sqlite3_int64)w->len ||
	    w->len + (size_t)amt > GATHER_MAX)) {
		int rc = flush(w);

		if (rc != SQLITE_OK)
			return rc;
	}
	need = w->len + (size_t)amt;
	if (need > w->cap) {
		size_t cap = w->cap ? w->cap : 64 * 1024;
		unsigned char *nb;

		while (cap < need)
			cap *= 2;
		if ((nb = sqlite3_realloc64(w->buf, cap)) == NULL) {
			int rc = flush(w);

			return rc != SQLITE_OK ? rc :
			    w->real->pMethods->xWrite(w->real, data, amt, off);
		}
		w->buf = nb;
		w->cap = cap;
	}
	if (w->len == 0)
		w->off = off;
	memcpy(w->buf + w->len, data, (size_t)amt);
	w->len += (size_t)amt;
	return SQLITE_OK;
}

static int wal_write(sqlite3_file *f, const void *data, int amt, sqlite3_int64 off)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc, was_commit = w->commit;

	if ((rc = gather(w, data, amt, off)) != SQLITE_OK)
		return rc;
	if (amt == WAL_FRAME_HDR) {
		const unsigned char *h = data;

		/* bytes 4-7: the database size after a commit, 0 in other frames */
		w->commit = (h[4] | h[5] | h[6] | h[7]) != 0;
		return SQLITE_OK;
	}
	if (was_commit)
		return flush(w);	/* the commit frame is whole: write it now */
	return SQLITE_OK;
}

static int wal_close(sqlite3_file *f)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc = flush(w), rc2;

	sqlite3_free(w->buf);
	w->buf = NULL;
	rc2 = w->real->pMethods->xClose(w->real);
	return rc != SQLITE_OK ? rc : rc2;
}

/* The rest write what is gathered, then do what the default VFS does. */
#define REAL(f)		(((struct wal_file *)(f))->real)
#define FLUSHED(f)	do { int rc_ = flush((struct wal_file *)(f)); \
				if (rc_ != SQLITE_OK) return rc_; } while (0)

static int wal_read(sqlite3_file *f, void *data, int amt, sqlite3_int64 off)
{
	FLUSHED(f);
	return REAL(f)->pMethods->xRead(REAL(f), data, amt, off);
}

static int wal_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	FLUSHED(f);
	return REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int wal_sync(sqlite3_file *f, int flags)
{
	FLUSHED(f);
	return REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int wal_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	FLUSHED(f);
	return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int wal_lock(sqlite3_file *f, int lock)
{
	return REAL(f)->pMethods->xLock(REAL(f), lock);
}

static int wal_unlock(sqlite3_file *f, int lock)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), lock);
}

static int wal_check_reserved(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int wal_file_control(sqlite3_file *f, int op, void *arg)
{
	FLUSHED(f);
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int wal_sector_size(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int wal_device_characteristics(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

/* A -wal file has no shared memory and is not memory-mapped: version 1. */
static const sqlite3_io_methods wal_methods = {
	.iVersion = 1,
	.xClose = wal_close,
	.xRead = wal_read,
	.xWrite = wal_write,
	.xTruncate = wal_truncate,
	.xSync = wal_sync,
	.xFileSize = wal_file_size,
	.xLock = wal_lock,
	.xUnlock = wal_unlock,
	.xCheckReservedLock = wal_check_reserved,
	.xFileControl = wal_file_control,
	.xSectorSize = wal_sector_size,
	.xDeviceCharacteristics = wal_device_characteristics,
};

static int gather_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
    int *out_flags)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc;

	(void)vfs;
	if (!(flags & SQLITE_OPEN_WAL))
		return real_vfs->xOpen(real_vfs, name, f, flags, out_flags);
	memset(w, 0, sizeof(*w));
	w->real = (sqlite3_file *)(w + 1);
	rc = real_vfs->xOpen(real_vfs, name, w->real, flags, out_flags);
	/* SQLite closes a file whose pMethods is set even if the open failed */
	w->base.pMethods = w->real->pMethods ? &wal_methods : NULL;
	return rc;
}

#define PASS(ret, name, params, args) \
	static ret gather_##name params { (void)vfs; return real_vfs->name args; }
PASS(int, xDelete, (sqlite3_vfs *vfs, const char *p, int sync), (real_vfs, p, sync))
PASS(int, xAccess, (sqlite3_vfs *vfs, const char *p, int fl, int *out), (real_vfs, p, fl, out))
PASS(int, xFullPathname, (sqlite3_vfs *vfs, const char *p, int n, char *out),
    (real_vfs, p, n, out))
PASS(void *, xDlOpen, (sqlite3_vfs *vfs, const char *p), (real_vfs, p))
PASS(int, xRandomness, (sqlite3_vfs *vfs, int n, char *out), (real_vfs, n, out))
PASS(int, xSleep, (sqlite3_vfs *vfs, int us), (real_vfs, us))
PASS(int, xCurrentTime, (sqlite3_vfs *vfs, double *out), (real_vfs, out))
PASS(int, xGetLastError, (sqlite3_vfs *vfs, int n, char *out), (real_vfs, n, out))
PASS(int, xCurrentTimeInt64, (sqlite3_vfs *vfs, sqlite3_int64 *out), (real_vfs, out))
#undef PASS

static void gather_dlerror(sqlite3_vfs *vfs, int n, char *msg)
{
	(void)vfs;
	real_vfs->xDlError(real_vfs, n, msg);
}

static void (*gather_dlsym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
	(void)vfs;
	return real_vfs->xDlSym(real_vfs, h, sym);
}

static void gather_dlclose(sqlite3_vfs *vfs, void *h)
{
	(void)vfs;
	real_vfs->xDlClose(real_vfs, h);
}

const char *ledger_vfs(void)
{
	/* The daemon opens its ledgers on the loop thread only; sqlite3_vfs_find
	 * and sqlite3_vfs_register are themselves serialised. */
	if (real_vfs == NULL) {
		sqlite3_vfs *def = sqlite3_vfs_find(NULL);

		if (def == NULL)
			return NULL;
		gather_vfs = (sqlite3_vfs){
			.iVersion = 2,
			.szOsFile = (int)sizeof(struct wal_file) + def->szOsFile,
			.mxPathname = def->mxPathname,
			.zName = "watchd-wal",
			.xOpen = gather_open,
			.xDelete = gather_xDelete,
			.xAccess = gather_xAccess,
			.xFullPathname = gather_xFullPathname,
			.xDlOpen = gather_xDlOpen,
			.xDlError = gather_dlerror,
			.xDlSym = gather_dlsym,
			.xDlClose = gather_dlclose,
			.xRandomness = gather_xRandomness,
			.xSleep = gather_xSleep,
			.xCurrentTime = gather_xCurrentTime,
			.xGetLastError = gather_xGetLastError,
			.xCurrentTimeInt64 = gather_xCurrentTimeInt64,
		};
		real_vfs = def;
		if (sqlite3_vfs_register(&gather_vfs, 0) != SQLITE_OK) {
			real_vfs = NULL;
			return NULL;
		}
	}
	return gather_vfs.zName;
}
