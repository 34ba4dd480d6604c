/* Unit tests for lib/num.c, lib/clock.c, lib/json.c, lib/argv.c and lib/fs.c: full checks on
 * numbers (errno, the end, the range, nothing stored on failure), a clock that moves forward,
 * getters with their defaults, a command line that fills up word by word and refuses what does not
 * fit, a tree removed without following a link out of it. */
#include "tools/unit.h"
#include "lib/argv.h"
#include "lib/clock.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "lib/num.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void integers(void **state)
{
	long long v = 42;
	int i = 7;
	assert_int_equal(num_ll("123", 0, 1000, &v), 0);
	assert_true(v == 123);
	assert_int_equal(num_ll("-5", -10, 10, &v), 0);
	assert_true(v == -5);
	v = 42;
	assert_int_equal(num_ll("", 0, 10, &v), -1);
	assert_int_equal(num_ll("1x", 0, 10, &v), -1);
	assert_int_equal(num_ll("11", 0, 10, &v), -1);
	assert_int_equal(num_ll("99999999999999999999", 0, INT64_MAX, &v), -1); /* ERANGE */
	assert_true(v == 42);
	assert_int_equal(num_int("65535", 0, 65535, &i), 0);
	assert_int_equal(i, 65535);
	assert_int_equal(num_int("4294967297", 0, 65535, &i), -1);
	assert_int_equal(i, 65535);
}

static void doubles(void **state)
{
	double d = 1;
	assert_int_equal(num_double("0.25", 0, 1, &d), 0);
	assert_true(d == 0.25);
	assert_int_equal(num_double("1e400", 0, 1e300, &d), -1); /* ERANGE */
	assert_int_equal(num_double("nan", -1, 1, &d), -1);
	assert_int_equal(num_double("inf", 0, 1e300, &d), -1);
	assert_int_equal(num_double("2 ", 0, 10, &d), -1);
	assert_true(d == 0.25);
}

static void clock_moves(void **state)
{
	int64_t a = now_ns();
	struct timespec ts = ns_to_timespec(a + 1000000);
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	int64_t b = now_ns();
	assert_true(a > 0 && b >= a + 1000000);
	ts = ns_to_timespec(3000000007LL);
	assert_true(ts.tv_sec == 3 && ts.tv_nsec == 7);
}

static void getters(void **state)
{
	json_t *o =
	    json_pack("{s:i, s:f, s:f, s:s, s:n}", "i", 5, "r", 2.5, "w", 3.0, "s", "text", "null");
	assert_true(jget_num(o, "i", -1) == 5);
	assert_true(jget_num(o, "r", -1) == 2.5);
	assert_true(jget_num(o, "s", -1) == -1);
	assert_true(jget_num(o, "missing", -1) == -1);
	assert_true(jget_num(NULL, "i", -1) == -1);
	assert_true(jget_int(o, "i", -1) == 5);
	assert_true(jget_int(o, "w", -1) == 3);
	assert_true(jget_int(o, "r", -1) == -1);
	assert_true(jget_int(o, "null", -1) == -1);
	assert_string_equal(jget_str(o, "s", ""), "text");
	assert_string_equal(jget_str(o, "i", "none"), "none");
	json_t *a = json_array();
	assert_string_equal(jget_str(a, "s", "none"), "none");
	json_decref(a);
	json_decref(o);
}

static void command_lines(void **state)
{
	char *words[4], text[16];
	struct argv_buf a;
	argv_init(&a, words, 4, text, sizeof(text));
	assert_null(a.v[0]);
	assert_int_equal(argv_add(&a, "%s", "qemu"), 0);
	assert_int_equal(argv_add(&a, "-m"), 0);
	assert_int_equal(argv_add(&a, "%dM", 256), 0);
	assert_int_equal(a.n, 3);
	assert_string_equal(a.v[0], "qemu");
	assert_string_equal(a.v[1], "-m");
	assert_string_equal(a.v[2], "256M");
	assert_null(a.v[3]);
	assert_int_equal(argv_add(&a, "x"), -1); /* no room for the NULL after a fourth word */
	assert_int_equal(a.n, 3);
	assert_null(a.v[3]);

	argv_init(&a, words, 4, text, sizeof(text));
	assert_int_equal(argv_add(&a, "%s", "0123456789"), 0); /* 11 of the 16 bytes */
	assert_int_equal(argv_add(&a, "%s", "abcde"), -1);     /* 6 more do not fit */
	assert_int_equal(argv_add(&a, "%s", "abcd"), 0);       /* 5 do */
	assert_int_equal(a.n, 2);
	assert_string_equal(a.v[1], "abcd");
	assert_null(a.v[2]);
}

/* fs_tmpdir() makes a private directory under $TMPDIR; fs_rmtree() removes a tree (or only what is
 * below its top) without following a symbolic link out of it. */
static void trees(void **state)
{
	(void)state;
	char top[256], p[512], outside[256];
	assert_int_equal(fs_tmpdir(top, sizeof(top), "vclib-fs-test"), 0);
	assert_int_equal(fs_tmpdir(outside, sizeof(outside), "vclib-fs-outside"), 0);
	struct stat sb;
	assert_int_equal(stat(top, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	snprintf(p, sizeof(p), "%s/a", top);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/a/b", top);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/a/b/f", top);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fclose(f), 0);
	snprintf(p, sizeof(p), "%s/link", top);
	assert_int_equal(symlink(outside, p), 0);
	assert_int_equal(fs_rmtree(top, true), 0);
	assert_int_equal(stat(top, &sb), 0); /* the top stays */
	snprintf(p, sizeof(p), "%s/a", top);
	assert_int_equal(stat(p, &sb), -1);      /* what was below it is gone */
	assert_int_equal(stat(outside, &sb), 0); /* the link's target was not followed */
	assert_int_equal(fs_rmtree(top, false), 0);
	assert_int_equal(stat(top, &sb), -1);
	assert_int_equal(fs_rmtree(outside, false), 0);
	assert_int_equal(fs_rmtree(top, false), -1); /* no such tree */
	char small[8];
	assert_int_equal(fs_tmpdir(small, sizeof(small), "vclib-fs-test"), -1);
	assert_int_equal(errno, ENAMETOOLONG);
}

UNIT_MAIN(cmocka_unit_test(integers), cmocka_unit_test(trees), cmocka_unit_test(doubles),
          cmocka_unit_test(clock_moves), cmocka_unit_test(getters), cmocka_unit_test(command_lines))
