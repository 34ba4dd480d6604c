/* results/check.c: schema and verdict checks of a sealed result (see check.h). */
#include "results/check.h"
#include "lib/json.h"
#include "model/rules.h"
#include "model/verdict.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The sealed rules.yaml loaded as `vcons run` loads it (from a private temporary file in $TMPDIR,
 * default /tmp). */
static int load_sealed_rules(const struct submission *s, struct run_rules *out, char *err,
                             size_t errlen)
{
	unsigned char *data;
	size_t len;
	if (seal__member(s, "rules.yaml", &data, &len) < 0)
		return seal__fail(SEAL_VERDICT, err, errlen, "rules.yaml: not in the submission");
	const char *tmp = getenv("TMPDIR");
	tmp = tmp && *tmp ? tmp : "/tmp";
	char path[PATH_MAX], why[512];
	snprintf(path, sizeof(path), "%s/vcons-rules.XXXXXX", tmp);
	int fd = mkstemp(path);
	int ok = fd >= 0 && write(fd, data, len) == (ssize_t)len;
	if (fd >= 0)
		close(fd);
	free(data);
	int rc = ok && config__load_rules(path, out, why, sizeof(why)) == 0;
	if (fd >= 0)
		unlink(path);
	if (!ok)
		return seal__fail(SEAL_IO, err, errlen, "cannot write a temporary file in %s", tmp);
	return rc ? SEAL_OK
	          : seal__fail(SEAL_VERDICT, err, errlen, "rules.yaml: %s",
	                       strstr(why, ": ") ? strstr(why, ": ") + 2 : why);
}

/* --- schema
 * --------------------------------------------------------------------------------------- */

typedef int (*is_fn)(const json_t *);
static int is_string(const json_t *j)
{
	return json_is_string(j);
}
static int is_object(const json_t *j)
{
	return json_is_object(j);
}
static int is_array(const json_t *j)
{
	return json_is_array(j);
}
static int is_number(const json_t *j)
{
	return json_is_number(j);
}
static int is_integer(const json_t *j)
{
	return json_is_integer(j);
}
static int is_bool(const json_t *j)
{
	return json_is_boolean(j);
}

struct field {
	const char *name;
	is_fn is;
	const char *type;
};

static int need(const json_t *o, const char *where, const struct field *f, size_t n, char *err,
                size_t errlen)
{
	for (size_t i = 0; i < n; i++)
		if (!f[i].is(json_object_get(o, f[i].name)))
			return seal__fail(SEAL_SCHEMA, err, errlen,
			                  "result.json: %s%s: missing or not %s", where, f[i].name,
			                  f[i].type);
	return SEAL_OK;
}
#define NEED(o, where, ...)                                                                        \
	need(o, where, (const struct field[]){ __VA_ARGS__ },                                      \
	     sizeof((const struct field[]){ __VA_ARGS__ }) / sizeof(struct field), err, errlen)
#define S(n)                                                                                       \
	{                                                                                          \
		n, is_string, "a string"                                                           \
	}
#define O(n)                                                                                       \
	{                                                                                          \
		n, is_object, "an object"                                                          \
	}
#define A(n)                                                                                       \
	{                                                                                          \
		n, is_array, "an array"                                                            \
	}
#define N(n)                                                                                       \
	{                                                                                          \
		n, is_number, "a number"                                                           \
	}
#define I(n)                                                                                       \
	{                                                                                          \
		n, is_integer, "an integer"                                                        \
	}
#define B(n)                                                                                       \
	{                                                                                          \
		n, is_bool, "a boolean"                                                            \
	}

static int check_vms(const json_t *vms, char *err, size_t errlen)
{
	size_t i;
	json_t *vm;
	enum role role;
	json_array_foreach(vms, i, vm)
	{
		char where[32];
		snprintf(where, sizeof(where), "vms[%zu].", i);
		int rc =
		    NEED(vm, where, I("csu"), S("role"), S("name"), B("alive"), A("intervals"));
		if (rc)
			return rc;
		if (role_parse(jget_str(vm, "role", NULL), &role) < 0)
			return seal__fail(SEAL_SCHEMA, err, errlen, "result.json: %srole: unknown",
			                  where);
		json_int_t c = json_integer_value(json_object_get(vm, "csu"));
		if (c < 0 || c >= 16)
			return seal__fail(SEAL_SCHEMA, err, errlen,
			                  "result.json: %scsu: out of range", where);
	}
	return SEAL_OK;
}

int check__schema(const json_t *r, char *err, size_t errlen)
{
	const char *schema = jget_str(r, "schema", NULL);
	if (!json_is_object(r) || !schema || strcmp(schema, "vcons-result/1"))
		return seal__fail(SEAL_SCHEMA, err, errlen,
		                  "result.json: schema: not vcons-result/1");
	int rc = NEED(r, "", S("run_id"), S("started_at"), S("status"), A("failures"),
	              S("platform"), I("csus"), O("config"), O("rules"), O("system"), O("timing"),
	              O("harness"), A("vms"), O("verdict"), O("score"));
	if (!rc)
		rc = NEED(json_object_get(r, "config"), "config.", S("csu_file"), O("csu"),
		          S("rules_file"));
	if (!rc)
		rc = NEED(json_object_get(r, "rules"), "rules.", S("name"), B("compliant"),
		          S("sha256"), O("phases"), O("reference"), O("qos"), O("bounds"));
	if (!rc)
		rc = NEED(json_object_get(r, "system"), "system.", S("cpu_model"), I("cpus"));
	if (!rc)
		rc = NEED(json_object_get(r, "verdict"), "verdict.", B("valid"), B("compliant"),
		          B("checks_passed"), A("reasons"));
	if (!rc)
		rc = NEED(json_object_get(r, "score"), "score.", N("run"), A("csus"));
	return rc ? rc : check_vms(json_object_get(r, "vms"), err, errlen);
}

/* --- verdict
 * -------------------------------------------------------------------------------------- */

static int close_enough(double a, double b)
{
	return fabs(a - b) <= 1e-9 * fmax(1, fmax(fabs(a), fabs(b)));
}

/* The recorded scores against the recomputed ones: every number, within rounding. */
static int same_scores(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return close_enough(json_number_value(a), json_number_value(b));
	if (json_is_object(a) && json_is_object(b)) {
		const char *k;
		json_t *v;
		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach((json_t *)a, k,
		                    v) if (!same_scores(v, json_object_get(b, k))) return 0;
		return 1;
	}
	if (json_is_array(a) && json_is_array(b)) {
		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (size_t i = 0; i < json_array_size(a); i++)
			if (!same_scores(json_array_get(a, i), json_array_get(b, i)))
				return 0;
		return 1;
	}
	return json_equal((json_t *)a, (json_t *)b);
}

static int compare_verdicts(const json_t *rec, const json_t *now, char *err, size_t errlen)
{
	static const char *const flags[] = { "valid", "compliant", "checks_passed" };
	json_t *rv = json_object_get(rec, "verdict"), *nv = json_object_get(now, "verdict");
	for (size_t i = 0; i < 3; i++)
		if (!json_equal(json_object_get(rv, flags[i]), json_object_get(nv, flags[i])))
			return seal__fail(
			    SEAL_VERDICT, err, errlen,
			    "verdict.%s is recorded %s but the data give %s", flags[i],
			    json_is_true(json_object_get(rv, flags[i])) ? "true" : "false",
			    json_is_true(json_object_get(nv, flags[i])) ? "true" : "false");
	if (!json_equal(json_object_get(rv, "reasons"), json_object_get(nv, "reasons")))
		return seal__fail(
		    SEAL_VERDICT, err, errlen,
		    "verdict.reasons differ from the data's (%zu recorded, %zu found)",
		    json_array_size(json_object_get(rv, "reasons")),
		    json_array_size(json_object_get(nv, "reasons")));
	json_t *rs = json_object_get(rec, "score"), *ns = json_object_get(now, "score");
	if (!same_scores(rs, ns))
		return seal__fail(
		    SEAL_VERDICT, err, errlen,
		    "score is recorded %.6g but the data give %.6g (or a CSU's differs)",
		    jget_num(rs, "run", 0), jget_num(ns, "run", 0));
	return SEAL_OK;
}

int check__verdict(const struct submission *s, char *err, size_t errlen)
{
	struct run_rules rec, file;
	char why[256];
	if (rules__from_json(json_object_get(s->result, "rules"), &rec, why, sizeof(why)))
		return seal__fail(SEAL_SCHEMA, err, errlen, "result.json: %s", why);
	int rc = load_sealed_rules(s, &file, err, errlen);
	if (rc)
		return rc;
	if (strcmp(file.sha256, rec.sha256))
		return seal__fail(
		    SEAL_VERDICT, err, errlen,
		    "rules.yaml: SHA-256 %.12s... is not the recorded rules.sha256 %.12s...",
		    file.sha256, rec.sha256);
	const char *d = rules__differ(&rec, &file);
	if (d)
		return seal__fail(SEAL_VERDICT, err, errlen,
		                  "recorded rules differ from the sealed rules.yaml (%s)", d);
	json_t *now = json_deep_copy(s->result);
	json_object_del(now, "verdict"); /* so that none of the recorded ones survives */
	json_object_del(now, "score");
	if (!now || verdict__evaluate(now, &rec) < 0) {
		json_decref(now);
		return seal__fail(SEAL_SCHEMA, err, errlen,
		                  "result.json: lacks the figures to judge");
	}
	if (!json_object_get(now, "score")) /* figures that give no finite score */
		rc = seal__fail(
		    SEAL_VERDICT, err, errlen,
		    "score is recorded %.6g but the data give none (not a finite number)",
		    jget_num(json_object_get(s->result, "score"), "run", 0));
	else
		rc = compare_verdicts(s->result, now, err, errlen);
	json_decref(now);
	return rc;
}

int check__submission(const char *buf, size_t len, const char *trust_dir, struct submission *s,
                      char *err, size_t errlen)
{
	int rc = seal__open(buf, len, s, err, errlen);
	if (!rc && trust_dir)
		rc = seal__trusted(s, trust_dir, err, errlen);
	if (!rc)
		rc = check__schema(s->result, err, errlen);
	if (!rc)
		rc = check__verdict(s, err, errlen);
	return rc;
}
