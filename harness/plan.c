/* harness/plan.c: command lines of every VM and load generator of a run (see plan.h). */
#include "harness/plan.h"
#include "harness/platform.h"
#include "lib/argv.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The command line's arrays seen as lib/argv.h's buffer for one word (a cmdline holds no pointer to
 * itself, so a plan stays a plain value). */
int plan__arg(struct cmdline *c, const char *fmt, ...)
{
	struct argv_buf a = { .v = (char **)c->argv,
		              .n = c->argc,
		              .max = PLAN_MAX_ARGS,
		              .text = c->buf,
		              .used = c->used,
		              .size = sizeof(c->buf) };
	va_list ap;
	va_start(ap, fmt);
	int rc = argv_vadd(&a, fmt, ap);
	va_end(ap);
	c->argc = a.n;
	c->used = a.used;
	return rc;
}

static const char *const guest_prog[NROLES] = { "vcons-db", "vcons-jbb", "vcons-web", "vcons-mail",
	                                        "vcons-idle" };
/* The ports a VM serves (its programs' defaults), 0-terminated. Mail: SMTP, IMAP, and both over
 * implicit TLS. */
static const int server_ports[NROLES][5] = {
	{ 5440 }, { 0 }, { 8080, 8443 }, { 2525, 1143, 2465, 1993 }, { 0 }
};
static const char *const load_prog[NROLES] = { "vcons-db-load", NULL, "vcons-web-load",
	                                       "vcons-mail-load", NULL };

/* The start of a command that runs the VM's guest program, as the platform has it (platform.h);
 * `data` receives the program's view of its data directory. */
static int guest_start(struct cmdline *c, const struct vm_plan *v, const struct vm_profile *vp,
                       const struct platform *pf, const struct plan_paths *paths, int with_stats,
                       char *data, size_t datalen)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->cwd, sizeof(c->cwd), "%s", v->dir);
	const struct guest_spec g = { .vm = v,
		                      .profile = vp,
		                      .paths = paths,
		                      .program = guest_prog[v->role],
		                      .ports = server_ports[v->role],
		                      .with_stats = with_stats,
		                      .control = with_stats ? v->control : "" };
	return pf->guest_cmd(c, &g, data, datalen);
}

static int provision_cmd(struct vm_plan *v, const struct vm_profile *vp, const struct platform *pf,
                         const struct plan_paths *paths)
{
	char data[PATH_MAX];
	struct cmdline *c = &v->provision;
	switch (v->role) {
	case ROLE_DB:
		return guest_start(c, v, vp, pf, paths, 0, data, sizeof(data)) ||
		       plan__arg(c, "--load") || plan__arg(c, "--warehouses") ||
		       plan__arg(c, "%ld", vp->dataset) || plan__arg(c, "--data") ||
		       plan__arg(c, "%s", data);
	case ROLE_WEB:
		return guest_start(c, v, vp, pf, paths, 0, data, sizeof(data)) ||
		       plan__arg(c, "--load") || plan__arg(c, "--files") ||
		       plan__arg(c, "%ld", vp->dataset) || plan__arg(c, "--data") ||
		       plan__arg(c, "%s", data);
	case ROLE_MAIL:
		return guest_start(c, v, vp, pf, paths, 0, data, sizeof(data)) ||
		       plan__arg(c, "--provision") || plan__arg(c, "--users") ||
		       plan__arg(c, "%ld", vp->dataset) || plan__arg(c, "--data") ||
		       plan__arg(c, "%s", data);
	default: c->argc = 0; return 0;
	}
}

static int server_cmd(struct vm_plan *v, const struct vm_profile *vp, const struct platform *pf,
                      const struct plan_paths *paths)
{
	char data[PATH_MAX];
	struct cmdline *c = &v->server;
	int rc = guest_start(c, v, vp, pf, paths, 1, data, sizeof(data));
	switch (v->role) {
	case ROLE_DB:
	case ROLE_MAIL:
	case ROLE_WEB:
		rc |= plan__arg(c, "--addr") || plan__arg(c, "%s", v->addr) ||
		      plan__arg(c, "--data") || plan__arg(c, "%s", data);
		rc |= plan__arg(c, "--threads") || plan__arg(c, "%d", vp->vcpus);
		if (v->role == ROLE_MAIL)
			rc |= plan__arg(c, "--users") || plan__arg(c, "%ld", vp->dataset);
		if (v->role == ROLE_WEB)
			rc |= plan__arg(c, "--files") || plan__arg(c, "%ld", vp->dataset) ||
			      plan__arg(c, "--csu") || plan__arg(c, "%d", v->csu);
		v->prints_ready = 1;
		break;
	case ROLE_JAVA:
		rc |= plan__arg(c, "--warehouses") || plan__arg(c, "%ld", vp->dataset) ||
		      plan__arg(c, "--threads") || plan__arg(c, "%d", vp->vcpus) ||
		      plan__arg(c, "--csu") || plan__arg(c, "%d", v->csu) ||
		      plan__arg(c, "--self-check");
		v->stdin_stop = 1;
		break;
	case ROLE_IDLE:
		rc |= plan__arg(c, "--csu") || plan__arg(c, "%d", v->csu);
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
	int rc = plan__arg(c, "%s/%s", paths->build, load_prog[v->role]);
	rc |= plan__arg(c, "--target") || plan__arg(c, "%s", v->addr) || plan__arg(c, "--users") ||
	      plan__arg(c, "%d", vp->users);
	if (vp->rate > 0)
		rc |= plan__arg(c, "--rate") || plan__arg(c, "%g", vp->rate);
	rc |= plan__arg(c, "--duration") || plan__arg(c, "%g", load_s) ||
	      plan__arg(c, "--interval") || plan__arg(c, "1");
	rc |= plan__arg(c, "--json") || plan__arg(c, "--csu") || plan__arg(c, "%d", v->csu);
	if (v->role != ROLE_MAIL && ramp_s > 0 && vp->rate > 0)
		rc |= plan__arg(c, "--ramp") || plan__arg(c, "%g", ramp_s);
	if (v->role == ROLE_WEB) /* browser-like users speak HTTP/2 (workloads/web/README.md) */
		rc |= plan__arg(c, "--http2") || plan__arg(c, "--files") ||
		      plan__arg(c, "%ld", vp->dataset);
	if (v->role == ROLE_MAIL)
		rc |= plan__arg(c, "--mailboxes") || plan__arg(c, "%ld", vp->dataset);
	if (v->role == ROLE_MAIL && paths->journal)
		rc |= plan__arg(c, "--journal") ||
		      plan__arg(c, "%s/%s-load.journal", paths->work, v->name);
	for (int i = 0; i < vp->nprofile; i++) /* the CSU profile's keys of the workload profile */
		rc |= plan__arg(c, "--set") ||
		      plan__arg(c, "%s=%s", vp->profile[i].key, vp->profile[i].value);
	return rc;
}

int plan__vm(const struct csu_profile *p, const struct platform *pf, const struct plan_paths *paths,
             int csu, enum role role, double load_s, double ramp_s, struct vm_plan *v, char *err,
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
	    (pf->vmm_clock && snprintf(v->stats, sizeof(v->stats), "%s/%s.stats.json", paths->work,
	                               v->name) >= (int)sizeof(v->stats))) {
		snprintf(err, errlen, "%s: work directory path too long", v->name);
		return -1;
	}
	/* a Unix socket's path has room for 107 bytes, and a moved VM's control socket adds up to
	 * four characters to this one */
	if (paths->control && pf->vmm_clock &&
	    snprintf(v->control, sizeof(v->control), "%s/%s.ctl", paths->work, v->name) >=
	        (int)sizeof(v->control) - 4) {
		snprintf(err, errlen, "%s: control socket path too long (set TMPDIR shorter)",
		         v->name);
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
