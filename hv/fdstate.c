/* hv/fdstate.c: the guest fd table saved into and loaded from a snapshot stream (fdstate.h): the
 * table's walk, files, pipes, eventfds, timerfds and epolls. Sockets are fdstate_sock.c's. */
#include "hv/fdstate.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <linux/kcmp.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

/* F_GETFL bits a reopened file gets back (the rest are open-time only). */
#define KEEP_FLAGS                                                                                 \
	(O_ACCMODE | O_APPEND | O_NONBLOCK | O_DSYNC | O_SYNC | O_DIRECT | O_NOATIME | O_PATH |    \
	 O_LARGEFILE)
#define MAX_FILES 65536
#ifndef TFD_IOC_SET_TICKS /* linux/timerfd.h, which clashes with glibc's headers */
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif /* above any guest's RLIMIT_NOFILE */

/* hv's own device nodes (path.c): the only host paths outside a root a record may name. */
static const char *const devices[] = { "/dev/null", "/dev/zero", "/dev/full", "/dev/random",
	                               "/dev/urandom" };

static int say(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int64_t ts_ns(struct timespec t)
{
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static struct timespec ns_ts(int64_t ns)
{
	return (struct timespec){ (time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL) };
}

/* /proc/self/fdinfo/N as one NUL-terminated string (malloc'd), or NULL. */
static char *fdinfo(int fd)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	int in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return NULL;
	size_t len = 0, cap = 4096;
	char *s = malloc(cap);
	for (ssize_t n = 1; s && n > 0;) {
		if (cap - len < 2) {
			char *g = realloc(s, cap * 2);
			if (!g) {
				free(s);
				s = NULL;
				break;
			}
			s = g;
			cap *= 2;
		}
		n = read(in, s + len, cap - len - 1);
		if (n < 0) {
			free(s);
			s = NULL;
		} else {
			len += (size_t)n;
		}
	}
	close(in);
	if (s)
		s[len] = 0;
	return s;
}

/* The value after "key:" on a line of fdinfo text, or NULL. */
static const char *info_field(const char *info, const char *key)
{
	size_t k = strlen(key);
	for (const char *l = info; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, key, k) == 0 && l[k] == ':')
			return l + k + 1;
	return NULL;
}

static int link_of(int fd, char *out, size_t n)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ssize_t len = readlink(path, out, n - 1);
	if (len < 0)
		return -1;
	out[len] = 0;
	return 0;
}

/* Opens `rel` below the root as path.c resolves guest paths (never leaving it). */
static int open_below(int root_fd, const char *rel, int flags, unsigned mode)
{
	struct open_how how = { .flags = (uint64_t)(unsigned)flags | O_CLOEXEC,
		                .mode = mode,
		                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	for (;;) {
		long fd = syscall(SYS_openat2, root_fd, rel, &how, sizeof(how));
		if (fd >= 0 || (errno != EAGAIN && errno != EINTR))
			return (int)fd;
	}
}

/* ---------------------------------------------------------------- saving */

struct sfile {
	struct hfile *f;
	int gfd; /* the lowest guest fd naming it, for messages */
	struct stat st;
};

struct sent {
	int gfd;
	uint32_t file;
	int cloexec;
};

struct saver {
	const struct fdstate_ctx *ctx;
	struct sfile *files;
	size_t nfiles;
	struct sent *fds;
	size_t nfds;
	uint64_t *pipes; /* pipe keys whose contents are in the stream already */
	size_t npipes;
	char *err;
	size_t errlen;
};

/* 1 when host fds a and b are one open file description (kcmp; where kcmp is missing: the same
 * inode opened with the same flags). */
static int same_file(int a, int b)
{
	pid_t me = getpid();
	long rc = syscall(SYS_kcmp, me, me, KCMP_FILE, a, b);
	if (rc >= 0)
		return rc == 0;
	struct stat sa, sb;
	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino && fcntl(a, F_GETFL) == fcntl(b, F_GETFL);
}

/* Which of the standard fds this file is (a dup of ctx->stdio_fds[i], as vm.c installs them),
 * the one it sits at first; -1 for none. */
static int stdio_of(const struct saver *s, uint32_t i)
{
	int any = -1;
	for (int j = 0; j < 3; j++) {
		if (s->ctx->stdio_fds[j] < 0 ||
		    !same_file(s->files[i].f->host, s->ctx->stdio_fds[j]))
			continue;
		for (size_t k = 0; k < s->nfds; k++)
			if (s->fds[k].file == i && s->fds[k].gfd == j)
				return j;
		if (any < 0)
			any = j;
	}
	return any;
}

/* The host path `host` relative to the root ("." the root itself), or -1 outside it. */
static int rel_path(const char *root, const char *host, char *out, size_t n)
{
	size_t rl = strlen(root);
	const char *rest;
	if (strcmp(root, "/") == 0)
		rest = host;
	else if (strncmp(host, root, rl) == 0 && (host[rl] == '/' || host[rl] == 0))
		rest = host + rl;
	else
		return -1;
	while (*rest == '/')
		rest++;
	return snprintf(out, n, "%s", *rest ? rest : ".") >= (int)n ? -1 : 0;
}

/* Reads an unlinked file's whole contents (through /proc when its fd cannot read). */
static void *slurp_file(int host, size_t size, char *why, size_t whylen)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", host);
	int rd = open(path, O_RDONLY | O_CLOEXEC);
	uint8_t *buf = malloc(size ? size : 1);
	size_t got = 0;
	while (rd >= 0 && buf && got < size) {
		ssize_t n = pread(rd, buf + got, size - got, (off_t)got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (rd < 0 || !buf || got < size) {
		snprintf(why, whylen, "%s",
		         rd < 0 ? strerror(errno)
		         : !buf ? "out of memory"
		                : "short read");
		free(buf);
		buf = NULL;
	}
	if (rd >= 0)
		close(rd);
	return buf;
}

static int save_deleted(struct saver *s, const struct sfile *sf, const char *rel, int flags,
                        struct wbuf *w)
{
	const struct stat *st = &sf->st;
	if (!S_ISREG(st->st_mode))
		return say(s->err, s->errlen, "guest fd %d: a deleted directory cannot be saved",
		           sf->gfd);
	if (flags & O_PATH)
		return say(s->err, s->errlen,
		           "guest fd %d: an O_PATH fd of a deleted file cannot be saved", sf->gfd);
	if ((uint64_t)st->st_size > FDSTATE_INLINE_MAX)
		return say(
		    s->err, s->errlen,
		    "guest fd %d: the deleted file /%s holds %lld bytes, more than the %llu MiB a "
		    "snapshot carries",
		    sf->gfd, rel, (long long)st->st_size, FDSTATE_INLINE_MAX >> 20);
	char dir[PATH_MAX], why[128];
	snprintf(dir, sizeof(dir), "%s", rel);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	else
		snprintf(dir, sizeof(dir), ".");
	void *data = slurp_file(sf->f->host, (size_t)st->st_size, why, sizeof(why));
	if (!data)
		return say(s->err, s->errlen, "guest fd %d: reading the deleted file /%s: %s",
		           sf->gfd, rel, why);
	wbuf__u8(w, FK_DELETED);
	wbuf__str(w, dir);
	wbuf__u32(w, (uint32_t)flags);
	wbuf__i64(w, lseek(sf->f->host, 0, SEEK_CUR));
	wbuf__u32(w, st->st_mode);
	wbuf__bytes(w, data, (size_t)st->st_size);
	free(data);
	return 0;
}

static int save_path(struct saver *s, const struct sfile *sf, const char *link, struct wbuf *w)
{
	const struct stat *st = &sf->st;
	char host[PATH_MAX], rel[PATH_MAX];
	int flags = fcntl(sf->f->host, F_GETFL);
	snprintf(host, sizeof(host), "%s", link);
	size_t hl = strlen(host), dl = strlen(" (deleted)");
	if (st->st_nlink == 0 && hl > dl && strcmp(host + hl - dl, " (deleted)") == 0)
		host[hl - dl] = 0;
	if (strncmp(host, "/memfd:", 7) == 0)
		return say(s->err, s->errlen, "guest fd %d: memfd cannot be saved yet", sf->gfd);
	if (rel_path(s->ctx->root_path, host, rel, sizeof(rel)) < 0) {
		if (st->st_nlink != 0)
			return say(s->err, s->errlen, "guest fd %d: %s is outside the VM's root",
			           sf->gfd, host);
		snprintf(rel, sizeof(rel), "."); /* deleted: recreated in the root */
	}
	if (st->st_nlink == 0)
		return save_deleted(s, sf, rel, flags, w);
	wbuf__u8(w, FK_PATH);
	wbuf__str(w, rel);
	wbuf__u32(w, (uint32_t)flags);
	wbuf__i64(w, (flags & O_PATH) ? 0 : lseek(sf->f->host, 0, SEEK_CUR));
	wbuf__u32(w, st->st_mode);
	wbuf__u64(w, (uint64_t)st->st_size);
	wbuf__i64(w, ts_ns(st->st_mtim));
	wbuf__u64(w, st->st_dev);
	wbuf__u64(w, st->st_ino);
	return 0;
}

static int save_device(struct saver *s, const struct sfile *sf, const char *link, struct wbuf *w)
{
	for (size_t i = 0; i < sizeof(devices) / sizeof(*devices); i++) {
		if (strcmp(link, devices[i]) == 0) {
			wbuf__u8(w, FK_DEVICE);
			wbuf__str(w, link);
			wbuf__u32(w, (uint32_t)fcntl(sf->f->host, F_GETFL));
			return 0;
		}
	}
	return say(s->err, s->errlen, "guest fd %d: device %s cannot be saved yet", sf->gfd, link);
}

/* A pipe's contents without consuming them: tee(2) into a scratch pipe as large, then read that.
 * A write end is read through a read end opened on it via /proc. */
static int peek_pipe(int host, int end, int size, void **data, size_t *len, char *why, size_t n)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", host);
	int rd = end == 0 ? host : open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	int avail = 0, sp[2] = { -1, -1 }, rc = -1;
	*data = NULL;
	*len = 0;
	if (rd < 0 || ioctl(rd, FIONREAD, &avail) < 0) {
		snprintf(why, n, "%s", strerror(errno));
		goto out;
	}
	if (avail == 0) {
		rc = 0;
		goto out;
	}
	*data = malloc((size_t)avail);
	if (!*data || pipe2(sp, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    fcntl(sp[1], F_SETPIPE_SZ, size) < 0) {
		snprintf(why, n, "%s", *data ? strerror(errno) : "out of memory");
		goto out;
	}
	ssize_t got = tee(rd, sp[1], (size_t)avail, SPLICE_F_NONBLOCK);
	if (got != avail || read(sp[0], *data, (size_t)avail) != avail) {
		snprintf(why, n, "tee copied %zd of %d bytes", got, avail);
		goto out;
	}
	*len = (size_t)avail;
	rc = 0;
out:
	if (rc < 0) {
		free(*data);
		*data = NULL;
	}
	if (sp[0] >= 0)
		close(sp[0]), close(sp[1]);
	if (rd >= 0 && rd != host)
		close(rd);
	return rc;
}

static int save_pipe(struct saver *s, const struct sfile *sf, const char *link, struct wbuf *w)
{
	int h = sf->f->host, flags = fcntl(h, F_GETFL), size = fcntl(h, F_GETPIPE_SZ);
	if (strncmp(link, "pipe:", 5) != 0)
		return say(s->err, s->errlen, "guest fd %d: a named FIFO (%s) cannot be saved yet",
		           sf->gfd, link);
	if (flags & O_DIRECT)
		return say(s->err, s->errlen, "guest fd %d: a packet-mode pipe cannot be saved yet",
		           sf->gfd);
	int end = (flags & O_ACCMODE) == O_WRONLY;
	uint64_t key = sf->st.st_ino;
	int seen = 0;
	for (size_t i = 0; i < s->npipes; i++)
		seen |= s->pipes[i] == key;
	void *data = NULL;
	size_t len = 0;
	char why[128];
	if (!seen && peek_pipe(h, end, size, &data, &len, why, sizeof(why)) < 0)
		return say(s->err, s->errlen, "guest fd %d: reading the pipe's contents: %s",
		           sf->gfd, why);
	if (s->pipes) /* (collect made room for every file) */
		s->pipes[s->npipes++] = key;
	wbuf__u8(w, FK_PIPE);
	wbuf__u64(w, key);
	wbuf__u8(w, (uint8_t)end);
	wbuf__u32(w, (uint32_t)flags);
	wbuf__u32(w, (uint32_t)size);
	wbuf__bytes(w, data, len);
	free(data);
	return 0;
}

static int save_eventfd(struct saver *s, const struct sfile *sf, struct wbuf *w)
{
	char *info = fdinfo(sf->f->host);
	const char *count = info ? info_field(info, "eventfd-count") : NULL;
	const char *sem = info ? info_field(info, "eventfd-semaphore") : NULL;
	if (!count) {
		free(info);
		return say(s->err, s->errlen, "guest fd %d: the eventfd's counter is not readable",
		           sf->gfd);
	}
	wbuf__u8(w, FK_EVENTFD);
	wbuf__u64(w, strtoull(count, NULL, 16)); /* the kernel prints it in hex */
	wbuf__u8(w, sem && strtol(sem, NULL, 10) != 0);
	wbuf__u32(w, (uint32_t)fcntl(sf->f->host, F_GETFL));
	free(info);
	return 0;
}

static int save_timerfd(struct saver *s, const struct sfile *sf, struct wbuf *w)
{
	struct itimerspec cur;
	char *info = fdinfo(sf->f->host);
	const char *clk = info ? info_field(info, "clockid") : NULL;
	const char *ticks = info ? info_field(info, "ticks") : NULL;
	const char *sflags = info ? info_field(info, "settime flags") : NULL;
	if (!clk || !ticks || !sflags || timerfd_gettime(sf->f->host, &cur) < 0) {
		free(info);
		return say(s->err, s->errlen,
		           "guest fd %d: the timerfd's settings are not readable", sf->gfd);
	}
	wbuf__u8(w, FK_TIMERFD);
	wbuf__u32(w, (uint32_t)strtol(clk, NULL, 10));
	wbuf__u32(w, (uint32_t)fcntl(sf->f->host, F_GETFL));
	wbuf__u32(w, (uint32_t)strtoul(sflags, NULL, 8));
	wbuf__u64(w, strtoull(ticks, NULL, 10));
	wbuf__i64(w, ts_ns(cur.it_value));
	wbuf__i64(w, ts_ns(cur.it_interval));
	free(info);
	return 0;
}

struct interest {
	int tfd;
	uint32_t events;
	uint64_t data;
	unsigned long ino;
};

/* One fdinfo line "tfd: %8d events: %8x data: %16llx  pos:%lli ino:%lx sdev:%x" (fs/eventpoll.c).
 */
static int parse_interest(const char *l, struct interest *in)
{
	const char *eol = strchr(l, '\n');
	const char *ev = strstr(l, "events:"), *data = strstr(l, "data:"), *ino = strstr(l, "ino:");
	if (!ev || !data || !ino || (eol && ino > eol))
		return -1;
	char *end;
	errno = 0;
	long tfd = strtol(l + 4, &end, 10);
	in->events = (uint32_t)strtoul(ev + 7, NULL, 16);
	in->data = strtoull(data + 5, NULL, 16);
	in->ino = strtoul(ino + 4, NULL, 16);
	if (errno || end == l + 4 || tfd < 0 || tfd > INT_MAX)
		return -1;
	in->tfd = (int)tfd;
	return 0;
}

/* The interest list from fdinfo ("tfd: N events: X data: Y ... ino:I"): tfd is the host fd, which
 * is mapped back to the table's files (and checked to be the same inode). */
static int save_epoll(struct saver *s, const struct sfile *sf, struct wbuf *w)
{
	char *info = fdinfo(sf->f->host);
	if (!info)
		return say(s->err, s->errlen,
		           "guest fd %d: the epoll's interest list is not readable", sf->gfd);
	wbuf__u8(w, FK_EPOLL);
	size_t at = w->len;
	uint32_t n = 0;
	wbuf__u32(w, 0);
	int rc = 0;
	for (const char *l = strstr(info, "tfd:"); l && rc == 0; l = strstr(l + 4, "tfd:")) {
		struct interest in;
		if (parse_interest(l, &in) < 0) {
			rc = say(s->err, s->errlen, "guest fd %d: an epoll line hv cannot read",
			         sf->gfd);
			break;
		}
		size_t k = 0;
		while (k < s->nfiles && s->files[k].f->host != in.tfd)
			k++;
		if (k == s->nfiles || s->files[k].st.st_ino != in.ino) {
			rc =
			    say(s->err, s->errlen,
			        "guest fd %d: the epoll watches a file that is not in the fd table",
			        sf->gfd);
			break;
		}
		wbuf__u32(w, (uint32_t)k);
		wbuf__u32(w, in.events);
		wbuf__u64(w, in.data);
		n++;
	}
	free(info);
	wbuf__patch_u32(w, at, n);
	return rc;
}

static int save_anon(struct saver *s, const struct sfile *sf, const char *link, struct wbuf *w)
{
	const char *what = link + strlen("anon_inode:");
	if (strcmp(what, "[eventfd]") == 0)
		return save_eventfd(s, sf, w);
	if (strcmp(what, "[timerfd]") == 0)
		return save_timerfd(s, sf, w);
	if (strcmp(what, "[eventpoll]") == 0)
		return save_epoll(s, sf, w);
	char name[64];
	snprintf(name, sizeof(name), "%.63s", what[0] == '[' ? what + 1 : what);
	char *close_ = strchr(name, ']');
	if (close_)
		*close_ = 0;
	return say(s->err, s->errlen, "guest fd %d: %s cannot be saved yet", sf->gfd, name);
}

static int save_file(struct saver *s, uint32_t i, struct wbuf *w)
{
	const struct sfile *sf = &s->files[i];
	char link[PATH_MAX];
	int which = stdio_of(s, i);
	if (which >= 0) {
		wbuf__u8(w, FK_STDIO);
		wbuf__u8(w, (uint8_t)which);
		return 0;
	}
	if (link_of(sf->f->host, link, sizeof(link)) < 0)
		return say(s->err, s->errlen, "guest fd %d: %s", sf->gfd, strerror(errno));
	if (strncmp(link, "anon_inode:", 11) == 0)
		return save_anon(s, sf, link, w);
	switch (sf->st.st_mode & S_IFMT) {
	case S_IFREG:
	case S_IFDIR: return save_path(s, sf, link, w);
	case S_IFCHR: return save_device(s, sf, link, w);
	case S_IFIFO: return save_pipe(s, sf, link, w);
	case S_IFSOCK:
		wbuf__u8(w, FK_INET);
		return fdstate__save_inet(sf->f->host, sf->gfd, w, s->ctx->reset, s->err,
		                          s->errlen);
	default:
		return say(s->err, s->errlen, "guest fd %d: %s cannot be saved yet", sf->gfd, link);
	}
}

/* The table's entries and its distinct files (each hfile once), with references held. */
static int collect(struct saver *s, struct fdtab *t)
{
	struct hfile *f;
	int cloexec;
	size_t cap = 0;
	for (int fd = fdtab__next(t, 0, &f, &cloexec); fd >= 0;
	     fd = fdtab__next(t, fd + 1, &f, &cloexec)) {
		if (s->nfds == cap) {
			cap = cap ? cap * 2 : 64;
			struct sent *e = realloc(s->fds, cap * sizeof(*e));
			struct sfile *g = realloc(s->files, cap * sizeof(*g));
			if (e)
				s->fds = e;
			if (g)
				s->files = g;
			if (!e || !g) {
				fdtab__put(t, f);
				return say(s->err, s->errlen, "snapshot: out of memory");
			}
		}
		uint32_t k = 0;
		while (k < s->nfiles && s->files[k].f != f)
			k++;
		if (k == s->nfiles) {
			s->files[k] = (struct sfile){ .f = f, .gfd = fd };
			s->nfiles++;
			if (fstat(f->host, &s->files[k].st) < 0)
				return say(s->err, s->errlen, "guest fd %d: %s", fd,
				           strerror(errno));
		} else {
			fdtab__put(t, f); /* one reference per distinct file */
		}
		s->fds[s->nfds++] = (struct sent){ fd, k, cloexec };
	}
	s->pipes = calloc(s->nfiles ? s->nfiles : 1, sizeof(*s->pipes));
	if (!s->pipes)
		return say(s->err, s->errlen, "snapshot: out of memory");
	return 0;
}

int fdstate__save(struct fdtab *t, const struct fdstate_ctx *ctx, struct wbuf *w, char *err,
                  size_t errlen)
{
	struct saver s = { .ctx = ctx, .err = err, .errlen = errlen };
	size_t start = w->len;
	int oom = w->oom, rc = collect(&s, t);
	struct stat root;
	if (rc == 0 && fstat(ctx->root_fd, &root) < 0)
		rc = say(err, errlen, "snapshot: the VM's root: %s", strerror(errno));
	if (rc == 0) {
		wbuf__u32(w, FDSTATE_VERSION);
		wbuf__u64(w, root.st_dev);
		wbuf__u64(w, root.st_ino);
		wbuf__u32(w, (uint32_t)s.nfiles);
	}
	for (uint32_t i = 0; rc == 0 && i < s.nfiles; i++) {
		struct wbuf rec;
		wbuf__init(&rec);
		rc = save_file(&s, i, &rec);
		if (rc == 0 && rec.oom)
			rc = say(err, errlen, "snapshot: out of memory");
		if (rc == 0)
			wbuf__bytes(w, rec.p, rec.len);
		wbuf__free(&rec);
	}
	if (rc == 0) {
		wbuf__u32(w, (uint32_t)s.nfds);
		for (size_t i = 0; i < s.nfds; i++) {
			wbuf__u32(w, (uint32_t)s.fds[i].gfd);
			wbuf__u32(w, s.fds[i].file);
			wbuf__u8(w, (uint8_t)s.fds[i].cloexec);
		}
		if (w->oom)
			rc = say(err, errlen, "snapshot: out of memory");
	}
	for (size_t i = 0; i < s.nfiles; i++)
		fdtab__put(t, s.files[i].f);
	free(s.files);
	free(s.fds);
	free(s.pipes);
	if (rc < 0) { /* the buffer up to start is untouched by a failed append */
		w->len = start;
		w->oom = oom;
	}
	return rc;
}

/* ---------------------------------------------------------------- loading */

struct lfile {
	int host;      /* -1: not created, or handed to the table */
	int installed; /* the guest fd that holds it, or -1 */
	int kind;
	struct rbuf rest; /* EPOLL: its interest list, added once every file exists */
};

struct lpipe {
	uint64_t key;
	int other;     /* the end no record has claimed yet, or -1 */
	int other_end; /* 0 read, 1 write */
};

struct loader {
	const struct fdstate_ctx *ctx;
	int same_root; /* loading into the root that was saved: inode identity must hold */
	struct lfile *files;
	uint32_t nfiles;
	struct lpipe *pipes;
	size_t npipes;
	char *err;
	size_t errlen;
};

static int malformed(struct loader *l, const char *what)
{
	return say(l->err, l->errlen, "snapshot: the fd table record is malformed (%s)", what);
}

static int set_flags(int fd, uint32_t flags, int mask)
{
	int cur = fcntl(fd, F_GETFL);
	return cur < 0 ? -1 : fcntl(fd, F_SETFL, (cur & ~mask) | ((int)flags & mask));
}

static int load_stdio(struct loader *l, struct rbuf *r)
{
	unsigned which = rbuf__u8(r);
	if (r->bad || which > 2)
		return malformed(l, "standard fd");
	int src = l->ctx->stdio_fds[which];
	int fd = src < 0 ? -1 : fcntl(src, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return say(l->err, l->errlen, "snapshot: standard fd %u: %s", which,
		           src < 0 ? "this process has none" : strerror(errno));
	return fd;
}

static int check_file(struct loader *l, int fd, const char *gpath, struct rbuf *r, uint32_t mode)
{
	uint64_t size = rbuf__u64(r);
	int64_t mtime = rbuf__i64(r);
	uint64_t dev = rbuf__u64(r), ino = rbuf__u64(r);
	struct stat st;
	if (r->bad)
		return malformed(l, "file");
	if (fstat(fd, &st) < 0)
		return say(l->err, l->errlen, "snapshot: %s: %s", gpath, strerror(errno));
	if ((st.st_mode & S_IFMT) != (mode & S_IFMT))
		return say(l->err, l->errlen, "snapshot: %s is no longer a %s", gpath,
		           S_ISDIR(mode) ? "directory" : "regular file");
	if (!S_ISREG(mode))
		return 0;
	if ((uint64_t)st.st_size != size)
		return say(l->err, l->errlen,
		           "snapshot: %s changed since the snapshot (size %llu, now %lld)", gpath,
		           (unsigned long long)size, (long long)st.st_size);
	if (ts_ns(st.st_mtim) != mtime)
		return say(
		    l->err, l->errlen,
		    "snapshot: %s changed since the snapshot (modified at %lld ns, now %lld)",
		    gpath, (long long)mtime, (long long)ts_ns(st.st_mtim));
	if (l->same_root && (st.st_dev != dev || st.st_ino != ino))
		return say(
		    l->err, l->errlen,
		    "snapshot: %s changed since the snapshot (another file now has its name)",
		    gpath);
	return 0;
}

static int load_path(struct loader *l, struct rbuf *r)
{
	char rel[PATH_MAX], gpath[PATH_MAX + 1];
	rbuf__str(r, rel, sizeof(rel));
	uint32_t flags = rbuf__u32(r);
	int64_t off = rbuf__i64(r);
	uint32_t mode = rbuf__u32(r);
	if (r->bad || off < 0 || !(S_ISREG(mode) || S_ISDIR(mode)))
		return malformed(l, "file");
	snprintf(gpath, sizeof(gpath), "/%s", strcmp(rel, ".") ? rel : "");
	int of = (int)flags & KEEP_FLAGS;
	if (of & O_PATH)
		of = O_PATH; /* it takes no other flag */
	if (S_ISDIR(mode))
		of |= O_DIRECTORY;
	int fd = open_below(l->ctx->root_fd, rel, of, 0);
	if (fd < 0)
		return say(l->err, l->errlen, "snapshot: %s: %s", gpath, strerror(errno));
	if (check_file(l, fd, gpath, r, mode) < 0) {
		close(fd);
		return -1;
	}
	if (!(of & O_PATH) && lseek(fd, off, SEEK_SET) != off) {
		say(l->err, l->errlen, "snapshot: %s: cannot seek to %lld: %s", gpath,
		    (long long)off, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* An unlinked file comes back as an O_TMPFILE in its old directory (or the root), filled. */
static int load_deleted(struct loader *l, struct rbuf *r)
{
	char dir[PATH_MAX], path[64];
	rbuf__str(r, dir, sizeof(dir));
	uint32_t flags = rbuf__u32(r);
	int64_t off = rbuf__i64(r);
	uint32_t mode = rbuf__u32(r);
	size_t len;
	const uint8_t *data = rbuf__bytes(r, &len);
	if (r->bad || off < 0 || len > FDSTATE_INLINE_MAX || (flags & O_PATH))
		return malformed(l, "deleted file");
	int d = open_below(l->ctx->root_fd, dir, O_PATH | O_DIRECTORY, 0);
	int fd =
	    openat(d >= 0 ? d : l->ctx->root_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, mode & 07777);
	if (d >= 0)
		close(d);
	if (fd < 0)
		return say(l->err, l->errlen, "snapshot: recreating a deleted file in /%s: %s", dir,
		           strerror(errno));
	size_t done = 0;
	while (done < len) {
		ssize_t n = pwrite(fd, data + done, len - done, (off_t)done);
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	int acc = (int)flags & O_ACCMODE, rc = done == len ? 0 : -1;
	if (rc == 0 && acc != O_RDWR) { /* the access mode needs a new open of the same file */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		int again = open(path, acc | O_CLOEXEC);
		close(fd);
		fd = again;
		rc = fd < 0 ? -1 : 0;
	}
	if (rc == 0)
		rc = set_flags(fd, flags, O_APPEND | O_NONBLOCK | O_NOATIME);
	if (rc == 0 && lseek(fd, off, SEEK_SET) != off)
		rc = -1;
	if (rc < 0) {
		say(l->err, l->errlen, "snapshot: recreating a deleted file in /%s: %s", dir,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int load_device(struct loader *l, struct rbuf *r)
{
	char name[64];
	rbuf__str(r, name, sizeof(name));
	uint32_t flags = rbuf__u32(r);
	if (r->bad)
		return malformed(l, "device");
	for (size_t i = 0; i < sizeof(devices) / sizeof(*devices); i++) {
		if (strcmp(name, devices[i]) == 0) {
			int fd = open(name, ((int)flags & (O_ACCMODE | O_NONBLOCK)) | O_CLOEXEC);
			if (fd < 0)
				say(l->err, l->errlen, "snapshot: %s: %s", name, strerror(errno));
			return fd;
		}
	}
	return malformed(l, "device");
}

/* The first record of a pipe creates it and refills it; the other end waits for its own record. */
static int load_pipe(struct loader *l, struct rbuf *r)
{
	uint64_t key = rbuf__u64(r);
	unsigned end = rbuf__u8(r);
	uint32_t flags = rbuf__u32(r), size = rbuf__u32(r);
	size_t len;
	const void *data = rbuf__bytes(r, &len);
	if (r->bad || end > 1 || len > size)
		return malformed(l, "pipe");
	for (size_t i = 0; i < l->npipes; i++) {
		struct lpipe *p = &l->pipes[i];
		if (p->key != key)
			continue;
		if (p->other < 0 || p->other_end != (int)end || len)
			return malformed(l, "pipe end");
		int fd = p->other;
		p->other = -1;
		if (set_flags(fd, flags, O_NONBLOCK) < 0) {
			close(fd);
			return say(l->err, l->errlen, "snapshot: a pipe: %s", strerror(errno));
		}
		return fd;
	}
	int p[2];
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return say(l->err, l->errlen, "snapshot: a pipe: %s", strerror(errno));
	if (fcntl(p[1], F_SETPIPE_SZ, (int)size) < 0 || write(p[1], data, len) != (ssize_t)len ||
	    set_flags(p[end], flags, O_NONBLOCK) < 0) {
		close(p[0]);
		close(p[1]);
		return say(l->err, l->errlen, "snapshot: refilling a pipe of %u bytes: %s", size,
		           strerror(errno));
	}
	l->pipes[l->npipes++] = (struct lpipe){ key, p[1 - end], 1 - (int)end };
	return p[end];
}

static int load_eventfd(struct loader *l, struct rbuf *r)
{
	uint64_t count = rbuf__u64(r);
	unsigned sem = rbuf__u8(r);
	uint32_t flags = rbuf__u32(r);
	if (r->bad || sem > 1 || count == UINT64_MAX)
		return malformed(l, "eventfd");
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK | (sem ? EFD_SEMAPHORE : 0));
	if (fd < 0 || (count && write(fd, &count, sizeof(count)) != sizeof(count)) ||
	    set_flags(fd, flags, O_NONBLOCK) < 0) {
		say(l->err, l->errlen, "snapshot: an eventfd: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Armed with the time that was left (relative, or absolute on a wall clock with its flags), and
 * its unread expirations put back (TFD_IOC_SET_TICKS). */
static int load_timerfd(struct loader *l, struct rbuf *r)
{
	int clk = (int)rbuf__u32(r);
	uint32_t flags = rbuf__u32(r), sflags = rbuf__u32(r);
	uint64_t ticks = rbuf__u64(r);
	int64_t rem = rbuf__i64(r), iv = rbuf__i64(r);
	if (r->bad || rem < 0 || iv < 0)
		return malformed(l, "timerfd");
	int fd = timerfd_create(clk, TFD_CLOEXEC | ((flags & O_NONBLOCK) ? TFD_NONBLOCK : 0));
	if (fd < 0)
		return say(l->err, l->errlen, "snapshot: a timerfd on clock %d: %s", clk,
		           strerror(errno));
	struct itimerspec its = { .it_interval = ns_ts(iv), .it_value = ns_ts(rem) };
	int tf = 0;
	int wall = clk == CLOCK_REALTIME || clk == CLOCK_REALTIME_ALARM;
	if (rem && wall && (sflags & TFD_TIMER_ABSTIME)) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now); /* the alarm clock's time too */
		its.it_value = ns_ts(ts_ns(now) + rem);
		tf = (int)sflags & (TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET);
	}
	if ((rem && timerfd_settime(fd, tf, &its, NULL) < 0) ||
	    (ticks && ioctl(fd, TFD_IOC_SET_TICKS, &ticks) < 0)) {
		say(l->err, l->errlen, "snapshot: re-arming a timerfd: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Pass 2: every epoll's interest list, once all files exist (an epoll may watch any of them). */
static int load_interest(struct loader *l, struct lfile *ep)
{
	struct rbuf *r = &ep->rest;
	uint32_t n = rbuf__u32(r);
	if (n > rbuf__left(r) / 16)
		return malformed(l, "epoll");
	for (uint32_t i = 0; i < n; i++) {
		uint32_t k = rbuf__u32(r);
		struct epoll_event ev = { .events = rbuf__u32(r) };
		ev.data.u64 = rbuf__u64(r);
		if (r->bad || k >= l->nfiles || l->files[k].host < 0 || &l->files[k] == ep)
			return malformed(l, "epoll");
		if (epoll_ctl(ep->host, EPOLL_CTL_ADD, l->files[k].host, &ev) < 0)
			return say(l->err, l->errlen, "snapshot: re-adding a file to an epoll: %s",
			           strerror(errno));
	}
	return rbuf__left(r) || r->bad ? malformed(l, "epoll") : 0;
}

static int load_file(struct loader *l, struct lfile *lf, struct rbuf *r)
{
	lf->kind = rbuf__u8(r);
	switch (lf->kind) {
	case FK_STDIO: return load_stdio(l, r);
	case FK_PATH: return load_path(l, r);
	case FK_DELETED: return load_deleted(l, r);
	case FK_DEVICE: return load_device(l, r);
	case FK_PIPE: return load_pipe(l, r);
	case FK_EVENTFD: return load_eventfd(l, r);
	case FK_TIMERFD: return load_timerfd(l, r);
	case FK_INET: return fdstate__load_inet(r, l->err, l->errlen);
	case FK_EPOLL: {
		int fd = epoll_create1(EPOLL_CLOEXEC);
		lf->rest = *r;
		r->off = r->len; /* read in pass 2 */
		return fd >= 0 ? fd
		               : say(l->err, l->errlen, "snapshot: epoll: %s", strerror(errno));
	}
	default: return malformed(l, "unknown kind");
	}
}

/* Pass 1: every file record. */
static int load_files(struct loader *l, struct rbuf *r)
{
	for (uint32_t i = 0; i < l->nfiles; i++) {
		size_t len;
		const void *p = rbuf__bytes(r, &len);
		if (r->bad)
			return malformed(l, "truncated");
		struct rbuf rec;
		rbuf__init(&rec, p, len);
		l->files[i].host = load_file(l, &l->files[i], &rec);
		if (l->files[i].host < 0)
			return -1;
		if (rec.bad || rbuf__left(&rec))
			return malformed(l, "a file record's length");
	}
	for (uint32_t i = 0; i < l->nfiles; i++)
		if (l->files[i].kind == FK_EPOLL && load_interest(l, &l->files[i]) < 0)
			return -1;
	return 0;
}

/* Pass 3: the guest fds, each file installed at its first fd and dup'ed to the others. */
static int load_fds(struct loader *l, struct fdtab *t, struct rbuf *r)
{
	uint32_t n = rbuf__u32(r);
	if (r->bad || n > rbuf__left(r) / 9)
		return malformed(l, "fd count");
	for (uint32_t i = 0; i < n; i++) {
		uint32_t gfd = rbuf__u32(r), k = rbuf__u32(r);
		int cloexec = rbuf__u8(r);
		if (r->bad || gfd >= (uint32_t)t->max || k >= l->nfiles || cloexec > 1 ||
		    fdtab__valid(t, (int)gfd))
			return malformed(l, "fd");
		struct lfile *lf = &l->files[k];
		int got;
		if (lf->installed < 0) {
			got = fdtab__install(t, lf->host, cloexec, (int)gfd);
			lf->host = -1; /* the table's now, or closed */
			if (got >= 0)
				lf->installed = got;
		} else {
			got = fdtab__dup(t, lf->installed, (int)gfd, 0, cloexec);
		}
		if (got != (int)gfd)
			return say(l->err, l->errlen, "snapshot: guest fd %u: %s", gfd,
			           got < 0 ? strerror(-got) : "not free");
	}
	for (uint32_t k = 0; k < l->nfiles; k++)
		if (l->files[k].installed < 0)
			return malformed(l, "a file no fd names");
	return 0;
}

static void unload(struct loader *l, struct fdtab *t)
{
	for (uint32_t i = 0; i < l->nfiles; i++)
		if (l->files[i].host >= 0)
			close(l->files[i].host);
	for (size_t i = 0; i < l->npipes; i++)
		if (l->pipes[i].other >= 0)
			close(l->pipes[i].other);
	struct hfile *f;
	int cloexec;
	for (int fd = fdtab__next(t, 0, &f, &cloexec); fd >= 0;
	     fd = fdtab__next(t, fd + 1, &f, &cloexec)) {
		fdtab__put(t, f);
		fdtab__close(t, fd);
	}
}

int fdstate__load(struct fdtab *t, const struct fdstate_ctx *ctx, struct rbuf *r, char *err,
                  size_t errlen)
{
	struct loader l = { .ctx = ctx, .err = err, .errlen = errlen };
	struct hfile *f;
	int cloexec;
	if (fdtab__next(t, 0, &f, &cloexec) >= 0) {
		fdtab__put(t, f);
		return say(err, errlen, "snapshot: the fd table to load into is not empty");
	}
	uint32_t version = rbuf__u32(r);
	uint64_t rdev = rbuf__u64(r), rino = rbuf__u64(r);
	l.nfiles = rbuf__u32(r);
	if (r->bad)
		return malformed(&l, "truncated");
	if (version != FDSTATE_VERSION)
		return say(err, errlen, "snapshot: fd table version %u, this hv reads version %u",
		           version, FDSTATE_VERSION);
	if (l.nfiles > MAX_FILES || l.nfiles > rbuf__left(r) / 9)
		return malformed(&l, "file count");
	struct stat root;
	l.same_root = fstat(ctx->root_fd, &root) == 0 && root.st_dev == rdev && root.st_ino == rino;
	l.files = calloc(l.nfiles ? l.nfiles : 1, sizeof(*l.files));
	l.pipes = calloc(l.nfiles ? l.nfiles : 1, sizeof(*l.pipes));
	if (!l.files || !l.pipes) {
		free(l.files);
		free(l.pipes);
		return say(err, errlen, "snapshot: out of memory");
	}
	for (uint32_t i = 0; i < l.nfiles; i++)
		l.files[i] = (struct lfile){ .host = -1, .installed = -1 };
	int rc = load_files(&l, r);
	if (rc == 0)
		rc = load_fds(&l, t, r);
	if (rc < 0)
		unload(&l, t);
	for (size_t i = 0; rc == 0 && i < l.npipes; i++)
		if (l.pipes[i].other >= 0)
			close(l.pipes[i].other); /* an end the table did not hold */
	free(l.files);
	free(l.pipes);
	return rc;
}

/* ---------------------------------------------------------------- detaching */

void fdstate__detach(struct fdtab *t)
{
	struct hfile *f;
	int cloexec;
	for (int fd = fdtab__next(t, 0, &f, &cloexec); fd >= 0;
	     fd = fdtab__next(t, fd + 1, &f, &cloexec)) {
		struct stat st;
		int domain = 0;
		socklen_t len = sizeof(domain);
		if (f->host >= 0 && fstat(f->host, &st) == 0 && S_ISSOCK(st.st_mode) &&
		    getsockopt(f->host, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
		    domain == AF_INET) {
			fdstate__tcp_quiet(f->host); /* not TCP: nothing to quieten */
			close(f->host);
			f->host = -1; /* the VM is paused: nobody else reads it */
		}
		fdtab__put(t, f);
	}
}

int fdstate__reset_pending(struct fdtab *t)
{
	struct hfile *f;
	int cloexec, n = 0;
	for (int fd = fdtab__next(t, 0, &f, &cloexec); fd >= 0;
	     fd = fdtab__next(t, fd + 1, &f, &cloexec)) {
		int listening = 0;
		socklen_t len = sizeof(listening);
		if (f->host >= 0 &&
		    getsockopt(f->host, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 &&
		    listening)
			n += fdstate__drain_listener(f->host);
		fdtab__put(t, f);
	}
	return n;
}
