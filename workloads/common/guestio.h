/* workloads/common/guestio.h: the plumbing the self-driving guest programs (vcons-jbb, vcons-idle)
 * share: where report lines go (stdout, or a TCP connection to the harness with --report
 * HOST:PORT) and how a run is told to stop.
 *
 * Contract, stopping: guestio_stop_start() starts one reader thread on stdin and installs
 * SIGTERM/SIGINT handlers (lib/stop.h, whose hook it sets). A line "stop" on stdin always stops;
 * end of file on stdin stops only when eof_stops is true (the programs pass "--duration is 0", so a
 * by-hand run with --duration and stdin on /dev/null is not stopped at once); either signal stops.
 * guestio_stopped() is a cheap flag read for compute loops; guestio_wait_until() sleeps until a
 * CLOCK_MONOTONIC deadline or a stop, whichever comes first. Under vcons-hv a signal to the VMM
 * ends the whole VM (exit 128+N) instead: closing stdin is the in-band stop there. One stop object
 * per process (lib/stop.h has one hook). */
#ifndef WORKLOADS_COMMON_GUESTIO_H
#define WORKLOADS_COMMON_GUESTIO_H
#include "lib/opt.h"

#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The options every self-driving guest program takes, written once: entries of its lib/opt.h table
 * like lib/opt.h's own, { GUESTIO_OPT_DURATION(&duration_s) }, { GUESTIO_OPT_CSU(&csu) } and
 * { GUESTIO_OPT_REPORT(&report) }. */
#define GUESTIO_OPT_DURATION(p)                                                                    \
	OPT_DOUBLE("duration", p, 0, 1e7), .arg = "S", .help = "run S seconds",                    \
	                                   .def = "0 = until stopped"
#define GUESTIO_OPT_CSU(p)                                                                         \
	OPT_INT("csu", p, 0, 1000000), .help = "CSU number written in every report line", .def = "0"
#define GUESTIO_OPT_REPORT(p)                                                                      \
	OPT_STRING("report", p), .arg = "HOST:PORT",                                               \
	                         .help = "write report lines to this TCP address, not stdout"

/* Connects to HOST:PORT (IPv4 dotted quad) over TCP; returns a stream for report lines, or NULL
 * with a message in err. */
FILE *guestio_connect(const char *hostport, char *err, size_t errlen);

struct guestio_stop {
	atomic_int stop; /* 1 once any stop source fired */
	bool eof_stops;
	sem_t wake; /* posted by every stop source */
};

/* 0, or -1 with a message in err when the reader thread cannot start. */
int guestio_stop_start(struct guestio_stop *s, bool eof_stops, char *err, size_t errlen);
bool guestio_stopped(struct guestio_stop *s);
/* Sleeps until deadline_ns (CLOCK_MONOTONIC, now_ns() scale) or a stop; true when stopped.
 */
bool guestio_wait_until(struct guestio_stop *s, int64_t deadline_ns);

#endif
