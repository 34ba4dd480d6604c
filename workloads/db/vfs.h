/* workloads/db/vfs.h: the SQLite VFS every vcons-db connection uses ("vcons-unix", registered as
 * the default): the unix VFS with two changes.
 *
 *  - Randomness comes from getrandom(2): guest programs open no file outside --data, and SQLite
 *    would seed from /dev/urandom.
 *  - Write combining for the database file and its WAL of a connection opened with the URI
 *    parameter DBVFS_COMBINE=1, which must be the database's only connection (locking_mode
 *    EXCLUSIVE; other connections would read WAL frames not yet written): consecutive writes to one
 * file (a commit's WAL frames, each a 24-byte header then a page; a checkpoint's run of adjacent
 * pages) are gathered in memory and reach the file as one pwrite (of at most 124 KiB). A file's
 * gathered bytes are written before anything else is done with that file (read, sync, size,
 * truncate, lock, close, memory map) and by dbvfs_flush. A production database writes its log the
 * same way: one write per commit, not one per page.
 *
 * Contract for durability: a commit is in the WAL file only once dbvfs_flush (or a sync) has
 * returned 0. vcons-db calls dbvfs_flush from SQLite's WAL hook, which runs after every commit and
 * before sqlite3_step of the COMMIT returns, so an acknowledged transaction has been written to
 * the kernel as before. When a gathered write fails, the file stays failed (every later call on it
 * returns SQLITE_IOERR): SQLite's view of the WAL is then ahead of the file, and the only safe way
 * on is to stop and recover from the file at the next start, as PostgreSQL does on a failed log
 * write. */
#ifndef WORKLOADS_DB_VFS_H
#define WORKLOADS_DB_VFS_H
#include <sqlite3.h>

#define DBVFS_COMBINE "vcons_combine" /* the URI parameter asking for write combining */

/* Registers the VFS as SQLite's default, once per process (thread-safe). 0, or -1. */
int dbvfs_install(void);

/* Writes what is gathered for the main database's WAL and database file of db. SQLITE_OK, or the
 * SQLite error of the failed write. */
int dbvfs_flush(sqlite3 *db);

/* Files opened through the VFS, writes of gathered runs (each one pwrite), writes gathered. */
struct dbvfs_counts {
	unsigned long long files, flushes, writes_gathered;
};
void dbvfs_counts(struct dbvfs_counts *out);

#endif
