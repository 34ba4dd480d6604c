/* model/infra.c: the infrastructure part of a verdict (see infra.h). */
#include "model/infra.h"
#include "lib/json.h"
#include "model/score.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static double measured_s(const struct run_rules *r)
{
	return r->intervals * r->interval_s;
}

int infra__interval(const struct run_rules *r, double start_s)
{
	if (!(start_s >= 0) || start_s >= measured_s(r) || r->interval_s <= 0)
		return -1;
	int k = (int)floor(start_s / r->interval_s);
	return k < r->intervals ? k : r->intervals - 1;
}

int infra__scheduled(const struct run_rules *r)
{
	if (r->infra.method == INFRA_NONE || r->infra.every_s <= 0)
		return 0;
	return (int)ceil(measured_s(r) / r->infra.every_s - 1e-9);
}

static void add_reason(json_t *reasons, const char *text)
{
	if (reasons)
		json_array_append_new(reasons, json_string(text));
}

/* One record's fields, checked for type: 0, or -1 when malformed. */
static int read_move(const json_t *m, int ncsus, int *csu, int *ok, double *start_s,
                     double *downtime_ms)
{
	json_t *c = json_object_get(m, "csu"), *k = json_object_get(m, "ok"),
	       *s = json_object_get(m, "start_s"), *d = json_object_get(m, "downtime_ms");
	if (!json_is_integer(c) || !json_is_boolean(k) || !json_is_number(s) ||
	    !json_is_number(d) || !jget_str(m, "vm", NULL))
		return -1;
	*csu = (int)json_integer_value(c);
	*ok = json_is_true(k);
	*start_s = json_number_value(s);
	*downtime_ms = json_number_value(d);
	return *csu >= 0 && *csu < ncsus ? 0 : -1;
}

int infra__judge(const json_t *result, const struct run_rules *r, int ncsus, struct infra_csu *out,
                 json_t *reasons)
{
	json_t *moves = json_object_get(result, "migrations"), *m;
	size_t i;
	char buf[512];
	memset(out, 0, sizeof(*out) * (size_t)(ncsus > 0 ? ncsus : 0));
	if (moves && !json_is_array(moves))
		return -1;
	json_array_foreach(moves, i, m)
	{
		int c, ok;
		double start, down;
		if (read_move(m, ncsus, &c, &ok, &start, &down) < 0)
			return -1;
		if (!ok) {
			snprintf(buf, sizeof(buf), "%s: its move at %.1f s failed: %s",
			         jget_str(m, "vm", "?"), start, jget_str(m, "error", "no reason"));
			add_reason(reasons, buf);
		}
		if (infra__interval(r, start) < 0)
			continue;
		out[c].moves++;
		out[c].ok += ok;
		out[c].within_limit += ok && down <= r->infra.downtime_limit_ms;
	}
	int due = infra__scheduled(r);
	for (int c = 0; c < ncsus; c++) {
		out[c].per_hour = score__infra(out[c].within_limit, measured_s(r), 1);
		out[c].normalized =
		    score__infra(out[c].within_limit, measured_s(r), r->infra.reference_per_hour);
		if (out[c].moves < due) {
			snprintf(buf, sizeof(buf),
			         "CSU %d: %d VM moves in the measurement, the rules schedule %d", c,
			         out[c].moves, due);
			add_reason(reasons, buf);
		}
	}
	return 0;
}
