/* model/htmlpage.c: escaping, page frame and atomic output of HTML pages (see htmlpage.h). */
#include "model/htmlpage.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

void html__esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

void html__escf(FILE *f, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	html__esc(f, buf);
}

void html__num(FILE *f, double v, int prec)
{
	if (isfinite(v))
		fprintf(f, "%.*g", prec, v);
	else
		fputc('-', f);
}

static const char style[] =
    "body{font:14px/1.4 sans-serif;margin:24px;color:#222;background:#fff;max-width:1180px}\n"
    "h1{font-size:22px;margin:0 0 8px}h2{font-size:18px;margin:24px 0 8px;"
    "border-bottom:1px solid #ccc}\n"
    "table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;"
    "text-align:right}th{background:#f0f0f0}td.l,th.l{text-align:left}\n"
    ".ok{color:#1a7f37;font-weight:bold}.bad{color:#b42318;font-weight:bold}"
    ".warn{color:#9a6700;font-weight:bold}\n"
    ".score{font-size:28px;font-weight:bold}.note{color:#555}\n"
    ".charts{display:flex;flex-wrap:wrap;gap:12px}svg.chart{border:1px solid #ddd;"
    "background:#fff}\n"
    "svg text{font:11px sans-serif;fill:#333}svg text.t{font-size:13px;font-weight:bold}\n";

void html__begin(FILE *f, const char *title)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", f);
	html__esc(f, title);
	fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", style);
}

void html__end(FILE *f)
{
	fputs("</body>\n</html>\n", f);
}

int html__open(struct html_out *o, const char *path, char *err, size_t errlen)
{
	o->f = NULL;
	if (snprintf(o->path, sizeof(o->path), "%s", path) >= (int)sizeof(o->path) ||
	    snprintf(o->tmp, sizeof(o->tmp), "%s.tmp.%d", path, (int)getpid()) >=
	        (int)sizeof(o->tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	o->f = fopen(o->tmp, "w");
	if (!o->f) {
		snprintf(err, errlen, "%s: %s", o->tmp, strerror(errno));
		return -1;
	}
	return 0;
}

int html__commit(struct html_out *o, char *err, size_t errlen)
{
	int rc = ferror(o->f) || fflush(o->f) || fsync(fileno(o->f)) ? -1 : 0;
	int e = errno;
	if (fclose(o->f) && rc == 0) {
		e = errno;
		rc = -1;
	}
	o->f = NULL;
	if (rc == 0 && rename(o->tmp, o->path) < 0) {
		e = errno;
		rc = -1;
	}
	if (rc < 0) {
		unlink(o->tmp);
		snprintf(err, errlen, "%s: cannot write: %s", o->path, strerror(e ? e : EIO));
	}
	return rc;
}

void html__abort(struct html_out *o)
{
	if (o->f)
		(void)fclose(o->f);
	o->f = NULL;
	unlink(o->tmp);
}
