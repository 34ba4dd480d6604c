/* hv/cpuid.c: CPUID profiles (see cpuid.h). */
#include "hv/cpuid.h"
#include "hv/hv.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <yaml.h>

enum reg { EAX, EBX, ECX, EDX };

struct feature {
	const char *name;
	uint32_t leaf, sub;
	enum reg reg;
	int bit;
	int v2; /* part of x86-64-v2 (or the x86-64 base): kept by the baseline profile */
};

static const struct feature features[] = {
	{ "sse3", 1, 0, ECX, 0, 1 },
	{ "pclmulqdq", 1, 0, ECX, 1, 0 },
	{ "monitor", 1, 0, ECX, 3, 0 },
	{ "ssse3", 1, 0, ECX, 9, 1 },
	{ "fma", 1, 0, ECX, 12, 0 },
	{ "cx16", 1, 0, ECX, 13, 1 },
	{ "pcid", 1, 0, ECX, 17, 0 },
	{ "sse4_1", 1, 0, ECX, 19, 1 },
	{ "sse4_2", 1, 0, ECX, 20, 1 },
	{ "x2apic", 1, 0, ECX, 21, 0 },
	{ "movbe", 1, 0, ECX, 22, 0 },
	{ "popcnt", 1, 0, ECX, 23, 1 },
	{ "aes", 1, 0, ECX, 25, 0 },
	{ "xsave", 1, 0, ECX, 26, 0 },
	{ "osxsave", 1, 0, ECX, 27, 0 },
	{ "avx", 1, 0, ECX, 28, 0 },
	{ "f16c", 1, 0, ECX, 29, 0 },
	{ "rdrand", 1, 0, ECX, 30, 0 },
	{ "fsgsbase", 7, 0, EBX, 0, 0 },
	{ "bmi1", 7, 0, EBX, 3, 0 },
	{ "avx2", 7, 0, EBX, 5, 0 },
	{ "bmi2", 7, 0, EBX, 8, 0 },
	{ "erms", 7, 0, EBX, 9, 0 },
	{ "avx512f", 7, 0, EBX, 16, 0 },
	{ "avx512dq", 7, 0, EBX, 17, 0 },
	{ "rdseed", 7, 0, EBX, 18, 0 },
	{ "adx", 7, 0, EBX, 19, 0 },
	{ "avx512ifma", 7, 0, EBX, 21, 0 },
	{ "clflushopt", 7, 0, EBX, 23, 0 },
	{ "clwb", 7, 0, EBX, 24, 0 },
	{ "avx512cd", 7, 0, EBX, 28, 0 },
	{ "sha", 7, 0, EBX, 29, 0 },
	{ "avx512bw", 7, 0, EBX, 30, 0 },
	{ "avx512vl", 7, 0, EBX, 31, 0 },
	{ "avx512vbmi", 7, 0, ECX, 1, 0 },
	{ "pku", 7, 0, ECX, 3, 0 },
	{ "ospke", 7, 0, ECX, 4, 0 },
	{ "waitpkg", 7, 0, ECX, 5, 0 },
	{ "avx512vbmi2", 7, 0, ECX, 6, 0 },
	{ "gfni", 7, 0, ECX, 8, 0 },
	{ "vaes", 7, 0, ECX, 9, 0 },
	{ "vpclmulqdq", 7, 0, ECX, 10, 0 },
	{ "avx512vnni", 7, 0, ECX, 11, 0 },
	{ "avx512bitalg", 7, 0, ECX, 12, 0 },
	{ "avx512vpopcntdq", 7, 0, ECX, 14, 0 },
	{ "rdpid", 7, 0, ECX, 22, 0 },
	{ "fsrm", 7, 0, EDX, 4, 0 },
	{ "avx512fp16", 7, 0, EDX, 23, 0 },
	{ "lahf_lm", 0x80000001, 0, ECX, 0, 1 },
	{ "abm", 0x80000001, 0, ECX, 5, 0 },
	{ "sse4a", 0x80000001, 0, ECX, 6, 0 },
	{ "prefetchw", 0x80000001, 0, ECX, 8, 0 },
	{ "xop", 0x80000001, 0, ECX, 11, 0 },
	{ "fma4", 0x80000001, 0, ECX, 16, 0 },
	{ "tbm", 0x80000001, 0, ECX, 21, 0 },
	{ "pdpe1gb", 0x80000001, 0, EDX, 26, 0 },
	{ "rdtscp", 0x80000001, 0, EDX, 27, 0 },
};
#define NFEATURES (sizeof(features) / sizeof(features[0]))

/* Features that need AVX state (hidden with avx), and the AVX-512 family (hidden with avx512f). */
static const char *const needs_avx[] = { "fma", "f16c", "avx2", "vaes", "vpclmulqdq", "avx512f" };
static const char *const avx512[] = { "avx512dq",        "avx512ifma", "avx512cd",
	                              "avx512bw",        "avx512vl",   "avx512vbmi",
	                              "avx512vbmi2",     "avx512vnni", "avx512bitalg",
	                              "avx512vpopcntdq", "avx512fp16" };

static struct kvm_cpuid_entry2 *entry(struct kvm_cpuid2 *c, uint32_t leaf, uint32_t sub)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == leaf &&
		    (!(c->entries[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
		     c->entries[i].index == sub))
			return &c->entries[i];
	return NULL;
}

static uint32_t *reg_of(struct kvm_cpuid_entry2 *e, enum reg r)
{
	return r == EAX ? &e->eax : r == EBX ? &e->ebx : r == ECX ? &e->ecx : &e->edx;
}

static const struct feature *find(const char *name)
{
	for (size_t i = 0; i < NFEATURES; i++)
		if (!strcmp(features[i].name, name))
			return &features[i];
	return NULL;
}

static void hide(struct kvm_cpuid2 *c, const struct feature *f)
{
	struct kvm_cpuid_entry2 *e = entry(c, f->leaf, f->sub);
	if (e)
		*reg_of(e, f->reg) &= ~(1u << f->bit);
}

static void hide_name(struct kvm_cpuid2 *c, const char *name)
{
	hide(c, find(name));
}

int cpuid__has(const struct kvm_cpuid2 *c, const char *name)
{
	const struct feature *f = find(name);
	if (!f)
		return -1;
	struct kvm_cpuid_entry2 *e = entry((struct kvm_cpuid2 *)c, f->leaf, f->sub);
	return e && (*reg_of(e, f->reg) >> f->bit & 1);
}

uint64_t cpuid__hwcap(const struct kvm_cpuid2 *c)
{
	struct kvm_cpuid_entry2 *e = entry((struct kvm_cpuid2 *)c, 1, 0);
	return e ? e->edx : 0;
}

static void baseline(struct kvm_cpuid2 *c)
{
	for (size_t i = 0; i < NFEATURES; i++)
		if (!features[i].v2)
			hide(c, &features[i]);
	struct kvm_cpuid_entry2 *e = entry(c, 7, 0);
	if (e)
		e->ebx = e->ecx = e->edx = 0;
}

/* KVM_GET_SUPPORTED_CPUID passes on the identity of the host CPU the ioctl ran on: the initial
 * APIC ID (CPUID.1:EBX[31:24]), the x2APIC ID (0xB and 0x1F: EDX) and AMD's extended APIC, compute
 * unit and node IDs (0x8000001E). One table serves every vCPU of a VM, so these name no vCPU; they
 * are cleared, so a profile depends on the host's CPU model and KVM only, not on where the process
 * was scheduled (a snapshot's CPUID check compares whole tables: restores failed at random on a
 * 2-CPU host before). */
static void forget_host_cpu(struct kvm_cpuid2 *c)
{
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		if (e->function == 1)
			e->ebx &= 0x00ffffffu;
		else if (e->function == 0xb || e->function == 0x1f)
			e->edx = 0;
		else if (e->function == 0x8000001eu) {
			e->eax = 0;
			e->ebx &= ~0xffu;
			e->ecx &= ~0xffu;
		}
	}
}

/* Makes the profile consistent and returns the XCR0 hv must enable for it. */
static uint64_t settle(struct kvm_cpuid2 *c)
{
	forget_host_cpu(c);
	struct kvm_cpuid_entry2 *e = entry(c, 1, 0);
	if (e)
		e->ecx |= 1u << 31; /* running under a hypervisor */
	hide_name(c, "monitor");
	hide_name(c, "pku"); /* CR4.PKE is never set */
	hide_name(c, "ospke");
	hide_name(c, "waitpkg");
	if (cpuid__has(c, "xsave") != 1)
		hide_name(c, "avx");
	if (cpuid__has(c, "avx") != 1)
		for (size_t i = 0; i < sizeof(needs_avx) / sizeof(*needs_avx); i++)
			hide_name(c, needs_avx[i]);
	if (cpuid__has(c, "avx512f") != 1)
		for (size_t i = 0; i < sizeof(avx512) / sizeof(*avx512); i++)
			hide_name(c, avx512[i]);
	if (cpuid__has(c, "xsave") != 1)
		return 0;
	struct kvm_cpuid_entry2 *x = entry(c, 0xd, 0);
	uint64_t supported = x ? ((uint64_t)x->edx << 32 | x->eax) : 3;
	uint64_t xcr0 = 3; /* x87, SSE */
	if (cpuid__has(c, "avx") == 1)
		xcr0 |= 4;
	if (cpuid__has(c, "avx512f") == 1)
		xcr0 |= 0xe0; /* opmask, ZMM_Hi256, Hi16_ZMM */
	xcr0 &= supported;
	if (x) { /* what XSAVE reports as enabled-able must match what hv enables */
		x->eax = (uint32_t)xcr0;
		x->edx = (uint32_t)(xcr0 >> 32);
	}
	return xcr0;
}

/* Reads a profile file: base and hide list. */
static int read_yaml(const char *path, int *base_baseline, char hidden[][32], int *nhidden,
                     char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -HV_EXIT_NOINPUT;
	}
	yaml_parser_t p;
	yaml_event_t ev;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	char key[32] = "";
	int depth = 0, in_hide = 0, rc = 0, done = 0;
	while (!done && !rc) {
		if (!yaml_parser_parse(&p, &ev)) {
			snprintf(err, errlen, "%s:%zu: YAML syntax: %s", path,
			         p.problem_mark.line + 1, p.problem ? p.problem : "error");
			rc = -HV_EXIT_CONFIG;
			break;
		}
		size_t line = ev.start_mark.line + 1;
		switch (ev.type) {
		case YAML_MAPPING_START_EVENT: depth++; break;
		case YAML_SEQUENCE_START_EVENT: in_hide = !strcmp(key, "hide"); break;
		case YAML_SEQUENCE_END_EVENT:
			in_hide = 0;
			key[0] = 0;
			break;
		case YAML_SCALAR_EVENT: {
			const char *v = (const char *)ev.data.scalar.value;
			if (in_hide) {
				if (!find(v)) {
					snprintf(err, errlen,
					         "%s:%zu: hide: unknown CPU feature '%s'", path,
					         line, v);
					rc = -HV_EXIT_CONFIG;
				} else if (*nhidden < 64) {
					snprintf(hidden[(*nhidden)++], 32, "%s", v);
				}
			} else if (!key[0]) {
				snprintf(key, sizeof(key), "%s", v);
				if (strcmp(key, "base") && strcmp(key, "hide")) {
					snprintf(err, errlen,
					         "%s:%zu: %s: unknown field (expected base, hide)",
					         path, line, v);
					rc = -HV_EXIT_CONFIG;
				}
			} else {
				if (!strcmp(key, "base") &&
				    (!strcmp(v, "host") || !strcmp(v, "baseline"))) {
					*base_baseline = !strcmp(v, "baseline");
				} else {
					snprintf(err, errlen,
					         "%s:%zu: %s: '%s' is not valid (base: host or "
					         "baseline; hide: a list)",
					         path, line, key, v);
					rc = -HV_EXIT_CONFIG;
				}
				key[0] = 0;
			}
			break;
		}
		case YAML_STREAM_END_EVENT: done = 1; break;
		default: break;
		}
		yaml_event_delete(&ev);
	}
	if (!rc && depth == 0) {
		snprintf(err, errlen, "%s:1: expected a mapping with base and hide", path);
		rc = -HV_EXIT_CONFIG;
	}
	yaml_parser_delete(&p);
	(void)fclose(f);
	return rc;
}

static struct kvm_cpuid2 *supported(int kvm_fd)
{
	for (int n = 128; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return NULL;
		c->nent = n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG)
			return NULL;
	}
	return NULL;
}

int cpuid__build(int kvm_fd, const char *profile, struct kvm_cpuid2 **out, uint64_t *xcr0,
                 int *code, char *err, size_t errlen)
{
	int use_baseline = 0, nhidden = 0;
	char hidden[64][32];
	if (!profile || !strcmp(profile, "host")) {
	} else if (!strcmp(profile, "baseline")) {
		use_baseline = 1;
	} else {
		int rc = read_yaml(profile, &use_baseline, hidden, &nhidden, err, errlen);
		if (rc < 0) {
			*code = -rc;
			return -1;
		}
	}
	struct kvm_cpuid2 *c = supported(kvm_fd);
	if (!c) {
		snprintf(err, errlen, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		*code = HV_EXIT_NOKVM;
		return -1;
	}
	if ((use_baseline || nhidden) && access("/sys/module/kvm_pvm", F_OK) == 0)
		fprintf(stderr,
		        "vcons-hv: warning: this host's KVM (kvm_pvm) runs CPUID in guest ring 3 "
		        "without an exit: the CPUID profile '%s' is not enforced\n",
		        profile);
	if (use_baseline)
		baseline(c);
	for (int i = 0; i < nhidden; i++)
		hide_name(c, hidden[i]);
	*xcr0 = settle(c);
	*out = c;
	return 0;
}
