/* model/svg.h: small inline SVG charts for vcons' HTML pages: a line chart and a bar chart
 * (grouped or stacked) over named categories, with a y axis of round ticks, grid, legend, an
 * optional dashed reference line and an optional shaded band. Every label is escaped
 * (htmlpage.h); values that are not finite are left out (a gap in a line, no bar). Each point
 * and bar carries a <title> with its exact value, shown by browsers on hover, without script. */
#ifndef MODEL_SVG_H
#define MODEL_SVG_H
#include <stdio.h>

#define SVG_MAX_SERIES 16

struct svg_series {
	const char *name;
	const double *y; /* one value per category; NAN = none */
};

struct svg_chart {
	const char *title;
	const char *ylabel;
	const char *const *x; /* category labels, nx of them */
	int nx;
	const struct svg_series *s; /* at most SVG_MAX_SERIES */
	int ns;
	int width, height;     /* pixels; 0 = 520 x 260 */
	const char *ref_label; /* when set, a dashed horizontal line at ref */
	double ref;
	double band_lo, band_hi; /* a shaded band when band_lo < band_hi */
	const char *band_label;
};

/* The i-th colour of the palette (cycles). */
const char *svg__color(int i);
/* A round tick step (1, 2 or 5 times a power of ten) giving at most max_ticks ticks over span. */
double svg__tick_step(double span, int max_ticks);
/* The y range a chart shows: its data (summed when stacked), reference and band, widened to
 * whole ticks; bars always include 0. */
void svg__range(const struct svg_chart *c, int bars, int stacked, double *lo, double *hi,
                double *step);

/* One <svg> element. */
void svg__line(FILE *f, const struct svg_chart *c);
void svg__bars(FILE *f, const struct svg_chart *c, int stacked);

#endif
