/* harness/run_loop.c: the measurement loop of a run (see run.h): reads every report line as it
 * arrives and stamps it with the host clock, takes the snapshots at the interval boundaries (host
 * CPU time of every VM; on hv the statistics vcons-hv writes on SIGUSR1), watches every child, and
 * keeps the live view going. */
#include "harness/run.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NS 1000000000LL

double run__cpu_s(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	(void)fclose(f);
	buf[n] = 0;
	const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
	unsigned long long ut, st;
	if (!p ||
	    // NOLINTNEXTLINE(cert-err34-c): the kernel's /proc numbers
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

double run__vm_cpu_s(const struct run_vm *v)
{
	double cpu = run__cpu_s(v->vm.pid);
	return cpu < 0 ? cpu : cpu + v->cpu_base;
}

static void on_gen_line(void *arg, struct proc *p, const char *line)
{
	(void)p;
	collect__generator_line(&((struct run_vm *)arg)->data, line, run__now());
}

static void on_vm_line(void *arg, struct proc *p, const char *line)
{
	(void)p;
	collect__vm_line(&((struct run_vm *)arg)->data, line, run__now());
}

static void snapshot(struct run *r, int b, int64_t now)
{
	for (int i = 0; i < r->nvms; i++) {
		struct run_vm *v = &r->vm[i];
		struct snapshot *s = &v->data.snap[b];
		s->have = 1;
		s->host_ns = now;
		s->cpu_s = run__vm_cpu_s(v);
		/* a VM moving now has no statistics at this boundary: its process is changing */
		if (r->opts.platform->vmm_clock && !v->vm.reaped && !infra__moving(r, i)) {
			kill(v->vm.pid, SIGUSR1); /* vcons-hv or vcons-qemu writes its statistics */
			v->stats_due = b;
			v->stats_asked_ns = now;
		}
	}
}

/* The statistics file vcons-hv wrote after SIGUSR1, once it is newer than the request. */
static void read_stats(struct run_vm *v, int64_t now)
{
	if (v->stats_due < 0 || now - v->stats_asked_ns < NS / 5)
		return;
	json_t *o = json_load_file(v->plan.stats, 0, NULL);
	json_t *h = json_object_get(o, "host_ns"), *g = json_object_get(o, "guest_ns");
	if (json_is_integer(h) && json_is_integer(g) &&
	    json_integer_value(h) >= v->stats_asked_ns) {
		infra__stats_add_base(v, o);
		struct snapshot *s = &v->data.snap[v->stats_due];
		s->have_stats = 1;
		s->stats_host_ns = json_integer_value(h);
		s->stats_guest_ns = json_integer_value(g);
		json_decref(s->exits);
		s->exits = json_incref(json_object_get(o, "exits"));
		json_decref(s->syscalls);
		s->syscalls = json_incref(json_object_get(o, "syscalls"));
		v->stats_due = -1;
	} else if (now - v->stats_asked_ns > 3 * NS) {
		v->stats_due = -1; /* recorded as missing: no dilation figure for this boundary */
	}
	json_decref(o);
}

/* A VM must live through the load; a generator must finish its whole duration, successfully. */
static int check_children(struct run *r, int64_t now, int64_t gen_end)
{
	char how[96];
	for (int i = 0; i < r->nvms; i++) {
		struct run_vm *v = &r->vm[i];
		if (!infra__moving(r, i) && proc__poll_exit(&v->vm)) {
			proc__read_lines(&v->vm, on_vm_line, v);
			v->died = 1;
			run__fail(r, "invalid", "%s %s during the run (see logs/%s.log)",
			          v->plan.name, proc__describe(&v->vm, how, sizeof(how)),
			          v->plan.name);
			return -1;
		}
		if (!v->gen_started || v->gen_done || !proc__poll_exit(&v->gen))
			continue;
		while (proc__read_lines(&v->gen, on_gen_line, v))
			;
		v->gen_done = 1;
		if (!WIFEXITED(v->gen.status) || WEXITSTATUS(v->gen.status) ||
		    now < gen_end - 2 * NS) {
			run__fail(r, "invalid", "%s %s after %.1f s of %.0f (see logs/%s-load.log)",
			          v->gen.name, proc__describe(&v->gen, how, sizeof(how)),
			          (double)(now - r->t_load) / 1e9, r->load_s, v->plan.name);
			return -1;
		}
	}
	return 0;
}

/* The last boundary's hv statistics arrive a moment after it: wait for them (at most 3 s). */
static void finish_stats(struct run *r)
{
	for (int waited = 0; waited < 30; waited++) {
		int due = 0;
		for (int i = 0; i < r->nvms; i++) {
			read_stats(&r->vm[i], run__now());
			due += r->vm[i].stats_due >= 0;
		}
		if (!due)
			return;
		poll(NULL, 0, 100);
	}
}

static int failed(const struct run *r)
{
	return strcmp(r->status, "valid") != 0;
}

static int gens_running(const struct run *r)
{
	int n = 0;
	for (int i = 0; i < r->nvms; i++)
		n += r->vm[i].gen_started && !r->vm[i].gen_done;
	return n;
}

void run__measure(struct run *r)
{
	const int64_t interval_ns = (int64_t)(r->rules.interval_s * 1e9);
	const int64_t gen_end = r->t_load + (int64_t)(r->load_s * 1e9);
	int next_b = 0;
	int64_t last_tick = 0, save_at = 0;
	char err[512];
	if (r->opts.save_snapshots) { /* 5 s before the warm-up ends, within the warm-up */
		double lead = r->rules.warm_up_s < 10 ? r->rules.warm_up_s / 2 : 5;
		save_at = r->t_measure - (int64_t)(lead * 1e9);
	}
	struct pollfd fds[2 * RUN_MAX_VMS];
	for (;;) {
		int n = 0;
		for (int i = 0; i < r->nvms; i++) {
			if (r->vm[i].vm.out_fd >= 0)
				fds[n++] =
				    (struct pollfd){ .fd = r->vm[i].vm.out_fd, .events = POLLIN };
			if (r->vm[i].gen.out_fd >= 0)
				fds[n++] =
				    (struct pollfd){ .fd = r->vm[i].gen.out_fd, .events = POLLIN };
		}
		poll(fds, (nfds_t)n, infra__wait_ms(r));
		int64_t now = run__now();
		for (int i = 0; i < r->nvms; i++) {
			struct proc *other = infra__other(r, i);
			proc__read_lines(&r->vm[i].vm, on_vm_line, &r->vm[i]);
			if (other)
				proc__read_lines(other, on_vm_line, &r->vm[i]);
			proc__read_lines(&r->vm[i].gen, on_gen_line, &r->vm[i]);
			read_stats(&r->vm[i], now);
		}
		if (check_children(r, now, gen_end) < 0)
			return;
		while (next_b <= r->rules.intervals && now >= r->t_measure + next_b * interval_ns) {
			snapshot(r, next_b, now);
			if (next_b > 0)
				live__interval(r, next_b - 1);
			next_b++;
		}
		if (save_at && now >= save_at) {
			save_at = 0;
			if (infra__save(r, r->opts.save_snapshots, err, sizeof(err)) < 0) {
				run__fail(r, "invalid", "--save-snapshots: %s", err);
				return;
			}
		}
		infra__tick(r, now);
		if (failed(r))
			return;
		if (now - last_tick >= NS) {
			live__tick(r, now);
			last_tick = now;
		}
		if (*r->interrupt) {
			run__fail(r, "aborted", "interrupted by a signal");
			return;
		}
		if (!gens_running(r) && next_b > r->rules.intervals && !infra__busy(r)) {
			finish_stats(r);
			return;
		}
		if (now > gen_end + 60 * NS) {
			run__fail(r, "invalid",
			          "load generators still running 60 s after their end");
			return;
		}
	}
}
