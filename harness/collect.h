/* harness/collect.h: what a run learns about one VM while it runs: the report lines of its load
 * generator and of the VM itself, each stamped with the host clock when the harness read it, sorted
 * into the measurement intervals; and snapshots (host CPU time, hv statistics) at the interval
 * boundaries. No I/O and no clocks of its own: the caller passes the host time, so tests can feed
 * recorded lines.
 *
 * Contract: measurement interval k (0-based, k < intervals) spans host time
 * [start_ns + k * interval_ns, start_ns + (k + 1) * interval_ns). A generator line covering
 * `interval_s` seconds and read at host time t belongs to the interval holding its midpoint
 * t - interval_s / 2. Self-driven VMs (java, idle) send cumulative counters with their guest clock;
 * collect keeps every such sample so rates can be taken over exactly an interval's host time. */
#ifndef HARNESS_COLLECT_H
#define HARNESS_COLLECT_H
#include "model/config.h"
#include "workloads/common/hdr.h"

#include <jansson.h>
#include <stdint.h>

#define COLLECT_MAX_INTERVALS CONFIG_MAX_INTERVALS

struct iv_acc {
	double ops, errors; /* all operation types */
	double host_s;      /* the generator's reported length, host clock */
	double gen_cpu_pct; /* the generator's highest CPU use in the interval (% of one core) */
	int lines;
	int ntypes;
	char type[SCORE_MAX_TYPES][24];
	double type_ops[SCORE_MAX_TYPES], type_errors[SCORE_MAX_TYPES];
	struct hdr lat;         /* response time (generators) or wake-up lateness (idle), us */
	double wakeups, missed; /* idle */
};

/* A cumulative counter read from a self-driven VM, with both clocks. */
struct sample {
	int64_t host_ns, guest_ns;
	double count;
};

/* The state at an interval boundary b (0..intervals): the VM process's host CPU time and, on hv,
 * the statistics vcons-hv wrote (guest clock, exits by reason, system calls by name). */
struct snapshot {
	int have;
	int64_t host_ns;
	double cpu_s;
	int have_stats;
	int64_t stats_host_ns, stats_guest_ns;
	json_t *exits;    /* {"reason": count}, owned */
	json_t *syscalls; /* {"name": {"count": n, ...}}, owned */
};

struct vm_data {
	enum role role;
	int64_t start_ns, interval_ns;
	int intervals;
	struct iv_acc iv[COLLECT_MAX_INTERVALS];
	struct sample *samples;
	size_t nsamples, cap;
	struct snapshot snap[COLLECT_MAX_INTERVALS + 1];
	double last_t_s;       /* t_s of the generator's last report tick */
	int64_t first_load_ns; /* host time of the first sign of load (0: none yet) */
	int64_t last_report_ns;
	int ready;
	double tick_ops, last_rate; /* for the live view: operations per second of the last tick */
	json_t *gen_summary;        /* the generator's final "all" summary line, owned */
	json_t *extra;              /* the VM's last self-check or other notable line, owned */
	long bad_lines;             /* lines that were not the JSON we expect */
};

int collect__init(struct vm_data *d, enum role role, int intervals);
void collect__fini(struct vm_data *d);
/* Sets the measurement window once it is known (the load has started). */
void collect__set_window(struct vm_data *d, int64_t start_ns, int64_t interval_ns);
/* One line from the load generator's stdout, read at host time now_ns. */
void collect__generator_line(struct vm_data *d, const char *line, int64_t now_ns);
/* One line from the VM's stdout ("ready", or a JSON report). */
void collect__vm_line(struct vm_data *d, const char *line, int64_t now_ns);

/* The interval index a host time falls in, or -1 outside the measurement window. */
int collect__interval_of(const struct vm_data *d, int64_t host_ns);

/* Interpolates the cumulative count and the guest clock at host time t from the samples; -1 when
 * t is outside them. */
int collect__at(const struct vm_data *d, int64_t host_ns, double *count, double *guest_ns);

#endif
