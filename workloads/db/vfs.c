/* workloads/db/vfs.c: vcons-db's SQLite VFS: getrandom randomness and write combining for the
 * database file and its WAL (see vfs.h). Every file method forwards to the unix VFS's file, which
 * lives in the same allocation right after ours; the combining ones write the gathered run first.
 */
#include "workloads/db/vfs.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define RUN_CAP (1 << 20) /* gathered bytes per file at most; a longer run is written at once */
/* The unix VFS writes at most 128 KiB - 1 bytes a call (it masks the length with 0x1ffff), so a
 * run is written in pieces of this size: a TPC-C commit's frames (~100 KB) still take one. */
#define WRITE_MAX 0x1f000

struct vfile {
	sqlite3_file base; /* pMethods: &vfile_methods */
	sqlite3_file *real;
	int combine; /* the main database or its WAL */
	int failed;  /* a gathered write failed: every call fails (vfs.h) */
	sqlite3_int64 run_off;
	int run_len;
	unsigned char *run; /* RUN_CAP bytes, allocated at the first gathered write */
};

/* Where the unix VFS's file starts inside ours, aligned for any type. */
#define REAL_OFFSET                                                                                \
	((sizeof(struct vfile) + alignof(max_align_t) - 1) / alignof(max_align_t) *                \
	 alignof(max_align_t))

static sqlite3_vfs *unix_vfs;
static atomic_ullong n_files, n_flushes, n_gathered;

static int flush(struct vfile *f)
{
	if (f->failed)
		return SQLITE_IOERR_WRITE;
	if (!f->run_len)
		return SQLITE_OK;
	int rc = SQLITE_OK;
	for (int at = 0; rc == SQLITE_OK && at < f->run_len; at += WRITE_MAX) {
		int n = f->run_len - at < WRITE_MAX ? f->run_len - at : WRITE_MAX;
		rc = f->real->pMethods->xWrite(f->real, f->run + at, n, f->run_off + at);
		atomic_fetch_add(&n_flushes, 1);
	}
	f->run_len = 0;
	if (rc != SQLITE_OK)
		f->failed = 1;
	return rc;
}

/* The file's gathered bytes written, then the real file: the start of every forwarding method. */
#define REAL_AFTER_FLUSH(file, var)                                                                \
	struct vfile *var = (struct vfile *)(file);                                                \
	do {                                                                                       \
		int frc_ = flush(var);                                                             \
		if (frc_ != SQLITE_OK)                                                             \
			return frc_;                                                               \
	} while (0)

static int v_close(sqlite3_file *file)
{
	struct vfile *f = (struct vfile *)file;
	int rc = flush(f);
	int crc = f->real->pMethods->xClose(f->real);
	free(f->run);
	f->run = NULL;
	return rc != SQLITE_OK ? rc : crc;
}

static int v_read(sqlite3_file *file, void *buf, int n, sqlite3_int64 off)
{
	REAL_AFTER_FLUSH(file, f);
	return f->real->pMethods->xRead(f->real, buf, n, off);
}

static int v_write(sqlite3_file *file, const void *buf, int n, sqlite3_int64 off)
{
	struct vfile *f = (struct vfile *)file;
	if (!f->combine)
		return f->real->pMethods->xWrite(f->real, buf, n, off);
	if (f->run_len && off == f->run_off + f->run_len && n <= RUN_CAP - f->run_len) {
		memcpy(f->run + f->run_len, buf, (size_t)n);
		f->run_len += n;
		atomic_fetch_add(&n_gathered, 1);
		return SQLITE_OK;
	}
	int rc = flush(f);
	if (rc != SQLITE_OK)
		return rc;
	if (n > WRITE_MAX)
		return f->real->pMethods->xWrite(f->real, buf, n, off);
	if (!f->run && !(f->run = malloc(RUN_CAP)))
		return f->real->pMethods->xWrite(f->real, buf, n, off);
	memcpy(f->run, buf, (size_t)n);
	f->run_off = off;
	f->run_len = n;
	atomic_fetch_add(&n_gathered, 1);
	return SQLITE_OK;
}

static int v_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	REAL_AFTER_FLUSH(file, f);
	return f->real->pMethods->xTruncate(f->real, size);
}

static int v_sync(sqlite3_file *file, int flags)
{
	REAL_AFTER_FLUSH(file, f);
	return f->real->pMethods->xSync(f->real, flags);
}

static int v_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	REAL_AFTER_FLUSH(file, f);
	return f->real->pMethods->xFileSize(f->real, size);
}

static int v_lock(sqlite3_file *file, int level)
{
	REAL_AFTER_FLUSH(file, f);
	return f->real->pMethods->xLock(f->real, level);
}

static int v_unlock(sqlite3_file *file, int level)
{
	REAL_AFTER_FLUSH(file, f);
	return f->real->pMethods->xUnlock(f->real, level);
}

static int v_check_reserved(sqlite3_file *file, int *out)
{
	struct vfile *f = (struct vfile *)file;
	return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int v_file_control(sqlite3_file *file, int op, void *arg)
{
	REAL_AFTER_FLUSH(file, f);
	return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int v_sector_size(sqlite3_file *file)
{
	struct vfile *f = (struct vfile *)file;
	return f->real->pMethods->xSectorSize(f->real);
}

static int v_device_characteristics(sqlite3_file *file)
{
	struct vfile *f = (struct vfile *)file;
	return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int v_shm_map(sqlite3_file *file, int pg, int pgsz, int extend, void volatile **out)
{
	struct vfile *f = (struct vfile *)file;
	return f->real->pMethods->xShmMap(f->real, pg, pgsz, extend, out);
}

static int v_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
	struct vfile *f = (struct vfile *)file;
	return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void v_shm_barrier(sqlite3_file *file)
{
	struct vfile *f = (struct vfile *)file;
	f->real->pMethods->xShmBarrier(f->real);
}

static int v_shm_unmap(sqlite3_file *file, int del)
{
	struct vfile *f = (struct vfile *)file;
	return f->real->pMethods->xShmUnmap(f->real, del);
}

static int v_fetch(sqlite3_file *file, sqlite3_int64 off, int n, void **out)
{
	*out = NULL;
	REAL_AFTER_FLUSH(file, f);
	return f->real->pMethods->xFetch(f->real, off, n, out);
}

static int v_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
	struct vfile *f = (struct vfile *)file;
	return f->real->pMethods->xUnfetch(f->real, off, p);
}

static const sqlite3_io_methods vfile_methods = {
	.iVersion = 3,
	.xClose = v_close,
	.xRead = v_read,
	.xWrite = v_write,
	.xTruncate = v_truncate,
	.xSync = v_sync,
	.xFileSize = v_file_size,
	.xLock = v_lock,
	.xUnlock = v_unlock,
	.xCheckReservedLock = v_check_reserved,
	.xFileControl = v_file_control,
	.xSectorSize = v_sector_size,
	.xDeviceCharacteristics = v_device_characteristics,
	.xShmMap = v_shm_map,
	.xShmLock = v_shm_lock,
	.xShmBarrier = v_shm_barrier,
	.xShmUnmap = v_shm_unmap,
	.xFetch = v_fetch,
	.xUnfetch = v_unfetch,
};

static int v_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags,
                  int *out_flags)
{
	(void)vfs;
	struct vfile *f = (struct vfile *)file;
	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *)((char *)file + REAL_OFFSET);
	f->real->pMethods = NULL;
	int rc = unix_vfs->xOpen(unix_vfs, name, f->real, flags, out_flags);
	if (f->real->pMethods && f->real->pMethods->iVersion < 3) {
		f->real->pMethods->xClose(f->real); /* not the unix VFS we know */
		return SQLITE_CANTOPEN;
	}
	if (f->real->pMethods) /* SQLite calls xClose even after a failed open when this is set */
		f->base.pMethods = &vfile_methods;
	f->combine = (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL)) && name &&
	             sqlite3_uri_boolean(name, DBVFS_COMBINE, 0);
	if (rc == SQLITE_OK)
		atomic_fetch_add(&n_files, 1);
	return rc;
}

static int v_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	int got = 0;
	while (got < n) {
		ssize_t r = getrandom(out + got, (size_t)(n - got), 0);
		if (r <= 0)
			return unix_vfs->xRandomness(vfs, n, out);
		got += (int)r;
	}
	return n;
}

static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static int installed;

static void install(void)
{
	static sqlite3_vfs vfs;
	unix_vfs = sqlite3_vfs_find("unix");
	if (!unix_vfs || unix_vfs->iVersion < 2)
		return;
	vfs = *unix_vfs;
	vfs.szOsFile = (int)REAL_OFFSET + unix_vfs->szOsFile;
	vfs.zName = "vcons-unix";
	vfs.xOpen = v_open;
	vfs.xRandomness = v_randomness;
	installed = sqlite3_vfs_register(&vfs, 1) == SQLITE_OK;
}

int dbvfs_install(void)
{
	pthread_once(&install_once, install);
	return installed ? 0 : -1;
}

static int flush_of(sqlite3 *db, int op)
{
	sqlite3_file *file = NULL;
	if (sqlite3_file_control(db, "main", op, &file) != SQLITE_OK || !file ||
	    file->pMethods != &vfile_methods)
		return SQLITE_OK;
	return flush((struct vfile *)file);
}

int dbvfs_flush(sqlite3 *db)
{
	int rc = flush_of(db, SQLITE_FCNTL_JOURNAL_POINTER);
	int rc2 = flush_of(db, SQLITE_FCNTL_FILE_POINTER);
	return rc != SQLITE_OK ? rc : rc2;
}

void dbvfs_counts(struct dbvfs_counts *out)
{
	out->files = atomic_load(&n_files);
	out->flushes = atomic_load(&n_flushes);
	out->writes_gathered = atomic_load(&n_gathered);
}
