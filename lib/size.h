/* lib/size.h: the size syntax of the command lines and configuration files ("512M", "2G"): vcons-hv
 * and vcons-qemu take it for --mem (and --disk-size), the harness for memory sizes in YAML.
 *
 * Contract: S is a decimal number of bytes (as strtoull reads one: leading blanks and '+' allowed;
 * no '-'), optionally followed by a binary unit K, M or G (either case: 2^10, 2^20, 2^30), then
 * optionally "i", "B" or "iB" ("256M", "256MiB", "256MB" and "1g" all parse). size_parse() returns
 * 0 and the size in bytes in *out, or -1 (and leaves *out alone) when S is anything else or the
 * size is above max (pass UINT64_MAX for "any size that fits in 64 bits"; overflow is always
 * refused). It prints nothing: the caller (or lib/opt.h) words the message. size_format() writes a
 * size the way a person would type it: the largest unit that divides it exactly ("256M", "4096").
 */
#ifndef LIB_SIZE_H
#define LIB_SIZE_H
#include <stddef.h>
#include <stdint.h>

int size_parse(const char *s, uint64_t max, uint64_t *out);
void size_format(uint64_t v, char *buf, size_t len);

#endif
