/* hv/migrate.h: live migration of a running VM to another vcons-hv process over TCP (internal to
 * hv/; hv.h's hv_vm_migrate() and hv_vm_incoming() are the interface).
 *
 * Pre-copy: the source sends every page that holds data while the guest runs, then, round after
 * round, the pages changed meanwhile (KVM's dirty log and hv's own marks, dirty.h), until what is
 * left would go within the downtime target at the measured rate (or 30 rounds, or the rounds stop
 * shrinking). Then stop-and-copy: the VM pauses, the last changed pages and the state section
 * (snapshot.h's, with the fd table; the sockets let go of as soon as it is read) go over, the
 * target builds the VM, starts it and answers; the source then ends. A target that fails or dies
 * before that answer leaves the source running: it makes its sockets again from the record it
 * sent and resumes.
 *
 * Stream (hv/wire.h integers): each message is u32 type, u64 length, payload.
 *   HELLO   "VCONSMIG", u32 version, u64 RAM bytes, u32 page_4k, 32-byte CPUID SHA-256, u32 address
 *   PAGES   u64 guest-physical address, then whole 4 KiB pages
 *   STATE   the state section: VM, MM, MPS, CPU records (snapshot_state.c), then the fd table
 *   ABORT   a reason: the source gives up (the target exits 76)
 * The target answers HELLO and STATE with u32 status (0 ok), u64 length, a message. */
#ifndef HV_MIGRATE_H
#define HV_MIGRATE_H
#include "hv/hv.h"

#include <stddef.h>
#include <stdint.h>

#define MIGRATE_VERSION 1

enum migrate_msg { MIG_HELLO = 1, MIG_PAGES, MIG_STATE, MIG_ABORT };

struct vm;
struct hv_migrate_info;

/* Moves a running VM to the target at `to` (A.B.C.D:PORT). 0: the VM runs there and this one is
 * paused for good (end it); -1: it failed and the VM runs on here (err says why); -2: it failed
 * after the switch-over began and the VM could not be given its sockets again (end it, err). */
int migrate__run(struct vm *vm, const char *to, uint64_t downtime_ms, struct hv_migrate_info *info,
                 char *err, size_t errlen);

/* migrate_in.c: the target side. */
struct migrate_in;
struct vm *migrate__incoming(const struct hv_config *cfg, const char *addr, struct migrate_in **in,
                             int *code, char *err, size_t errlen);

/* Shared by both sides: the address and port in "A.B.C.D:PORT"; 0 or -1. */
struct sockaddr_in;
int migrate__parse_addr(const char *s, struct sockaddr_in *out);
/* Whole messages and answers; 0 or -1 (errno set; EPIPE for an end of stream). */
int migrate__send(int fd, uint32_t type, const void *a, size_t alen, const void *b, size_t blen);
int migrate__recv_exact(int fd, void *p, size_t n);
int migrate__answer(int fd, uint32_t status, const char *msg);
int migrate__read_answer(int fd, uint32_t *status, char *msg, size_t size);

#endif
