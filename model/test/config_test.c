/* Unit tests for model/config.c and yamldoc.c: the shipped files load; every kind of mistake is
 * reported with file, line and field. Run from the repository root. */
#include "tools/unit.h"
#include "model/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void shipped_files_load(void **state)
{
	char err[512] = "";
	struct csu_profile p;
	struct run_rules r;
	assert_int_equal(config__load_csu("csu/small.yaml", &p, err, sizeof(err)), 0);
	assert_string_equal(p.name, "small");
	assert_int_equal(p.vm[ROLE_DB].vcpus, 2);
	assert_int_equal(p.vm[ROLE_IDLE].memory_bytes, 256ULL << 20);
	assert_true(p.vm[ROLE_MAIL].nprofile > 5); /* the mail generator's mix, as written */
	assert_int_equal(p.vm[ROLE_DB].nprofile, 0);
	int found = 0;
	for (int i = 0; i < p.vm[ROLE_MAIL].nprofile; i++)
		found += !strcmp(p.vm[ROLE_MAIL].profile[i].key, "read_pct") &&
		         !strcmp(p.vm[ROLE_MAIL].profile[i].value, "70");
	assert_int_equal(found, 1);
	assert_int_equal(config__load_csu("csu/vconsolidate.yaml", &p, err, sizeof(err)), 0);
	assert_int_equal(p.vm[ROLE_JAVA].memory_bytes, 2ULL << 30);
	assert_int_equal(p.vm[ROLE_IDLE].memory_bytes, 400ULL << 20);
	assert_int_equal(config__load_rules("runrules/quick.yaml", &r, err, sizeof(err)), 0);
	assert_false(r.compliant);
	assert_int_equal(r.intervals, 3);
	assert_int_equal(strlen(r.sha256), 64);
	assert_int_equal(config__load_rules("runrules/vcons-1.yaml", &r, err, sizeof(err)), 0);
	assert_true(r.compliant);
	assert_true(r.interval_s == 300);
}

/* Writes `text` to a temporary file, loads it as a CSU profile or rules, returns the error. */
static const char *try_load(const char *text, int rules)
{
	static char err[512];
	char path[] = "/tmp/vcons-config-test.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (long)strlen(text));
	close(fd);
	struct csu_profile p;
	struct run_rules r;
	err[0] = 0;
	int rc = rules ? config__load_rules(path, &r, err, sizeof(err))
	               : config__load_csu(path, &p, err, sizeof(err));
	unlink(path);
	assert_int_equal(rc, -1);
	const char *colon = strchr(err, ':'); /* drop the temporary file name */
	return colon ? colon + 1 : err;
}

#define VMS                                                                                        \
	"vms:\n  db: {vcpus: 2, memory: 1G}\n  java: {vcpus: 2, memory: 1G}\n"                     \
	"  web: {vcpus: 2, memory: 1G}\n  mail: {vcpus: 1, memory: 1G}\n"

static void csu_mistakes_are_located(void **state)
{
	assert_string_equal(try_load("name: x\n" VMS, 0),
	                    "3: vms.idle: missing: a CSU has all five VMs");
	assert_string_equal(try_load("name: x\n" VMS "  idle: {vcpus: zero, memory: 1G}\n", 0),
	                    "7: vms.idle.vcpus: 'zero' is not a whole number");
	assert_string_equal(try_load("name: x\n" VMS "  idle: {vcpus: 1, memory: lots}\n", 0),
	                    "7: vms.idle.memory: 'lots' is not a size like 512M or 2G");
	assert_string_equal(
	    try_load("name: x\n" VMS "  idle: {vcpus: 1, memory: 1G, cpus: 3}\n", 0),
	    "7: vms.idle.cpus: unknown field");
	assert_string_equal(try_load("name: x\n" VMS "  idle: {vcpus: 99, memory: 1G}\n", 0),
	                    "7: vms.idle.vcpus: 99 is outside 1..64");
	assert_string_equal(try_load("name: x\nname: y\n", 0), "2: name: the key appears twice");
#define VMS4                                                                                       \
	"vms:\n  java: {vcpus: 2, memory: 1G}\n  web: {vcpus: 2, memory: 1G}\n"                    \
	"  idle: {vcpus: 1, memory: 1G}\n"
	assert_string_equal(try_load("name: x\n" VMS4 "  mail: {vcpus: 1, memory: 1G}\n"
	                             "  db: {vcpus: 1, memory: 1G, profile: {read_pct: 5}}\n",
	                             0),
	                    "7: vms.db.profile: only the mail generator takes a workload profile");
	assert_string_equal(try_load("name: x\n" VMS4 "  db: {vcpus: 1, memory: 1G}\n"
	                             "  mail: {vcpus: 1, memory: 1G, profile: {read_pct: lots}}\n",
	                             0),
	                    "7: vms.mail.profile.read_pct: 'lots' is not a number");
	assert_string_equal(try_load("name: x\n" VMS4 "  db: {vcpus: 1, memory: 1G}\n"
	                             "  mail: {vcpus: 1, memory: 1G, profile: {Read-Pct: 1}}\n",
	                             0),
	                    "7: vms.mail.profile.Read-Pct: not a profile key (a-z, 0-9, _)");
	assert_string_equal(try_load("name: x\n" VMS4 "  db: {vcpus: 1, memory: 1G}\n"
	                             "  mail: {vcpus: 1, memory: 1G, profile: [1]}\n",
	                             0),
	                    "7: vms.mail.profile: expected a mapping");
	assert_non_null(strstr(try_load("name: [unclosed\n", 0), "YAML syntax error"));
	assert_string_equal(try_load("", 0), "1: the file is empty");
	assert_string_equal(try_load("- a\n- b\n", 0), "1: (top): expected a mapping");
}

static void rules_mistakes_are_located(void **state)
{
	const char *base = "name: r\ncompliant: maybe\n";
	assert_string_equal(try_load(base, 1), "2: compliant: 'maybe' is not true or false");
	assert_string_equal(try_load("name: r\ncompliant: no\nphases: {interval_s: 0}\n", 1),
	                    "3: phases.ramp_up_s: missing");
	assert_string_equal(
	    try_load("name: r\ncompliant: no\nphases: {ramp_up_s: 1, warm_up_s: 1, interval_s: 0, "
	             "intervals: 1, ramp_down_s: 1}\n",
	             1),
	    "3: phases.interval_s: 0 is outside 1..86400");
}

/* The operation mix of a workload: shares in percent that add up to 100. */
static void mix_rules(void **state)
{
	(void)state;
	char err[512];
	struct run_rules r;
	assert_int_equal(config__load_rules("runrules/quick.yaml", &r, err, sizeof(err)), 0);
	assert_int_equal(r.mix[ROLE_DB].n, 5);
	assert_string_equal(r.mix[ROLE_DB].name[0], "new_order");
	assert_true(r.mix[ROLE_DB].pct[1] == 43);
	assert_int_equal(r.mix[ROLE_WEB].n, 0);
	FILE *in = fopen("runrules/quick.yaml", "r");
	char text[8192];
	size_t n = fread(text, 1, sizeof(text) - 1, in);
	(void)fclose(in);
	text[n] = 0;
	char *at = strstr(text, "stock_level: 4");
	assert_non_null(at);
	at[13] = '9'; /* the shares now add up to 105 */
	assert_non_null(
	    strstr(try_load(text, 1), ": qos.db.mix: shares add up to 105.00, not 100"));
}

/* Nesting beyond any configuration's is refused before it can exhaust the stack (a fuzzer's file
 * of 60000 '[' crashed the loader). */
static void deep_nesting_is_refused(void **state)
{
	static char text[100001];
	memset(text, '[', sizeof(text) - 1);
	assert_string_equal(try_load(text, 1), "1: nested deeper than 64 levels");
	assert_string_equal(try_load(text, 0), "1: nested deeper than 64 levels");
}

UNIT_MAIN(cmocka_unit_test(shipped_files_load), cmocka_unit_test(csu_mistakes_are_located),
          cmocka_unit_test(rules_mistakes_are_located), cmocka_unit_test(mix_rules),
          cmocka_unit_test(deep_nesting_is_refused))
