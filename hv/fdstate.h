/* hv/fdstate.h: the guest fd table in a snapshot or migration stream. fdstate__save records every
 * open guest fd's host file (what it is and what recreating it takes) without changing anything
 * the guest can see; fdstate__load recreates the table in another hv process from that record, all
 * or nothing; fdstate__detach lets a source process exit without ending its TCP connections. Pure
 * host code: no KVM, no guest memory.
 *
 * The fd section of the stream (hv/wire.h encoding; integers little-endian):
 *   u32 FDSTATE_VERSION
 *   u64 root st_dev, u64 root st_ino    the saving VM's root (inode identity is checked only
 *                                        when loading into the same root directory)
 *   u32 nfiles, then nfiles records, each  bytes(u8 kind, kind's fields)
 *   u32 nfds, then nfds of                 u32 guest fd, u32 file index, u8 cloexec
 * (bytes = u64 length + that many bytes: a record is parsed inside its own length and must use
 * all of it). Kinds and their fields:
 *   STDIO    u8 which (0..2): a dup of the loading process's ctx->stdio_fds[which]
 *   PATH     str path (below the root, "." the root), u32 F_GETFL flags, i64 offset, u32 st_mode,
 *            u64 size, i64 mtime ns, u64 st_dev, u64 st_ino (size/mtime/identity: regular files)
 *   DELETED  str directory (below the root), u32 flags, i64 offset, u32 st_mode, bytes contents
 *            (an unlinked open file: recreated as an O_TMPFILE; at most FDSTATE_INLINE_MAX)
 *   DEVICE   str host path (one of hv's /dev/null, zero, full, random, urandom), u32 flags
 *   PIPE     u64 pipe key (its inode: both ends of one pipe share it), u8 end (0 read, 1 write),
 *            u32 flags, u32 pipe size, bytes contents (in the first record of a pipe only)
 *   EVENTFD  u64 count, u8 semaphore, u32 flags
 *   TIMERFD  u32 clockid, u32 flags, u32 settime flags, u64 ticks (expirations not read),
 *            i64 remaining ns, i64 interval ns (host time)
 *   EPOLL    u32 n, then n of u32 file index, u32 events (with EPOLLET/ONESHOT bits), u64 data
 *   INET     see fdstate_sock.c: type, flags, addresses, state, options, TCP repair state
 */
#ifndef HV_FDSTATE_H
#define HV_FDSTATE_H
#include "hv/fdtab.h"
#include "hv/wire.h"

#include <stddef.h>
#include <stdint.h>

#define FDSTATE_VERSION    1
#define FDSTATE_INLINE_MAX (64ULL << 20) /* an unlinked file's contents travel in the stream */

struct fdstate_ctx {
	int root_fd;           /* O_PATH fd of the VM's root directory */
	const char *root_path; /* its canonical host path (vm->root_path) */
	int stdio_fds[3];      /* the host fds behind guest fds 0..2 in THIS process (-1: none) */
	int *reset; /* NULL: a listener with connections waiting to be accepted cannot be saved;
	             * else they are reset as fdstate__reset_pending does, counted here */
};

/* Appends a record of the whole table to w. Leaves every fd's state as the guest sees it
 * unchanged (pipes are peeked with tee(2), TCP queues read in repair mode, which is left again).
 * The VM must be paused (no guest thread uses the table). Returns 0, or -1 with one line in err
 * naming the guest fd and why it cannot be saved; w is then as it was before the call. */
int fdstate__save(struct fdtab *t, const struct fdstate_ctx *ctx, struct wbuf *w, char *err,
                  size_t errlen);

/* Recreates the table recorded by fdstate__save into t (initialized, empty) in this process.
 * Returns 0, or -1 with one line in err (a file that no longer exists or changed, a port in use, a
 * malformed record); on failure every fd it created is closed and t is left empty. */
int fdstate__load(struct fdtab *t, const struct fdstate_ctx *ctx, struct rbuf *r, char *err,
                  size_t errlen);

/* For the source of a migration or a snapshot-and-stop, just before it exits: every TCP socket is
 * put into repair mode and closed (so neither FIN nor RST leaves: the connection lives on in the
 * restored VM), and every other AF_INET socket is closed (so the target can bind its address).
 * Their table entries stay, with host fd -1: only fdtab__free may follow. */
void fdstate__detach(struct fdtab *t);

/* The last resort when a listener keeps connections waiting to be accepted at every pause (a
 * slow guest under a steady stream of new connections): each is accepted here and closed with a
 * reset (SO_LINGER 0), as CRIU leaves them, so the table can be saved; their clients see a
 * refused connection before any request was served, and retry. The VM must be paused. Returns how
 * many were reset. */
int fdstate__reset_pending(struct fdtab *t);

/* --- between fdstate.c and fdstate_sock.c --- */
enum fdstate_kind {
	FK_STDIO = 1,
	FK_PATH,
	FK_DELETED,
	FK_DEVICE,
	FK_PIPE,
	FK_EVENTFD,
	FK_TIMERFD,
	FK_EPOLL,
	FK_INET,
};
/* Writes an AF_INET socket's fields (after the kind): 0, or -1 with err (names guest fd gfd). */
int fdstate__save_inet(int host, int gfd, struct wbuf *w, int *reset, char *err, size_t errlen);
/* Accepts every connection waiting in listener `host`'s queue and closes it with a reset;
 * returns how many. */
int fdstate__drain_listener(int host);
/* Creates the socket a record describes: its host fd, or -1 with err. */
int fdstate__load_inet(struct rbuf *r, char *err, size_t errlen);
/* Repair mode for a TCP socket (detach); 0 or -errno. */
int fdstate__tcp_quiet(int host);

#endif
