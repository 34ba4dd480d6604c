/* hv/migrate_in.c: live migration, the target side (migrate.h): listens, checks the VM that is
 * offered against its own options, takes guest pages into RAM, and builds the VM from the state
 * section; the source learns from hv_vm_incoming_done() whether it runs here. */
#include "hv/fdstate.h"
#include "hv/migrate.h"
#include "hv/path.h"
#include "hv/snapshot.h"
#include "hv/stats.h"
#include "hv/vm.h"
#include "hv/wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define STATE_MAX (1ULL << 30)

struct migrate_in {
	int fd; /* the connection from the source */
};

struct target {
	struct vm *vm;
	int fd;
	uint64_t *got; /* pages received, one bit each */
	int *code;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4))) static int fail(struct target *t, int code, const char *fmt,
                                                      ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->err, t->errlen, fmt, ap);
	va_end(ap);
	*t->code = code;
	return -1;
}

static int accept_one(struct target *t, const char *addr)
{
	struct sockaddr_in a;
	if (migrate__parse_addr(addr, &a) < 0)
		return fail(t, HV_EXIT_USAGE, "--incoming %s: not A.B.C.D:PORT", addr);
	int one = 1, l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0) {
		int e = errno;
		if (l >= 0)
			close(l);
		return fail(t, HV_EXIT_OSERR, "--incoming %s: %s", addr, strerror(e));
	}
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	t->fd = accept4(l, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
	int e = errno;
	close(l);
	if (t->fd < 0)
		return fail(t, HV_EXIT_OSERR, "--incoming %s: accept: %s", addr, strerror(e));
	return 0;
}

static int read_header(struct target *t, uint32_t *type, uint64_t *len)
{
	uint8_t h[12];
	if (migrate__recv_exact(t->fd, h, sizeof(h)) < 0)
		return fail(t, HV_EXIT_BADSNAP, "the source went away mid-stream: %s",
		            strerror(errno));
	struct rbuf r;
	rbuf__init(&r, h, sizeof(h));
	*type = rbuf__u32(&r);
	*len = rbuf__u64(&r);
	return 0;
}

/* HELLO: the VM offered must be one these options can hold. */
static int check_hello(struct target *t)
{
	uint32_t type;
	uint64_t len;
	uint8_t b[8 + 4 + 8 + 4 + 32 + 4];
	if (read_header(t, &type, &len) < 0)
		return -1;
	/* read_header() set type: fail() returns -1 (the analyzer inlines no variadic call) */
	// NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult)
	if (type != MIG_HELLO || len != sizeof(b) || migrate__recv_exact(t->fd, b, sizeof(b)) < 0 ||
	    memcmp(b, "VCONSMIG", 8))
		return fail(t, HV_EXIT_BADSNAP, "not a vcons-hv migration stream");
	struct rbuf r;
	rbuf__init(&r, b + 8, sizeof(b) - 8);
	uint32_t version = rbuf__u32(&r);
	uint64_t mem = rbuf__u64(&r);
	uint32_t page_4k = rbuf__u32(&r);
	uint8_t sha[32], mine[32];
	rbuf__raw(&r, sha, sizeof(sha));
	uint32_t addr = rbuf__u32(&r);
	snapshot__cpuid_sha(t->vm, mine);
	char why[256] = "";
	if (version != MIGRATE_VERSION)
		snprintf(why, sizeof(why), "migration stream version %u, this vcons-hv speaks %d",
		         version, MIGRATE_VERSION);
	else if (mem != t->vm->mem)
		snprintf(why, sizeof(why),
		         "the VM has %llu MiB of memory, --mem here says %llu MiB",
		         (unsigned long long)(mem >> 20), (unsigned long long)(t->vm->mem >> 20));
	else if (page_4k != (uint32_t)t->vm->cfg.page_4k)
		snprintf(why, sizeof(why), "the VM uses --page-size %s", page_4k ? "4k" : "2m");
	else if (memcmp(sha, mine, sizeof(sha)))
		snprintf(why, sizeof(why),
		         "the CPUID profile differs (another host CPU or --cpuid)");
	else if (addr != t->vm->addr.s_addr)
		snprintf(why, sizeof(why), "the VM has another address than --net here");
	(void)migrate__answer(t->fd, why[0] ? 1 : 0, why);
	return why[0] ? fail(t, HV_EXIT_CONFIG, "refused the incoming VM: %s", why) : 0;
}

static int take_pages(struct target *t, uint64_t len)
{
	uint8_t h[8];
	if (len < 8 + PAGE_SIZE_ || (len - 8) % PAGE_SIZE_ || migrate__recv_exact(t->fd, h, 8) < 0)
		return fail(t, HV_EXIT_BADSNAP, "malformed guest pages in the stream");
	struct rbuf r;
	rbuf__init(&r, h, sizeof(h));
	uint64_t gpa = rbuf__u64(&r), n = len - 8;
	if (gpa % PAGE_SIZE_ || gpa < USER_BASE || gpa > t->vm->mem || n > t->vm->mem - gpa)
		return fail(t, HV_EXIT_BADSNAP,
		            "guest pages outside the VM's memory in the stream");
	if (migrate__recv_exact(t->fd, t->vm->ram + gpa, n) < 0)
		return fail(t, HV_EXIT_BADSNAP, "the source went away mid-stream: %s",
		            strerror(errno));
	for (uint64_t p = gpa / PAGE_SIZE_; p < (gpa + n) / PAGE_SIZE_; p++)
		t->got[p / 64] |= 1ULL << (p % 64);
	return 0;
}

/* The host file mappings over RAM; a private one keeps the pages the source sent on top of the
 * file's (the guest's own changes to it). */
static int map_files(struct target *t, const struct snap_state *s)
{
	struct vm *vm = t->vm;
	for (size_t i = 0; i < s->nmaps; i++) {
		const struct snap_map *m = &s->maps[i];
		uint64_t len = m->end - m->start;
		uint8_t *keep = m->shared ? NULL : malloc(len);
		if (!m->shared && !keep)
			return fail(t, HV_EXIT_OSERR, "out of memory");
		if (keep)
			memcpy(keep, vm->ram + m->start, len);
		int fd = path__open_str(vm, AT_FDCWD, m->path, m->writable ? O_RDWR : O_RDONLY, 0);
		void *p = fd < 0 ? MAP_FAILED
		                 : mmap(vm->ram + m->start, len,
		                        PROT_READ | (m->writable ? PROT_WRITE : 0),
		                        (m->shared ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED, fd,
		                        (off_t)m->offset);
		int e = fd < 0 ? -fd : errno;
		if (fd >= 0)
			close(fd);
		for (uint64_t a = m->start; keep && p != MAP_FAILED && a < m->end;
		     a += PAGE_SIZE_) {
			uint64_t pg = a / PAGE_SIZE_;
			if (t->got[pg / 64] >> (pg % 64) & 1)
				memcpy(vm->ram + a, keep + (a - m->start), PAGE_SIZE_);
		}
		free(keep);
		if (p == MAP_FAILED)
			return fail(t, HV_EXIT_NOINPUT, "%s (mapped at %#llx): %s", m->path,
			            (unsigned long long)m->start, strerror(e));
	}
	return 0;
}

/* STATE: the VM's fields, its fd table, its file mappings and threads. */
static int take_state(struct target *t, uint64_t len)
{
	if (len > STATE_MAX)
		return fail(t, HV_EXIT_BADSNAP, "malformed state in the stream");
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf)
		return fail(t, HV_EXIT_OSERR, "out of memory");
	struct snap_state s = { 0 };
	struct rbuf r;
	char why[512];
	int rc = 0;
	if (migrate__recv_exact(t->fd, buf, len) < 0)
		rc = fail(t, HV_EXIT_BADSNAP, "the source went away mid-stream: %s",
		          strerror(errno));
	rbuf__init(&r, buf, rc == 0 ? len : 0);
	if (rc == 0 && snapshot__get_state(&r, &s, t->vm->mem, why, sizeof(why)) < 0)
		rc = fail(t, HV_EXIT_BADSNAP, "%s", why);
	struct fdstate_ctx ctx = { .root_fd = t->vm->root_fd, .root_path = t->vm->root_path };
	for (int i = 0; i < 3; i++)
		ctx.stdio_fds[i] = t->vm->cfg.stdio_fds[i];
	if (rc == 0 && fdstate__load(&t->vm->fds, &ctx, &r, why, sizeof(why)) < 0)
		rc = fail(t, HV_EXIT_BADSNAP, "%s", why);
	if (rc == 0)
		rc = map_files(t, &s);
	if (rc == 0) {
		snapshot__load_fields(t->vm, &s);
		if (snapshot__load_threads(t->vm, &s, why, sizeof(why)) < 0)
			rc = fail(t, HV_EXIT_OSERR, "%s", why);
	}
	snapshot__free_state(&s);
	free(buf);
	return rc;
}

static int receive(struct target *t)
{
	for (;;) {
		uint32_t type;
		uint64_t len;
		if (read_header(t, &type, &len) < 0)
			return -1;
		/* read_header() set type: fail() returns -1 (no variadic call is inlined) */
		// NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult)
		if (type == MIG_PAGES && take_pages(t, len) < 0)
			return -1;
		if (type == MIG_STATE)
			return take_state(t, len);
		if (type == MIG_ABORT) {
			char why[512] = "";
			if (len < sizeof(why))
				(void)migrate__recv_exact(t->fd, why, len);
			return fail(t, HV_EXIT_BADSNAP, "the source gave up: %s", why);
		}
		if (type != MIG_PAGES)
			return fail(t, HV_EXIT_BADSNAP, "unknown message %u in the stream", type);
	}
}

struct vm *migrate__incoming(const struct hv_config *cfg, const char *addr, struct migrate_in **in,
                             int *code, char *err, size_t errlen)
{
	struct target t = { .fd = -1, .code = code, .err = err, .errlen = errlen };
	struct sockaddr_in a;
	if (migrate__parse_addr(addr, &a) < 0) {
		fail(&t, HV_EXIT_USAGE, "--incoming %s: not A.B.C.D:PORT", addr);
		return NULL;
	}
	t.vm = vm__new(cfg, code, err, errlen);
	if (!t.vm)
		return NULL;
	int rc = vm__set_boundary(t.vm, 0, code, err, errlen);
	t.got = rc == 0 ? calloc((t.vm->mem / PAGE_SIZE_ + 63) / 64, sizeof(*t.got)) : NULL;
	if (rc == 0 && !t.got)
		rc = fail(&t, HV_EXIT_OSERR, "out of memory");
	if (rc == 0)
		rc = accept_one(&t, addr);
	if (rc == 0)
		rc = check_hello(&t);
	if (rc == 0)
		rc = receive(&t);
	free(t.got);
	*in = rc == 0 ? malloc(sizeof(**in)) : NULL;
	if (rc == 0 && !*in)
		rc = fail(&t, HV_EXIT_OSERR, "out of memory");
	if (rc < 0) {
		if (t.fd >= 0) {
			(void)migrate__answer(t.fd, 1, err);
			close(t.fd);
		}
		hv_vm_destroy((struct hv_vm *)t.vm);
		return NULL;
	}
	/* rc is 0 only with *in allocated: fail() returns -1 (no variadic call is inlined) */
	// NOLINTNEXTLINE(clang-analyzer-core.NullDereference)
	(*in)->fd = t.fd;
	t.vm->stats.kvm_vm = stats__kvm_open(t.vm->vm_fd);
	return t.vm;
}

struct hv_vm *hv_vm_incoming(const struct hv_config *cfg, const char *addr, struct hv_incoming **in,
                             int *code, char *err, size_t errlen)
{
	return (struct hv_vm *)migrate__incoming(cfg, addr, (struct migrate_in **)in, code, err,
	                                         errlen);
}

void hv_vm_incoming_done(struct hv_incoming *hin, int ok, const char *msg)
{
	struct migrate_in *in = (struct migrate_in *)hin;
	if (!in)
		return;
	(void)migrate__answer(in->fd, ok ? 0 : 1, msg);
	close(in->fd);
	free(in);
}
