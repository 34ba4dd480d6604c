/* workloads/web/test/h2_test.c: HTTP/2 sessions (h2.h) driven by an nghttp2 client session, no
 * sockets: the client preface test, answers equal to the file set and the app's pages (several
 * requests in one round answered in one output, flow control with the client's default windows),
 * the per-stream limits (431, 413, 501) that keep the connection, and malformed input ending in a
 * GOAWAY. */
#include "tools/unit.h"
#include "lib/fs.h"
#include "workloads/web/fileset.h"
#include "workloads/web/h2.h"
#include <nghttp2/nghttp2.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FILES   8
#define USERS   4
#define STREAMS 16

struct answer {
	int status, ended;
	long long length;
	uint64_t sum;
	int has_sum;
	uint32_t reset; /* the stream's close code */
	struct buf body;
};

struct fix {
	char dir[256];
	struct app app;
	struct h2 *h;
	nghttp2_session *cli;
	struct buf to_server, to_client;
	struct answer ans[STREAMS * 2 + 2]; /* by stream id */
	uint32_t goaway;                    /* error code + 1 of a GOAWAY received, 0 none */
	int rounds;                         /* h2_input calls that produced output */
};

static ssize_t cli_send(nghttp2_session *s, const uint8_t *p, size_t n, int flags, void *user)
{
	(void)s;
	(void)flags;
	struct fix *f = user;
	return buf_put(&f->to_server, p, n) ? NGHTTP2_ERR_CALLBACK_FAILURE : (ssize_t)n;
}

static struct answer *ans_of(struct fix *f, int32_t id)
{
	assert_true(id > 0 && id < (int32_t)(sizeof(f->ans) / sizeof(f->ans[0])));
	return &f->ans[id];
}

/* A header's decimal value; -1 when it is not one (the test then fails on it). */
static long long dec(const char *v)
{
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	return errno || end == v || *end || n < 0 ? -1 : n;
}

static int cli_header(nghttp2_session *s, const nghttp2_frame *fr, const uint8_t *name, size_t nl,
                      const uint8_t *value, size_t vl, uint8_t flags, void *user)
{
	(void)s;
	(void)flags;
	struct answer *a = ans_of(user, fr->hd.stream_id);
	char v[64] = "";
	memcpy(v, value, vl < sizeof(v) - 1 ? vl : sizeof(v) - 1);
	if (nl == 7 && !memcmp(name, ":status", 7))
		a->status = dec(v) <= 999 ? (int)dec(v) : -1;
	else if (nl == 14 && !memcmp(name, "content-length", 14))
		a->length = dec(v);
	else if (nl == 11 && !memcmp(name, "x-vcons-sum", 11)) {
		a->has_sum = 1;
		a->sum = strtoull(v, NULL, 16);
	}
	return 0;
}

static int cli_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *p, size_t n,
                    void *user)
{
	(void)s;
	(void)flags;
	assert_int_equal(buf_put(&ans_of(user, id)->body, p, n), 0);
	return 0;
}

static int cli_close(nghttp2_session *s, int32_t id, uint32_t code, void *user)
{
	(void)s;
	struct answer *a = ans_of(user, id);
	a->ended = 1;
	a->reset = code;
	return 0;
}

static int cli_frame(nghttp2_session *s, const nghttp2_frame *fr, void *user)
{
	(void)s;
	struct fix *f = user;
	if (fr->hd.type == NGHTTP2_GOAWAY)
		f->goaway = fr->goaway.error_code + 1;
	return 0;
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	const char *err = "";
	long replayed;
	char journal[300];
	assert_int_equal(fs_tmpdir(f->dir, sizeof(f->dir), "vcweb-h2-test"), 0);
	snprintf(journal, sizeof(journal), "%s/journal.log", f->dir);
	f->app.limits = (struct http_limits){ .max_header_bytes = 1024, .max_body_bytes = 256 };
	f->app.max_streams = STREAMS;
	assert_int_equal(fileset_write(f->dir, FILES), 0);
	assert_int_equal(app_load_files(&f->app, f->dir, FILES, &err), 0);
	assert_non_null(f->app.bank = bank_open(journal, USERS, &replayed, &err));
	const struct h2_limits lim = { 1024, 256, STREAMS };
	assert_non_null(f->h = h2_new(&f->app, &lim));
	nghttp2_session_callbacks *cb;
	assert_int_equal(nghttp2_session_callbacks_new(&cb), 0);
	nghttp2_session_callbacks_set_send_callback(cb, cli_send);
	nghttp2_session_callbacks_set_on_header_callback(cb, cli_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, cli_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, cli_close);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, cli_frame);
	assert_int_equal(nghttp2_session_client_new(&f->cli, cb, f), 0);
	nghttp2_session_callbacks_del(cb);
	assert_int_equal(nghttp2_submit_settings(f->cli, NGHTTP2_FLAG_NONE, NULL, 0), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	nghttp2_session_del(f->cli);
	h2_free(f->h);
	bank_close(f->app.bank);
	app_free_files(&f->app);
	for (size_t i = 0; i < sizeof(f->ans) / sizeof(f->ans[0]); i++)
		buf_free(&f->ans[i].body);
	buf_free(&f->to_server);
	buf_free(&f->to_client);
	fs_rmtree(f->dir, false);
	free(f);
	return 0;
}

/* One exchange: what the client has to send goes to the server, whose whole output (all its
 * h2_input calls until it has no more) goes back. Returns the server's h2_input result. */
static int round_trip(struct fix *f)
{
	assert_int_equal(nghttp2_session_send(f->cli), 0);
	bool more = true;
	int rc = 0;
	for (int calls = 0; more && rc == 0; calls++) {
		assert_true(calls < 100);
		size_t before = buf_pending(&f->to_client);
		rc = h2_input(f->h, &f->to_server, &f->to_client, &more);
		f->rounds += buf_pending(&f->to_client) > before;
	}
	size_t n = buf_pending(&f->to_client);
	if (n)
		assert_int_equal(nghttp2_session_mem_recv(
		                     f->cli, (const uint8_t *)f->to_client.p + f->to_client.off, n),
		                 (ssize_t)n);
	buf_consume(&f->to_client, n);
	return rc;
}

/* Round trips until the client has nothing more to say (at most 50). */
static void settle(struct fix *f)
{
	for (int i = 0; i < 50; i++) {
		assert_int_equal(round_trip(f), 0);
		if (!nghttp2_session_want_write(f->cli) && !buf_pending(&f->to_server))
			return;
	}
	fail_msg("the exchange did not settle");
}

static int32_t request(struct fix *f, const char *method, const char *path)
{
#define NV(n, v)                                                                                   \
	{                                                                                          \
		(uint8_t *)(n), (uint8_t *)(v), strlen(n), strlen(v), NGHTTP2_NV_FLAG_NONE         \
	}
	const nghttp2_nv nv[] = { NV(":method", method), NV(":scheme", "http"),
		                  NV(":authority", "127.0.0.1"), NV(":path", path) };
#undef NV
	int32_t id = nghttp2_submit_request(f->cli, NULL, nv, 4, NULL, NULL);
	assert_true(id > 0);
	return id;
}

static ssize_t form_read(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *user)
{
	(void)s;
	(void)id;
	(void)user;
	size_t n = strlen(src->ptr);
	assert_true(n <= len);
	memcpy(buf, src->ptr, n);
	*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

static int32_t post(struct fix *f, const char *path, const char *form)
{
	const nghttp2_nv nv[] = {
		{ (uint8_t *)":method", (uint8_t *)"POST", 7, 4, NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)":scheme", (uint8_t *)"http", 7, 4, NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)":authority", (uint8_t *)"x", 10, 1, NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)":path", (uint8_t *)path, 5, strlen(path), NGHTTP2_NV_FLAG_NONE },
	};
	nghttp2_data_provider prd = { .source.ptr = (void *)form, .read_callback = form_read };
	return nghttp2_submit_request(f->cli, NULL, nv, 4, &prd, NULL);
}

/* The answer to stream id is complete, status as given, its body that many bytes with its sum. */
static struct answer *check_answer(struct fix *f, int32_t id, int status)
{
	struct answer *a = ans_of(f, id);
	assert_true(a->ended);
	assert_int_equal(a->reset, 0);
	assert_int_equal(a->status, status);
	assert_int_equal(a->length, (long long)buf_pending(&a->body));
	if (a->has_sum)
		assert_true(a->sum == fnv1a64(a->body.p, a->body.len));
	return a;
}

static void check_file(struct fix *f, int32_t id, int k)
{
	struct answer *a = check_answer(f, id, 200);
	unsigned char *want = malloc(FILESET_MAX_BYTES);
	struct fileset_entry e;
	fileset_nth(FILES, k, want, &e);
	assert_true(a->has_sum && a->sum == e.fnv);
	assert_int_equal(a->body.len, e.size);
	assert_memory_equal(a->body.p, want, e.size);
	free(want);
}

static void test_preface(void **state)
{
	(void)state;
	const char p[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	assert_int_equal(h2_preface(p, 24), 1);
	assert_int_equal(h2_preface(p, 30), 1);
	assert_int_equal(h2_preface(p, 10), 0);
	assert_int_equal(h2_preface(p, 0), 0);
	assert_int_equal(h2_preface("GET / HTTP/1.1\r\n", 16), -1);
	assert_int_equal(h2_preface("PRI * HTTP/1.1", 14), -1);
	assert_int_equal(h2_preface("P", 1), 0);
}

/* A page's requests sent together are answered in one output: a dynamic page, its images, a file
 * the size of the largest answers (flow control with the client's 64 KiB windows), HEAD, 404. */
static void test_answers(void **state)
{
	struct fix *f = *state;
	int32_t sum = request(f, "GET", "/bank/summary?user=1");
	int32_t i0 = request(f, "GET", "/images/i000.png");
	int32_t i3 = request(f, "GET", "/images/i003.png");
	int32_t nf = request(f, "GET", "/nope");
	assert_int_equal(round_trip(f), 0);
	assert_int_equal(f->rounds, 1);
	struct answer *a = check_answer(f, sum, 200);
	assert_non_null(memmem(a->body.p, a->body.len, "user=1 balance=", 15));
	check_file(f, i0, FILES + 0);
	check_file(f, i3, FILES + 3);
	check_answer(f, nf, 404);

	int32_t big = request(f, "GET", "/static/f00000.bin"); /* 1 MiB */
	int32_t head = request(f, "HEAD", "/static/f00001.bin");
	settle(f);
	check_file(f, big, 0);
	a = ans_of(f, head);
	assert_true(a->ended && a->status == 200 && a->body.len == 0);
	assert_int_equal(a->length, (long long)fileset_size(FILESET_STATIC, 1));
	assert_false(h2_done(f->h));
}

/* A transfer's form arrives as DATA; its answer shows the debit. */
static void test_transfer(void **state)
{
	struct fix *f = *state;
	int32_t t = post(f, "/bank/transfer", "user=2&amount=125&payee=acme");
	settle(f);
	struct answer *a = check_answer(f, t, 200);
	char want[80];
	snprintf(want, sizeof(want), "user=2 balance=%lld seq=1",
	         (long long)bank_initial_balance(2) - 125);
	assert_non_null(memmem(a->body.p, a->body.len, want, strlen(want)));
	t = post(f, "/bank/transfer", "user=2&amount=x");
	settle(f);
	check_answer(f, t, 400);
}

/* Over the limits, a stream is refused with HTTP/1.1's status and the connection goes on. */
static void test_limits(void **state)
{
	struct fix *f = *state;
	char big[1100];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	const nghttp2_nv nv[] = {
		{ (uint8_t *)":method", (uint8_t *)"GET", 7, 3, NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)":scheme", (uint8_t *)"http", 7, 4, NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)":authority", (uint8_t *)"x", 10, 1, NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)":path", (uint8_t *)"/", 5, 1, NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)"x-big", (uint8_t *)big, 5, strlen(big), NGHTTP2_NV_FLAG_NONE },
	};
	int32_t hdr = nghttp2_submit_request(f->cli, NULL, nv, 5, NULL, NULL);
	char form[400];
	memset(form, 'b', sizeof(form) - 1);
	form[sizeof(form) - 1] = 0;
	int32_t body = post(f, "/bank/transfer", form);
	int32_t put = request(f, "PUT", "/");
	int32_t ok = request(f, "GET", "/images/i001.png");
	settle(f);
	check_answer(f, hdr, 431);
	struct answer *a = ans_of(f, body);
	assert_true(a->ended && a->status == 413);
	check_answer(f, put, 501);
	check_file(f, ok, FILES + 1);
	assert_int_equal(f->goaway, 0);
	assert_false(h2_done(f->h));
}

/* A malformed frame (DATA on stream 0) after a valid start: GOAWAY PROTOCOL_ERROR, then done. */
static void test_bad_frame(void **state)
{
	struct fix *f = *state;
	assert_int_equal(round_trip(f), 0); /* preface and SETTINGS */
	static const char bad[] = "\x00\x00\x04\x00\x00\x00\x00\x00\x00"
	                          "abcd";
	buf_put(&f->to_server, bad, sizeof(bad) - 1);
	bool more;
	assert_int_equal(h2_input(f->h, &f->to_server, &f->to_client, &more), 0);
	assert_int_equal(
	    nghttp2_session_mem_recv(f->cli, (const uint8_t *)f->to_client.p + f->to_client.off,
	                             buf_pending(&f->to_client)),
	    (ssize_t)buf_pending(&f->to_client));
	assert_int_equal(f->goaway, NGHTTP2_PROTOCOL_ERROR + 1);
	assert_true(h2_done(f->h));
}

/* Not HTTP/2 at all where HTTP/2 was negotiated (TLS's ALPN): an error, with a GOAWAY. */
static void test_bad_preface(void **state)
{
	struct fix *f = *state;
	const char junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	buf_put(&f->to_server, junk, sizeof(junk) - 1);
	bool more;
	assert_int_equal(h2_input(f->h, &f->to_server, &f->to_client, &more), -1);
	assert_int_equal(buf_pending(&f->to_server), 0);
	/* the server's SETTINGS, then GOAWAY: a 9-byte header of type 7 somewhere after the first
	 */
	const unsigned char *p = (const unsigned char *)f->to_client.p + f->to_client.off;
	size_t n = buf_pending(&f->to_client), at = 0;
	int goaway = 0;
	while (at + 9 <= n) {
		goaway |= p[at + 3] == NGHTTP2_GOAWAY;
		at += 9 + ((size_t)p[at] << 16 | (size_t)p[at + 1] << 8 | p[at + 2]);
	}
	assert_true(goaway && at == n);
	assert_true(h2_done(f->h));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
UNIT_MAIN(cmocka_unit_test(test_preface), T(test_answers), T(test_transfer), T(test_limits),
          T(test_bad_frame), T(test_bad_preface))
