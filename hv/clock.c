/* hv/clock.c: guest clock readings and conversions, scaled by --clock-scale (see clock.h). */
#include "hv/clock.h"
#include "hv/timepage.h"
#include "hv/vm.h"

static int base_index(clockid_t id)
{
	return id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE || id == CLOCK_TAI ? 0 : 1;
}

/* The clocks that count from the host's boot: a VM restored on another host (or after its
 * reboot) keeps them going with an offset (clock.h). */
static int64_t offset_of(const struct vm *vm, clockid_t id)
{
	return id == CLOCK_MONOTONIC || id == CLOCK_MONOTONIC_RAW || id == CLOCK_MONOTONIC_COARSE ||
	               id == CLOCK_BOOTTIME
	           ? vm->clock_offset_ns
	           : 0;
}

uint64_t clock__host_ns(clockid_t id)
{
	struct timespec t;
	clock_gettime(id, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

void clock__continue(struct vm *vm, uint64_t guest_mono)
{
	uint64_t now = clock__guest_at(vm, CLOCK_MONOTONIC, clock__host_ns(CLOCK_MONOTONIC));
	if (now < guest_mono)
		vm->clock_offset_ns += (int64_t)(guest_mono - now);
}

void clock__start(struct vm *vm)
{
	vm->clock_base_host_ns[0] = clock__host_ns(CLOCK_REALTIME);
	vm->clock_base_host_ns[1] = clock__host_ns(CLOCK_MONOTONIC);
}

uint64_t clock__guest_now(const struct vm *vm, clockid_t id)
{
	uint64_t ns;
	if (timepage__read(vm, id, &ns) == 0) /* the clock the guest's vDSO reads */
		return ns;
	return clock__guest_at(vm, id, clock__host_ns(id));
}

/* --clock-scale alone. */
static uint64_t scaled(const struct vm *vm, clockid_t id, uint64_t now)
{
	double f = vm->cfg.clock_scale;
	if (f == 1.0)
		return now;
	uint64_t base = vm->clock_base_host_ns[base_index(id)];
	/* Clocks other than the two with a base (CPU-time clocks) are scaled from zero. */
	if (id != CLOCK_REALTIME && id != CLOCK_MONOTONIC && id != CLOCK_BOOTTIME &&
	    id != CLOCK_MONOTONIC_RAW && id != CLOCK_MONOTONIC_COARSE &&
	    id != CLOCK_REALTIME_COARSE && id != CLOCK_TAI)
		base = 0;
	if (now < base)
		return now;
	return base + (uint64_t)((double)(now - base) * f);
}

uint64_t clock__guest_at(const struct vm *vm, clockid_t id, uint64_t now)
{
	return scaled(vm, id, now) + (uint64_t)offset_of(vm, id);
}

int64_t clock__to_host_duration(const struct vm *vm, int64_t guest_ns)
{
	double f = vm->cfg.clock_scale;
	return f == 1.0 ? guest_ns : (int64_t)((double)guest_ns / f);
}

uint64_t clock__to_host_abs(const struct vm *vm, clockid_t id, uint64_t guest_ns)
{
	guest_ns -= (uint64_t)offset_of(vm, id);
	double f = vm->cfg.clock_scale;
	if (f == 1.0)
		return guest_ns;
	uint64_t base = vm->clock_base_host_ns[base_index(id)];
	if (guest_ns < base)
		return guest_ns;
	return base + (uint64_t)((double)(guest_ns - base) / f);
}
