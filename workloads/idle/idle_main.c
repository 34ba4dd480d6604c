/* workloads/idle/idle_main.c: vcons-idle, the idle VM of a CSU. One thread sleeps to absolute
 * ticks of CLOCK_MONOTONIC (default 100 Hz, like an idle guest kernel's timer tick), records how
 * late each wake-up is, skips ticks it missed, and prints one JSON "interval" line per report
 * interval. A second thread only blocks in read() on stdin (the in-band stop). */
#include "workloads/common/guestio.h"
#include "workloads/common/hdr.h"
#include "workloads/common/report.h"
#include "lib/clock.h"
#include "lib/opt.h"

#include <errno.h>
#include <string.h>
#include <time.h>

struct idle_cfg {
	int hz;
	double duration_s, interval_s;
	int csu;
	const char *report;
};

struct idle_state {
	struct hdr lateness; /* this interval's wake-up lateness, us */
	uint64_t wakeups, wakeups_total, missed, missed_total;
};

/* OPT_RUN, or the exit status after --help or a bad command line */
static int parse(int argc, char **argv, struct idle_cfg *c)
{
	const struct opt opts[] = {
		{ OPT_INT("hz", &c->hz, 1, 10000), .help = "wake-ups per second", .def = "100" },
		{ GUESTIO_OPT_DURATION(&c->duration_s) },
		{ OPT_DOUBLE("interval", &c->interval_s, 0.01, 3600), .arg = "S",
		  .help = "report interval in seconds", .def = "1" },
		{ GUESTIO_OPT_CSU(&c->csu) },
		{ GUESTIO_OPT_REPORT(&c->report) },
		OPT_END,
	};
	struct opt_cmd cmd = {
		.prog = "vcons-idle",
		.about = "  the idle VM: wakes up periodically, reports how late each wake-up is\n",
		.footer =
		    "Stops on a line 'stop' on stdin, on end of stdin when --duration is 0, on\n"
		    "SIGTERM/SIGINT, or when --duration has elapsed; the last interval line has "
		    "\"final\":true.\n",
		.opts = opts,
	};
	return opt_parse(&cmd, argc, argv);
}

static int report_interval(FILE *out, const struct idle_cfg *c, struct idle_state *st, bool final)
{
	json_t *l = report_new("interval", "idle", c->csu, "guest_ns");
	if (!l)
		return -1;
	json_object_set_new(l, "hz", json_integer(c->hz));
	json_object_set_new(l, "wakeups", json_integer((json_int_t)st->wakeups));
	json_object_set_new(l, "wakeups_total", json_integer((json_int_t)st->wakeups_total));
	json_object_set_new(l, "missed", json_integer((json_int_t)st->missed));
	json_object_set_new(l, "missed_total", json_integer((json_int_t)st->missed_total));
	hdr_summary_to_json(&st->lateness, l);
	json_object_set_new(l, "hist", hdr_to_json(&st->lateness));
	if (final)
		json_object_set_new(l, "final", json_true());
	st->wakeups = st->missed = 0;
	hdr_reset(&st->lateness);
	return report_write(out, l);
}

/* The tick loop: returns 0 when stopped, 1 when a report could not be written. */
static int run(FILE *out, const struct idle_cfg *c, struct guestio_stop *stop,
               struct idle_state *st)
{
	const int64_t period = 1000000000 / c->hz;
	const int64_t interval = (int64_t)(c->interval_s * 1e9);
	int64_t start = now_ns();
	int64_t end = c->duration_s > 0 ? start + (int64_t)(c->duration_s * 1e9) : INT64_MAX;
	int64_t tick = start + period, next_report = start + interval;
	while (!guestio_stopped(stop)) {
		struct timespec ts = ns_to_timespec(tick);
		int rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		if (rc == EINTR)
			continue; /* a stop signal, or a spurious wake: re-check */
		int64_t now = now_ns();
		int64_t late = now - tick;
		hdr_record_ns(&st->lateness, late);
		st->wakeups++, st->wakeups_total++;
		int64_t skipped = late / period; /* ticks that passed while we were late */
		st->missed += (uint64_t)skipped, st->missed_total += (uint64_t)skipped;
		tick += (skipped + 1) * period;
		if (now >= end)
			break;
		if (now >= next_report) {
			if (report_interval(out, c, st, false))
				return 1;
			while (next_report <= now)
				next_report += interval;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct idle_cfg c = { .hz = 100, .duration_s = 0, .interval_s = 1, .csu = 0 };
	int rc = parse(argc, argv, &c);
	if (rc != OPT_RUN)
		return rc;
	char err[256];
	FILE *out = stdout;
	if (c.report && !(out = guestio_connect(c.report, err, sizeof(err)))) {
		fprintf(stderr, "vcons-idle: %s\n", err);
		return 1;
	}
	struct idle_state st = { 0 };
	struct guestio_stop stop;
	if (hdr_init(&st.lateness)) {
		fprintf(stderr, "vcons-idle: out of memory\n");
		return 1;
	}
	if (guestio_stop_start(&stop, c.duration_s == 0, err, sizeof(err))) {
		fprintf(stderr, "vcons-idle: %s\n", err);
		return 1;
	}
	json_t *l = report_new("start", "idle", c.csu, "guest_ns");
	json_object_set_new(l, "hz", json_integer(c.hz));
	json_object_set_new(l, "interval_s", json_real(c.interval_s));
	json_object_set_new(l, "duration_s", json_real(c.duration_s));
	if (report_write(out, l) || run(out, &c, &stop, &st) ||
	    report_interval(out, &c, &st, true)) {
		fprintf(stderr, "vcons-idle: cannot write a report line\n");
		return 1;
	}
	hdr_fini(&st.lateness);
	(void)fclose(out);
	return 0;
}
