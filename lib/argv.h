/* lib/argv.h: a command line built one printf-formatted word at a time, for execv(): the words and
 * their text in arrays the caller owns (vcons-qemu's QEMU command line; the harness's command lines
 * of each VM: harness/plan.c). argv_vadd() is the same for a caller's own variadic wrapper.
 *
 * Contract: argv_init() gives the buffer its storage: `words` with room for `max` pointers (the
 * final NULL included) and `text` of `size` bytes. argv_add() formats one word into the text and
 * appends it: 0, or -1 when the word or the NULL after it would not fit, and then nothing is added.
 * After every call v[n] is NULL, so `v` is ready for execv(). Nothing is allocated or printed. */
#ifndef LIB_ARGV_H
#define LIB_ARGV_H
#include <stdarg.h>
#include <stddef.h>

struct argv_buf {
	char **v; /* the words so far, v[n] == NULL */
	int n, max;
	char *text;
	size_t used, size;
};

void argv_init(struct argv_buf *a, char **words, int max, char *text, size_t size);
int argv_add(struct argv_buf *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* argv_add() with the arguments as a va_list (for a caller's own variadic wrapper). */
int argv_vadd(struct argv_buf *a, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#endif
