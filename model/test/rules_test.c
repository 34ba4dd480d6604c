/* Unit tests for model/rules.c: the shipped rules survive the trip to JSON and back unchanged,
 * the JSON has the fields and order a result records (results/SCHEMA.md), each group of fields
 * is named when it differs, and bad JSON is refused naming the field. */
#include "tools/unit.h"
#include "model/rules.h"

#include <stdlib.h>
#include <string.h>

static void round_trip(void **state)
{
	static const char *const files[] = { "runrules/quick.yaml", "runrules/vcons-1.yaml" };
	for (size_t i = 0; i < 2; i++) {
		struct run_rules file, back;
		char err[512];
		assert_int_equal(config__load_rules(files[i], &file, err, sizeof(err)), 0);
		json_t *j = rules__to_json(&file);
		assert_non_null(j);
		assert_int_equal(rules__from_json(j, &back, err, sizeof(err)), 0);
		assert_null(rules__differ(&file, &back));
		assert_string_equal(back.sha256, file.sha256);
		json_decref(j);
	}
}

static void layout(void **state)
{
	struct run_rules r;
	char err[512];
	assert_int_equal(config__load_rules("runrules/quick.yaml", &r, err, sizeof(err)), 0);
	json_t *j = rules__to_json(&r);
	char *text = json_dumps(j, JSON_COMPACT);
	const char *order[] = { "\"name\"",      "\"compliant\"", "\"sha256\"", "\"phases\"",
		                "\"reference\"", "\"qos\"",       "\"bounds\"" };
	const char *at = text;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		at = strstr(at, order[i]);
		assert_non_null(at);
	}
	assert_true(json_is_integer(json_object_get(json_object_get(j, "phases"), "intervals")));
	assert_true(json_is_object(
	    json_object_get(json_object_get(json_object_get(j, "qos"), "db"), "mix")));
	free(text);
	json_decref(j);
}

static void differ(void **state)
{
	struct run_rules a, b;
	char err[512];
	assert_int_equal(config__load_rules("runrules/quick.yaml", &a, err, sizeof(err)), 0);
	b = a;
	b.intervals++;
	assert_string_equal(rules__differ(&a, &b), "phases");
	b = a;
	b.max_dilation_pct += 1;
	assert_string_equal(rules__differ(&a, &b), "bounds");
	b = a;
	b.reference[ROLE_MAIL] += 1;
	assert_string_equal(rules__differ(&a, &b), "reference");
	b = a;
	b.qos[ROLE_WEB].min_rate_pct += 1;
	assert_string_equal(rules__differ(&a, &b), "qos");
	b = a;
	b.mix[ROLE_DB].pct[0] += 1;
	assert_string_equal(rules__differ(&a, &b), "qos mix");
}

static void refused(void **state)
{
	struct run_rules r, back;
	char err[512];
	assert_int_equal(config__load_rules("runrules/quick.yaml", &r, err, sizeof(err)), 0);
	json_t *j = rules__to_json(&r);
	json_object_set_new(json_object_get(j, "phases"), "intervals", json_real(2.5));
	assert_int_equal(rules__from_json(j, &back, err, sizeof(err)), -1);
	assert_string_equal(err, "rules.phases.intervals: not a whole number from 1 to 100");
	json_object_set_new(json_object_get(j, "phases"), "intervals", json_integer(2));
	json_object_del(json_object_get(json_object_get(j, "qos"), "web"), "limit_ms");
	assert_int_equal(rules__from_json(j, &back, err, sizeof(err)), -1);
	assert_string_equal(err, "rules.qos.web.limit_ms: missing or not a number");
	json_decref(j);
}

UNIT_MAIN(cmocka_unit_test(round_trip), cmocka_unit_test(layout), cmocka_unit_test(differ),
          cmocka_unit_test(refused))
