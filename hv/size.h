/* hv/size.h: the size syntax of vcons-hv's command line (--mem), which vcons-qemu takes as well
 * (--mem, --disk-size). One parser, so both launchers read a size the same way; library hvsize.
 *
 * Contract: S is a decimal number of bytes (as strtoull reads one: leading blanks and '+' allowed;
 * no '-'), optionally followed by a binary unit K, M or G (either case: 2^10, 2^20, 2^30), then
 * optionally "i", "B" or "iB" ("256M", "256MiB", "256MB" and "1g" all parse). hv_parse_size()
 * returns 0 and the size in bytes in *out, or -1 (and leaves *out alone) when S is anything else
 * or the size is above max (pass UINT64_MAX for "any size that fits in 64 bits"; overflow is
 * always refused). It prints nothing: each launcher words its own message. */
#ifndef HV_SIZE_H
#define HV_SIZE_H
#include <stdint.h>

int hv_parse_size(const char *s, uint64_t max, uint64_t *out);

#endif
