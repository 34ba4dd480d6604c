/* hv/vm.h: the VM and vCPU structures that hv's files share (internal to hv/).
 *
 * Guest address space (guest virtual == guest physical for the user part):
 *   [0, USER_BASE)            never mapped: NULL and small pointers fault, as on Linux
 *   [USER_BASE, mem)          guest RAM, user read/write/execute: program, brk, mmap area, stack
 *   SYS_VA..                  hv's system area (GDT, IDT, TSSs, the syscall and exception stubs,
 *                             exception stacks): supervisor-only, in its own memory slot at SYS_GPA
 * The page tables map all of it before the first KVM_RUN and are never edited afterwards (the
 * nested KVM here would not see edits): mmap/munmap/brk are bookkeeping over the fixed map (see
 * mm.h). */
#ifndef HV_VM_H
#define HV_VM_H
#include "hv/hv.h"
#include "hv/stats.h"

#include <linux/kvm.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

#define USER_BASE  (2ULL << 20)
#define SYS_VA     0xffffffff80000000ULL
#define MAX_VCPUS  256 /* KVM vCPUs per VM, so guest threads alive at once */
#define GUEST_PID  100 /* the guest's process id; thread ids count up from it */
#define PAGE_SIZE_ 4096ULL

struct vm;

/* The last system calls of one vCPU, kept so that a crash report can say what the guest did just
 * before it: a triple fault on AMD-V leaves no registers behind (KVM resets the vCPU). */
#define TRAIL_LEN 8
struct trail_entry {
	uint64_t nr, arg0, rip, rsp; /* rip: where the call returns to (rcx) */
	int64_t ret;
	uint64_t end_ns; /* host CLOCK_MONOTONIC when the call was answered */
};
struct trail {
	struct trail_entry e[TRAIL_LEN];
	uint64_t n; /* calls recorded; e[(n - 1) % TRAIL_LEN] is the newest */
};

struct vcpu {
	struct vm *vm;
	int id;  /* KVM vCPU id, also the slot in vm->vcpus */
	int tid; /* guest thread id */
	int fd;  /* KVM vCPU fd */
	struct kvm_run *run;
	pthread_t thread;
	uint64_t clear_child_tid; /* guest address to zero and wake at thread exit */
	uint64_t robust_list;
	int exit_code;
	int done; /* the guest thread called exit: leave the run loop */
	int started;
	uint64_t sigmask;       /* blocked signals */
	uint64_t pending;       /* signals sent to this thread */
	int suspend_mask_saved; /* in rt_sigsuspend: the mask to restore after the handler */
	uint64_t suspend_mask;
	stack_t altstack;
	char comm[16]; /* PR_SET_NAME */
	struct vcpu_stats stats;
	struct trail trail;
};

struct ksigaction { /* the kernel's struct sigaction (rt_sigaction) */
	uint64_t handler, flags, restorer, mask;
};

struct mm_region {
	uint64_t start, end; /* [start, end), page aligned */
	int file;            /* backed by a host file mapping (restored to anonymous on unmap) */
};

struct mm {
	pthread_mutex_t lock;
	uint64_t brk_start, brk, brk_max;
	uint64_t mmap_lo, mmap_hi; /* the mmap area, allocated top-down */
	uint64_t stack_lo, stack_hi;
	struct mm_region *regions; /* sorted, non-overlapping mmap'ed ranges */
	size_t nregions, cap;
};

#include "hv/fdtab.h"

struct timepage {             /* the keeper of the VM's time page (timepage.c) */
	pthread_mutex_t lock; /* all below but tsc0, mono0 (the keeper's own) */
	pthread_cond_t wake;
	pthread_t thread;
	int running, stop;
	int checked;        /* a vCPU's TSC was found to be the host's */
	const char *why;    /* set: the page is unusable, and why */
	double ns_per_tick; /* from KVM's TSC frequency */
	uint64_t tsc0;      /* the keeper's first sample: its rate baseline */
	int64_t mono0;
	int64_t offset[8]; /* each clock's kept offset to MONOTONIC, guest ns (HV_TP_NCLOCKS) */
	int have_offsets;
};

struct snap_runs { /* page-aligned [start, end) ranges of guest RAM, ascending */
	uint64_t (*r)[2];
	size_t n, cap;
};

struct vm {
	struct hv_config cfg;
	const char *name;
	int kvm_fd, vm_fd, run_size;
	struct kvm_cpuid2 *cpuid; /* the profile every vCPU gets */
	uint64_t xcr0;            /* 0 when the CPUID profile hides XSAVE */
	int has_sync_regs;

	uint8_t *ram; /* host address of guest physical 0 */
	uint64_t mem; /* guest RAM bytes */
	uint8_t *sys; /* host address of the system area */
	uint64_t sys_gpa, sys_size;
	uint64_t entry; /* program entry point */
	uint64_t sp;    /* initial stack pointer */

	struct mm mm;
	struct fdtab fds;
	int root_fd;          /* O_PATH fd of the VM's root directory */
	char root_path[4096]; /* its canonical host path, to map host paths back to guest paths */
	pthread_mutex_t cwd_lock;
	char cwd[4096];      /* guest-visible absolute path of the working directory */
	struct in_addr addr; /* the VM's one network address */
	uint32_t umask;

	pthread_mutex_t lock; /* vcpus[], nlive */
	pthread_cond_t done;
	struct vcpu *vcpus[MAX_VCPUS]; /* live threads by vCPU id */
	struct vcpu *all[MAX_VCPUS];   /* every vCPU created */
	int nlive;
	int next_tid;
	int pid;           /* the guest's process id (the host pid of the hv process running it) */
	int is_fork_child; /* this hv process was forked for a guest fork: it exits with the guest
	                    */
	int exe_fd;        /* the running program's file (execve of /proc/self/exe) */
	_Atomic uint64_t pending;     /* signals sent to the process */
	struct vcpu *pool[MAX_VCPUS]; /* idle vCPUs of ended threads (KVM never frees a vCPU id) */
	int npool, ncreated;
	struct ksigaction sigactions[64];
	atomic_int exiting;
	int exit_status;
	int crashed;

	struct vm_stats stats;
	uint64_t clock_base_host_ns[2]; /* CLOCK_REALTIME, CLOCK_MONOTONIC at start */
	int64_t clock_offset_ns;        /* added to the MONOTONIC clocks (clock__continue) */
	struct timepage tp;

	/* Pause (vm.c): while `pausing`, every vCPU thread parks at the top of its run loop, its
	 * state all in KVM; a blocking host call it was in is restarted after the resume. */
	atomic_int pausing;
	int nparked; /* under lock */
	pthread_cond_t parked, resumed;
	int ram_file;  /* guest RAM is a private mapping of a snapshot file (snapshot.c) */
	dev_t ram_dev; /* that file, as /proc/self/maps names it: a later snapshot saves its */
	ino_t ram_ino; /* pages as RAM, not as a mapped file */
	struct snap_runs ram_runs; /* the pages that file holds */
	int restored;              /* built from a snapshot: its clock bases are the saved ones */
	/* live migration (dirty.c): hv's own changed-page marks while tracking, else NULL */
	_Atomic(_Atomic uint64_t *) dirty_marks;
	uint64_t *dirty_scratch; /* KVM's log, read into here */
	int log_dirty;           /* the RAM slot has KVM_MEM_LOG_DIRTY_PAGES */
};

/* vcpu.c */
#define SIG_KICK (SIGRTMIN + 2) /* interrupts a vCPU thread's KVM_RUN or blocking host call */
void vcpu__init_signals(void);
struct vcpu *vcpu__create(struct vm *vm, int id, char *err, size_t errlen);
int vcpu__reset(struct vcpu *c, const struct kvm_regs *regs, uint64_t fs_base);
/* Leaves a system call for user code at `regs` (handler entry, sigreturn): where the CPU is in the
 * ring-0 stub, the user code and stack segments are restored too. */
void vcpu__set_user_regs(struct vcpu *c, const struct kvm_regs *regs);
void vcpu__destroy(struct vcpu *c);
int vcpu__attach(struct vcpu *c, char *err, size_t errlen);
void vcpu__detach(struct vcpu *c);
int vcpu__start(struct vcpu *c);
void vcpu__kick_all(struct vm *vm);
/* At the top of the run loop while the VM is pausing: pushes the registers hv changed into KVM,
 * counts itself parked and waits for the resume. */
void vcpu__park(struct vcpu *c);
uint64_t vcpu__fs_base(struct vcpu *c);
void vcpu__set_fs_base(struct vcpu *c, uint64_t base);
struct kvm_regs *vcpu__regs(struct vcpu *c);
void vcpu__regs_dirty(struct vcpu *c);

/* sys_thread.c: robust futexes a dying thread held are marked FUTEX_OWNER_DIED. */
void thread__robust_exit(struct vcpu *c);

/* process.c */
/* Ends this process the way the guest ended (a forked child's hv process). */
_Noreturn void process__exit(struct vm *vm, int status);

/* signal.c */
/* Called after a system call's result is known: delivers a pending unblocked signal by building a
 * signal frame and pointing the vCPU at the handler. Returns 1 when it redirected the vCPU. */
int signal__deliver(struct vcpu *c, long ret);
/* Sets a signal pending on the process; the default action applies when no handler is set. */
void signal__raise(struct vcpu *c, int sig);

/* vm.c */
/* A VM with KVM, its CPUID profile, memory and system area, but no program, boundary or thread
 * yet (hv_vm_create and snapshot__restore go on from here). */
struct vm *vm__new(const struct hv_config *cfg, int *code, char *err, size_t errlen);
/* Opens the root, checks the address and sets up the fd table (with cfg's stdio fds when
 * `stdio`). */
int vm__set_boundary(struct vm *vm, int stdio, int *code, char *err, size_t n);
/* A vCPU for a new guest thread (recycled or created), set to `regs`: its tid or -EAGAIN. */
int vm__new_thread(struct vm *vm, const struct kvm_regs *regs, uint64_t fs, struct vcpu **out);
int vm__start_thread(struct vm *vm, struct vcpu *c);
int vm__has_thread(struct vm *vm, int tid);
void vm__exit_group(struct vm *vm, int status);
void vm__thread_exited(struct vcpu *c);
/* Stops every guest thread at a point where its whole state is in KVM and hv (vcpu__park).
 * Returns 0, -1 when the guest is exiting, -2 when a thread did not stop within 10 s (a host
 * call that does not return on a kick). The VM stays paused until vm__resume(). */
int vm__pause(struct vm *vm);
void vm__resume(struct vm *vm);

#endif
