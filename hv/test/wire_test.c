/* Tests of wire.c: values come back as written; a reader of a truncated buffer (cut at every
 * length) or of a byte string whose length runs past the end or wraps around is marked bad, and
 * every later read gives zeroes and empty strings; a writer past its allocation limit says oom. */
#include "tools/unit.h"
#include "hv/wire.h"
#include "hv/migrate.h"

#include <arpa/inet.h>
#include <string.h>

static void write_sample(struct wbuf *w)
{
	wbuf__init(w);
	wbuf__u8(w, 0xab);
	wbuf__u32(w, 0xdeadbeef);
	wbuf__u64(w, 0x0123456789abcdefULL);
	wbuf__i64(w, -5);
	wbuf__str(w, "root/file");
	wbuf__bytes(w, "\0\1\2", 3);
	size_t at = wbuf__reserve_u32(w);
	wbuf__raw(w, "xy", 2);
	wbuf__patch_u32(w, at, 77);
	assert_false(w->oom);
}

/* Reads the sample back; returns 1 when every value was right and the reader is not bad. */
static int read_sample(struct rbuf *r)
{
	char s[16], xy[2];
	size_t n;
	int ok = rbuf__u8(r) == 0xab;
	ok &= rbuf__u32(r) == 0xdeadbeef;
	ok &= rbuf__u64(r) == 0x0123456789abcdefULL;
	ok &= rbuf__i64(r) == -5;
	rbuf__str(r, s, sizeof(s));
	ok &= strcmp(s, "root/file") == 0;
	const void *b = rbuf__bytes(r, &n);
	ok &= n == 3 && b && memcmp(b, "\0\1\2", 3) == 0;
	ok &= rbuf__u32(r) == 77;
	rbuf__raw(r, xy, 2);
	ok &= memcmp(xy, "xy", 2) == 0;
	return ok && !r->bad && rbuf__left(r) == 0;
}

static void values_round_trip(void **state)
{
	(void)state;
	struct wbuf w;
	struct rbuf r;
	write_sample(&w);
	rbuf__init(&r, w.p, w.len);
	assert_true(read_sample(&r));
	wbuf__free(&w);
}

static void every_truncation_is_bad(void **state)
{
	(void)state;
	struct wbuf w;
	write_sample(&w);
	for (size_t len = 0; len < w.len; len++) {
		struct rbuf r;
		rbuf__init(&r, w.p, len);
		assert_false(read_sample(&r));
		assert_true(r.bad);
		assert_int_equal(rbuf__left(&r), 0);
		assert_int_equal(rbuf__u64(&r), 0); /* sticky: zeroes from now on */
	}
	wbuf__free(&w);
}

static void malformed_lengths_are_bad(void **state)
{
	(void)state;
	const uint64_t lengths[] = { 4, 1000, UINT64_MAX, UINT64_MAX - 2, 1ULL << 63 };
	for (size_t i = 0; i < sizeof(lengths) / sizeof(*lengths); i++) {
		struct wbuf w;
		struct rbuf r;
		size_t n = 99;
		char s[8] = "x";
		wbuf__init(&w);
		wbuf__u64(&w, lengths[i]);
		wbuf__raw(&w, "abc", 3); /* fewer bytes than any length above says */
		rbuf__init(&r, w.p, w.len);
		assert_null(rbuf__bytes(&r, &n));
		assert_int_equal(n, 0);
		assert_true(r.bad);
		rbuf__init(&r, w.p, w.len);
		rbuf__str(&r, s, sizeof(s));
		assert_true(r.bad);
		assert_string_equal(s, "");
		wbuf__free(&w);
	}
	struct wbuf w;
	struct rbuf r;
	char s[4];
	wbuf__init(&w);
	wbuf__str(&w, "long");
	wbuf__bytes(&w, "a\0b", 3);
	rbuf__init(&r, w.p, w.len);
	rbuf__str(&r, s, sizeof(s)); /* no room for its NUL */
	assert_true(r.bad);
	rbuf__init(&r, w.p + 12, w.len - 12);
	rbuf__str(&r, s, sizeof(s)); /* a NUL inside */
	assert_true(r.bad);
	wbuf__free(&w);
}

static void writer_out_of_room_says_oom(void **state)
{
	(void)state;
	struct wbuf w;
	wbuf__init(&w);
	wbuf__u32(&w, 1);
	wbuf__raw(&w, "", SIZE_MAX / 2); /* no allocation that large: refused, nothing copied */
	assert_true(w.oom);
	size_t len = w.len;
	wbuf__u64(&w, 2);
	assert_int_equal(w.len, len); /* nothing more is appended */
	wbuf__free(&w);
}

/* --incoming and --migrate-to's A.B.C.D:PORT: the whole port, in range, digits only. */
static void migration_addresses(void **state)
{
	(void)state;
	struct sockaddr_in a;
	assert_int_equal(migrate__parse_addr("127.0.0.1:7000", &a), 0);
	assert_int_equal(ntohs(a.sin_port), 7000);
	assert_int_equal(ntohl(a.sin_addr.s_addr), 0x7f000001);
	assert_int_equal(migrate__parse_addr("10.1.2.3:65535", &a), 0);
	const char *bad[] = { "127.0.0.1:0",
		              "127.0.0.1:65536",
		              "127.0.0.1:4294967297",
		              "127.0.0.1:-4294967295",
		              "127.0.0.1:+80",
		              "127.0.0.1: 80",
		              "127.0.0.1:80x",
		              "127.0.0.1:",
		              "127.0.0.1",
		              ":80",
		              "localhost:80",
		              "1.2.3:80",
		              "1.2.3.4.5:80",
		              "127.0.0.1:99999999999999999999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(migrate__parse_addr(bad[i], &a), -1);
}

UNIT_MAIN(cmocka_unit_test(values_round_trip), cmocka_unit_test(every_truncation_is_bad),
          cmocka_unit_test(malformed_lengths_are_bad),
          cmocka_unit_test(writer_out_of_room_says_oom), cmocka_unit_test(migration_addresses))
