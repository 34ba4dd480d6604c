/* harness/plan.c: command lines of every VM and load generator of a run (see plan.h). */
#include "harness/plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const platforms[] = { "native", "hv", "qemu" };

const char *platform_name(enum platform p)
{
	return p <= PLATFORM_QEMU ? platforms[p] : "?";
}

int platform_parse(const char *s, enum platform *out)
{
	for (int i = 0; i <= PLATFORM_QEMU; i++)
		if (!strcmp(s, platforms[i])) {
			*out = (enum platform)i;
			return 0;
		}
	return -1;
}

/* Appends one argument (printf-style); -1 when the line is full. */
__attribute__((format(printf, 2, 3))) static int arg(struct cmdline *c, const char *fmt, ...)
{
	if (c->argc + 1 >= PLAN_MAX_ARGS)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	size_t room = sizeof(c->buf) - c->used;
	int n = vsnprintf(c->buf + c->used, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return -1;
	c->argv[c->argc++] = c->buf + c->used;
	c->argv[c->argc] = NULL;
	c->used += (size_t)n + 1;
	return 0;
}

static const char *const guest_prog[NROLES] = { "vcons-db", "vcons-jbb", "vcons-web", "vcons-mail",
	                                        "vcons-idle" };
/* The ports a VM serves (its programs' defaults), forwarded from its address into a QEMU guest. */
static const int server_ports[NROLES][3] = {
	{ 5440 }, { 0 }, { 8080, 8443 }, { 2525, 1143 }, { 0 }
};
static const char *const load_prog[NROLES] = { "vcons-db-load", NULL, "vcons-web-load",
	                                       "vcons-mail-load", NULL };

/* The start of a command that runs the VM's guest program: natively the program itself with the
 * VM's directory as working directory; on hv vcons-hv with that directory as the VM's root and the
 * program copied into it. `data` receives the program's view of its data directory. */
static int guest_start(struct cmdline *c, const struct vm_plan *v, const struct vm_profile *vp,
                       enum platform pf, const struct plan_paths *paths, int with_stats, char *data,
                       size_t datalen)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->cwd, sizeof(c->cwd), "%s", v->dir);
	int rc = 0;
	if (pf != PLATFORM_NATIVE) { /* vcons-hv and vcons-qemu take the same options */
		rc |= arg(c, "%s/%s", paths->build, pf == PLATFORM_HV ? "vcons-hv" : "vcons-qemu");
		rc |= arg(c, "--root") || arg(c, "%s", v->dir) || arg(c, "--net") ||
		      arg(c, "%s", v->addr);
		rc |= arg(c, "--vcpus") || arg(c, "%d", vp->vcpus) || arg(c, "--mem");
		rc |= arg(c, "%lluM", (unsigned long long)(vp->memory_bytes >> 20));
		rc |= arg(c, "--name") || arg(c, "%s", v->name);
		if (with_stats)
			rc |= arg(c, "--stats") || arg(c, "%s", v->stats);
		if (pf == PLATFORM_HV && paths->clock_scale > 0 && paths->clock_scale != 1)
			rc |= arg(c, "--clock-scale") || arg(c, "%g", paths->clock_scale);
		for (int i = 0; pf == PLATFORM_QEMU && server_ports[v->role][i]; i++)
			rc |= arg(c, "--forward") || arg(c, "%d", server_ports[v->role][i]);
		/* vcons-hv loads PROGRAM from a host path (the copy on the VM's disk); vcons-qemu
		 * runs it from the guest's own /bin */
		if (pf == PLATFORM_HV)
			rc |= arg(c, "--") || arg(c, "%s/bin/%s", v->dir, guest_prog[v->role]);
		else
			rc |= arg(c, "--") || arg(c, "/bin/%s", guest_prog[v->role]);
		snprintf(data, datalen, "/data");
	} else {
		rc |= arg(c, "%s/guest/%s", paths->build, guest_prog[v->role]);
		if (snprintf(data, datalen, "%s/data", v->dir) >= (int)datalen)
			rc = -1;
	}
	return rc;
}

static int provision_cmd(struct vm_plan *v, const struct vm_profile *vp, enum platform pf,
                         const struct plan_paths *paths)
{
	char data[PATH_MAX];
	struct cmdline *c = &v->provision;
	switch (v->role) {
	case ROLE_DB:
		return guest_start(c, v, vp, pf, paths, 0, data, sizeof(data)) ||
		       arg(c, "--load") || arg(c, "--warehouses") || arg(c, "%ld", vp->dataset) ||
		       arg(c, "--data") || arg(c, "%s", data);
	case ROLE_WEB:
		return guest_start(c, v, vp, pf, paths, 0, data, sizeof(data)) ||
		       arg(c, "--load") || arg(c, "--files") || arg(c, "%ld", vp->dataset) ||
		       arg(c, "--data") || arg(c, "%s", data);
	case ROLE_MAIL:
		return guest_start(c, v, vp, pf, paths, 0, data, sizeof(data)) ||
		       arg(c, "--provision") || arg(c, "--users") || arg(c, "%ld", vp->dataset) ||
		       arg(c, "--data") || arg(c, "%s", data);
	default: c->argc = 0; return 0;
	}
}

static int server_cmd(struct vm_plan *v, const struct vm_profile *vp, enum platform pf,
                      const struct plan_paths *paths)
{
	char data[PATH_MAX];
	struct cmdline *c = &v->server;
	int rc = guest_start(c, v, vp, pf, paths, 1, data, sizeof(data));
	switch (v->role) {
	case ROLE_DB:
	case ROLE_MAIL:
	case ROLE_WEB:
		rc |= arg(c, "--addr") || arg(c, "%s", v->addr) || arg(c, "--data") ||
		      arg(c, "%s", data);
		rc |= arg(c, "--threads") || arg(c, "%d", vp->vcpus);
		if (v->role == ROLE_MAIL)
			rc |= arg(c, "--users") || arg(c, "%ld", vp->dataset);
		if (v->role == ROLE_WEB)
			rc |= arg(c, "--files") || arg(c, "%ld", vp->dataset) || arg(c, "--csu") ||
			      arg(c, "%d", v->csu);
		v->prints_ready = 1;
		break;
	case ROLE_JAVA:
		rc |= arg(c, "--warehouses") || arg(c, "%ld", vp->dataset) || arg(c, "--threads") ||
		      arg(c, "%d", vp->vcpus) || arg(c, "--csu") || arg(c, "%d", v->csu) ||
		      arg(c, "--self-check");
		v->stdin_stop = 1;
		break;
	case ROLE_IDLE:
		rc |= arg(c, "--csu") || arg(c, "%d", v->csu);
		v->stdin_stop = 1;
		break;
	default: return -1;
	}
	return rc;
}

static int generator_cmd(struct vm_plan *v, const struct vm_profile *vp,
                         const struct plan_paths *paths, double load_s, double ramp_s)
{
	struct cmdline *c = &v->generator;
	memset(c, 0, sizeof(*c));
	if (!load_prog[v->role])
		return 0;
	int rc = arg(c, "%s/%s", paths->build, load_prog[v->role]);
	rc |= arg(c, "--target") || arg(c, "%s", v->addr) || arg(c, "--users") ||
	      arg(c, "%d", vp->users);
	if (vp->rate > 0)
		rc |= arg(c, "--rate") || arg(c, "%g", vp->rate);
	rc |= arg(c, "--duration") || arg(c, "%g", load_s) || arg(c, "--interval") || arg(c, "1");
	rc |= arg(c, "--json") || arg(c, "--csu") || arg(c, "%d", v->csu);
	if (v->role != ROLE_MAIL && ramp_s > 0 && vp->rate > 0)
		rc |= arg(c, "--ramp") || arg(c, "%g", ramp_s);
	if (v->role == ROLE_WEB)
		rc |= arg(c, "--files") || arg(c, "%ld", vp->dataset);
	if (v->role == ROLE_MAIL)
		rc |= arg(c, "--mailboxes") || arg(c, "%ld", vp->dataset);
	return rc;
}

int plan__vm(const struct csu_profile *p, enum platform pf, const struct plan_paths *paths, int csu,
             enum role role, double load_s, double ramp_s, struct vm_plan *v, char *err,
             size_t errlen)
{
	memset(v, 0, sizeof(*v));
	const struct vm_profile *vp = &p->vm[role];
	v->csu = csu;
	v->role = role;
	snprintf(v->name, sizeof(v->name), "csu%d-%s", csu, role_name(role));
	snprintf(v->addr, sizeof(v->addr), "%d.%d.%d.%d", paths->net_a ? paths->net_a : 127,
	         paths->net_a ? paths->net_b : 10, csu + 1, (int)role + 1);
	if (snprintf(v->dir, sizeof(v->dir), "%s/%s", paths->work, v->name) >=
	        (int)sizeof(v->dir) ||
	    (pf != PLATFORM_NATIVE && snprintf(v->stats, sizeof(v->stats), "%s/%s.stats.json",
	                                       paths->work, v->name) >= (int)sizeof(v->stats))) {
		snprintf(err, errlen, "%s: work directory path too long", v->name);
		return -1;
	}
	if (provision_cmd(v, vp, pf, paths) || server_cmd(v, vp, pf, paths) ||
	    generator_cmd(v, vp, paths, load_s, ramp_s)) {
		snprintf(err, errlen, "%s: command line too long", v->name);
		return -1;
	}
	return 0;
}

void plan__describe(const struct cmdline *c, char *out, size_t len)
{
	size_t used = 0;
	out[0] = 0;
	for (int i = 0; i < c->argc && used < len; i++) {
		int n = snprintf(out + used, len - used, "%s%s", i ? " " : "", c->argv[i]);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}
