/* results/test/fixture.h: a key pair and a small result directory in a temporary directory for
 * the results unit tests (run from the source tree's top, as tools/run-tests.sh does). */
#ifndef RESULTS_TEST_FIXTURE_H
#define RESULTS_TEST_FIXTURE_H
#include "results/seal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FIX_RULES "harness/test/data/fast.yaml"
#define FIX_CSU   "csu/small.yaml"

struct fixture {
	char dir[64];       /* the temporary directory */
	char result[128];   /* a result dir */
	char key[128];      /* private key */
	char trust[128];    /* holds the public key */
	char stranger[128]; /* another key pair's directory */
};

static int fix_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* A result.json with what seal needs (config paths, rules.sha256) and a run_id; logs/ with one
 * log. */
static int fix_make(struct fixture *x, const char *run_id)
{
	char path[256], *rules, hex[65], text[1024], err[256];
	size_t len;
	snprintf(x->dir, sizeof(x->dir), "/tmp/vcons-results-test.XXXXXX");
	if (!mkdtemp(x->dir) || seal__read_file(FIX_RULES, &rules, &len) < 0)
		return -1;
	seal__sha256_hex(rules, len, hex);
	free(rules);
	snprintf(x->result, sizeof(x->result), "%s/result", x->dir);
	snprintf(x->key, sizeof(x->key), "%s/me/vcons-key.pem", x->dir);
	snprintf(x->trust, sizeof(x->trust), "%s/me", x->dir);
	snprintf(x->stranger, sizeof(x->stranger), "%s/stranger", x->dir);
	snprintf(path, sizeof(path), "%s/logs", x->result);
	mkdir(x->result, 0755);
	mkdir(path, 0755);
	snprintf(text, sizeof(text),
	         "{\"schema\": \"vcons-result/1\", \"run_id\": \"%s\", \"platform\": \"native\", "
	         "\"csus\": 1, \"system\": {\"cpu_model\": \"Test CPU\", \"cpus\": 2}, "
	         "\"verdict\": {\"valid\": true, \"compliant\": false}, \"score\": {\"run\": 1.5}, "
	         "\"config\": {\"csu_file\": \"" FIX_CSU "\", \"rules_file\": \"" FIX_RULES
	         "\"}, \"rules\": {\"name\": \"fast-test\", \"sha256\": \"%s\"}}",
	         run_id, hex);
	snprintf(path, sizeof(path), "%s/result.json", x->result);
	if (fix_write(path, text))
		return -1;
	snprintf(path, sizeof(path), "%s/logs/csu0-db.log", x->result);
	if (fix_write(path, "a log line\n"))
		return -1;
	return seal__keygen(x->trust, err, sizeof(err)) ||
	       seal__keygen(x->stranger, err, sizeof(err));
}

static void fix_remove(struct fixture *x)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", x->dir);
	// NOLINTNEXTLINE(cert-env33-c): a test's own command line
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", x->dir);
}

#endif
