/* hv/vdso/vdso.c: the vDSO hv maps into every VM, next to the time page (timepage.h), and names
 * to the program with AT_SYSINFO_EHDR. glibc (2.29 and later, static programs too), musl and Go
 * look these symbols up (version LINUX_2.6) and call them instead of making the system call, so a
 * guest reads its clocks with no exit. A clock the page does not serve (CPU-time clocks, unknown
 * ids), and every clock while the page is marked unusable, is the real system call, made from here:
 * glibc does not retry a failed vDSO call.
 *
 * Built freestanding (no libc: -nostdlib -ffreestanding -fPIC) into a small ET_DYN image by
 * vdso.lds, and embedded into hv by hv/vdso_image.S. The time page is the page right before the
 * image (hv/timepage.c maps both). */
#include "hv/vdso/timepage.h"

#include <asm/unistd.h>

/* The kernel ABI's structures (no libc here). */
struct k_timespec {
	int64_t tv_sec, tv_nsec;
};
struct k_timeval {
	int64_t tv_sec, tv_usec;
};
struct k_timezone {
	int tz_minuteswest, tz_dsttime;
};

/* The exported calls (the names glibc and musl look up). */
int __vdso_clock_gettime(long id, struct k_timespec *ts);
int __vdso_gettimeofday(struct k_timeval *tv, struct k_timezone *tz);
int64_t __vdso_time(int64_t *t);
int __vdso_clock_getres(long id, struct k_timespec *res);
long __vdso_getcpu(unsigned *cpu, unsigned *node, void *cache);

/* The time page: the page before this image's ELF header (the linker's __ehdr_start). */
static const struct hv_time_page *page(void)
{
	const struct hv_time_page *p;
	__asm__("lea __ehdr_start-4096(%%rip), %0" : "=r"(p));
	return p;
}

static long sys3(long nr, long a, long b, long c)
{
	long r;
	__asm__ volatile("syscall"
	                 : "=a"(r)
	                 : "a"(nr), "D"(a), "S"(b), "d"(c)
	                 : "rcx", "r11", "memory");
	return r;
}

static int read_ns(long id, int64_t *ns)
{
	int c = hv_tp_clock_of(id);
	return c < 0 ? -1 : hv_tp_read(page(), (enum hv_tp_clock)c, ns);
}

int __vdso_clock_gettime(long id, struct k_timespec *ts)
{
	int64_t ns;
	if (read_ns(id, &ns) < 0)
		return (int)sys3(__NR_clock_gettime, id, (long)ts, 0);
	ts->tv_sec = ns / 1000000000;
	ts->tv_nsec = ns % 1000000000;
	return 0;
}

int __vdso_gettimeofday(struct k_timeval *tv, struct k_timezone *tz)
{
	int64_t ns;
	if (read_ns(HV_CLOCK_REALTIME, &ns) < 0)
		return (int)sys3(__NR_gettimeofday, (long)tv, (long)tz, 0);
	if (tv) {
		tv->tv_sec = ns / 1000000000;
		tv->tv_usec = ns % 1000000000 / 1000;
	}
	if (tz) /* hv's answer too: no time zone */
		tz->tz_minuteswest = tz->tz_dsttime = 0;
	return 0;
}

int64_t __vdso_time(int64_t *t)
{
	int64_t ns;
	if (read_ns(HV_CLOCK_REALTIME, &ns) < 0)
		return sys3(__NR_time, (long)t, 0, 0);
	if (t)
		*t = ns / 1000000000;
	return ns / 1000000000;
}

int __vdso_clock_getres(long id, struct k_timespec *res)
{
	const struct hv_time_page *p = page();
	if (hv_tp_clock_of(id) < 0 || !__atomic_load_n(&p->usable, __ATOMIC_RELAXED))
		return (int)sys3(__NR_clock_getres, id, (long)res, 0);
	if (res) {
		int coarse = id == HV_CLOCK_REALTIME_COARSE || id == HV_CLOCK_MONOTONIC_COARSE;
		res->tv_sec = 0;
		res->tv_nsec = coarse ? __atomic_load_n(&p->coarse_res_ns, __ATOMIC_RELAXED) : 1;
	}
	return 0;
}

/* Which CPU a thread runs on is hv's to say (a vCPU is not a host CPU): the system call. */
long __vdso_getcpu(unsigned *cpu, unsigned *node, void *cache)
{
	return sys3(__NR_getcpu, (long)cpu, (long)node, (long)cache);
}

/* The names without the prefix, as Linux's vDSO has them too. */
int clock_gettime(long, struct k_timespec *) __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct k_timeval *, struct k_timezone *)
    __attribute__((weak, alias("__vdso_gettimeofday")));
int64_t time(int64_t *) __attribute__((weak, alias("__vdso_time")));
int clock_getres(long, struct k_timespec *) __attribute__((weak, alias("__vdso_clock_getres")));
long getcpu(unsigned *, unsigned *, void *) __attribute__((weak, alias("__vdso_getcpu")));
