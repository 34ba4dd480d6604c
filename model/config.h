/* model/config.h: the two files that define a run: a CSU profile (csu/NAME.yaml: the five VMs
 * with their vCPUs, memory, data-set size and injected load) and run rules (runrules/NAME.yaml:
 * phases, reference rates, QoS, bounds). Loading checks every field; an error names file, line and
 * field. The rules' SHA-256 is kept so a result can prove which rules it ran under. */
#ifndef MODEL_CONFIG_H
#define MODEL_CONFIG_H
#include "model/score.h"

#include <stdint.h>

enum role { ROLE_DB, ROLE_JAVA, ROLE_WEB, ROLE_MAIL, ROLE_IDLE, NROLES };
#define NBUSY                4   /* db, java, web, mail: the workloads a CSU score averages */
#define CONFIG_MAX_CSUS      16  /* CSUs in one run (and in one result) */
#define CONFIG_MAX_INTERVALS 100 /* measurement intervals the rules may ask for */

const char *role_name(enum role r);
int role_parse(const char *s, enum role *out);

#define CONFIG_MAX_PROFILE 24 /* keys of a generator's workload profile in a CSU profile */

struct vm_profile {
	int vcpus;
	uint64_t memory_bytes;
	long dataset; /* the workload's data-set size (warehouses, users, files; see the profile) */
	double rate;  /* operations per second its generator injects (0: self-driven) */
	int users;    /* simulated users of its generator */
	/* mail only: keys of the generator's workload profile (vcons-mail-load --set KEY=VALUE),
	 * each a number as written in the file */
	int nprofile;
	struct {
		char key[32];
		char value[32];
	} profile[CONFIG_MAX_PROFILE];
};

struct csu_profile {
	char name[64];
	char description[256];
	struct vm_profile vm[NROLES];
};

/* The target operation mix of a workload: each type's share of all its operations, in percent. */
struct mix_rule {
	int n;
	char name[SCORE_MAX_TYPES][24];
	double pct[SCORE_MAX_TYPES];
};

/* The infrastructure workload (VMmark's idea): during measurement every `every_s` seconds one VM
 * of each CSU moves, round-robin over its workloads, by live migration (`migrate`) or through a
 * snapshot file (`snapshot`: a cold migration). Its score part: moves completed within
 * `downtime_limit_ms` per measured hour, over `reference_per_hour`, weighted by `weight`. */
enum infra_method { INFRA_NONE, INFRA_MIGRATE, INFRA_SNAPSHOT };
struct infra_rule {
	enum infra_method method; /* INFRA_NONE: the rules have no infrastructure section */
	double every_s;
	double downtime_limit_ms;
	double weight;             /* of the infrastructure part in a CSU's score, 0..0.9 */
	double reference_per_hour; /* moves per CSU and measured hour that normalize to 1.0 */
};

const char *infra_method_name(enum infra_method m);
int infra_method_parse(const char *s, enum infra_method *out);

struct run_rules {
	char name[64];
	int compliant; /* results under these rules may be submitted as compliant */
	double ramp_up_s, warm_up_s, interval_s, ramp_down_s;
	int intervals;
	double reference[NROLES]; /* per-CSU good ops/s that normalize to 1.0 */
	struct qos_rule qos[NROLES];
	struct mix_rule mix[NROLES];  /* n = 0: no mix requirement */
	double max_variation_pct;     /* between measurement intervals, per workload */
	double max_dilation_pct;      /* |D - 1| */
	double max_generator_cpu_pct; /* a generator busier than this is saturated */
	struct infra_rule infra;      /* optional section "infrastructure" */
	char sha256[65];              /* of the rules file's bytes */
};

/* 0, or -1 with "FILE:LINE: FIELD: problem" in err. */
int config__load_csu(const char *path, struct csu_profile *out, char *err, size_t errlen);
int config__load_rules(const char *path, struct run_rules *out, char *err, size_t errlen);

#endif
