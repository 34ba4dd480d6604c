/* model/fuzz/yaml.c: fuzz target for the YAML readers of `vcons run` (config.h, yamldoc.h):
 * the same bytes as a CSU profile and as a run-rules file (written to a dot file next to the
 * binary, below build/, since both loaders take a path), and as a size for size_parse
 * (lib/size.h). Promises checked: a load gives a profile or rules whose every field lies in the
 * range config.c documents (sizes within YAMLDOC_MAX_SIZE, mixes adding up to 100, the rules'
 * SHA-256 that of the bytes), or -1 with one message that starts with the file's name; a size
 * parses within its maximum (and not at all above it), leaving *out alone when refused. */
#include "tools/fuzz.h"
#include "model/config.h"
#include "model/yamldoc.h"
#include "lib/size.h"

#include <limits.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

static char path[PATH_MAX + 64];

/* The input's file, in the target's scratch folder. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	snprintf(path, sizeof(path), "%s/input.yaml", fuzz_scratch_dir("model-yaml"));
	return 0;
}

/* A failed load: one message naming the file. */
static void check_error(const char *err)
{
	size_t n = strlen(path);
	fuzz_assert(!strncmp(err, path, n) && err[n] == ':' && err[n + 1]);
}

static void check_csu(void)
{
	struct csu_profile p;
	char err[1024] = "";
	if (config__load_csu(path, &p, err, sizeof(err)) < 0) {
		check_error(err);
		return;
	}
	fuzz_assert(strlen(p.name) < sizeof(p.name));
	for (int i = 0; i < NROLES; i++) {
		const struct vm_profile *v = &p.vm[i];
		fuzz_assert(v->vcpus >= 1 && v->vcpus <= 64);
		fuzz_assert(v->memory_bytes >= (32ULL << 20) &&
		            v->memory_bytes <= YAMLDOC_MAX_SIZE);
		fuzz_assert(v->dataset >= 1 && v->dataset <= 1000000);
		fuzz_assert(v->rate >= 0 && v->rate <= 1e7);
		fuzz_assert(v->users >= 1 && v->users <= 100000);
	}
}

static void check_rules(const uint8_t *data, size_t size)
{
	struct run_rules r;
	char err[1024] = "", hex[65];
	if (config__load_rules(path, &r, err, sizeof(err)) < 0) {
		check_error(err);
		return;
	}
	unsigned char md[32];
	unsigned int mdlen = 0;
	fuzz_assert(EVP_Digest(data, size, md, &mdlen, EVP_sha256(), NULL) == 1);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	fuzz_assert(!strcmp(r.sha256, hex));
	fuzz_assert(r.intervals >= 1 && r.intervals <= 100);
	fuzz_assert(r.interval_s >= 1 && r.ramp_up_s >= 0 && r.warm_up_s >= 0 &&
	            r.ramp_down_s >= 0);
	fuzz_assert(r.max_generator_cpu_pct >= 1 && r.max_generator_cpu_pct <= 100);
	for (int i = 0; i < NBUSY; i++) {
		double sum = 0;
		fuzz_assert(r.reference[i] > 0);
		fuzz_assert(r.qos[i].percentile >= 50 && r.qos[i].percentile < 100);
		fuzz_assert(r.mix[i].n >= 0 && r.mix[i].n <= SCORE_MAX_TYPES);
		for (int t = 0; t < r.mix[i].n; t++) {
			fuzz_assert(strlen(r.mix[i].name[t]) < sizeof(r.mix[i].name[t]));
			sum += r.mix[i].pct[t];
		}
		fuzz_assert(r.mix[i].n == 0 || (sum >= 99.9 && sum <= 100.1));
	}
}

/* The input (up to its first NUL) as a size, under a few maxima. */
static void check_size(const uint8_t *data, size_t size)
{
	static const uint64_t max[] = { UINT64_MAX, YAMLDOC_MAX_SIZE, 1ULL << 30, 0 };
	char *s = strndup((const char *)data, size);
	fuzz_assert(s);
	for (size_t i = 0; i < sizeof(max) / sizeof(max[0]); i++) {
		uint64_t v = 12345;
		if (size_parse(s, max[i], &v) == 0)
			fuzz_assert(v <= max[i]);
		else
			fuzz_assert(v == 12345);
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	fuzz_assert(f && fwrite(data, 1, size, f) == size && fclose(f) == 0);
	check_csu();
	check_rules(data, size);
	unlink(path);
	check_size(data, size);
	// cppcheck-suppress resourceLeak ; f is closed, or fuzz_assert aborted
	return 0;
}
