/* workloads/web/test/http_test.c: the request parser on good, pipelined, malformed, oversized and
 * random/truncated input (run under ASan+UBSan by `make test`). */
#include "tools/unit.h"
#include "workloads/web/http.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct http_limits lim = { .max_header_bytes = 1024, .max_body_bytes = 64 };

static long parse(const char *s, struct http_req *q)
{
	return http_parse(s, strlen(s), &lim, q);
}

static void test_simple_get(void **state)
{
	(void)state;
	struct http_req q;
	const char *s = "GET /bank/summary?user=7 HTTP/1.1\r\nHost: x\r\n\r\n";
	assert_int_equal(parse(s, &q), (long)strlen(s));
	assert_int_equal(q.method, HTTP_GET);
	assert_int_equal(q.path_len, strlen("/bank/summary"));
	assert_memory_equal(q.path, "/bank/summary", q.path_len);
	assert_int_equal(q.query_len, 6);
	assert_memory_equal(q.query, "user=7", 6);
	assert_int_equal(q.keep_alive, 1);
	assert_int_equal(q.minor, 1);
}

static void test_keep_alive_rules(void **state)
{
	(void)state;
	struct http_req q;
	assert_true(parse("GET / HTTP/1.0\r\n\r\n", &q) > 0);
	assert_int_equal(q.keep_alive, 0);
	assert_true(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &q) > 0);
	assert_int_equal(q.keep_alive, 1);
	assert_true(parse("GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n", &q) > 0);
	assert_int_equal(q.keep_alive, 0);
}

static void test_post_body_and_pipelining(void **state)
{
	(void)state;
	struct http_req q;
	const char *s = "POST /bank/transfer HTTP/1.1\r\nContent-Length: 30\r\n\r\n"
	                "user=1&amount=250&payee=acme12"
	                "GET / HTTP/1.1\r\n\r\n";
	long n = parse(s, &q);
	assert_true(n > 0);
	assert_int_equal(q.method, HTTP_POST);
	assert_int_equal(q.body_len, 30);
	unsigned long long v;
	assert_int_equal(http_form_u64(q.body, q.body_len, "amount", &v), 0);
	assert_int_equal(v, 250);
	const char *pay;
	size_t pl;
	assert_int_equal(http_form_get(q.body, q.body_len, "payee", &pay, &pl), 1);
	assert_int_equal(pl, 6);
	assert_int_equal(http_form_get(q.body, q.body_len, "payer", &pay, &pl), 0);
	long m = http_parse(s + n, strlen(s + n), &lim, &q);
	assert_int_equal(m, (long)strlen("GET / HTTP/1.1\r\n\r\n"));
	assert_int_equal(q.method, HTTP_GET);
}

static void test_incomplete(void **state)
{
	(void)state;
	struct http_req q;
	const char *s = "POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789";
	for (size_t i = 0; i < strlen(s); i++)
		assert_int_equal(http_parse(s, i, &lim, &q), 0);
	assert_int_equal(http_parse(s, strlen(s), &lim, &q), (long)strlen(s));
}

static void test_rejections(void **state)
{
	(void)state;
	struct http_req q;
	assert_int_equal(parse("GARBAGE\r\n\r\n", &q), -400);
	assert_int_equal(parse("GET / HTTP/1.1\nHost: x\n\n", &q), -400); /* bare LF */
	assert_int_equal(parse("GET / HTTP/2.0\r\n\r\n", &q), -505);
	assert_int_equal(parse("BREW / HTTP/1.1\r\n\r\n", &q), -501);
	assert_int_equal(parse("GET noslash HTTP/1.1\r\n\r\n", &q), -400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", &q), -400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n", &q), -400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", &q), -400);
	assert_int_equal(
	    parse("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", &q), -400);
	assert_int_equal(parse("POST / HTTP/1.1\r\nContent-Length: 65\r\n\r\n", &q), -413);
	assert_int_equal(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &q), -501);
	assert_int_equal(http_parse("GET /\0 HTTP/1.1\r\n\r\n", 19, &lim, &q), -400);
}

static void test_header_limit(void **state)
{
	(void)state;
	struct http_req q;
	char big[2048];
	int n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nX-Big: ");
	memset(big + n, 'a', sizeof(big) - (size_t)n - 1);
	big[sizeof(big) - 1] = 0;
	/* No end of headers within the limit: 431 as soon as the limit is reached, not before. */
	assert_int_equal(http_parse(big, 1023, &lim, &q), 0);
	assert_int_equal(http_parse(big, sizeof(big) - 1, &lim, &q), -431);
}

/* Random and truncated inputs: the parser must never read out of bounds (ASan checks), and any
 * request it accepts must lie within the input. Each input is copied into an exact-size heap
 * block so a one-byte over-read is caught. */
static void test_fuzz(void **state)
{
	(void)state;
	static const char *seeds[] = {
		"GET /static/f00001.bin HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n",
		"POST /bank/transfer HTTP/1.1\r\nContent-Length: 5\r\n\r\nuser=",
		"HEAD / HTTP/1.0\r\nConnection: close\r\n\r\n",
	};
	unsigned long long x = 88172645463325252ULL;
	struct http_req q;
	for (int iter = 0; iter < 200000; iter++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		const char *seed = seeds[x % 3];
		size_t n = strlen(seed);
		size_t len = (x >> 8) % (n + 8);
		char *buf = malloc(len ? len : 1);
		for (size_t i = 0; i < len; i++)
			// NOLINTNEXTLINE(bugprone-narrowing-conversions): a char either way
			buf[i] = i < n ? seed[i] : (char)(x >> (i % 56));
		int flips = (int)((x >> 20) % 4);
		for (int f = 0; f < flips && len; f++)
			buf[(x >> (24 + 8 * f)) % len] = (char)(x >> (16 + f));
		long r = http_parse(buf, len, &lim, &q);
		assert_true(r <= (long)len);
		if (r > 0) {
			assert_true(q.path >= buf && q.path + q.path_len <= buf + len);
			assert_true(q.body_len == 0 || q.body + q.body_len <= buf + len);
		} else if (r < 0) {
			assert_true(r == -400 || r == -413 || r == -431 || r == -501 || r == -505);
		}
		free(buf);
	}
}

UNIT_MAIN(cmocka_unit_test(test_simple_get), cmocka_unit_test(test_keep_alive_rules),
          cmocka_unit_test(test_post_body_and_pipelining), cmocka_unit_test(test_incomplete),
          cmocka_unit_test(test_rejections), cmocka_unit_test(test_header_limit),
          cmocka_unit_test(test_fuzz))
