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

UNIT_MAIN(cmocka_unit_test(honest_clock_is_the_host_clock),
          cmocka_unit_test(scaled_clock_runs_f_times_as_fast))
