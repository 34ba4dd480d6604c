/* workloads/common/test/sched_test.c: the engine's schedule (sched.h): earliest first, ties first
 * in first out, random pushes and pops against a reference (a linear scan for the earliest of the
 * entries still held, by due time then push order), and the empty and full edges. */
#include "tools/unit.h"

#include <stdlib.h>

#include "workloads/common/rng.h"
#include "workloads/common/sched.h"

static void pops_earliest_first(void **state)
{
	struct sched s;
	assert_int_equal(sched_init(&s, 8), 0);
	const int64_t due[] = { 50, 10, 40, 30, 20, -5, 60, 0 };
	for (int i = 0; i < 8; i++)
		assert_int_equal(sched_push(&s, i, due[i]), 0);
	assert_int_equal(sched_len(&s), 8);
	assert_int_equal(sched_next(&s), -5);
	const int want[] = { 5, 7, 1, 4, 3, 2, 0, 6 };
	for (int i = 0; i < 8; i++) {
		int64_t d = 0;
		assert_int_equal(sched_pop(&s, &d), want[i]);
		assert_int_equal(d, due[want[i]]);
	}
	assert_int_equal(sched_len(&s), 0);
	sched_fini(&s);
}

/* Equal due times leave in push order, also when pushed among others and after pops. */
static void ties_are_first_in_first_out(void **state)
{
	struct sched s;
	assert_int_equal(sched_init(&s, 100), 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(sched_push(&s, i, i % 3 == 0 ? 7 : 9), 0);
	int last7 = -1, last9 = -1;
	for (int i = 0; i < 100; i++) {
		int64_t d;
		int id = sched_pop(&s, &d);
		int *last = d == 7 ? &last7 : &last9;
		assert_true(id > *last);
		assert_true(d == 9 || last9 == -1); /* every 7 before any 9 */
		*last = id;
		if (i == 10) /* a late push of an early time overtakes the 9s, after the 7s */
			assert_int_equal(sched_push(&s, 1000, 7), 0);
	}
	assert_int_equal(sched_pop(&s, NULL), 98); /* the pushes and pops above: 101 in, 100 out */
	assert_int_equal(last7, 1000);
	sched_fini(&s);
}

struct ref {
	int64_t due;
	uint64_t seq;
	int id;
};

/* Random interleavings of pushes and pops, small and large time ranges (many and few ties). */
static void random_input_matches_a_reference(void **state)
{
	enum { CAP = 300 };
	struct rng r;
	rng_seed(&r, 42);
	struct ref *ref = calloc(CAP, sizeof(*ref));
	assert_non_null(ref);
	for (int round = 0; round < 200; round++) {
		struct sched s;
		int cap = (int)rng_range(&r, 1, CAP), n = 0;
		int64_t range = round % 2 ? 5 : 1000000000000LL;
		uint64_t seq = 0;
		assert_int_equal(sched_init(&s, cap), 0);
		for (int step = 0; step < 2000; step++) {
			if (n < cap && rng_range(&r, 0, 99) < 55) {
				int64_t due = rng_range(&r, -range, range);
				assert_int_equal(sched_push(&s, step, due), 0);
				ref[n++] = (struct ref){ due, seq++, step };
				continue;
			}
			if (n == cap)
				assert_int_equal(sched_push(&s, -2, 0), -1);
			int m = 0;
			for (int i = 1; i < n; i++)
				if (ref[i].due < ref[m].due ||
				    (ref[i].due == ref[m].due && ref[i].seq < ref[m].seq))
					m = i;
			int64_t d;
			assert_int_equal(sched_next(&s), n ? ref[m].due : SCHED_NONE);
			assert_int_equal(sched_pop(&s, &d), n ? ref[m].id : -1);
			if (n) {
				assert_int_equal(d, ref[m].due);
				ref[m] = ref[--n];
			}
			assert_int_equal(sched_len(&s), n);
		}
		sched_fini(&s);
	}
	free(ref);
}

static void empty_and_full(void **state)
{
	struct sched s;
	int64_t d = 123;
	assert_int_equal(sched_init(&s, 2), 0);
	assert_int_equal(sched_pop(&s, &d), -1);
	assert_int_equal(d, 123); /* untouched */
	assert_int_equal(sched_next(&s), SCHED_NONE);
	assert_int_equal(sched_push(&s, 1, INT64_MAX - 1), 0);
	assert_int_equal(sched_push(&s, 2, INT64_MIN), 0);
	assert_int_equal(sched_push(&s, 3, 0), -1);
	assert_int_equal(sched_len(&s), 2);
	assert_int_equal(sched_pop(&s, NULL), 2);
	assert_int_equal(sched_pop(&s, NULL), 1);
	assert_int_equal(sched_pop(&s, NULL), -1);
	sched_fini(&s);
	assert_int_equal(sched_init(&s, 0), 0); /* no room at all */
	assert_int_equal(sched_push(&s, 1, 0), -1);
	assert_int_equal(sched_pop(&s, NULL), -1);
	sched_fini(&s);
}

UNIT_MAIN(cmocka_unit_test(pops_earliest_first), cmocka_unit_test(ties_are_first_in_first_out),
          cmocka_unit_test(random_input_matches_a_reference), cmocka_unit_test(empty_and_full))
