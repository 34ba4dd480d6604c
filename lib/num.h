/* lib/num.h: numbers from text, checked in full. One place where a command-line value or a
 * protocol field becomes a number, so that no caller forgets errno, the end pointer or the range.
 *
 * Contract: each function reads the whole of S (no leading or trailing garbage; an empty S is
 * refused; leading blanks and a sign are allowed as strtoll/strtod read them), checks that the
 * value fits (errno, ERANGE) and lies in [lo, hi], and then, only then, stores it in *out and
 * returns 0. On any failure it returns -1 and leaves *out alone. num_double also refuses NaN and
 * infinities (they fail every range check). Nothing is printed. */
#ifndef LIB_NUM_H
#define LIB_NUM_H

int num_ll(const char *s, long long lo, long long hi, long long *out);
int num_int(const char *s, int lo, int hi, int *out);
int num_double(const char *s, double lo, double hi, double *out);

#endif
