/* results/pages.c: the results repository's HTML pages (see pages.h). Written to an
 * open_memstream; every string from a submission goes through html__esc() and the charts are the
 * model's SVG bar charts (model/svg.h), in its palette. */
#include "results/pages.h"
#include "lib/json.h"
#include "model/htmlpage.h"
#include "model/svg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const busy[] = { "db", "java", "web", "mail" };
#define NB 4

static void head(FILE *f, const char *title)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>", f);
	html__esc(f, title);
	fputs("</title><style>"
	      "body{font:14px/1.4 sans-serif;margin:1.5em;color:#222}"
	      "table{border-collapse:collapse;margin:.5em 0}"
	      "th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}"
	      "th{background:#f0f0f0}td.n{text-align:right;font-variant-numeric:tabular-nums}"
	      ".ok{color:#167a2a;font-weight:bold}.no{color:#b00020;font-weight:bold}"
	      "nav a{margin-right:1em}svg text{font:12px sans-serif}svg text.t{font-weight:bold}"
	      "</style></head><body><nav><a href=\"/results\">Results</a></nav>\n<h1>",
	      f);
	html__esc(f, title);
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

/* --- charts
 * -------------------------------------------------------------------------------------- */

#define MAX_SERIES SVG_MAX_SERIES /* results or CSUs a chart shows (the tables show all) */

/* Bars of one value per category (x) and series: y[series][category]. */
struct chart {
	const char *title, *ylabel;
	const char *x[NB];
	int nx, ns;
	char name[MAX_SERIES][48];
	double y[MAX_SERIES][NB];
};

static void chart_svg(FILE *f, const struct chart *c)
{
	struct svg_series s[MAX_SERIES];
	for (int i = 0; i < c->ns; i++)
		s[i] = (struct svg_series){ .name = c->name[i], .y = c->y[i] };
	struct svg_chart ch = {
		.title = c->title, .ylabel = c->ylabel, .x = c->x, .nx = c->nx, .s = s, .ns = c->ns
	};
	fputs("<figure>", f);
	svg__bars(f, &ch, 0);
	fputs("</figure>\n", f);
}

/* --- the results table
 * ---------------------------------------------------------------------------- */

static void filter_query(FILE *f, const struct store_filter *flt)
{
	if (flt->platform) {
		fputs("&amp;platform=", f);
		html__esc(f, flt->platform);
	}
	if (flt->cpu) {
		fputs("&amp;cpu=", f);
		html__esc(f, flt->cpu);
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
	html__esc(f, flt->platform);
	fputs("\"> CPU <input name=\"cpu\" size=\"16\" value=\"", f);
	html__esc(f, flt->cpu);
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
	json_array_foreach(rows, i, r)
	    fprintf(f, "%s%lld", i ? "," : "", (long long)jget_int(r, "id", 0));
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
		long long id = (long long)jget_int(r, "id", 0);
		fprintf(f, "<tr><td class=\"n\"><a href=\"/results/%lld\">%lld</a></td><td>", id,
		        id);
		html__esc(f, jget_str(r, "run_id", ""));
		fputs("</td><td>", f);
		html__esc(f, jget_str(r, "platform", ""));
		fputs("</td><td>", f);
		html__esc(f, jget_str(r, "cpu", ""));
		fprintf(f, "</td><td class=\"n\">%lld</td><td class=\"n score\">%.3f</td>",
		        (long long)jget_int(r, "csus", 0), jget_num(r, "score", 0));
		verdict_cell(f, r);
		fputs("<td>", f);
		html__esc(f, jget_str(r, "received_at", ""));
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
	const char *rows[][2] = { { "Run", jget_str(row, "run_id", "") },
		                  { "Platform", jget_str(row, "platform", "") },
		                  { "CPU", jget_str(row, "cpu", "") },
		                  { "Rules", jget_str(row, "rules", "") },
		                  { "Started", jget_str(res, "started_at", "") },
		                  { "Received", jget_str(row, "received_at", "") },
		                  { "Signed by key", jget_str(row, "key", "") },
		                  { "Submission digest", jget_str(row, "digest", "") } };
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fprintf(f, "<tr><th>%s</th><td>", rows[i][0]);
		html__esc(f, rows[i][1]);
		fputs("</td></tr>", f);
	}
	fprintf(f,
	        "<tr><th>CSUs</th><td>%lld</td></tr><tr><th>Score</th><td class=\"score\">%.3f"
	        "</td></tr><tr><th>Verdict</th>",
	        (long long)jget_int(row, "csus", 0), jget_num(row, "score", 0));
	verdict_cell(f, row);
	fputs("</tr></table>\n", f);
	json_t *reasons = json_object_get(json_object_get(res, "verdict"), "reasons"), *why;
	size_t i;
	if (json_array_size(reasons))
		fputs("<h2>Reasons</h2><ul class=\"reasons\">", f);
	json_array_foreach(reasons, i, why)
	{
		fputs("<li>", f);
		html__esc(f, json_string_value(why));
		fputs("</li>", f);
	}
	if (json_array_size(reasons))
		fputs("</ul>\n", f);
}

static void csu_scores(FILE *f, const json_t *res)
{
	json_t *csus = json_object_get(json_object_get(res, "score"), "csus"), *c;
	size_t i;
	struct chart ch = { .title = "Normalized result per workload and CSU",
		            .ylabel = "normalized",
		            .nx = NB };
	fputs("<h2>Scores</h2><table class=\"csus\"><tr><th>CSU</th><th>Score</th><th>Lowest</th>",
	      f);
	for (int w = 0; w < NB; w++) {
		fprintf(f, "<th>%s</th>", busy[w]);
		ch.x[w] = busy[w];
	}
	fputs("</tr>\n", f);
	json_array_foreach(csus, i, c)
	{
		json_t *n = json_object_get(c, "normalized");
		fprintf(f, "<tr><td>csu%zu</td><td class=\"n\">%.3f</td><td>%s %.3f</td>", i,
		        jget_num(c, "score", 0), jget_str(c, "lowest_workload", ""),
		        jget_num(c, "lowest", 0));
		for (int w = 0; w < NB; w++)
			fprintf(f, "<td class=\"n\">%.3f</td>", jget_num(n, busy[w], 0));
		fputs("</tr>\n", f);
		if (i < MAX_SERIES) {
			snprintf(ch.name[i], sizeof(ch.name[i]), "csu%zu", i);
			for (int w = 0; w < NB; w++)
				ch.y[i][w] = jget_num(n, busy[w], 0);
			ch.ns = (int)i + 1;
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
		html__esc(f, jget_str(vm, "name", ""));
		fprintf(f, "</td><td class=\"n\">%lld</td><td>%s</td><td>",
		        (long long)jget_int(vm, "vcpus", 0),
		        json_is_true(json_object_get(vm, "alive")) ? "yes" : "no");
		html__esc(f, jget_str(vm, "ended", ""));
		fputs("</td><td>", f);
		json_array_foreach(json_object_get(vm, "intervals"), k, iv)
		{
			if (json_object_get(iv, "rate"))
				fprintf(f, "%s%.1f", k ? ", " : "", jget_num(iv, "rate", 0));
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
	long long id = (long long)jget_int(row, "id", 0);
	snprintf(title, sizeof(title), "Result %lld: %s", id, jget_str(row, "run_id", ""));
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
	json_array_foreach(csus, i, c) sum += jget_num(json_object_get(c, "normalized"), w, 0);
	return json_array_size(csus) ? sum / (double)json_array_size(csus) : 0;
}

json_t *pages__compare_json(const json_t *rows)
{
	json_t *out = json_array(), *r;
	size_t i;
	double base = jget_num(json_array_get(rows, 0), "score", 0);
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
			json_object_set_new(o, "ratio_to_first",
			                    json_real(jget_num(r, "score", 0) / base));
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
	struct chart sc = { .title = "Run score", .ylabel = "score", .nx = 1, .x = { "score" } },
	             wc = { .title = "Normalized result per workload (mean over CSUs)",
		            .ylabel = "normalized",
		            .nx = NB };
	for (int w = 0; w < NB; w++)
		wc.x[w] = busy[w];
	json_array_foreach(list, i, r)
	{
		long long id = (long long)jget_int(r, "id", 0);
		fprintf(f, "<tr><td><a href=\"/results/%lld\">%lld</a></td><td>", id, id);
		html__esc(f, jget_str(r, "run_id", ""));
		fputs("</td><td>", f);
		html__esc(f, jget_str(r, "platform", ""));
		fputs("</td><td>", f);
		html__esc(f, jget_str(r, "cpu", ""));
		fprintf(f, "</td><td class=\"n\">%lld</td>", (long long)jget_int(r, "csus", 0));
		verdict_cell(f, r);
		fprintf(f, "<td class=\"n score\">%.3f</td>", jget_num(r, "score", 0));
		if (json_is_number(json_object_get(r, "ratio_to_first")))
			fprintf(f, "<td class=\"n\">%.3f</td>", jget_num(r, "ratio_to_first", 0));
		else
			fputs("<td>-</td>", f);
		for (int w = 0; w < NB; w++)
			fprintf(f, "<td class=\"n\">%.3f</td>",
			        jget_num(json_object_get(r, "normalized"), busy[w], 0));
		fputs("</tr>\n", f);
		if (i < MAX_SERIES) {
			snprintf(sc.name[i], sizeof(sc.name[i]), "#%lld %s", id,
			         jget_str(r, "platform", ""));
			snprintf(wc.name[i], sizeof(wc.name[i]), "%s", sc.name[i]);
			sc.y[i][0] = jget_num(r, "score", 0);
			for (int w = 0; w < NB; w++)
				wc.y[i][w] = jget_num(json_object_get(r, "normalized"), busy[w], 0);
			sc.ns = wc.ns = (int)i + 1;
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
	html__esc(f, msg);
	fputs("</p>\n", f);
	return finish(f, &buf);
}
