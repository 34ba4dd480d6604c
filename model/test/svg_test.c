/* Unit tests for model/svg.c and model/htmlpage.c: escaping of every special character,
 * number cells, round tick steps and y ranges, and the elements charts draw (bars, stacked bars,
 * broken lines where values are missing, escaped labels). */
#include "tools/unit.h"
#include "model/htmlpage.h"
#include "model/svg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* What f wrote, as a string the caller frees. */
struct mem {
	char *buf;
	size_t len;
	FILE *f;
};

static void mem_open(struct mem *m)
{
	m->buf = NULL, m->len = 0;
	m->f = open_memstream(&m->buf, &m->len);
	assert_non_null(m->f);
}

static char *mem_close(struct mem *m)
{
	assert_int_equal(fclose(m->f), 0);
	return m->buf;
}

static int count(const char *s, const char *what)
{
	int n = 0;
	for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

static void escapes_specials(void **state)
{
	(void)state;
	struct mem m;
	mem_open(&m);
	html__esc(m.f, "<a href=\"x\">Tom & 'Jerry'</a>");
	html__esc(m.f, NULL);
	html__escf(m.f, "|%s%d", "<", 5);
	char *s = mem_close(&m);
	assert_string_equal(
	    s, "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;|&lt;5");
	free(s);
}

static void numbers(void **state)
{
	(void)state;
	struct mem m;
	mem_open(&m);
	html__num(m.f, 1.23456, 3);
	fputc(' ', m.f);
	html__num(m.f, NAN, 3);
	fputc(' ', m.f);
	html__num(m.f, INFINITY, 3);
	char *s = mem_close(&m);
	assert_string_equal(s, "1.23 - -");
	free(s);
}

static void tick_steps(void **state)
{
	(void)state;
	assert_true(fabs(svg__tick_step(10, 5) - 2) < 1e-12);
	assert_true(fabs(svg__tick_step(0.07, 5) - 0.02) < 1e-12);
	assert_true(fabs(svg__tick_step(1234, 5) - 500) < 1e-9);
	assert_true(fabs(svg__tick_step(1, 5) - 0.2) < 1e-12);
	assert_true(svg__tick_step(0, 5) == 1);
	assert_true(svg__tick_step(NAN, 5) == 1);
}

static const char *const cats[] = { "i0", "i1", "i2" };

static void ranges(void **state)
{
	(void)state;
	double a[] = { 3, 7, NAN }, b[] = { 0.962, 1.012, NAN }, none[] = { NAN, NAN, NAN };
	double lo, hi, step;
	struct svg_series s = { "a", a };
	struct svg_chart c = {
		.title = "t", .x = cats, .nx = 3, .s = &s, .ns = 1, .ref_label = "target", .ref = 10
	};
	svg__range(&c, 1, 0, &lo, &hi, &step);
	assert_true(lo == 0 && fabs(hi - 10) < 1e-9 && fabs(step - 2) < 1e-12);
	svg__range(&c, 1, 1, &lo, &hi, &step); /* one series stacked: the same */
	assert_true(lo == 0 && fabs(hi - 10) < 1e-9);
	s.y = b, c.ref_label = NULL, c.band_lo = 0.97, c.band_hi = 1.03;
	svg__range(&c, 0, 0, &lo, &hi, &step);
	assert_true(fabs(lo - 0.96) < 1e-9 && fabs(hi - 1.04) < 1e-9 && fabs(step - 0.02) < 1e-12);
	s.y = none, c.band_lo = c.band_hi = 0;
	svg__range(&c, 0, 0, &lo, &hi, &step);
	assert_true(lo == 0 && hi == 1);
}

static void grouped_and_stacked_bars(void **state)
{
	(void)state;
	double a[] = { 1, 2, 3 }, b[] = { 4, NAN, 6 };
	struct svg_series s[] = { { "<b>one</b>", a }, { "two & more", b } };
	struct svg_chart c = {
		.title = "exits \"by\" reason", .ylabel = "1/s", .x = cats, .nx = 3, .s = s, .ns = 2
	};
	struct mem m;
	mem_open(&m);
	svg__bars(m.f, &c, 0);
	svg__bars(m.f, &c, 1);
	char *out = mem_close(&m);
	assert_int_equal(count(out, "<svg "), 2);
	assert_int_equal(count(out, "</svg>"), 2);
	assert_int_equal(count(out, "</rect>"), 10); /* 5 values per chart; NAN draws nothing */
	assert_non_null(strstr(out, "&lt;b&gt;one&lt;/b&gt;"));
	assert_non_null(strstr(out, "two &amp; more"));
	assert_non_null(strstr(out, "exits &quot;by&quot; reason"));
	assert_null(strstr(out, "<b>"));
	free(out);
}

static void lines_break_at_gaps(void **state)
{
	(void)state;
	double a[] = { 1, NAN, 3 }, b[] = { 2, 2.5, 3 };
	struct svg_series s[] = { { "a", a }, { "b", b } };
	struct svg_chart c = { .title = "dilation",
		               .x = cats,
		               .nx = 3,
		               .s = s,
		               .ns = 2,
		               .band_lo = 0.95,
		               .band_hi = 1.05,
		               .band_label = "bound",
		               .ref_label = "ref",
		               .ref = 2 };
	struct mem m;
	mem_open(&m);
	svg__line(m.f, &c);
	char *out = mem_close(&m);
	assert_int_equal(count(out, "<polyline"), 3); /* a: two pieces, b: one */
	assert_int_equal(count(out, "<circle"), 5);
	assert_int_equal(count(out, "class=\"band\""), 1);
	assert_int_equal(count(out, "class=\"ref\""), 1);
	free(out);
}

static void empty_chart_is_still_an_svg(void **state)
{
	(void)state;
	struct svg_chart c = { .title = "nothing" };
	struct mem m;
	mem_open(&m);
	svg__bars(m.f, &c, 1);
	svg__line(m.f, &c);
	char *out = mem_close(&m);
	assert_int_equal(count(out, "<svg "), 2);
	assert_int_equal(count(out, "</svg>"), 2);
	assert_null(strstr(out, "nan"));
	free(out);
}

UNIT_MAIN(cmocka_unit_test(escapes_specials), cmocka_unit_test(numbers),
          cmocka_unit_test(tick_steps), cmocka_unit_test(ranges),
          cmocka_unit_test(grouped_and_stacked_bars), cmocka_unit_test(lines_break_at_gaps),
          cmocka_unit_test(empty_chart_is_still_an_svg))
