/* Guest test: system calls whose arguments in memory another thread rewrites while the call runs.
 * Linux copies a guest structure once, so every result is one it could give for some state of that
 * memory; a handler that reads the structure twice (check, then use) can see two states. argv[1]
 * names the mode: recvmsg, sendmsg, ppoll, futex, rt_sigaction, or all (each in turn). Each mode
 * makes raw calls (no glibc wrapper copies anything first) for MAX_CALLS calls or MAX_NS of the
 * clock, whichever ends first, checks every result against the set Linux may give, and prints one
 * line: "MODE: ok", or "MODE: unexpected result R errno E (NAME)" and exits 1. The counts of each
 * result vary from run to run: they go to stderr. */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000 /* the kernel's: glibc sets it itself and does not export it */
#endif

#define MAX_CALLS 500000
#define MAX_NS    2000000000LL /* the wall-clock cap of one mode */
#define DGRAM     32           /* bytes of each datagram the recvmsg mode receives */
#define NIOV      1024         /* valid iovecs: msg_iovlen up to 1000 reads only valid ones */
#define IOV_BYTES 8            /* each iovec's length */

/* Bad pointers: one in the never-mapped first page, one past the end of user space (unmapped
 * natively, outside guest RAM under hv). */
#define BAD_LOW ((uintptr_t)0x10)
#define BAD_TOP ((uintptr_t)0x7ffffffff000)

static const char *mode;
static atomic_int stop;
static long n_calls, n_ok, n_err[256];

static int64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void fail(const char *what, int err)
{
	printf("%s: set-up failed: %s (%s)\n", mode, what, strerror(err));
	exit(1);
}

static const char *err_name(int e)
{
	switch (e) {
	case 0: return "ok";
	case EFAULT: return "EFAULT";
	case EINVAL: return "EINVAL";
	case EMSGSIZE: return "EMSGSIZE";
	case EAGAIN: return "EAGAIN";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EINTR: return "EINTR";
	case ENOBUFS: return "ENOBUFS";
	case EBADF: return "EBADF";
	case ENOSYS: return "ENOSYS";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EDESTADDRREQ: return "EDESTADDRREQ";
	case ENETUNREACH: return "ENETUNREACH";
	default: return "?";
	}
}

/* Counts one result. `ok` says whether a non-negative r is a result Linux may give; `allowed` lists
 * the errors it may give (0-terminated). Anything else ends the program. */
static void check(long r, int err, int ok, const int *allowed)
{
	n_calls++;
	if (r >= 0 && ok) {
		n_ok++;
		return;
	}
	if (r < 0)
		for (const int *a = allowed; *a; a++)
			if (err == *a) {
				n_err[err & 255]++;
				return;
			}
	printf("%s: unexpected result %ld errno %d (%s)\n", mode, r, r < 0 ? err : 0,
	       r < 0 ? err_name(err) : "none");
	(void)fflush(stdout);
	exit(1);
}

static void report(void)
{
	fprintf(stderr, "%s: %ld calls: ok %ld", mode, n_calls, n_ok);
	for (int e = 1; e < 256; e++)
		if (n_err[e])
			fprintf(stderr, ", %s %ld", err_name(e), n_err[e]);
	fprintf(stderr, "\n");
	printf("%s: ok\n", mode);
	(void)fflush(stdout);
}

/* xorshift64: the flippers' choices. */
static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The flipper: calls flip(random) until the mode ends, as fast as it can. */
static void (*flip)(uint64_t x);
static void *flipper(void *arg)
{
	uint64_t s = 0x9e3779b97f4a7c15ULL;
	while (!atomic_load_explicit(&stop, memory_order_relaxed))
		flip(next(&s));
	return arg;
}

/* Starts `helper` (the mode's waker or sender, or none) and the flipper, runs `call` until the
 * budget is spent, stops both threads and reports. */
static void run(void (*call)(void), void *(*helper)(void *))
{
	pthread_t th, tf;
	int rc;
	n_calls = n_ok = 0;
	memset(n_err, 0, sizeof(n_err));
	atomic_store(&stop, 0);
	if (helper && (rc = pthread_create(&th, NULL, helper, NULL)))
		fail("pthread_create", rc);
	if ((rc = pthread_create(&tf, NULL, flipper, NULL)))
		fail("pthread_create", rc);
	int64_t end = now_ns() + MAX_NS;
	for (long i = 0; i < MAX_CALLS && now_ns() < end; i++)
		call();
	atomic_store(&stop, 1);
	pthread_join(tf, NULL);
	if (helper)
		pthread_join(th, NULL);
	report();
}

static void pause_us(long us)
{
	struct timespec t = { 0, us * 1000 };
	nanosleep(&t, NULL);
}

/* ---- recvmsg and sendmsg: the msghdr ---- */

static int sock;
static struct sockaddr_in self;    /* the socket's own address */
static struct sockaddr_storage nm; /* msg_name's valid buffer: 128 bytes */
static struct iovec iovs[NIOV];
static char data[NIOV][IOV_BYTES];
static struct msghdr mh;

static int udp_socket(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0)
		fail("socket", errno);
	return s;
}

static void msg_setup(void)
{
	sock = udp_socket();
	self = (struct sockaddr_in){ .sin_family = AF_INET,
		                     .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(self);
	if (bind(sock, (struct sockaddr *)&self, sizeof(self)) ||
	    getsockname(sock, (struct sockaddr *)&self, &len))
		fail("bind", errno);
	/* a safety net: recvmsg gives up after 200 ms when no datagram came (EAGAIN) */
	struct timeval tv = { 0, 200000 };
	(void)setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (int i = 0; i < NIOV; i++)
		iovs[i] = (struct iovec){ data[i], IOV_BYTES };
	memset(&nm, 0, sizeof(nm));
	memcpy(&nm, &self, sizeof(self));
	mh = (struct msghdr){
		.msg_name = &nm, .msg_namelen = sizeof(self), .msg_iov = iovs, .msg_iovlen = 1
	};
}

/* msg_name: valid, NULL, BAD_LOW, BAD_TOP; msg_namelen: 0, 16, 128, huge (negative as an int, and
 * positive); msg_iovlen: 1, 65, 1000 (Linux takes up to 1024), 100000; msg_iov: valid, BAD_LOW,
 * BAD_TOP. Valid values come up more often, so that more calls get past the checks (under hv, which
 * refuses more than 64 iovecs, too) and into the call while the fields go on changing. */
static void flip_msg(uint64_t x)
{
	static void *const names[] = { &nm, &nm, NULL, (void *)BAD_LOW, (void *)BAD_TOP };
	static const socklen_t namelens[] = { 0,
		                              sizeof(struct sockaddr_in),
		                              sizeof(struct sockaddr_in),
		                              sizeof(struct sockaddr_storage),
		                              0xffffffffu,
		                              0x40000000u };
	static const size_t iovlens[] = { 1, 1, 1, 65, 1000, 100000 };
	static struct iovec *const iovps[] = { iovs, iovs, (struct iovec *)BAD_LOW,
		                               (struct iovec *)BAD_TOP };
	volatile struct msghdr *m = &mh;
	uint64_t v = x >> 8;
	switch (x % 4) {
	case 0: m->msg_name = names[v % 5]; break;
	case 1: m->msg_namelen = namelens[v % 6]; break;
	case 2: m->msg_iovlen = iovlens[v % 6]; break;
	default: m->msg_iov = iovps[v % 4]; break;
	}
}

static void *sender(void *arg)
{
	int s = udp_socket();
	char buf[DGRAM];
	memset(buf, 'd', sizeof(buf));
	while (!atomic_load(&stop)) {
		(void)sendto(s, buf, sizeof(buf), 0, (struct sockaddr *)&self, sizeof(self));
		pause_us(200);
	}
	close(s);
	return arg;
}

/* recvmsg: a datagram's DGRAM bytes, or IOV_BYTES of them into one iovec; EFAULT (a bad iovec
 * array or name, the latter after the datagram was taken), EINVAL (a negative msg_namelen),
 * EMSGSIZE (msg_iovlen past 1024; past 64 under hv, which takes no more), EAGAIN (SO_RCVTIMEO),
 * EINTR. The queue is emptied first, so that a call that gets past its checks waits for the
 * sender's next datagram while the flipper rewrites the msghdr. */
static void call_recvmsg(void)
{
	static const int allowed[] = { EFAULT, EINVAL, EMSGSIZE, EAGAIN, EINTR, 0 };
	char buf[DGRAM];
	while (recv(sock, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	long r = syscall(SYS_recvmsg, sock, &mh, 0);
	check(r, errno, r == DGRAM || r == IOV_BYTES, allowed);
}

/* sendmsg (to its own address, on a socket connected to itself, so that a NULL name is valid):
 * IOV_BYTES times the iovec count it read; EFAULT, EINVAL (a name length out of range; hv refuses
 * what Linux clamps), EMSGSIZE, ENOBUFS, EINTR. One datagram is drained after each call. */
static void call_sendmsg(void)
{
	static const int allowed[] = { EFAULT, EINVAL, EMSGSIZE, ENOBUFS, EAGAIN, EINTR, 0 };
	long r = syscall(SYS_sendmsg, sock, &mh, 0);
	check(r, errno, r > 0 && r % IOV_BYTES == 0 && r <= 1000 * IOV_BYTES, allowed);
	char buf[1000 * IOV_BYTES];
	(void)recv(sock, buf, sizeof(buf), MSG_DONTWAIT);
}

static void mode_recvmsg(void)
{
	msg_setup();
	flip = flip_msg;
	run(call_recvmsg, sender);
	close(sock);
}

static void mode_sendmsg(void)
{
	msg_setup();
	if (connect(sock, (struct sockaddr *)&self, sizeof(self)))
		fail("connect", errno);
	flip = flip_msg;
	run(call_sendmsg, NULL);
	close(sock);
}

/* ---- ppoll: the pollfd array and the timeout ---- */

static int wake[2]; /* a pipe the waker writes to, so that ppoll wakes */
static struct pollfd pfds[3];
static struct timespec pts;

/* pfds[0] stays the pipe's read end (so every wait ends); pfds[1] and [2]: fd the read end, the
 * write end, -1 or a closed fd; events 0, POLLIN, POLLOUT, both; the timeout: tv_sec 0 or -1,
 * tv_nsec 0, 0.1 ms, 2 ms, 999999999, 1000000000 or -1. */
static void flip_poll(uint64_t x)
{
	static const long nsecs[] = { 0, 100000, 2000000, 999999999, 1000000000, -1 };
	static const short events[] = { 0, POLLIN, POLLOUT, POLLIN | POLLOUT };
	volatile struct pollfd *p = &pfds[1 + (x >> 4) % 2];
	volatile struct timespec *t = &pts;
	uint64_t v = x >> 8;
	switch (x % 4) {
	case 0: p->fd = (int[]){ wake[0], wake[1], -1, 999 }[v % 4]; break;
	case 1: p->events = events[v % 4]; break;
	case 2: t->tv_nsec = nsecs[v % 6]; break;
	default: t->tv_sec = v % 3 ? 0 : -1; break;
	}
}

static void *pipe_waker(void *arg)
{
	while (!atomic_load(&stop)) {
		(void)!write(wake[1], "w", 1);
		pause_us(500);
	}
	return arg;
}

/* ppoll: 0 to 3 ready entries; EINVAL (an invalid timeout), EINTR. */
static void call_ppoll(void)
{
	static const int allowed[] = { EINVAL, EINTR, 0 };
	long r = syscall(SYS_ppoll, pfds, 3, &pts, NULL, 8);
	check(r, errno, r <= 3, allowed);
	char buf[256];
	while (read(wake[0], buf, sizeof(buf)) > 0)
		;
}

static void mode_ppoll(void)
{
	if (pipe2(wake, O_NONBLOCK))
		fail("pipe2", errno);
	close(999); /* the closed fd (not open in any case) */
	pfds[0] = (struct pollfd){ wake[0], POLLIN, 0 };
	pfds[1] = (struct pollfd){ wake[0], POLLIN, 0 };
	pfds[2] = (struct pollfd){ -1, 0, 0 };
	pts = (struct timespec){ 0, 100000 };
	flip = flip_poll;
	run(call_ppoll, pipe_waker);
	close(wake[0]);
	close(wake[1]);
}

/* ---- futex: FUTEX_WAIT's timeout ---- */

static uint32_t fword; /* stays 0: every FUTEX_WAIT(0) sleeps until woken or timed out */
static struct timespec fts;
static _Atomic uintptr_t ftmo; /* the timeout pointer of the next call */

/* the timeout: tv_sec 0 or -1; tv_nsec 50 us, 1 ms, 1000000000 or -1; the pointer (read by the
 * caller before each call): the timespec, NULL (no timeout), BAD_LOW or BAD_TOP. */
static void flip_futex(uint64_t x)
{
	static const long nsecs[] = { 50000, 1000000, 1000000000, -1 };
	static const uintptr_t bad[] = { 0, BAD_LOW, BAD_TOP };
	volatile struct timespec *t = &fts;
	uint64_t v = x >> 8;
	switch (x % 8) {
	case 0:
	case 1:
	case 2: t->tv_nsec = nsecs[v % 4]; break;
	case 3:
	case 4:
	case 5: t->tv_sec = v % 4 ? 0 : -1; break;
	case 6: atomic_store_explicit(&ftmo, (uintptr_t)&fts, memory_order_relaxed); break;
	default: atomic_store_explicit(&ftmo, bad[v % 3], memory_order_relaxed); break;
	}
}

static void *futex_waker(void *arg)
{
	while (!atomic_load(&stop)) {
		(void)syscall(SYS_futex, &fword, FUTEX_WAKE, 1, NULL, NULL, 0);
		pause_us(300);
	}
	return arg;
}

/* futex(FUTEX_WAIT): 0 (woken); ETIMEDOUT, EINVAL (an invalid timeout), EFAULT (a bad timeout
 * pointer), EAGAIN, EINTR. */
static void call_futex(void)
{
	static const int allowed[] = { ETIMEDOUT, EINVAL, EFAULT, EAGAIN, EINTR, 0 };
	uintptr_t t = atomic_load_explicit(&ftmo, memory_order_relaxed);
	long r = syscall(SYS_futex, &fword, FUTEX_WAIT, 0, t, NULL, 0);
	check(r, errno, r == 0, allowed);
}

static void mode_futex(void)
{
	fts = (struct timespec){ 0, 50000 };
	atomic_store(&ftmo, (uintptr_t)&fts);
	flip = flip_futex;
	run(call_futex, futex_waker);
}

/* ---- rt_sigaction: the kernel's struct sigaction ---- */

struct ksigaction {
	uint64_t handler, flags, restorer, mask;
};

/* Two real restorers (rt_sigreturn), so that a handler is always installed with one; SIGUSR1 is
 * never raised, so neither runs. */
void t_race_restorer_a(void);
void t_race_restorer_b(void);
__asm__(".text\n"
        ".globl t_race_restorer_a\n"
        ".globl t_race_restorer_b\n"
        "t_race_restorer_a:\n"
        "\tmov $15, %eax\n"
        "\tsyscall\n"
        "\thlt\n"
        "t_race_restorer_b:\n"
        "\tmov $15, %eax\n"
        "\tsyscall\n"
        "\thlt\n");

static void on_usr1(int sig)
{
	(void)sig;
}

static struct ksigaction act, oldact;
static _Atomic uintptr_t act_p, old_p; /* the pointers of the next call */

/* act's handler: SIG_DFL, SIG_IGN or on_usr1; flags: always SA_RESTORER, with SA_SIGINFO,
 * SA_RESTART|SA_NODEFER or SA_ONSTACK; restorer: one of the two; mask: none, all, SIGUSR2, SIGKILL
 * (which Linux drops). The pointers (read by the caller before each call): act mostly &act, else
 * NULL or BAD_LOW; oldact &oldact, NULL, BAD_LOW or BAD_TOP. */
static void flip_sigaction(uint64_t x)
{
	static const uint64_t flags[] = { SA_RESTORER, SA_RESTORER | SA_SIGINFO,
		                          SA_RESTORER | SA_RESTART | SA_NODEFER,
		                          SA_RESTORER | SA_ONSTACK };
	static const uint64_t masks[] = { 0, ~0ULL, 1ULL << (SIGUSR2 - 1), 1ULL << (SIGKILL - 1) };
	static void (*const handlers[])(int) = { SIG_DFL, SIG_IGN, on_usr1 };
	static void *const acts[] = { &act, &act, &act, NULL, (void *)BAD_LOW };
	static void *const olds[] = { &oldact, NULL, (void *)BAD_LOW, (void *)BAD_TOP };
	volatile struct ksigaction *a = &act;
	uint64_t v = x >> 8;
	switch (x % 8) {
	case 0:
	case 1: a->handler = (uint64_t)(uintptr_t)handlers[v % 3]; break;
	case 2: a->flags = flags[v % 4]; break;
	case 3:
		a->restorer = v % 2 ? (uint64_t)(uintptr_t)t_race_restorer_a
		                    : (uint64_t)(uintptr_t)t_race_restorer_b;
		break;
	case 4:
	case 5: a->mask = masks[v % 4]; break;
	case 6: atomic_store_explicit(&act_p, (uintptr_t)acts[v % 5], memory_order_relaxed); break;
	default: atomic_store_explicit(&old_p, (uintptr_t)olds[v % 4], memory_order_relaxed); break;
	}
}

/* rt_sigaction(SIGUSR1, act, oldact, 8): 0; EFAULT (a bad act or oldact). */
static void call_sigaction(void)
{
	static const int allowed[] = { EFAULT, 0 };
	uintptr_t a = atomic_load_explicit(&act_p, memory_order_relaxed);
	uintptr_t o = atomic_load_explicit(&old_p, memory_order_relaxed);
	long r = syscall(SYS_rt_sigaction, SIGUSR1, a, o, 8);
	check(r, errno, r == 0, allowed);
}

static void mode_sigaction(void)
{
	act = (struct ksigaction){ (uint64_t)(uintptr_t)SIG_IGN, SA_RESTORER,
		                   (uint64_t)(uintptr_t)t_race_restorer_a, 0 };
	atomic_store(&act_p, (uintptr_t)&act);
	atomic_store(&old_p, (uintptr_t)&oldact);
	flip = flip_sigaction;
	run(call_sigaction, NULL);
	struct ksigaction dfl = { (uint64_t)(uintptr_t)SIG_DFL, SA_RESTORER,
		                  (uint64_t)(uintptr_t)t_race_restorer_a, 0 };
	if (syscall(SYS_rt_sigaction, SIGUSR1, &dfl, NULL, 8))
		fail("rt_sigaction", errno);
}

/* Runs the mode NAME when WANT names it or "all". */
static int run_mode(const char *want, const char *name, void (*fn)(void))
{
	if (strcmp(want, "all") && strcmp(want, name))
		return 0;
	mode = name;
	fn();
	return 1;
}

int main(int argc, char **argv)
{
	const char *want = argc > 1 ? argv[1] : "";
	int found = run_mode(want, "recvmsg", mode_recvmsg);
	found |= run_mode(want, "sendmsg", mode_sendmsg);
	found |= run_mode(want, "ppoll", mode_ppoll);
	found |= run_mode(want, "futex", mode_futex);
	found |= run_mode(want, "rt_sigaction", mode_sigaction);
	if (!found) {
		fprintf(stderr, "usage: t_race recvmsg|sendmsg|ppoll|futex|rt_sigaction|all\n");
		return 2;
	}
	return 0;
}
