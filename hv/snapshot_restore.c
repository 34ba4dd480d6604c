/* hv/snapshot_restore.c: a VM built from a snapshot file (snapshot.h): every check first (header,
 * state checksum, length, the VM's size, CPUID profile and address), then the fd table, guest RAM
 * mapped privately from the file, the host file mappings over it, the address-space bookkeeping,
 * and one vCPU per saved thread, ready for hv_vm_start(). */
#include "hv/snapshot.h"
#include "hv/clock.h"
#include "hv/fdstate.h"
#include "hv/mm.h"
#include "hv/path.h"
#include "hv/stats.h"
#include "hv/vm.h"
#include "hv/wire.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define TAG_PAGES 0x50475331
#define STATE_MAX (1ULL << 30)

struct loader {
	const char *path;
	int fd;
	struct snap_header h;
	uint8_t *state; /* the state section, in host memory */
	struct rbuf r;  /* reading it */
	struct snap_state s;
	struct snap_runs runs;
	int *code;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4))) static int refuse(struct loader *l, int code, const char *fmt,
                                                        ...)
{
	int n = snprintf(l->err, l->errlen, "%s: ", l->path);
	va_list ap;
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < l->errlen)
		vsnprintf(l->err + n, l->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	*l->code = code;
	return -1;
}

static int read_exact(int fd, void *p, size_t n, uint64_t off)
{
	uint8_t *b = p;
	while (n) {
		ssize_t got = pread(fd, b, n, (off_t)off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return -1;
		b += got, n -= (size_t)got, off += (uint64_t)got;
	}
	return 0;
}

/* Header, length and state checksum; the state decoded. Nothing is built yet. */
static int read_file(struct loader *l, const struct hv_config *cfg)
{
	l->fd = open(l->path, O_RDONLY | O_CLOEXEC);
	if (l->fd < 0)
		return refuse(l, HV_EXIT_NOINPUT, "%s", strerror(errno));
	uint8_t page[4096];
	struct stat st;
	if (fstat(l->fd, &st) < 0 || read_exact(l->fd, page, sizeof(page), 0) < 0)
		return refuse(l, HV_EXIT_BADSNAP, "not a vcons-hv snapshot (too short)");
	struct rbuf r;
	rbuf__init(&r, page, sizeof(page));
	int rc = snapshot__get_header(&r, &l->h);
	if (rc == -1)
		return refuse(l, HV_EXIT_BADSNAP, "not a vcons-hv snapshot");
	if (rc == -2)
		return refuse(l, HV_EXIT_BADSNAP, "damaged snapshot (header checksum)");
	const struct snap_header *h = &l->h;
	if (h->version != SNAPSHOT_VERSION)
		return refuse(l, HV_EXIT_BADSNAP,
		              "snapshot format version %u, this vcons-hv reads %d", h->version,
		              SNAPSHOT_VERSION);
	if (h->state_off != 4096 || h->state_len > STATE_MAX || h->image_off % 4096 ||
	    h->image_off < h->state_off + h->state_len || h->image_len != h->mem ||
	    (uint64_t)st.st_size != h->image_off + h->image_len)
		return refuse(l, HV_EXIT_BADSNAP,
		              "truncated or damaged snapshot (%lld bytes, the header says %llu)",
		              (long long)st.st_size,
		              (unsigned long long)h->image_off + h->image_len);
	uint64_t mem = (cfg->mem_bytes + (2ULL << 20) - 1) & ~((2ULL << 20) - 1);
	if (h->mem != mem)
		return refuse(l, HV_EXIT_CONFIG,
		              "the snapshot's VM has %llu MiB of memory, --mem says %llu MiB",
		              (unsigned long long)(h->mem >> 20), (unsigned long long)(mem >> 20));
	if (h->page_4k != (uint32_t)cfg->page_4k)
		return refuse(l, HV_EXIT_CONFIG, "the snapshot's VM used --page-size %s",
		              h->page_4k ? "4k" : "2m");
	l->state = malloc(h->state_len ? h->state_len : 1);
	if (!l->state)
		return refuse(l, HV_EXIT_OSERR, "out of memory");
	if (read_exact(l->fd, l->state, h->state_len, h->state_off) < 0)
		return refuse(l, HV_EXIT_BADSNAP, "truncated snapshot (state section)");
	uint8_t sha[32];
	snapshot__sha256(l->state, h->state_len, sha);
	if (memcmp(sha, h->state_sha, sizeof(sha)))
		return refuse(l, HV_EXIT_BADSNAP, "damaged snapshot (state checksum)");
	rbuf__init(&l->r, l->state, h->state_len);
	/* l->state is freed by snapshot__restore() whatever this returns; the call above, in
	 * another file, takes &l->r and makes the analyzer forget that l still holds it */
	// NOLINTNEXTLINE(clang-analyzer-unix.Malloc)
	char why[256];
	if (snapshot__get_state(&l->r, &l->s, h->mem, why, sizeof(why)) < 0)
		return refuse(l, HV_EXIT_BADSNAP, "%s", why);
	return 0;
}

static int read_runs(struct loader *l)
{
	struct rbuf *r = &l->r;
	if (rbuf__u32(r) != TAG_PAGES)
		rbuf__fail(r);
	uint64_t n = rbuf__u64(r);
	if (r->bad || n > rbuf__left(r) / 16)
		return refuse(l, HV_EXIT_BADSNAP, "malformed state section (pages)");
	l->runs.r = calloc(n ? n : 1, sizeof(*l->runs.r));
	if (!l->runs.r)
		return refuse(l, HV_EXIT_OSERR, "out of memory");
	l->runs.n = l->runs.cap = n;
	uint64_t prev = 0;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t a = rbuf__u64(r), b = rbuf__u64(r);
		if (r->bad || a < prev || a >= b || b > l->h.mem || a % 4096 || b % 4096)
			return refuse(l, HV_EXIT_BADSNAP, "malformed state section (pages)");
		l->runs.r[i][0] = a;
		l->runs.r[i][1] = b;
		prev = b;
	}
	return 0;
}

/* Hashes the saved pages as the VM now reads them (from the file, lazily mapped). */
static int verify_pages(struct loader *l, const struct vm *vm)
{
	const struct snap_runs *runs = &vm->ram_runs;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (size_t i = 0; i < runs->n; i++)
		EVP_DigestUpdate(md, vm->ram + runs->r[i][0], runs->r[i][1] - runs->r[i][0]);
	uint8_t sha[32];
	unsigned len = 32;
	EVP_DigestFinal_ex(md, sha, &len);
	EVP_MD_CTX_free(md);
	if (memcmp(sha, l->h.pages_sha, sizeof(sha)))
		return refuse(l, HV_EXIT_BADSNAP, "damaged snapshot (guest memory checksum)");
	return 0;
}

/* The saved pages inside [start, end) copied in from the file (a private file mapping's own
 * changes, over the file's pages). */
static int overlay_runs(struct loader *l, struct vm *vm, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < l->runs.n; i++) {
		uint64_t a = l->runs.r[i][0] > start ? l->runs.r[i][0] : start;
		uint64_t b = l->runs.r[i][1] < end ? l->runs.r[i][1] : end;
		if (a < b && read_exact(l->fd, vm->ram + a, b - a, l->h.image_off + a) < 0)
			return -1;
	}
	return 0;
}

/* Guest RAM from the image, then each host file mapping over it at its place. */
static int map_memory(struct loader *l, struct vm *vm)
{
	void *p = mmap(vm->ram, vm->mem, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, l->fd, (off_t)l->h.image_off);
	if (p == MAP_FAILED)
		return refuse(l, HV_EXIT_OSERR, "mapping guest memory: %s", strerror(errno));
	struct stat st;
	if (fstat(l->fd, &st) < 0)
		// cppcheck-suppress memleak ; p is vm->ram (MAP_FIXED), unmapped by hv_vm_destroy()
		return refuse(l, HV_EXIT_OSERR, "%s: %s", l->path, strerror(errno));
	vm->ram_file = 1;
	vm->ram_dev = st.st_dev, vm->ram_ino = st.st_ino;
	for (size_t i = 0; i < l->s.nmaps; i++) {
		const struct snap_map *m = &l->s.maps[i];
		int fd = path__open_str(vm, AT_FDCWD, m->path, m->writable ? O_RDWR : O_RDONLY, 0);
		if (fd < 0)
			return refuse(l, HV_EXIT_NOINPUT, "%s (mapped at %#llx): %s", m->path,
			              (unsigned long long)m->start, strerror(-fd));
		int prot = PROT_READ | (m->writable ? PROT_WRITE : 0);
		p = mmap(vm->ram + m->start, m->end - m->start, prot,
		         (m->shared ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED, fd, (off_t)m->offset);
		int e = errno;
		close(fd);
		if (p == MAP_FAILED)
			return refuse(l, HV_EXIT_OSERR, "mapping %s: %s", m->path, strerror(e));
		if (!m->shared && overlay_runs(l, vm, m->start, m->end) < 0)
			return refuse(l, HV_EXIT_BADSNAP, "truncated snapshot (guest memory)");
	}
	return 0;
}

void snapshot__load_fields(struct vm *vm, struct snap_state *s)
{
	vm->pid = s->pid;
	vm->next_tid = s->next_tid;
	vm->umask = s->umask;
	snprintf(vm->cwd, sizeof(vm->cwd), "%s", s->cwd);
	vm->clock_base_host_ns[0] = s->clock_base[0];
	vm->clock_base_host_ns[1] = s->clock_base[1];
	vm->clock_offset_ns = s->clock_offset;
	clock__continue(vm, s->guest_mono);
	atomic_store(&vm->pending, s->pending);
	memcpy(vm->sigactions, s->sigactions, sizeof(vm->sigactions));
	vm->exe_fd = s->exe[0] ? open(s->exe, O_RDONLY | O_CLOEXEC) : -1;
	mm__init(vm, 0);
	struct mm *m = &vm->mm;
	m->brk_start = s->mm.brk_start;
	m->brk = s->mm.brk;
	m->brk_max = s->mm.brk_max;
	m->mmap_lo = s->mm.mmap_lo;
	m->mmap_hi = s->mm.mmap_hi;
	m->stack_lo = s->mm.stack_lo;
	m->stack_hi = s->mm.stack_hi;
	m->regions = s->mm.regions; /* ownership moves to the VM */
	m->nregions = m->cap = s->mm.nregions;
	s->mm.regions = NULL;
	vm->restored = 1;
}

/* One vCPU per KVM id up to the highest saved (KVM hands ids out in order); the saved threads get
 * their state, the others wait in the pool as those of ended threads do. */
int snapshot__load_threads(struct vm *vm, const struct snap_state *st, char *err, size_t errlen)
{
	int top = 0;
	for (size_t i = 0; i < st->ncpus; i++)
		top = st->cpus[i].id + 1 > top ? st->cpus[i].id + 1 : top;
	for (int id = 0; id < top; id++) {
		struct vcpu *c = vcpu__create(vm, id, err, errlen);
		if (!c)
			return -1;
		vm->all[vm->ncreated++] = c;
		vm->pool[vm->npool++] = c;
	}
	vm->npool = 0;
	for (int id = top - 1; id >= 0; id--) {
		const struct snap_cpu *s = NULL;
		for (size_t i = 0; i < st->ncpus && !s; i++)
			s = st->cpus[i].id == id ? &st->cpus[i] : NULL;
		struct vcpu *c = vm->all[id];
		if (!s) {
			vm->pool[vm->npool++] = c;
			continue;
		}
		if (snapshot__load_vcpu(c, s) < 0) {
			snprintf(err, errlen, "thread %d: setting its CPU state: %s", s->tid,
			         strerror(errno));
			return -1;
		}
		vm->vcpus[id] = c;
		vm->nlive++;
	}
	vm->stats.vcpus_created = vm->ncreated;
	vm->stats.vcpus_peak = vm->nlive;
	return 0;
}

static struct vm *build(struct loader *l, const struct hv_config *cfg)
{
	struct vm *vm = vm__new(cfg, l->code, l->err, l->errlen);
	if (!vm)
		return NULL;
	uint8_t sha[32];
	snapshot__cpuid_sha(vm, sha);
	int rc = 0;
	if (memcmp(sha, l->h.cpuid_sha, sizeof(sha)))
		rc = refuse(l, HV_EXIT_CONFIG,
		            "the CPUID profile differs from the snapshot's (another host CPU or "
		            "--cpuid)");
	if (rc == 0 && vm__set_boundary(vm, 0, l->code, l->err, l->errlen) < 0)
		rc = -1;
	if (rc == 0 && vm->addr.s_addr != l->h.addr)
		rc = refuse(l, HV_EXIT_CONFIG,
		            "the snapshot's VM had another address than --net %s", cfg->net_addr);
	if (rc == 0) {
		struct fdstate_ctx ctx = { .root_fd = vm->root_fd, .root_path = vm->root_path };
		for (int i = 0; i < 3; i++)
			ctx.stdio_fds[i] = cfg->stdio_fds[i];
		char why[512];
		if (fdstate__load(&vm->fds, &ctx, &l->r, why, sizeof(why)) < 0)
			rc = refuse(l, HV_EXIT_BADSNAP, "%s", why);
	}
	if (rc == 0)
		rc = map_memory(l, vm);
	if (rc == 0) {
		snapshot__load_fields(vm, &l->s);
		vm->ram_runs = l->runs;
		l->runs = (struct snap_runs){ 0 };
		char why[256];
		if (snapshot__load_threads(vm, &l->s, why, sizeof(why)) < 0)
			rc = refuse(l, HV_EXIT_OSERR, "%s", why);
	}
	if (rc < 0) {
		hv_vm_destroy((struct hv_vm *)vm);
		return NULL;
	}
	vm->stats.kvm_vm = stats__kvm_open(vm->vm_fd);
	return vm;
}

struct vm *snapshot__restore(const struct hv_config *cfg, const char *path, int verify, int *code,
                             char *err, size_t errlen)
{
	uint64_t t0 = clock__host_ns(CLOCK_MONOTONIC); /* --stats' restore_to_first_run */
	struct loader l = { .path = path, .fd = -1, .code = code, .err = err, .errlen = errlen };
	struct vm *vm = NULL;
	if (read_file(&l, cfg) == 0 && read_runs(&l) == 0)
		vm = build(&l, cfg);
	if (vm && verify && verify_pages(&l, vm) < 0) {
		hv_vm_destroy((struct hv_vm *)vm);
		vm = NULL;
	}
	if (vm)
		vm->stats.restore_ns = t0;
	if (l.fd >= 0)
		close(l.fd); /* the mapping keeps the file */
	free(l.state);
	free(l.runs.r);
	snapshot__free_state(&l.s);
	return vm;
}
