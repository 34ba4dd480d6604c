/* hv/sys_time.c: clocks and sleeps. Readings come from clock.c (scaled by --clock-scale); sleeps
 * are converted to host time and slept on the host. */
#include "hv/clock.h"
#include "hv/syscall.h"
#include "hv/uaccess.h"
#include "hv/vm.h"

#include <errno.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/times.h>

static int valid_clock(clockid_t id)
{
	switch (id) {
	case CLOCK_REALTIME:
	case CLOCK_MONOTONIC:
	case CLOCK_PROCESS_CPUTIME_ID:
	case CLOCK_THREAD_CPUTIME_ID:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_REALTIME_COARSE:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
	case CLOCK_TAI: return 1;
	default: return 0;
	}
}

long sys_clock_gettime(struct vcpu *c, const uint64_t *a)
{
	clockid_t id = (clockid_t)a[0];
	if (!valid_clock(id))
		return -EINVAL;
	uint64_t ns = clock__guest_now(c->vm, id);
	struct timespec t = { (time_t)(ns / 1000000000ULL), (long)(ns % 1000000000ULL) };
	return copy_to_guest(c->vm, a[1], &t, 1);
}

long sys_clock_getres(struct vcpu *c, const uint64_t *a)
{
	struct timespec t;
	if (!valid_clock((clockid_t)a[0]))
		return -EINVAL;
	if (!a[1])
		return 0;
	long r = clock_getres((clockid_t)a[0], &t) < 0 ? -errno : 0;
	return RESULT_TO_GUEST(c->vm, r, a[1], &t);
}

long sys_gettimeofday(struct vcpu *c, const uint64_t *a)
{
	const int tz[2] = { 0, 0 }; /* struct timezone: always zero */
	if (a[1] && copy_to_guest(c->vm, a[1], tz, 2))
		return -EFAULT;
	if (!a[0])
		return 0;
	uint64_t ns = clock__guest_now(c->vm, CLOCK_REALTIME);
	struct timeval tv = { (time_t)(ns / 1000000000ULL),
		              (suseconds_t)(ns % 1000000000ULL / 1000) };
	return copy_to_guest(c->vm, a[0], &tv, 1);
}

long sys_time(struct vcpu *c, const uint64_t *a)
{
	time_t now = (time_t)(clock__guest_now(c->vm, CLOCK_REALTIME) / 1000000000ULL);
	if (a[0] && copy_to_guest(c->vm, a[0], &now, 1))
		return -EFAULT;
	return now;
}

/* Sleeps for a guest duration or until a guest absolute time; writes the remaining guest time. */
static long do_sleep(struct vcpu *c, clockid_t id, int abs, uint64_t req, uint64_t rem)
{
	struct timespec r;
	if (copy_from_guest(c->vm, &r, req, 1))
		return -EFAULT;
	if (r.tv_sec < 0 || r.tv_nsec < 0 || r.tv_nsec >= 1000000000L)
		return -EINVAL;
	uint64_t gns = (uint64_t)r.tv_sec * 1000000000ULL + (uint64_t)r.tv_nsec;
	uint64_t hns = abs ? clock__to_host_abs(c->vm, id, gns)
	                   : (uint64_t)clock__to_host_duration(c->vm, (int64_t)gns);
	struct timespec h = { (time_t)(hns / 1000000000ULL), (long)(hns % 1000000000ULL) }, hl;
	int rc = clock_nanosleep(id, abs ? TIMER_ABSTIME : 0, &h, &hl);
	if (rc == EINTR && rem && !abs) {
		uint64_t gl = (uint64_t)((double)(hl.tv_sec * 1000000000LL + hl.tv_nsec) *
		                         c->vm->cfg.clock_scale);
		struct timespec left = { (time_t)(gl / 1000000000ULL), (long)(gl % 1000000000ULL) };
		if (copy_to_guest(c->vm, rem, &left, 1))
			return -EFAULT;
	}
	return -rc;
}

long sys_nanosleep(struct vcpu *c, const uint64_t *a)
{
	return do_sleep(c, CLOCK_MONOTONIC, 0, a[0], a[1]);
}

long sys_clock_nanosleep(struct vcpu *c, const uint64_t *a)
{
	clockid_t id = (clockid_t)a[0];
	if (id != CLOCK_REALTIME && id != CLOCK_MONOTONIC && id != CLOCK_BOOTTIME &&
	    id != CLOCK_TAI)
		return valid_clock(id) ? -ENOTSUP : -EINVAL;
	return do_sleep(c, id, !!(a[1] & TIMER_ABSTIME), a[2], a[3]);
}

long sys_times(struct vcpu *c, const uint64_t *a)
{
	struct tms t;
	clock_t now = times(&t);
	if (a[0] && copy_to_guest(c->vm, a[0], &t, 1))
		return -EFAULT;
	return (long)now;
}

long sys_getrusage(struct vcpu *c, const uint64_t *a)
{
	struct rusage r;
	int who = (int)a[0];
	if (who != RUSAGE_SELF && who != RUSAGE_THREAD && who != RUSAGE_CHILDREN)
		return -EINVAL;
	long rc = getrusage(who, &r) < 0 ? -errno : 0;
	return RESULT_TO_GUEST(c->vm, rc, a[1], &r);
}
