/* lib/size.c: the size syntax (see size.h). */
#include "lib/size.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The shift of a unit letter, 0 for none. */
static int unit_shift(char c)
{
	switch (c) {
	case 'k':
	case 'K': return 10;
	case 'm':
	case 'M': return 20;
	case 'g':
	case 'G': return 30;
	default: return 0;
	}
}

int size_parse(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	if (strchr(s, '-')) /* strtoull would negate: "-1" is not a huge size */
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	int shift = unit_shift(*end);
	end += shift ? 1 : 0;
	if (*end == 'i' || *end == 'B')
		end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
	if (*end || v > max >> shift)
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

void size_format(uint64_t v, char *buf, size_t len)
{
	static const char units[] = "GMK";
	for (int i = 0; i < 3; i++) {
		int shift = 30 - 10 * i;
		if (v && !(v & ((1ull << shift) - 1))) {
			snprintf(buf, len, "%llu%c", (unsigned long long)(v >> shift), units[i]);
			return;
		}
	}
	snprintf(buf, len, "%llu", (unsigned long long)v);
}
