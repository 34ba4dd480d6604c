/* hv/path.h: the VM's file boundary. Every guest path is turned into a path below the VM's root and
 * resolved with openat2(RESOLVE_IN_ROOT), so "..", absolute paths and symlinks (even ones pointing
 * at
 * "/" or "../..") cannot leave the root. Relative paths are joined to the guest-visible working
 * directory or to the directory a guest fd names, so ".." behaves as on Linux up to the root. */
#ifndef HV_PATH_H
#define HV_PATH_H
#include <stddef.h>
#include <stdint.h>

struct vm;

/* Opens guest path (dirfd, gpath) with open flags/mode below the root: a host fd or -errno.
 * `dirfd` is a guest fd or AT_FDCWD. */
int path__open(struct vm *vm, int dirfd, uint64_t gpath, int flags, unsigned mode);

/* Same for a path already copied in. */
int path__open_str(struct vm *vm, int dirfd, const char *path, int flags, unsigned mode);

/* Opens the directory holding the last component (O_PATH) and copies that component into `last`:
 * a host fd or -errno. For operations that name an entry: unlink, mkdir, rename, link, symlink. */
int path__parent(struct vm *vm, int dirfd, uint64_t gpath, char *last, size_t lastlen);

/* The guest path of a host directory fd inside the root, into `out`: 0 or -errno. */
int path__of_fd(struct vm *vm, int hostfd, char *out, size_t len);

/* Sets the working directory to the directory `hostfd` names (after chdir/fchdir checked it). */
int path__set_cwd(struct vm *vm, int hostfd);

#endif
