/* Unit tests for lib/size.c: the size syntax vcons-hv, vcons-qemu and the harness share (units,
 * their spellings, rejections, the caller's maximum and 64-bit overflow). */
#include "tools/unit.h"
#include "lib/size.h"

#define ANY UINT64_MAX
#define TIB (1ull << 40)

static void expect_size(const char *s, uint64_t max, uint64_t want)
{
	uint64_t got = 0;
	if (size_parse(s, max, &got) != 0)
		fail_msg("'%s' refused", s);
	assert_int_equal(got, want);
}

static void expect_refused(const char *s, uint64_t max)
{
	uint64_t got = 12345;
	if (size_parse(s, max, &got) == 0)
		fail_msg("'%s' accepted as %llu", s, (unsigned long long)got);
	assert_int_equal(got, 12345); /* left alone */
}

static void plain_and_units(void **state)
{
	expect_size("4096", ANY, 4096);
	expect_size("0", ANY, 0);
	expect_size("256K", ANY, 256ull << 10);
	expect_size("256M", ANY, 256ull << 20);
	expect_size("1G", ANY, 1ull << 30);
	expect_size("4G", ANY, 4ull << 30);
}

static void lowercase_and_suffixes(void **state)
{
	expect_size("256k", ANY, 256ull << 10);
	expect_size("256m", ANY, 256ull << 20);
	expect_size("1g", ANY, 1ull << 30);
	expect_size("512Mi", ANY, 512ull << 20);
	expect_size("512MiB", ANY, 512ull << 20);
	expect_size("512MB", ANY, 512ull << 20);
	expect_size("4096B", ANY, 4096);
}

static void not_sizes(void **state)
{
	expect_refused("", ANY);
	expect_refused("12X", ANY);
	expect_refused("-1", ANY);
	expect_refused("-0", ANY);
	expect_refused("M", ANY);
	expect_refused("1T", ANY);
	expect_refused("256 M", ANY);
	expect_refused("256MM", ANY);
	expect_refused("256MBi", ANY);
	expect_refused("1.5G", ANY);
}

static void overflow_refused(void **state)
{
	expect_refused("99999999999G", ANY);
	expect_refused("17179869184G", ANY); /* 2^64 */
	expect_size("17179869183G", ANY, 17179869183ull << 30);
	expect_size("18446744073709551615", ANY, UINT64_MAX);
	expect_refused("18446744073709551616", ANY); /* strtoull's ERANGE */
}

static void callers_maximum(void **state)
{
	expect_size("1024G", TIB, TIB);
	expect_size("1099511627776", TIB, TIB);
	expect_refused("1025G", TIB);
	expect_refused("1099511627777", TIB);
	expect_refused("99999999999G", TIB);
}

static void formatted(void **state)
{
	char b[32];
	size_format(256ull << 20, b, sizeof(b));
	assert_string_equal(b, "256M");
	size_format(4ull << 30, b, sizeof(b));
	assert_string_equal(b, "4G");
	size_format(1536, b, sizeof(b));
	assert_string_equal(b, "1536");
	size_format(3ull << 10, b, sizeof(b));
	assert_string_equal(b, "3K");
	size_format(0, b, sizeof(b));
	assert_string_equal(b, "0");
}

UNIT_MAIN(cmocka_unit_test(plain_and_units), cmocka_unit_test(lowercase_and_suffixes),
          cmocka_unit_test(not_sizes), cmocka_unit_test(overflow_refused),
          cmocka_unit_test(callers_maximum), cmocka_unit_test(formatted))
