/* model/svg.c: inline SVG line and bar charts (see svg.h). */
#include "model/svg.h"
#include "model/htmlpage.h"

#include <math.h>
#include <string.h>

enum { M_LEFT = 62, M_RIGHT = 14, M_TOP = 24, M_BOTTOM = 36, LEGEND_ROW = 16 };

/* The plot area and the scale of one chart. */
struct frame {
	double x0, x1, y0, y1; /* pixels: left, right, top, bottom */
	double lo, hi, step;   /* values at y1 and y0; tick step */
	int w, h;
};

const char *svg__color(int i)
{
	static const char *const palette[] = { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
		                               "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
		                               "#bcbd22", "#17becf" };
	int n = (int)(sizeof(palette) / sizeof(palette[0]));
	return palette[((i % n) + n) % n];
}

double svg__tick_step(double span, int max_ticks)
{
	if (!(span > 0) || !isfinite(span) || max_ticks < 1)
		return 1;
	double raw = span / max_ticks, p = pow(10, floor(log10(raw)));
	static const double m[] = { 1, 2, 5, 10 };
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (m[i] * p >= raw * (1 - 1e-9))
			return m[i] * p;
	return 10 * p;
}

static void widen(double v, double *lo, double *hi)
{
	if (!isfinite(v))
		return;
	if (v < *lo)
		*lo = v;
	if (v > *hi)
		*hi = v;
}

void svg__range(const struct svg_chart *c, int bars, int stacked, double *lo, double *hi,
                double *step)
{
	*lo = INFINITY, *hi = -INFINITY;
	for (int i = 0; i < c->nx; i++) {
		double sum = 0;
		for (int s = 0; s < c->ns; s++) {
			double v = c->s[s].y[i];
			if (stacked)
				sum += isfinite(v) ? v : 0;
			else
				widen(v, lo, hi);
		}
		if (stacked)
			widen(sum, lo, hi);
	}
	if (c->ref_label)
		widen(c->ref, lo, hi);
	if (c->band_lo < c->band_hi)
		widen(c->band_lo, lo, hi), widen(c->band_hi, lo, hi);
	if (bars)
		widen(0, lo, hi);
	if (*lo > *hi) /* no data at all */
		*lo = 0, *hi = 1;
	if (*hi - *lo < 1e-12 * fmax(1, fabs(*hi)))
		*hi += fmax(fabs(*hi) * 0.05, 1e-9), *lo -= bars ? 0 : fmax(fabs(*lo) * 0.05, 1e-9);
	*step = svg__tick_step(*hi - *lo, 5);
	*lo = floor(*lo / *step + 1e-9) * *step;
	*hi = ceil(*hi / *step - 1e-9) * *step;
	if (*hi <= *lo)
		*hi = *lo + *step;
}

static double ypix(const struct frame *fr, double v)
{
	return fr->y1 - (v - fr->lo) / (fr->hi - fr->lo) * (fr->y1 - fr->y0);
}

/* The legend's rows (estimated text widths) as the frame's top needs them. */
static int legend_rows(const struct svg_chart *c, int width, int draw, FILE *f)
{
	double x = M_LEFT, y = M_TOP + 4;
	int rows = c->ns > 0;
	for (int s = 0; s < c->ns; s++) {
		double w = 18 + 6.5 * (double)strlen(c->s[s].name ? c->s[s].name : "") + 12;
		if (x + w > width - M_RIGHT && x > M_LEFT)
			x = M_LEFT, y += LEGEND_ROW, rows++;
		if (draw) {
			fprintf(
			    f,
			    "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"10\" fill=\"%s\"/>",
			    x, y, svg__color(s));
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", x + 16, y + 9);
			html__esc(f, c->s[s].name);
			fputs("</text>\n", f);
		}
		x += w;
	}
	return rows;
}

/* The shaded band under everything, then the grid lines with their y tick labels. */
static void band_and_grid(FILE *f, const struct svg_chart *c, const struct frame *fr)
{
	if (c->band_lo < c->band_hi) {
		double a = ypix(fr, fmin(c->band_hi, fr->hi)),
		       b = ypix(fr, fmax(c->band_lo, fr->lo));
		fprintf(f,
		        "<rect class=\"band\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
		        "fill=\"#2ca02c\" fill-opacity=\"0.12\"><title>",
		        fr->x0, a, fr->x1 - fr->x0, b - a);
		html__esc(f, c->band_label);
		fputs("</title></rect>\n", f);
	}
	for (int i = 0; i <= (int)lround((fr->hi - fr->lo) / fr->step); i++) {
		double v = fr->lo + i * fr->step, y = ypix(fr, v);
		fprintf(f,
		        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>"
		        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.6g</text>\n",
		        fr->x0, y, fr->x1, y, fr->x0 - 4, y + 4, fabs(v) < fr->step * 1e-6 ? 0 : v);
	}
}

/* Opens the <svg>, draws title, legend, band, grid, y ticks, category labels and axes. */
static void frame_open(FILE *f, const struct svg_chart *c, struct frame *fr, int bars, int stacked)
{
	fr->w = c->width > 0 ? c->width : 520;
	fr->h = c->height > 0 ? c->height : 260;
	int rows = legend_rows(c, fr->w, 0, NULL);
	fr->x0 = M_LEFT, fr->x1 = fr->w - M_RIGHT;
	fr->y0 = M_TOP + 10 + rows * LEGEND_ROW, fr->y1 = fr->h - M_BOTTOM;
	svg__range(c, bars, stacked, &fr->lo, &fr->hi, &fr->step);
	fprintf(
	    f,
	    "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	    "viewBox=\"0 0 %d %d\" role=\"img\">\n<title>",
	    fr->w, fr->h, fr->w, fr->h);
	html__esc(f, c->title);
	fprintf(f, "</title>\n<text class=\"t\" x=\"%d\" y=\"16\">", M_LEFT);
	html__esc(f, c->title);
	fputs("</text>\n", f);
	legend_rows(c, fr->w, 1, f);
	band_and_grid(f, c, fr);
	double cw = (fr->x1 - fr->x0) / (c->nx > 0 ? c->nx : 1);
	for (int i = 0; i < c->nx; i++) {
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
		        fr->x0 + (i + 0.5) * cw, fr->y1 + 14);
		html__esc(f, c->x[i]);
		fputs("</text>\n", f);
	}
	fprintf(
	    f,
	    "<text x=\"12\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 12 %.1f)\">",
	    (fr->y0 + fr->y1) / 2, (fr->y0 + fr->y1) / 2);
	html__esc(f, c->ylabel);
	fprintf(f, "</text>\n<path d=\"M%.1f %.1fV%.1fH%.1f\" fill=\"none\" stroke=\"#555\"/>\n",
	        fr->x0, fr->y0, fr->y1, fr->x1);
}

/* The reference line over the data, and the end of the <svg>. */
static void frame_close(FILE *f, const struct svg_chart *c, const struct frame *fr)
{
	if (c->ref_label && isfinite(c->ref)) {
		double y = ypix(fr, c->ref);
		fprintf(f,
		        "<line class=\"ref\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
		        "stroke=\"#b42318\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>"
		        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" style=\"fill:#b42318\" "
		        "stroke=\"#fff\" stroke-width=\"3\" paint-order=\"stroke\">",
		        fr->x0, y, fr->x1, y, fr->x1 - 2, y - 4);
		html__esc(f, c->ref_label);
		fputs("</text>\n", f);
	}
	fputs("</svg>\n", f);
}

static void value_title(FILE *f, const struct svg_chart *c, int s, int i, double v)
{
	fputs("<title>", f);
	html__escf(f, "%s, %s: %.6g", c->s[s].name ? c->s[s].name : "", c->x[i] ? c->x[i] : "", v);
	fputs("</title>", f);
}

/* One series as polylines (broken where a value is missing) and dots. */
static void line_series(FILE *f, const struct svg_chart *c, const struct frame *fr, int s)
{
	double cw = (fr->x1 - fr->x0) / c->nx;
	int open = 0;
	for (int i = 0; i <= c->nx; i++) {
		double v = i < c->nx ? c->s[s].y[i] : NAN;
		if (!isfinite(v)) {
			if (open)
				fputs("\"/>\n", f);
			open = 0;
			continue;
		}
		if (!open)
			fprintf(
			    f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
			    svg__color(s));
		fprintf(f, "%s%.1f,%.1f", open ? " " : "", fr->x0 + (i + 0.5) * cw, ypix(fr, v));
		open = 1;
	}
	for (int i = 0; i < c->nx; i++) {
		double v = c->s[s].y[i];
		if (!isfinite(v))
			continue;
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\">",
		        fr->x0 + (i + 0.5) * cw, ypix(fr, v), svg__color(s));
		value_title(f, c, s, i, v);
		fputs("</circle>\n", f);
	}
}

void svg__line(FILE *f, const struct svg_chart *c)
{
	struct frame fr;
	frame_open(f, c, &fr, 0, 0);
	for (int s = 0; c->nx > 0 && s < c->ns && s < SVG_MAX_SERIES; s++)
		line_series(f, c, &fr, s);
	frame_close(f, c, &fr);
}

static void bar(FILE *f, const struct svg_chart *c, const struct frame *fr, int s, int i, double x,
                double w, double from, double to)
{
	double a = ypix(fr, fmax(from, to)), b = ypix(fr, fmin(from, to));
	fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">", x, a,
	        w, b - a, svg__color(s));
	value_title(f, c, s, i, to - from);
	fputs("</rect>\n", f);
}

void svg__bars(FILE *f, const struct svg_chart *c, int stacked)
{
	struct frame fr;
	frame_open(f, c, &fr, 1, stacked);
	int ns = c->ns < SVG_MAX_SERIES ? c->ns : SVG_MAX_SERIES;
	double cw = (fr.x1 - fr.x0) / (c->nx > 0 ? c->nx : 1), inner = cw * 0.7;
	double bw = stacked || ns < 1 ? inner : inner / ns;
	for (int i = 0; i < c->nx; i++) {
		double left = fr.x0 + i * cw + (cw - inner) / 2, base = 0;
		for (int s = 0; s < ns; s++) {
			double v = c->s[s].y[i];
			if (!isfinite(v))
				continue;
			if (stacked) {
				bar(f, c, &fr, s, i, left, bw, base, base + v);
				base += v;
			} else {
				bar(f, c, &fr, s, i, left + s * bw, bw, 0, v);
			}
		}
	}
	frame_close(f, c, &fr);
}
