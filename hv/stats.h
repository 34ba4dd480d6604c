/* hv/stats.h: hv's counters (exits by reason, system calls by number with count and time) and KVM's
 * own binary statistics (KVM_GET_STATS_FD), written as one JSON document per VM.
 *
 * Each vCPU counts into its own vcpu_stats without locks; a vCPU that ends folds its counts into
 * the VM's totals under the VM lock. A reader (SIGUSR1 dump) adds the live vCPUs' counts to the
 * totals. */
#ifndef HV_STATS_H
#define HV_STATS_H
#include <stdatomic.h>
#include <stdint.h>

#define STATS_NSYSCALLS 512
#define STATS_NEXITS    64

struct kvm_stats; /* KVM's binary stats of one fd, parsed (stats.c) */

struct vcpu_stats {
	uint64_t exits[STATS_NEXITS];        /* by KVM exit reason */
	uint64_t sys_count[STATS_NSYSCALLS]; /* by system call number */
	uint64_t sys_ns[STATS_NSYSCALLS];    /* host time spent servicing them */
	uint64_t sys_unknown;                /* calls answered -ENOSYS */
	struct kvm_stats *kvm;               /* this vCPU's KVM statistics */
};

struct vm_stats {
	struct vcpu_stats total;  /* vCPUs that have ended */
	struct kvm_stats *kvm_vm; /* the VM's KVM statistics */
	_Atomic uint64_t
	    unknown_seen[STATS_NSYSCALLS / 64]; /* bitmap: unknown numbers already logged */
	uint64_t create_ns, first_run_ns, first_exit_ns; /* CLOCK_MONOTONIC timestamps */
	uint64_t restore_ns; /* --restore: when reading the snapshot began (0: not restored) */
	int vcpus_created, vcpus_peak;
};

struct kvm_stats *stats__kvm_open(int kvm_object_fd);
void stats__kvm_close(struct kvm_stats *s);
/* Adds the current values of `s` into the name-keyed sums `acc` (a json_t object, opaque here). */
void stats__kvm_accumulate(struct kvm_stats *s, void *acc);

void stats__fold(struct vcpu_stats *into, const struct vcpu_stats *from);

/* Returns 1 the first time `nr` is reported as unknown, 0 afterwards. */
int stats__first_unknown(struct vm_stats *s, unsigned nr);

#endif
