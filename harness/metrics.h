/* harness/metrics.h: from what was collected about a VM (collect.h) to the per-interval figures a
 * result records: throughput over host time, failures, the operation mix, latency percentiles,
 * virtual time dilation, the VM's host CPU use, hv exits per second and per unit of work, the
 * generator's own CPU use.
 *
 * Contract: every rate is divided by host time. Dilation D = guest elapsed / host elapsed comes
 * from the VM's own clock readings (java and idle reports), or, for servers on hv, from the guest
 * clock vcons-hv presents (its statistics at the interval boundaries); a native process reads the
 * host clock, so D is 1 there by construction and recorded as such. A self-driven VM's rate as its
 * own clock would have it is recorded as "guest_rate", never used for scores. */
#ifndef HARNESS_METRICS_H
#define HARNESS_METRICS_H
#include "harness/collect.h"
#include "harness/plan.h"

#include <jansson.h>

/* The "intervals" array of one VM (new reference, NULL when out of memory). */
json_t *metrics__intervals(const struct vm_data *d, const struct platform *pf);

/* hv's exits and system calls per unit of work (a transaction, a page...) over the whole
 * measurement: {"unit", "work", "exits", "syscalls", "clock_syscalls" (the clock reads among them,
 * which a usable time page serves without an exit), "top_syscalls": [{"call", "per_op"}]}; NULL
 * where hv gave no statistics at the measurement's first and last boundary, or no work was done.
 * Each interval carries the same object for itself as "hv_per_op". */
json_t *metrics__per_op(const struct vm_data *d);

#endif
