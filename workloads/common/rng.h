/* workloads/common/rng.h: a small, fast, seedable pseudo-random generator (xoshiro256**, seeded
 * with splitmix64) for load generators: one per thread, no locking, reproducible from a seed. Not
 * for anything secret. */
#ifndef WORKLOADS_COMMON_RNG_H
#define WORKLOADS_COMMON_RNG_H
#include <stdint.h>

struct rng {
	uint64_t s[4];
};

void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
double rng_uniform(struct rng *r);                        /* [0, 1) */
int64_t rng_range(struct rng *r, int64_t lo, int64_t hi); /* uniform in [lo, hi], lo <= hi */
double rng_exp(struct rng *r, double mean);               /* exponential with that mean (>= 0) */

#endif
