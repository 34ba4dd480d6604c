/* hv/size.h: the old name of the size parser, which now lives in lib/size.h (size_parse). Kept only
 * for harness/, which includes it until it is converted to the shared library; new code includes
 * lib/size.h. */
#ifndef HV_SIZE_H
#define HV_SIZE_H
#include "lib/size.h"

static inline int hv_parse_size(const char *s, uint64_t max, uint64_t *out)
{
	return size_parse(s, max, out);
}

#endif
