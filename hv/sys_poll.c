/* hv/sys_poll.c: readiness: poll/ppoll/select/pselect6 (translated to a host poll over host fds),
 * epoll (the guest's epoll_event data passes through untouched, so events come back as the guest
 * registered them) and timerfd. Timeouts are guest durations, converted to host time. Guest
 * arrays (pollfds, fd_sets, events) are copied in once, polled in host memory, and their results
 * copied out once. */
#include "hv/clock.h"
#include "hv/syscall.h"
#include "hv/uaccess.h"
#include "hv/vm.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/timerfd.h>

#define POLL_MAX   4096
#define EPOLL_HOST 256 /* events one epoll_wait returns at most (fewer than asked is allowed) */

/* Polls pollfds `g` (host memory, guest fds) for up to `timeout_ns` of guest time (-1: forever).
 */
static long poll_guest(struct vcpu *c, struct pollfd *g, uint64_t n, int64_t timeout_ns)
{
	if (n > POLL_MAX)
		return -EINVAL;
	struct pollfd *h = calloc(n ? n : 1, sizeof(*h));
	// NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers
	struct hfile **f = calloc(n ? n : 1, sizeof(*f));
	long r = -ENOMEM;
	if (!h || !f)
		goto out;
	for (uint64_t i = 0; i < n; i++) {
		h[i] = (struct pollfd){ .fd = -1, .events = g[i].events };
		if (g[i].fd < 0)
			continue;
		f[i] = fdtab__get(&c->vm->fds, g[i].fd);
		if (f[i])
			h[i].fd = f[i]->host;
	}
	struct timespec ts, *tp = NULL;
	if (timeout_ns >= 0) {
		int64_t ns = clock__to_host_duration(c->vm, timeout_ns);
		ts = (struct timespec){ (time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL) };
		tp = &ts;
	}
	r = ret_errno(ppoll(h, n, tp, NULL));
	if (r >= 0) {
		r = 0;
		for (uint64_t i = 0; i < n; i++) {
			g[i].revents = (short)(g[i].fd >= 0 && !f[i] ? POLLNVAL : h[i].revents);
			r += g[i].revents != 0;
		}
	}
	for (uint64_t i = 0; i < n; i++)
		if (f[i])
			fdtab__put(&c->vm->fds, f[i]);
out:
	free(h);
	free(f);
	return r;
}

static int64_t ts_ns(struct vcpu *c, uint64_t gva, int *err)
{
	struct timespec t;
	if (copy_from_guest(c->vm, &t, gva, 1)) {
		*err = -EFAULT;
		return 0;
	}
	if (t.tv_sec < 0 || t.tv_nsec < 0 || t.tv_nsec >= 1000000000L) {
		*err = -EINVAL;
		return 0;
	}
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* poll and ppoll: the guest's array at `gva` copied in, polled, and each revents copied out. */
static long poll_array(struct vcpu *c, uint64_t gva, uint64_t n, int64_t timeout_ns)
{
	if (n > POLL_MAX)
		return -EINVAL;
	struct pollfd *g = calloc(n ? n : 1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	long r = copy_from_guest(c->vm, g, gva, n) ? -EFAULT : poll_guest(c, g, n, timeout_ns);
	for (uint64_t i = 0; r >= 0 && i < n; i++)
		if (copy_to_guest(c->vm, gva + i * sizeof(*g) + offsetof(struct pollfd, revents),
		                  &g[i].revents, 1))
			r = -EFAULT;
	free(g);
	return r;
}

long sys_poll(struct vcpu *c, const uint64_t *a)
{
	int ms = (int)a[2];
	return poll_array(c, a[0], a[1], ms < 0 ? -1 : (int64_t)ms * 1000000LL);
}

long sys_ppoll(struct vcpu *c, const uint64_t *a)
{
	int err = 0;
	if (a[1] > POLL_MAX)
		return -EINVAL;
	int64_t ns = a[2] ? ts_ns(c, a[2], &err) : -1;
	return err ? err : poll_array(c, a[0], a[1], ns);
}

/* select and pselect6: fd_sets become a pollfd array and back. */
static long select_guest(struct vcpu *c, int nfds, uint64_t rg, uint64_t wg, uint64_t eg,
                         int64_t timeout_ns)
{
	fd_set host[3], *sets[3] = { NULL, NULL, NULL };
	uint64_t gv[3] = { rg, wg, eg };
	if (nfds < 0 || nfds > FD_SETSIZE)
		return -EINVAL;
	size_t words = (size_t)(nfds + 63) / 64;
	for (int k = 0; k < 3; k++) {
		if (!gv[k])
			continue;
		sets[k] = &host[k];
		FD_ZERO(sets[k]);
		if (copy_from_guest(c->vm, sets[k]->fds_bits, gv[k], words))
			return -EFAULT;
	}
	struct pollfd *p = calloc(nfds ? nfds : 1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	int n = 0;
	for (int fd = 0; fd < nfds; fd++) {
		short ev = (short)((sets[0] && FD_ISSET(fd, sets[0]) ? POLLIN : 0) |
		                   (sets[1] && FD_ISSET(fd, sets[1]) ? POLLOUT : 0) |
		                   (sets[2] && FD_ISSET(fd, sets[2]) ? POLLPRI : 0));
		if (ev)
			p[n++] = (struct pollfd){ .fd = fd, .events = ev };
	}
	long r = poll_guest(c, p, (uint64_t)n, timeout_ns);
	if (r >= 0) {
		for (int k = 0; k < 3; k++)
			if (sets[k])
				FD_ZERO(sets[k]);
		r = 0;
		for (int i = 0; i < n; i++) {
			if (p[i].revents & POLLNVAL) {
				r = -EBADF;
				break;
			}
			short re = p[i].revents;
			int in = re & (POLLIN | POLLHUP | POLLERR), out = re & (POLLOUT | POLLERR),
			    pri = re & POLLPRI;
			if (sets[0] && in && (p[i].events & POLLIN))
				FD_SET(p[i].fd, sets[0]), r++;
			if (sets[1] && out && (p[i].events & POLLOUT))
				FD_SET(p[i].fd, sets[1]), r++;
			if (sets[2] && pri)
				FD_SET(p[i].fd, sets[2]), r++;
		}
	}
	free(p);
	for (int k = 0; r >= 0 && k < 3; k++)
		if (sets[k] && copy_to_guest(c->vm, gv[k], sets[k]->fds_bits, words))
			r = -EFAULT;
	return r;
}

long sys_select(struct vcpu *c, const uint64_t *a)
{
	int64_t ns = -1;
	if (a[4]) {
		struct timeval tv;
		if (copy_from_guest(c->vm, &tv, a[4], 1))
			return -EFAULT;
		if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000)
			return -EINVAL;
		ns = (int64_t)tv.tv_sec * 1000000000LL + tv.tv_usec * 1000LL;
	}
	return select_guest(c, (int)a[0], a[1], a[2], a[3], ns);
}

long sys_pselect6(struct vcpu *c, const uint64_t *a)
{
	int err = 0;
	int64_t ns = a[4] ? ts_ns(c, a[4], &err) : -1;
	return err ? err : select_guest(c, (int)a[0], a[1], a[2], a[3], ns);
}

long sys_epoll_create1(struct vcpu *c, const uint64_t *a)
{
	if (a[0] & ~(uint64_t)EPOLL_CLOEXEC)
		return -EINVAL;
	int h = epoll_create1(EPOLL_CLOEXEC);
	if (h < 0)
		return -errno;
	return fdtab__install(&c->vm->fds, h, !!(a[0] & EPOLL_CLOEXEC), 0);
}

long sys_epoll_create(struct vcpu *c, const uint64_t *a)
{
	if ((int)a[0] <= 0)
		return -EINVAL;
	uint64_t b[1] = { 0 };
	return sys_epoll_create1(c, b);
}

long sys_epoll_ctl(struct vcpu *c, const uint64_t *a)
{
	struct epoll_event ev;
	int op = (int)a[1];
	if (op != EPOLL_CTL_DEL && copy_from_guest(c->vm, &ev, a[3], 1))
		return -EFAULT;
	struct hfile *ep = fdtab__get(&c->vm->fds, (int)a[0]);
	if (!ep)
		return -EBADF;
	struct hfile *f = fdtab__get(&c->vm->fds, (int)a[2]);
	long r = -EBADF;
	if (f) {
		r = epoll_ctl(ep->host, op, f->host, op == EPOLL_CTL_DEL ? NULL : &ev) < 0 ? -errno
		                                                                           : 0;
		fdtab__put(&c->vm->fds, f);
	}
	fdtab__put(&c->vm->fds, ep);
	return r;
}

static long epoll_wait_guest(struct vcpu *c, const uint64_t *a, int64_t timeout_ns)
{
	struct epoll_event ev[EPOLL_HOST];
	int max = (int)a[2];
	if (max <= 0 || max > 65536)
		return -EINVAL;
	if (!uaccess__ok(c->vm, a[1], (uint64_t)max * sizeof(*ev)))
		return -EFAULT;
	struct hfile *ep = fdtab__get(&c->vm->fds, (int)a[0]);
	if (!ep)
		return -EBADF;
	int ms = -1;
	if (timeout_ns >= 0) {
		int64_t h = clock__to_host_duration(c->vm, timeout_ns);
		ms = (int)((h + 999999) / 1000000);
	}
	long r = ret_errno(epoll_wait(ep->host, ev, max < EPOLL_HOST ? max : EPOLL_HOST, ms));
	fdtab__put(&c->vm->fds, ep);
	if (r > 0 && copy_to_guest(c->vm, a[1], ev, (uint64_t)r))
		return -EFAULT; /* as Linux: the events are gone */
	return r;
}

long sys_epoll_wait(struct vcpu *c, const uint64_t *a)
{
	int ms = (int)a[3];
	return epoll_wait_guest(c, a, ms < 0 ? -1 : (int64_t)ms * 1000000LL);
}

long sys_epoll_pwait(struct vcpu *c, const uint64_t *a)
{
	return sys_epoll_wait(c, a); /* the signal mask matters only with signal delivery */
}

long sys_timerfd_create(struct vcpu *c, const uint64_t *a)
{
	int flags = (int)a[1];
	if (flags & ~(TFD_CLOEXEC | TFD_NONBLOCK))
		return -EINVAL;
	int h = timerfd_create((int)a[0], flags | TFD_CLOEXEC);
	if (h < 0)
		return -errno;
	return fdtab__install(&c->vm->fds, h, !!(flags & TFD_CLOEXEC), 0);
}

long sys_timerfd_settime(struct vcpu *c, const uint64_t *a)
{
	struct itimerspec n, old, h;
	if (copy_from_guest(c->vm, &n, a[2], 1) || (a[3] && !uaccess__ok(c->vm, a[3], sizeof(old))))
		return -EFAULT;
	h = n;
	if (c->vm->cfg.clock_scale != 1.0) {
		int64_t iv = (int64_t)h.it_interval.tv_sec * 1000000000LL + h.it_interval.tv_nsec;
		iv = clock__to_host_duration(c->vm, iv);
		h.it_interval =
		    (struct timespec){ (time_t)(iv / 1000000000LL), (long)(iv % 1000000000LL) };
		int64_t v = (int64_t)h.it_value.tv_sec * 1000000000LL + h.it_value.tv_nsec;
		v = (a[1] & TFD_TIMER_ABSTIME)
		        ? (int64_t)clock__to_host_abs(c->vm, CLOCK_MONOTONIC, (uint64_t)v)
		        : clock__to_host_duration(c->vm, v);
		if (n.it_value.tv_sec || n.it_value.tv_nsec)
			h.it_value = (struct timespec){ (time_t)(v / 1000000000LL),
				                        (long)(v % 1000000000LL) };
	}
	struct hfile *f = fdtab__get(&c->vm->fds, (int)a[0]);
	if (!f)
		return -EBADF;
	long r = timerfd_settime(f->host, (int)a[1], &h, &old) < 0 ? -errno : 0;
	fdtab__put(&c->vm->fds, f);
	if (!r && a[3] && copy_to_guest(c->vm, a[3], &old, 1))
		return -EFAULT;
	return r;
}

long sys_timerfd_gettime(struct vcpu *c, const uint64_t *a)
{
	struct itimerspec cur;
	if (!uaccess__ok(c->vm, a[1], sizeof(cur)))
		return -EFAULT;
	struct hfile *f = fdtab__get(&c->vm->fds, (int)a[0]);
	if (!f)
		return -EBADF;
	long r = timerfd_gettime(f->host, &cur) < 0 ? -errno : 0;
	fdtab__put(&c->vm->fds, f);
	return RESULT_TO_GUEST(c->vm, r, a[1], &cur);
}
