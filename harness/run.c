/* harness/run.c: the phases of one run and its processes (see run.h). */
#include "harness/run.h"
#include "lib/fs.h"
#include "model/result.h"
#include "model/verdict.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int64_t run__now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void run__fail(struct run *r, const char *status, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!strcmp(r->status, "valid") || !strcmp(status, "aborted"))
		r->status = status;
	json_array_append_new(r->failures, json_string(buf));
	live__phase(r, "%s", buf);
}

static int failed(const struct run *r)
{
	return strcmp(r->status, "valid") != 0;
}

static int mkdirs(const char *path)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return mkdir(buf, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

/* results/<date>T<time>-<platform>-<N>csu[-k]: created here, so two runs never share one. */
static int make_run_dir(struct run *r, char *err, size_t errlen)
{
	time_t now = time(NULL);
	struct tm tm;
	char stamp[32];
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", localtime_r(&now, &tm));
	if (mkdirs(r->opts.out_dir) < 0) {
		snprintf(err, errlen, "%s: %s", r->opts.out_dir, strerror(errno));
		return -1;
	}
	for (int k = 0; k < 100; k++) {
		snprintf(r->id, sizeof(r->id), "%s-%s-%dcsu%s%.0d", stamp, r->opts.platform->name,
		         r->opts.csus, k ? "-" : "", k);
		snprintf(r->dir, sizeof(r->dir), "%s/%s", r->opts.out_dir, r->id);
		if (mkdir(r->dir, 0755) == 0) {
			char logs[PATH_MAX];
			snprintf(logs, sizeof(logs), "%s/logs", r->dir);
			return mkdir(logs, 0755);
		}
		if (errno != EEXIST)
			break;
	}
	snprintf(err, errlen, "%s: %s", r->dir, strerror(errno));
	return -1;
}

static void log_path(const struct run *r, const struct run_vm *v, const char *suffix, char *out,
                     size_t len)
{
	snprintf(out, len, "%s/logs/%s%s.log", r->dir, v->plan.name, suffix);
}

/* On hv the guest program is part of the VM's disk: copy it to <root>/bin. */
static int prepare_disk(struct run *r, struct run_vm *v, char *err, size_t errlen)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/data", v->plan.dir);
	if (mkdirs(path) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!r->opts.platform->vmm_clock)
		return 0; /* the program runs from the build */
	const char *prog = strrchr(v->plan.server.argv[v->plan.server.argc - 1], '/');
	for (int i = 0; i < v->plan.server.argc; i++)
		if (!strcmp(v->plan.server.argv[i], "--"))
			prog = strrchr(v->plan.server.argv[i + 1], '/');
	char from[PATH_MAX], to[PATH_MAX];
	snprintf(path, sizeof(path), "%s/bin", v->plan.dir);
	snprintf(from, sizeof(from), "%s/guest%s", r->paths.build, prog);
	snprintf(to, sizeof(to), "%s%s", path, prog);
	if (mkdirs(path) < 0 || result__copy_file(from, to, err, errlen) < 0 || chmod(to, 0755) < 0)
		return -1;
	return 0;
}

static void discard(void *arg, struct proc *p, const char *line)
{
	(void)arg, (void)p, (void)line;
}

/* Every VM loads its data set at once; the slowest decides how long this takes. */
static int provision(struct run *r, char *err, size_t errlen)
{
	struct proc pr[RUN_MAX_VMS];
	int n = 0, rc = 0;
	memset(pr, 0, sizeof(pr));
	for (int i = 0; i < r->nvms && rc == 0; i++) {
		struct run_vm *v = &r->vm[i];
		char log[PATH_MAX], name[64];
		if (r->opts.from_snapshots) { /* the disk as it was saved, nothing to provision */
			if (infra__restore_disk(r, v, err, errlen) < 0)
				return -1;
			continue;
		}
		if (prepare_disk(r, v, err, errlen) < 0)
			return -1;
		if (!v->plan.provision.argc)
			continue;
		log_path(r, v, "", log, sizeof(log));
		snprintf(name, sizeof(name), "%s-provision", v->plan.name);
		rc = proc__start(&pr[i], name, v->plan.provision.argv, v->plan.provision.cwd, log,
		                 0, err, errlen);
		n++;
	}
	for (int i = 0; i < r->nvms; i++) {
		while (pr[i].pid && !proc__poll_exit(&pr[i])) {
			if (*r->interrupt) {
				proc__stop(&pr[i], 2000);
				break;
			}
			proc__read_lines(&pr[i], discard, NULL);
			poll(NULL, 0, 20);
		}
		char how[96];
		if (pr[i].pid && rc == 0 &&
		    (!WIFEXITED(pr[i].status) || WEXITSTATUS(pr[i].status))) {
			snprintf(err, errlen, "%s: provisioning %s (see logs/%s.log)", pr[i].name,
			         proc__describe(&pr[i], how, sizeof(how)), r->vm[i].plan.name);
			rc = -1;
		}
		proc__stop(&pr[i], 0);
	}
	return rc < 0 || *r->interrupt ? -1 : 0;
}

static void on_vm_line(void *arg, struct proc *p, const char *line)
{
	(void)p;
	collect__vm_line(&((struct run_vm *)arg)->data, line, run__now());
}

/* A VM started from a snapshot is ready once its control socket answers (its servers said
 * "ready" before the snapshot). */
static int restored_ready(struct run *r, struct run_vm *v)
{
	if (!r->opts.from_snapshots || v->data.ready)
		return 1;
	char err[256];
	json_t *a = vmctl__call(v->ctl, "{\"cmd\":\"status\"}", 200, err, sizeof(err));
	v->data.ready = a && json_is_true(json_object_get(a, "ok"));
	json_decref(a);
	return v->data.ready;
}

/* Starts every VM and waits until each server says "ready" (or, from snapshots, each answers). */
static int start_vms(struct run *r, char *err, size_t errlen)
{
	for (int i = 0; i < r->nvms; i++) {
		struct run_vm *v = &r->vm[i];
		char log[PATH_MAX];
		struct cmdline restore;
		const struct cmdline *c = &v->plan.server;
		log_path(r, v, "", log, sizeof(log));
		if (r->opts.from_snapshots) {
			if (infra__restore_cmd(r, v, &restore) < 0) {
				snprintf(err, errlen, "%s: command line too long", v->plan.name);
				return -1;
			}
			c = &restore;
		}
		if (proc__start(&v->vm, v->plan.name, c->argv, c->cwd, log,
		                v->plan.stdin_stop ? PROC_STDIN_PIPE : 0, err, errlen) < 0)
			return -1;
		v->started = 1;
		live__phase(r, "started %s: pid %d", v->plan.name, (int)v->vm.pid);
	}
	int64_t deadline = run__now() + r->opts.platform->ready_timeout_s * (int64_t)1000000000;
	for (;;) {
		int waiting = 0;
		for (int i = 0; i < r->nvms; i++) {
			struct run_vm *v = &r->vm[i];
			proc__read_lines(&v->vm, on_vm_line, v);
			if (proc__poll_exit(&v->vm)) {
				char how[96];
				snprintf(err, errlen, "%s %s while starting (see logs/%s.log)",
				         v->plan.name, proc__describe(&v->vm, how, sizeof(how)),
				         v->plan.name);
				return -1;
			}
			waiting += r->opts.from_snapshots ? !restored_ready(r, v)
			                                  : v->plan.prints_ready && !v->data.ready;
		}
		if (!waiting)
			return 0;
		if (*r->interrupt || run__now() > deadline) {
			snprintf(err, errlen, "%s",
			         *r->interrupt ? "interrupted while starting VMs"
			                       : "VMs not ready within 120 s");
			return -1;
		}
		poll(NULL, 0, 10);
	}
}

static int start_generators(struct run *r, char *err, size_t errlen)
{
	r->t_load = run__now();
	r->t_measure = r->t_load + (int64_t)((r->rules.ramp_up_s + r->rules.warm_up_s) * 1e9);
	for (int i = 0; i < r->nvms; i++) {
		struct run_vm *v = &r->vm[i];
		collect__set_window(&v->data, r->t_measure, (int64_t)(r->rules.interval_s * 1e9));
		if (!v->plan.generator.argc)
			continue;
		char log[PATH_MAX], name[64];
		log_path(r, v, "-load", log, sizeof(log));
		snprintf(name, sizeof(name), "%s-load", v->plan.name);
		if (proc__start(&v->gen, name, v->plan.generator.argv, NULL, log, 0, err, errlen) <
		    0)
			return -1;
		v->gen_started = 1;
		live__phase(r, "started %s: pid %d", name, (int)v->gen.pid);
	}
	return 0;
}

static void drain_vm(void *arg, struct proc *p, const char *line)
{
	on_vm_line(arg, p, line);
}

/* Self-driven VMs stop when their stdin closes (they send a last report); servers get SIGTERM. */
static void teardown(struct run *r)
{
	infra__stop(r);
	for (int i = 0; i < r->nvms; i++)
		proc__close_stdin(&r->vm[i].vm);
	int64_t deadline = run__now() + 5 * (int64_t)1000000000;
	for (int i = 0; i < r->nvms; i++) {
		struct run_vm *v = &r->vm[i];
		while (v->plan.stdin_stop && v->started && !proc__poll_exit(&v->vm) &&
		       run__now() < deadline) {
			proc__read_lines(&v->vm, drain_vm, v);
			poll(NULL, 0, 10);
		}
		proc__read_lines(&v->vm, drain_vm, v);
	}
	for (int i = 0; i < r->nvms; i++) {
		proc__stop(&r->vm[i].gen, 3000);
		proc__stop(&r->vm[i].vm, 5000);
	}
}

/* Work directories of runs whose vcons was killed (their PID, the name's last part, is gone). */
static void remove_stale_work(const char *tmp)
{
	DIR *d = opendir(tmp);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		const char *dash = strrchr(e->d_name, '-');
		if (strncmp(e->d_name, "vcons-work-", 11) || !dash)
			continue;
		long pid = strtol(dash + 1, NULL, 10);
		char path[PATH_MAX];
		if (pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH) {
			snprintf(path, sizeof(path), "%s/%s", tmp, e->d_name);
			fs_rmtree(path, false);
		}
	}
	if (d)
		closedir(d);
}

static int setup(const struct run_opts *o, struct run *r, char *err, size_t errlen, int *code)
{
	*code = RUN_EXIT_CONFIG;
	if (config__load_csu(o->csu_path, &r->profile, err, errlen) < 0 ||
	    config__load_rules(o->rules_path, &r->rules, err, errlen) < 0)
		return -1;
	*code = RUN_EXIT_PLATFORM;
	if (o->platform->check(o->build, err, errlen) < 0)
		return -1;
	*code = RUN_EXIT_CONFIG;
	if (infra__check(r, err, errlen) < 0)
		return -1;
	*code = RUN_EXIT_FAILURE;
	if (r->rules.intervals > COLLECT_MAX_INTERVALS) {
		snprintf(err, errlen, "%s: at most %d intervals", o->rules_path,
		         COLLECT_MAX_INTERVALS);
		return -1;
	}
	if (make_run_dir(r, err, errlen) < 0)
		return -1;
	snprintf(r->paths.build, sizeof(r->paths.build), "%s", o->build);
	const char *tmp = getenv("TMPDIR");
	tmp = tmp ? tmp : "/tmp";
	remove_stale_work(tmp);
	snprintf(r->paths.work, sizeof(r->paths.work), "%s/vcons-work-%s-%d", tmp, r->id,
	         (int)getpid());
	r->paths.clock_scale = o->clock_scale;
	r->paths.net_a = o->net_a;
	r->paths.net_b = o->net_b;
	r->paths.control =
	    r->rules.infra.method != INFRA_NONE || o->save_snapshots || o->from_snapshots;
	r->paths.journal = r->paths.control; /* runs that move VMs check the mail after them */
	if (mkdirs(r->paths.work) < 0) {
		snprintf(err, errlen, "%s: %s", r->paths.work, strerror(errno));
		return -1;
	}
	const struct run_rules *ru = &r->rules;
	r->load_s =
	    ru->ramp_up_s + ru->warm_up_s + ru->intervals * ru->interval_s + ru->ramp_down_s;
	r->nvms = o->csus * NROLES;
	for (int i = 0; i < r->nvms; i++) {
		struct run_vm *v = &r->vm[i];
		if (plan__vm(&r->profile, o->platform, &r->paths, i / NROLES,
		             (enum role)(i % NROLES), r->load_s, ru->ramp_up_s, &v->plan, err,
		             errlen) < 0 ||
		    collect__init(&v->data, v->plan.role, ru->intervals) < 0)
			return -1;
		v->stats_due = -1;
		_Static_assert(sizeof(v->ctl) == sizeof(v->plan.control), "control path sizes");
		memcpy(v->ctl, v->plan.control, sizeof(v->ctl));
	}
	return infra__check_snapshots(r, err, errlen);
}

int run__once(const struct run_opts *o, struct run *r)
{
	static volatile int no_interrupt;
	volatile int *intr = r->interrupt ? r->interrupt : &no_interrupt;
	memset(r, 0, sizeof(*r));
	r->interrupt = intr;
	r->opts = *o;
	r->status = "valid";
	r->failures = json_array();
	r->t_start = run__now();
	char err[1024];
	int code;
	if (setup(o, r, err, sizeof(err), &code) < 0) {
		fprintf(stderr, "vcons: %s\n", err);
		return code;
	}
	live__phase(r, "run %s: %d CSU(s) on %s, rules %s, results in %s", r->id, o->csus,
	            o->platform->name, r->rules.name, r->dir);
	live__phase(r, "provisioning");
	if (provision(r, err, sizeof(err)) < 0)
		run__fail(r, *r->interrupt ? "aborted" : "invalid", "%s",
		          *r->interrupt ? "interrupted while provisioning" : err);
	if (!failed(r)) {
		live__phase(r, "starting VMs");
		r->t_vms = run__now();
		if (start_vms(r, err, sizeof(err)) < 0)
			run__fail(r, *r->interrupt ? "aborted" : "invalid", "%s", err);
	}
	if (!failed(r)) {
		live__phase(r, "load: ramp-up %gs, warm-up %gs, %d x %gs measured, ramp-down %gs",
		            r->rules.ramp_up_s, r->rules.warm_up_s, r->rules.intervals,
		            r->rules.interval_s, r->rules.ramp_down_s);
		if (start_generators(r, err, sizeof(err)) < 0)
			run__fail(r, "invalid", "%s", err);
		else
			run__measure(r);
	}
	live__phase(r, "teardown");
	teardown(r);
	r->t_end = run__now();
	r->result = run__result(r);
	if (!r->result || verdict__evaluate(r->result, &r->rules) < 0) {
		fprintf(stderr, "vcons: out of memory building the result\n");
		return RUN_EXIT_FAILURE;
	}
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/result.json", r->dir);
	if (result__write(path, r->result, err, sizeof(err)) < 0) {
		fprintf(stderr, "vcons: %s\n", err);
		return RUN_EXIT_FAILURE;
	}
	if (!o->keep_work)
		fs_rmtree(r->paths.work, false);
	if (!strcmp(r->status, "aborted"))
		return RUN_EXIT_ABORTED;
	return failed(r) ? RUN_EXIT_INVALID : 0;
}

void run__free(struct run *r)
{
	for (int i = 0; i < r->nvms; i++)
		collect__fini(&r->vm[i].data);
	infra__free(r);
	json_decref(r->failures);
	json_decref(r->result);
	r->failures = r->result = NULL;
}
