/* hv/control.c: vcons-hv's control socket (--control PATH; control.h has the protocol): a Unix
 * stream socket served by one thread, one connection at a time, one JSON line in and one out per
 * command. It drives the VM through hv.h only, as any other program could. */
#include "hv/control.h"
#include "hv/hv.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_    65536
#define SETTLE_TRIES 16 /* 5 ms apart, doubling up to 250: about 2.5 s */
#define RESET_AFTER  10 /* tries (about 1 s), then waiting connections are reset */

struct control {
	struct hv_vm *vm;
	const char *name;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd;
	pthread_t thread;
	uint64_t start_ns;
	int *stopped; /* set when a snapshot stopped the VM: vcons-hv exits 0 */
	char end_why[1024];
	int end_vm; /* a snapshot with "stop" was answered: end the VM after the reply (1: it was
	             * written, vcons-hv exits 0; 2: it failed, exit 71) */
};

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static void settle_pause(int tries)
{
	long ms = tries < 6 ? 5L << tries : 250;
	struct timespec t = { 0, ms * 1000000L };
	nanosleep(&t, NULL);
}

/* {"ok":false,"error":"WHAT: WHY"} */
static json_t *error(const char *what, const char *why)
{
	char msg[1200];
	snprintf(msg, sizeof(msg), "%s%s%s", what, *what ? ": " : "", why);
	return json_pack("{s:b,s:s}", "ok", 0, "error", msg);
}

static json_t *cmd_status(struct control *c)
{
	return json_pack("{s:b,s:s,s:s,s:f}", "ok", 1, "name", c->name, "state",
	                 hv_vm_paused(c->vm) ? "paused" : "running", "uptime_ms",
	                 (double)(now_ns() - c->start_ns) / 1e6);
}

static json_t *cmd_pause(struct control *c)
{
	char err[256];
	uint64_t t0 = now_ns();
	if (hv_vm_pause(c->vm, err, sizeof(err)) < 0)
		return error("pause", err);
	return json_pack("{s:b,s:f}", "ok", 1, "pause_ms", (double)(now_ns() - t0) / 1e6);
}

static json_t *cmd_resume(struct control *c)
{
	hv_vm_resume(c->vm);
	return json_pack("{s:b}", "ok", 1);
}

/* Pauses (unless paused), writes the snapshot, then resumes what was running, or, with "stop",
 * lets go of the VM's connections and ends it: the snapshot carries them on. */
static json_t *cmd_snapshot(struct control *c, json_t *req)
{
	const char *path = json_string_value(json_object_get(req, "path"));
	int stop = json_is_true(json_object_get(req, "stop"));
	if (!path || !*path)
		return error("snapshot", "\"path\" (a string) is required");
	char err[1024];
	int was_paused = hv_vm_paused(c->vm);
	uint64_t t0 = now_ns(), t1 = t0;
	struct hv_snapshot_info info;
	int rc = -2;
	/* A VM paused with a connection waiting in a listener's queue (or half closed) cannot be
	 * saved as it is: it runs on a moment and is paused again; after about a second, waiting
	 * connections are reset as the table is saved (HV_SNAPSHOT_RESET_WAITING). A VM paused
	 * by the client cannot run on: they are reset at the second try. */
	int reset = 0;
	for (int tries = 0; rc == -2 && tries < SETTLE_TRIES; tries++) {
		if (tries && !was_paused)
			settle_pause(tries);
		t0 = now_ns();
		if (!was_paused && hv_vm_pause(c->vm, err, sizeof(err)) < 0)
			return error("snapshot", err);
		t1 = now_ns();
		int reset_now = tries >= RESET_AFTER || (was_paused && tries > 0);
		int flags =
		    (stop ? HV_SNAPSHOT_STOP : 0) | (reset_now ? HV_SNAPSHOT_RESET_WAITING : 0);
		rc = hv_vm_snapshot(c->vm, path, flags, &info, err, sizeof(err));
		reset = rc == 0 ? info.reset_connections : 0;
		if (rc == -2 && !was_paused)
			hv_vm_resume(c->vm);
		if (rc == -2 && was_paused && reset_now)
			break; /* it cannot run on: a second try resets, a third would change
			          nothing */
	}
	if (rc == -2)
		return error("snapshot", err); /* running, or paused as it was: nothing changed */
	if (stop) { /* it cannot go on, written or not: it ends once the answer is out */
		c->end_vm = rc == 0 ? 1 : 2;
		if (rc < 0)
			snprintf(c->end_why, sizeof(c->end_why), "%s", err);
	} else if (!was_paused) {
		hv_vm_resume(c->vm);
	}
	if (rc < 0)
		return error("snapshot", err);
	uint64_t t2 = now_ns();
	return json_pack("{s:b,s:s,s:I,s:I,s:f,s:f,s:f,s:b,s:i}", "ok", 1, "path", path, "bytes",
	                 (json_int_t)info.file_bytes, "pages", (json_int_t)info.pages, "pause_ms",
	                 (double)(t1 - t0) / 1e6, "write_ms", (double)info.ns / 1e6, "downtime_ms",
	                 was_paused ? 0.0 : (double)(t2 - t0) / 1e6, "stopped", stop,
	                 "reset_connections", reset);
}

/* Moves the VM to a `vcons-hv --incoming` target; once it runs there this one ends (exit 0). */
static json_t *cmd_migrate(struct control *c, json_t *req)
{
	const char *to = json_string_value(json_object_get(req, "to"));
	json_t *d = json_object_get(req, "downtime_ms");
	if (!to || !*to)
		return error("migrate", "\"to\" (\"A.B.C.D:PORT\") is required");
	if (d &&
	    (!json_is_integer(d) || json_integer_value(d) < 1 || json_integer_value(d) > 60000))
		return error("migrate", "\"downtime_ms\" must be an integer from 1 to 60000");
	uint64_t downtime = d ? (uint64_t)json_integer_value(d) : 50;
	if (hv_vm_paused(c->vm))
		return error("migrate", "the VM is paused: resume it first");
	char err[1024];
	struct hv_migrate_info info;
	int rc = hv_vm_migrate(c->vm, to, downtime, &info, err, sizeof(err));
	if (rc == -1)
		return error("migrate", err);
	c->end_vm = rc == 0 ? 1 : 2;
	if (rc < 0) {
		snprintf(c->end_why, sizeof(c->end_why), "%s", err);
		return error("migrate", err);
	}
	return json_pack("{s:b,s:s,s:f,s:f,s:I,s:I,s:i,s:i}", "ok", 1, "to", to, "total_ms",
	                 info.total_ms, "downtime_ms", info.downtime_ms, "bytes",
	                 (json_int_t)info.bytes, "pages", (json_int_t)info.pages, "rounds",
	                 info.rounds, "reset_connections", info.reset_connections);
}

static json_t *handle(struct control *c, const char *line)
{
	json_error_t je;
	json_t *req = json_loads(line, 0, &je);
	json_t *resp;
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	if (!req || !json_is_object(req))
		resp = error("not a JSON object", je.text);
	else if (!cmd)
		resp = error("", "\"cmd\" (a string) is required");
	else if (!strcmp(cmd, "status"))
		resp = cmd_status(c);
	else if (!strcmp(cmd, "pause"))
		resp = cmd_pause(c);
	else if (!strcmp(cmd, "resume"))
		resp = cmd_resume(c);
	else if (!strcmp(cmd, "snapshot"))
		resp = cmd_snapshot(c, req);
	else if (!strcmp(cmd, "migrate"))
		resp = cmd_migrate(c, req);
	else
		resp = error(cmd, "unknown command (status, pause, resume, snapshot, migrate)");
	json_decref(req);
	return resp;
}

static int send_line(int fd, json_t *resp)
{
	char *s = json_dumps(resp, JSON_COMPACT);
	json_decref(resp);
	if (!s)
		return -1;
	size_t n = strlen(s);
	s[n] = '\n'; /* json_dumps' NUL becomes the line's end */
	int rc = 0;
	for (size_t off = 0; off <= n && rc == 0;) {
		ssize_t w = send(fd, s + off, n + 1 - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			rc = -1;
		else
			off += (size_t)w;
	}
	free(s);
	return rc;
}

/* One connection: lines until the peer closes it; a line longer than LINE_MAX_ ends it. */
static void serve(struct control *c, int fd)
{
	char *buf = malloc(LINE_MAX_);
	size_t have = 0;
	while (buf) {
		char *nl = memchr(buf, '\n', have);
		if (nl) {
			*nl = 0;
			int sent = send_line(fd, handle(c, buf));
			if (c->end_vm == 1) {
				*c->stopped = 1;
				hv_vm_exit(c->vm, 0);
			} else if (c->end_vm == 2) {
				fprintf(stderr, "vcons-hv: %s: the VM cannot go on: %s\n", c->name,
				        c->end_why);
				hv_vm_exit(c->vm, HV_EXIT_OSERR);
			}
			if (sent < 0)
				break;
			have -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, have);
			continue;
		}
		if (have == LINE_MAX_) {
			(void)send_line(fd, error("", "line too long"));
			break;
		}
		ssize_t n = recv(fd, buf + have, LINE_MAX_ - have, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	free(buf);
	close(fd);
}

static void *control_loop(void *arg)
{
	struct control *c = arg;
	for (;;) {
		struct sockaddr_un peer;
		socklen_t len = sizeof(peer);
		int fd = accept4(c->fd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			break;
		}
		serve(c, fd);
	}
	return NULL;
}

struct control *control__start(struct hv_vm *vm, const char *name, const char *path, int *stopped,
                               char *err, size_t errlen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(a.sun_path)) {
		snprintf(err, errlen, "--control %s: path too long for a Unix socket", path);
		return NULL;
	}
	struct control *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "--control: out of memory");
		return NULL;
	}
	snprintf(c->path, sizeof(c->path), "%s", path);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	c->vm = vm;
	c->name = name;
	c->stopped = stopped;
	c->start_ns = now_ns();
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path); /* a socket left by an earlier run; never another file */
	if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(c->fd, 4) < 0) {
		snprintf(err, errlen, "--control %s: %s", path, strerror(errno));
		if (c->fd >= 0)
			close(c->fd);
		free(c);
		return NULL;
	}
	sigset_t all, old;
	sigfillset(&all); /* the thread leaves host signals to vcons-hv's signal thread */
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&c->thread, NULL, control_loop, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		snprintf(err, errlen, "--control: cannot start its thread: %s", strerror(rc));
		close(c->fd);
		unlink(path);
		free(c);
		return NULL;
	}
	return c;
}

void control__remove(struct control *c)
{
	if (c)
		(void)unlink(c->path);
}
