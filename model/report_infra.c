/* model/report_infra.c: VM moves on the interval timeline, HTML and text (see report_infra.h). */
#include "model/report_infra.h"
#include "lib/json.h"
#include "model/htmlpage.h"
#include "model/infra.h"
#include "model/rules.h"
#include "model/svg.h"

#include <math.h>
#include <string.h>

/* The measurement's shape from the recorded rules; 0 when the result has no moves to show. */
static int timeline(const json_t *res, struct run_rules *r)
{
	char err[256];
	return json_array_size(json_object_get(res, "migrations")) > 0 &&
	       rules__from_json(json_object_get(res, "rules"), r, err, sizeof(err)) == 0 &&
	       r->intervals > 0 && r->interval_s > 0;
}

static const char *outcome(const json_t *m, double limit_ms)
{
	if (!json_is_true(json_object_get(m, "ok")))
		return "failed";
	return limit_ms > 0 && jget_num(m, "downtime_ms", 0) > limit_ms ? "over the limit" : "ok";
}

/* One row per CSU, the intervals as bands, each move a mark at its start (hover: its figures). */
static void svg_timeline(FILE *f, const json_t *res, const struct run_rules *r, int ncsus)
{
	const double total = r->intervals * r->interval_s, x0 = 70, w = 640, rowh = 28;
	const json_t *m;
	size_t i;
	double h = 30 + rowh * ncsus;
	fprintf(f,
	        "<svg class=\"chart\" id=\"moves-timeline\" width=\"%.0f\" height=\"%.0f\" "
	        "role=\"img\" aria-label=\"VM moves on the interval timeline\">\n",
	        x0 + w + 20, h);
	for (int k = 0; k < r->intervals; k++) {
		double x = x0 + w * k * r->interval_s / total;
		fprintf(f,
		        "<rect x=\"%.1f\" y=\"4\" width=\"%.1f\" height=\"%.0f\" fill=\"%s\" "
		        "stroke=\"#999\"><title>interval %d</title></rect>"
		        "<text x=\"%.1f\" y=\"%.0f\" font-size=\"11\">interval %d</text>\n",
		        x, w * r->interval_s / total, rowh * ncsus, k % 2 ? "#f4f4f4" : "#fafafa",
		        k, x + 3, rowh * ncsus + 18, k);
	}
	for (int c = 0; c < ncsus; c++)
		fprintf(f, "<text x=\"4\" y=\"%.0f\" font-size=\"12\">csu%d</text>\n",
		        4 + rowh * c + rowh / 2 + 4, c);
	json_array_foreach(json_object_get(res, "migrations"), i, m)
	{
		double s = jget_num(m, "start_s", NAN);
		int c = (int)jget_int(m, "csu", 0);
		if (!isfinite(s) || s < 0 || s > total || c < 0 || c >= ncsus)
			continue;
		const char *how = outcome(m, r->infra.downtime_limit_ms);
		double x = x0 + w * s / total, y = 4 + rowh * c + rowh / 2;
		fprintf(f,
		        "<g class=\"move\"><circle cx=\"%.1f\" cy=\"%.1f\" r=\"6\" fill=\"%s\"/>"
		        "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\">",
		        x, y, !strcmp(how, "ok") ? svg__color(2) : svg__color(3), x + 7, y - 6);
		html__esc(f, jget_str(m, "role", "?"));
		fputs("</text><title>", f);
		html__escf(f, "%s at %.1f s: %s, %.0f ms, downtime %.1f ms", jget_str(m, "vm", "?"),
		           s, how, jget_num(m, "total_ms", NAN), jget_num(m, "downtime_ms", NAN));
		fputs("</title></g>\n", f);
	}
	fputs("</svg>\n", f);
}

static void th(FILE *f, const char *const *cells)
{
	fputs("<tr>", f);
	for (int i = 0; cells[i]; i++) {
		fputs(i ? "<th>" : "<th class=\"l\">", f);
		html__esc(f, cells[i]);
		fputs("</th>", f);
	}
	fputs("</tr>\n", f);
}

static void td(FILE *f, double v, int prec)
{
	fputs("<td>", f);
	html__num(f, v, prec);
	fputs("</td>", f);
}

static void td_text(FILE *f, const char *s)
{
	fputs("<td class=\"l\">", f);
	html__esc(f, s);
	fputs("</td>", f);
}

void report__infra_html(FILE *f, const json_t *res)
{
	struct run_rules r;
	const json_t *m;
	size_t i;
	int ncsus = (int)json_array_size(json_object_get(json_object_get(res, "score"), "csus"));
	if (!timeline(res, &r))
		return;
	fputs("<h2 id=\"moves\">VM moves (infrastructure)</h2>\n<p class=\"note\">", f);
	html__escf(f,
	           "%s every %g s, one VM per CSU round-robin; downtime limit %g ms; weight %g "
	           "of a CSU's score. Green: within the limit; red: failed or over it.",
	           infra_method_name(r.infra.method), r.infra.every_s, r.infra.downtime_limit_ms,
	           r.infra.weight);
	fputs("</p>\n", f);
	svg_timeline(f, res, &r, ncsus > 0 ? ncsus : 1);
	fputs("<table id=\"moves-table\">\n", f);
	th(f,
	   (const char *const[]){ "VM", "method", "start s", "interval", "total ms", "downtime ms",
	                          "MB", "rounds", "pages", "outcome", "interval QoS", NULL });
	json_array_foreach(json_object_get(res, "migrations"), i, m)
	{
		double s = jget_num(m, "start_s", NAN);
		int k = infra__interval(&r, s);
		fputs("<tr>", f);
		td_text(f, jget_str(m, "vm", "?"));
		td_text(f, jget_str(m, "method", "?"));
		td(f, s, 4);
		if (k >= 0)
			td(f, k, 3);
		else
			td_text(f, "outside");
		td(f, jget_num(m, "total_ms", NAN), 4);
		td(f, jget_num(m, "downtime_ms", NAN), 4);
		td(f, jget_num(m, "bytes", NAN) / 1e6, 4);
		td(f, jget_num(m, "rounds", NAN), 3);
		td(f, jget_num(m, "pages", NAN), 6);
		td_text(f, json_is_true(json_object_get(m, "ok"))
		               ? outcome(m, r.infra.downtime_limit_ms)
		               : jget_str(m, "error", "failed"));
		td_text(f, jget_str(m, "interval_qos", "-"));
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

void report__infra_text(FILE *f, const json_t *res)
{
	struct run_rules r;
	const json_t *m;
	size_t i;
	if (!timeline(res, &r))
		return;
	fprintf(f, "VM moves (%s every %g s, downtime limit %g ms), by interval:\n",
	        infra_method_name(r.infra.method), r.infra.every_s, r.infra.downtime_limit_ms);
	for (int k = -1; k < r.intervals; k++) {
		int n = 0;
		json_array_foreach(json_object_get(res, "migrations"), i, m)
		{
			double s = jget_num(m, "start_s", NAN);
			if (infra__interval(&r, s) != k)
				continue;
			if (!n++) {
				if (k >= 0)
					fprintf(f, "  interval %d [%g-%g s]:", k, k * r.interval_s,
					        (k + 1) * r.interval_s);
				else
					fprintf(f, "  outside the measurement:");
			}
			fprintf(f, "%s %s at %.1f s %s (%.0f ms, downtime %.1f ms)",
			        n > 1 ? "," : "", jget_str(m, "vm", "?"), s,
			        outcome(m, r.infra.downtime_limit_ms), jget_num(m, "total_ms", NAN),
			        jget_num(m, "downtime_ms", NAN));
		}
		if (n)
			fputc('\n', f);
	}
}
