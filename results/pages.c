/* results/pages.c: HTML pages and their SVG bar charts (see pages.h). Written to an
 * open_memstream; every string from a submission goes through esc(). */
#include "results/pages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const busy[] = { "db", "java", "web", "mail" };
#define NB 4
static const char *const colors[] = { "#4269d0", "#efb118", "#ff725c", "#6cc5b0",
	                              "#3ca951", "#ff8ab7", "#a463f2", "#97bbf5" };
#define NCOLORS 8

static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++)
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
}

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static double num(const json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static void head(FILE *f, const char *title)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>", f);
	esc(f, title);
	fputs("</title><style>"
	      "body{font:14px/1.4 sans-serif;margin:1.5em;color:#222}"
	      "table{border-collapse:collapse;margin:.5em 0}"
	      "th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}"
	      "th{background:#f0f0f0}td.n{text-align:right;font-variant-numeric:tabular-nums}"
	      ".ok{color:#167a2a;font-weight:bold}.no{color:#b00020;font-weight:bold}"
	      "nav a{margin-right:1em}svg text{font:12px sans-serif}"
	      "</style></head><body><nav><a href=\"/results\">Results</a></nav>\n<h1>",
	      f);
	esc(f, title);
	fputs("</h1>\n", f);
}

/* Ends the page; the stream's buffer is final only after fclose. */
static char *finish(FILE *f, char **buf)
{
	fputs("</body></html>\n", f);
	if (fclose(f)) {
		free(*buf);
		return NULL;
	}
	return *buf;
}

static const char *verdict_word(const json_t *row)
{
	return !json_is_true(json_object_get(row, "valid"))      ? "invalid"
	       : json_is_true(json_object_get(row, "compliant")) ? "compliant"
	                                                         : "not compliant";
}

static void verdict_cell(FILE *f, const json_t *row)
{
	fprintf(f, "<td class=\"%s\">%s</td>",
	        json_is_true(json_object_get(row, "compliant")) ? "ok" : "no", verdict_word(row));
}

/* --- SVG bar chart
 * -------------------------------------------------------------------------------- */

struct chart {
	const char *title;
	int ngroups, nseries;
	const char *group[32];
	const char *series[32];
	double v[32][32]; /* [group][series] */
};

static void chart_svg(FILE *f, const struct chart *c)
{
	double max = 0;
	for (int g = 0; g < c->ngroups; g++)
		for (int s = 0; s < c->nseries; s++)
			if (c->v[g][s] > max)
				max = c->v[g][s];
	if (max <= 0)
		max = 1;
	int bw = 26, gap = 24, top = 30, h = 200, left = 50;
	int gw = c->nseries * bw + gap, width = left + c->ngroups * gw + 20;
	if (width < 480)
		width = 480; /* room for the title */
	int legend = 18 * c->nseries;
	fprintf(f,
	        "<figure><svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	        "height=\"%d\" role=\"img\"><title>",
	        width, top + h + 30 + legend);
	esc(f, c->title);
	fprintf(f, "</title><text x=\"%d\" y=\"18\" font-weight=\"bold\">", left);
	esc(f, c->title);
	fprintf(f, "</text><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>", left,
	        top + h, width - 10, top + h);
	fprintf(f, "<text x=\"4\" y=\"%d\">%.3g</text><text x=\"4\" y=\"%d\">0</text>", top + 10,
	        max, top + h);
	for (int g = 0; g < c->ngroups; g++) {
		int x0 = left + g * gw + gap / 2;
		for (int s = 0; s < c->nseries; s++) {
			double v = c->v[g][s] > 0 ? c->v[g][s] : 0;
			int bh = (int)(v / max * h + 0.5), x = x0 + s * bw;
			fprintf(f,
			        "<rect class=\"bar\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
			        "fill=\"%s\"><title>",
			        x, top + h - bh, bw - 2, bh > 0 ? bh : 1, colors[s % NCOLORS]);
			esc(f, c->series[s]);
			fprintf(f,
			        ": %.3f</title></rect><text x=\"%d\" y=\"%d\" "
			        "font-size=\"9\">%.2f</text>",
			        c->v[g][s], x, top + h - bh - 3, c->v[g][s]);
		}
		fprintf(f, "<text x=\"%d\" y=\"%d\">", x0, top + h + 16);
		esc(f, c->group[g]);
		fputs("</text>", f);
	}
	for (int s = 0; s < c->nseries; s++) {
		int y = top + h + 30 + 18 * s;
		fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>", left,
		        y - 10, colors[s % NCOLORS]);
		fprintf(f, "<text x=\"%d\" y=\"%d\">", left + 18, y);
		esc(f, c->series[s]);
		fputs("</text>", f);
	}
	fputs("</svg></figure>\n", f);
}

/* --- the results table
 * ---------------------------------------------------------------------------- */

static void filter_query(FILE *f, const struct store_filter *flt)
{
	if (flt->platform) {
		fputs("&amp;platform=", f);
		esc(f, flt->platform);
	}
	if (flt->cpu) {
		fputs("&amp;cpu=", f);
		esc(f, flt->cpu);
	}
	if (flt->csus)
		fprintf(f, "&amp;csus=%d", flt->csus);
	if (flt->compliant >= 0)
		fprintf(f, "&amp;compliant=%d", flt->compliant);
}

static void sort_header(FILE *f, const struct store_filter *flt, const char *key, const char *label)
{
	int cur = flt->sort && !strcmp(flt->sort, key);
	int desc = cur ? !flt->desc : !strcmp(key, "score");
	fprintf(f, "<th><a href=\"/results?sort=%s&amp;order=%s", key, desc ? "desc" : "asc");
	filter_query(f, flt);
	fprintf(f, "\">%s</a>%s</th>", label, cur ? (flt->desc ? " &#9660;" : " &#9650;") : "");
}

static void filter_form(FILE *f, const struct store_filter *flt)
{
	fputs("<form method=\"get\" action=\"/results\">Platform <input name=\"platform\" "
	      "size=\"8\" value=\"",
	      f);
	esc(f, flt->platform);
	fputs("\"> CPU <input name=\"cpu\" size=\"16\" value=\"", f);
	esc(f, flt->cpu);
	fputs("\"> CSUs <input name=\"csus\" size=\"3\" value=\"", f);
	if (flt->csus)
		fprintf(f, "%d", flt->csus);
	fprintf(f,
	        "\"> <select name=\"compliant\"><option value=\"\">any</option>"
	        "<option value=\"1\"%s>compliant</option><option value=\"0\"%s>not "
	        "compliant</option></select> <button>Filter</button></form>\n",
	        flt->compliant == 1 ? " selected" : "", flt->compliant == 0 ? " selected" : "");
}

char *pages__list(const json_t *rows, const struct store_filter *flt)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	head(f, "vcons results");
	filter_form(f, flt);
	fprintf(f, "<p>%zu result%s. Compare: <a href=\"/compare?ids=", json_array_size(rows),
	        json_array_size(rows) == 1 ? "" : "s");
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r) fprintf(
	    f, "%s%lld", i ? "," : "", (long long)json_integer_value(json_object_get(r, "id")));
	fputs("\">all listed</a></p>\n<table id=\"results\"><tr>", f);
	static const char *const cols[][2] = { { "id", "#" },
		                               { "run", "Run" },
		                               { "platform", "Platform" },
		                               { "cpu", "CPU" },
		                               { "csus", "CSUs" },
		                               { "score", "Score" },
		                               { "compliant", "Verdict" },
		                               { "received", "Received" } };
	for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++)
		sort_header(f, flt, cols[c][0], cols[c][1]);
	fputs("</tr>\n", f);
	json_array_foreach(rows, i, r)
	{
		long long id = (long long)json_integer_value(json_object_get(r, "id"));
		fprintf(f, "<tr><td class=\"n\"><a href=\"/results/%lld\">%lld</a></td><td>", id,
		        id);
		esc(f, str(r, "run_id"));
		fputs("</td><td>", f);
		esc(f, str(r, "platform"));
		fputs("</td><td>", f);
		esc(f, str(r, "cpu"));
		fprintf(f, "</td><td class=\"n\">%lld</td><td class=\"n score\">%.3f</td>",
		        (long long)json_integer_value(json_object_get(r, "csus")), num(r, "score"));
		verdict_cell(f, r);
		fputs("<td>", f);
		esc(f, str(r, "received_at"));
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
	return finish(f, &buf);
}

/* --- one result
 * ----------------------------------------------------------------------------------- */

static void summary_table(FILE *f, const json_t *row)
{
	const json_t *res = json_object_get(row, "result");
	fputs("<table class=\"summary\">", f);
	const char *rows[][2] = { { "Run", str(row, "run_id") },
		                  { "Platform", str(row, "platform") },
		                  { "CPU", str(row, "cpu") },
		                  { "Rules", str(row, "rules") },
		                  { "Started", str(res, "started_at") },
		                  { "Received", str(row, "received_at") },
		                  { "Signed by key", str(row, "key") },
		                  { "Submission digest", str(row, "digest") } };
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fprintf(f, "<tr><th>%s</th><td>", rows[i][0]);
		esc(f, rows[i][1]);
		fputs("</td></tr>", f);
	}
	fprintf(f,
	        "<tr><th>CSUs</th><td>%lld</td></tr><tr><th>Score</th><td class=\"score\">%.3f"
	        "</td></tr><tr><th>Verdict</th>",
	        (long long)json_integer_value(json_object_get(row, "csus")), num(row, "score"));
	verdict_cell(f, row);
	fputs("</tr></table>\n", f);
	json_t *reasons = json_object_get(json_object_get(res, "verdict"), "reasons"), *why;
	size_t i;
	if (json_array_size(reasons))
		fputs("<h2>Reasons</h2><ul class=\"reasons\">", f);
	json_array_foreach(reasons, i, why)
	{
		fputs("<li>", f);
		esc(f, json_string_value(why));
		fputs("</li>", f);
	}
	if (json_array_size(reasons))
		fputs("</ul>\n", f);
}

static void csu_scores(FILE *f, const json_t *res)
{
	json_t *csus = json_object_get(json_object_get(res, "score"), "csus"), *c;
	size_t i;
	struct chart ch = { .title = "Normalized result per workload and CSU", .nseries = 0 };
	fputs("<h2>Scores</h2><table class=\"csus\"><tr><th>CSU</th><th>Score</th><th>Lowest</th>",
	      f);
	for (int w = 0; w < NB; w++) {
		fprintf(f, "<th>%s</th>", busy[w]);
		ch.group[w] = busy[w];
	}
	ch.ngroups = NB;
	fputs("</tr>\n", f);
	static char names[32][16];
	json_array_foreach(csus, i, c)
	{
		json_t *n = json_object_get(c, "normalized");
		fprintf(f, "<tr><td>csu%zu</td><td class=\"n\">%.3f</td><td>%s %.3f</td>", i,
		        num(c, "score"), str(c, "lowest_workload"), num(c, "lowest"));
		for (int w = 0; w < NB; w++)
			fprintf(f, "<td class=\"n\">%.3f</td>", num(n, busy[w]));
		fputs("</tr>\n", f);
		if (i < 32) {
			snprintf(names[i], sizeof(names[i]), "csu%zu", i);
			ch.series[i] = names[i];
			for (int w = 0; w < NB; w++)
				ch.v[w][i] = num(n, busy[w]);
			ch.nseries = (int)i + 1;
		}
	}
	fputs("</table>\n", f);
	chart_svg(f, &ch);
}

static void vm_table(FILE *f, const json_t *res)
{
	fputs("<h2>VMs</h2><table class=\"vms\"><tr><th>VM</th><th>vCPUs</th><th>Alive</th>"
	      "<th>Ended</th><th>Rate per interval (good ops/s, host clock)</th></tr>\n",
	      f);
	json_t *vm, *iv;
	size_t i, k;
	json_array_foreach(json_object_get(res, "vms"), i, vm)
	{
		fputs("<tr><td>", f);
		esc(f, str(vm, "name"));
		fprintf(f, "</td><td class=\"n\">%lld</td><td>%s</td><td>",
		        (long long)json_integer_value(json_object_get(vm, "vcpus")),
		        json_is_true(json_object_get(vm, "alive")) ? "yes" : "no");
		esc(f, str(vm, "ended"));
		fputs("</td><td>", f);
		json_array_foreach(json_object_get(vm, "intervals"), k, iv)
		{
			if (json_object_get(iv, "rate"))
				fprintf(f, "%s%.1f", k ? ", " : "", num(iv, "rate"));
		}
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

char *pages__result(const json_t *row)
{
	char *buf = NULL, title[128];
	size_t len;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	long long id = (long long)json_integer_value(json_object_get(row, "id"));
	snprintf(title, sizeof(title), "Result %lld: %s", id, str(row, "run_id"));
	head(f, title);
	summary_table(f, row);
	const json_t *res = json_object_get(row, "result");
	csu_scores(f, res);
	vm_table(f, res);
	fprintf(f,
	        "<p><a href=\"/results/%lld/report\">full report with charts</a> &middot; <a "
	        "href=\"/api/results/%lld\">JSON</a> &middot; <a "
	        "href=\"/api/results/%lld/submission\">signed submission</a></p>\n",
	        id, id, id);
	return finish(f, &buf);
}

/* --- comparison
 * ----------------------------------------------------------------------------------- */

/* A result's per-workload normalized figure, as the mean over its CSUs. */
static double workload_mean(const json_t *res, const char *w)
{
	json_t *csus = json_object_get(json_object_get(res, "score"), "csus"), *c;
	size_t i;
	double sum = 0;
	json_array_foreach(csus, i, c) sum += num(json_object_get(c, "normalized"), w);
	return json_array_size(csus) ? sum / (double)json_array_size(csus) : 0;
}

json_t *pages__compare_json(const json_t *rows)
{
	json_t *out = json_array(), *r;
	size_t i;
	double base = num(json_array_get(rows, 0), "score");
	json_array_foreach(rows, i, r)
	{
		json_t *o = json_deep_copy(r), *per = json_object();
		json_object_del(o, "result");
		for (int w = 0; w < NB; w++)
			json_object_set_new(
			    per, busy[w],
			    json_real(workload_mean(json_object_get(r, "result"), busy[w])));
		json_object_set_new(o, "normalized", per);
		if (base > 0)
			json_object_set_new(o, "ratio_to_first", json_real(num(r, "score") / base));
		else
			json_object_set_new(o, "ratio_to_first", json_null());
		json_array_append_new(out, o);
	}
	return json_pack("{s:o}", "results", out);
}

char *pages__compare(const json_t *rows)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	json_t *cmp = pages__compare_json(rows), *r;
	json_t *list = json_object_get(cmp, "results");
	size_t i;
	head(f, "Comparison");
	fputs("<table class=\"compare\"><tr><th>#</th><th>Run</th><th>Platform</th><th>CPU</th>"
	      "<th>CSUs</th><th>Verdict</th><th>Score</th><th>Ratio to first</th>",
	      f);
	for (int w = 0; w < NB; w++)
		fprintf(f, "<th>%s</th>", busy[w]);
	fputs("</tr>\n", f);
	static char labels[32][48];
	struct chart sc = { .title = "Run score", .ngroups = 1, .group = { "score" } },
	             wc = { .title = "Normalized result per workload (mean over CSUs)",
		            .ngroups = NB };
	for (int w = 0; w < NB; w++)
		wc.group[w] = busy[w];
	json_array_foreach(list, i, r)
	{
		long long id = (long long)json_integer_value(json_object_get(r, "id"));
		fprintf(f, "<tr><td><a href=\"/results/%lld\">%lld</a></td><td>", id, id);
		esc(f, str(r, "run_id"));
		fputs("</td><td>", f);
		esc(f, str(r, "platform"));
		fputs("</td><td>", f);
		esc(f, str(r, "cpu"));
		fprintf(f, "</td><td class=\"n\">%lld</td>",
		        (long long)json_integer_value(json_object_get(r, "csus")));
		verdict_cell(f, r);
		fprintf(f, "<td class=\"n score\">%.3f</td>", num(r, "score"));
		if (json_is_number(json_object_get(r, "ratio_to_first")))
			fprintf(f, "<td class=\"n\">%.3f</td>", num(r, "ratio_to_first"));
		else
			fputs("<td>-</td>", f);
		for (int w = 0; w < NB; w++)
			fprintf(f, "<td class=\"n\">%.3f</td>",
			        num(json_object_get(r, "normalized"), busy[w]));
		fputs("</tr>\n", f);
		if (i < 32) {
			snprintf(labels[i], sizeof(labels[i]), "#%lld %s", id, str(r, "platform"));
			sc.series[i] = wc.series[i] = labels[i];
			sc.v[0][i] = num(r, "score");
			for (int w = 0; w < NB; w++)
				wc.v[w][i] = num(json_object_get(r, "normalized"), busy[w]);
			sc.nseries = wc.nseries = (int)i + 1;
		}
	}
	fputs("</table>\n", f);
	chart_svg(f, &sc);
	chart_svg(f, &wc);
	json_decref(cmp);
	return finish(f, &buf);
}

char *pages__error(int status, const char *msg)
{
	char *buf = NULL, title[32];
	size_t len;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	snprintf(title, sizeof(title), "Error %d", status);
	head(f, title);
	fputs("<p>", f);
	esc(f, msg);
	fputs("</p>\n", f);
	return finish(f, &buf);
}
