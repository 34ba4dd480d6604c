/* harness/vmctl.h: the harness's client of a VMM's control socket (hv/control.h: one JSON object
 * per line each way, every answer with "ok"). Non-blocking use for the measurement loop (connect,
 * send, then read the answer as it arrives) and one blocking call for the phases around it. */
#ifndef HARNESS_VMCTL_H
#define HARNESS_VMCTL_H
#include <jansson.h>
#include <stddef.h>

struct vmctl_reader {
	char buf[4096];
	size_t len;
};

/* A connection to the socket at `path`, its reads non-blocking; -1 with errno (ENOENT or
 * ECONNREFUSED while the VMM is not listening yet). */
int vmctl__connect(const char *path);
/* Writes one command line (the newline added); 0 or -1. */
int vmctl__send(int fd, const char *line);
/* 1 with *reply (a new reference; NULL when the line was not a JSON object) once a whole line
 * has arrived, 0 while it has not, -1 when the connection ended or failed without one. */
int vmctl__read(int fd, struct vmctl_reader *rd, json_t **reply);
/* Connects, sends `line` and waits up to timeout_ms for the answer: it, or NULL with one line in
 * err. The answer may say "ok": false; the caller reads it. */
json_t *vmctl__call(const char *path, const char *line, int timeout_ms, char *err, size_t errlen);

#endif
