/* model/htmlpage.h: the plumbing of vcons' self-contained HTML pages (report, compare): escaping
 * of every string that came from a result, the page's head with its inline style sheet, number
 * cells, and atomic output (a temporary file in the target's directory, fsynced and renamed, so a
 * reader never sees half a page). Pages load nothing: no scripts, no external resources. */
#ifndef MODEL_HTMLPAGE_H
#define MODEL_HTMLPAGE_H
#include <limits.h>
#include <stdio.h>

/* Writes s with & < > " ' escaped, so it is safe as HTML/SVG text and attribute value; NULL
 * writes nothing. */
void html__esc(FILE *f, const char *s);
/* printf, then the result escaped (for labels built from result strings). */
void html__escf(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A number with `prec` significant digits, or "-" when it is not finite. */
void html__num(FILE *f, double v, int prec);

/* The page from its doctype to <body> (title escaped), and from </body> to the end. */
void html__begin(FILE *f, const char *title);
void html__end(FILE *f);

struct html_out {
	FILE *f;
	char tmp[PATH_MAX];
	char path[PATH_MAX];
};
/* Opens PATH.tmp.PID for writing; 0, or -1 with a one-line reason. */
int html__open(struct html_out *o, const char *path, char *err, size_t errlen);
/* Flushes, fsyncs and renames the page over its final name; 0, or -1 with a reason (the
 * temporary file is removed either way). */
int html__commit(struct html_out *o, char *err, size_t errlen);
/* Drops the page: closes and removes the temporary file. */
void html__abort(struct html_out *o);

#endif
