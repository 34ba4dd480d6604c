/* harness/collect.c: sorting report lines into measurement intervals (see collect.h). */
#include "harness/collect.h"
#include "lib/json.h"

#include <stdlib.h>
#include <string.h>

int collect__init(struct vm_data *d, enum role role, int intervals)
{
	memset(d, 0, sizeof(*d));
	d->role = role;
	d->intervals = intervals < COLLECT_MAX_INTERVALS ? intervals : COLLECT_MAX_INTERVALS;
	d->last_t_s = -1;
	for (int k = 0; k < d->intervals; k++)
		if (hdr_init(&d->iv[k].lat) < 0)
			return -1;
	return 0;
}

void collect__fini(struct vm_data *d)
{
	for (int k = 0; k < d->intervals; k++)
		hdr_fini(&d->iv[k].lat);
	for (int b = 0; b <= d->intervals; b++) {
		json_decref(d->snap[b].exits);
		json_decref(d->snap[b].syscalls);
	}
	json_decref(d->gen_summary);
	json_decref(d->extra);
	free(d->samples);
	memset(d, 0, sizeof(*d));
}

void collect__set_window(struct vm_data *d, int64_t start_ns, int64_t interval_ns)
{
	d->start_ns = start_ns;
	d->interval_ns = interval_ns;
}

int collect__interval_of(const struct vm_data *d, int64_t t)
{
	if (d->interval_ns <= 0 || t < d->start_ns)
		return -1;
	int64_t k = (t - d->start_ns) / d->interval_ns;
	return k < d->intervals ? (int)k : -1;
}

static int type_slot(struct iv_acc *a, const char *op)
{
	for (int i = 0; i < a->ntypes; i++)
		if (!strcmp(a->type[i], op))
			return i;
	if (a->ntypes == SCORE_MAX_TYPES || strlen(op) >= sizeof(a->type[0]))
		return -1;
	snprintf(a->type[a->ntypes], sizeof(a->type[0]), "%s", op);
	return a->ntypes++;
}

/* Merges a serialised histogram into h; -1 when it is not one of ours. */
static int merge_hist(struct hdr *h, const json_t *j)
{
	if (!j)
		return 0;
	struct hdr tmp;
	if (hdr_init(&tmp) < 0)
		return -1;
	int rc = hdr_from_json(&tmp, j);
	if (rc == 0)
		hdr_merge(h, &tmp);
	hdr_fini(&tmp);
	return rc;
}

void collect__generator_line(struct vm_data *d, const char *line, int64_t now)
{
	json_t *o = json_loads(line, 0, NULL);
	const char *type = jget_str(o, "type", NULL);
	const char *op = jget_str(o, "op", NULL);
	if (!type || !op) {
		d->bad_lines++;
		json_decref(o);
		return;
	}
	d->last_report_ns = now;
	if (!strcmp(type, "summary") && !strcmp(op, "all")) {
		json_decref(d->gen_summary);
		d->gen_summary = json_incref(o);
	}
	if (strcmp(type, "interval") || !strcmp(op, "all")) {
		json_decref(o);
		return;
	}
	double secs = jget_num(o, "interval_s", 0), ops = jget_num(o, "ops", 0),
	       errors = jget_num(o, "errors", 0);
	if (ops > 0 && !d->first_load_ns) /* the load began at the latest when this tick did */
		d->first_load_ns = now - (int64_t)(secs * 1e9);
	double t_s = jget_num(o, "t_s", 0);
	if (t_s != d->last_t_s)
		d->tick_ops = 0;
	d->tick_ops += ops - errors;
	d->last_rate = secs > 0 ? d->tick_ops / secs : 0;
	int k = collect__interval_of(d, now - (int64_t)(secs * 5e8));
	if (k >= 0) {
		struct iv_acc *a = &d->iv[k];
		if (t_s != d->last_t_s) /* the first line of a report tick: count its length once */
			a->host_s += secs;
		a->ops += ops;
		a->errors += errors;
		a->lines++;
		double cpu = jget_num(o, "cpu_pct", 0);
		if (cpu > a->gen_cpu_pct)
			a->gen_cpu_pct = cpu;
		int t = type_slot(a, op);
		if (t >= 0) {
			a->type_ops[t] += ops;
			a->type_errors[t] += errors;
		}
		if (merge_hist(&a->lat, json_object_get(o, "hist")) < 0)
			d->bad_lines++;
	}
	d->last_t_s = t_s;
	json_decref(o);
}

static void add_sample(struct vm_data *d, int64_t now, int64_t guest_ns, double count)
{
	if (d->nsamples == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 256;
		struct sample *s = realloc(d->samples, cap * sizeof(*s));
		if (!s)
			return;
		d->samples = s;
		d->cap = cap;
	}
	d->samples[d->nsamples++] = (struct sample){ now, guest_ns, count };
}

void collect__vm_line(struct vm_data *d, const char *line, int64_t now)
{
	if (!strcmp(line, "ready")) {
		d->ready = 1;
		return;
	}
	json_t *o = json_loads(line, 0, NULL);
	const char *type = jget_str(o, "type", NULL);
	if (!type) { /* servers may print other text; only JSON is a report */
		json_decref(o);
		return;
	}
	json_t *g = json_object_get(o, "guest_ns");
	if (!strcmp(type, "progress") && json_is_integer(g)) {
		double ops = jget_num(o, "ops", 0);
		if (d->nsamples) {
			const struct sample *p = &d->samples[d->nsamples - 1];
			d->last_rate = now > p->host_ns
			                   ? (ops - p->count) * 1e9 / (double)(now - p->host_ns)
			                   : 0;
		}
		add_sample(d, now, json_integer_value(g), ops);
		if (ops > 0 && !d->first_load_ns)
			d->first_load_ns = now;
		d->last_report_ns = now;
	} else if (!strcmp(type, "interval") && json_is_integer(g)) {
		/* idle reports every second of its own clock unless told otherwise */
		double secs = jget_num(o, "interval_s", 1);
		add_sample(d, now, json_integer_value(g), jget_num(o, "wakeups_total", 0));
		d->last_rate = jget_num(o, "wakeups", 0) / secs;
		if (!d->first_load_ns)
			d->first_load_ns = now - (int64_t)(secs * 1e9);
		d->last_report_ns = now;
		int k = collect__interval_of(d, now - (int64_t)(secs * 5e8));
		if (k >= 0) {
			d->iv[k].wakeups += jget_num(o, "wakeups", 0);
			d->iv[k].missed += jget_num(o, "missed", 0);
			d->iv[k].lines++;
			if (merge_hist(&d->iv[k].lat, json_object_get(o, "hist")) < 0)
				d->bad_lines++;
		}
	} else if (!strcmp(type, "start")) { /* a self-driven VM starts its work */
		if (!d->first_load_ns)
			d->first_load_ns = now;
	} else {
		json_decref(d->extra);
		d->extra = json_incref(o);
	}
	json_decref(o);
}

int collect__at(const struct vm_data *d, int64_t t, double *count, double *guest_ns)
{
	const struct sample *s = d->samples;
	if (d->nsamples < 2 || t < s[0].host_ns || t > s[d->nsamples - 1].host_ns)
		return -1;
	size_t lo = 0, hi = d->nsamples - 1; /* s[lo].host_ns <= t <= s[hi].host_ns */
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (s[mid].host_ns <= t)
			lo = mid;
		else
			hi = mid;
	}
	double span = (double)(s[hi].host_ns - s[lo].host_ns);
	double f = span > 0 ? (double)(t - s[lo].host_ns) / span : 0;
	*count = s[lo].count + f * (s[hi].count - s[lo].count);
	*guest_ns = (double)s[lo].guest_ns + f * (double)(s[hi].guest_ns - s[lo].guest_ns);
	return 0;
}
