/* Unit tests for the pure parts of a run: plan.c (command lines), collect.c (report lines into
 * intervals, interpolation), metrics.c (rates over host time, dilation) and verdict.c (checks and
 * scores from recorded figures). Run from the repository root. */
#include "tools/unit.h"
#include "harness/collect.h"
#include "model/config.h"
#include "harness/metrics.h"
#include "harness/plan.h"
#include "harness/platform.h"
#include "model/verdict.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define S 1000000000LL

static void load_files(struct csu_profile *p, struct run_rules *r)
{
	char err[512];
	assert_int_equal(config__load_csu("csu/small.yaml", p, err, sizeof(err)), 0);
	assert_int_equal(config__load_rules("runrules/quick.yaml", r, err, sizeof(err)), 0);
}

static int has_args(const struct cmdline *c, const char *a, const char *b)
{
	for (int i = 0; i + 1 < c->argc; i++)
		if (!strcmp(c->argv[i], a) && (!b || !strcmp(c->argv[i + 1], b)))
			return 1;
	return 0;
}

static void plan_commands(void **state)
{
	(void)state;
	struct csu_profile p;
	struct run_rules r;
	load_files(&p, &r);
	struct plan_paths paths = { .build = "/b", .work = "/w", .clock_scale = 0.8 };
	struct vm_plan v;
	char err[256];
	assert_int_equal(
	    plan__vm(&p, &platform_hv, &paths, 1, ROLE_DB, 100, 10, &v, err, sizeof(err)), 0);
	assert_string_equal(v.name, "csu1-db");
	assert_string_equal(v.addr, "127.10.2.1");
	assert_string_equal(v.server.argv[0], "/b/vcons-hv");
	assert_true(has_args(&v.server, "--root", "/w/csu1-db"));
	assert_true(has_args(&v.server, "--clock-scale", "0.8"));
	assert_true(has_args(&v.server, "--", "/w/csu1-db/bin/vcons-db"));
	assert_true(has_args(&v.server, "--data", "/data"));
	assert_true(has_args(&v.provision, "--warehouses", "2"));
	assert_true(has_args(&v.generator, "--target", "127.10.2.1"));
	assert_true(has_args(&v.generator, "--rate", "40"));
	assert_true(has_args(&v.generator, "--ramp", "10"));
	assert_true(v.prints_ready && !v.stdin_stop);
	paths.clock_scale = 1;
	/* mail: mailboxes from the data set, the CSU profile's workload profile key by key, no ramp
	 */
	assert_int_equal(
	    plan__vm(&p, &platform_native, &paths, 0, ROLE_MAIL, 100, 10, &v, err, sizeof(err)), 0);
	assert_true(has_args(&v.generator, "--mailboxes", "100"));
	assert_true(has_args(&v.generator, "--set", "read_pct=70"));
	assert_true(has_args(&v.generator, "--set", "size_max_bytes=1048576"));
	assert_true(has_args(&v.generator, "--set", "imap_idle_pct=100")); /* idle sessions IDLE */
	assert_false(has_args(&v.generator, "--ramp", NULL));
	assert_int_equal(
	    plan__vm(&p, &platform_native, &paths, 0, ROLE_JAVA, 100, 10, &v, err, sizeof(err)), 0);
	assert_string_equal(v.server.argv[0], "/b/guest/vcons-jbb");
	assert_int_equal(v.generator.argc, 0);
	assert_true(v.stdin_stop);
	assert_false(has_args(&v.server, "--clock-scale", NULL));
	char line[512];
	plan__describe(&v.server, line, sizeof(line));
	assert_string_equal(line,
	                    "/b/guest/vcons-jbb --warehouses 2 --threads 2 --csu 0 --self-check");
	assert_int_equal(
	    plan__vm(&p, &platform_native, &paths, 0, ROLE_WEB, 100, 10, &v, err, sizeof(err)), 0);
	assert_true(has_args(&v.generator, "--http2", "--files")); /* an HTTP/2 browser's load */
}

static void gen_line(struct vm_data *d, const char *op, double t_s, int ops, int errors,
                     int64_t now)
{
	char line[512];
	snprintf(
	    line, sizeof(line),
	    "{\"type\":\"interval\",\"role\":\"db-load\",\"csu\":0,\"host_ns\":1,\"op\":\"%s\","
	    "\"t_s\":%g,\"ops\":%d,\"errors\":%d,\"interval_s\":1.0,\"cpu_pct\":12.5}",
	    op, t_s, ops, errors);
	collect__generator_line(d, line, now);
}

/* Lines go to the interval of their midpoint; a tick's length counts once, not once per type. */
static void generator_lines_into_intervals(void **state)
{
	(void)state;
	struct vm_data d;
	assert_int_equal(collect__init(&d, ROLE_DB, 2), 0);
	collect__set_window(&d, 100 * S, 10 * S);
	gen_line(&d, "new_order", 1, 5, 0, 100 * S + S / 4); /* midpoint 99.75 s: before */
	for (int t = 2; t <= 21; t++) {
		gen_line(&d, "new_order", t, 9, 0, 100 * S + (t - 1) * S + S / 4);
		gen_line(&d, "payment", t, 1, 1, 100 * S + (t - 1) * S + S / 4);
	}
	assert_true(d.iv[0].host_s == 10 && d.iv[1].host_s == 10);
	assert_true(d.iv[0].ops == 100 && d.iv[0].errors == 10);
	assert_int_equal(d.iv[0].ntypes, 2);
	assert_true(d.iv[0].gen_cpu_pct == 12.5);
	json_t *ivs = metrics__intervals(&d, &platform_native);
	json_t *iv = json_array_get(ivs, 1);
	assert_true(json_real_value(json_object_get(iv, "rate")) == 9.0);
	assert_true(json_real_value(json_object_get(iv, "dilation")) == 1.0);
	json_decref(ivs);
	collect__fini(&d);
}

/* A self-driven VM whose clock runs at 0.8: host-time rate exact, guest rate 1/0.8 too high. */
static void self_driven_rates_and_dilation(void **state)
{
	(void)state;
	struct vm_data d;
	assert_int_equal(collect__init(&d, ROLE_JAVA, 2), 0);
	collect__set_window(&d, 10 * S, 10 * S);
	char line[256];
	for (int t = 0; t <= 40; t++) {
		snprintf(line, sizeof(line),
		         "{\"type\":\"progress\",\"role\":\"java\",\"csu\":0,\"guest_ns\":%lld,"
		         "\"ops\":%d}",
		         (long long)(t * S * 8 / 10), 1000 * t);
		collect__vm_line(&d, line, (int64_t)t * S + S / 2);
	}
	double c, g;
	assert_int_equal(collect__at(&d, 11 * S, &c, &g), 0);
	assert_true(fabs(c - 10500) < 1e-6);
	assert_int_equal(collect__at(&d, 100 * S, &c, &g), -1);
	json_t *ivs = metrics__intervals(&d, &platform_hv);
	json_t *iv = json_array_get(ivs, 0);
	assert_true(fabs(json_real_value(json_object_get(iv, "rate")) - 1000) < 1e-6);
	assert_true(fabs(json_real_value(json_object_get(iv, "guest_rate")) - 1250) < 1e-6);
	assert_true(fabs(json_real_value(json_object_get(iv, "dilation")) - 0.8) < 1e-9);
	assert_string_equal(json_string_value(json_object_get(iv, "dilation_source")),
	                    "guest report");
	json_decref(ivs);
	collect__fini(&d);
}

/* With the VMM's statistics at the boundaries, a self-driven VM's dilation comes from them: exact
 * even when its reports arrive late (here 0.3 s after their guest stamp, varying). */
static void self_driven_dilation_from_the_vmm(void **state)
{
	(void)state;
	struct vm_data d;
	assert_int_equal(collect__init(&d, ROLE_IDLE, 2), 0);
	collect__set_window(&d, 10 * S, 10 * S);
	char line[256];
	for (int t = 0; t <= 40; t++) {
		snprintf(line, sizeof(line),
		         "{\"type\":\"interval\",\"role\":\"idle\",\"csu\":0,\"guest_ns\":%lld,"
		         "\"wakeups\":100,\"missed\":0}",
		         (long long)(t * S));
		collect__vm_line(&d, line, (int64_t)t * S + (t % 3) * S / 10);
	}
	for (int k = 0; k <= 2; k++) {
		d.snap[k].have_stats = 1;
		d.snap[k].stats_host_ns = 10 * S + k * 10 * S + 7;
		d.snap[k].stats_guest_ns = 1000 * S + k * 8 * S;
	}
	json_t *ivs = metrics__intervals(&d, &platform_hv);
	for (int k = 0; k < 2; k++) {
		json_t *iv = json_array_get(ivs, (size_t)k);
		assert_true(fabs(json_real_value(json_object_get(iv, "dilation")) - 0.8) < 1e-9);
		assert_string_equal(json_string_value(json_object_get(iv, "dilation_source")),
		                    "hv guest clock");
	}
	json_decref(ivs);
	collect__fini(&d);
}

/* hv statistics at a boundary: `calls` system calls (3/4 read, 1/8 write, 1/8 clock_gettime)
 * plus `other` exits. */
static void stats_at(struct snapshot *s, int64_t host_ns, int calls, int other)
{
	s->have_stats = 1;
	s->stats_host_ns = host_ns;
	s->stats_guest_ns = host_ns;
	s->exits = json_pack("{s:i,s:i}", "hypercall", calls, "io", other);
	s->syscalls = json_pack("{s:{s:i},s:{s:i},s:{s:i}}", "read", "count", calls * 3 / 4,
	                        "write", "count", calls / 8, "clock_gettime", "count", calls / 8);
}

/* Mail's unit of work is an SMTP delivery or an IMAP command, each an op of the generator's; a
 * failed one does no work; exits and calls per unit per interval and over the measurement. */
static void exits_per_unit_of_work(void **state)
{
	(void)state;
	struct vm_data d;
	assert_int_equal(collect__init(&d, ROLE_MAIL, 2), 0);
	collect__set_window(&d, 100 * S, 10 * S);
	for (int t = 1; t <= 20; t++) {
		gen_line(&d, "smtp", t, 3, 1, 100 * S + t * S - S / 4);   /* 2 deliveries */
		gen_line(&d, "select", t, 5, 0, 100 * S + t * S - S / 4); /* 5 commands */
		gen_line(&d, "search", t, 3, 0, 100 * S + t * S - S / 4); /* 3 commands */
	}
	stats_at(&d.snap[0], 100 * S, 1000, 10);
	stats_at(&d.snap[1], 110 * S, 2000, 10);  /* 1000 calls for 100 units */
	stats_at(&d.snap[2], 120 * S, 2400, 110); /* 400 calls + 100 other for 100 units */
	json_t *ivs = metrics__intervals(&d, &platform_hv);
	json_t *po = json_object_get(json_array_get(ivs, 0), "hv_per_op");
	assert_non_null(po);
	assert_string_equal(json_string_value(json_object_get(po, "unit")),
	                    "SMTP delivery or IMAP command");
	assert_true(json_real_value(json_object_get(po, "work")) == 100);
	assert_true(json_real_value(json_object_get(po, "exits")) == 10);
	assert_true(json_real_value(json_object_get(po, "syscalls")) == 10);
	json_t *top = json_object_get(po, "top_syscalls");
	assert_int_equal(json_array_size(top), 3);
	assert_true(json_real_value(json_object_get(po, "clock_syscalls")) == 1.25);
	assert_string_equal(json_string_value(json_object_get(json_array_get(top, 0), "call")),
	                    "read");
	assert_true(json_real_value(json_object_get(json_array_get(top, 0), "per_op")) == 7.5);
	po = json_object_get(json_array_get(ivs, 1), "hv_per_op");
	assert_true(json_real_value(json_object_get(po, "exits")) == 5);
	assert_true(json_real_value(json_object_get(po, "syscalls")) == 4);
	json_decref(ivs);
	po = metrics__per_op(&d);
	assert_true(json_real_value(json_object_get(po, "work")) == 200);
	assert_true(json_real_value(json_object_get(po, "exits")) == 7.5);
	json_decref(po);
	d.snap[2].have_stats = 0; /* no statistics at the last boundary: no figure */
	assert_null(metrics__per_op(&d));
	collect__fini(&d);
}

/* A minimal recorded result: one CSU, every busy workload at `rate`, all alive. */
static json_t *recorded(double rate, double db_p90_us, double dilation, int mail_alive)
{
	static const char *const roles[] = { "db", "java", "web", "mail", "idle" };
	json_t *vms = json_array();
	for (int i = 0; i < 5; i++) {
		json_t *ivs = json_array();
		for (int k = 0; k < 3; k++) {
			json_t *iv =
			    json_pack("{s:i,s:f,s:f,s:f,s:f,s:f}", "k", k, "host_s", 30.0, "ops",
			              rate * 30, "errors", 0.0, "rate", rate, "dilation", dilation);
			json_object_set_new(iv, "latency_us",
			                    json_pack("{s:f,s:f,s:f}", "p90_us", db_p90_us,
			                              "p95_us", 1000.0, "p99_us", 2000.0));
			json_object_set_new(
			    iv, "types",
			    json_pack("{s:{s:f},s:{s:f},s:{s:f},s:{s:f},s:{s:f}}", "new_order",
			              "ops", rate * 30 * .45, "payment", "ops", rate * 30 * .43,
			              "order_status", "ops", rate * 30 * .04, "delivery", "ops",
			              rate * 30 * .04, "stock_level", "ops", rate * 30 * .04));
			json_array_append_new(ivs, iv);
		}
		json_array_append_new(vms,
		                      json_pack("{s:i,s:s,s:s,s:f,s:b,s:o}", "csu", 0, "role",
		                                roles[i], "name", roles[i], "target_rate", 0.0,
		                                "alive", i != 3 || mail_alive, "intervals", ivs));
	}
	return json_pack("{s:s,s:[],s:o}", "status", mail_alive ? "valid" : "invalid", "failures",
	                 "vms", vms);
}

static void verdict_scores_and_reasons(void **state)
{
	(void)state;
	struct csu_profile p;
	struct run_rules r;
	load_files(&p, &r);
	/* rates equal to the references of db (40) and mail (50) */
	json_t *res = recorded(40, 1000, 1.0, 1);
	assert_int_equal(verdict__evaluate(res, &r), 0);
	json_t *v = json_object_get(res, "verdict"), *sc = json_object_get(res, "score");
	assert_true(json_is_true(json_object_get(v, "valid")));
	assert_true(json_is_true(json_object_get(v, "checks_passed")));
	assert_false(json_is_true(json_object_get(v, "compliant")));
	assert_int_equal(json_array_size(json_object_get(v, "reasons")), 1);
	double expect = pow((40.0 / 40) * (40.0 / 1e6) * (40.0 / 100) * (40.0 / 50), 0.25);
	assert_true(fabs(json_real_value(json_object_get(sc, "run")) - expect) < 1e-9);
	json_decref(res);

	res = recorded(40, 6e6, 1.10, 1); /* db's p90 6 s over 5 s; clocks 10% fast */
	assert_int_equal(verdict__evaluate(res, &r), 0);
	v = json_object_get(res, "verdict");
	assert_false(json_is_true(json_object_get(v, "checks_passed")));
	const char *all = json_dumps(json_object_get(v, "reasons"), 0);
	assert_non_null(strstr(all, "db interval 0: QoS: p90 response time 6000.0 ms"));
	assert_non_null(strstr(all, "time dilation 1.1000"));
	free((void *)all);
	json_decref(res);

	res = recorded(40, 1000, 1.0, 0); /* mail died */
	assert_int_equal(verdict__evaluate(res, &r), 0);
	assert_false(json_is_true(json_object_get(json_object_get(res, "verdict"), "valid")));
	json_decref(res);
}

/* Only the released vcons-1 and vcons-2 rules can make a run compliant: the files and verdict.h
 * agree. */
static void official_rules_hash(void **state)
{
	(void)state;
	struct run_rules r;
	char err[512];
	assert_int_equal(config__load_rules("runrules/vcons-1.yaml", &r, err, sizeof(err)), 0);
	assert_string_equal(r.sha256, VERDICT_OFFICIAL_RULES_SHA256);
	assert_int_equal(config__load_rules("runrules/vcons-2.yaml", &r, err, sizeof(err)), 0);
	assert_string_equal(r.sha256, VERDICT_OFFICIAL_RULES2_SHA256);
	assert_true(r.compliant);
	assert_int_equal(r.infra.method, INFRA_MIGRATE);
}

UNIT_MAIN(cmocka_unit_test(plan_commands), cmocka_unit_test(generator_lines_into_intervals),
          cmocka_unit_test(self_driven_rates_and_dilation),
          cmocka_unit_test(self_driven_dilation_from_the_vmm),
          cmocka_unit_test(exits_per_unit_of_work), cmocka_unit_test(verdict_scores_and_reasons),
          cmocka_unit_test(official_rules_hash))
