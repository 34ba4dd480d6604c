/* harness/infra.c: the infrastructure workload and VM snapshots of a run (see infra.h). */
#include "harness/infra.h"
#include "harness/run.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "model/infra.h"
#include "model/verdict.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MS              1000000LL
#define NS              1000000000LL
#define STATS_WAIT_NS   (2 * NS)   /* for the source's last statistics before a move */
#define LISTEN_WAIT_NS  (30 * NS)  /* for a migration target to listen */
#define REPLY_WAIT_NS   (600 * NS) /* for the source's answer to snapshot or migrate */
#define RESTORE_WAIT_NS (120 * NS) /* for a restored VM's control socket to answer */

/* The round-robin order of the workloads a CSU moves. */
static const enum role order[NROLES] = { ROLE_DB, ROLE_WEB, ROLE_MAIL, ROLE_JAVA, ROLE_IDLE };

int infra__check(const struct run *r, char *err, size_t errlen)
{
	if (r->rules.infra.method == INFRA_NONE || r->opts.platform->move_cmd)
		return 0;
	snprintf(err, errlen,
	         "%s: rules %s have an infrastructure section, but --platform %s cannot move VMs "
	         "(hv can)",
	         r->opts.rules_path, r->rules.name, r->opts.platform->name);
	return -1;
}

static double ms_between(int64_t a, int64_t b)
{
	return (double)(b - a) / 1e6;
}

/* --- records ------------------------------------------------------------------------------- */

static struct move_rec *add_rec(struct run *r, const struct move *m)
{
	struct infra *in = &r->infra;
	if (in->nrecs == in->cap) {
		size_t cap = in->cap ? 2 * in->cap : 64;
		struct move_rec *n = realloc(in->recs, cap * sizeof(*n));
		if (!n)
			return NULL;
		in->recs = n, in->cap = cap;
	}
	struct move_rec *rec = &in->recs[in->nrecs++];
	memset(rec, 0, sizeof(*rec));
	rec->vm = m->vm;
	rec->method = r->rules.infra.method;
	rec->start_ns = m->start_ns;
	return rec;
}

json_t *infra__result(const struct run *r)
{
	json_t *a = json_array();
	for (size_t i = 0; i < r->infra.nrecs; i++) {
		const struct move_rec *m = &r->infra.recs[i];
		const struct run_vm *v = &r->vm[m->vm];
		double start_s = (double)(m->start_ns - r->t_measure) / 1e9;
		json_t *o = json_pack(
		    "{s:i,s:s,s:s,s:s,s:f,s:f,s:f,s:f,s:i,s:f,s:b,s:i}", "csu", v->plan.csu, "vm",
		    v->plan.name, "role", role_name(v->plan.role), "method",
		    infra_method_name(m->method), "start_s", start_s, "total_ms", m->total_ms,
		    "downtime_ms", m->downtime_ms, "bytes", m->bytes, "rounds", m->rounds, "pages",
		    m->pages, "ok", m->ok, "interval", infra__interval(&r->rules, start_s));
		if (!m->ok)
			json_object_set_new(o, "error", json_string(m->error));
		json_array_append_new(a, o);
	}
	return a;
}

/* --- the pieces of a move ------------------------------------------------------------------- */

/* Adds the numbers of `add` into `into` (objects by key, recursively): an earlier process's hv
 * counters into the current one's. */
static void add_counters(json_t *into, const json_t *add)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)add, k, v)
	{
		json_t *t = json_object_get(into, k);
		if (json_is_number(v) && (!t || json_is_number(t)))
			json_object_set_new(into, k,
			                    json_real(json_number_value(v) + json_number_value(t)));
		else if (json_is_object(v) && json_is_object(t))
			add_counters(t, v);
		else if (json_is_object(v) && !t)
			json_object_set_new(into, k, json_deep_copy(v));
	}
}

void infra__stats_add_base(const struct run_vm *v, json_t *stats)
{
	if (!v->stats_base)
		return;
	static const char *const keys[] = { "exits", "syscalls" };
	for (int i = 0; i < 2; i++) {
		json_t *t = json_object_get(stats, keys[i]);
		if (json_is_object(t))
			add_counters(t, json_object_get(v->stats_base, keys[i]));
	}
}

/* The source's statistics once they are newer than the request: its counters join the base. */
static int took_stats(struct run_vm *v, int64_t asked)
{
	json_t *o = json_load_file(v->plan.stats, 0, NULL);
	json_t *h = json_object_get(o, "host_ns");
	int fresh = json_is_integer(h) && json_integer_value(h) >= asked;
	if (fresh) {
		infra__stats_add_base(v, o);
		json_t *base = json_pack("{s:O,s:O}", "exits", json_object_get(o, "exits"),
		                         "syscalls", json_object_get(o, "syscalls"));
		json_decref(v->stats_base);
		v->stats_base = base;
	}
	json_decref(o);
	return fresh;
}

/* A TCP port on 127.0.0.1 nothing listens on now (the target binds it a moment later). */
static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* Something listens on 127.0.0.1:port (/proc/net/tcp: connecting would take the target's one
 * connection). */
static int listening(int port)
{
	FILE *f = fopen("/proc/net/tcp", "r");
	char line[512], want[32];
	int found = 0;
	snprintf(want, sizeof(want), "0100007F:%04X", port);
	while (f && !found && fgets(line, sizeof(line), f)) {
		char local[64], st[8];
		// NOLINTNEXTLINE(cert-err34-c): the kernel's table, strings only
		if (sscanf(line, " %*s %63s %*s %7s", local, st) == 2)
			found = !strcmp(local, want) && !strcmp(st, "0A");
	}
	if (f)
		(void)fclose(f); /* read only: nothing to lose */
	return found;
}

static int start_target(struct run *r, struct move *m, const char *mode, const char *arg)
{
	struct run_vm *v = &r->vm[m->vm];
	struct cmdline c;
	char log[PATH_MAX], err[512], name[64];
	snprintf(m->target_ctl, sizeof(m->target_ctl), "%s.%d", v->plan.control, v->moves + 1);
	snprintf(log, sizeof(log), "%s/logs/%s.log", r->dir, v->plan.name);
	snprintf(name, sizeof(name), "%s", v->plan.name);
	if (r->opts.platform->move_cmd(&c, &v->plan.server, mode, arg, m->target_ctl) < 0) {
		snprintf(err, sizeof(err), "command line too long");
		return -1;
	}
	unlink(m->target_ctl);
	if (proc__start(&m->target, name, c.argv, c.cwd, log,
	                v->plan.stdin_stop ? PROC_STDIN_PIPE : 0, err, sizeof(err)) < 0) {
		live__phase(r, "%s", err);
		return -1;
	}
	live__phase(r, "started %s (%s %s): pid %d", v->plan.name, mode, arg, (int)m->target.pid);
	return 0;
}

static int send_cmd(struct move *m, const char *ctl, const char *line)
{
	m->fd = vmctl__connect(ctl);
	memset(&m->rd, 0, sizeof(m->rd));
	if (m->fd >= 0 && vmctl__send(m->fd, line) == 0)
		return 0;
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	return -1;
}

static void close_fd(struct move *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}

/* The end of a move. ok: the target is the VM now, the source (ended or ending) is reaped and its
 * CPU time kept. Otherwise the target is stopped and the source goes on; a source that has ended
 * meanwhile is a VM lost, which fails the run. */
static void finish(struct run *r, struct move *m, int ok, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void on_line(void *arg, struct proc *p, const char *line)
{
	(void)p;
	collect__vm_line(&((struct run_vm *)arg)->data, line, run__now());
}

static void reap_source(struct run_vm *v, struct proc *src)
{
	for (int i = 0; i < 500 && !proc__poll_exit(src); i++) {
		proc__read_lines(src, on_line, v);
		poll(NULL, 0, 10);
	}
	/* its last lines, bounded: a pipe some other process still holds never ends */
	for (int i = 0; i < 100 && src->reaped && proc__read_lines(src, on_line, v); i++)
		poll(NULL, 0, 1);
	proc__stop(src, 2000);
	v->cpu_base += src->cpu_s;
}

static void finish(struct run *r, struct move *m, int ok, const char *fmt, ...)
{
	struct run_vm *v = &r->vm[m->vm];
	struct move_rec *rec = add_rec(r, m);
	int64_t now = run__now();
	char how[96];
	close_fd(m);
	if (rec) {
		rec->ok = ok;
		rec->total_ms = ms_between(m->start_ns, now);
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(rec->error, sizeof(rec->error), fmt, ap);
		va_end(ap);
		json_t *rp = m->reply;
		rec->bytes = jget_num(rp, "bytes", 0);
		rec->pages = jget_num(rp, "pages", 0);
		rec->rounds = (int)jget_int(rp, "rounds", ok);
		if (ok && r->rules.infra.method == INFRA_SNAPSHOT) /* paused + until restored */
			rec->downtime_ms =
			    jget_num(rp, "downtime_ms", 0) + ms_between(m->reply_ns, now);
		else
			rec->downtime_ms = jget_num(rp, "downtime_ms", 0);
		if (ok && json_is_number(json_object_get(rp, "total_ms")))
			rec->total_ms = jget_num(rp, "total_ms", 0);
	}
	if (ok) {
		struct proc src = v->vm;
		v->vm = m->target;
		snprintf(v->ctl, sizeof(v->ctl), "%s", m->target_ctl);
		v->moves++;
		reap_source(v, &src);
		live__phase(r, "%s moved (%s): %.0f ms, downtime %.1f ms", v->plan.name,
		            infra_method_name(r->rules.infra.method), rec ? rec->total_ms : 0,
		            rec ? rec->downtime_ms : 0);
	} else {
		/* a source that stopped for its snapshot exits a moment after its answer */
		for (int i = 0; i < 300 && json_is_true(json_object_get(m->reply, "stopped")) &&
		                !proc__poll_exit(&v->vm);
		     i++)
			poll(NULL, 0, 10);
		proc__stop(&m->target, 5000);
		live__phase(r, "%s: move failed: %s", v->plan.name, rec ? rec->error : "?");
		if (proc__poll_exit(&v->vm)) {
			v->died = 1;
			run__fail(r, "invalid",
			          "%s lost in its move (%s): its VMM %s (see logs/%s.log)",
			          v->plan.name, infra_method_name(r->rules.infra.method),
			          proc__describe(&v->vm, how, sizeof(how)), v->plan.name);
		}
	}
	json_decref(m->reply);
	m->reply = NULL;
	m->st = MV_IDLE;
}

/* --- the state machine ---------------------------------------------------------------------- */

static void start_move(struct run *r, int c, int64_t now)
{
	struct infra *in = &r->infra;
	struct move *m = &in->mv[c];
	int i = c * NROLES + (int)order[in->next[c]];
	struct run_vm *v = &r->vm[i];
	if (v->stats_due >= 0 || proc__poll_exit(&v->vm))
		return; /* a boundary's statistics first; a dead VM is the run loop's */
	memset(m, 0, sizeof(*m));
	m->fd = m->target.out_fd = m->target.in_fd = -1;
	m->vm = i;
	m->start_ns = m->state_ns = now;
	m->st = MV_STATS;
	kill(v->vm.pid, SIGUSR1); /* its counters so far, which the next process continues */
	in->due[c]++;
	in->next[c] = (in->next[c] + 1) % NROLES;
}

static char *command(const char *cmd, const char *key, json_t *value, const char *key2,
                     json_t *value2)
{
	json_t *o = json_pack("{s:s}", "cmd", cmd);
	json_object_set_new(o, key, value);
	if (key2)
		json_object_set_new(o, key2, value2);
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* The source's statistics are in (or late): the move proper begins. */
static void begin(struct run *r, struct move *m, int64_t now)
{
	struct run_vm *v = &r->vm[m->vm];
	char *line = NULL, arg[64];
	m->start_ns = m->state_ns = now;
	if (r->rules.infra.method == INFRA_SNAPSHOT) {
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s/snapshots", r->paths.work);
		mkdir(dir, 0755);
		snprintf(m->snap, sizeof(m->snap), "%s/%s-%d.snap", dir, v->plan.name,
		         v->moves + 1);
		line = command("snapshot", "path", json_string(m->snap), "stop", json_true());
		if (!line || send_cmd(m, v->ctl, line) < 0)
			finish(r, m, 0, "control socket %s: %s", v->ctl, strerror(errno));
		else
			m->st = MV_SENT;
		free(line);
		return;
	}
	m->port = free_port();
	snprintf(arg, sizeof(arg), "127.0.0.1:%d", m->port);
	if (m->port < 0 || start_target(r, m, "--incoming", arg) < 0)
		finish(r, m, 0, "cannot start the target vcons-hv --incoming %s", arg);
	else
		m->st = MV_LISTEN;
}

static void on_listen(struct run *r, struct move *m, int64_t now)
{
	struct run_vm *v = &r->vm[m->vm];
	char how[96], to[64];
	if (proc__poll_exit(&m->target)) {
		finish(r, m, 0, "the target %s before it listened",
		       proc__describe(&m->target, how, sizeof(how)));
		return;
	}
	if (!listening(m->port)) {
		if (now - m->state_ns > LISTEN_WAIT_NS)
			finish(r, m, 0, "the target did not listen within %lld s",
			       LISTEN_WAIT_NS / NS);
		return;
	}
	snprintf(to, sizeof(to), "127.0.0.1:%d", m->port);
	char *line = command("migrate", "to", json_string(to), "downtime_ms",
	                     json_integer((json_int_t)r->rules.infra.downtime_limit_ms));
	if (!line || send_cmd(m, v->ctl, line) < 0)
		finish(r, m, 0, "control socket %s: %s", v->ctl, strerror(errno));
	else
		m->st = MV_SENT, m->state_ns = now;
	free(line);
}

static void on_sent(struct run *r, struct move *m, int64_t now)
{
	int rc = vmctl__read(m->fd, &m->rd, &m->reply);
	if (rc == 0) {
		if (now - m->state_ns > REPLY_WAIT_NS)
			finish(r, m, 0, "no answer from the source within %lld s",
			       REPLY_WAIT_NS / NS);
		return;
	}
	if (rc < 0 || !m->reply) {
		finish(r, m, 0, "the source's control socket %s",
		       rc < 0 ? "closed without an answer" : "answered with no JSON object");
		return;
	}
	if (!json_is_true(json_object_get(m->reply, "ok"))) {
		finish(r, m, 0, "%s", jget_str(m->reply, "error", "refused, with no error"));
		return;
	}
	if (r->rules.infra.method == INFRA_MIGRATE) {
		finish(r, m, 1, "%s", "");
		return;
	}
	close_fd(m);
	m->reply_ns = m->state_ns = now;
	if (start_target(r, m, "--restore", m->snap) < 0)
		finish(r, m, 0, "cannot start vcons-hv --restore %s", m->snap);
	else
		m->st = MV_RESTORE;
}

static void on_restore(struct run *r, struct move *m, int64_t now)
{
	char how[96];
	if (proc__poll_exit(&m->target)) {
		finish(r, m, 0, "the restored VM %s (see its log)",
		       proc__describe(&m->target, how, sizeof(how)));
		return;
	}
	if (m->st == MV_RESTORE) {
		if (send_cmd(m, m->target_ctl, "{\"cmd\":\"status\"}") == 0) {
			m->st = MV_STATUS;
			live__phase(r, "%s: the restored VM's control socket is up after %.0f ms",
			            r->vm[m->vm].plan.name, ms_between(m->reply_ns, now));
		} else if (now - m->state_ns > RESTORE_WAIT_NS)
			finish(r, m, 0, "the restored VM's control socket did not answer in %lld s",
			       RESTORE_WAIT_NS / NS);
		return;
	}
	json_t *st = NULL;
	int rc = vmctl__read(m->fd, &m->rd, &st);
	if (rc == 0) {
		if (now - m->state_ns > RESTORE_WAIT_NS)
			finish(r, m, 0,
			       "the restored VM's control socket took the status command "
			       "but did not answer in %lld s",
			       RESTORE_WAIT_NS / NS);
		return;
	}
	int ok = rc == 1 && json_is_true(json_object_get(st, "ok"));
	json_decref(st);
	if (ok)
		finish(r, m, 1, "%s", "");
	else
		finish(r, m, 0, "the restored VM's control socket %s",
		       rc < 0 ? "closed without an answer" : "did not answer ok to status");
}

static void advance(struct run *r, struct move *m, int64_t now)
{
	switch (m->st) {
	case MV_STATS:
		if (took_stats(&r->vm[m->vm], m->state_ns) || now - m->state_ns > STATS_WAIT_NS)
			begin(r, m, now);
		break;
	case MV_LISTEN: on_listen(r, m, now); break;
	case MV_SENT: on_sent(r, m, now); break;
	case MV_RESTORE:
	case MV_STATUS: on_restore(r, m, now); break;
	default: break;
	}
}

void infra__tick(struct run *r, int64_t now)
{
	const struct infra_rule *ir = &r->rules.infra;
	if (ir->method == INFRA_NONE || !r->t_measure)
		return;
	const double measured_s = r->rules.intervals * r->rules.interval_s;
	for (int c = 0; c < r->opts.csus; c++) {
		struct move *m = &r->infra.mv[c];
		if (m->st != MV_IDLE) {
			advance(r, m, now);
			continue;
		}
		double due_s = r->infra.due[c] * ir->every_s;
		if (strcmp(r->status, "valid") || due_s >= measured_s ||
		    now < r->t_measure + (int64_t)(due_s * 1e9) ||
		    now >= r->t_measure + (int64_t)(measured_s * 1e9))
			continue;
		start_move(r, c, now);
	}
}

int infra__busy(const struct run *r)
{
	int n = 0;
	for (int c = 0; c < r->opts.csus; c++)
		n += r->infra.mv[c].st != MV_IDLE;
	return n;
}

int infra__wait_ms(const struct run *r)
{
	return infra__busy(r) ? 2 : 100;
}

int infra__moving(const struct run *r, int vm)
{
	for (int c = 0; c < r->opts.csus; c++)
		if (r->infra.mv[c].st != MV_IDLE && r->infra.mv[c].vm == vm)
			return 1;
	return 0;
}

struct proc *infra__other(struct run *r, int vm)
{
	for (int c = 0; c < r->opts.csus; c++) {
		struct move *m = &r->infra.mv[c];
		if (m->st != MV_IDLE && m->vm == vm && m->target.pid)
			return &m->target;
	}
	return NULL;
}

void infra__stop(struct run *r)
{
	for (int c = 0; c < r->opts.csus; c++) {
		struct move *m = &r->infra.mv[c];
		if (m->st == MV_IDLE)
			continue;
		close_fd(m);
		proc__stop(&m->target, 3000);
		json_decref(m->reply);
		m->reply = NULL;
		m->st = MV_IDLE;
	}
}

void infra__free(struct run *r)
{
	free(r->infra.recs);
	r->infra.recs = NULL;
	r->infra.nrecs = r->infra.cap = 0;
	for (int i = 0; i < r->nvms; i++) {
		json_decref(r->vm[i].stats_base);
		r->vm[i].stats_base = NULL;
	}
}

/* --- --save-snapshots ----------------------------------------------------------------------- */

static int call_ok(const char *ctl, const char *line, int timeout_ms, char *err, size_t errlen)
{
	json_t *a = vmctl__call(ctl, line, timeout_ms, err, errlen);
	int ok = a && json_is_true(json_object_get(a, "ok"));
	if (a && !ok)
		snprintf(err, errlen, "%s: %s", ctl, jget_str(a, "error", "refused"));
	json_decref(a);
	return ok ? 0 : -1;
}

/* cp -a: the copy keeps sizes and modification times, which a snapshot's open files are checked
 * against when it is restored. */
static int copy_tree(struct run *r, const char *from, const char *to, char *err, size_t errlen)
{
	const char *argv[] = { "/bin/cp", "-a", from, to, NULL };
	char log[PATH_MAX], how[96];
	struct proc p;
	snprintf(log, sizeof(log), "%s/logs/snapshots.log", r->dir);
	if (proc__start(&p, "cp", argv, NULL, log, 0, err, errlen) < 0)
		return -1;
	for (int waited_ms = 0; !proc__poll_exit(&p) && waited_ms < 600 * 1000; waited_ms += 10)
		poll(NULL, 0, 10); /* a big disk takes a while; proc__stop would end it at once */
	proc__stop(&p, 0);
	if (WIFEXITED(p.status) && !WEXITSTATUS(p.status))
		return 0;
	snprintf(err, errlen, "cp -a %s %s %s (see logs/snapshots.log)", from, to,
	         proc__describe(&p, how, sizeof(how)));
	return -1;
}

static int save_vm(struct run *r, struct run_vm *v, const char *dir, char *err, size_t errlen)
{
	char disk[PATH_MAX], snap[PATH_MAX];
	snprintf(disk, sizeof(disk), "%s/%s", dir, v->plan.name);
	snprintf(snap, sizeof(snap), "%s/%s.snap", dir, v->plan.name);
	fs_rmtree(disk, false);
	if (call_ok(v->ctl, "{\"cmd\":\"pause\"}", 10000, err, errlen) < 0)
		return -1;
	char *line = command("snapshot", "path", json_string(snap), NULL, NULL);
	int rc = copy_tree(r, v->plan.dir, disk, err, errlen);
	if (rc == 0)
		rc = line ? call_ok(v->ctl, line, 600 * 1000, err, errlen) : -1;
	free(line);
	char err2[256];
	if (call_ok(v->ctl, "{\"cmd\":\"resume\"}", 10000, err2, sizeof(err2)) < 0 && rc == 0) {
		snprintf(err, errlen, "%s", err2);
		rc = -1;
	}
	return rc;
}

int infra__save(struct run *r, const char *dir, char *err, size_t errlen)
{
	for (int i = 0; i < r->nvms; i++) {
		struct run_vm *v = &r->vm[i];
		int64_t t0 = run__now();
		if (save_vm(r, v, dir, err, errlen) < 0)
			return -1;
		live__phase(r, "saved %s to %s/%s.snap (paused %.0f ms)", v->plan.name, dir,
		            v->plan.name, ms_between(t0, run__now()));
	}
	return 0;
}

/* --- --from-snapshots ----------------------------------------------------------------------- */

int infra__check_snapshots(const struct run *r, char *err, size_t errlen)
{
	const char *dir = r->opts.from_snapshots;
	struct stat st;
	for (int i = 0; dir && i < r->nvms; i++) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s.snap", dir, r->vm[i].plan.name);
		if (stat(path, &st) == 0)
			snprintf(path, sizeof(path), "%s/%s", dir, r->vm[i].plan.name);
		if (stat(path, &st) < 0) {
			snprintf(err, errlen, "--from-snapshots: %s: %s", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

int infra__restore_disk(struct run *r, struct run_vm *v, char *err, size_t errlen)
{
	char from[PATH_MAX];
	snprintf(from, sizeof(from), "%s/%s", r->opts.from_snapshots, v->plan.name);
	fs_rmtree(v->plan.dir, false);
	return copy_tree(r, from, v->plan.dir, err, errlen);
}

int infra__restore_cmd(const struct run *r, const struct run_vm *v, struct cmdline *c)
{
	char snap[PATH_MAX];
	snprintf(snap, sizeof(snap), "%s/%s.snap", r->opts.from_snapshots, v->plan.name);
	return r->opts.platform->move_cmd(c, &v->plan.server, "--restore", snap, v->ctl);
}
