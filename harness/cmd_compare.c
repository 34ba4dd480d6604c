/* harness/cmd_compare.c: `vcons compare A.json B.json ... [--html FILE]`: the run score and, per
 * CSU and busy workload, the normalized result and the rate of each result side by side, with
 * ratios against the first (the baseline), as a text table and optionally as a self-contained
 * HTML page with grouped bar charts. Results may differ in platform and CSU count: what one
 * lacks shows as "-". */
#include "harness/cmd.h"
#include "lib/json.h"
#include "lib/opt.h"
#include "model/config.h"
#include "model/htmlpage.h"
#include "model/result.h"
#include "model/svg.h"

#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RESULTS SVG_MAX_SERIES
#define MAX_CSUS    64
#define MAX_ROWS    (8 + MAX_CSUS * (2 + 2 * NBUSY))

/* One line of the comparison: text cells, or numbers with their ratio to the baseline. */
struct row {
	char label[40];
	int numeric, prec;
	double v[MAX_RESULTS];
	char s[MAX_RESULTS][96];
};

struct cmp {
	int n, ncsus;
	json_t *res[MAX_RESULTS];
	const char *path[MAX_RESULTS];
	struct row row[MAX_ROWS];
	int nrows;
};

static const json_t *csu_score(const json_t *res, int csu)
{
	const json_t *c;
	size_t i;
	json_array_foreach(json_object_get(json_object_get(res, "score"), "csus"), i, c)
	{
		if (jget_int(c, "csu", 0) == csu)
			return c;
	}
	return NULL;
}

/* The mean rate over the intervals of a CSU's VM of one role. */
static double vm_rate(const json_t *res, int csu, const char *role)
{
	const json_t *vm, *iv;
	size_t i, k;
	json_array_foreach(json_object_get(res, "vms"), i, vm)
	{
		if (jget_int(vm, "csu", 0) != csu || strcmp(jget_str(vm, "role", ""), role))
			continue;
		double sum = 0;
		int n = 0;
		json_array_foreach(json_object_get(vm, "intervals"), k, iv)
		{
			if (isfinite(jget_num(iv, "rate", NAN)))
				sum += jget_num(iv, "rate", NAN), n++;
		}
		return n ? sum / n : NAN;
	}
	return NAN;
}

static struct row *add_row(struct cmp *c, int numeric, int prec, const char *label)
{
	struct row *r = &c->row[c->nrows++];
	memset(r, 0, sizeof(*r));
	r->numeric = numeric, r->prec = prec;
	snprintf(r->label, sizeof(r->label), "%s", label);
	for (int i = 0; i < MAX_RESULTS; i++)
		r->v[i] = NAN;
	return r;
}

static void text_rows(struct cmp *c)
{
	struct row *file = add_row(c, 0, 0, "result"), *id = add_row(c, 0, 0, "run id"),
	           *pf = add_row(c, 0, 0, "platform"), *csus = add_row(c, 0, 0, "CSUs"),
	           *rules = add_row(c, 0, 0, "rules"), *verdict = add_row(c, 0, 0, "verdict");
	for (int i = 0; i < c->n; i++) {
		const json_t *res = c->res[i], *v = json_object_get(res, "verdict");
		snprintf(file->s[i], sizeof(file->s[i]), "%c: %s", 'A' + i, c->path[i]);
		snprintf(id->s[i], sizeof(id->s[i]), "%s", jget_str(res, "run_id", ""));
		snprintf(pf->s[i], sizeof(pf->s[i]), "%s", jget_str(res, "platform", ""));
		const json_t *n = json_object_get(res, "csus");
		snprintf(csus->s[i], sizeof(csus->s[i]), "%d",
		         json_is_integer(n) ? (int)json_integer_value(n)
		                            : (int)json_array_size(json_object_get(
		                                  json_object_get(res, "score"), "csus")));
		snprintf(rules->s[i], sizeof(rules->s[i]), "%s",
		         jget_str(json_object_get(res, "rules"), "name", ""));
		snprintf(verdict->s[i], sizeof(verdict->s[i]), "%s, %s",
		         json_is_true(json_object_get(v, "valid")) ? "valid" : "INVALID",
		         json_is_true(json_object_get(v, "compliant")) ? "compliant"
		                                                       : "not compliant");
	}
}

static void csu_rows(struct cmp *c, int csu)
{
	char label[40];
	snprintf(label, sizeof(label), "csu%d score", csu);
	struct row *score = add_row(c, 1, 3, label);
	snprintf(label, sizeof(label), "csu%d lowest", csu);
	struct row *low = add_row(c, 0, 0, label);
	for (int i = 0; i < c->n; i++) {
		const json_t *s = csu_score(c->res[i], csu);
		score->v[i] = jget_num(s, "score", NAN);
		if (s)
			snprintf(low->s[i], sizeof(low->s[i]), "%s %.3f",
			         jget_str(s, "lowest_workload", ""), jget_num(s, "lowest", NAN));
	}
	for (int w = 0; w < NBUSY; w++) {
		const char *role = role_name((enum role)w);
		snprintf(label, sizeof(label), "csu%d %s normalized", csu, role);
		struct row *norm = add_row(c, 1, 3, label);
		snprintf(label, sizeof(label), "csu%d %s rate/s", csu, role);
		struct row *rate = add_row(c, 1, 1, label);
		for (int i = 0; i < c->n; i++) {
			norm->v[i] = jget_num(
			    json_object_get(csu_score(c->res[i], csu), "normalized"), role, NAN);
			rate->v[i] = vm_rate(c->res[i], csu, role);
		}
	}
}

static void build(struct cmp *c)
{
	c->nrows = 0, c->ncsus = 0;
	text_rows(c);
	struct row *run = add_row(c, 1, 3, "run score");
	for (int i = 0; i < c->n; i++) {
		const json_t *csus = json_object_get(json_object_get(c->res[i], "score"), "csus");
		run->v[i] = jget_num(json_object_get(c->res[i], "score"), "run", NAN);
		if ((int)json_array_size(csus) > c->ncsus)
			c->ncsus = (int)json_array_size(csus);
	}
	if (c->ncsus > MAX_CSUS)
		c->ncsus = MAX_CSUS;
	for (int k = 0; k < c->ncsus; k++)
		csu_rows(c, k);
}

/* A cell as text: the string, or the number with its ratio to the baseline. */
static void cell(const struct row *r, int i, char *buf, size_t len, char *ratio, size_t rlen)
{
	*ratio = 0;
	if (!r->numeric) {
		snprintf(buf, len, "%s", r->s[i][0] ? r->s[i] : "-");
		return;
	}
	if (!isfinite(r->v[i])) {
		snprintf(buf, len, "-");
		return;
	}
	snprintf(buf, len, "%.*f", r->prec, r->v[i]);
	if (i > 0 && isfinite(r->v[0]) && r->v[0] != 0)
		snprintf(ratio, rlen, "x%.3f", r->v[i] / r->v[0]);
	else if (i > 0)
		snprintf(ratio, rlen, "(no baseline)");
}

static void print_text(const struct cmp *c)
{
	int width[MAX_RESULTS] = { 0 };
	char buf[128], ratio[32], both[180];
	for (int i = 0; i < c->n; i++) {
		width[i] = 12;
		for (int r = 0; r < c->nrows; r++) {
			cell(&c->row[r], i, buf, sizeof(buf), ratio, sizeof(ratio));
			int w = (int)(strlen(buf) + (*ratio ? strlen(ratio) + 1 : 0));
			if (w > width[i])
				width[i] = w;
		}
	}
	for (int r = 0; r < c->nrows; r++) {
		printf("%-22s", c->row[r].label);
		for (int i = 0; i < c->n; i++) {
			cell(&c->row[r], i, buf, sizeof(buf), ratio, sizeof(ratio));
			snprintf(both, sizeof(both), "%s%s%s", buf, *ratio ? " " : "", ratio);
			printf("  %-*s", i + 1 < c->n ? width[i] : 0, both);
		}
		printf("\n");
	}
	printf("ratios: each figure over the baseline's (A); higher is better for every figure\n");
}

static void html_table(FILE *f, const struct cmp *c)
{
	char buf[128], ratio[32];
	fputs("<table id=\"comparison\">\n", f);
	for (int r = 0; r < c->nrows; r++) {
		fputs(r == 0 ? "<tr><th class=\"l\">" : "<tr><td class=\"l\">", f);
		html__esc(f, c->row[r].label);
		fputs(r == 0 ? "</th>" : "</td>", f);
		for (int i = 0; i < c->n; i++) {
			cell(&c->row[r], i, buf, sizeof(buf), ratio, sizeof(ratio));
			fputs(r == 0              ? "<th class=\"l\">"
			      : c->row[r].numeric ? "<td>"
			                          : "<td class=\"l\">",
			      f);
			html__esc(f, buf);
			if (*ratio) {
				double q = c->row[r].v[i] / c->row[r].v[0];
				fprintf(f, " <span class=\"%s\">",
				        !isfinite(q) ? "note"
				        : q >= 1     ? "ok"
				                     : "bad");
				html__esc(f, ratio);
				fputs("</span>", f);
			}
			fputs(r == 0 ? "</th>" : "</td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

/* A grouped bar chart of the rows whose label matches: one group per row, one bar per result. */
static void html_chart(FILE *f, const struct cmp *c, const char *title, int scores)
{
	static const char *x[MAX_ROWS];
	static char xl[MAX_ROWS][40]; /* "run", "csu0" or "csu0 db" */
	static double y[MAX_RESULTS][MAX_ROWS];
	struct svg_series s[MAX_RESULTS];
	static char names[MAX_RESULTS][120];
	int nx = 0;
	for (int r = 0; r < c->nrows; r++) {
		const char *l = c->row[r].label;
		int want = scores ? strstr(l, "score") != NULL : strstr(l, "normalized") != NULL;
		if (!c->row[r].numeric || !want)
			continue;
		const char *last = strrchr(l, ' '); /* the label without its last word */
		snprintf(xl[nx], sizeof(xl[nx]), "%.*s", last ? (int)(last - l) : (int)strlen(l),
		         l);
		x[nx] = xl[nx];
		for (int i = 0; i < c->n; i++)
			y[i][nx] = c->row[r].v[i];
		nx++;
	}
	for (int i = 0; i < c->n; i++) {
		snprintf(names[i], sizeof(names[i]), "%c: %s (%s)", 'A' + i,
		         jget_str(c->res[i], "run_id", ""), jget_str(c->res[i], "platform", ""));
		s[i] = (struct svg_series){ names[i], y[i] };
	}
	int w = 120 + nx * (c->n * 16 + 30);
	struct svg_chart ch = { .title = title,
		                .ylabel = scores ? "score" : "normalized",
		                .x = x,
		                .nx = nx,
		                .s = s,
		                .ns = c->n,
		                .width = w < 560    ? 560
		                         : w > 1160 ? 1160
		                                    : w,
		                .height = 300 };
	svg__bars(f, &ch, 0);
}

static int write_html(const struct cmp *c, const char *path)
{
	struct html_out page;
	char err[PATH_MAX + 256];
	if (html__open(&page, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "vcons: compare: %s\n", err);
		return 1;
	}
	FILE *f = page.f;
	html__begin(f, "vcons compare");
	fprintf(f,
	        "<h1>vcons compare: %d results</h1>\n<p class=\"note\">Ratios are each figure "
	        "over the baseline's (A); higher is better for every figure.</p>\n",
	        c->n);
	html_table(f, c);
	fputs("<h2>Charts</h2>\n<div class=\"charts\">\n", f);
	html_chart(f, c, "Run and CSU scores", 1);
	html_chart(f, c, "Normalized result per CSU and workload", 0);
	fputs("</div>\n", f);
	html__end(f);
	if (html__commit(&page, err, sizeof(err)) < 0) {
		fprintf(stderr, "vcons: compare: %s\n", err);
		return 1;
	}
	printf("html: %s\n", path);
	return 0;
}

/* OPT_RUN, or the exit status after --help or a bad command line. */
static int parse(int argc, char **argv, struct cmp *c, const char **html)
{
	const struct opt opts[] = {
		{ OPT_STRING("html", html), .arg = "FILE",
		  .help =
		      "also write the comparison as a self-contained HTML page\nwith bar charts" },
		OPT_END,
	};
	struct opt_cmd cmd = {
		.prog = "vcons compare",
		.synopsis = "A.json B.json ... [--html FILE]",
		.about = "Compares results: run score, CSU scores and, per CSU and workload, the "
		         "normalized result\nand the rate, with each figure's ratio to the first "
		         "result (the baseline).\n",
		.footer = "Exit: 0 done, 1 an unreadable or invalid result or unwritable page, 2 "
		          "usage.\n",
		.opts = opts,
		CMD_ARGS("results", 0),
	};
	int rc = opt_parse(&cmd, argc, argv);
	if (rc != OPT_RUN)
		return rc;
	if (argc - cmd.argi < 2)
		return opt_usage_error(&cmd, "needs two or more results");
	if (argc - cmd.argi > MAX_RESULTS)
		return opt_usage_error(&cmd, "at most %d results at once", MAX_RESULTS);
	for (int i = cmd.argi; i < argc; i++)
		c->path[c->n++] = argv[i];
	return OPT_RUN;
}

int cmd__compare(int argc, char **argv)
{
	const char *html = NULL;
	char err[PATH_MAX + 256];
	struct cmp *c = calloc(1, sizeof(*c));
	if (!c) {
		fprintf(stderr, "vcons: compare: out of memory\n");
		return 1;
	}
	int rc = parse(argc, argv, c, &html);
	for (int i = 0; rc == OPT_RUN && i < c->n; i++) {
		c->res[i] = result__load(c->path[i], err, sizeof(err));
		if (!c->res[i]) {
			fprintf(stderr, "vcons: compare: %s\n", err);
			rc = 1;
		}
	}
	if (rc == OPT_RUN) {
		build(c);
		print_text(c);
		rc = html ? write_html(c, html) : 0;
	}
	for (int i = 0; i < c->n; i++)
		json_decref(c->res[i]);
	free(c);
	return rc;
}
