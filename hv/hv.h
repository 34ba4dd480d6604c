/* hv/hv.h: the public interface of the vcons hypervisor library (libhv), used by the `vcons-hv`
 * command, one VM per process as the harness starts them. The library itself can run several VMs
 * in one process (hv/test/lib_test.c does).
 *
 * A VM runs one static x86-64 Linux program in guest ring 3; every system call it makes exits to
 * hv, which services it inside the VM's boundary: its root directory, its network address, its
 * memory.
 *
 * Life cycle: hv_config_init() -> set fields -> hv_vm_create() -> hv_vm_start() -> hv_vm_wait()
 * -> hv_vm_destroy(). hv_vm_create() reports errors as one message in `err` and an HV_EXIT_* code.
 */
#ifndef HV_HV_H
#define HV_HV_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes of vcons-hv other than the guest's own exit status (0..255 when it exits normally).
 * A guest killed by a CPU exception exits 128 + the signal Linux would have sent (139 for a page
 * fault, 132 for an invalid opcode), as a shell reports a crashed process. */
enum hv_exit {
	HV_EXIT_USAGE = 2,    /* bad command line */
	HV_EXIT_NOKVM = 69,   /* /dev/kvm missing or KVM unusable */
	HV_EXIT_BADELF = 65,  /* the program is not a static x86-64 ELF executable */
	HV_EXIT_NOINPUT = 66, /* the program, root directory or a profile file cannot be opened */
	HV_EXIT_OSERR = 71,   /* the host refused a resource (memory, threads, KVM ioctl) */
	HV_EXIT_NOPERM = 77,  /* no permission to use /dev/kvm */
	HV_EXIT_CONFIG = 78,  /* a bad profile or option value (CPUID file, address) */
	HV_EXIT_BADSNAP = 76, /* not a snapshot, a damaged one, or one whose files changed */
	HV_EXIT_CRASH_BASE = 128,
};

struct hv_config {
	uint64_t mem_bytes; /* guest memory (default 256 MiB) */
	int page_4k;        /* map guest memory with 4 KiB pages instead of 2 MiB */
	int vcpus;        /* virtual CPUs the guest sees (affinity, getcpu); default: the host's */
	int max_threads;  /* cap on live guest threads, each a KVM vCPU (default 256) */
	const char *root; /* the VM's root directory (default ".") */
	const char *net_addr; /* the VM's IPv4 address (default 127.0.0.1) */
	const char *cpuid;    /* "host", "baseline" or a YAML file (default host) */
	double clock_scale;   /* guest clock speed relative to the host (default 1.0) */
	enum hv_time_page_use { HV_TIME_PAGE_ON, HV_TIME_PAGE_OFF, HV_TIME_PAGE_FORCE } time_page;
	/* on: clocks through the vDSO where the TSC is usable (timepage.h); off: every guest clock
	 * read is a system call; force: trust the TSC without the host CPU's constant_tsc and
	 * nonstop_tsc flags (emulated CPUs such as the nested test guest's; each vCPU's TSC is
	 * still checked) */
	int trace; /* print each system call to `trace_out` */
	FILE *trace_out;
	int stdio_fds[3];        /* host fds that back guest fds 0, 1, 2 */
	const char *name;        /* label in messages and statistics */
	const char *const *argv; /* program path (host path, opened as given) and arguments */
	const char *const *envp;
};

struct hv_vm;

void hv_config_init(struct hv_config *cfg);

/* Creates the VM and loads the program. Returns NULL on failure with `*code` an HV_EXIT_* value and
 * a one-line reason in `err`. */
struct hv_vm *hv_vm_create(const struct hv_config *cfg, int *code, char *err, size_t errlen);

/* Starts the first vCPU on its own thread. */
int hv_vm_start(struct hv_vm *vm, char *err, size_t errlen);

/* Waits until the guest exits; returns its exit status (or 128 + signal after a guest crash). */
int hv_vm_wait(struct hv_vm *vm);

/* Asks a running guest to stop (as if killed by `sig`); hv_vm_wait() then returns 128 + sig. */
void hv_vm_kill(struct hv_vm *vm, int sig);

/* Ends the guest as if it called exit_group(status). */
void hv_vm_exit(struct hv_vm *vm, int status);

/* Writes the VM's statistics as JSON to `path`, atomically (temporary file, then rename). */
int hv_vm_write_stats(struct hv_vm *vm, const char *path);

void hv_vm_destroy(struct hv_vm *vm);

/* Snapshots (hv/snapshot.h has the file format). */
/* Stops every guest thread where its whole state is in KVM and hv; a blocking call it was in runs
 * again after the resume. 0, or -1 with a reason (the guest is exiting, or a thread did not stop
 * within 10 s). */
int hv_vm_pause(struct hv_vm *vm, char *err, size_t errlen);
void hv_vm_resume(struct hv_vm *vm);
/* 1 while paused. */
int hv_vm_paused(struct hv_vm *vm);

struct hv_snapshot_info {
	uint64_t file_bytes;   /* on disk (only touched memory is stored) */
	uint64_t pages;        /* guest pages saved */
	uint64_t ns;           /* time taken, the VM paused */
	int reset_connections; /* waiting connections reset (HV_SNAPSHOT_RESET_WAITING) */
};
#define HV_SNAPSHOT_STOP 1 /* the VM ends after it (below) */
#define HV_SNAPSHOT_RESET_WAITING                                                                  \
	2 /* connections waiting in a listener's queue are reset (their                            \
	   * clients see a refused connection and retry), not a -2 */
/* Writes a paused VM's whole state to `path` (atomically: PATH.tmp, synced, renamed). With STOP
 * the VM is to end after it (hv_vm_exit): its connected TCP sockets go into repair mode as soon as
 * their queues are read (closing them sends nothing: the connections live on in the VM restored
 * from the file) and its other sockets close, so the restored VM can take its address; it cannot
 * go on even when the write then fails. 0; -1 with err; -2 (err says why) when the fd table
 * cannot be saved as it is now (a connection not yet accepted, one half closed): nothing was done,
 * resume the VM a moment and try again. */
int hv_vm_snapshot(struct hv_vm *vm, const char *path, int flags, struct hv_snapshot_info *info,
                   char *err, size_t errlen);
/* Builds a VM from a snapshot with cfg's root, address, stdio and options (cfg->argv unused);
 * start it with hv_vm_start(). `verify` also checks every saved page's checksum. NULL with *code
 * (HV_EXIT_BADSNAP for a file that is not a snapshot, damaged, or whose open files changed;
 * HV_EXIT_CONFIG for a snapshot of a VM of another size, CPUID profile or address) and one line in
 * err. */
struct hv_vm *hv_vm_restore(const struct hv_config *cfg, const char *path, int verify, int *code,
                            char *err, size_t errlen);

/* Live migration (hv/migrate.h has the protocol). */
struct hv_migrate_info {
	double total_ms, downtime_ms; /* from the first page sent / from the pause, to the target's
	                                 answer that the VM runs there */
	uint64_t bytes, pages;        /* sent */
	int rounds;                   /* pre-copy rounds before the stop-and-copy */
	int reset_connections;        /* waiting connections reset to let the VM go */
};
/* Moves the running VM to the target at `to` ("A.B.C.D:PORT", a vcons-hv --incoming), the last
 * round sized to `downtime_ms`. 0: the VM runs there; end this one (hv_vm_exit). -1: it failed
 * and the VM runs on here (err says why). -2: it failed after the switch-over began and the VM
 * could not get its sockets back: end it (err says why). */
int hv_vm_migrate(struct hv_vm *vm, const char *to, uint64_t downtime_ms,
                  struct hv_migrate_info *info, char *err, size_t errlen);
/* The target: listens at `addr`, takes one migration and builds the VM it carries with cfg's
 * options (cfg->argv unused). NULL with *code (HV_EXIT_CONFIG for a VM of another size, CPUID
 * profile or address; HV_EXIT_BADSNAP for a stream that breaks off or is malformed) and err. Start
 * it with hv_vm_start(), then tell the source with hv_vm_incoming_done(). */
struct hv_incoming;
struct hv_vm *hv_vm_incoming(const struct hv_config *cfg, const char *addr, struct hv_incoming **in,
                             int *code, char *err, size_t errlen);
void hv_vm_incoming_done(struct hv_incoming *in, int ok, const char *msg);

/* Installs hv's seccomp filter on the calling process (all threads). Call after creating every VM.
 */
int hv_confine(char *err, size_t errlen);

#endif
