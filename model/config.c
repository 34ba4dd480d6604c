/* model/config.c: loading CSU profiles and run rules (see config.h). */
#include "model/config.h"
#include "model/yamldoc.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

/* NULL-terminated so it doubles as the allow-list of keys under vms. */
static const char *const roles[NROLES + 1] = { "db", "java", "web", "mail", "idle", NULL };

const char *role_name(enum role r)
{
	return r < NROLES ? roles[r] : "?";
}

int role_parse(const char *s, enum role *out)
{
	for (int i = 0; i < NROLES; i++)
		if (!strcmp(s, roles[i])) {
			*out = (enum role)i;
			return 0;
		}
	return -1;
}

/* vms.mail.profile: {key: number, ...}, passed to the generator as --set key=number; the
 * generator checks the keys and ranges (workloads/mail/README.md), this only their form. */
static int load_profile(struct yamldoc *d, const struct ynode *n, const char *role,
                        struct vm_profile *vm)
{
	char f[96];
	const struct ynode *x = ynode_get(n, "profile");
	snprintf(f, sizeof(f), "vms.%s.profile", role);
	if (!x)
		return 0;
	if (strcmp(role, "mail"))
		return yamldoc_fail(d, x, f, "only the mail generator takes a workload profile");
	if (ynode_map(d, x, f) < 0)
		return -1;
	if (x->n > CONFIG_MAX_PROFILE)
		return yamldoc_fail(d, x, f, "more than %d keys", CONFIG_MAX_PROFILE);
	for (size_t i = 0; i < x->n; i++) {
		const char *k = x->keys[i];
		double v;
		snprintf(f, sizeof(f), "vms.%s.profile.%s", role, k);
		if (!*k || strlen(k) >= sizeof(vm->profile[0].key) ||
		    strspn(k, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(k))
			return yamldoc_fail(d, x->items[i], f, "not a profile key (a-z, 0-9, _)");
		if (ynode_double(d, x, k, f, 0, 1e12, &v) < 0)
			return -1;
		if (strlen(x->items[i]->value) >= sizeof(vm->profile[0].value))
			return yamldoc_fail(d, x->items[i], f, "longer than %zu characters",
			                    sizeof(vm->profile[0].value) - 1);
		snprintf(vm->profile[i].key, sizeof(vm->profile[i].key), "%s", k);
		snprintf(vm->profile[i].value, sizeof(vm->profile[i].value), "%s",
		         x->items[i]->value);
	}
	vm->nprofile = (int)x->n;
	return 0;
}

static int load_vm(struct yamldoc *d, const struct ynode *n, const char *role,
                   struct vm_profile *vm)
{
	static const char *const keys[] = { "vcpus", "memory",  "dataset", "rate",
		                            "users", "profile", NULL };
	char f[96];
	long v;
	snprintf(f, sizeof(f), "vms.%s", role);
	if (ynode_map(d, n, f) < 0 || ynode_only_keys(d, n, f, keys) < 0)
		return -1;
	snprintf(f, sizeof(f), "vms.%s.vcpus", role);
	if (ynode_int(d, n, "vcpus", f, 1, 64, &v) < 0)
		return -1;
	vm->vcpus = (int)v;
	snprintf(f, sizeof(f), "vms.%s.memory", role);
	if (ynode_size(d, n, "memory", f, &vm->memory_bytes) < 0)
		return -1;
	if (vm->memory_bytes < (32ULL << 20))
		return yamldoc_fail(d, ynode_get(n, "memory"), f, "at least 32M");
	vm->dataset = 1;
	vm->users = 1;
	snprintf(f, sizeof(f), "vms.%s.dataset", role);
	if (ynode_get(n, "dataset") && ynode_int(d, n, "dataset", f, 1, 1000000, &vm->dataset) < 0)
		return -1;
	snprintf(f, sizeof(f), "vms.%s.rate", role);
	if (ynode_get(n, "rate") && ynode_double(d, n, "rate", f, 0, 1e7, &vm->rate) < 0)
		return -1;
	snprintf(f, sizeof(f), "vms.%s.users", role);
	if (ynode_get(n, "users")) {
		if (ynode_int(d, n, "users", f, 1, 100000, &v) < 0)
			return -1;
		vm->users = (int)v;
	}
	return load_profile(d, n, role, vm);
}

static int copy_string(struct yamldoc *d, const struct ynode *map, const char *key, char *out,
                       size_t len, int required)
{
	const char *s;
	if (!ynode_get(map, key) && !required)
		return 0;
	if (ynode_string(d, map, key, key, &s) < 0)
		return -1;
	if (strlen(s) >= len)
		return yamldoc_fail(d, ynode_get(map, key), key, "longer than %zu characters",
		                    len - 1);
	snprintf(out, len, "%s", s);
	return 0;
}

/* The end of a load: the document freed, its error in err when rc < 0; returns rc. */
static int finish(struct yamldoc *d, int rc, char *err, size_t errlen)
{
	if (rc < 0)
		snprintf(err, errlen, "%s", yamldoc_error(d));
	yamldoc_free(d);
	return rc;
}

int config__load_csu(const char *path, struct csu_profile *p, char *err, size_t errlen)
{
	struct yamldoc *d = yamldoc_load(path, err, errlen);
	if (!d)
		return -1;
	static const char *const top[] = { "name", "description", "vms", NULL };
	memset(p, 0, sizeof(*p));
	const struct ynode *r = d->root, *vms;
	int rc = -1;
	if (ynode_map(d, r, "(top)") < 0 || ynode_only_keys(d, r, "", top) < 0 ||
	    copy_string(d, r, "name", p->name, sizeof(p->name), 1) < 0 ||
	    copy_string(d, r, "description", p->description, sizeof(p->description), 0) < 0 ||
	    !(vms = ynode_submap(d, r, "vms", "vms")) || ynode_only_keys(d, vms, "vms", roles) < 0)
		goto out;
	for (int i = 0; i < NROLES; i++) {
		const struct ynode *n = ynode_get(vms, roles[i]);
		char f[64];
		snprintf(f, sizeof(f), "vms.%s", roles[i]);
		if (!n) {
			yamldoc_fail(d, vms, f, "missing: a CSU has all five VMs");
			goto out;
		}
		if (load_vm(d, n, roles[i], &p->vm[i]) < 0)
			goto out;
	}
	rc = 0;
out:
	return finish(d, rc, err, errlen);
}

static int get_double(struct yamldoc *d, const struct ynode *map, const char *prefix,
                      const char *key, double min, double max, double *out)
{
	char f[192];
	snprintf(f, sizeof(f), "%s.%s", prefix, key);
	return ynode_double(d, map, key, f, min, max, out);
}

/* qos.ROLE.mix: {type: percent, ...}, percents summing to 100. */
static int load_mix(struct yamldoc *d, const struct ynode *n, const char *prefix,
                    struct mix_rule *m)
{
	char f[96];
	snprintf(f, sizeof(f), "%s.mix", prefix);
	const struct ynode *x = ynode_get(n, "mix");
	if (!x)
		return 0;
	if (ynode_map(d, x, f) < 0)
		return -1;
	if (x->n < 1 || x->n > SCORE_MAX_TYPES)
		return yamldoc_fail(d, x, f, "needs 1 to %d operation types", SCORE_MAX_TYPES);
	double sum = 0;
	for (size_t i = 0; i < x->n; i++) {
		if (strlen(x->keys[i]) >= sizeof(m->name[0]))
			return yamldoc_fail(d, x->items[i], f, "type name too long");
		snprintf(m->name[i], sizeof(m->name[i]), "%s", x->keys[i]);
		if (get_double(d, x, f, x->keys[i], 0, 100, &m->pct[i]) < 0)
			return -1;
		sum += m->pct[i];
	}
	if (sum < 99.9 || sum > 100.1)
		return yamldoc_fail(d, x, f, "shares add up to %.2f, not 100", sum);
	m->n = (int)x->n;
	return 0;
}

static int load_qos(struct yamldoc *d, const struct ynode *qos, int role, struct qos_rule *q,
                    struct mix_rule *mix)
{
	static const char *const keys[] = {
		"percentile", "limit_ms", "max_failure_pct", "mix_tolerance_pct", "min_rate_pct",
		"mix",        NULL
	};
	char f[64];
	snprintf(f, sizeof(f), "qos.%s", roles[role]);
	const struct ynode *n = ynode_submap(d, qos, roles[role], f);
	if (!n || ynode_only_keys(d, n, f, keys) < 0 ||
	    get_double(d, n, f, "percentile", 50, 99.999, &q->percentile) < 0 ||
	    get_double(d, n, f, "limit_ms", 0, 1e7, &q->limit_ms) < 0 ||
	    get_double(d, n, f, "max_failure_pct", 0, 100, &q->max_failure_pct) < 0 ||
	    get_double(d, n, f, "mix_tolerance_pct", 0, 100, &q->mix_tolerance_pct) < 0 ||
	    get_double(d, n, f, "min_rate_pct", 0, 100, &q->min_rate_pct) < 0 ||
	    load_mix(d, n, f, mix) < 0)
		return -1;
	return 0;
}

static const char *const infra_methods[] = { "none", "migrate", "snapshot" };

const char *infra_method_name(enum infra_method m)
{
	return m <= INFRA_SNAPSHOT ? infra_methods[m] : "?";
}

int infra_method_parse(const char *s, enum infra_method *out)
{
	for (int i = INFRA_MIGRATE; i <= INFRA_SNAPSHOT; i++)
		if (!strcmp(s, infra_methods[i])) {
			*out = (enum infra_method)i;
			return 0;
		}
	return -1;
}

/* infrastructure: {method, every_s, downtime_limit_ms, weight, reference_per_hour}, optional;
 * at least one move per CSU must fit in the measurement. */
static int load_infra(struct yamldoc *d, const struct ynode *t, struct run_rules *r)
{
	static const char *const keys[] = {
		"method", "every_s", "downtime_limit_ms", "weight", "reference_per_hour", NULL
	};
	const struct ynode *n;
	const char *m;
	struct infra_rule *in = &r->infra;
	if (!ynode_get(t, "infrastructure"))
		return 0;
	if (!(n = ynode_submap(d, t, "infrastructure", "infrastructure")) ||
	    ynode_only_keys(d, n, "infrastructure", keys) < 0 ||
	    ynode_string(d, n, "method", "infrastructure.method", &m) < 0)
		return -1;
	if (infra_method_parse(m, &in->method) < 0)
		return yamldoc_fail(d, ynode_get(n, "method"), "infrastructure.method",
		                    "not migrate or snapshot: %s", m);
	if (get_double(d, n, "infrastructure", "every_s", 1, 86400, &in->every_s) < 0 ||
	    get_double(d, n, "infrastructure", "downtime_limit_ms", 1, 1e6,
	               &in->downtime_limit_ms) < 0 ||
	    get_double(d, n, "infrastructure", "weight", 0, 0.9, &in->weight) < 0 ||
	    get_double(d, n, "infrastructure", "reference_per_hour", 1e-3, 1e6,
	               &in->reference_per_hour) < 0)
		return -1;
	if (in->every_s > r->intervals * r->interval_s)
		return yamldoc_fail(d, ynode_get(n, "every_s"), "infrastructure.every_s",
		                    "%g s: longer than the measurement (%d x %g s)", in->every_s,
		                    r->intervals, r->interval_s);
	return 0;
}

static int sha256_file(const char *path, char out[65])
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	unsigned char buf[8192], md[32];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		EVP_DigestUpdate(ctx, buf, n);
	unsigned len = 0;
	EVP_DigestFinal_ex(ctx, md, &len);
	EVP_MD_CTX_free(ctx);
	(void)fclose(f);
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int config__load_rules(const char *path, struct run_rules *r, char *err, size_t errlen)
{
	struct yamldoc *d = yamldoc_load(path, err, errlen);
	if (!d)
		return -1;
	static const char *const top[] = { "name", "compliant", "phases",         "reference",
		                           "qos",  "bounds",    "infrastructure", NULL };
	static const char *const phases[] = { "ramp_up_s", "warm_up_s",   "interval_s",
		                              "intervals", "ramp_down_s", NULL };
	static const char *const bounds[] = { "max_variation_pct", "max_dilation_pct",
		                              "max_generator_cpu_pct", NULL };
	static const char *const busy[] = { "db", "java", "web", "mail", NULL };
	memset(r, 0, sizeof(*r));
	const struct ynode *t = d->root, *ph, *ref, *qos, *bd;
	long intervals;
	int rc = -1;
	if (ynode_map(d, t, "(top)") < 0 || ynode_only_keys(d, t, "", top) < 0 ||
	    copy_string(d, t, "name", r->name, sizeof(r->name), 1) < 0 ||
	    ynode_bool(d, t, "compliant", "compliant", &r->compliant) < 0 ||
	    !(ph = ynode_submap(d, t, "phases", "phases")) ||
	    ynode_only_keys(d, ph, "phases", phases) < 0 ||
	    get_double(d, ph, "phases", "ramp_up_s", 0, 86400, &r->ramp_up_s) < 0 ||
	    get_double(d, ph, "phases", "warm_up_s", 0, 86400, &r->warm_up_s) < 0 ||
	    get_double(d, ph, "phases", "interval_s", 1, 86400, &r->interval_s) < 0 ||
	    ynode_int(d, ph, "intervals", "phases.intervals", 1, CONFIG_MAX_INTERVALS, &intervals) <
	        0 ||
	    get_double(d, ph, "phases", "ramp_down_s", 0, 86400, &r->ramp_down_s) < 0 ||
	    !(ref = ynode_submap(d, t, "reference", "reference")) ||
	    ynode_only_keys(d, ref, "reference", busy) < 0 ||
	    !(qos = ynode_submap(d, t, "qos", "qos")) || ynode_only_keys(d, qos, "qos", busy) < 0 ||
	    !(bd = ynode_submap(d, t, "bounds", "bounds")) ||
	    ynode_only_keys(d, bd, "bounds", bounds) < 0 ||
	    get_double(d, bd, "bounds", "max_variation_pct", 0, 1000, &r->max_variation_pct) < 0 ||
	    get_double(d, bd, "bounds", "max_dilation_pct", 0, 1000, &r->max_dilation_pct) < 0 ||
	    get_double(d, bd, "bounds", "max_generator_cpu_pct", 1, 100,
	               &r->max_generator_cpu_pct) < 0)
		goto out;
	r->intervals = (int)intervals;
	for (int i = 0; i < NBUSY; i++)
		if (get_double(d, ref, "reference", roles[i], 1e-6, 1e9, &r->reference[i]) < 0 ||
		    load_qos(d, qos, i, &r->qos[i], &r->mix[i]) < 0)
			goto out;
	if (load_infra(d, t, r) < 0)
		goto out;
	if (sha256_file(path, r->sha256) < 0) {
		yamldoc_fail(d, NULL, "(file)", "cannot be read again to hash it");
		goto out;
	}
	rc = 0;
out:
	return finish(d, rc, err, errlen);
}
