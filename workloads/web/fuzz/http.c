/* workloads/web/fuzz/http.c: fuzz target for vcons-web's request parser (http.h), the first code
 * every byte from the network reaches. Besides crashes and overreads it checks the parser's
 * promises: a complete request's length lies within the input and every pointer of the result
 * inside it; a rejection is one of the documented statuses; parsing is incremental (the complete
 * request alone parses to the same length, and fewer bytes than an incomplete input stay
 * incomplete); the form helpers stay inside the body. */
#include "tools/fuzz.h"
#include "workloads/web/http.h"

#include <string.h>

/* Small limits so that inputs of a few hundred bytes reach the 413 and 431 paths. */
static const struct http_limits fuzz_limits = { .max_header_bytes = 512, .max_body_bytes = 256 };

static int inside(const char *p, size_t n, const char *buf, size_t len)
{
	return p >= buf && n <= len && p - buf <= (long)(len - n);
}

static void check_request(const char *buf, size_t len, long r, const struct http_req *q)
{
	fuzz_assert((size_t)r <= len);
	fuzz_assert(inside(q->path, q->path_len, buf, (size_t)r) && q->path_len > 0);
	fuzz_assert(!q->query || inside(q->query, q->query_len, buf, (size_t)r));
	fuzz_assert(q->body_len <= fuzz_limits.max_body_bytes);
	fuzz_assert(q->body_len == 0 || inside(q->body, q->body_len, buf, (size_t)r));
	fuzz_assert(q->minor == 0 || q->minor == 1);
	fuzz_assert(q->method == HTTP_GET || q->method == HTTP_HEAD || q->method == HTTP_POST);

	struct http_req again;
	fuzz_assert(http_parse(buf, (size_t)r, &fuzz_limits, &again) == r);

	const char *val;
	size_t val_len;
	if (q->body_len && http_form_get(q->body, q->body_len, "amount", &val, &val_len))
		fuzz_assert(inside(val, val_len, q->body, q->body_len));
	unsigned long long u;
	if (q->query && http_form_u64(q->query, q->query_len, "id", &u) == 0)
		fuzz_assert(u <= (1ULL << 62));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct http_req q;
	long r = http_parse(buf, size, &fuzz_limits, &q);
	if (r > 0) {
		check_request(buf, size, r, &q);
	} else if (r == 0) {
		fuzz_assert(size <= fuzz_limits.max_header_bytes + fuzz_limits.max_body_bytes);
		if (size > 0)
			fuzz_assert(http_parse(buf, size - 1, &fuzz_limits, &q) == 0);
	} else {
		fuzz_assert(r == -400 || r == -413 || r == -431 || r == -501 || r == -505);
		fuzz_assert(strcmp(http_reason((int)-r), "") != 0);
	}
	return 0;
}
