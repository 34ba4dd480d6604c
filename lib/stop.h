/* lib/stop.h: the stop sources of a program: SIGTERM and SIGINT ask it to stop. One process-wide
 * stop request, which servers and self-driven programs poll (a flag), sleep on (an eventfd), or
 * are woken by (a hook).
 *
 * Contract: stop_install() installs handlers for SIGTERM and SIGINT (without SA_RESTART: a blocked
 * call returns EINTR) and makes the eventfd; 0, or -1 with errno. stop_request() does what the
 * handler does and may be called from anywhere, a signal handler included (it is async-signal-safe:
 * an atomic store, a write(2) to the eventfd, the hook): it sets the flag, makes stop_fd() readable
 * (it stays readable), and calls the hook. stop_on_request(fn, arg) sets the one hook; when a stop
 * was requested already it calls fn(arg) at once, so a signal that came before the hook was set is
 * not lost (a hook may thus run twice: it must be idempotent, and async-signal-safe). Clear it with
 * stop_on_request(NULL, NULL) before what arg points to goes away. stop_flag() is the flag itself,
 * for code that takes a `const atomic_int *` (1 once a stop was requested); stop_requested() reads
 * it. */
#ifndef LIB_STOP_H
#define LIB_STOP_H
#include <stdatomic.h>
#include <stdbool.h>

int stop_install(void);
void stop_request(void);
bool stop_requested(void);
const atomic_int *stop_flag(void);
int stop_fd(void); /* -1 before stop_install() */
void stop_on_request(void (*fn)(void *), void *arg);

#endif
