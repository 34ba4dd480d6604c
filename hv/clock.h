/* hv/clock.h: the guest's clocks. A guest reads CLOCK_REALTIME and CLOCK_MONOTONIC (and their
 * variants) through hv; with --clock-scale F its clocks advance F times as fast as the host's from
 * the VM's start, so time-dilation correction in the harness can be tested. Sleeps and timeouts the
 * guest asks for are converted back to host durations. */
#ifndef HV_CLOCK_H
#define HV_CLOCK_H
#include <stdint.h>
#include <time.h>

struct vm;

uint64_t clock__host_ns(clockid_t id);
void clock__start(struct vm *vm);
/* A VM restored or migrated here whose MONOTONIC read `guest_mono` when it was saved: where this
 * host's clock would give it less (another host, or after a reboot), the MONOTONIC clocks
 * (MONOTONIC, _RAW, _COARSE, BOOTTIME) get an offset so that they go on from there, never back.
 * REALTIME and TAI are the host's (hosts keep them in step). */
void clock__continue(struct vm *vm, uint64_t guest_mono);
/* The guest's reading of clock `id` now (nanoseconds): from the time page where it serves the
 * clock (timepage.h), so that system calls and the vDSO give one clock. */
uint64_t clock__guest_now(const struct vm *vm, clockid_t id);
/* The guest's reading of clock `id` at the moment the host's clock `id` read `host_ns`: a
 * (host, guest) pair from one reading, exact even if the reader is descheduled in between. */
uint64_t clock__guest_at(const struct vm *vm, clockid_t id, uint64_t host_ns);
/* A guest duration (ns) as a host duration, and a guest absolute time on `id` as a host one. */
int64_t clock__to_host_duration(const struct vm *vm, int64_t guest_ns);
uint64_t clock__to_host_abs(const struct vm *vm, clockid_t id, uint64_t guest_ns);

#endif
