/* lib/clock.h: monotonic time. One now_ns() for every program: CLOCK_MONOTONIC in nanoseconds (the
 * clock the report lines' guest_ns/host_ns fields, the load engine's schedule and the servers' idle
 * timeouts are all on). Under vcons-hv this is the guest's clock (its vDSO or a system call). */
#ifndef LIB_CLOCK_H
#define LIB_CLOCK_H
#include <stdint.h>
#include <time.h>

int64_t now_ns(void);
/* The timespec of a CLOCK_MONOTONIC instant in nanoseconds (for clock_nanosleep, sem_clockwait). */
struct timespec ns_to_timespec(int64_t ns);

#endif
