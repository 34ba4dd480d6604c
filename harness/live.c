/* harness/live.c: what a person watching a run sees. On a terminal (opts.live) a view redrawn every
 * second: phase, time left, each VM's throughput against its target and its QoS state so far;
 * otherwise one line per phase change and per finished interval, for logs and CI. */
#include "harness/metrics.h"
#include "harness/run.h"
#include "model/verdict.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int drawn_lines; /* the live view's height on the terminal, to redraw it in place */

static void clear_view(void)
{
	for (; drawn_lines > 0; drawn_lines--)
		fputs("\033[1A\033[2K", stdout);
}

void live__phase(struct run *r, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (r->opts.live)
		clear_view();
	double t = r->t_start ? (double)(run__now() - r->t_start) / 1e9 : 0;
	printf("[%6.1fs] %s\n", t, buf);
	(void)fflush(stdout);
}

static const char *phase_at(const struct run *r, int64_t now, double *left_s)
{
	const struct run_rules *ru = &r->rules;
	double t = (double)(now - r->t_load) / 1e9;
	double ends[] = { ru->ramp_up_s, ru->ramp_up_s + ru->warm_up_s,
		          ru->ramp_up_s + ru->warm_up_s + ru->intervals * ru->interval_s,
		          r->load_s };
	static const char *const names[] = { "ramp-up", "warm-up", "measuring", "ramp-down" };
	for (int i = 0; i < 4; i++)
		if (t < ends[i]) {
			*left_s = r->load_s - t;
			return names[i];
		}
	*left_s = 0;
	return "finishing";
}

void live__tick(struct run *r, int64_t now)
{
	if (!r->opts.live)
		return;
	clear_view();
	double left;
	const char *phase = phase_at(r, now, &left);
	printf("  %s, %.0f s left\n", phase, left);
	drawn_lines = 1;
	for (int i = 0; i < r->nvms; i++) {
		const struct run_vm *v = &r->vm[i];
		const struct vm_profile *p = &r->profile.vm[v->plan.role];
		char target[32] = "self-driven";
		if (p->rate > 0)
			snprintf(target, sizeof(target), "target %.0f/s", p->rate);
		printf("  %-10s %10.1f %-7s %-15s %s\n", v->plan.name, v->data.last_rate,
		       v->plan.role == ROLE_IDLE ? "wakes/s" : "ops/s", target, v->qos);
		drawn_lines++;
	}
	(void)fflush(stdout);
}

/* QoS of a generator-driven VM's finished interval, judged as the verdict will judge it. */
static void qos_state(struct run *r, struct run_vm *v, int k)
{
	json_t *ivs = metrics__intervals(&v->data, r->opts.platform);
	char why[100];
	if (verdict__qos(json_array_get(ivs, (size_t)k), &r->rules, v->plan.role,
	                 r->profile.vm[v->plan.role].rate, why, sizeof(why)) < 0)
		snprintf(v->qos, sizeof(v->qos), "QoS missed in interval %d: %s", k + 1, why);
	else
		snprintf(v->qos, sizeof(v->qos), "QoS met in interval %d", k + 1);
	json_decref(ivs);
}

/* One line per finished interval: every busy VM's rate and its response-time percentile. */
void live__interval(struct run *r, int k)
{
	char line[2048];
	size_t used = 0;
	for (int i = 0; i < r->nvms && used < sizeof(line); i++) {
		struct run_vm *v = &r->vm[i];
		if (v->plan.role == ROLE_IDLE)
			continue;
		if (v->plan.role != ROLE_JAVA)
			qos_state(r, &r->vm[i], k);
		double rate = 0;
		if (v->plan.role ==
		    ROLE_JAVA) /* its exact figure needs the next report: show the last */
			rate = v->data.last_rate;
		else if (v->data.iv[k].host_s > 0) {
			const struct iv_acc *a = &v->data.iv[k];
			rate = (a->ops - a->errors) / a->host_s;
		}
		used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s %.1f/s",
		                         used ? ", " : "", v->plan.name, rate);
	}
	live__phase(r, "interval %d/%d: %s", k + 1, r->rules.intervals, line);
}
