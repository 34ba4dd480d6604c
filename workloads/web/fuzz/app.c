/* workloads/web/fuzz/app.c: fuzz target for what vcons-web does with a connection's requests: the
 * input is the bytes of one connection, parsed (http.h) and answered (app.h) request by request as
 * server.c does, against a small file set and a fresh bank journal per input.
 *
 * Checked besides crashes: every answer's header says HTTP/1.1 with a status, a Content-Length
 * equal to the body (bar HEAD) and an X-Vcons-Sum that is the body's FNV-1a; money moves only
 * by an answered transfer, by exactly its amount (every user's balance is tracked); and after the
 * input, the journal replayed by a second bank gives the same balances and counts (bank.h's
 * durability contract). fdatasync is a no-op in this process: speed, not durability, is at stake
 * here (the e2e crash test covers that). */
#include "tools/fuzz.h"
#include "workloads/web/app.h"
#include "workloads/web/fileset.h"

#include <string.h>
#include <unistd.h>

#define FILES 8
#define USERS 4

static struct fuzz_web {
	struct app app;
	char journal[256];
} fz;

int fdatasync(int fd)
{
	(void)fd;
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = fuzz_scratch_dir("web-app"), *err = "";
	fz.app.limits = (struct http_limits){ .max_header_bytes = 1024, .max_body_bytes = 512 };
	snprintf(fz.journal, sizeof fz.journal, "%s/journal.log", dir);
	if (fileset_write(dir, FILES) != 0 || app_load_files(&fz.app, dir, FILES, &err) != 0) {
		fprintf(stderr, "web-app fuzz: cannot set up the file set in %s: %s\n", dir, err);
		exit(1);
	}
	return 0;
}

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* The answer as HTTP/1.1 sends it: its head formatted, then checked against the body. */
static void check_answer(const struct app_resp *r, int head_only)
{
	if (r->failed) /* out of memory: the connection is dropped */
		return;
	char h[HTTP_HEAD_MAX];
	int len = http_head_format(&r->head, h, sizeof(h));
	fuzz_assert(len > 0);
	int status = 0;
	// NOLINTNEXTLINE(cert-err34-c): width-limited: cannot overflow
	fuzz_assert(sscanf(h, "HTTP/1.1 %3d ", &status) == 1 && status >= 200 && status < 600);
	fuzz_assert(len >= 4 && !strcmp(h + len - 4, "\r\n\r\n"));
	const char *cl = strstr(h, "\r\nContent-Length: ");
	fuzz_assert(cl);
	if (!head_only)
		fuzz_assert(strtoull(cl + 18, NULL, 10) == r->body_len);
	const char *sum = strstr(h, "\r\nX-Vcons-Sum: ");
	if (sum && !head_only)
		fuzz_assert(strtoull(sum + 15, NULL, 16) == fnv1a(r->body, r->body_len));
}

/* The debit a 200 answer to this request made, or 0. */
static int64_t debit(const struct http_req *q, const struct app_resp *r, int *user)
{
	unsigned long long u, amount;
	if (q->method != HTTP_POST || q->path_len != 14 || memcmp(q->path, "/bank/transfer", 14) ||
	    r->failed || r->head.status != 200 || http_form_u64(q->body, q->body_len, "user", &u) ||
	    http_form_u64(q->body, q->body_len, "amount", &amount))
		return 0;
	*user = (int)u;
	return (int64_t)amount;
}

static void check_balances(struct bank *b, const int64_t *want)
{
	for (int u = 0; u < USERS; u++) {
		struct bank_view v;
		bank_view(b, u, &v);
		fuzz_assert(v.balance == want[u] && v.balance >= 0);
	}
}

/* A second bank replaying the journal sees what the first one answered. */
static void check_replay(long transfers)
{
	long replayed = -1;
	const char *err = "";
	struct bank *again = bank_open(fz.journal, USERS, &replayed, &err);
	fuzz_assert(again && replayed == transfers);
	for (int u = 0; u < USERS; u++) {
		struct bank_view a, b;
		bank_view(fz.app.bank, u, &a);
		bank_view(again, u, &b);
		fuzz_assert(a.balance == b.balance && a.seq == b.seq);
	}
	bank_close(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data, *err = "";
	long replayed = -1, transfers = 0;
	unlink(fz.journal);
	fz.app.bank = bank_open(fz.journal, USERS, &replayed, &err);
	fuzz_assert(fz.app.bank && replayed == 0);
	atomic_store(&fz.app.stop, 0);
	int64_t want[USERS];
	for (int u = 0; u < USERS; u++)
		want[u] = bank_initial_balance(u);
	for (size_t off = 0; off < size;) {
		struct http_req q;
		struct app_resp r = { 0 };
		long n = http_parse(buf + off, size - off, &fz.app.limits, &q);
		if (n == 0)
			break;
		if (n < 0) {
			app_error(&fz.app, (int)-n, &r);
			check_answer(&r, 0);
			app_resp_free(&r);
			break;
		}
		app_handle(&fz.app, &q, &r);
		check_answer(&r, q.method == HTTP_HEAD);
		int user = 0;
		int64_t d = debit(&q, &r, &user);
		if (d) {
			want[user] -= d;
			transfers++;
		}
		int close = r.head.close;
		app_resp_free(&r);
		check_balances(fz.app.bank, want);
		if (close)
			break;
		off += (size_t)n;
	}
	check_replay(transfers);
	bank_close(fz.app.bank);
	fz.app.bank = NULL;
	return 0;
}
