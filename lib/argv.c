/* lib/argv.c: command lines built one formatted word at a time (see argv.h). */
#include "lib/argv.h"

#include <stdarg.h>
#include <stdio.h>

void argv_init(struct argv_buf *a, char **words, int max, char *text, size_t size)
{
	*a = (struct argv_buf){ .v = words, .max = max, .text = text, .size = size };
	if (max > 0)
		words[0] = NULL;
}

int argv_vadd(struct argv_buf *a, const char *fmt, va_list ap)
{
	if (a->n + 1 >= a->max)
		return -1;
	size_t room = a->size - a->used;
	int n = vsnprintf(a->text + a->used, room, fmt, ap);
	if (n < 0 || (size_t)n >= room)
		return -1;
	a->v[a->n++] = a->text + a->used;
	a->v[a->n] = NULL;
	a->used += (size_t)n + 1;
	return 0;
}

int argv_add(struct argv_buf *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = argv_vadd(a, fmt, ap);
	va_end(ap);
	return rc;
}
