/* workloads/common/report.h: one-JSON-object-per-line report writing (jansson), shared by every
 * vcons program that reports to the harness.
 *
 * Contract: report_new() starts a line with the fields every report carries: "type", "role", "csu"
 * and one clock reading named for its clock ("host_ns" for host programs, "guest_ns" for programs
 * in a VM; both CLOCK_MONOTONIC). report_write() prints the object compactly on one line, flushes,
 * and releases it; lines from several threads never interleave (the FILE lock is held). */
#ifndef WORKLOADS_COMMON_REPORT_H
#define WORKLOADS_COMMON_REPORT_H
#include "lib/clock.h"

#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

/* clock_field: "host_ns" or "guest_ns". Returns a new object, NULL when out of memory. */
json_t *report_new(const char *type, const char *role, int csu, const char *clock_field);
/* Writes and releases line (NULL is an error). 0, or -1 when it could not be written. */
int report_write(FILE *f, json_t *line);

#endif
