/* workloads/common/hdr.c: the HdrHistogram log-linear layout (see hdr.h), written for vcons.
 *
 * Layout for 3 significant digits, unit 1 us: each "bucket" b covers [1024 * 2^b, 2048 * 2^b)
 * (bucket 0 covers [0, 2048)) in 1024 linear sub-buckets of width 2^b, so the relative width of a
 * sub-bucket never exceeds 1/1024. Sixteen buckets reach 2048 * 2^15 us > 60 s. The counts array
 * stores bucket 0's 2048 sub-buckets then the upper 1024 sub-buckets of each further bucket (the
 * lower half of bucket b is the upper half of bucket b-1): index = (b + 1) * 1024 + (sub - 1024).
 */
#include "workloads/common/hdr.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SUB_HALF_MAG 10
#define SUB_HALF     (1 << SUB_HALF_MAG) /* 1024 */
#define SUB_MASK     ((int64_t)(2 * SUB_HALF) - 1)
#define N_BUCKETS    16
#define N_COUNTS     ((N_BUCKETS + 1) * SUB_HALF)

int hdr_len(void)
{
	return N_COUNTS;
}

int hdr_init(struct hdr *h)
{
	memset(h, 0, sizeof(*h));
	h->counts = calloc(N_COUNTS, sizeof(h->counts[0]));
	return h->counts ? 0 : -1;
}

void hdr_fini(struct hdr *h)
{
	free(h->counts);
	h->counts = NULL;
}

void hdr_reset(struct hdr *h)
{
	memset(h->counts, 0, N_COUNTS * sizeof(h->counts[0]));
	h->total = h->clamped = 0;
	h->sum = h->min = h->max = 0;
}

int hdr_index_of(int64_t v)
{
	if (v < 0)
		v = 0;
	if (v > HDR_HIGHEST_US)
		v = HDR_HIGHEST_US;
	int bucket = 63 - SUB_HALF_MAG - __builtin_clzll((uint64_t)(v | SUB_MASK));
	int64_t sub = v >> bucket;
	return ((bucket + 1) << SUB_HALF_MAG) + (int)(sub - SUB_HALF);
}

static void index_split(int index, int *bucket, int64_t *sub)
{
	*bucket = (index >> SUB_HALF_MAG) - 1;
	*sub = (index & (SUB_HALF - 1)) + SUB_HALF;
	if (*bucket < 0) {
		*sub -= SUB_HALF;
		*bucket = 0;
	}
}

int64_t hdr_lowest_in(int index)
{
	int bucket;
	int64_t sub;
	index_split(index, &bucket, &sub);
	return sub << bucket;
}

int64_t hdr_highest_in(int index)
{
	int bucket;
	int64_t sub;
	index_split(index, &bucket, &sub);
	return (sub << bucket) + ((int64_t)1 << bucket) - 1;
}

void hdr_record_n(struct hdr *h, int64_t v, uint64_t n)
{
	if (n == 0)
		return;
	if (v < 0)
		v = 0;
	if (v > HDR_HIGHEST_US) {
		v = HDR_HIGHEST_US;
		h->clamped += n;
	}
	h->counts[hdr_index_of(v)] += n;
	if (h->total == 0 || v < h->min)
		h->min = v;
	if (h->total == 0 || v > h->max)
		h->max = v;
	h->total += n;
	h->sum += v * (int64_t)n;
}

void hdr_record(struct hdr *h, int64_t v)
{
	hdr_record_n(h, v, 1);
}

void hdr_merge(struct hdr *dst, const struct hdr *src)
{
	if (src->total == 0)
		return;
	for (int i = 0; i < N_COUNTS; i++)
		dst->counts[i] += src->counts[i];
	if (dst->total == 0 || src->min < dst->min)
		dst->min = src->min;
	if (dst->total == 0 || src->max > dst->max)
		dst->max = src->max;
	dst->total += src->total;
	dst->clamped += src->clamped;
	dst->sum += src->sum;
}

uint64_t hdr_count(const struct hdr *h)
{
	return h->total;
}

double hdr_mean(const struct hdr *h)
{
	return h->total ? (double)h->sum / (double)h->total : 0.0;
}

int64_t hdr_min(const struct hdr *h)
{
	return h->min;
}

int64_t hdr_max(const struct hdr *h)
{
	return h->max;
}

int64_t hdr_percentile(const struct hdr *h, double p)
{
	if (h->total == 0)
		return 0;
	if (p > 100.0)
		p = 100.0;
	/* rank = ceil(p% of total), computed so that e.g. 99% of 1000 is exactly 990 */
	double want = p * (double)h->total / 100.0;
	uint64_t rank = (uint64_t)ceil(want - 1e-9);
	if (rank < 1)
		rank = 1;
	uint64_t seen = 0;
	for (int i = 0; i < N_COUNTS; i++) {
		seen += h->counts[i];
		if (seen >= rank) {
			int64_t v = hdr_highest_in(i);
			if (v > h->max)
				v = h->max;
			if (v < h->min)
				v = h->min;
			return v;
		}
	}
	return h->max;
}

void hdr_summarise(const struct hdr *h, struct hdr_summary *s)
{
	s->count = h->total;
	s->mean_us = hdr_mean(h);
	s->min_us = h->min;
	s->p50_us = hdr_percentile(h, 50);
	s->p90_us = hdr_percentile(h, 90);
	s->p95_us = hdr_percentile(h, 95);
	s->p99_us = hdr_percentile(h, 99);
	s->p999_us = hdr_percentile(h, 99.9);
	s->max_us = h->max;
}

int hdr_summary_to_json(const struct hdr *h, json_t *o)
{
	struct hdr_summary s;
	hdr_summarise(h, &s);
	int rc = 0;
	rc |= json_object_set_new(o, "count", json_integer((json_int_t)s.count));
	rc |= json_object_set_new(o, "mean_us", json_real(s.mean_us));
	rc |= json_object_set_new(o, "min_us", json_integer(s.min_us));
	rc |= json_object_set_new(o, "p50_us", json_integer(s.p50_us));
	rc |= json_object_set_new(o, "p90_us", json_integer(s.p90_us));
	rc |= json_object_set_new(o, "p95_us", json_integer(s.p95_us));
	rc |= json_object_set_new(o, "p99_us", json_integer(s.p99_us));
	rc |= json_object_set_new(o, "p99_9_us", json_integer(s.p999_us));
	rc |= json_object_set_new(o, "max_us", json_integer(s.max_us));
	return rc ? -1 : 0;
}

json_t *hdr_to_json(const struct hdr *h)
{
	json_t *buckets = json_array();
	if (!buckets)
		return NULL;
	for (int i = 0; i < N_COUNTS; i++) {
		if (!h->counts[i])
			continue;
		json_t *pair = json_pack("[iI]", i, (json_int_t)h->counts[i]);
		if (!pair || json_array_append_new(buckets, pair)) {
			json_decref(buckets);
			return NULL;
		}
	}
	return json_pack("{s:s, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "unit", "us",
	                 "sig_digits", HDR_SIG_DIGITS, "highest_us", (json_int_t)HDR_HIGHEST_US,
	                 "count", (json_int_t)h->total, "sum_us", (json_int_t)h->sum, "min_us",
	                 (json_int_t)h->min, "max_us", (json_int_t)h->max, "clamped",
	                 (json_int_t)h->clamped, "buckets", buckets);
}

/* Checks every field before touching h, so a bad object leaves h as it was. */
int hdr_from_json(struct hdr *h, const json_t *obj)
{
	const char *unit;
	int digits;
	json_int_t highest, total, sum, min, max, clamped;
	json_t *buckets;
	if (json_unpack((json_t *)obj, "{s:s, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "unit",
	                &unit, "sig_digits", &digits, "highest_us", &highest, "count", &total,
	                "sum_us", &sum, "min_us", &min, "max_us", &max, "clamped", &clamped,
	                "buckets", &buckets))
		return -1;
	if (strcmp(unit, "us") || digits != HDR_SIG_DIGITS || highest != HDR_HIGHEST_US ||
	    !json_is_array(buckets) || total < 0 || clamped < 0 || clamped > total || min < 0 ||
	    max < min || max > HDR_HIGHEST_US)
		return -1;
	uint64_t seen = 0;
	size_t i;
	json_t *pair;
	json_array_foreach(buckets, i, pair)
	{
		json_int_t idx, n;
		if (json_unpack(pair, "[II]", &idx, &n) || json_array_size(pair) != 2 || idx < 0 ||
		    idx >= N_COUNTS || n <= 0)
			return -1;
		if (hdr_highest_in((int)idx) < min || hdr_lowest_in((int)idx) > max)
			return -1;
		seen += (uint64_t)n;
	}
	if (seen != (uint64_t)total)
		return -1;
	hdr_reset(h);
	json_array_foreach(buckets, i, pair)
	{
		json_int_t idx = json_integer_value(json_array_get(pair, 0));
		h->counts[idx] += (uint64_t)json_integer_value(json_array_get(pair, 1));
	}
	h->total = (uint64_t)total;
	h->clamped = (uint64_t)clamped;
	h->sum = sum;
	h->min = min;
	h->max = max;
	return 0;
}
