/* results/test/seal_test.c: the submission format: a sealed result opens with its digest and key;
 * every kind of tampering is caught as the right kind (member bytes, manifest, signature, key,
 * members added or removed, not JSON, bad base64); trust by directory; keys; the rules read back
 * from a result's JSON; the schema check. */
#include "tools/unit.h"
#include "results/check.h"
#include "model/rules.h"
#include "results/test/fixture.h"

#include <sys/stat.h>

static struct fixture fx;
static char *doc;
static size_t doclen;

static int setup(void **state)
{
	if (fix_make(&fx, "run-1"))
		return -1;
	char err[512];
	int rc = seal__create(fx.result, fx.key, &doc, &doclen, err, sizeof(err));
	if (rc)
		fprintf(stderr, "seal: %s\n", err);
	return rc;
}

static int teardown(void **state)
{
	free(doc);
	fix_remove(&fx);
	return 0;
}

/* Opens text; returns the seal__open code and frees what it opened. */
static int open_text(const char *text)
{
	struct submission s;
	char err[512];
	int rc = seal__open(text, strlen(text), &s, err, sizeof(err));
	seal__free(&s);
	return rc;
}

/* The submission with one change made by `edit` to its JSON. */
static int open_edited(void (*edit)(json_t *doc))
{
	json_t *j = json_loads(doc, 0, NULL);
	edit(j);
	char *text = json_dumps(j, JSON_COMPACT);
	int rc = open_text(text);
	free(text);
	json_decref(j);
	return rc;
}

static void round_trip(void **state)
{
	struct submission s;
	char err[512];
	assert_int_equal(seal__open(doc, doclen, &s, err, sizeof(err)), SEAL_OK);
	assert_string_equal(json_string_value(json_object_get(s.result, "run_id")), "run-1");
	assert_int_equal(strlen(s.digest), 64);
	unsigned char *log;
	size_t len;
	assert_int_equal(seal__member(&s, "logs/csu0-db.log", &log, &len), 0);
	assert_memory_equal(log, "a log line\n", len);
	free(log);
	assert_int_equal(seal__member(&s, "rules.yaml", &log, &len), 0);
	free(log);
	assert_int_equal(seal__trusted(&s, fx.trust, err, sizeof(err)), SEAL_OK);
	assert_int_equal(seal__trusted(&s, fx.stranger, err, sizeof(err)), SEAL_UNTRUSTED);
	seal__free(&s);
}

static void one_byte_in_a_member(void **state)
{
	char *copy = strdup(doc);
	char *p = strstr(copy, "\"logs/csu0-db.log\":\"") + 20;
	*p = *p == 'Y' ? 'Z' : 'Y';
	assert_int_equal(open_text(copy), SEAL_DIGEST);
	free(copy);
}

static void edit_manifest(json_t *j)
{
	char *m = strdup(json_string_value(json_object_get(j, "manifest")));
	m[strlen(m) - 2] = 'X'; /* a name's last letter */
	json_object_set_new(j, "manifest", json_string(m));
	free(m);
}

static void edit_signature(json_t *j)
{
	char *sig = strdup(json_string_value(json_object_get(j, "signature")));
	sig[3] = sig[3] == 'A' ? 'B' : 'A';
	json_object_set_new(j, "signature", json_string(sig));
	free(sig);
}

static void edit_key(json_t *j)
{
	char path[256], *pem;
	size_t len;
	snprintf(path, sizeof(path), "%s/vcons-key.pub.pem", fx.stranger);
	assert_int_equal(seal__read_file(path, &pem, &len), 0);
	json_object_set_new(j, "public_key", json_string(pem));
	free(pem);
}

static void add_member(json_t *j)
{
	json_object_set_new(json_object_get(j, "files"), "extra", json_string("AAAA"));
}

static void remove_member(json_t *j)
{
	json_object_del(json_object_get(j, "files"), "rules.yaml");
}

static void bad_base64(json_t *j)
{
	json_object_set_new(json_object_get(j, "files"), "logs/csu0-db.log", json_string("@@@"));
}

static void wrong_format(json_t *j)
{
	json_object_set_new(j, "format", json_string("vcons-submission/0"));
}

static void tampering(void **state)
{
	assert_int_equal(open_edited(edit_manifest), SEAL_SIGNATURE);
	assert_int_equal(open_edited(edit_signature), SEAL_SIGNATURE);
	assert_int_equal(open_edited(edit_key), SEAL_SIGNATURE);
	assert_int_equal(open_edited(add_member), SEAL_DIGEST);
	assert_int_equal(open_edited(remove_member), SEAL_DIGEST);
	assert_int_equal(open_edited(bad_base64), SEAL_DIGEST);
	assert_int_equal(open_edited(wrong_format), SEAL_MALFORMED);
	assert_int_equal(open_text("{\"format\": "), SEAL_MALFORMED);
	assert_int_equal(open_text("[]"), SEAL_MALFORMED);
}

static void deterministic(void **state)
{
	char *again, err[512];
	size_t len;
	assert_int_equal(seal__create(fx.result, fx.key, &again, &len, err, sizeof(err)), 0);
	assert_int_equal(len, doclen);
	assert_memory_equal(again, doc, len);
	free(again);
}

static void keys(void **state)
{
	char err[512], path[256];
	struct stat st;
	snprintf(path, sizeof(path), "%s/vcons-key.pem", fx.trust);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(seal__keygen(fx.trust, err, sizeof(err)), SEAL_IO); /* no overwrite */
	char *out;
	size_t len;
	assert_int_equal(seal__create(fx.result, path, &out, &len, err, sizeof(err)), SEAL_OK);
	free(out);
	snprintf(path, sizeof(path), "%s/vcons-key.pub.pem", fx.trust); /* not a private key */
	assert_int_equal(seal__create(fx.result, path, &out, &len, err, sizeof(err)), SEAL_IO);
}

static void rules_from_json(void **state)
{
	struct run_rules file, back;
	char err[512];
	assert_int_equal(config__load_rules(FIX_RULES, &file, err, sizeof(err)), 0);
	json_t *j = json_pack(
	    "{s:s,s:b,s:s,s:{s:f,s:f,s:f,s:i,s:f},s:{s:f,s:f,s:f,s:f},s:{s:f,s:f,s:f}}", "name",
	    "fast-test", "compliant", 0, "sha256", file.sha256, "phases", "ramp_up_s", 2.0,
	    "warm_up_s", 2.0, "interval_s", 5.0, "intervals", 2, "ramp_down_s", 2.0, "reference",
	    "db", 40.0, "java", 10000.0, "web", 100.0, "mail", 50.0, "bounds", "max_variation_pct",
	    25.0, "max_dilation_pct", 5.0, "max_generator_cpu_pct", 90.0);
	json_t *qos = json_object();
	for (int i = 0; i < NBUSY; i++) {
		const struct qos_rule *q = &file.qos[i];
		json_t *mix = json_object();
		for (int t = 0; t < file.mix[i].n; t++)
			json_object_set_new(mix, file.mix[i].name[t],
			                    json_real(file.mix[i].pct[t]));
		json_object_set_new(qos, role_name((enum role)i),
		                    json_pack("{s:f,s:f,s:f,s:f,s:f,s:o}", "percentile",
		                              q->percentile, "limit_ms", q->limit_ms,
		                              "max_failure_pct", q->max_failure_pct,
		                              "mix_tolerance_pct", q->mix_tolerance_pct,
		                              "min_rate_pct", q->min_rate_pct, "mix", mix));
	}
	json_object_set_new(j, "qos", qos);
	assert_int_equal(rules__from_json(j, &back, err, sizeof(err)), 0);
	assert_string_equal(back.name, file.name);
	assert_string_equal(back.sha256, file.sha256);
	assert_int_equal(back.intervals, file.intervals);
	assert_true(back.reference[ROLE_WEB] == file.reference[ROLE_WEB]);
	assert_int_equal(back.mix[ROLE_DB].n, file.mix[ROLE_DB].n);
	assert_string_equal(back.mix[ROLE_DB].name[1], file.mix[ROLE_DB].name[1]);
	assert_true(back.qos[ROLE_MAIL].limit_ms == file.qos[ROLE_MAIL].limit_ms);
	/* a count no int holds (undefined behaviour to convert, found by results-check) */
	json_object_set_new(json_object_get(j, "phases"), "intervals", json_real(1e10));
	assert_int_equal(rules__from_json(j, &back, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "phases.intervals"));
	json_object_set_new(json_object_get(j, "phases"), "intervals", json_integer(2));
	json_object_del(json_object_get(j, "bounds"), "max_dilation_pct");
	assert_int_equal(rules__from_json(j, &back, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bounds.max_dilation_pct"));
	json_decref(j);
}

static void schema(void **state)
{
	char err[512];
	json_t *r = json_loads("{\"schema\": \"vcons-result/1\", \"run_id\": \"x\"}", 0, NULL);
	assert_int_equal(check__schema(r, err, sizeof(err)), SEAL_SCHEMA);
	assert_non_null(strstr(err, "started_at"));
	json_object_set_new(r, "schema", json_string("vcons-result/2"));
	assert_int_equal(check__schema(r, err, sizeof(err)), SEAL_SCHEMA);
	assert_non_null(strstr(err, "vcons-result/1"));
	json_decref(r);
}

UNIT_MAIN(cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
          cmocka_unit_test_setup_teardown(one_byte_in_a_member, setup, teardown),
          cmocka_unit_test_setup_teardown(tampering, setup, teardown),
          cmocka_unit_test_setup_teardown(deterministic, setup, teardown),
          cmocka_unit_test_setup_teardown(keys, setup, teardown), cmocka_unit_test(rules_from_json),
          cmocka_unit_test(schema))
