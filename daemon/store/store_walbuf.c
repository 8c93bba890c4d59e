/*
 * store_walbuf.c - a SQLite VFS that writes a WAL commit in a few large
 * writes instead of two a frame (store_walbuf.h).
 *
 * SQLite appends a commit to the WAL one frame at a time, and each frame
 * with two writes: its 24-byte header, then its page. A group commit of
 * 32 PATCHes is some 45 frames, so 90 pwrite calls before its fsync, each
 * a kernel entry that costs more than the copy it makes on this kind of
 * machine. This VFS is SQLite's own default VFS ("unix") with one change:
 * the writes to a WAL file that follow each other in the file are kept in
 * a buffer and go out together, in writes of 64 KiB, when SQLite next
 * does anything else with that file (sync, read, size, truncate, file
 * control, close), or when the buffer is full: 3 writes for those 45
 * frames instead of 90.
 *
 * Why that loses nothing and shows nothing early:
 *   - a commit is durable when SQLite's sync of the WAL returns; the sync
 *     writes the buffer first, and fails if that write fails, so the
 *     commit fails as it would have at a failed frame;
 *   - other connections learn of new frames only from the WAL index,
 *     which SQLite updates after that sync (synchronous=FULL, which the
 *     store always sets; with NORMAL the index would be updated with no
 *     sync before it, and this VFS must not be used);
 *   - the writer's own reads of its WAL (a page it spilled, a checkpoint)
 *     write the buffer first.
 *
 * Every other file (the database, its journal) is opened by the default
 * VFS straight into the space SQLite gives us, with its own methods: no
 * call is forwarded. Only WAL files carry the wrapper below, whose
 * methods are of version 1: SQLite maps shared memory and pages through
 * the database file, never through its WAL.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "store_walbuf.h"

#define VFS_NAME "usersd-walbuf"
#define BUF_CAP  (1024 * 1024) /* kept before it is written */
/*
 * The most one write hands to the default VFS: its unix write masks the
 * length with 0x1ffff (a write of 128 KiB or more is cut short, and one
 * of exactly 128 KiB left over is taken for a full disk).
 */
#define WRITE_MAX (64 * 1024)

typedef struct walbuf_file {
	sqlite3_file base;  /* its methods: wal_methods */
	sqlite3_file *real; /* the default VFS's file, after this struct */
	unsigned char *buf; /* made at the first write; NULL before */
	sqlite3_int64 off;  /* where buf[0] goes in the file */
	size_t len;         /* bytes in buf */
} walbuf_file;

/* The real file lives after ours, aligned for anything. */
#define REAL_OFFSET                                                            \
	((sizeof(walbuf_file) + sizeof(max_align_t) - 1) /                     \
	 sizeof(max_align_t) * sizeof(max_align_t))

static sqlite3_vfs walbuf_vfs;
static sqlite3_vfs *real_vfs;

/* Writes what the buffer holds; SQLITE_OK or the write's error. */
static int
flush(walbuf_file *f)
{
	size_t done = 0, n;
	int rc;

	while (done < f->len) {
		n = f->len - done < WRITE_MAX ? f->len - done : WRITE_MAX;
		rc = f->real->pMethods->xWrite(f->real, f->buf + done, (int)n,
					       f->off + (sqlite3_int64)done);
		if (rc != SQLITE_OK) {
			/* the rest stays: a later sync writes it, or fails */
			memmove(f->buf, f->buf + done, f->len - done);
			f->off += (sqlite3_int64)done;
			f->len -= done;
			return rc;
		}
		done += n;
	}
	f->len = 0;
	return SQLITE_OK;
}

static int
wal_close(sqlite3_file *p)
{
	walbuf_file *f = (walbuf_file *)p;
	int rc = flush(f), rc2 = f->real->pMethods->xClose(f->real);

	free(f->buf);
	f->buf = NULL;
	f->len = 0;
	return rc != SQLITE_OK ? rc : rc2;
}

static int
wal_read(sqlite3_file *p, void *out, int amt, sqlite3_int64 off)
{
	walbuf_file *f = (walbuf_file *)p;
	int rc = flush(f);

	return rc != SQLITE_OK
		   ? rc
		   : f->real->pMethods->xRead(f->real, out, amt, off);
}

static int
wal_write(sqlite3_file *p, const void *in, int amt, sqlite3_int64 off)
{
	walbuf_file *f = (walbuf_file *)p;
	int rc;

	if (amt <= 0) {
		return f->real->pMethods->xWrite(f->real, in, amt, off);
	}
	/* Not where the buffer ends, or not room for it: out it goes. */
	if (f->len > 0 && (off != f->off + (sqlite3_int64)f->len ||
			   f->len + (size_t)amt > BUF_CAP)) {
		if ((rc = flush(f)) != SQLITE_OK) {
			return rc;
		}
	}
	if ((size_t)amt > WRITE_MAX) {
		return f->real->pMethods->xWrite(f->real, in, amt, off);
	}
	if (f->buf == NULL && (f->buf = malloc(BUF_CAP)) == NULL) {
		return f->real->pMethods->xWrite(f->real, in, amt, off);
	}
	if (f->len == 0) {
		f->off = off;
	}
	memcpy(f->buf + f->len, in, (size_t)amt);
	f->len += (size_t)amt;
	return SQLITE_OK;
}

static int
wal_truncate(sqlite3_file *p, sqlite3_int64 size)
{
	walbuf_file *f = (walbuf_file *)p;
	int rc = flush(f);

	return rc != SQLITE_OK ? rc
			       : f->real->pMethods->xTruncate(f->real, size);
}

static int
wal_sync(sqlite3_file *p, int flags)
{
	walbuf_file *f = (walbuf_file *)p;
	int rc = flush(f);

	return rc != SQLITE_OK ? rc : f->real->pMethods->xSync(f->real, flags);
}

static int
wal_file_size(sqlite3_file *p, sqlite3_int64 *size)
{
	walbuf_file *f = (walbuf_file *)p;
	int rc = flush(f);

	return rc != SQLITE_OK ? rc
			       : f->real->pMethods->xFileSize(f->real, size);
}

static int
wal_lock(sqlite3_file *p, int level)
{
	walbuf_file *f = (walbuf_file *)p;

	return f->real->pMethods->xLock(f->real, level);
}

static int
wal_unlock(sqlite3_file *p, int level)
{
	walbuf_file *f = (walbuf_file *)p;

	return f->real->pMethods->xUnlock(f->real, level);
}

static int
wal_check_lock(sqlite3_file *p, int *out)
{
	walbuf_file *f = (walbuf_file *)p;

	return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int
wal_file_control(sqlite3_file *p, int op, void *arg)
{
	walbuf_file *f = (walbuf_file *)p;
	int rc = flush(f);

	return rc != SQLITE_OK
		   ? rc
		   : f->real->pMethods->xFileControl(f->real, op, arg);
}

static int
wal_sector_size(sqlite3_file *p)
{
	walbuf_file *f = (walbuf_file *)p;

	return f->real->pMethods->xSectorSize(f->real);
}

static int
wal_device(sqlite3_file *p)
{
	walbuf_file *f = (walbuf_file *)p;

	return f->real->pMethods->xDeviceCharacteristics(f->real);
}

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
    .xCheckReservedLock = wal_check_lock,
    .xFileControl = wal_file_control,
    .xSectorSize = wal_sector_size,
    .xDeviceCharacteristics = wal_device,
};

static int
walbuf_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *p, int flags,
	    int *out_flags)
{
	walbuf_file *f = (walbuf_file *)p;
	int rc;

	(void)vfs;
	if (!(flags & SQLITE_OPEN_WAL)) {
		/* The default VFS's file, in place: its methods, no wrapper. */
		return real_vfs->xOpen(real_vfs, name, p, flags, out_flags);
	}
	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *)((unsigned char *)p + REAL_OFFSET);
	rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
	/* On failure SQLite calls xClose only if pMethods is set. */
	f->base.pMethods = f->real->pMethods != NULL ? &wal_methods : NULL;
	return rc;
}

/* The rest is the default VFS's, called with the default VFS. */

static int
walbuf_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	(void)vfs;
	return real_vfs->xDelete(real_vfs, name, sync_dir);
}

static int
walbuf_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int
walbuf_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static void *
walbuf_dl_open(sqlite3_vfs *vfs, const char *name)
{
	(void)vfs;
	return real_vfs->xDlOpen(real_vfs, name);
}

static void
walbuf_dl_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	real_vfs->xDlError(real_vfs, n, out);
}

static void (*walbuf_dl_sym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
	(void)vfs;
	return real_vfs->xDlSym(real_vfs, h, sym);
}

static void
walbuf_dl_close(sqlite3_vfs *vfs, void *h)
{
	(void)vfs;
	real_vfs->xDlClose(real_vfs, h);
}

static int
walbuf_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return real_vfs->xRandomness(real_vfs, n, out);
}

static int
walbuf_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	return real_vfs->xSleep(real_vfs, us);
}

static int
walbuf_current_time(sqlite3_vfs *vfs, double *out)
{
	(void)vfs;
	return real_vfs->xCurrentTime(real_vfs, out);
}

static int
walbuf_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return real_vfs->xGetLastError(real_vfs, n, out);
}

static int
walbuf_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	(void)vfs;
	return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int registered = SQLITE_ERROR;

static void
walbuf_register(void)
{
	real_vfs = sqlite3_vfs_find(NULL);
	if (real_vfs == NULL || real_vfs->iVersion < 2 ||
	    real_vfs->xCurrentTimeInt64 == NULL) {
		return;
	}
	walbuf_vfs = (sqlite3_vfs){
	    .iVersion = 2,
	    .szOsFile = (int)REAL_OFFSET + real_vfs->szOsFile,
	    .mxPathname = real_vfs->mxPathname,
	    .zName = VFS_NAME,
	    .xOpen = walbuf_open,
	    .xDelete = walbuf_delete,
	    .xAccess = walbuf_access,
	    .xFullPathname = walbuf_full_pathname,
	    .xDlOpen = walbuf_dl_open,
	    .xDlError = walbuf_dl_error,
	    .xDlSym = walbuf_dl_sym,
	    .xDlClose = walbuf_dl_close,
	    .xRandomness = walbuf_randomness,
	    .xSleep = walbuf_sleep,
	    .xCurrentTime = walbuf_current_time,
	    .xGetLastError = walbuf_last_error,
	    .xCurrentTimeInt64 = walbuf_current_time64,
	};
	registered = sqlite3_vfs_register(&walbuf_vfs, 0);
}

const char *
ud_store_walbuf_vfs(void)
{
	pthread_once(&once, walbuf_register);
	return registered == SQLITE_OK ? VFS_NAME : NULL;
}
