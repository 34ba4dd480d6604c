/* hv/cpuid.h: the CPU a VM sees. A profile starts from what KVM supports on this host and hides
 * features, the way migration pools mask CPUs: "host" hides only what hv does not enable,
 * "baseline" hides everything above x86-64-v2, and a YAML file names its base and the features it
 * hides: base: host            # or baseline hide: [avx512f, avx2] The XSAVE state hv enables
 * (XCR0) follows the profile, so glibc never picks code the guest cannot run. */
#ifndef HV_CPUID_H
#define HV_CPUID_H
#include <stddef.h>
#include <stdint.h>

struct kvm_cpuid2;

/* Builds the profile: 0, or -1 with a one-line reason (file:line: field: problem for YAML) and
 * *code set to an HV_EXIT_* value. */
int cpuid__build(int kvm_fd, const char *profile, struct kvm_cpuid2 **out, uint64_t *xcr0,
                 int *code, char *err, size_t errlen);

/* AT_HWCAP for the profile (CPUID.1:EDX, as Linux reports it). */
uint64_t cpuid__hwcap(const struct kvm_cpuid2 *c);

/* 1 when feature `name` is visible in the profile; -1 for an unknown name. */
int cpuid__has(const struct kvm_cpuid2 *c, const char *name);

#endif
