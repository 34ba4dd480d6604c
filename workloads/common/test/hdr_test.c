/* workloads/common/test/hdr_test.c: the histogram against exact percentiles of sorted random data,
 * merging, and the JSON round trip. */
#include "tools/unit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "workloads/common/hdr.h"
#include "workloads/common/rng.h"

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The exact percentile with the same definition as hdr.h: the value at rank ceil(p% of n). */
static int64_t exact_pct(const int64_t *sorted, size_t n, double p)
{
	uint64_t rank = (uint64_t)ceil(p * (double)n / 100.0 - 1e-9);
	if (rank < 1)
		rank = 1;
	return sorted[rank - 1];
}

/* Log-uniform over 1 us .. 10 s, so every bucket magnitude is exercised. */
static int64_t random_value(struct rng *r)
{
	return (int64_t)exp(rng_uniform(r) * log(1e7));
}

static void check_against_sorted(int64_t *v, size_t n)
{
	struct hdr h;
	assert_int_equal(hdr_init(&h), 0);
	int64_t sum = 0;
	for (size_t i = 0; i < n; i++) {
		hdr_record(&h, v[i]);
		sum += v[i];
	}
	qsort(v, n, sizeof(v[0]), cmp_i64);
	assert_int_equal(hdr_count(&h), n);
	assert_int_equal(hdr_min(&h), v[0]);
	assert_int_equal(hdr_max(&h), v[n - 1]);
	assert_true(fabs(hdr_mean(&h) - (double)sum / (double)n) < 1e-6 * hdr_mean(&h) + 1e-9);
	static const double ps[] = { 0.1, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100 };
	for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		int64_t want = exact_pct(v, n, ps[i]);
		int64_t got = hdr_percentile(&h, ps[i]);
		/* 3 significant digits: within one part in 1000 (buckets are at most v/1024 wide)
		 */
		int64_t tol = want / 1000;
		if (llabs(got - want) > tol)
			fail_msg("p%g: got %lld want %lld", ps[i], (long long)got, (long long)want);
	}
	hdr_fini(&h);
}

static void percentiles_match_sorted_data(void **state)
{
	struct rng r;
	rng_seed(&r, 42);
	size_t n = 100000;
	int64_t *v = malloc(n * sizeof(*v));
	assert_non_null(v);
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < n; i++)
			v[i] = random_value(&r);
		check_against_sorted(v, n);
	}
	/* small sets and small values: exact below 2048 us */
	for (size_t i = 0; i < 7; i++)
		v[i] = rng_range(&r, 0, 3000);
	check_against_sorted(v, 7);
	v[0] = 5;
	check_against_sorted(v, 1);
	free(v);
}

static void layout_is_log_linear(void **state)
{
	/* exact up to 2047 us */
	for (int64_t x = 0; x < 2048; x++) {
		assert_int_equal(hdr_lowest_in(hdr_index_of(x)), x);
		assert_int_equal(hdr_highest_in(hdr_index_of(x)), x);
	}
	/* every value lies in its bucket, whose width is <= value/1024 */
	struct rng r;
	rng_seed(&r, 7);
	for (int i = 0; i < 200000; i++) {
		int64_t x = rng_range(&r, 1, HDR_HIGHEST_US);
		int idx = hdr_index_of(x);
		assert_true(idx >= 0 && idx < hdr_len());
		assert_true(hdr_lowest_in(idx) <= x && x <= hdr_highest_in(idx));
		assert_true(hdr_highest_in(idx) - hdr_lowest_in(idx) + 1 <= x / 1024 + 1);
	}
	/* indexes are contiguous and increasing */
	for (int i = 1; i <= hdr_index_of(HDR_HIGHEST_US); i++)
		assert_int_equal(hdr_lowest_in(i), hdr_highest_in(i - 1) + 1);
}

static void clamps_out_of_range(void **state)
{
	struct hdr h;
	assert_int_equal(hdr_init(&h), 0);
	hdr_record(&h, -5);
	hdr_record(&h, HDR_HIGHEST_US * 3);
	assert_int_equal(hdr_count(&h), 2);
	assert_int_equal(h.clamped, 1);
	assert_int_equal(hdr_min(&h), 0);
	assert_int_equal(hdr_max(&h), HDR_HIGHEST_US);
	assert_int_equal(hdr_percentile(&h, 100), HDR_HIGHEST_US);
	hdr_reset(&h);
	assert_int_equal(hdr_count(&h), 0);
	assert_int_equal(hdr_percentile(&h, 99), 0);
	assert_true(hdr_mean(&h) == 0.0);
	hdr_fini(&h);
}

static int same(const struct hdr *a, const struct hdr *b)
{
	return a->total == b->total && a->sum == b->sum && a->min == b->min && a->max == b->max &&
	       a->clamped == b->clamped &&
	       memcmp(a->counts, b->counts, (size_t)hdr_len() * sizeof(a->counts[0])) == 0;
}

static void merge_equals_recording_all(void **state)
{
	struct hdr parts[4], merged, all;
	struct rng r;
	rng_seed(&r, 3);
	assert_int_equal(hdr_init(&merged), 0);
	assert_int_equal(hdr_init(&all), 0);
	for (int p = 0; p < 4; p++) {
		assert_int_equal(hdr_init(&parts[p]), 0);
		int n = p == 2 ? 0 : 20000 * (p + 1); /* one empty part */
		for (int i = 0; i < n; i++) {
			int64_t x = random_value(&r) * (p + 1);
			hdr_record(&parts[p], x);
			hdr_record(&all, x);
		}
	}
	for (int p = 3; p >= 0; p--)
		hdr_merge(&merged, &parts[p]);
	assert_true(same(&merged, &all));
	assert_int_equal(hdr_percentile(&merged, 99.9), hdr_percentile(&all, 99.9));
	for (int p = 0; p < 4; p++)
		hdr_fini(&parts[p]);
	hdr_fini(&merged);
	hdr_fini(&all);
}

static void json_round_trip_and_merge(void **state)
{
	struct hdr a, b, back, sum;
	struct rng r;
	rng_seed(&r, 9);
	assert_int_equal(hdr_init(&a), 0);
	assert_int_equal(hdr_init(&b), 0);
	assert_int_equal(hdr_init(&back), 0);
	assert_int_equal(hdr_init(&sum), 0);
	for (int i = 0; i < 50000; i++)
		hdr_record(i % 2 ? &a : &b, random_value(&r));
	hdr_record(&a, HDR_HIGHEST_US + 1);
	/* through text, as between processes */
	json_t *ja = hdr_to_json(&a);
	assert_non_null(ja);
	char *text = json_dumps(ja, JSON_COMPACT);
	json_decref(ja);
	json_error_t jerr;
	json_t *parsed = json_loads(text, 0, &jerr);
	free(text);
	assert_non_null(parsed);
	assert_int_equal(hdr_from_json(&back, parsed), 0);
	assert_true(same(&back, &a));
	/* merging the deserialised copy equals merging the original */
	hdr_merge(&back, &b);
	hdr_merge(&sum, &a);
	hdr_merge(&sum, &b);
	assert_true(same(&back, &sum));
	/* malformed objects are refused and leave the target untouched */
	json_t *bad = json_deep_copy(parsed);
	json_object_set_new(bad, "count", json_integer(12345));
	assert_int_equal(hdr_from_json(&back, bad), -1);
	json_decref(bad);
	bad = json_deep_copy(parsed);
	json_object_set_new(bad, "unit", json_string("ns"));
	assert_int_equal(hdr_from_json(&back, bad), -1);
	json_decref(bad);
	bad = json_deep_copy(parsed);
	json_array_append_new(json_object_get(bad, "buckets"), json_pack("[ii]", hdr_len(), 1));
	json_object_set_new(bad, "count", json_integer((json_int_t)a.total + 1));
	assert_int_equal(hdr_from_json(&back, bad), -1);
	json_decref(bad);
	assert_int_equal(hdr_from_json(&back, json_object_get(parsed, "unit")), -1);
	assert_true(same(&back, &sum));
	json_decref(parsed);
	hdr_fini(&a);
	hdr_fini(&b);
	hdr_fini(&back);
	hdr_fini(&sum);
}

static void summary_json_has_fields(void **state)
{
	struct hdr h;
	assert_int_equal(hdr_init(&h), 0);
	for (int i = 1; i <= 1000; i++)
		hdr_record(&h, i);
	json_t *o = json_object();
	assert_int_equal(hdr_summary_to_json(&h, o), 0);
	assert_int_equal(json_integer_value(json_object_get(o, "count")), 1000);
	assert_int_equal(json_integer_value(json_object_get(o, "p50_us")), 500);
	assert_int_equal(json_integer_value(json_object_get(o, "p99_us")), 990);
	assert_int_equal(json_integer_value(json_object_get(o, "p99_9_us")), 999);
	assert_int_equal(json_integer_value(json_object_get(o, "max_us")), 1000);
	assert_int_equal(json_integer_value(json_object_get(o, "min_us")), 1);
	assert_true(fabs(json_real_value(json_object_get(o, "mean_us")) - 500.5) < 1e-9);
	json_decref(o);
	hdr_fini(&h);
}

UNIT_MAIN(cmocka_unit_test(percentiles_match_sorted_data), cmocka_unit_test(layout_is_log_linear),
          cmocka_unit_test(clamps_out_of_range), cmocka_unit_test(merge_equals_recording_all),
          cmocka_unit_test(json_round_trip_and_merge), cmocka_unit_test(summary_json_has_fields))
