/* model/report.c: the report of one result (see report.h): a self-contained HTML page (header,
 * verdict, scores, a summary per VM and SVG charts of throughput, latency, time dilation and hv
 * exits per interval) and its text summary. */
#include "model/report.h"
#include "lib/json.h"
#include "model/config.h"
#include "model/htmlpage.h"
#include "model/report_infra.h"
#include "model/svg.h"
#include "model/verdict.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IV 100 /* intervals a chart shows */

/* One VM's figures over the measurement intervals, as the summary shows them. */
struct vm_row {
	const json_t *vm;
	const char *name, *role;
	int csu, busy, nk;
	double target, rate, norm, pctl, lat_ms, limit_ms, fail_pct, dil_lo, dil_hi, cpu;
};

static double mean_key(const json_t *vm, const char *key)
{
	const json_t *iv;
	size_t k;
	double sum = 0;
	int n = 0;
	json_array_foreach(json_object_get(vm, "intervals"), k, iv)
	{
		double v = jget_num(iv, key, NAN);
		if (isfinite(v))
			sum += v, n++;
	}
	return n ? sum / n : NAN;
}

/* A CSU's normalized result of one workload from the score section. */
static double normalized(const json_t *res, int csu, const char *role)
{
	const json_t *c;
	size_t i;
	json_array_foreach(json_object_get(json_object_get(res, "score"), "csus"), i, c)
	{
		if (jget_int(c, "csu", 0) == csu)
			return jget_num(json_object_get(c, "normalized"), role, NAN);
	}
	return NAN;
}

/* The rate a VM is measured against: its injected rate, or the rules' reference (java). */
static double target_of(const json_t *res, const json_t *vm, const char **what)
{
	double t = jget_num(vm, "target_rate", NAN);
	*what = "target";
	if (!(t > 0)) {
		t = jget_num(json_object_get(json_object_get(res, "rules"), "reference"),
		             jget_str(vm, "role", ""), NAN);
		*what = "reference";
	}
	return t;
}

static void vm_row(const json_t *res, const json_t *vm, struct vm_row *r)
{
	const char *what;
	enum role role;
	memset(r, 0, sizeof(*r));
	r->vm = vm, r->name = jget_str(vm, "name", ""), r->role = jget_str(vm, "role", "");
	r->csu = (int)jget_int(vm, "csu", 0);
	r->busy = role_parse(r->role, &role) == 0 && role < NBUSY;
	r->target = target_of(res, vm, &what);
	r->rate = mean_key(vm, "rate");
	r->norm = r->busy ? normalized(res, r->csu, r->role) : NAN;
	r->cpu = mean_key(vm, "vm_cpu_pct");
	const json_t *qos =
	    json_object_get(json_object_get(json_object_get(res, "rules"), "qos"), r->role);
	r->pctl = jget_num(qos, "percentile", NAN), r->limit_ms = jget_num(qos, "limit_ms", NAN);
	if (!isfinite(r->pctl))
		r->pctl = 99; /* no rules in the result: show the p99 */
	r->lat_ms = r->dil_lo = r->dil_hi = NAN;
	double ops = 0, errors = 0;
	const json_t *iv;
	size_t k;
	json_array_foreach(json_object_get(vm, "intervals"), k, iv)
	{
		r->nk++;
		double d = jget_num(iv, "dilation", NAN),
		       l = jget_num(json_object_get(iv, "latency_us"),
		                    verdict__latency_key(r->pctl), NAN) /
		           1000.0;
		if (isfinite(d))
			r->dil_lo = isfinite(r->dil_lo) ? fmin(r->dil_lo, d) : d,
			r->dil_hi = isfinite(r->dil_hi) ? fmax(r->dil_hi, d) : d;
		if (isfinite(l))
			r->lat_ms = isfinite(r->lat_ms) ? fmax(r->lat_ms, l) : l;
		if (isfinite(jget_num(iv, "ops", NAN)))
			ops += jget_num(iv, "ops", NAN), errors += jget_num(iv, "errors", NAN) > 0
			                                               ? jget_num(iv, "errors", NAN)
			                                               : 0;
	}
	r->fail_pct = ops > 0 ? 100 * errors / ops : NAN;
}

/* Whether a dilation range shows as two different figures at 4 significant digits. */
static int dil_differs(double lo, double hi)
{
	char a[32], b[32];
	snprintf(a, sizeof(a), "%.4g", lo);
	snprintf(b, sizeof(b), "%.4g", hi);
	return strcmp(a, b) != 0;
}

/* The result's CSU count (at most 256): its "csus", or one more than the highest VM's CSU. */
static int csu_count(const json_t *res)
{
	json_int_t n = jget_int(res, "csus", 0);
	const json_t *vm;
	size_t i;
	json_array_foreach(json_object_get(res, "vms"), i, vm)
	{
		json_int_t c = jget_int(vm, "csu", 0);
		if (c >= n)
			n = c < 256 ? c + 1 : 256; /* no c + 1 that overflows */
	}
	return n < 0 ? 0 : n > 256 ? 256 : (int)n;
}

static void verdict_words(const json_t *res, const char **valid, const char **compliant)
{
	const json_t *v = json_object_get(res, "verdict");
	*valid = json_is_true(json_object_get(v, "valid")) ? "valid" : "INVALID";
	*compliant = json_is_true(json_object_get(v, "compliant")) ? "compliant" : "not compliant";
}

/* ---- HTML sections ---- */

static void th_row(FILE *f, const char *const *cells)
{
	fputs("<tr>", f);
	for (int i = 0; cells[i]; i++) {
		fputs(i ? "<th>" : "<th class=\"l\">", f);
		html__esc(f, cells[i]);
		fputs("</th>", f);
	}
	fputs("</tr>\n", f);
}

static void td_num(FILE *f, double v, int prec)
{
	fputs("<td>", f);
	html__num(f, v, prec);
	fputs("</td>", f);
}

static void td_str(FILE *f, const char *s)
{
	fputs("<td class=\"l\">", f);
	html__esc(f, s);
	fputs("</td>", f);
}

static void html_header(FILE *f, const json_t *res)
{
	const json_t *rules = json_object_get(res, "rules"), *sys = json_object_get(res, "system");
	const json_t *csu = json_object_get(json_object_get(res, "config"), "csu");
	fputs("<h1>vcons report: ", f);
	html__esc(f, jget_str(res, "run_id", ""));
	fputs("</h1>\n<table>\n", f);
	const char *rows[][2] = {
		{ "platform", jget_str(res, "platform", "") },
		{ "started", jget_str(res, "started_at", "") },
		{ "status", jget_str(res, "status", "") },
		{ "CSU profile", jget_str(csu, "name", "") },
		{ "rules", jget_str(rules, "name", "") },
		{ "rules SHA-256", jget_str(rules, "sha256", "") },
		{ "CPU", jget_str(sys, "cpu_model", "") },
		{ "kernel", jget_str(sys, "kernel", "") },
		{ "compiler", jget_str(sys, "compiler", "") },
		{ "acceleration",
		  json_object_get(res, "accel") ? jget_str(res, "accel", "") : "-" },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fputs("<tr><th class=\"l\">", f);
		html__esc(f, rows[i][0]);
		fputs("</th>", f);
		td_str(f, rows[i][1]);
		fputs("</tr>\n", f);
	}
	fprintf(f, "<tr><th class=\"l\">CSUs</th><td class=\"l\">%d</td></tr>\n", csu_count(res));
	fputs("<tr><th class=\"l\">host CPUs</th>", f);
	td_num(f, jget_num(sys, "cpus", NAN), 6);
	fputs("</tr>\n</table>\n", f);
}

static void html_verdict(FILE *f, const json_t *res)
{
	const char *valid, *compliant;
	verdict_words(res, &valid, &compliant);
	const json_t *reasons = json_object_get(json_object_get(res, "verdict"), "reasons"), *r;
	size_t i;
	fprintf(f,
	        "<h2>Verdict</h2>\n<p><span class=\"%s\">%s</span>, <span class=\"%s\">%s</span>",
	        *valid == 'v' ? "ok" : "bad", valid, *compliant == 'c' ? "ok" : "warn", compliant);
	fprintf(f, " (%zu reason%s)</p>\n<ul class=\"reasons\">\n", json_array_size(reasons),
	        json_array_size(reasons) == 1 ? "" : "s");
	json_array_foreach(reasons, i, r)
	{
		fputs("<li>", f);
		html__esc(f, json_string_value(r));
		fputs("</li>\n", f);
	}
	fputs("</ul>\n", f);
}

static void html_scores(FILE *f, const json_t *res)
{
	const json_t *score = json_object_get(res, "score"), *c;
	size_t i;
	fputs("<h2>Scores</h2>\n<p>run score <span class=\"score\" id=\"run-score\">", f);
	html__num(f, jget_num(score, "run", NAN), 4);
	fputs("</span> <span class=\"note\">(sum of the CSU scores; a CSU's score is the geometric "
	      "mean of its busy workloads' normalized results)</span></p>\n<table>\n",
	      f);
	th_row(f, (const char *const[]){ "CSU", "score", "lowest workload", "lowest", "db", "java",
	                                 "web", "mail", NULL });
	json_array_foreach(json_object_get(score, "csus"), i, c)
	{
		const json_t *n = json_object_get(c, "normalized");
		fprintf(f, "<tr><td class=\"l\">csu%d</td>", (int)jget_int(c, "csu", 0));
		td_num(f, jget_num(c, "score", NAN), 4);
		td_str(f, jget_str(c, "lowest_workload", ""));
		td_num(f, jget_num(c, "lowest", NAN), 4);
		for (int w = 0; w < NBUSY; w++)
			td_num(f, jget_num(n, role_name((enum role)w), NAN), 4);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void html_vm_table(FILE *f, const json_t *res)
{
	const json_t *vm;
	size_t i;
	fputs("<h2>Summary per VM</h2>\n<p class=\"note\">Means over the measurement intervals; "
	      "latency is the worst interval's QoS percentile; dilation is guest elapsed / host "
	      "elapsed (min - max).</p>\n<table>\n",
	      f);
	th_row(f, (const char *const[]){ "VM", "role", "alive", "rate/s", "target/s", "% of target",
	                                 "normalized", "QoS pct", "latency ms", "limit ms",
	                                 "failures %", "dilation", "VM CPU %", NULL });
	json_array_foreach(json_object_get(res, "vms"), i, vm)
	{
		struct vm_row r;
		vm_row(res, vm, &r);
		fputs("<tr>", f);
		td_str(f, r.name);
		td_str(f, r.role);
		td_str(f, json_is_true(json_object_get(vm, "alive")) ? "yes" : "NO");
		td_num(f, r.rate, 5);
		td_num(f, r.target, 5);
		td_num(f, 100 * r.rate / r.target, 3);
		td_num(f, r.norm, 4);
		td_num(f, r.busy && isfinite(r.lat_ms) ? r.pctl : NAN, 4);
		td_num(f, r.lat_ms, 4);
		td_num(f, r.busy && isfinite(r.lat_ms) ? r.limit_ms : NAN, 5);
		td_num(f, r.fail_pct, 3);
		fputs("<td>", f);
		html__num(f, r.dil_lo, 4);
		if (dil_differs(r.dil_lo, r.dil_hi))
			fputs(" - ", f), html__num(f, r.dil_hi, 4);
		fputs("</td>", f);
		td_num(f, r.cpu, 3);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

/* Interval labels "i0".."iN" for a chart's categories. */
struct iv_labels {
	char buf[MAX_IV][16];
	const char *p[MAX_IV];
	int n;
};

static void iv_labels(const json_t *vm, struct iv_labels *l)
{
	l->n = (int)json_array_size(json_object_get(vm, "intervals"));
	if (l->n > MAX_IV)
		l->n = MAX_IV;
	for (int k = 0; k < l->n; k++) {
		snprintf(l->buf[k], sizeof(l->buf[k]), "i%d", k);
		l->p[k] = l->buf[k];
	}
}

/* One value per interval of a VM (NAN where missing); obj selects a sub-object first. */
static void per_interval(const json_t *vm, const char *obj, const char *key, double scale,
                         double *y, int n)
{
	for (int k = 0; k < n; k++) {
		const json_t *iv = json_array_get(json_object_get(vm, "intervals"), (size_t)k);
		y[k] = jget_num(obj ? json_object_get(iv, obj) : iv, key, NAN) * scale;
	}
}

static void html_throughput(FILE *f, const json_t *res)
{
	const json_t *vm;
	size_t i;
	fputs("<h2>Throughput per interval</h2>\n<div class=\"charts\" id=\"throughput\">\n", f);
	json_array_foreach(json_object_get(res, "vms"), i, vm)
	{
		static struct iv_labels l;
		double y[MAX_IV];
		char title[160], ref[64];
		const char *what;
		iv_labels(vm, &l);
		per_interval(vm, NULL, "rate", 1, y, l.n);
		if (!l.n || !isfinite(mean_key(vm, "rate")))
			continue;
		double t = target_of(res, vm, &what);
		snprintf(title, sizeof(title), "%s: good operations/s (host time)",
		         jget_str(vm, "name", ""));
		snprintf(ref, sizeof(ref), "%s %.6g/s", what, t);
		struct svg_series s = { "rate", y };
		struct svg_chart c = { .title = title,
			               .ylabel = "ops/s",
			               .x = l.p,
			               .nx = l.n,
			               .s = &s,
			               .ns = 1,
			               .width = 364,
			               .height = 240,
			               .ref_label = isfinite(t) ? ref : NULL,
			               .ref = t };
		svg__bars(f, &c, 0);
	}
	fputs("</div>\n", f);
}

static void html_latency(FILE *f, const json_t *res)
{
	const json_t *vm;
	size_t i;
	fputs("<h2>Latency percentiles per interval</h2>\n<div class=\"charts\" id=\"latency\">\n",
	      f);
	json_array_foreach(json_object_get(res, "vms"), i, vm)
	{
		static struct iv_labels l;
		static const char *const keys[] = { "p50_us", "p95_us", "p99_us" };
		double y[3][MAX_IV];
		struct svg_series s[3];
		struct vm_row r;
		char title[200];
		vm_row(res, vm, &r);
		iv_labels(vm, &l);
		if (!r.busy || !l.n || !isfinite(r.lat_ms))
			continue;
		for (int p = 0; p < 3; p++) {
			per_interval(vm, "latency_us", keys[p], 1e-3, y[p], l.n);
			s[p] = (struct svg_series){ p == 0 ? "p50" : p == 1 ? "p95" : "p99", y[p] };
		}
		snprintf(title, sizeof(title), "%s: latency (QoS p%.4g within %.6g ms)", r.name,
		         r.pctl, r.limit_ms);
		struct svg_chart c = { .title = title,
			               .ylabel = "ms",
			               .x = l.p,
			               .nx = l.n,
			               .s = s,
			               .ns = 3,
			               .width = 364,
			               .height = 240 };
		svg__line(f, &c);
	}
	fputs("</div>\n", f);
}

/* The VMs of one CSU, at most max of them. */
static int csu_vms(const json_t *res, int csu, const json_t **out, int max)
{
	const json_t *vm;
	size_t i;
	int n = 0;
	json_array_foreach(json_object_get(res, "vms"), i, vm)
	{
		if (jget_int(vm, "csu", 0) == csu && n < max)
			out[n++] = vm;
	}
	return n;
}

static void dilation_chart(FILE *f, const json_t *res, int csu, double bound_pct)
{
	const json_t *vms[SVG_MAX_SERIES];
	static double y[SVG_MAX_SERIES][MAX_IV];
	static struct iv_labels l;
	struct svg_series s[SVG_MAX_SERIES];
	int n = csu_vms(res, csu, vms, SVG_MAX_SERIES), ns = 0;
	char title[96], band[96];
	l.n = 0;
	for (int v = 0; v < n; v++) {
		struct iv_labels lv;
		iv_labels(vms[v], &lv);
		if (lv.n > l.n)
			iv_labels(vms[v], &l);
		per_interval(vms[v], NULL, "dilation", 1, y[ns], lv.n);
		for (int k = lv.n; k < MAX_IV; k++)
			y[ns][k] = NAN;
		if (isfinite(mean_key(vms[v], "dilation")))
			s[ns] = (struct svg_series){ jget_str(vms[v], "name", ""), y[ns] }, ns++;
	}
	if (!ns)
		return;
	snprintf(title, sizeof(title), "CSU %d: time dilation (guest / host elapsed)", csu);
	snprintf(band, sizeof(band), "rules' bound: 1 +- %.4g%%", bound_pct);
	struct svg_chart c = { .title = title,
		               .ylabel = "dilation",
		               .x = l.p,
		               .nx = l.n,
		               .s = s,
		               .ns = ns,
		               .width = 560,
		               .height = 280,
		               .band_label = band };
	if (isfinite(bound_pct))
		c.band_lo = 1 - bound_pct / 100, c.band_hi = 1 + bound_pct / 100;
	svg__line(f, &c);
}

static void html_dilation(FILE *f, const json_t *res)
{
	double bound = jget_num(json_object_get(json_object_get(res, "rules"), "bounds"),
	                        "max_dilation_pct", NAN);
	fputs(
	    "<h2>Time dilation per interval</h2>\n<p class=\"note\">The shaded band is the rules' "
	    "bound; sources per interval are in the result (dilation_source).</p>\n"
	    "<div class=\"charts\" id=\"dilation\">\n",
	    f);
	for (int c = 0; c < csu_count(res); c++)
		dilation_chart(f, res, c, bound);
	fputs("</div>\n", f);
}

/* The exit reasons of a result in order of first appearance; beyond max-1 of them, "other". */
static int exit_reasons(const json_t *res, const char **names, int max)
{
	const json_t *vm, *iv, *v;
	const char *reason;
	size_t i, k;
	int n = 0;
	json_array_foreach(json_object_get(res, "vms"), i, vm)
	{
		json_array_foreach(json_object_get(vm, "intervals"), k, iv)
		{
			json_object_foreach((json_t *)json_object_get(iv, "hv_exits_per_s"), reason,
			                    v)
			{
				int j = 0;
				while (j < n && strcmp(names[j], reason))
					j++;
				if (j == n && n < max) {
					names[n] = n == max - 1 ? "other" : reason;
					n++;
				}
			}
		}
	}
	return n;
}

/* A VM's mean rate of one exit reason ("other": the reasons not in names[0..n-1]). */
static double exit_rate(const json_t *vm, const char **names, int n, int which)
{
	const json_t *iv, *v;
	const char *reason;
	size_t k;
	double sum = 0;
	int m = 0;
	json_array_foreach(json_object_get(vm, "intervals"), k, iv)
	{
		const json_t *ex = json_object_get(iv, "hv_exits_per_s");
		if (!json_is_object(ex))
			continue;
		m++;
		json_object_foreach((json_t *)ex, reason, v)
		{
			int j = 0;
			while (j < n && strcmp(names[j], reason))
				j++;
			if (j == which || (j == n && !strcmp(names[which], "other")))
				sum += json_number_value(v);
		}
	}
	return m ? sum / m : NAN;
}

static void exits_chart(FILE *f, const json_t *res, int csu, const char **names, int nr)
{
	const json_t *vms[32];
	const char *x[32];
	static double y[SVG_MAX_SERIES][32];
	struct svg_series s[SVG_MAX_SERIES];
	int n = csu_vms(res, csu, vms, 32);
	char title[96];
	for (int v = 0; v < n; v++)
		x[v] = jget_str(vms[v], "role", "");
	for (int r = 0; r < nr; r++) {
		for (int v = 0; v < n; v++)
			y[r][v] = exit_rate(vms[v], names, nr, r);
		s[r] = (struct svg_series){ names[r], y[r] };
	}
	snprintf(title, sizeof(title), "CSU %d: hv exits per second by reason (mean)", csu);
	struct svg_chart c = { .title = title,
		               .ylabel = "exits/s",
		               .x = x,
		               .nx = n,
		               .s = s,
		               .ns = nr,
		               .width = 560,
		               .height = 300 };
	svg__bars(f, &c, 1);
}

static void html_exits(FILE *f, const json_t *res)
{
	const char *names[SVG_MAX_SERIES];
	int nr = exit_reasons(res, names, SVG_MAX_SERIES);
	fputs("<h2>hv exits per second by reason</h2>\n", f);
	if (!nr) {
		fputs("<p class=\"note\" id=\"no-exits\">", f);
		if (!strcmp(jget_str(res, "platform", ""), "native"))
			fputs("native: no VM exits", f);
		else
			html__escf(f, "%s: no hv exit statistics in this result",
			           jget_str(res, "platform", ""));
		fputs("</p>\n", f);
		return;
	}
	fputs("<div class=\"charts\" id=\"exits\">\n", f);
	for (int c = 0; c < csu_count(res); c++)
		exits_chart(f, res, c, names, nr);
	fputs("</div>\n", f);
}

/* "pread64 8.1, pwrite64 6.02, ..." from a per-operation figure's top system calls. */
static const char *top_calls(const json_t *po, char *buf, size_t len)
{
	const json_t *c;
	size_t i, at = 0;
	buf[0] = 0;
	json_array_foreach(json_object_get(po, "top_syscalls"), i, c)
	{
		int n = snprintf(buf + at, len - at, "%s%s %.3g", i ? ", " : "",
		                 jget_str(c, "call", ""), jget_num(c, "per_op", NAN));
		if (n < 0 || (size_t)n >= len - at)
			break;
		at += (size_t)n;
	}
	return buf;
}

static void html_per_op(FILE *f, const json_t *res)
{
	const json_t *vm;
	size_t i;
	char calls[512];
	int rows = 0;
	json_array_foreach(json_object_get(res, "vms"), i, vm)
	{
		const json_t *po = json_object_get(vm, "hv_per_op");
		if (!po)
			continue;
		if (!rows++) {
			fputs(
			    "<h2>hv exits per unit of work</h2>\n<p class=\"note\">Over the whole "
			    "measurement; the same on a nested guest as on bare metal.</p>\n"
			    "<table id=\"per-op\">\n",
			    f);
			th_row(f, (const char *const[]){ "VM", "unit", "units", "exits",
			                                 "system calls",
			                                 "most frequent calls per unit", NULL });
		}
		fputs("<tr>", f);
		td_str(f, jget_str(vm, "name", ""));
		td_str(f, jget_str(po, "unit", ""));
		td_num(f, jget_num(po, "work", NAN), 6);
		td_num(f, jget_num(po, "exits", NAN), 4);
		td_num(f, jget_num(po, "syscalls", NAN), 4);
		td_str(f, top_calls(po, calls, sizeof(calls)));
		fputs("</tr>\n", f);
	}
	if (rows)
		fputs("</table>\n", f);
}

void report__write(FILE *f, const json_t *res)
{
	char title[256];
	snprintf(title, sizeof(title), "vcons report: %s", jget_str(res, "run_id", ""));
	html__begin(f, title);
	html_header(f, res);
	html_verdict(f, res);
	html_scores(f, res);
	html_vm_table(f, res);
	html_throughput(f, res);
	html_latency(f, res);
	html_dilation(f, res);
	html_exits(f, res);
	html_per_op(f, res);
	report__infra_html(f, res);
	fputs("<p class=\"note\">Written by <code>vcons report</code> from a vcons-result/1 file; "
	      "hover a bar or point for its value.</p>\n",
	      f);
	html__end(f);
}

char *report__page(const json_t *res)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	report__write(f, res);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ---- text summary ---- */

/* A number for the text table, "-" when it is not finite. */
static const char *fmt(char *buf, size_t len, int prec, double v)
{
	if (isfinite(v))
		snprintf(buf, len, "%.*f", prec, v);
	else
		snprintf(buf, len, "-");
	return buf;
}

static void print_vm(FILE *f, const json_t *res, const json_t *vm)
{
	struct vm_row r;
	char b[8][40];
	vm_row(res, vm, &r);
	if (r.busy && isfinite(r.lat_ms))
		snprintf(b[3], sizeof(b[3]), "p%.4g %.2f", r.pctl, r.lat_ms);
	else
		snprintf(b[3], sizeof(b[3]), "-");
	fmt(b[4], sizeof(b[4]), 4, r.dil_lo);
	fmt(b[5], sizeof(b[5]), 4, r.dil_hi);
	if (strcmp(b[4], b[5]))
		snprintf(b[6], sizeof(b[6]), "%s-%s", b[4], b[5]);
	else
		snprintf(b[6], sizeof(b[6]), "%s", b[4]);
	fprintf(f, "  %-14s %10s %10s %7s %14s %6s %15s %6s\n", r.name,
	        fmt(b[0], sizeof(b[0]), 1, r.rate), fmt(b[1], sizeof(b[1]), 1, r.target),
	        fmt(b[2], sizeof(b[2]), 3, r.norm), b[3], fmt(b[4], sizeof(b[4]), 2, r.fail_pct),
	        b[6], fmt(b[7], sizeof(b[7]), 1, r.cpu));
}

void report__summary(FILE *f, const json_t *res, const char *page)
{
	const char *valid, *compliant;
	const json_t *score = json_object_get(res, "score"), *c, *vm;
	size_t i;
	char b[40];
	int per_op_rows = 0;
	verdict_words(res, &valid, &compliant);
	if (json_object_get(res, "accel"))
		fprintf(f, "acceleration: %s\n", jget_str(res, "accel", ""));
	fprintf(f, "run %s: %s, %d CSU%s, rules %s\n", jget_str(res, "run_id", ""),
	        jget_str(res, "platform", ""), csu_count(res), csu_count(res) == 1 ? "" : "s",
	        jget_str(json_object_get(res, "rules"), "name", ""));
	fprintf(f, "%s, %s (%zu reasons)\nscore %s\n", valid, compliant,
	        json_array_size(json_object_get(json_object_get(res, "verdict"), "reasons")),
	        fmt(b, sizeof(b), 3, jget_num(score, "run", NAN)));
	json_array_foreach(json_object_get(score, "csus"), i, c)
	{
		const json_t *in = json_object_get(c, "infrastructure");
		fprintf(f, "  csu%d: %.3f, lowest %s %.3f\n", (int)jget_int(c, "csu", 0),
		        jget_num(c, "score", NAN), jget_str(c, "lowest_workload", ""),
		        jget_num(c, "lowest", NAN));
		if (in)
			fprintf(
			    f,
			    "    workloads %.3f, infrastructure %.3f: %d of %d moves within the "
			    "downtime limit, %.1f an hour (weight %g)\n",
			    jget_num(c, "workloads", NAN), jget_num(in, "normalized", NAN),
			    (int)jget_int(in, "within_limit", 0), (int)jget_int(in, "moves", 0),
			    jget_num(in, "per_hour", NAN), jget_num(in, "weight", NAN));
	}
	fprintf(f, "  %-14s %10s %10s %7s %14s %6s %15s %6s\n", "VM", "rate/s", "target/s", "norm.",
	        "latency ms", "fail%", "dilation", "cpu%");
	json_array_foreach(json_object_get(res, "vms"), i, vm) print_vm(f, res, vm);
	json_array_foreach(json_object_get(res, "vms"), i, vm)
	{
		const json_t *po = json_object_get(vm, "hv_per_op");
		char calls[512];
		if (po && !per_op_rows++)
			fprintf(f, "hv exits per unit of work, whole measurement:\n");
		if (po)
			fprintf(
			    f,
			    "  %-14s %.4g exits per %s (%.4g system calls, %.4g clock reads among "
			    "them: %s)\n",
			    jget_str(vm, "name", ""), jget_num(po, "exits", NAN),
			    jget_str(po, "unit", ""), jget_num(po, "syscalls", NAN),
			    jget_num(po, "clock_syscalls", NAN),
			    top_calls(po, calls, sizeof(calls)));
	}
	report__infra_text(f, res);
	fprintf(f, "report: %s\n", page);
}
