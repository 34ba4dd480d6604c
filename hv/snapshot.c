/* hv/snapshot.c: the snapshot file (snapshot.h says its format): writing a paused VM's state and
 * touched memory to it atomically, and building a VM from it with its memory mapped lazily. */
#include "hv/snapshot.h"
#include "hv/cpuid.h"
#include "hv/clock.h"
#include "hv/fdstate.h"
#include "hv/mm.h"
#include "hv/path.h"
#include "hv/vm.h"
#include "hv/wire.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER_SIZE 4096
#define IMAGE_ALIGN (2ULL << 20) /* the image starts on a 2 MiB boundary of the file */
#define STATE_MAX   (1ULL << 30)
#define TAG_PAGES   0x50475331
static const char magic[8] = { 'V', 'C', 'O', 'N', 'S', 'N', 'A', 'P' };

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
                                                      ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

void snapshot__sha256(const void *p, size_t n, uint8_t out[32])
{
	unsigned len = 32;
	EVP_Digest(p, n, out, &len, EVP_sha256(), NULL);
}

void snapshot__cpuid_sha(const struct vm *vm, uint8_t out[32])
{
	/* cpuid.c leaves nothing of the CPU the table was read on in it: whole entries compare */
	snapshot__sha256(vm->cpuid->entries, vm->cpuid->nent * sizeof(vm->cpuid->entries[0]), out);
}

static void put_header(struct wbuf *w, const struct snap_header *h)
{
	wbuf__raw(w, magic, sizeof(magic));
	wbuf__u32(w, h->version);
	wbuf__u32(w, h->header_size);
	wbuf__u64(w, h->mem);
	wbuf__u32(w, h->page_4k);
	wbuf__u32(w, h->threads);
	wbuf__raw(w, h->cpuid_sha, 32);
	wbuf__u64(w, h->state_off);
	wbuf__u64(w, h->state_len);
	wbuf__raw(w, h->state_sha, 32);
	wbuf__u64(w, h->image_off);
	wbuf__u64(w, h->image_len);
	wbuf__u64(w, h->pages);
	wbuf__raw(w, h->pages_sha, 32);
	wbuf__u64(w, h->realtime_ns);
	wbuf__u32(w, h->addr);
	uint8_t sha[32];
	snapshot__sha256(w->p, w->len, sha);
	wbuf__raw(w, sha, sizeof(sha));
}

int snapshot__get_header(struct rbuf *r, struct snap_header *h)
{
	char m[8];
	rbuf__raw(r, m, sizeof(m));
	h->version = rbuf__u32(r);
	h->header_size = rbuf__u32(r);
	h->mem = rbuf__u64(r);
	h->page_4k = rbuf__u32(r);
	h->threads = rbuf__u32(r);
	rbuf__raw(r, h->cpuid_sha, 32);
	h->state_off = rbuf__u64(r);
	h->state_len = rbuf__u64(r);
	rbuf__raw(r, h->state_sha, 32);
	h->image_off = rbuf__u64(r);
	h->image_len = rbuf__u64(r);
	h->pages = rbuf__u64(r);
	rbuf__raw(r, h->pages_sha, 32);
	h->realtime_ns = rbuf__u64(r);
	h->addr = rbuf__u32(r);
	size_t covered = r->off;
	uint8_t sha[32], want[32];
	rbuf__raw(r, want, sizeof(want));
	if (r->bad || memcmp(m, magic, sizeof(m)))
		return -1;
	snapshot__sha256(r->p, covered, sha);
	return memcmp(sha, want, sizeof(sha)) ? -2 : 0;
}

/* ---- the touched pages ------------------------------------------------------------------ */

static int runs_add(struct snap_runs *s, uint64_t start, uint64_t end)
{
	if (s->n && s->r[s->n - 1][1] == start) {
		s->r[s->n - 1][1] = end;
		return 0;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		void *p = realloc(s->r, cap * sizeof(*s->r));
		if (!p)
			return -1;
		s->r = p;
		s->cap = cap;
	}
	s->r[s->n][0] = start;
	s->r[s->n][1] = end;
	s->n++;
	return 0;
}

static int page_is_zero(const uint8_t *p)
{
	const uint64_t *q = (const uint64_t *)p;
	uint64_t acc = 0;
	for (size_t i = 0; i < PAGE_SIZE_ / 8; i++)
		acc |= q[i];
	return acc == 0;
}

/* 1 when guest page `gpa` may hold data: the host has it (resident or swapped), or, in a VM
 * restored from a snapshot, the snapshot it was mapped from held it. */
static int page_has_data(const struct vm *vm, const uint64_t *pm, size_t i, uint64_t gpa)
{
	/* pm is allocated: without it rc = fail() is -1 and no page is looked at (the analyzer
	 * inlines no variadic call, so it takes fail()'s result for unknown) */
	// NOLINTNEXTLINE(clang-analyzer-core.NullDereference)
	if (pm[i] & (3ULL << 62)) /* present, swapped */
		return 1;
	const struct snap_runs *old = &vm->ram_runs;
	size_t lo = 0, hi = old->n; /* binary search over the old snapshot's runs */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (gpa >= old->r[mid][1])
			lo = mid + 1;
		else if (gpa < old->r[mid][0])
			hi = mid;
		else
			return 1;
	}
	return 0;
}

/* The pages to save: those with data, outside shared file mappings (their contents are the
 * file's), that do not read as zeroes. Hashes them in address order. */
int snapshot__find_pages(struct vm *vm, const struct snap_state *maps, struct snap_runs *out,
                         uint8_t sha[32], uint64_t *pages, char *err, size_t errlen)
{
	int pmfd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pmfd < 0)
		return fail(err, errlen, "/proc/self/pagemap: %s", strerror(errno));
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	enum { CHUNK = 4096 };
	uint64_t *pm = malloc(CHUNK * sizeof(*pm));
	int rc = pm ? 0 : fail(err, errlen, "out of memory");
	uint64_t first = (uint64_t)(uintptr_t)vm->ram / PAGE_SIZE_, npages = vm->mem / PAGE_SIZE_;
	*pages = 0;
	size_t m = 0;
	for (uint64_t base = USER_BASE / PAGE_SIZE_; rc == 0 && base < npages; base += CHUNK) {
		size_t n = npages - base < CHUNK ? (size_t)(npages - base) : CHUNK;
		ssize_t got = pread(pmfd, pm, n * 8, (off_t)((first + base) * 8));
		if (got != (ssize_t)(n * 8)) {
			rc = fail(err, errlen, "/proc/self/pagemap: short read");
			break;
		}
		for (size_t i = 0; i < n && rc == 0; i++) {
			uint64_t gpa = (base + i) * PAGE_SIZE_;
			while (m < maps->nmaps && maps->maps[m].end <= gpa)
				m++;
			if (m < maps->nmaps && maps->maps[m].shared && gpa >= maps->maps[m].start)
				continue;
			if (!page_has_data(vm, pm, i, gpa) || page_is_zero(vm->ram + gpa))
				continue;
			EVP_DigestUpdate(md, vm->ram + gpa, PAGE_SIZE_);
			(*pages)++;
			if (runs_add(out, gpa, gpa + PAGE_SIZE_) < 0)
				rc = fail(err, errlen, "out of memory");
		}
	}
	unsigned len = 32;
	EVP_DigestFinal_ex(md, sha, &len);
	EVP_MD_CTX_free(md);
	free(pm);
	close(pmfd);
	return rc;
}

/* ---- saving -------------------------------------------------------------------------------- */

static int write_all(int fd, const void *p, size_t n, uint64_t off)
{
	const uint8_t *b = p;
	while (n) {
		ssize_t w = pwrite(fd, b, n > (1u << 30) ? (1u << 30) : n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w, n -= (size_t)w, off += (uint64_t)w;
	}
	return 0;
}

static int sync_dir_of(const char *path)
{
	char copy[4096];
	snprintf(copy, sizeof(copy), "%s", path);
	int d = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d < 0)
		return -1;
	int rc = fsync(d);
	close(d);
	return rc;
}

static struct fdstate_ctx fd_ctx(const struct vm *vm, int *reset)
{
	struct fdstate_ctx c = { .root_fd = vm->root_fd,
		                 .root_path = vm->root_path,
		                 .reset = reset };
	for (int i = 0; i < 3; i++)
		c.stdio_fds[i] = vm->cfg.stdio_fds[i];
	return c;
}

/* The state section: snapshot_state.c's part, the saved page ranges, the fd table. */
static int build_state(struct vm *vm, struct wbuf *w, struct snap_runs *runs, struct snap_header *h,
                       int flags, int *reset, char *err, size_t errlen)
{
	/* The fd table first (it comes last in the stream), and for a stop the sockets let go of
	 * right after: data that reaches them once their queues are read would be acknowledged by
	 * this host and lost. A table that cannot be saved now is -2, before any other work. */
	struct fdstate_ctx ctx = fd_ctx(vm, flags & HV_SNAPSHOT_RESET_WAITING ? reset : NULL);
	struct wbuf fds;
	wbuf__init(&fds);
	if (fdstate__save(&vm->fds, &ctx, &fds, err, errlen) < 0) {
		wbuf__free(&fds);
		return -2;
	}
	if ((flags & HV_SNAPSHOT_STOP) && !fds.oom)
		fdstate__detach(&vm->fds);
	int rc = fds.oom ? fail(err, errlen, "out of memory") : 0;
	if (rc == 0)
		rc = snapshot__put_state(w, vm, err, errlen);
	struct rbuf r; /* the mappings just written, to leave shared ones out of the image */
	struct snap_state s = { 0 };
	if (rc == 0) {
		rbuf__init(&r, w->p, w->len);
		rc = w->oom ? fail(err, errlen, "out of memory")
		            : snapshot__get_state(&r, &s, vm->mem, err, errlen);
	}
	if (rc == 0)
		rc = snapshot__find_pages(vm, &s, runs, h->pages_sha, &h->pages, err, errlen);
	h->threads = (uint32_t)s.ncpus;
	snapshot__free_state(&s);
	if (rc == 0) {
		wbuf__u32(w, TAG_PAGES);
		wbuf__u64(w, runs->n);
		for (size_t i = 0; i < runs->n; i++) {
			wbuf__u64(w, runs->r[i][0]);
			wbuf__u64(w, runs->r[i][1]);
		}
		wbuf__raw(w, fds.p, fds.len);
		if (w->oom)
			rc = fail(err, errlen, "out of memory");
	}
	wbuf__free(&fds);
	return rc;
}

static int write_file(struct vm *vm, const char *tmp, struct wbuf *state,
                      const struct snap_runs *runs, struct snap_header *h, uint64_t *disk,
                      char *err, size_t errlen)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return fail(err, errlen, "%s: %s", tmp, strerror(errno));
	h->state_off = HEADER_SIZE;
	h->state_len = state->len;
	snapshot__sha256(state->p, state->len, h->state_sha);
	h->image_off = (HEADER_SIZE + state->len + IMAGE_ALIGN - 1) & ~(IMAGE_ALIGN - 1);
	h->image_len = vm->mem;
	struct wbuf hb;
	wbuf__init(&hb);
	put_header(&hb, h);
	int rc = hb.oom || hb.len > HEADER_SIZE ? -1 : 0;
	if (rc == 0)
		rc = write_all(fd, state->p, state->len, h->state_off);
	for (size_t i = 0; rc == 0 && i < runs->n; i++)
		rc = write_all(fd, vm->ram + runs->r[i][0], runs->r[i][1] - runs->r[i][0],
		               h->image_off + runs->r[i][0]);
	if (rc == 0)
		rc = ftruncate(fd, (off_t)(h->image_off + h->image_len));
	if (rc == 0) /* the header last: a file without it is no snapshot */
		rc = write_all(fd, hb.p, hb.len, 0);
	if (rc == 0)
		rc = fsync(fd);
	int e = errno;
	wbuf__free(&hb);
	struct stat st;
	*disk = rc == 0 && fstat(fd, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
	close(fd);
	if (rc < 0) {
		unlink(tmp);
		return fail(err, errlen, "%s: %s", tmp, strerror(e));
	}
	return 0;
}

int snapshot__save(struct vm *vm, const char *path, int flags, struct snapshot_info *info,
                   char *err, size_t errlen)
{
	uint64_t t0 = clock__host_ns(CLOCK_MONOTONIC);
	char tmp[4096 + 8];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return fail(err, errlen, "snapshot path too long");
	struct snap_header h = { .version = SNAPSHOT_VERSION,
		                 .header_size = HEADER_SIZE,
		                 .mem = vm->mem,
		                 .page_4k = (uint32_t)vm->cfg.page_4k,
		                 .addr = vm->addr.s_addr };
	snapshot__cpuid_sha(vm, h.cpuid_sha);
	h.realtime_ns = clock__host_ns(CLOCK_REALTIME);
	struct wbuf state;
	wbuf__init(&state);
	struct snap_runs runs = { 0 };
	int reset = 0;
	int rc = build_state(vm, &state, &runs, &h, flags, &reset, err, errlen);
	uint64_t disk = 0;
	if (rc == 0)
		rc = write_file(vm, tmp, &state, &runs, &h, &disk, err, errlen);
	if (rc == 0 && rename(tmp, path) < 0) {
		rc = fail(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
	}
	if (rc == 0)
		(void)sync_dir_of(path);
	if (rc == 0 && info) {
		info->file_bytes = disk;
		info->pages = h.pages;
		info->ns = clock__host_ns(CLOCK_MONOTONIC) - t0;
		info->reset = reset;
	}
	free(runs.r);
	wbuf__free(&state);
	return rc;
}

int hv_vm_snapshot(struct hv_vm *hvm, const char *path, int flags, struct hv_snapshot_info *info,
                   char *err, size_t errlen)
{
	struct vm *vm = (struct vm *)hvm;
	if (!atomic_load(&vm->pausing))
		return fail(err, errlen, "the VM is not paused");
	struct snapshot_info i = { 0 };
	int rc = snapshot__save(vm, path, flags, &i, err, errlen);

	if (rc == 0 && info)
		*info = (struct hv_snapshot_info){ .file_bytes = i.file_bytes,
			                           .pages = i.pages,
			                           .ns = i.ns,
			                           .reset_connections = i.reset };
	return rc;
}

struct hv_vm *hv_vm_restore(const struct hv_config *cfg, const char *path, int verify, int *code,
                            char *err, size_t errlen)
{
	return (struct hv_vm *)snapshot__restore(cfg, path, verify, code, err, errlen);
}
