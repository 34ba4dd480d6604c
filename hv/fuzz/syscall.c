/* hv/fuzz/syscall.c: fuzz target for vcons-hv's system-call layer, the boundary between a guest
 * program and the host, without KVM. It builds a VM by hand (guest RAM with inaccessible guard
 * regions around it, a root folder, a file table, an address-space map, one vCPU with a kvm_run
 * area) and sends each input's sequence of system calls through syscall__dispatch(), exactly as a
 * guest's `syscall` instruction would arrive. Arguments are drawn per the trace format of
 * syscalls.def: paths from a dictionary that aims at the root's edge ("..", "/../outside",
 * symlinks) or from the input, pointers into a scratch area or at the edges of guest RAM, fds,
 * flags and sizes. While a call runs, a second thread (the racer, below) may rewrite the guest
 * memory its pointer arguments point at, as a guest's other threads can: lengths, counts,
 * pointers and random bytes, to catch a handler that reads guest memory twice.
 *
 * Checked after every call and input, besides crashes and sanitizer reports:
 *   - every result is a value or -errno (-4095..-1), as Linux would return;
 *   - confinement: the folder holding the root has exactly the root and a file "outside", whose
 *     content (32 random bytes) is unchanged and never appears in guest memory;
 *   - no host fd outlives the VM's file table.
 * Calls that end the process, start threads or processes, make network sockets (socket, and with
 * it bind, listen, connect, accept: no AF_INET socket exists here), only wait (futex, nanosleep,
 * wait4, pause) or take long (sync, fallocate) are not sent. The others are kept prompt (prompt()):
 * pipes, socketpairs and timerfds are created O_NONBLOCK and stay so (F_SETFL cannot clear it,
 * FIONBIO becomes FIONREAD), messages are MSG_DONTWAIT, poll and epoll_wait time out at once,
 * ppoll/select/pselect6 get the driver's zero timeout, fcntl's waiting locks become F_GETFL, and
 * sendfile copies at most 1 MiB. A call whose pointer lands on a file mapping's page past EOF, or
 * writes a read-only one, gets EFAULT from uaccess.c's fault-safe copies (any other fault, such as
 * one in the guard regions, still crashes the target).
 *
 * VCONS_FUZZ_TRACE=1 build/san/fuzz/hv-syscall FILE prints each call as vcons-hv --trace does. */
#include "tools/fuzz.h"
#include "hv/fdtab.h"
#include "hv/mem.h"
#include "hv/mm.h"
#include "hv/syscall.h"
#include "hv/uaccess.h"
#include "hv/vm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MEM        (8ULL << 20)
#define GUARD      (1ULL << 20)
#define DICT_AT    USER_BASE                /* the path dictionary, NUL-terminated strings */
#define SCRATCH    (USER_BASE + (64 << 10)) /* the input's bytes */
#define SCR_LEN    (64 << 10)
#define IMAGE_HI   (USER_BASE + (1 << 20))  /* as if a 1 MiB program were loaded */
#define TIMEOUT_AT (USER_BASE + (32 << 10)) /* the driver's timespec for ppoll/select/pselect6 */
#define MAX_CALLS  32
#define SECRET_LEN 32

static const char *const fz_paths[] = {
	"f",
	"d",
	"d/g",
	"/",
	".",
	"..",
	"../..",
	"/..",
	"../outside",
	"/../outside",
	"../../outside",
	"d/../../outside",
	"l",
	"l/outside",
	"ld/x",
	"",
	"/proc/self/exe",
	"f/",
	"/d//g/",
	"new",
	"d/new",
	"/etc/passwd",
};
#define NPATHS (sizeof fz_paths / sizeof fz_paths[0])

/* Values for flag and mode arguments. New ones go last: corpus files name them by index. */
static const uint64_t fz_values[] = {
	0,
	1,
	2,
	8,
	64,
	4096,
	1 << 20,
	0x7fffffff,
	0x80000000ULL,
	UINT64_MAX,
	INT64_MAX,
	O_RDONLY | O_CREAT,
	O_RDWR | O_CREAT | O_TRUNC,
	O_WRONLY | O_APPEND | O_CREAT,
	O_DIRECTORY,
	O_PATH,
	O_RDWR | O_TMPFILE,
	AT_SYMLINK_NOFOLLOW,
	AT_REMOVEDIR,
	AT_EMPTY_PATH,
	0644,
	0755,
	PROT_READ | PROT_WRITE,
	MAP_PRIVATE | MAP_ANONYMOUS,
	MAP_SHARED,
	MAP_FIXED | MAP_PRIVATE,
	MAP_PRIVATE,
	F_DUPFD,
	F_GETFD,
	F_SETFL,
	F_GETLK,
	F_SETLK,
	MAP_FIXED | MAP_SHARED,
	PROT_READ,
};
#define NVALUES (sizeof fz_values / sizeof fz_values[0])

/* The calls sent: everything of syscalls.def that returns promptly and stays inside the VM. */
static const unsigned fz_calls[] = {
	__NR_read,
	__NR_write,
	__NR_pread64,
	__NR_pwrite64,
	__NR_readv,
	__NR_writev,
	__NR_preadv,
	__NR_pwritev,
	__NR_open,
	__NR_openat,
	__NR_creat,
	__NR_close,
	__NR_lseek,
	__NR_fstat,
	__NR_stat,
	__NR_lstat,
	__NR_newfstatat,
	__NR_statx,
	__NR_access,
	__NR_faccessat,
	__NR_faccessat2,
	__NR_getdents64,
	__NR_mkdir,
	__NR_mkdirat,
	__NR_rmdir,
	__NR_unlink,
	__NR_unlinkat,
	__NR_rename,
	__NR_renameat,
	__NR_renameat2,
	__NR_link,
	__NR_linkat,
	__NR_symlink,
	__NR_symlinkat,
	__NR_readlink,
	__NR_readlinkat,
	__NR_chdir,
	__NR_fchdir,
	__NR_getcwd,
	__NR_ftruncate,
	__NR_truncate,
	__NR_fcntl,
	__NR_dup,
	__NR_dup2,
	__NR_dup3,
	__NR_ioctl,
	__NR_chmod,
	__NR_fchmod,
	__NR_fchmodat,
	__NR_chown,
	__NR_fchownat,
	__NR_utimensat,
	__NR_umask,
	__NR_sendfile,
	__NR_statfs,
	__NR_fstatfs,
	__NR_fadvise64,
	__NR_brk,
	__NR_mmap,
	__NR_munmap,
	__NR_mprotect,
	__NR_mremap,
	__NR_madvise,
	__NR_mlock,
	__NR_set_tid_address,
	__NR_set_robust_list,
	__NR_get_robust_list,
	__NR_gettid,
	__NR_getpid,
	__NR_prctl,
	__NR_rt_sigaction,
	__NR_rt_sigprocmask,
	__NR_sigaltstack,
	__NR_rt_sigpending,
	__NR_clock_gettime,
	__NR_clock_getres,
	__NR_gettimeofday,
	__NR_time,
	__NR_times,
	__NR_getrusage,
	__NR_uname,
	__NR_getrandom,
	__NR_getgroups,
	__NR_getresuid,
	__NR_getrlimit,
	__NR_setrlimit,
	__NR_prlimit64,
	__NR_sysinfo,
	__NR_getpriority,
	__NR_sched_getaffinity,
	__NR_getcpu,
	/* kept from waiting by prompt(); new calls go last (inputs name them by index) */
	__NR_pipe2,
	__NR_socketpair,
	__NR_sendto,
	__NR_recvfrom,
	__NR_sendmsg,
	__NR_recvmsg,
	__NR_getsockopt,
	__NR_setsockopt,
	__NR_getsockname,
	__NR_getpeername,
	__NR_shutdown,
	__NR_poll,
	__NR_ppoll,
	__NR_select,
	__NR_pselect6,
	__NR_epoll_create1,
	__NR_epoll_ctl,
	__NR_epoll_wait,
	__NR_timerfd_create,
	__NR_timerfd_settime,
	__NR_timerfd_gettime,
};
#define NCALLS (sizeof fz_calls / sizeof fz_calls[0])

static const char *fz_fmt[STATS_NSYSCALLS] = {
#define S(name, fn, fmt) [__NR_##name] = (fmt),
#include "hv/syscalls.def"
#undef S
};

static struct fuzz_vm {
	struct vm vm;
	struct vcpu cpu;
	struct kvm_run run;
	const char *dir; /* fuzz_scratch_dir(): holds root/ and outside */
	char root[128];  /* the VM's root */
	int dir_fd;
	uint8_t secret[SECRET_LEN];
} fz;

/* Open fds of this process. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n - 1; /* the DIR's own fd */
}

/* Empties folder `fd` (not following symlinks; making each folder searchable first). */
static void empty_dir(int fd)
{
	DIR *d = fdopendir(fd);
	fuzz_assert(d);
	for (struct dirent *e; (e = readdir(d));) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (unlinkat(fd, e->d_name, 0) == 0)
			continue;
		fchmodat(fd, e->d_name, 0700, 0);
		int sub = openat(fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub >= 0)
			empty_dir(sub);
		fuzz_assert(unlinkat(fd, e->d_name, AT_REMOVEDIR) == 0);
		rewinddir(d);
	}
	closedir(d);
}

static void put_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	fuzz_assert(fd >= 0 && write(fd, data, len) == (ssize_t)len);
	close(fd);
}

/* The root's fixed contents: a file, a folder with a file, and symlinks that point out. */
static void populate_root(void)
{
	char p[256];
	snprintf(p, sizeof p, "%s/f", fz.root);
	put_file(p, "0123456789abcdef", 16);
	snprintf(p, sizeof p, "%s/d", fz.root);
	fuzz_assert(mkdir(p, 0755) == 0);
	snprintf(p, sizeof p, "%s/d/g", fz.root);
	put_file(p, "g", 1);
	snprintf(p, sizeof p, "%s/l", fz.root);
	fuzz_assert(symlink("..", p) == 0);
	snprintf(p, sizeof p, "%s/ld", fz.root);
	fuzz_assert(symlink("/../../", p) == 0);
}

static void vm_setup(void)
{
	struct vm *vm = &fz.vm;
	hv_config_init(&vm->cfg);
	vm->name = "fuzz";
	vm->cfg.trace = getenv("VCONS_FUZZ_TRACE") != NULL; /* hv's --trace, to read a replay */
	vm->mem = MEM;
	uint8_t *base = mmap(NULL, GUARD + MEM + GUARD, PROT_NONE,
	                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	fuzz_assert(base != MAP_FAILED);
	vm->ram = base + GUARD;
	vm->root_fd = open(fz.root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	fuzz_assert(vm->root_fd >= 0 && realpath(fz.root, vm->root_path));
	pthread_mutex_init(&vm->cwd_lock, NULL);
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->done, NULL);
	vm->pid = GUEST_PID;
	vm->exe_fd = -1;
	fz.cpu = (struct vcpu){ .vm = vm, .tid = GUEST_PID, .fd = -1, .run = &fz.run };
	vm->vcpus[0] = vm->all[0] = &fz.cpu;
	vm->nlive = 1;
	// cppcheck-suppress memleak ; base stays mapped for the process's life, as vm->ram
}

static void *racer(void *arg);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz.dir = fuzz_scratch_dir("hv-syscall");
	snprintf(fz.root, sizeof fz.root, "%s/root", fz.dir);
	fuzz_assert(mkdir(fz.root, 0755) == 0);
	fuzz_assert(getrandom(fz.secret, SECRET_LEN, 0) == SECRET_LEN);
	char p[128];
	snprintf(p, sizeof p, "%s/outside", fz.dir);
	put_file(p, fz.secret, SECRET_LEN);
	fz.dir_fd = open(fz.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fuzz_assert(fz.dir_fd >= 0);
	signal(SIGPIPE, SIG_IGN); /* as vcons-hv: a write to a pipe without reader gets EPIPE */
	vm_setup();
	pthread_t t;
	fuzz_assert(pthread_create(&t, NULL, racer, NULL) == 0);
	pthread_detach(t);
	return 0;
}

/* A fresh VM state for each input: memory, map, file table, root contents, cwd, signals. */
static void vm_reset(void)
{
	struct vm *vm = &fz.vm;
	// cppcheck-suppress leakReturnValNotUsed ; compared: it must land on vm->ram
	fuzz_assert(mmap(vm->ram, MEM, PROT_READ | PROT_WRITE,
	                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1,
	                 0) == vm->ram);
	mm__init(vm, IMAGE_HI);
	fuzz_assert(fdtab__init(&vm->fds, 64) == 0);
	empty_dir(openat(vm->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	populate_root();
	snprintf(vm->cwd, sizeof vm->cwd, "/");
	vm->umask = 022;
	memset(vm->sigactions, 0, sizeof vm->sigactions);
	atomic_store(&vm->pending, 0); /* a SIGPIPE the last input raised */
	fz.cpu.sigmask = fz.cpu.pending = 0;
	size_t at = 0;
	for (size_t i = 0; i < NPATHS; i++) {
		memcpy(vm->ram + DICT_AT + at, fz_paths[i], strlen(fz_paths[i]) + 1);
		at += strlen(fz_paths[i]) + 1;
	}
}

static void vm_release(void)
{
	fdtab__free(&fz.vm.fds);
	mm__free(&fz.vm);
}

static uint64_t dict_ptr(unsigned i)
{
	uint64_t at = DICT_AT;
	for (unsigned k = 0; k < i % NPATHS; k++)
		at += strlen(fz_paths[k]) + 1;
	return at;
}

static const uint64_t fz_edges[] = { 0,   USER_BASE - 1, MEM - 1,    MEM - 8,
	                             MEM, MEM + 4096,    1ULL << 47, UINT64_MAX - 7 };

static uint64_t edge_ptr(unsigned v)
{
	return fz_edges[v % 8];
}

/* One argument of kind k (a trace-format letter) from a tag byte and a 16-bit value. */
static uint64_t make_arg(char k, uint8_t tag, uint16_t v)
{
	switch (k) {
	case 'f':
		return tag % 4 == 0   ? v % 8
		       : tag % 4 == 1 ? (uint64_t)AT_FDCWD
		       : tag % 4 == 2 ? UINT64_MAX
		                      : v;
	case 's':
		return tag % 4 < 2    ? dict_ptr(v)
		       : tag % 4 == 2 ? SCRATCH + v % SCR_LEN
		                      : edge_ptr(v);
	case 'p': return tag % 4 < 3 ? SCRATCH + v % SCR_LEN : edge_ptr(v);
	default:
		return tag % 4 == 0   ? v
		       : tag % 4 == 1 ? (uint64_t)(int64_t)(int16_t)v
		       : tag % 4 == 2 ? fz_values[v % NVALUES]
		                      : (uint64_t)v << (tag >> 2);
	}
}

/* The scratch area's resident pages, and every other resident page of guest RAM, must not hold the
 * secret: only pages something wrote are resident, so this stays cheap. */
static void check_secret_not_in_guest(void)
{
	static unsigned char vec[MEM / 4096];
	fuzz_assert(mincore(fz.vm.ram, MEM, vec) == 0);
	for (size_t pg = 0; pg < MEM / 4096; pg++) {
		if (!(vec[pg] & 1))
			continue;
		/* into the next page only if it is resident too: a file page past EOF is not */
		size_t from = pg * 4096,
		       len = 4096 + (pg + 1 < MEM / 4096 && (vec[pg + 1] & 1) ? SECRET_LEN - 1 : 0);
		fuzz_assert(!memmem(fz.vm.ram + from, len, fz.secret, SECRET_LEN));
	}
}

/* The folder around the root holds the root and "outside", unchanged. */
static void check_outside_untouched(void)
{
	int fd = openat(fz.dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fdopendir(fd);
	fuzz_assert(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			fuzz_assert(!strcmp(e->d_name, "root") || !strcmp(e->d_name, "outside"));
			n++;
		}
	closedir(d);
	fuzz_assert(n == 2);
	uint8_t buf[SECRET_LEN + 1];
	int f = openat(fz.dir_fd, "outside", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	fuzz_assert(f >= 0 && read(f, buf, sizeof buf) == SECRET_LEN);
	close(f);
	fuzz_assert(!memcmp(buf, fz.secret, SECRET_LEN));
}

/* The racer: a second thread that plays the guest's other threads, rewriting the guest memory a
 * call reads while hv services it (hv/uaccess.h: hv must copy each structure in once and use only
 * the copy). The driver arms it around a call that has raced pointer arguments and disarms it
 * after, waiting until it has stopped writing, so the checks between calls see stable memory.
 *
 * Which arguments, and how: a 'p' or 's' argument's tag byte uses only its two low bits to pick
 * the pointer (make_arg), so bits 2-3 choose a race mode (0: none, so every input written before
 * the racer existed runs as it did) and bits 4-7 a focus:
 *   1  one field: the 4-byte slot `focus` of the 64 bytes at the pointer gets one value for the
 *      whole call (a 4- or 8-byte write, chosen by the seed): the sharpest test of check-then-use;
 *   2  anywhere in those 64 bytes, a new mutation every other pass: a few random bytes, or a
 *      value at a 4- or 8-aligned offset;
 *   3  as 2, and also 64, 256 and 1024 bytes further (later entries of an array) and at each
 *      guest pointer found in the first 64 bytes (an iovec array behind a msghdr, a name).
 * Values: lengths and counts at the edges (0, 1, 64, 65, 1024, 2^31, UINT64_MAX...) and guest
 * pointers (NULL, the edges of guest RAM, the scratch area). The racer alternates each place
 * between its bytes before the call and the mutation, as fast as it can (with a little jitter),
 * so that a check can pass on one fetch and a second fetch see the other value: a double fetch
 * then shows as an out-of-bounds access or a broken result. Its writes are uaccess__out(), the same
 * single `rep movsb` hv's copies use: invisible to the sanitizers (a guest writing its own memory
 * is no data race in hv) and fault-safe (a file page past EOF). The racer's own code is left out of
 * libFuzzer's coverage, which would otherwise count its timing. The seed comes from the call's
 * record (syscall-seeds.py mirrors it, and mode 1's choice, to write seeds that race a field
 * with a chosen value). */
#define RACE_LEN     64           /* bytes raced at each place */
#define RACE_MAX     24           /* places raced during one call */
#define RACE_SPIN_NS (200 * 1000) /* the racer spins this long for the next call */
#if defined(__clang__)
#define RACER __attribute__((no_sanitize("coverage")))
#else
#define RACER
#endif

struct race_place {
	uint64_t gva;
	unsigned len;
	uint8_t mode, focus;
	uint8_t orig[RACE_LEN]; /* the bytes there before the call */
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	atomic_uint armed;   /* the call being raced (a generation), 0 between calls */
	atomic_uint started; /* the last generation the racer has begun */
	atomic_uint stopped; /* ... and stopped writing for */
	unsigned gen;
	/* written by the driver while disarmed, read by the racer once armed (release/acquire) */
	int n;
	uint64_t seed;
	struct race_place at[RACE_MAX];
} race = { .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER };

RACER static uint64_t race_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL); /* splitmix64 */
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

RACER static uint64_t race_value(uint64_t r)
{
	static const uint64_t v[] = { 0,          1,          64,        65,
		                      1024,       1025,       4096,      0x7fffffff,
		                      1ULL << 31, 0xffffffff, INT64_MAX, UINT64_MAX };
	unsigned k = r % 24;
	r >>= 8;
	return k < 12 ? v[k] : k < 20 ? fz_edges[r % 8] : SCRATCH + ((r % SCR_LEN) & ~7ULL);
}

/* A value at byte `off` of out[len], 8 bytes wide when `wide` and there is room, else 4. */
RACER static void race_put(uint8_t *out, unsigned len, unsigned off, int wide, uint64_t v)
{
	unsigned w = wide && off % 8 == 0 && off + 8 <= len ? 8 : 4;
	if (off + w <= len)
		memcpy(out + off, &v, w);
}

RACER static void race_mutate(const struct race_place *p, uint8_t *out, uint64_t *s)
{
	memcpy(out, p->orig, p->len);
	uint64_t r = race_next(s);
	if (p->mode == 1) {
		race_put(out, p->len, 4U * (p->focus % 16), (r & 1) != 0, race_value(r >> 1));
		return;
	}
	for (unsigned edits = 1 + r % 3; edits--;) {
		r = race_next(s);
		unsigned at = (unsigned)(r >> 8) % p->len;
		if (r & 1) {
			for (unsigned k = 1 + (r >> 1) % 8; k-- && at < p->len; at++)
				out[at] = (uint8_t)race_next(s);
		} else {
			race_put(out, p->len, at & ~3U, (r & 2) != 0, race_value(race_next(s)));
		}
	}
}

/* Races call `g` until the driver disarms it. */
RACER static void race_call(unsigned g)
{
	uint64_t s = race.seed;
	uint8_t mut[RACE_MAX][RACE_LEN];
	for (unsigned pass = 0; atomic_load_explicit(&race.armed, memory_order_relaxed) == g;
	     pass++) {
		for (int i = 0; i < race.n; i++) {
			const struct race_place *p = &race.at[i];
			if (pass == 0 || (pass % 2 == 0 && p->mode != 1))
				race_mutate(p, mut[i], &s);
			/* a fault (a file page past EOF) leaves the place as it is */
			(void)uaccess__out(&fz.vm, p->gva, pass % 2 ? p->orig : mut[i], p->len, 1);
		}
		for (unsigned k = race_next(&s) % 4; k; k--) /* a jitter of the phase */
			__builtin_ia32_pause();
	}
}

RACER static int64_t race_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* The next armed generation: spins a while (an input's next call comes within microseconds),
 * then sleeps until the driver wakes it. */
RACER static unsigned race_wait(void)
{
	unsigned g;
	for (int64_t t0 = race_ns(); race_ns() - t0 < RACE_SPIN_NS;) {
		if ((g = atomic_load_explicit(&race.armed, memory_order_acquire)))
			return g;
		__builtin_ia32_pause();
	}
	pthread_mutex_lock(&race.lock);
	while (!(g = atomic_load_explicit(&race.armed, memory_order_acquire)))
		pthread_cond_wait(&race.wake, &race.lock);
	pthread_mutex_unlock(&race.lock);
	return g;
}

RACER static void *racer(void *arg)
{
	for (;;) {
		unsigned g = race_wait();
		atomic_store_explicit(&race.started, g, memory_order_release);
		race_call(g);
		atomic_store_explicit(&race.stopped, g, memory_order_release);
	}
	return NULL;
}

/* Adds the bytes at `gva` (up to RACE_LEN, inside guest RAM, away from the driver's timeout) as a
 * place to race; returns it, or NULL. */
static struct race_place *race_add(uint64_t gva, uint8_t mode, uint8_t focus)
{
	if (race.n == RACE_MAX || gva < USER_BASE || gva >= MEM)
		return NULL;
	unsigned len = MEM - gva < RACE_LEN ? (unsigned)(MEM - gva) : RACE_LEN;
	if (gva < TIMEOUT_AT + 16 && gva + len > TIMEOUT_AT)
		return NULL;
	struct race_place *p = &race.at[race.n];
	*p = (struct race_place){ .gva = gva, .len = len, .mode = mode, .focus = focus };
	if (uaccess__in(&fz.vm, p->orig, gva, len, 1))
		return NULL; /* a file page past EOF */
	race.n++;
	return p;
}

/* The places to race during call `nr` (arguments a, record rec, the input's call number n). */
static void race_plan(unsigned nr, const char *kinds, const uint64_t *a, const uint8_t *rec, int n)
{
	race.n = 0;
	race.seed = 0xcbf29ce484222325ULL ^ (uint64_t)n;
	for (int i = 0; i < 19; i++)
		race.seed = (race.seed ^ rec[i]) * 0x100000001b3ULL; /* FNV-1a */
	for (int i = 0; i < 6; i++) {
		uint8_t tag = rec[1 + 3 * i], mode = tag >> 2 & 3;
		if ((kinds[i] != 'p' && kinds[i] != 's') || !mode)
			continue;
		if ((nr == __NR_ppoll && i == 2) ||
		    ((nr == __NR_select || nr == __NR_pselect6) && i == 4))
			continue; /* the driver's timeout (prompt()) */
		struct race_place *p = race_add(a[i], mode, tag >> 4);
		if (!p || mode != 3)
			continue;
		uint64_t words[RACE_LEN / 8];
		unsigned nw = p->len / 8;
		memcpy(words, p->orig, nw * 8);
		for (unsigned k = 1; k <= 16; k *= 4)
			race_add(a[i] + RACE_LEN * k, 2, 0);
		for (unsigned w = 0; w < nw; w++)
			if (words[w] >= USER_BASE && words[w] < MEM)
				race_add(words[w], 2, 0);
	}
}

/* Arms the racer for the places planned: returns the generation, 0 when there is nothing to race.
 * The racer has begun when it returns. */
static unsigned race_arm(void)
{
	if (!race.n)
		return 0;
	unsigned g = ++race.gen ? race.gen : ++race.gen;
	atomic_store_explicit(&race.armed, g, memory_order_release);
	pthread_mutex_lock(&race.lock);
	pthread_cond_signal(&race.wake);
	pthread_mutex_unlock(&race.lock);
	while (atomic_load_explicit(&race.started, memory_order_acquire) != g)
		sched_yield();
	return g;
}

/* Stops generation g and waits until the racer has written its last byte. */
static void race_disarm(unsigned g)
{
	if (!g)
		return;
	atomic_store_explicit(&race.armed, 0, memory_order_release);
	while (atomic_load_explicit(&race.stopped, memory_order_acquire) != g)
		sched_yield(); /* the racer may have lost its CPU to another job */
}

/* ppoll/pselect6/select's timeout pointer: the driver's zero timespec (a zero timeval too) at
 * TIMEOUT_AT, or with bit 2 of the argument's tag an invalid one (EINVAL); a pointer outside guest
 * RAM stays (EFAULT). NULL, which waits for ever, is never sent, nor a guest timespec that could.
 */
static uint64_t timeout_ptr(uint64_t p, uint8_t tag)
{
	static const int64_t zero[2] = { 0, 0 }, bad[2] = { 0, 1000000000 };
	const int64_t *t = tag & 4 ? bad : zero;
	int64_t back[2];
	if (p && !uaccess__ok(&fz.vm, p, sizeof back))
		return p;
	/* a read-only file mapping there: EFAULT rather than the file's bytes as a timeout */
	if (uaccess__out(&fz.vm, TIMEOUT_AT, t, sizeof back, 8) ||
	    uaccess__in(&fz.vm, back, TIMEOUT_AT, sizeof back, 8) || memcmp(back, t, sizeof back))
		return MEM;
	return TIMEOUT_AT;
}

/* Makes a call that could wait return at once: fds the VM creates are non-blocking and stay so
 * (fcntl F_SETFL, ioctl FIONBIO cannot clear O_NONBLOCK), messages are MSG_DONTWAIT, timeouts
 * zero; fcntl's waiting locks become F_GETFL. And one that could take long: sendfile copies at
 * most 1 MiB (a file sent to itself grows by the count, and 400 MB took 20 s). */
static void prompt(unsigned nr, uint64_t *a, const uint8_t *rec)
{
	switch (nr) {
	case __NR_fcntl: /* hv takes the command as an int */
		if ((int)a[1] == F_SETLKW || (int)a[1] == F_OFD_SETLKW)
			a[1] = F_GETFL; /* would wait for a lock another fd of this VM holds */
		if ((int)a[1] == F_SETFL)
			a[2] |= O_NONBLOCK;
		break;
	case __NR_ioctl:
		if (a[1] == FIONBIO)
			a[1] = FIONREAD;
		break;
	case __NR_sendfile:
		if (a[3] > (1 << 20))
			a[3] = 1 << 20;
		break;
	case __NR_pipe2: a[1] |= O_NONBLOCK; break;
	case __NR_socketpair: a[1] |= SOCK_NONBLOCK; break;
	case __NR_timerfd_create: a[1] |= TFD_NONBLOCK; break;
	case __NR_sendto:
	case __NR_recvfrom: a[3] |= MSG_DONTWAIT; break;
	case __NR_sendmsg:
	case __NR_recvmsg: a[2] |= MSG_DONTWAIT; break;
	case __NR_poll: a[2] = 0; break;
	case __NR_epoll_wait: a[3] = 0; break;
	case __NR_ppoll: a[2] = timeout_ptr(a[2], rec[1 + 3 * 2]); break;
	case __NR_select:
	case __NR_pselect6: a[4] = timeout_ptr(a[4], rec[1 + 3 * 4]); break;
	}
}

/* The kind of argument i of call nr: its trace-format letter from syscalls.def, except that
 * fcntl's lock commands and ioctl's requests that take one point at a structure (an 'x' there). */
static char arg_kind(unsigned nr, int i, const uint64_t *a)
{
	const char *fmt = fz_fmt[nr];
	if (i == 2 && nr == __NR_fcntl)
		switch ((int)a[1]) {
		case F_GETLK:
		case F_SETLK:
		case F_SETLKW:
		case F_OFD_GETLK:
		case F_OFD_SETLK:
		case F_OFD_SETLKW: return 'p';
		}
	if (i == 2 && nr == __NR_ioctl)
		switch (a[1]) {
		case TCGETS:
		case TCSETS:
		case TCSETSW:
		case TCSETSF:
		case TIOCGWINSZ:
		case FIONREAD:
		case FIONBIO:
		case TIOCGPGRP: return 'p';
		}
	// NOLINTNEXTLINE(bugprone-narrowing-conversions): a char either way
	return fmt && i < (int)strlen(fmt) ? fmt[i] : 'd';
}

static long run_call(const uint8_t *rec, int n)
{
	unsigned nr = fz_calls[rec[0] % NCALLS];
	uint64_t a[6] = { 0 };
	char kinds[6];
	for (int i = 0; i < 6; i++) {
		kinds[i] = arg_kind(nr, i, a);
		a[i] = make_arg(kinds[i], rec[1 + 3 * i],
		                (uint16_t)(rec[2 + 3 * i] | rec[3 + 3 * i] << 8));
	}
	prompt(nr, a, rec);
	race_plan(nr, kinds, a, rec, n);
	unsigned g = race_arm();
	long r = syscall__dispatch(&fz.cpu, nr, a);
	race_disarm(g);
	fuzz_assert(r >= -4095); /* a value or -errno, so not SYSCALL_NORETURN either */
	return r;
}

/* Input: 2 bytes of scratch length L (<= 4096), L scratch bytes, then up to MAX_CALLS records of
 * 19 bytes (call, then 6 arguments of tag + 16-bit value). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || memmem(data, size, fz.secret, SECRET_LEN))
		return 0; /* libFuzzer may learn the secret from the checks' comparisons */
	size_t len = (size_t)(data[0] | data[1] << 8) % 4097;
	if (len > size - 2)
		len = size - 2;
	int host_fds = count_fds();
	vm_reset();
	memcpy(fz.vm.ram + SCRATCH, data + 2, len);
	const uint8_t *rec = data + 2 + len, *end = data + size;
	fuzz_assert(uaccess__init() == 0); /* here, after libFuzzer's own handlers */
	for (int n = 0; end - rec >= 19 && n < MAX_CALLS; n++, rec += 19)
		run_call(rec, n);
	check_secret_not_in_guest();
	vm_release();
	check_outside_untouched();
	fuzz_assert(count_fds() == host_fds);
	return 0;
}
