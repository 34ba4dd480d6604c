/* hv/migrate.c: live migration, the source side (migrate.h): pre-copy rounds over KVM's dirty
 * log and hv's marks, the stop-and-copy, and going on here when the target fails. Also the
 * stream's framing, shared with migrate_in.c. */
#include "hv/migrate.h"
#include "hv/clock.h"
#include "hv/dirty.h"
#include "hv/fdstate.h"
#include "hv/mem.h"
#include "hv/snapshot.h"
#include "hv/vm.h"
#include "hv/wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_ROUNDS    30
#define BATCH_PAGES   256 /* pages per PAGES message at most */
#define ANSWER_WAIT_S 120 /* the target builds and starts the VM (slow in an emulated guest) */
#define SETTLE_TRIES  16  /* 5 ms apart, doubling up to 250: about 2.5 s */
#define RESET_AFTER   10  /* tries (about 1 s), then waiting connections are reset */

int migrate__parse_addr(const char *s, struct sockaddr_in *out)
{
	/* A.B.C.D:PORT, the port all digits (no sign or blank: "-4294967295" is not port 1) */
	char host[64];
	size_t hl = strspn(s, "0123456789.");
	if (hl == 0 || hl >= sizeof(host) || s[hl] != ':' || s[hl + 1] < '0' || s[hl + 1] > '9')
		return -1;
	char *end;
	errno = 0;
	unsigned long port = strtoul(s + hl + 1, &end, 10);
	if (errno || *end || port == 0 || port > 65535)
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	out->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &out->sin_addr) == 1 ? 0 : -1;
}

static int write_iov(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(fd, iov, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++, n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

int migrate__send(int fd, uint32_t type, const void *a, size_t alen, const void *b, size_t blen)
{
	struct wbuf h;
	wbuf__init(&h);
	wbuf__u32(&h, type);
	wbuf__u64(&h, alen + blen);
	if (h.oom)
		return -1;
	struct iovec iov[3] = { { h.p, h.len }, { (void *)a, alen }, { (void *)b, blen } };
	int rc = write_iov(fd, iov, 3);
	wbuf__free(&h);
	return rc;
}

int migrate__recv_exact(int fd, void *p, size_t n)
{
	uint8_t *b = p;
	while (n) {
		ssize_t r = recv(fd, b, n, MSG_WAITALL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EPIPE;
			return -1;
		}
		b += r, n -= (size_t)r;
	}
	return 0;
}

int migrate__answer(int fd, uint32_t status, const char *msg)
{
	struct wbuf w;
	wbuf__init(&w);
	wbuf__u32(&w, status);
	wbuf__str(&w, msg);
	struct iovec iov = { w.p, w.len };
	int rc = w.oom ? -1 : write_iov(fd, &iov, 1);
	wbuf__free(&w);
	return rc;
}

int migrate__read_answer(int fd, uint32_t *status, char *msg, size_t size)
{
	uint8_t h[12];
	if (migrate__recv_exact(fd, h, sizeof(h)) < 0)
		return -1;
	struct rbuf r;
	rbuf__init(&r, h, sizeof(h));
	*status = rbuf__u32(&r);
	uint64_t n = rbuf__u64(&r);
	char buf[512];
	if (n >= sizeof(buf)) {
		errno = EPROTO;
		return -1;
	}
	if (migrate__recv_exact(fd, buf, n) < 0)
		return -1;
	buf[n] = 0;
	snprintf(msg, size, "%s", buf);
	return 0;
}

/* ---- the source --------------------------------------------------------------------------- */

struct source {
	struct vm *vm;
	int fd;
	uint64_t *bitmap; /* pages to send */
	uint64_t words;
	uint64_t bytes, pages;
	int reset_pending; /* reset waiting connections at the pause (settle tries ran out) */
	int reset;         /* how many were */
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int fail(struct source *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->err, s->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static uint64_t count_bits(const uint64_t *b, uint64_t words)
{
	uint64_t n = 0;
	for (uint64_t i = 0; i < words; i++)
		n += (uint64_t)__builtin_popcountll(b[i]);
	return n;
}

/* Sends the pages the bitmap names (runs of up to BATCH_PAGES per message) and clears it. */
static int send_marked(struct source *s)
{
	const uint64_t npages = s->vm->mem / PAGE_SIZE_;
	for (uint64_t p = USER_BASE / PAGE_SIZE_; p < npages;) {
		if (!(s->bitmap[p / 64] >> (p % 64) & 1)) {
			p++;
			continue;
		}
		uint64_t first = p;
		while (p < npages && p - first < BATCH_PAGES && (s->bitmap[p / 64] >> (p % 64) & 1))
			s->bitmap[p / 64] &= ~(1ULL << (p % 64)), p++;
		uint64_t gpa = first * PAGE_SIZE_, len = (p - first) * PAGE_SIZE_;
		uint8_t head[8];
		for (int i = 0; i < 8; i++)
			head[i] = (uint8_t)(gpa >> (8 * i));
		if (migrate__send(s->fd, MIG_PAGES, head, sizeof(head), s->vm->ram + gpa, len) < 0)
			return fail(s, "sending guest memory: %s", strerror(errno));
		s->bytes += len + 8 + 12;
		s->pages += p - first;
	}
	return 0;
}

static int hello(struct source *s)
{
	struct wbuf w;
	wbuf__init(&w);
	wbuf__raw(&w, "VCONSMIG", 8);
	wbuf__u32(&w, MIGRATE_VERSION);
	wbuf__u64(&w, s->vm->mem);
	wbuf__u32(&w, (uint32_t)s->vm->cfg.page_4k);
	uint8_t sha[32];
	snapshot__cpuid_sha(s->vm, sha);
	wbuf__raw(&w, sha, sizeof(sha));
	wbuf__u32(&w, s->vm->addr.s_addr);
	int rc = w.oom ? -1 : migrate__send(s->fd, MIG_HELLO, w.p, w.len, NULL, 0);
	wbuf__free(&w);
	uint32_t status;
	char msg[512];
	if (rc < 0 || migrate__read_answer(s->fd, &status, msg, sizeof(msg)) < 0)
		return fail(s, "the target does not answer: %s", strerror(errno));
	return status ? fail(s, "the target refused the VM: %s", msg) : 0;
}

static int connect_to(struct source *s, const char *to)
{
	struct sockaddr_in a;
	if (migrate__parse_addr(to, &a) < 0)
		return fail(s, "\"%s\" is not A.B.C.D:PORT", to);
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = { .tv_sec = ANSWER_WAIT_S };
	if (s->fd < 0 || setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(s->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(s->fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return fail(s, "connecting to %s: %s", to, strerror(errno));
	return 0;
}

/* Marks every page that holds data, for the first round. */
static int mark_all(struct source *s)
{
	struct snap_state none = { 0 };
	struct snap_runs runs = { 0 };
	uint8_t sha[32];
	uint64_t n;
	if (snapshot__find_pages(s->vm, &none, &runs, sha, &n, s->err, s->errlen) < 0)
		return -1;
	for (size_t i = 0; i < runs.n; i++)
		for (uint64_t p = runs.r[i][0] / PAGE_SIZE_; p < runs.r[i][1] / PAGE_SIZE_; p++)
			s->bitmap[p / 64] |= 1ULL << (p % 64);
	free(runs.r);
	return 0;
}

/* Pre-copy rounds: what is marked, then what changed, until the rest fits the downtime. */
static int precopy(struct source *s, uint64_t downtime_ms, int *rounds)
{
	uint64_t prev = UINT64_MAX;
	for (int mine = 0; *rounds < MAX_ROUNDS; ++*rounds, mine++) {
		uint64_t t0 = clock__host_ns(CLOCK_MONOTONIC), b0 = s->bytes;
		if (send_marked(s) < 0)
			return -1;
		double ns = (double)(clock__host_ns(CLOCK_MONOTONIC) - t0);
		double rate = ns > 0 ? (double)(s->bytes - b0) / ns : 0; /* bytes per ns */
		if (dirty__collect(s->vm, s->bitmap) < 0)
			return fail(s, "reading the dirty log: %s", strerror(errno));
		uint64_t left = count_bits(s->bitmap, s->words);
		double need_ns = rate > 0 ? (double)(left * PAGE_SIZE_) / rate : 0;
		if (need_ns <= (double)downtime_ms * 1e6 ||
		    (mine >= 4 && left >= prev - prev / 20)) { /* no longer shrinking */
			++*rounds;
			break;
		}
		prev = left;
	}
	return 0;
}

/* After the switch-over failed: the fd table again from the record sent, here. */
static int take_back_fds(struct vm *vm, const uint8_t *rec, size_t len, char *err, size_t errlen)
{
	struct fdtab nt;
	if (fdtab__init(&nt, vm->fds.max) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	struct fdstate_ctx ctx = { .root_fd = vm->root_fd, .root_path = vm->root_path };
	for (int i = 0; i < 3; i++)
		ctx.stdio_fds[i] = vm->cfg.stdio_fds[i];
	struct rbuf r;
	rbuf__init(&r, rec, len);
	if (fdstate__load(&nt, &ctx, &r, err, errlen) < 0) {
		fdtab__free(&nt);
		return -1;
	}
	fdtab__swap(&vm->fds, &nt); /* the VM is paused: no thread uses either table */
	fdtab__free(&nt);
	return 0;
}

/* Stop-and-copy: the last pages and the state, then the target's word. */
static int switch_over(struct source *s, struct hv_migrate_info *info, uint64_t *down_ns)
{
	struct vm *vm = s->vm;
	uint64_t t0 = clock__host_ns(CLOCK_MONOTONIC);
	int pr = vm__pause(vm);
	if (pr < 0)
		return fail(s, "%s",
		            pr == -1 ? "the guest is exiting"
		                     : "a guest thread did not stop within 10 s");
	if (dirty__collect(vm, s->bitmap) < 0 || send_marked(s) < 0) {
		vm__resume(vm);
		return fail(s, "sending the last pages: %s", strerror(errno));
	}
	struct wbuf w;
	wbuf__init(&w);
	int rc = snapshot__put_state(&w, vm, s->err, s->errlen);
	size_t fd_at = w.len;
	struct fdstate_ctx ctx = { .root_fd = vm->root_fd,
		                   .root_path = vm->root_path,
		                   .reset = s->reset_pending ? &s->reset : NULL };
	for (int i = 0; i < 3; i++)
		ctx.stdio_fds[i] = vm->cfg.stdio_fds[i];
	int busy = 0;
	if (rc == 0 && fdstate__save(&vm->fds, &ctx, &w, s->err, s->errlen) < 0)
		rc = -1, busy = 1;
	if (rc == 0 && w.oom)
		rc = fail(s, "out of memory");
	if (rc < 0) { /* nothing let go of yet */
		wbuf__free(&w);
		vm__resume(vm);
		return busy ? -3 : -1;
	}
	fdstate__detach(&vm->fds); /* from here the target owns the connections */
	uint32_t status = 1;
	char msg[512] = "";
	if (migrate__send(s->fd, MIG_STATE, w.p, w.len, NULL, 0) < 0 ||
	    migrate__read_answer(s->fd, &status, msg, sizeof(msg)) < 0)
		snprintf(msg, sizeof(msg), "the target went away: %s", strerror(errno));
	if (status == 0) {
		*down_ns = clock__host_ns(CLOCK_MONOTONIC) - t0;
		info->bytes = s->bytes + w.len;
		wbuf__free(&w);
		return 0;
	}
	char why[512];
	int back = take_back_fds(vm, w.p + fd_at, w.len - fd_at, why, sizeof(why));
	wbuf__free(&w);
	if (back < 0) {
		fail(s, "%s; the VM's sockets could not be made again here: %s", msg, why);
		return -2;
	}
	vm__resume(vm);
	return fail(s, "%s; the VM goes on here", msg);
}

int migrate__run(struct vm *vm, const char *to, uint64_t downtime_ms, struct hv_migrate_info *info,
                 char *err, size_t errlen)
{
	struct source s = { .vm = vm, .fd = -1, .err = err, .errlen = errlen };
	memset(info, 0, sizeof(*info));
	uint64_t t0 = clock__host_ns(CLOCK_MONOTONIC), down = 0;
	s.words = dirty__words(vm);
	s.bitmap = calloc(s.words, sizeof(*s.bitmap));
	int rc = s.bitmap ? 0 : fail(&s, "out of memory");
	if (rc == 0)
		rc = connect_to(&s, to);
	if (rc == 0)
		rc = hello(&s);
	int tracking = 0;
	if (rc == 0) {
		int e = dirty__start(vm);
		tracking = e == 0;
		rc = e ? fail(&s, "cannot log dirty pages: %s", strerror(-e)) : 0;
	}
	if (rc == 0)
		rc = mark_all(&s);
	/* A fd table that cannot be saved as it is at the pause (a connection waiting to be
	 * accepted, one half closed) sends the VM on for another round; after about a second,
	 * waiting connections are reset at the pause. */
	for (int tries = 0; rc == 0 || (rc == -3 && tries < SETTLE_TRIES); tries++) {
		if (rc == -3) {
			long ms = tries < 6 ? 5L << tries : 250;
			struct timespec t = { 0, ms * 1000000L };
			nanosleep(&t, NULL);
		}
		s.reset_pending = tries >= RESET_AFTER;
		rc = precopy(&s, downtime_ms, &info->rounds);
		if (rc == 0)
			rc = switch_over(&s, info, &down);
		if (rc != -3)
			break;
	}
	if (rc == -3)
		rc = -1;
	if (rc == -1 && s.fd >= 0) /* the target learns why (it may be gone already) */
		(void)migrate__send(s.fd, MIG_ABORT, err, strlen(err), NULL, 0);
	if (tracking)
		dirty__stop(vm);
	if (s.fd >= 0)
		close(s.fd);
	free(s.bitmap);
	if (rc == 0) {
		info->total_ms = (double)(clock__host_ns(CLOCK_MONOTONIC) - t0) / 1e6;
		info->downtime_ms = (double)down / 1e6;
		info->pages = s.pages;
		info->reset_connections = s.reset;
	}
	return rc;
}

int hv_vm_migrate(struct hv_vm *hvm, const char *to, uint64_t downtime_ms,
                  struct hv_migrate_info *info, char *err, size_t errlen)
{
	return migrate__run((struct vm *)hvm, to, downtime_ms, info, err, errlen);
}
