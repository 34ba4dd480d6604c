/* workloads/common/guestio.c: report destination and stop sources of the self-driving guest
 * programs (see guestio.h). */
#include "workloads/common/guestio.h"

#include "lib/clock.h"
#include "lib/num.h"
#include "lib/stop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

FILE *guestio_connect(const char *hostport, char *err, size_t errlen)
{
	char host[64];
	const char *colon = strrchr(hostport, ':');
	int port = 0;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	if (!colon || colon == hostport || (size_t)(colon - hostport) >= sizeof(host) ||
	    num_int(colon + 1, 1, 65535, &port) < 0) {
		snprintf(err, errlen, "--report: expected HOST:PORT, got '%s'", hostport);
		return NULL;
	}
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = 0;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		snprintf(err, errlen, "--report: '%s' is not an IPv4 address", host);
		return NULL;
	}
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, errlen, "--report: cannot connect to %s: %s", hostport,
		         strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		snprintf(err, errlen, "--report: %s", strerror(errno));
		close(fd);
	}
	return f;
}

static void fire(struct guestio_stop *s)
{
	atomic_store(&s->stop, 1);
	sem_post(&s->wake); /* async-signal-safe */
}

/* The hook of lib/stop.h: SIGTERM/SIGINT (async-signal-safe, and idempotent as a hook must be). */
static void on_stop(void *arg)
{
	fire(arg);
}

/* Reads stdin line by line; "stop" stops, EOF stops when eof_stops. Never returns otherwise. */
static void *reader(void *arg)
{
	struct guestio_stop *s = arg;
	char line[256];
	size_t len = 0;
	for (;;) {
		char c;
		ssize_t n = read(0, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (s->eof_stops)
				fire(s);
			return NULL;
		}
		if (c != '\n') {
			if (len < sizeof(line) - 1)
				line[len++] = c;
			continue;
		}
		while (len && line[len - 1] == '\r')
			len--;
		line[len] = 0;
		len = 0;
		if (!strcmp(line, "stop")) {
			fire(s);
			return NULL;
		}
	}
}

int guestio_stop_start(struct guestio_stop *s, bool eof_stops, char *err, size_t errlen)
{
	atomic_init(&s->stop, 0);
	s->eof_stops = eof_stops;
	if (sem_init(&s->wake, 0, 0)) {
		snprintf(err, errlen, "sem_init: %s", strerror(errno));
		return -1;
	}
	if (stop_install()) {
		snprintf(err, errlen, "cannot install the signal handlers: %s", strerror(errno));
		return -1;
	}
	stop_on_request(on_stop, s);
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 64 * 1024);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_t t;
	int rc = pthread_create(&t, &at, reader, s);
	pthread_attr_destroy(&at);
	if (rc) {
		snprintf(err, errlen, "cannot start the stdin reader: %s", strerror(rc));
		return -1;
	}
	return 0;
}

bool guestio_stopped(struct guestio_stop *s)
{
	return atomic_load_explicit(&s->stop, memory_order_relaxed) != 0;
}

bool guestio_wait_until(struct guestio_stop *s, int64_t deadline_ns)
{
	struct timespec ts = ns_to_timespec(deadline_ns);
	while (!guestio_stopped(s)) {
		if (sem_clockwait(&s->wake, CLOCK_MONOTONIC, &ts) == 0)
			sem_post(&s->wake); /* leave it for other waiters */
		else if (errno == ETIMEDOUT)
			break;
	}
	return guestio_stopped(s);
}
