/* workloads/web/fuzz/h2.c: fuzz target for vcons-web's HTTP/2 sessions (h2.h): the input is a
 * connection's bytes (after one control byte: bit 0 puts the client preface first, bits 1-7 a
 * chunk size the bytes arrive in, 0 all at once), fed to a session that answers with the app over
 * a small file set and bank, as server.c does, calling again while it says there is more.
 *
 * Checked besides crashes, leaks and hangs: h2_input returns 0 or -1 and takes all its input; the
 * output is whole frames, the first the server's SETTINGS; each call appends at most H2_OUT_BATCH
 * bytes and a frame; and every answer complete in the output (a stream's HEADERS, DATA up to its
 * END_STREAM) has as many DATA bytes as its content-length says, or none (HEAD). */
#include "tools/fuzz.h"
#include "workloads/web/fileset.h"
#include "workloads/web/h2.h"
#include <nghttp2/nghttp2.h>
#include <string.h>
#include <unistd.h>

#define FILES 8
#define USERS 4

static struct fuzz_h2 {
	struct app app;
	char journal[256];
} fz;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *dir = fuzz_scratch_dir("web-h2"), *err = "";
	fz.app.limits = (struct http_limits){ .max_header_bytes = 1024, .max_body_bytes = 512 };
	fz.app.max_streams = 8;
	snprintf(fz.journal, sizeof fz.journal, "%s/journal.log", dir);
	if (fileset_write(dir, FILES) != 0 || app_load_files(&fz.app, dir, FILES, &err) != 0) {
		fprintf(stderr, "web-h2 fuzz: cannot set up the file set in %s: %s\n", dir, err);
		exit(1);
	}
	return 0;
}

/* What the output says of one stream so far. */
struct seen {
	int32_t id;
	long long length; /* content-length, -1 none yet */
	size_t data;
	int ended;
};

/* Reads the response headers' content-length of a HEADERS frame with a decoder that follows the
 * server's encoder (HPACK's dynamic table is the connection's). */
static long long headers_length(nghttp2_hd_inflater *in, const uint8_t *p, size_t n)
{
	long long len = -1;
	for (;;) {
		nghttp2_nv nv;
		int flags = 0;
		ssize_t k = nghttp2_hd_inflate_hd2(in, &nv, &flags, p, n, 1);
		fuzz_assert(k >= 0); /* the server's own header block decodes */
		p += k;
		n -= (size_t)k;
		if (flags & NGHTTP2_HD_INFLATE_EMIT && nv.namelen == 14 &&
		    !memcmp(nv.name, "content-length", 14))
			len = strtoll((const char *)nv.value, NULL, 10);
		if (flags & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(in);
			return len;
		}
		if (k == 0 && !(flags & NGHTTP2_HD_INFLATE_EMIT))
			return len;
	}
}

static struct seen *seen_of(struct seen *s, int *n, int32_t id)
{
	for (int i = 0; i < *n; i++)
		if (s[i].id == id)
			return &s[i];
	fuzz_assert(*n < 256);
	s[*n] = (struct seen){ .id = id, .length = -1 };
	return &s[(*n)++];
}

/* The server's output: whole frames, SETTINGS first, answers as long as they say. */
static void check_output(const unsigned char *p, size_t n)
{
	nghttp2_hd_inflater *in;
	fuzz_assert(nghttp2_hd_inflate_new(&in) == 0);
	static struct seen s[256];
	int ns = 0;
	size_t at = 0;
	for (int first = 1; at < n; first = 0) {
		fuzz_assert(at + 9 <= n);
		/* p is not NULL: the caller passes it with buf_pending() > 0, after a buf_put() */
		// NOLINTNEXTLINE(clang-analyzer-core.NullDereference)
		size_t len = (size_t)p[at] << 16 | (size_t)p[at + 1] << 8 | p[at + 2];
		uint8_t type = p[at + 3], flags = p[at + 4];
		int32_t id =
		    (int32_t)(((uint32_t)p[at + 5] & 0x7f) << 24 | (uint32_t)p[at + 6] << 16 |
		              (uint32_t)p[at + 7] << 8 | p[at + 8]);
		fuzz_assert(len <= 16384 && at + 9 + len <= n);
		fuzz_assert(!first || (type == NGHTTP2_SETTINGS && !(flags & NGHTTP2_FLAG_ACK)));
		const unsigned char *pl = p + at + 9;
		if (type == NGHTTP2_HEADERS) { /* no padding or priority from this server */
			struct seen *st = seen_of(s, &ns, id);
			fuzz_assert(flags & NGHTTP2_FLAG_END_HEADERS);
			st->length = headers_length(in, pl, len);
			fuzz_assert(st->length >= 0);
		}
		if (type == NGHTTP2_DATA) {
			struct seen *st = seen_of(s, &ns, id);
			fuzz_assert(st->length >= 0 && !st->ended);
			st->data += len;
		}
		if ((type == NGHTTP2_HEADERS || type == NGHTTP2_DATA) &&
		    (flags & NGHTTP2_FLAG_END_STREAM)) {
			struct seen *st = seen_of(s, &ns, id);
			st->ended = 1;
			fuzz_assert(st->data == 0 || (long long)st->data == st->length);
		}
		at += 9 + len;
	}
	nghttp2_hd_inflate_del(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	const char *err = "";
	long replayed = -1;
	unlink(fz.journal);
	fz.app.bank = bank_open(fz.journal, USERS, &replayed, &err);
	fuzz_assert(fz.app.bank);
	atomic_store(&fz.app.stop, 0);
	const struct h2_limits lim = { 1024, 512, 8 };
	struct h2 *h = h2_new(&fz.app, &lim);
	fuzz_assert(h);
	size_t chunk = data[0] >> 1;
	struct buf in = { 0 }, out = { 0 };
	if (data[0] & 1)
		buf_put(&in, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", H2_PREFACE_LEN);
	int rc = 0;
	for (size_t off = 1; off < size && rc == 0;) {
		size_t n = chunk && size - off > chunk ? chunk : size - off;
		buf_put(&in, data + off, n);
		off += n;
		bool more = true;
		for (int calls = 0; more && rc == 0; calls++) {
			fuzz_assert(calls < 1000);
			size_t before = buf_pending(&out);
			rc = h2_input(h, &in, &out, &more);
			fuzz_assert(rc == 0 || rc == -1);
			fuzz_assert(buf_pending(&in) == 0);
			fuzz_assert(buf_pending(&out) - before <= H2_OUT_BATCH + 16384 + 9);
		}
	}
	if (buf_pending(&out)) /* nothing came in: nothing goes out */
		check_output((const unsigned char *)out.p + out.off, buf_pending(&out));
	buf_free(&in);
	buf_free(&out);
	h2_free(h);
	bank_close(fz.app.bank);
	fz.app.bank = NULL;
	return 0;
}
