/* hv/fdtab.h: the guest's file-descriptor table. A guest fd names a shared, reference-counted host
 * file
 * (`struct hfile`): dup shares it, as dup shares an open file description on Linux. A handler holds
 * a reference from fdtab__get() to fdtab__put(), so a close in another guest thread never lets a
 * blocked call use a host fd number that the host has since reused (possibly for another VM). */
#ifndef HV_FDTAB_H
#define HV_FDTAB_H
#include <pthread.h>

struct hfile {
	int host; /* host fd */
	int refs; /* table entries + handlers in flight */
};

struct fd_entry {
	struct hfile *f; /* NULL when the slot is free */
	int cloexec;
};

struct fdtab {
	pthread_mutex_t lock;
	struct fd_entry *e;
	int n;   /* slots allocated */
	int max; /* the guest's RLIMIT_NOFILE */
};

int fdtab__init(struct fdtab *t, int max);
void fdtab__free(struct fdtab *t);

/* Installs host fd `host` at the lowest free guest fd >= `min`. Returns the guest fd, or -EMFILE
 * (and closes `host`). */
int fdtab__install(struct fdtab *t, int host, int cloexec, int min);

/* Takes a reference: returns the hfile of guest fd `fd`, or NULL (the caller answers -EBADF). */
struct hfile *fdtab__get(struct fdtab *t, int fd);
void fdtab__put(struct fdtab *t, struct hfile *f);
/* 1 when guest fd `fd` is open. */
int fdtab__valid(struct fdtab *t, int fd);

int fdtab__close(struct fdtab *t, int fd);
/* dup/dup2/dup3/F_DUPFD: `newfd` < 0 means the lowest free >= `min`. */
int fdtab__dup(struct fdtab *t, int oldfd, int newfd, int min, int cloexec);
int fdtab__cloexec(struct fdtab *t, int fd, int set); /* set < 0 reads the flag */
/* Exchanges the contents of two tables (not their locks); neither may be in use. */
void fdtab__swap(struct fdtab *a, struct fdtab *b);
/* Closes every fd marked close-on-exec (execve). */
void fdtab__close_on_exec(struct fdtab *t);
/* Walks the table (snapshots, fdstate.c): the lowest open guest fd >= `fd`, with a reference to
 * its hfile in *f (the caller puts it) and its close-on-exec flag in *cloexec; -1 when there is
 * none. Guest fds sharing one hfile (dup) give the same pointer. */
int fdtab__next(struct fdtab *t, int fd, struct hfile **f, int *cloexec);

#endif
