/* harness/metrics.c: per-interval figures of one VM (see metrics.h). */
#include "harness/metrics.h"
#include "harness/platform.h"
#include "lib/json.h"

#include <stdlib.h>
#include <string.h>

#define TOP_CALLS 5 /* system calls named in a per-operation figure */

/* Exits per second by reason between two hv statistics snapshots. */
static json_t *exit_rates(const struct snapshot *a, const struct snapshot *b)
{
	json_t *o = json_object();
	double secs = (double)(b->stats_host_ns - a->stats_host_ns) / 1e9;
	const char *reason;
	json_t *v;
	if (!a->exits || !b->exits || secs <= 0)
		return o;
	json_object_foreach(b->exits, reason, v)
	{
		double before = jget_num(a->exits, reason, 0);
		double rate = (json_number_value(v) - before) / secs;
		if (rate > 0)
			json_object_set_new(o, reason, json_real(rate));
	}
	return o;
}

/* What one unit of work is for the figures per operation (README: "Exits per operation"). */
static const char *const work_unit[NROLES] = {
	[ROLE_DB] = "transaction", [ROLE_JAVA] = "business operation",
	[ROLE_WEB] = "page",       [ROLE_MAIL] = "SMTP delivery or IMAP command",
	[ROLE_IDLE] = "wake-up",
};

/* The units of work interval k completed successfully; 0 when unknown. A mail op is one unit: the
 * generator counts every IMAP command and every SMTP delivery as an op of its own
 * (workloads/mail/README.md). */
static double work_done(const struct vm_data *d, int k)
{
	const struct iv_acc *a = &d->iv[k];
	double c0, c1, g;
	switch (d->role) {
	case ROLE_IDLE: return a->wakeups;
	case ROLE_JAVA:
		if (collect__at(d, d->start_ns + (int64_t)k * d->interval_ns, &c0, &g) < 0 ||
		    collect__at(d, d->start_ns + (int64_t)(k + 1) * d->interval_ns, &c1, &g) < 0)
			return 0;
		return c1 - c0;
	default: return a->ops - a->errors;
	}
}

/* A counter's increase between two hv statistics objects; a system call's entry is an object
 * holding "count". */
static double counter_delta(const json_t *a, const json_t *b, const char *key)
{
	const json_t *va = json_object_get(a, key), *vb = json_object_get(b, key);
	if (json_is_object(vb)) {
		va = json_object_get(va, "count");
		vb = json_object_get(vb, "count");
	}
	return json_number_value(vb) - json_number_value(va);
}

struct call_count {
	const char *name;
	double n;
};

static int by_count_desc(const void *x, const void *y)
{
	const struct call_count *a = x, *b = y;
	return (a->n < b->n) - (a->n > b->n);
}

/* The calls a usable time page serves in the guest's vDSO (hv/README.md): where hv had to mark it
 * unusable (a host TSC it cannot trust) they are exits, and a budget can leave them out. */
static int is_clock_call(const char *name)
{
	return !strcmp(name, "clock_gettime") || !strcmp(name, "gettimeofday") ||
	       !strcmp(name, "time") || !strcmp(name, "clock_getres");
}

/* The system calls between two snapshots, the top TOP_CALLS per unit into top, the clock calls
 * into *clock; the total. */
static double calls_between(const struct snapshot *a, const struct snapshot *b, double work,
                            json_t *top, double *clock)
{
	size_t n = json_object_size(b->syscalls), i = 0;
	struct call_count *c = calloc(n ? n : 1, sizeof(*c));
	const char *name;
	json_t *v;
	double total = 0;
	if (!c)
		return 0;
	json_object_foreach(b->syscalls, name, v)
	{
		c[i] = (struct call_count){ name, counter_delta(a->syscalls, b->syscalls, name) };
		if (is_clock_call(name))
			*clock += c[i].n;
		total += c[i++].n;
	}
	qsort(c, n, sizeof(*c), by_count_desc);
	for (i = 0; i < n && i < TOP_CALLS && c[i].n > 0; i++)
		json_array_append_new(
		    top, json_pack("{s:s,s:f}", "call", c[i].name, "per_op", c[i].n / work));
	free(c);
	return total;
}

/* Exits and system calls per unit of work between two snapshots; NULL without hv statistics or
 * work. */
static json_t *per_op(enum role role, const struct snapshot *a, const struct snapshot *b,
                      double work)
{
	if (!a->have_stats || !b->have_stats || !b->exits || work <= 0)
		return NULL;
	double exits = 0;
	const char *key;
	json_t *v, *top = json_array();
	json_object_foreach(b->exits, key, v) exits += counter_delta(a->exits, b->exits, key);
	double clock = 0, calls = calls_between(a, b, work, top, &clock);
	return json_pack("{s:s,s:f,s:f,s:f,s:f,s:o}", "unit", work_unit[role], "work", work,
	                 "exits", exits / work, "syscalls", calls / work, "clock_syscalls",
	                 clock / work, "top_syscalls", top);
}

json_t *metrics__per_op(const struct vm_data *d)
{
	double work = 0;
	for (int k = 0; k < d->intervals; k++)
		work += work_done(d, k);
	return d->intervals > 0 ? per_op(d->role, &d->snap[0], &d->snap[d->intervals], work) : NULL;
}

/* Dilation and VM CPU use from the boundary snapshots. Where the VMM gave its statistics at both
 * boundaries, the dilation comes from them for every VM, self-driven ones included: the VMM reads
 * the guest clock and the host clock at the same instant, where a guest report's host stamp carries
 * the report's delivery delay (under load, tens of ms on a 5 s interval). */
static void add_snapshot_figures(json_t *iv, const struct vm_data *d, int k,
                                 const struct platform *pf, int self_driven)
{
	const struct snapshot *a = &d->snap[k], *b = &d->snap[k + 1];
	if (a->have && b->have && b->host_ns > a->host_ns)
		json_object_set_new(iv, "vm_cpu_pct",
		                    json_real(100.0 * (b->cpu_s - a->cpu_s) /
		                              ((double)(b->host_ns - a->host_ns) / 1e9)));
	if (a->have_stats && b->have_stats) {
		json_object_set_new(iv, "hv_exits_per_s", exit_rates(a, b));
		json_t *po = per_op(d->role, a, b, work_done(d, k));
		if (po)
			json_object_set_new(iv, "hv_per_op", po);
		if (b->stats_host_ns > a->stats_host_ns && b->stats_guest_ns > 0) {
			double dil = (double)(b->stats_guest_ns - a->stats_guest_ns) /
			             (double)(b->stats_host_ns - a->stats_host_ns);
			json_object_set_new(iv, "dilation", json_real(dil));
			json_object_set_new(iv, "dilation_source", json_string(pf->vmm_clock));
		}
	} else if (!self_driven && !pf->vmm_clock) {
		json_object_set_new(iv, "dilation", json_real(1.0));
		json_object_set_new(iv, "dilation_source", json_string("native: host clock"));
	}
}

/* A self-driven VM: its counter's increase over exactly the interval's host time. */
static void add_self_driven(json_t *iv, const struct vm_data *d, int k)
{
	int64_t t0 = d->start_ns + (int64_t)k * d->interval_ns, t1 = t0 + d->interval_ns;
	double c0, c1, g0, g1;
	if (collect__at(d, t0, &c0, &g0) < 0 || collect__at(d, t1, &c1, &g1) < 0) {
		json_object_set_new(iv, "missing", json_string("no reports around the interval"));
		return;
	}
	double host_s = (double)(t1 - t0) / 1e9, guest_s = (g1 - g0) / 1e9;
	json_object_set_new(iv, "dilation", json_real(guest_s / host_s));
	json_object_set_new(iv, "dilation_source", json_string("guest report"));
	if (d->role == ROLE_JAVA) {
		json_object_set_new(iv, "host_s", json_real(host_s));
		json_object_set_new(iv, "ops", json_real(c1 - c0));
		json_object_set_new(iv, "errors", json_integer(0));
		json_object_set_new(iv, "rate", json_real((c1 - c0) / host_s));
		json_object_set_new(iv, "guest_rate",
		                    json_real(guest_s > 0 ? (c1 - c0) / guest_s : 0));
	}
}

static void add_generator(json_t *iv, const struct iv_acc *a)
{
	json_object_set_new(iv, "host_s", json_real(a->host_s));
	json_object_set_new(iv, "ops", json_real(a->ops));
	json_object_set_new(iv, "errors", json_real(a->errors));
	json_object_set_new(iv, "rate",
	                    json_real(a->host_s > 0 ? (a->ops - a->errors) / a->host_s : 0));
	json_object_set_new(iv, "generator_cpu_pct", json_real(a->gen_cpu_pct));
	json_t *types = json_object();
	for (int t = 0; t < a->ntypes; t++)
		json_object_set_new(
		    types, a->type[t],
		    json_pack("{s:f,s:f}", "ops", a->type_ops[t], "errors", a->type_errors[t]));
	json_object_set_new(iv, "types", types);
	json_t *lat = json_object();
	hdr_summary_to_json(&a->lat, lat);
	json_object_set_new(iv, "latency_us", lat);
}

json_t *metrics__intervals(const struct vm_data *d, const struct platform *pf)
{
	json_t *arr = json_array();
	int self_driven = d->role == ROLE_JAVA || d->role == ROLE_IDLE;
	for (int k = 0; arr && k < d->intervals; k++) {
		const struct iv_acc *a = &d->iv[k];
		json_t *iv = json_pack("{s:i}", "k", k);
		if (d->role == ROLE_IDLE) {
			json_object_set_new(iv, "wakeups", json_real(a->wakeups));
			json_object_set_new(iv, "missed", json_real(a->missed));
			json_t *lat = json_object();
			hdr_summary_to_json(&a->lat, lat);
			json_object_set_new(iv, "lateness_us", lat);
		} else if (!self_driven) {
			add_generator(iv, a);
		}
		if (self_driven)
			add_self_driven(iv, d, k);
		add_snapshot_figures(iv, d, k, pf, self_driven);
		json_array_append_new(arr, iv);
	}
	return arr;
}
