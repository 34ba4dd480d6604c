/* lib/num.c: numbers from text with full errno/end/range checks (see num.h). */
#include "lib/num.h"

#include <errno.h>
#include <stdlib.h>

int num_ll(const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int num_int(const char *s, int lo, int hi, int *out)
{
	long long v;
	if (num_ll(s, lo, hi, &v) < 0)
		return -1;
	*out = (int)v;
	return 0;
}

int num_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		return -1;
	*out = v;
	return 0;
}
