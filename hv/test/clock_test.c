/* Tests of hv/clock.c without KVM: the guest clock under --clock-scale F runs F times as fast as
 * the host's from the VM's start, a (host, guest) pair from one reading is exact, and guest
 * durations and deadlines convert back to host ones. */
#include "tools/unit.h"
#include "hv/clock.h"
#include "hv/vm.h"

#include <string.h>

#define S 1000000000ULL

static void vm_at(struct vm *vm, double f)
{
	memset(vm, 0, sizeof(*vm));
	vm->cfg.clock_scale = f;
	vm->clock_base_host_ns[0] = 1700000000 * S; /* CLOCK_REALTIME at start */
	vm->clock_base_host_ns[1] = 1000 * S;       /* CLOCK_MONOTONIC at start */
}

static void honest_clock_is_the_host_clock(void **state)
{
	(void)state;
	static struct vm vm;
	vm_at(&vm, 1.0);
	assert_true(clock__guest_at(&vm, CLOCK_MONOTONIC, 1234 * S + 5) == 1234 * S + 5);
	assert_true(clock__to_host_duration(&vm, 7 * S) == (int64_t)(7 * S));
}

static void scaled_clock_runs_f_times_as_fast(void **state)
{
	(void)state;
	static struct vm vm;
	vm_at(&vm, 0.8);
	/* 10 s of host time after the start are 8 s of guest time; the pair's ratio is F exactly.
	 */
	uint64_t g0 = clock__guest_at(&vm, CLOCK_MONOTONIC, 1000 * S);
	uint64_t g1 = clock__guest_at(&vm, CLOCK_MONOTONIC, 1010 * S);
	assert_true(g0 == 1000 * S && g1 == 1008 * S);
	assert_true(clock__guest_at(&vm, CLOCK_REALTIME, 1700000000 * S + 10 * S) ==
	            1700000000 * S + 8 * S);
	/* A guest sleep of 4 s lasts 5 host seconds; a guest deadline maps back onto the host's. */
	assert_true(clock__to_host_duration(&vm, 4 * S) == (int64_t)(5 * S));
	assert_true(clock__to_host_abs(&vm, CLOCK_MONOTONIC, 1008 * S) == 1010 * S);
}

/* A VM restored where the host's MONOTONIC is behind the one it was saved on goes on from its
 * saved reading with an offset (never back); REALTIME stays the host's; deadlines convert back. */
static void restored_monotonic_goes_on(void **state)
{
	(void)state;
	static struct vm vm;
	vm_at(&vm, 1.0);
	uint64_t host = clock__host_ns(CLOCK_MONOTONIC);
	uint64_t saved = host + 1000 * S; /* saved on a host that had been up 1000 s longer */
	clock__continue(&vm, saved);
	uint64_t now = clock__guest_at(&vm, CLOCK_MONOTONIC, clock__host_ns(CLOCK_MONOTONIC));
	assert_true(now >= saved && now < saved + S);
	uint64_t boot = clock__guest_at(&vm, CLOCK_BOOTTIME, host); /* host: before the call */
	assert_true(boot <= saved && boot > saved - S);
	assert_true(clock__guest_at(&vm, CLOCK_REALTIME, 5 * S) == 5 * S);
	assert_true(clock__to_host_abs(&vm, CLOCK_MONOTONIC, boot + 3 * S) == host + 3 * S);
	/* saved on this host earlier: its clock is ahead already, no offset */
	vm_at(&vm, 1.0);
	clock__continue(&vm, host - 5 * S);
	assert_true(vm.clock_offset_ns == 0);
	/* with --clock-scale, the offset is added after scaling */
	vm_at(&vm, 0.5);
	uint64_t g = clock__guest_at(&vm, CLOCK_MONOTONIC, clock__host_ns(CLOCK_MONOTONIC));
	clock__continue(&vm, g + 100 * S);
	uint64_t g2 = clock__guest_at(&vm, CLOCK_MONOTONIC, clock__host_ns(CLOCK_MONOTONIC));
	assert_true(g2 >= g + 100 * S && g2 < g + 101 * S);
}

UNIT_MAIN(cmocka_unit_test(honest_clock_is_the_host_clock),
          cmocka_unit_test(scaled_clock_runs_f_times_as_fast),
          cmocka_unit_test(restored_monotonic_goes_on))
