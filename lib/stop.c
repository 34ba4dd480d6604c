/* lib/stop.c: SIGTERM/SIGINT as a stop request: a flag, an eventfd and a hook (see stop.h). The
 * flag and hook are lock-free atomics, so a handler may touch them from any thread (C11 7.14.1.1).
 */
#include "lib/stop.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

static atomic_int requested;
static atomic_int event_fd = -1;
static void (*_Atomic hook_fn)(void *);
static _Atomic(void *) hook_arg;

void stop_request(void)
{
	int saved = errno;
	atomic_store(&requested, 1);
	int fd = atomic_load(&event_fd);
	if (fd >= 0) {
		uint64_t one = 1;
		ssize_t n = write(fd, &one, sizeof(one)); /* fails only when the counter is full */
		(void)n;
	}
	void (*fn)(void *) = atomic_load(&hook_fn);
	if (fn)
		fn(atomic_load(&hook_arg));
	errno = saved;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_request();
}

int stop_install(void)
{
	if (atomic_load(&event_fd) < 0) {
		int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fd < 0)
			return -1;
		atomic_store(&event_fd, fd);
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL))
		return -1;
	return 0;
}

bool stop_requested(void)
{
	return atomic_load_explicit(&requested, memory_order_relaxed) != 0;
}

const atomic_int *stop_flag(void)
{
	return &requested;
}

int stop_fd(void)
{
	return atomic_load(&event_fd);
}

void stop_on_request(void (*fn)(void *), void *arg)
{
	atomic_store(&hook_fn, NULL);
	atomic_store(&hook_arg, arg);
	atomic_store(&hook_fn, fn);
	if (fn && atomic_load(&requested)) /* a request before the hook was set */
		fn(arg);
}
