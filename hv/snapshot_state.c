/* hv/snapshot_state.c: the state section of a snapshot (snapshot.h): the VM's own fields, its
 * address-space bookkeeping, the host file mappings over its RAM, and each guest thread (KVM's
 * registers, FPU/XSAVE state and XCR0, hv's per-thread fields). Encoding runs on a paused VM;
 * decoding fills a `struct snap_state` in host memory and checks it whole before anything of a
 * VM is built from it. */
#include "hv/snapshot.h"
#include "hv/clock.h"
#include "hv/mm.h"
#include "hv/vm.h"
#include "hv/wire.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

enum { TAG_VM = 0x564d3031, TAG_MM = 0x4d4d3031, TAG_MAPS = 0x4d505331, TAG_CPUS = 0x43505531 };

static void put_vm(struct wbuf *w, struct vm *vm)
{
	wbuf__u32(w, TAG_VM);
	wbuf__u64(w, (uint64_t)vm->pid);
	wbuf__u64(w, (uint64_t)vm->next_tid);
	wbuf__u32(w, vm->umask);
	wbuf__u32(w, vm->addr.s_addr);
	pthread_mutex_lock(&vm->cwd_lock);
	wbuf__str(w, vm->cwd);
	pthread_mutex_unlock(&vm->cwd_lock);
	char exe[4096] = "";
	char link[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", vm->exe_fd);
	ssize_t n = vm->exe_fd >= 0 ? readlink(link, exe, sizeof(exe) - 1) : -1;
	exe[n > 0 ? n : 0] = 0;
	wbuf__str(w, exe);
	wbuf__u64(w, vm->clock_base_host_ns[0]);
	wbuf__u64(w, vm->clock_base_host_ns[1]);
	wbuf__i64(w, vm->clock_offset_ns);
	wbuf__u64(w, clock__guest_now(vm, CLOCK_MONOTONIC)); /* where it goes on from */
	wbuf__u64(w, atomic_load(&vm->pending));
	for (int i = 0; i < 64; i++) {
		const struct ksigaction *a = &vm->sigactions[i];
		wbuf__u64(w, a->handler);
		wbuf__u64(w, a->flags);
		wbuf__u64(w, a->restorer);
		wbuf__u64(w, a->mask);
	}
}

static void put_mm(struct wbuf *w, struct vm *vm)
{
	struct mm *m = &vm->mm;
	wbuf__u32(w, TAG_MM);
	pthread_mutex_lock(&m->lock);
	const uint64_t f[] = { m->brk_start, m->brk,      m->brk_max, m->mmap_lo,
		               m->mmap_hi,   m->stack_lo, m->stack_hi };
	for (size_t i = 0; i < sizeof(f) / sizeof(*f); i++)
		wbuf__u64(w, f[i]);
	wbuf__u64(w, m->nregions);
	for (size_t i = 0; i < m->nregions; i++) {
		wbuf__u64(w, m->regions[i].start);
		wbuf__u64(w, m->regions[i].end);
		wbuf__u32(w, (uint32_t)m->regions[i].file);
	}
	pthread_mutex_unlock(&m->lock);
}

/* One number of a /proc/self/maps line at *s, in `base`, ended by a character of `ends` or by the
 * line's end; moves *s past that character. 0, or -1 when there is none or it does not fit. */
static int maps_num(char **s, int base, const char *ends, unsigned long long *out)
{
	char *end;
	if (!isxdigit((unsigned char)**s)) /* no blank or sign, which strtoull would take */
		return -1;
	errno = 0;
	unsigned long long v = strtoull(*s, &end, base);
	if (errno || end == *s || !strchr(ends, *end)) /* strchr finds the terminating '\0' too */
		return -1;
	*out = v;
	*s = *end ? end + 1 : end;
	return 0;
}

/* A line of /proc/self/maps, "START-END PERMS OFFSET MAJ:MIN INODE [PATH]": 0 with its fields
 * (*path into the line, its newline cut; "" for an anonymous mapping), or -1 when it is not one. */
static int maps_line(char *line, unsigned long long *start, unsigned long long *end, char perms[5],
                     unsigned long long *off, unsigned *maj, unsigned *min, unsigned long long *ino,
                     char **path)
{
	unsigned long long ma, mi;
	char *s = line;
	if (maps_num(&s, 16, "-", start) < 0 || maps_num(&s, 16, " ", end) < 0 ||
	    strcspn(s, " ") != 4 || s[4] != ' ')
		return -1;
	memcpy(perms, s, 4);
	perms[4] = '\0';
	s += 5;
	if (maps_num(&s, 16, " ", off) < 0 || maps_num(&s, 16, ":", &ma) < 0 ||
	    maps_num(&s, 16, " ", &mi) < 0 || ma > UINT_MAX || mi > UINT_MAX ||
	    maps_num(&s, 10, " \n", ino) < 0)
		return -1;
	*maj = (unsigned)ma, *min = (unsigned)mi;
	s += strspn(s, " ");
	s[strcspn(s, "\n")] = '\0';
	*path = s;
	return 0;
}

/* The host file mappings inside guest RAM, from /proc/self/maps: a file inside the VM's root
 * (its path relative to the root), the offset, shared or private, writable or not. */
static int put_maps(struct wbuf *w, struct vm *vm, char *err, size_t errlen)
{
	FILE *f = fopen("/proc/self/maps", "re");
	if (!f) {
		snprintf(err, errlen, "/proc/self/maps: %s", strerror(errno));
		return -1;
	}
	wbuf__u32(w, TAG_MAPS);
	size_t count_at = wbuf__reserve_u32(w);
	uint32_t n = 0;
	uint64_t lo = (uint64_t)(uintptr_t)vm->ram, hi = lo + vm->mem;
	size_t rootlen = strlen(vm->root_path);
	char line[4096 + 256];
	int rc = 0;
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		unsigned long long start, end, off, ino;
		unsigned maj, min;
		char perms[5], *path;
		if (maps_line(line, &start, &end, perms, &off, &maj, &min, &ino, &path) < 0)
			continue;
		if (start < lo || end > hi || path[0] != '/')
			continue; /* outside guest RAM, or anonymous */
		if (vm->ram_file && ino == vm->ram_ino && makedev(maj, min) == vm->ram_dev)
			continue; /* RAM from the snapshot this VM was restored from: saved as pages
			           */
		char *p = path;
		while (*p == ' ')
			p++;
		if (strncmp(p, vm->root_path, rootlen) != 0 || (p[rootlen] != '/' && p[rootlen]) ||
		    strstr(p, " (deleted)")) {
			snprintf(err, errlen,
			         "guest memory at %#llx maps %s, not a file inside the VM's root",
			         start - lo, p);
			rc = -1;
			break;
		}
		wbuf__u64(w, start - lo);
		wbuf__u64(w, end - lo);
		wbuf__u64(w, off);
		wbuf__u32(w, perms[3] == 's');
		wbuf__u32(w, perms[1] == 'w');
		wbuf__str(w, p[rootlen] ? p + rootlen : "/");
		n++;
	}
	(void)fclose(f);
	wbuf__patch_u32(w, count_at, n);
	return rc;
}

/* One thread: KVM's registers, segment and control registers, FPU/XSAVE state, XCR0; hv's fields.
 */
static int put_vcpu(struct wbuf *w, struct vcpu *c, char *err, size_t errlen)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xsave xs;
	struct kvm_fpu fpu;
	struct kvm_xcrs xcrs;
	int xsave = c->vm->xcr0 != 0;
	memset(&xcrs, 0, sizeof(xcrs));
	if (ioctl(c->fd, KVM_GET_REGS, &regs) < 0 || ioctl(c->fd, KVM_GET_SREGS, &sregs) < 0 ||
	    (xsave &&
	     (ioctl(c->fd, KVM_GET_XSAVE, &xs) < 0 || ioctl(c->fd, KVM_GET_XCRS, &xcrs) < 0)) ||
	    (!xsave && ioctl(c->fd, KVM_GET_FPU, &fpu) < 0)) {
		snprintf(err, errlen, "thread %d: reading its CPU state from KVM: %s", c->tid,
		         strerror(errno));
		return -1;
	}
	wbuf__u32(w, (uint32_t)c->id);
	wbuf__u32(w, (uint32_t)c->tid);
	wbuf__u64(w, c->clear_child_tid);
	wbuf__u64(w, c->robust_list);
	wbuf__u64(w, c->sigmask);
	wbuf__u64(w, c->pending);
	wbuf__u64(w, (uint64_t)(uintptr_t)c->altstack.ss_sp);
	wbuf__u64(w, (uint64_t)(int64_t)c->altstack.ss_flags);
	wbuf__u64(w, c->altstack.ss_size);
	wbuf__raw(w, c->comm, sizeof(c->comm));
	wbuf__bytes(w, &regs, sizeof(regs));
	wbuf__bytes(w, &sregs, sizeof(sregs));
	wbuf__u32(w, (uint32_t)xsave);
	if (xsave) {
		wbuf__bytes(w, &xs, sizeof(xs));
		wbuf__bytes(w, &xcrs, sizeof(xcrs));
	} else {
		wbuf__bytes(w, &fpu, sizeof(fpu));
	}
	return 0;
}

int snapshot__put_state(struct wbuf *w, struct vm *vm, char *err, size_t errlen)
{
	put_vm(w, vm);
	put_mm(w, vm);
	if (put_maps(w, vm, err, errlen) < 0)
		return -1;
	wbuf__u32(w, TAG_CPUS);
	pthread_mutex_lock(&vm->lock);
	wbuf__u32(w, (uint32_t)vm->nlive);
	int rc = 0;
	for (int i = 0; i < MAX_VCPUS && rc == 0; i++)
		if (vm->vcpus[i])
			rc = put_vcpu(w, vm->vcpus[i], err, errlen);
	pthread_mutex_unlock(&vm->lock);
	return rc;
}

static int bad(struct rbuf *r, char *err, size_t errlen, const char *what)
{
	rbuf__fail(r);
	snprintf(err, errlen, "malformed state section (%s)", what);
	return -1;
}

static int get_vm(struct rbuf *r, struct snap_state *s, char *err, size_t errlen)
{
	if (rbuf__u32(r) != TAG_VM)
		return bad(r, err, errlen, "vm");
	s->pid = (int)rbuf__u64(r);
	s->next_tid = (int)rbuf__u64(r);
	s->umask = rbuf__u32(r) & 0777;
	s->addr = rbuf__u32(r);
	rbuf__str(r, s->cwd, sizeof(s->cwd));
	rbuf__str(r, s->exe, sizeof(s->exe));
	s->clock_base[0] = rbuf__u64(r);
	s->clock_base[1] = rbuf__u64(r);
	s->clock_offset = rbuf__i64(r);
	s->guest_mono = rbuf__u64(r);
	s->pending = rbuf__u64(r);
	for (int i = 0; i < 64; i++) {
		s->sigactions[i].handler = rbuf__u64(r);
		s->sigactions[i].flags = rbuf__u64(r);
		s->sigactions[i].restorer = rbuf__u64(r);
		s->sigactions[i].mask = rbuf__u64(r);
	}
	if (r->bad || s->cwd[0] != '/' || s->pid <= 0 || s->next_tid < s->pid)
		return bad(r, err, errlen, "vm");
	return 0;
}

/* Every range inside guest RAM's user part, page-aligned and not empty. */
static int user_range(uint64_t mem, uint64_t start, uint64_t end)
{
	return start >= USER_BASE && start < end && end <= mem && !(start % PAGE_SIZE_) &&
	       !(end % PAGE_SIZE_);
}

static int get_mm(struct rbuf *r, struct snap_state *s, uint64_t mem, char *err, size_t errlen)
{
	if (rbuf__u32(r) != TAG_MM)
		return bad(r, err, errlen, "mm");
	struct mm *m = &s->mm;
	m->brk_start = rbuf__u64(r);
	m->brk = rbuf__u64(r);
	m->brk_max = rbuf__u64(r);
	m->mmap_lo = rbuf__u64(r);
	m->mmap_hi = rbuf__u64(r);
	m->stack_lo = rbuf__u64(r);
	m->stack_hi = rbuf__u64(r);
	uint64_t n = rbuf__u64(r);
	if (r->bad || n > rbuf__left(r) / 20 || m->stack_hi > mem || m->brk > mem ||
	    m->brk_start > m->brk)
		return bad(r, err, errlen, "mm");
	m->regions = calloc(n ? n : 1, sizeof(*m->regions));
	if (!m->regions)
		return bad(r, err, errlen, "out of memory");
	m->nregions = m->cap = n;
	for (uint64_t i = 0; i < n; i++) {
		struct mm_region *g = &m->regions[i];
		g->start = rbuf__u64(r);
		g->end = rbuf__u64(r);
		g->file = (int)rbuf__u32(r);
		if (!user_range(mem, g->start, g->end) || (i && g->start < m->regions[i - 1].end))
			return bad(r, err, errlen, "mm region");
	}
	return r->bad ? bad(r, err, errlen, "mm") : 0;
}

static int get_maps(struct rbuf *r, struct snap_state *s, uint64_t mem, char *err, size_t errlen)
{
	if (rbuf__u32(r) != TAG_MAPS)
		return bad(r, err, errlen, "maps");
	uint32_t n = rbuf__u32(r);
	if (r->bad || n > rbuf__left(r) / 40)
		return bad(r, err, errlen, "maps");
	s->maps = calloc(n ? n : 1, sizeof(*s->maps));
	if (!s->maps)
		return bad(r, err, errlen, "out of memory");
	s->nmaps = n;
	for (uint32_t i = 0; i < n; i++) {
		struct snap_map *m = &s->maps[i];
		m->start = rbuf__u64(r);
		m->end = rbuf__u64(r);
		m->offset = rbuf__u64(r);
		m->shared = (int)rbuf__u32(r);
		m->writable = (int)rbuf__u32(r);
		rbuf__str(r, m->path, sizeof(m->path));
		if (r->bad || !user_range(mem, m->start, m->end) || m->offset % PAGE_SIZE_ ||
		    m->path[0] != '/')
			return bad(r, err, errlen, "file mapping");
	}
	return 0;
}

/* A raw KVM structure: exactly its size. */
static void get_raw(struct rbuf *r, void *dst, size_t size)
{
	size_t n;
	const void *p = rbuf__bytes(r, &n);
	if (!p || n != size) {
		rbuf__fail(r);
		memset(dst, 0, size);
		return;
	}
	memcpy(dst, p, size);
}

static int get_cpus(struct rbuf *r, struct snap_state *s, char *err, size_t errlen)
{
	if (rbuf__u32(r) != TAG_CPUS)
		return bad(r, err, errlen, "threads");
	uint32_t n = rbuf__u32(r);
	if (r->bad || n == 0 || n > MAX_VCPUS)
		return bad(r, err, errlen, "thread count");
	s->cpus = calloc(n, sizeof(*s->cpus));
	if (!s->cpus)
		return bad(r, err, errlen, "out of memory");
	s->ncpus = n;
	uint64_t seen[MAX_VCPUS / 64] = { 0 };
	for (uint32_t i = 0; i < n; i++) {
		struct snap_cpu *c = &s->cpus[i];
		c->id = (int)rbuf__u32(r);
		c->tid = (int)rbuf__u32(r);
		c->clear_child_tid = rbuf__u64(r);
		c->robust_list = rbuf__u64(r);
		c->sigmask = rbuf__u64(r);
		c->pending = rbuf__u64(r);
		c->altstack.ss_sp = (void *)(uintptr_t)rbuf__u64(r);
		c->altstack.ss_flags = (int)(int64_t)rbuf__u64(r);
		c->altstack.ss_size = rbuf__u64(r);
		rbuf__raw(r, c->comm, sizeof(c->comm));
		c->comm[sizeof(c->comm) - 1] = 0;
		get_raw(r, &c->regs, sizeof(c->regs));
		get_raw(r, &c->sregs, sizeof(c->sregs));
		c->xsave = (int)rbuf__u32(r);
		if (c->xsave) {
			get_raw(r, &c->xs, sizeof(c->xs));
			get_raw(r, &c->xcrs, sizeof(c->xcrs));
		} else {
			get_raw(r, &c->fpu, sizeof(c->fpu));
		}
		if (r->bad || c->id < 0 || c->id >= MAX_VCPUS ||
		    (seen[c->id / 64] >> (c->id % 64)) & 1 || c->tid < s->pid ||
		    c->tid >= s->next_tid || c->xcrs.nr_xcrs > KVM_MAX_XCRS)
			return bad(r, err, errlen, "thread");
		seen[c->id / 64] |= 1ULL << (c->id % 64);
	}
	return 0;
}

int snapshot__get_state(struct rbuf *r, struct snap_state *s, uint64_t mem, char *err,
                        size_t errlen)
{
	if (get_vm(r, s, err, errlen) < 0 || get_mm(r, s, mem, err, errlen) < 0 ||
	    get_maps(r, s, mem, err, errlen) < 0 || get_cpus(r, s, err, errlen) < 0)
		return -1;
	return 0;
}

void snapshot__free_state(struct snap_state *s)
{
	free(s->mm.regions);
	free(s->maps);
	free(s->cpus);
	memset(s, 0, sizeof(*s));
}

/* Puts a saved thread's state into vCPU `c` (created with the same KVM id). */
int snapshot__load_vcpu(struct vcpu *c, const struct snap_cpu *s)
{
	if (ioctl(c->fd, KVM_SET_SREGS, &s->sregs) < 0 || ioctl(c->fd, KVM_SET_REGS, &s->regs) < 0)
		return -1;
	if (s->xsave &&
	    (ioctl(c->fd, KVM_SET_XCRS, &s->xcrs) < 0 || ioctl(c->fd, KVM_SET_XSAVE, &s->xs) < 0))
		return -1;
	if (!s->xsave && ioctl(c->fd, KVM_SET_FPU, &s->fpu) < 0)
		return -1;
	c->run->kvm_dirty_regs = 0;
	c->run->immediate_exit = 0;
	c->tid = s->tid;
	c->clear_child_tid = s->clear_child_tid;
	c->robust_list = s->robust_list;
	c->sigmask = s->sigmask;
	c->pending = s->pending;
	c->altstack = s->altstack;
	memcpy(c->comm, s->comm, sizeof(c->comm));
	c->exit_code = 0;
	c->done = 0;
	c->trail.n = 0;
	return 0;
}
