/* harness/metrics.c: per-interval figures of one VM (see metrics.h). */
#include "harness/metrics.h"

#include <string.h>

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
		double before = json_number_value(json_object_get(a->exits, reason));
		double rate = (json_number_value(v) - before) / secs;
		if (rate > 0)
			json_object_set_new(o, reason, json_real(rate));
	}
	return o;
}

/* Dilation and VM CPU use from the boundary snapshots. Where the VMM gave its statistics at both
 * boundaries, the dilation comes from them for every VM, self-driven ones included: the VMM reads
 * the guest clock and the host clock at the same instant, where a guest report's host stamp carries
 * the report's delivery delay (under load, tens of ms on a 5 s interval). */
static void add_snapshot_figures(json_t *iv, const struct vm_data *d, int k, enum platform pf,
                                 int self_driven)
{
	const struct snapshot *a = &d->snap[k], *b = &d->snap[k + 1];
	if (a->have && b->have && b->host_ns > a->host_ns)
		json_object_set_new(iv, "vm_cpu_pct",
		                    json_real(100.0 * (b->cpu_s - a->cpu_s) /
		                              ((double)(b->host_ns - a->host_ns) / 1e9)));
	if (a->have_stats && b->have_stats) {
		json_object_set_new(iv, "hv_exits_per_s", exit_rates(a, b));
		if (b->stats_host_ns > a->stats_host_ns && b->stats_guest_ns > 0) {
			double dil = (double)(b->stats_guest_ns - a->stats_guest_ns) /
			             (double)(b->stats_host_ns - a->stats_host_ns);
			json_object_set_new(iv, "dilation", json_real(dil));
			json_object_set_new(iv, "dilation_source",
			                    json_string(pf == PLATFORM_QEMU ? "qemu guest clock"
			                                                    : "hv guest clock"));
		}
	} else if (!self_driven && pf == PLATFORM_NATIVE) {
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

json_t *metrics__intervals(const struct vm_data *d, enum platform pf)
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
