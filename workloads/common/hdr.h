/* workloads/common/hdr.h: latency histograms with HdrHistogram's log-linear bucket layout.
 *
 * Contract: a histogram counts integer values in MICROSECONDS (the unit of every *_us field vcons
 * reports) with 3 significant decimal digits over 1 us .. 60 s (HDR_HIGHEST_US). Every recorded
 * value v is counted in a bucket whose width is at most v/1024, so any percentile it reports lies
 * within 0.1% of the exact percentile of the recorded values (and never below 1 us of resolution).
 * Values above the range are clamped to HDR_HIGHEST_US and counted in `clamped`; negative values
 * are recorded as 0. count, sum, min and max are exact (not bucketed), so mean, min and max are
 * exact.
 *
 * Histograms of the same layout merge exactly: merging A into B equals having recorded all of A's
 * values into B. To merge across processes, serialise with hdr_to_json() and read back with
 * hdr_from_json(): {"unit":"us","sig_digits":3,"highest_us":..,"count":..,"sum_us":..,"min_us":..,
 * "max_us":..,"clamped":..,"buckets":[[index,count],...]} (sparse: only non-empty buckets, index is
 * the bucket index of this fixed layout). Not thread-safe: one writer at a time (callers lock). */
#ifndef WORKLOADS_COMMON_HDR_H
#define WORKLOADS_COMMON_HDR_H
#include <stdint.h>
#include <jansson.h>

#define HDR_SIG_DIGITS 3
#define HDR_HIGHEST_US 60000000LL /* 60 s */

struct hdr {
	uint64_t total;   /* number of values recorded */
	uint64_t clamped; /* how many of them were above HDR_HIGHEST_US */
	int64_t sum;      /* exact sum of the (clamped) values, us */
	int64_t min, max; /* exact extremes, us; 0 when empty */
	uint64_t *counts; /* hdr_len() buckets */
};

/* The standard summary every report line carries, in microseconds. */
struct hdr_summary {
	uint64_t count;
	double mean_us;
	int64_t min_us, p50_us, p90_us, p95_us, p99_us, p999_us, max_us;
};

int hdr_init(struct hdr *h); /* 0, or -1 when out of memory */
void hdr_fini(struct hdr *h);
void hdr_reset(struct hdr *h);
int hdr_len(void); /* number of buckets of the layout */

void hdr_record(struct hdr *h, int64_t value_us);
void hdr_record_n(struct hdr *h, int64_t value_us, uint64_t n);
void hdr_merge(struct hdr *dst, const struct hdr *src);

uint64_t hdr_count(const struct hdr *h);
double hdr_mean(const struct hdr *h); /* 0 when empty */
int64_t hdr_min(const struct hdr *h);
int64_t hdr_max(const struct hdr *h);
/* The value at percentile p (0..100]: the smallest recorded value (up to bucket precision) such
 * that at least p% of the values are <= it; 0 when empty. Results are clamped to [min, max]. */
int64_t hdr_percentile(const struct hdr *h, double p);
void hdr_summarise(const struct hdr *h, struct hdr_summary *s);
/* Adds the summary to obj: count, mean_us, min_us, p50_us, p90_us, p95_us, p99_us, p99_9_us,
 * max_us. */
int hdr_summary_to_json(const struct hdr *h, json_t *obj);

/* Bucket layout, exposed for tests: the bucket a value falls in and that bucket's value range. */
int hdr_index_of(int64_t value_us);
int64_t hdr_lowest_in(int index);
int64_t hdr_highest_in(int index);

json_t *hdr_to_json(const struct hdr *h); /* new reference, NULL when out of memory */
/* Fills h (initialised) from a hdr_to_json() object; -1 with h untouched when the object is not a
 * well-formed histogram of this layout (wrong unit/digits/range, bad index, counts not adding up).
 */
int hdr_from_json(struct hdr *h, const json_t *obj);

#endif
