/* hv/snapshot.h: a VM's whole state in one file, and a VM built again from it (internal to hv/;
 * hv.h's hv_vm_snapshot() and hv_vm_restore() are the interface).
 *
 * File format, version 1 (all integers little-endian, hv/wire.h's encoding):
 *   [0, 4096)        header: "VCONSNAP", u32 version, u32 header size (4096), u64 guest RAM bytes,
 *                    u32 page_4k, u32 threads, 32-byte SHA-256 of the CPUID profile's entries,
 *                    u64 state offset, u64 state length, 32-byte SHA-256 of the state section,
 *                    u64 image offset, u64 image length (= RAM bytes), u64 pages saved,
 *                    32-byte SHA-256 of the saved pages (in address order), u64 REALTIME ns at
 *                    the snapshot, u32 the VM's address; then 32-byte SHA-256 of the header's
 *                    bytes before it
 *   [4096, ...)      the state section: "VM01" (pid, next tid, umask, address, cwd, program,
 *                    clock bases, MONOTONIC's offset and reading, pending signals, 64 signal
 * actions), "MM01" (brk, mmap area, stack, regions), "MPS1" (host file mappings over guest RAM:
 * range, file offset, shared, writable, path inside the root), "CPU1" (each thread: KVM id, tid,
 * hv's fields, kvm_regs, kvm_sregs, kvm_xsave + kvm_xcrs or kvm_fpu), the saved page ranges, then
 * the file-descriptor table (fdstate.h) [image offset, +RAM bytes)  guest RAM as an image of its
 * guest-physical addresses: a page the guest never touched (or that reads as zeroes) is a hole of
 * the sparse file, so the file holds only touched memory The file is written as PATH.tmp, synced
 * and renamed: a crash leaves the old file or none.
 *
 * Restoring maps the image privately over guest RAM (pages come in from the file as the guest
 * touches them: the first instruction runs after reading only the header and state), so the
 * file must not be rewritten in place while a VM restored from it runs (hv never does: it
 * writes a new file and renames it). Before anything is built the header, the state's SHA-256
 * and the file's length are checked, and the snapshot must match the VM being built: version,
 * RAM size, page size, CPUID profile, address; the fd table's files must be unchanged
 * (fdstate.h). The saved pages' SHA-256 is checked only when asked (it reads all of them). */
#ifndef HV_SNAPSHOT_H
#define HV_SNAPSHOT_H
#include "hv/vm.h"

#include <stddef.h>
#include <stdint.h>

#define SNAPSHOT_VERSION 1

struct wbuf;
struct rbuf;

struct snap_map { /* a host file mapping over guest RAM */
	uint64_t start, end, offset;
	int shared, writable;
	char path[4096]; /* inside the VM's root, absolute */
};

struct snap_cpu {
	int id, tid;
	uint64_t clear_child_tid, robust_list, sigmask, pending;
	stack_t altstack;
	char comm[16];
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	int xsave;
	struct kvm_xsave xs;
	struct kvm_xcrs xcrs;
	struct kvm_fpu fpu;
};

struct snap_header { /* the file's first page, decoded */
	uint32_t version, header_size;
	uint64_t mem;
	uint32_t page_4k, threads;
	uint8_t cpuid_sha[32];
	uint64_t state_off, state_len;
	uint8_t state_sha[32];
	uint64_t image_off, image_len, pages;
	uint8_t pages_sha[32];
	uint64_t realtime_ns;
	uint32_t addr;
};

/* The state section, decoded and checked. */
struct snap_state {
	int pid, next_tid;
	uint32_t umask, addr;
	char cwd[4096], exe[4096];
	uint64_t clock_base[2], pending;
	int64_t clock_offset; /* clock.h: clock__continue */
	uint64_t guest_mono;  /* the guest's MONOTONIC when it was saved */
	struct ksigaction sigactions[64];
	struct mm mm; /* bookkeeping only: no lock, regions owned here */
	struct snap_map *maps;
	size_t nmaps;
	struct snap_cpu *cpus;
	size_t ncpus;
};

struct snapshot_info {
	uint64_t file_bytes; /* bytes the file holds on disk (its holes excluded) */
	uint64_t pages;      /* guest pages saved */
	uint64_t ns;         /* time to write it, the VM paused */
	int reset;           /* waiting connections reset (HV_SNAPSHOT_RESET_WAITING) */
};

/* Writes a paused VM's state to `path` (atomically). `flags` as hv_vm_snapshot's. With STOP, the
 * VM's sockets are let go of
 * (fdstate__detach) as soon as the fd table is read: the VM cannot go on afterwards, even when
 * writing the file then fails. 0; -1 with one line in err; -2 when the fd table cannot be saved
 * as it is now (a connection waiting to be accepted, one half closed: fdstate.h), before
 * anything was done: resume the VM a moment and try again. */
int snapshot__save(struct vm *vm, const char *path, int flags, struct snapshot_info *info,
                   char *err, size_t errlen);
/* Builds a VM from the snapshot at `path` with cfg's root, stdio and options; its threads are
 * ready for hv_vm_start(). NULL with *code an HV_EXIT_* value and one line in err when the file
 * is not a snapshot, is damaged or does not match. `verify` also checks every saved page. */
struct vm *snapshot__restore(const struct hv_config *cfg, const char *path, int verify, int *code,
                             char *err, size_t errlen);

/* snapshot.c: the header (0, -1 not a snapshot, -2 damaged), checksums */
int snapshot__get_header(struct rbuf *r, struct snap_header *h);
void snapshot__sha256(const void *p, size_t n, uint8_t out[32]);
void snapshot__cpuid_sha(const struct vm *vm, uint8_t out[32]);
/* The pages of RAM that hold data (present or swapped, or in the snapshot a restored VM's RAM
 * comes from; not all zeroes), outside the shared file mappings in `maps`, as ranges into `out`,
 * with their SHA-256 in address order and their count. 0, or -1 with err. */
int snapshot__find_pages(struct vm *vm, const struct snap_state *maps, struct snap_runs *out,
                         uint8_t sha[32], uint64_t *pages, char *err, size_t errlen);

/* snapshot_restore.c, also for a migration's target: the VM's fields and bookkeeping from a
 * decoded state (its mm regions move to the VM), and one vCPU per saved thread. */
void snapshot__load_fields(struct vm *vm, struct snap_state *s);
int snapshot__load_threads(struct vm *vm, const struct snap_state *s, char *err, size_t errlen);

/* snapshot_state.c */
int snapshot__put_state(struct wbuf *w, struct vm *vm, char *err, size_t errlen);
int snapshot__get_state(struct rbuf *r, struct snap_state *s, uint64_t mem, char *err,
                        size_t errlen);
void snapshot__free_state(struct snap_state *s);
int snapshot__load_vcpu(struct vcpu *c, const struct snap_cpu *s);

#endif
