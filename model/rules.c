/* model/rules.c: run rules to and from a result's JSON, and compared (see rules.h). The numeric
 * fields of each group are the tables below, in the order a result records them. */
#include "model/rules.h"
#include "lib/json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* One numeric field of a group: its key, where it lives, and for whole numbers their range. */
struct num_field {
	const char *key;
	size_t off;
	int whole, lo, hi; /* whole: an int in lo..hi; otherwise a double */
};

#define REAL(type, name)                                                                           \
	{                                                                                          \
#name, offsetof(struct type, name), 0, 0, 0                                        \
	}
static const struct num_field phases[] = {
	REAL(run_rules, ramp_up_s),
	REAL(run_rules, warm_up_s),
	REAL(run_rules, interval_s),
	{ "intervals", offsetof(struct run_rules, intervals), 1, 1, CONFIG_MAX_INTERVALS },
	REAL(run_rules, ramp_down_s),
};
static const struct num_field bounds[] = {
	REAL(run_rules, max_variation_pct),
	REAL(run_rules, max_dilation_pct),
	REAL(run_rules, max_generator_cpu_pct),
};
static const struct num_field infra_fields[] = {
	REAL(infra_rule, every_s),
	REAL(infra_rule, downtime_limit_ms),
	REAL(infra_rule, weight),
	REAL(infra_rule, reference_per_hour),
};
static const struct num_field qos_fields[] = {
	REAL(qos_rule, percentile),      REAL(qos_rule, limit_ms),
	REAL(qos_rule, max_failure_pct), REAL(qos_rule, mix_tolerance_pct),
	REAL(qos_rule, min_rate_pct),
};
#undef REAL
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A field's value (copied, so that one table serves every type of struct). */
static double real_get(const void *base, const struct num_field *f)
{
	double v;
	memcpy(&v, (const char *)base + f->off, sizeof(v));
	return v;
}

static int int_get(const void *base, const struct num_field *f)
{
	int v;
	memcpy(&v, (const char *)base + f->off, sizeof(v));
	return v;
}

static void real_set(void *base, const struct num_field *f, double v)
{
	memcpy((char *)base + f->off, &v, sizeof(v));
}

static void int_set(void *base, const struct num_field *f, int v)
{
	memcpy((char *)base + f->off, &v, sizeof(v));
}

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
                                                      ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* --- to JSON
 * ------------------------------------------------------------------------------------- */

static json_t *group_json(const void *base, const struct num_field *f, size_t n)
{
	json_t *o = json_object();
	for (size_t i = 0; i < n; i++)
		json_object_set_new(o, f[i].key,
		                    f[i].whole ? json_integer(int_get(base, &f[i]))
		                               : json_real(real_get(base, &f[i])));
	return o;
}

static json_t *qos_json(const struct run_rules *r, int role)
{
	json_t *q = group_json(&r->qos[role], qos_fields, N(qos_fields)), *mix = json_object();
	for (int t = 0; t < r->mix[role].n; t++)
		json_object_set_new(mix, r->mix[role].name[t], json_real(r->mix[role].pct[t]));
	json_object_set_new(q, "mix", mix);
	return q;
}

json_t *rules__to_json(const struct run_rules *r)
{
	json_t *ref = json_object(), *qos = json_object();
	for (int i = 0; i < NBUSY; i++) {
		json_object_set_new(ref, role_name((enum role)i), json_real(r->reference[i]));
		json_object_set_new(qos, role_name((enum role)i), qos_json(r, i));
	}
	json_t *o =
	    json_pack("{s:s,s:b,s:s,s:o,s:o,s:o,s:o}", "name", r->name, "compliant", r->compliant,
	              "sha256", r->sha256, "phases", group_json(r, phases, N(phases)), "reference",
	              ref, "qos", qos, "bounds", group_json(r, bounds, N(bounds)));
	if (o && r->infra.method != INFRA_NONE) { /* only where the rules have the section */
		json_t *in = group_json(&r->infra, infra_fields, N(infra_fields));
		json_object_set_new(in, "method", json_string(infra_method_name(r->infra.method)));
		json_object_set_new(o, "infrastructure", in);
	}
	return o;
}

/* --- from JSON
 * ----------------------------------------------------------------------------------- */

static int get_num(const json_t *o, const char *key, double *out, const char *where, char *err,
                   size_t errlen)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_number(v))
		return fail(err, errlen, "rules.%s%s: missing or not a number", where, key);
	*out = json_number_value(v);
	return 0;
}

/* Every field of a group must be a number; doubles are stored, whole numbers only checked to be
 * numbers here (group_ints stores them, once every group has been read). */
static int group_from_json(const json_t *o, const char *where, const struct num_field *f, size_t n,
                           void *base, char *err, size_t errlen)
{
	double v = 0;
	for (size_t i = 0; i < n; i++) {
		if (get_num(o, f[i].key, &v, where, err, errlen))
			return -1;
		if (!f[i].whole)
			real_set(base, &f[i], v);
	}
	return 0;
}

static int group_ints(const json_t *o, const char *where, const struct num_field *f, size_t n,
                      void *base, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		double v = jget_num(o, f[i].key, 0);
		if (!f[i].whole)
			continue;
		if (!(v >= f[i].lo && v <= f[i].hi) || v != floor(v))
			return fail(err, errlen, "rules.%s%s: not a whole number from %d to %d",
			            where, f[i].key, f[i].lo, f[i].hi);
		int_set(base, &f[i], (int)v);
	}
	return 0;
}

static int qos_from_json(const json_t *q, enum role role, struct run_rules *r, char *err,
                         size_t errlen)
{
	char where[32];
	snprintf(where, sizeof(where), "qos.%s.", role_name(role));
	if (!json_is_object(q))
		return fail(err, errlen, "rules.qos.%s: missing", role_name(role));
	if (group_from_json(q, where, qos_fields, N(qos_fields), &r->qos[role], err, errlen))
		return -1;
	const char *name;
	json_t *pct;
	struct mix_rule *m = &r->mix[role];
	json_object_foreach((json_t *)json_object_get(q, "mix"), name, pct)
	{
		if (m->n == SCORE_MAX_TYPES || strlen(name) >= sizeof(m->name[0]) ||
		    !json_is_number(pct))
			return fail(err, errlen, "rules.%smix.%s: bad", where, name);
		snprintf(m->name[m->n], sizeof(m->name[0]), "%s", name);
		m->pct[m->n++] = json_number_value(pct);
	}
	return 0;
}

/* The optional "infrastructure" object. */
static int infra_from_json(const json_t *in, struct run_rules *r, char *err, size_t errlen)
{
	if (!in)
		return 0;
	const char *m = jget_str(in, "method", NULL);
	if (!m || infra_method_parse(m, &r->infra.method) < 0)
		return fail(err, errlen, "rules.infrastructure.method: not migrate or snapshot");
	return group_from_json(in, "infrastructure.", infra_fields, N(infra_fields), &r->infra, err,
	                       errlen);
}

int rules__from_json(const json_t *j, struct run_rules *r, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	const char *name = jget_str(j, "name", NULL), *sha = jget_str(j, "sha256", NULL);
	json_t *ph = json_object_get(j, "phases"), *ref = json_object_get(j, "reference"),
	       *qos = json_object_get(j, "qos"), *bd = json_object_get(j, "bounds");
	if (!name || !sha || strlen(sha) != 64 || !json_is_boolean(json_object_get(j, "compliant")))
		return fail(err, errlen, "rules: name, sha256 or compliant missing");
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->sha256, sizeof(r->sha256), "%s", sha);
	r->compliant = json_is_true(json_object_get(j, "compliant"));
	if (group_from_json(ph, "phases.", phases, N(phases), r, err, errlen) ||
	    group_from_json(bd, "bounds.", bounds, N(bounds), r, err, errlen) ||
	    group_ints(ph, "phases.", phases, N(phases), r, err, errlen) ||
	    infra_from_json(json_object_get(j, "infrastructure"), r, err, errlen))
		return -1;
	for (int i = 0; i < NBUSY; i++)
		if (get_num(ref, role_name((enum role)i), &r->reference[i], "reference.", err,
		            errlen) ||
		    qos_from_json(json_object_get(qos, role_name((enum role)i)), (enum role)i, r,
		                  err, errlen))
			return -1;
	return 0;
}

/* --- compared
 * ------------------------------------------------------------------------------------ */

static int group_differs(const void *a, const void *b, const struct num_field *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (f[i].whole ? int_get(a, &f[i]) != int_get(b, &f[i])
		               : real_get(a, &f[i]) != real_get(b, &f[i]))
			return 1;
	return 0;
}

const char *rules__differ(const struct run_rules *a, const struct run_rules *b)
{
	/* b is filled by config__load_rules(), in another file */
	// NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult)
	if (strcmp(a->name, b->name) || a->compliant != b->compliant)
		return "name or compliant";
	if (group_differs(a, b, phases, N(phases)))
		return "phases";
	if (group_differs(a, b, bounds, N(bounds)))
		return "bounds";
	if (a->infra.method != b->infra.method ||
	    group_differs(&a->infra, &b->infra, infra_fields, N(infra_fields)))
		return "infrastructure";
	for (int i = 0; i < NBUSY; i++) {
		if (a->reference[i] != b->reference[i])
			return "reference";
		if (group_differs(&a->qos[i], &b->qos[i], qos_fields, N(qos_fields)) ||
		    a->mix[i].n != b->mix[i].n)
			return "qos";
		for (int t = 0; t < a->mix[i].n; t++)
			if (strcmp(a->mix[i].name[t], b->mix[i].name[t]) ||
			    a->mix[i].pct[t] != b->mix[i].pct[t])
				return "qos mix";
	}
	return NULL;
}
