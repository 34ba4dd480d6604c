/* workloads/common/sched.h: the load engine's schedule, a binary min-heap of (due time, id).
 *
 * Contract: sched_pop returns the entry with the earliest due time; entries due at the same time
 * come out in the order they were pushed (first in, first out), so a run of pushes and pops is
 * exactly a stable sort by due time. The capacity is fixed at sched_init: no allocation after it,
 * and sched_push refuses an entry beyond it. Not thread-safe: one schedule per worker thread.
 * O(log n) push and pop, O(1) peek. */
#ifndef WORKLOADS_COMMON_SCHED_H
#define WORKLOADS_COMMON_SCHED_H
#include <stdint.h>

#define SCHED_NONE INT64_MAX /* sched_next of an empty schedule */

struct sched_entry {
	int64_t due_ns;
	uint64_t seq; /* push order: breaks ties */
	int id;
};

struct sched {
	struct sched_entry *e; /* [cap], heap-ordered by (due_ns, seq) */
	int n, cap;
	uint64_t seq;
};

/* An empty schedule for up to cap entries (cap >= 0); 0, or -1 when memory is short. */
int sched_init(struct sched *s, int cap);
void sched_fini(struct sched *s); /* frees; the schedule may be initialised again */
/* Adds id, due at due_ns; 0, or -1 when the schedule is full. */
int sched_push(struct sched *s, int id, int64_t due_ns);
/* Removes the earliest entry: its id (its due time in *due_ns when not NULL), or -1 when empty. */
int sched_pop(struct sched *s, int64_t *due_ns);
/* The earliest due time, or SCHED_NONE when the schedule is empty. */
int64_t sched_next(const struct sched *s);
int sched_len(const struct sched *s);

#endif
