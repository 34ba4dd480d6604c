/* workloads/web/client.c: vcons-web-load's user model, requests and validation (see client.h).
 *
 * Owns: the curl multi handles (HTTP/1.1: one per worker; HTTP/2: one per user), driven by
 * curl_multi_socket_action from the engine's event loop (curl's sockets watched with lg_io_watch,
 * the earliest of their timers set with lg_timer_set), each user's page state machine (main
 * request, then its images: two at a time over HTTP/1.1, all at once over HTTP/2), streaming
 * validation of every answer, and the QoS counters. */
#include "workloads/web/client.h"
#include "workloads/web/fileset.h"
#include "workloads/web/pages.h"
#include <curl/curl.h>
#include "workloads/common/report.h"
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <strings.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum { T_STATIC, T_SUMMARY, T_HISTORY, T_TRANSFER, T_MAX };
static const char *const type_names[T_MAX] = { "static", "summary", "history", "transfer" };
#define MAX_IMAGES     4
#define IMAGES_AT_ONCE 2 /* HTTP/1.1: a user's image fetches at once (two connections) */
#define BODY_MAX       (2u * 1024 * 1024)
#define MAX_FDS        65536
#define H2_RECV_BUFFER (64L * 1024)

struct expect {
	size_t size;
	uint64_t fnv;
	unsigned char *data; /* the file's exact bytes */
};

struct qos_ctr {
	atomic_ullong pages, good, tolerable, failed, bytes;
};

struct web_client {
	struct web_client_cfg cfg;
	char base[128];
	struct expect *statics, images[FILESET_IMAGES];
	double *zipf_cdf; /* [files]: popularity rank r -> file files-1-r (small files popular) */
	CURLSH *share;
	pthread_mutex_t share_lock[CURL_LOCK_DATA_LAST];
	int ntypes, type_id[T_MAX];
	const struct expect *page_expect; /* --page names a file of the set: its content */
	struct qos_ctr qos[T_MAX];
	pthread_mutex_t err_lock;
	char first_error[256];
};

struct web_worker;

/* A curl multi handle on a worker's event loop, with its own connection cache: the worker's
 * (HTTP/1.1: its users share its keep-alive connections) or a user's (HTTP/2: each user is a
 * browser with one connection to the server, which its page's requests share as streams). */
struct multi {
	CURLM *m;
	struct web_worker *w;
	int64_t due_ns; /* curl's timer (CLOCK_MONOTONIC); INT64_MAX: none */
	int told;       /* curl set the timer during the last socket action */
	int sockets;    /* open sockets: its connections */
	struct user *u; /* HTTP/2: the user whose multi handle it is */
	int stale;      /* an idle connection of its reported an event: the server closed it */
	struct multi *prev, *next; /* the worker's */
};

/* One worker thread's share of the users, run from the worker's event loop (the engine's), whose
 * one timer is the earliest of its multi handles' timers. */
struct web_worker {
	struct web_client *c;
	struct multi shared; /* HTTP/1.1 */
	struct multi *multis;
	int64_t armed; /* the loop's timer as set; INT64_MAX: none */
	struct lg_loop *loop;
	struct wsock *fds; /* [MAX_FDS] */
};

struct user;

/* One HTTP exchange's handle and buffers, reused for every request it makes. */
struct xfer {
	CURL *h;
	struct user *u;
	int added;          /* in the worker's multi handle */
	int fresh, forbid;  /* CURLOPT_FRESH_CONNECT / FORBID_REUSE as set now */
	long version;       /* CURLOPT_HTTP_VERSION as set now */
	int post;           /* CURLOPT_POSTFIELDS set (else GET) */
	char last_url[256]; /* what CURLOPT_URL holds: setting it again makes curl re-parse it */
	char *body;         /* answers not from the file set are kept (acct line, images) */
	size_t len, cap;
	int too_big, differs;
	const struct expect *expect; /* static file or image: compared as it streams in */
};

enum { PH_IDLE, PH_MAIN, PH_IMAGES };

struct user {
	struct web_client *c;
	struct web_worker *w;
	struct multi *mh; /* &w->shared, or &own (HTTP/2) */
	struct multi own;
	struct lg_op *op; /* the op in flight */
	struct xfer main, img[MAX_IMAGES];
	int phase, type;
	int64_t amount; /* transfer: the debit asked for */
	size_t bytes;   /* validated bytes of the page so far */
	int img_idx[MAX_IMAGES], img_n, img_started, img_done;
	int bank_user;
	int known; /* balance and seq below are the server's, as last seen */
	int64_t balance;
	uint64_t seq;
	int pages_left, new_session, last_page;
	int session_over; /* HTTP/2: close the connection once curl is out of the way */
	char url[256], form[128];
};

static void fail(struct web_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct web_client *c, const char *fmt, ...)
{
	pthread_mutex_lock(&c->err_lock);
	if (!c->first_error[0]) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->first_error, sizeof(c->first_error), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&c->err_lock);
}

static void share_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *p)
{
	(void)h;
	(void)a;
	pthread_mutex_lock(&((struct web_client *)p)->share_lock[d]);
}

static void share_unlock(CURL *h, curl_lock_data d, void *p)
{
	(void)h;
	pthread_mutex_unlock(&((struct web_client *)p)->share_lock[d]);
}

/* The expected bytes of file k of the set (k >= files: image k - files). */
static int load_one(struct web_client *c, int k, unsigned char *scratch)
{
	struct fileset_entry e;
	fileset_nth(c->cfg.files, k, scratch, &e);
	struct expect *x = k < c->cfg.files ? &c->statics[k] : &c->images[k - c->cfg.files];
	x->size = e.size;
	x->fnv = e.fnv;
	if (!(x->data = malloc(e.size)))
		return -1;
	memcpy(x->data, scratch, e.size);
	return 0;
}

/* The whole set for the mix; with --page only the page's file (the only answer expected). */
static int load_expected(struct web_client *c, const char **err)
{
	unsigned char *scratch = malloc(FILESET_MAX_BYTES);
	int rc = scratch ? 0 : -1;
	unsigned idx;
	int n = 0;
	const char *page = c->cfg.page;
	if (rc == 0 && !page) {
		for (int k = 0; rc == 0 && k < fileset_count(c->cfg.files); k++)
			rc = load_one(c, k, scratch);
		// NOLINTNEXTLINE(cert-err34-c): width-limited: cannot overflow
	} else if (rc == 0 && sscanf(page, "/static/f%5u.bin%n", &idx, &n) == 1 && n == 18 &&
	           idx < (unsigned)c->cfg.files) {
		if ((rc = load_one(c, (int)idx, scratch)) == 0)
			c->page_expect = &c->statics[idx];
		// NOLINTNEXTLINE(cert-err34-c): width-limited: cannot overflow
	} else if (rc == 0 && sscanf(page, "/images/i%3u.png%n", &idx, &n) == 1 && n == 16 &&
	           idx < FILESET_IMAGES) {
		if ((rc = load_one(c, c->cfg.files + (int)idx, scratch)) == 0)
			c->page_expect = &c->images[idx];
	}
	free(scratch);
	if (rc != 0)
		*err = "out of memory";
	return rc;
}

struct web_client *web_client_new(const struct web_client_cfg *cfg, const char **err)
{
	struct web_client *c = calloc(1, sizeof(*c));
	if (!c || !(c->statics = calloc((size_t)cfg->files, sizeof(*c->statics))) ||
	    !(c->zipf_cdf = calloc((size_t)cfg->files, sizeof(double)))) {
		*err = "out of memory";
		web_client_free(c);
		return NULL;
	}
	c->cfg = *cfg;
	snprintf(c->base, sizeof(c->base), "%s://%s:%d", cfg->https ? "https" : "http", cfg->host,
	         cfg->port);
	if (load_expected(c, err) != 0) {
		web_client_free(c);
		return NULL;
	}
	double sum = 0;
	for (int r = 0; r < cfg->files; r++)
		c->zipf_cdf[r] = (sum += 1.0 / (r + 1));
	for (int r = 0; r < cfg->files; r++)
		c->zipf_cdf[r] /= sum;
	pthread_mutex_init(&c->err_lock, NULL);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&c->share_lock[i], NULL);
	c->share = curl_share_init();
	if (!c->share) {
		*err = "curl_share_init failed";
		web_client_free(c);
		return NULL;
	}
	curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	return c;
}

void web_client_free(struct web_client *c)
{
	if (!c)
		return;
	if (c->share)
		curl_share_cleanup(c->share);
	for (int i = 0; c->statics && i < c->cfg.files; i++)
		free(c->statics[i].data);
	for (int i = 0; i < FILESET_IMAGES; i++)
		free(c->images[i].data);
	free(c->statics);
	free(c->zipf_cdf);
	free(c);
}

int web_client_add_types(struct web_client *c, struct lg *lg)
{
	c->ntypes = c->cfg.page ? 1 : T_MAX;
	for (int t = 0; t < c->ntypes; t++)
		if ((c->type_id[t] = lg_add_type(lg, c->cfg.page ? "page" : type_names[t])) < 0)
			return -1;
	return 0;
}

int web_client_types(const struct web_client *c)
{
	return c->ntypes;
}

const char *web_client_type_name(const struct web_client *c, int type)
{
	return c->cfg.page ? "page" : type_names[type];
}

const char *web_client_first_error(struct web_client *c)
{
	return c->first_error;
}

void web_client_qos(struct web_client *c, int type, struct web_qos *o)
{
	struct qos_ctr *q = &c->qos[type];
	*o = (struct web_qos){ atomic_load(&q->pages), atomic_load(&q->good),
		               atomic_load(&q->tolerable), atomic_load(&q->failed),
		               atomic_load(&q->bytes) };
}

/* ---- One transfer: callbacks, set-up, checks ---- */

/* A file of the set is compared with the expected bytes as it arrives (no copy); anything else is
 * kept for the checksum and the page checks. */
static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;
	if (x->len + len > BODY_MAX) {
		x->too_big = 1;
		return 0; /* aborts the transfer: an answer this large is wrong */
	}
	const struct expect *e = x->expect;
	if (e) {
		if (x->len + len > e->size || memcmp(e->data + x->len, p, len) != 0)
			x->differs = 1;
		x->len += len;
		return len;
	}
	if (x->len + len > x->cap) {
		size_t cap = x->cap ? x->cap : 16384;
		while (cap < x->len + len)
			cap *= 2;
		char *q = realloc(x->body, cap);
		if (!q)
			return 0;
		x->body = q;
		x->cap = cap;
	}
	memcpy(x->body + x->len, p, len);
	x->len += len;
	return len;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* The X-Vcons-Sum header of x's answer (the last one if repeated): 1 with *sum, or 0 when it is
 * missing or not 16 hex digits. Read from curl's header store after the transfer: cheaper than a
 * callback for every header line. */
static int header_sum(struct xfer *x, uint64_t *sum)
{
	struct curl_header *hd;
	if (curl_easy_header(x->h, "X-Vcons-Sum", 0, CURLH_HEADER, -1, &hd) != CURLHE_OK)
		return 0;
	if (hd->amount > 1 && curl_easy_header(x->h, "X-Vcons-Sum", hd->amount - 1, CURLH_HEADER,
	                                       -1, &hd) != CURLHE_OK)
		return 0;
	const char *p = hd->value;
	while (*p == ' ')
		p++;
	uint64_t v = 0;
	int digits = 0;
	for (; hexval(*p) >= 0; p++, digits++)
		v = v << 4 | (uint64_t)hexval(*p);
	*sum = v;
	return digits == 16 && *p == 0;
}

static curl_socket_t on_open(void *clientp, curlsocktype purpose, struct curl_sockaddr *a);
static int on_close(void *clientp, curl_socket_t s);

/* The HTTP version x asks for. HTTP/2 over TLS is chosen by ALPN. Plain HTTP/2 is spoken with prior
 * knowledge on the connection a user opens, and as "HTTP/2" on the connection it reuses: libcurl
 * 7.88 (Debian 12) fails a transfer that asks for prior knowledge on a connection already speaking
 * HTTP/2 (curl issue 10634, fixed in 8.0), and "HTTP/2" on a reused HTTP/2 connection is just that.
 */
static long xfer_version(const struct web_client *c, int fresh)
{
	if (!c->cfg.http2)
		return CURL_HTTP_VERSION_1_1;
	if (c->cfg.https)
		return CURL_HTTP_VERSION_2TLS;
	return fresh ? CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE : CURL_HTTP_VERSION_2_0;
}

static int xfer_init(struct web_client *c, struct user *u, struct xfer *x)
{
	if (!(x->h = curl_easy_init()))
		return -1;
	x->u = u;
	CURL *h = x->h;
	curl_easy_setopt(h, CURLOPT_PRIVATE, x);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_SHARE, c->share);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->cfg.timeout_ms);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, NULL);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*"); /* straight to the target (no env lookups) */
	// cppcheck-suppress leakNoVarFunctionCall ; a callback, not a call (on_close closes)
	curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, on_open);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, u->mh);
	curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, on_close);
	curl_easy_setopt(h, CURLOPT_CLOSESOCKETDATA, u->mh);
	x->version = xfer_version(c, 0);
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, x->version);
	/* HTTP/2: room for all of a stream's data that one read of curl's (32 KiB) can bring. With
	 * less (16 KiB by default), libcurl 7.88 keeps the rest in its connection buffer, does not
	 * count it as pending input, and the transfer waits for the socket, which has nothing more.
	 */
	if (c->cfg.http2)
		curl_easy_setopt(h, CURLOPT_BUFFERSIZE, H2_RECV_BUFFER);
	if (c->cfg.https) {
		if (c->cfg.tls12)
			curl_easy_setopt(
			    h, CURLOPT_SSLVERSION,
			    (long)(CURL_SSLVERSION_TLSv1_2 | CURL_SSLVERSION_MAX_TLSv1_2));
		if (c->cfg.cacert) {
			curl_easy_setopt(h, CURLOPT_CAINFO, c->cfg.cacert);
		} else {
			curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
			curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
		}
	}
	return 0;
}

/* Prepares x for a request to url (GET, or POST of form) and hands it to the worker's loop.
 * Options are set only when they change: curl re-parses a URL each time it is set. */
static int xfer_start(struct user *u, struct xfer *x, const char *url, const struct expect *e,
                      const char *form)
{
	x->len = 0;
	x->too_big = x->differs = 0;
	x->expect = e;
	if (strcmp(x->last_url, url) != 0) {
		snprintf(x->last_url, sizeof(x->last_url), "%s", url);
		curl_easy_setopt(x->h, CURLOPT_URL, x->last_url);
	}
	if (form)
		curl_easy_setopt(x->h, CURLOPT_POSTFIELDS, form);
	else if (x->post)
		curl_easy_setopt(x->h, CURLOPT_HTTPGET, 1L);
	x->post = form != NULL;
	/* A new session's first request opens a new connection; over HTTP/2 also a user's first
	 * request since its connection closed. */
	int fresh = x == &u->main &&
	            (u->new_session || (u->c->cfg.http2 && (!u->mh->sockets || u->mh->stale)));
	if (fresh)
		u->mh->stale = 0;
	if (fresh != x->fresh)
		curl_easy_setopt(x->h, CURLOPT_FRESH_CONNECT, (long)(x->fresh = fresh));
	long version = xfer_version(u->c, fresh);
	if (version != x->version)
		curl_easy_setopt(x->h, CURLOPT_HTTP_VERSION, x->version = version);
	/* The session ends: its connections close after use (HTTP/2: page_account closes the
	 * user's one connection once the page is over). */
	int forbid = u->last_page && !u->c->cfg.http2;
	if (forbid != x->forbid)
		curl_easy_setopt(x->h, CURLOPT_FORBID_REUSE, (long)(x->forbid = forbid));
	if (curl_multi_add_handle(u->mh->m, x->h) != CURLM_OK) {
		fail(u->c, "cannot start a transfer");
		return -1;
	}
	x->added = 1;
	return 0;
}

static void xfer_stop(struct user *u, struct xfer *x)
{
	if (x->added)
		curl_multi_remove_handle(u->mh->m, x->h);
	x->added = 0;
}

/* Status, length, checksum header, and the file set when the answer is a file. */
static int check(struct web_client *c, struct xfer *x, const char *what)
{
	long status = 0, version = 0;
	curl_off_t clen = -1;
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(x->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &clen);
	curl_easy_getinfo(x->h, CURLINFO_HTTP_VERSION, &version);
	if (status != 200) {
		fail(c, "%s: status %ld", what, status);
		return -1;
	}
	long want = c->cfg.http2 ? CURL_HTTP_VERSION_2_0 : CURL_HTTP_VERSION_1_1;
	if (version != want) {
		fail(c, "%s: answered over HTTP %s, not %s", what,
		     version == CURL_HTTP_VERSION_2_0 ? "2" : "1.x", c->cfg.http2 ? "2" : "1.1");
		return -1;
	}
	if (clen < 0 || (size_t)clen != x->len || x->too_big) {
		fail(c, "%s: %zu bytes received, Content-Length %" PRId64, what, x->len,
		     (int64_t)clen);
		return -1;
	}
	/* A file is compared byte for byte with the file set (and its checksum header with the
	 * set's); other answers are checked against their own checksum header. */
	const struct expect *e = x->expect;
	uint64_t sum = e ? e->fnv : fnv1a64(x->body, x->len);
	uint64_t got;
	if (!header_sum(x, &got) || got != sum) {
		fail(c, "%s: X-Vcons-Sum missing or not %016" PRIx64, what, sum);
		return -1;
	}
	if (e && (e->size != x->len || x->differs)) {
		fail(c, "%s: content differs from the file set", what);
		return -1;
	}
	return 0;
}

/* The page's acct line against what the user knows; adopts the page's state. */
static int check_acct(struct web_client *c, struct user *u, const char *what, int64_t debit)
{
	int user;
	int64_t bal;
	uint64_t seq;
	if (pages_parse_acct(u->main.body, u->main.len, &user, &bal, &seq) != 0 ||
	    user != u->bank_user) {
		fail(c, "%s: page is not for user %d", what, u->bank_user);
		return -1;
	}
	uint64_t want_seq = u->seq + (debit ? 1 : 0);
	if (u->known && (seq != want_seq || bal != u->balance - debit)) {
		fail(c,
		     "%s: user %d state balance=%" PRId64 " seq=%" PRIu64 ", expected %" PRId64
		     " seq=%" PRIu64,
		     what, user, bal, seq, u->balance - debit, want_seq);
		return -1;
	}
	u->known = 1;
	u->balance = bal;
	u->seq = seq;
	return 0;
}

/* ---- Users and their pages ---- */

static int multi_open(struct multi *mh, struct web_worker *w, struct user *u, long maxconnects);
static void multi_close(struct multi *mh);

void web_client_user_close(void *arg, void *state)
{
	(void)arg;
	struct user *u = state;
	struct xfer *all[MAX_IMAGES + 1] = { &u->main };
	for (int i = 0; i < MAX_IMAGES; i++)
		all[i + 1] = &u->img[i];
	for (int i = 0; i <= MAX_IMAGES; i++) {
		xfer_stop(u, all[i]);
		if (all[i]->h)
			curl_easy_cleanup(all[i]->h);
		free(all[i]->body);
	}
	multi_close(&u->own); /* HTTP/2: the user's connection */
	free(u);
}

static struct user *user_new(struct web_client *c, struct web_worker *w, int id)
{
	struct user *u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->c = c;
	u->w = w;
	u->mh = &w->shared;
	u->bank_user = (c->cfg.user_base + id) % c->cfg.bank_users;
	if (c->cfg.http2 && multi_open(u->mh = &u->own, w, u, 2) != 0) {
		free(u);
		return NULL;
	}
	int ok = xfer_init(c, u, &u->main) == 0;
	for (int i = 0; ok && i < MAX_IMAGES; i++)
		ok = xfer_init(c, u, &u->img[i]) == 0;
	if (!ok) {
		web_client_user_close(c, u);
		return NULL;
	}
	return u;
}

/* Good/tolerable limits of a page, us. */
static void qos_limits(int type, size_t bytes, int64_t *good, int64_t *tol)
{
	*good = 2000000;
	*tol = 4000000;
	if (type == T_STATIC) {
		int64_t g = (int64_t)bytes, t = (int64_t)bytes * 2; /* 1 MB/s, 0.5 MB/s in us */
		*good = g > *good ? g : *good;
		*tol = t > *tol ? t : *tol;
	}
}

/* The page is over (rc 0: every answer validated): transfers stopped, QoS counted. */
static void page_account(struct user *u, int rc)
{
	struct web_client *c = u->c;
	for (int i = 0; i < MAX_IMAGES; i++)
		xfer_stop(u, &u->img[i]);
	xfer_stop(u, &u->main);
	int type = c->cfg.page ? T_STATIC : u->type;
	u->op->type = c->type_id[c->cfg.page ? 0 : type];
	u->phase = PH_IDLE;
	u->session_over = c->cfg.http2 && (u->last_page || rc != 0);
	struct qos_ctr *q = &c->qos[c->cfg.page ? 0 : type];
	atomic_fetch_add(&q->pages, 1);
	if (rc != 0) {
		atomic_fetch_add(&q->failed, 1);
		u->known = 0; /* a failed transfer may or may not have happened */
		u->pages_left = 0;
	} else {
		int64_t good, tol, t = lg_latency_us(u->op->intended_ns, lg_loop_now(u->w->loop));
		qos_limits(c->cfg.page ? -1 : type, u->bytes, &good, &tol);
		if (t <= good)
			atomic_fetch_add(&q->good, 1);
		if (t <= tol)
			atomic_fetch_add(&q->tolerable, 1);
		atomic_fetch_add(&q->bytes, u->bytes);
	}
}

/* ... and the engine is told. */
static void page_finish(struct user *u, int rc)
{
	page_account(u, rc);
	struct lg_op *op = u->op;
	u->op = NULL;
	lg_op_done(op, rc);
}

static int image_start(struct user *u)
{
	int k = u->img_started++;
	char url[256];
	unsigned idx = (unsigned)u->img_idx[k];
	snprintf(url, sizeof(url), "%s/images/i%03u.png", u->c->base, idx);
	return xfer_start(u, &u->img[k], url, &u->c->images[idx], NULL);
}

/* The images a page embeds (<img src="/images/iNNN.png">); the first ones start. */
static int images_start(struct user *u)
{
	struct web_client *c = u->c;
	const char *p = u->main.body, *end = u->main.body + u->main.len;
	static const char tag[] = "<img src=\"/images/i";
	u->img_n = u->img_started = u->img_done = 0;
	while (u->img_n < MAX_IMAGES && (p = memmem(p, (size_t)(end - p), tag, sizeof(tag) - 1))) {
		p += sizeof(tag) - 1;
		unsigned idx;
		// NOLINTNEXTLINE(cert-err34-c): width-limited: cannot overflow
		if (end - p < 8 || sscanf(p, "%3u.png\"", &idx) != 1 || idx >= FILESET_IMAGES)
			break;
		u->img_idx[u->img_n++] = (int)idx;
	}
	if (u->img_n == 0) {
		fail(c, "page embeds no images");
		return -1;
	}
	u->phase = PH_IMAGES;
	int at_once =
	    c->cfg.http2 ? u->img_n : IMAGES_AT_ONCE; /* HTTP/2: as streams, all at once */
	while (u->img_started < u->img_n && u->img_started < at_once)
		if (image_start(u) != 0)
			return -1;
	return 0;
}

static void main_done(struct user *u)
{
	struct web_client *c = u->c;
	const char *what = c->cfg.page ? c->cfg.page : type_names[u->type];
	if (check(c, &u->main, what) != 0) {
		page_finish(u, -1);
		return;
	}
	u->bytes = u->main.len;
	if (c->cfg.page || u->type == T_STATIC) {
		page_finish(u, 0);
		return;
	}
	if (check_acct(c, u, what, u->amount) != 0) {
		page_finish(u, -1);
		return;
	}
	if (u->type == T_TRANSFER)
		page_finish(u, 0);
	else if (images_start(u) != 0)
		page_finish(u, -1);
}

static void image_done(struct user *u, struct xfer *x)
{
	if (check(u->c, x, "image") != 0) {
		page_finish(u, -1);
		return;
	}
	u->bytes += x->len;
	u->img_done++;
	if (u->img_started < u->img_n && image_start(u) != 0)
		page_finish(u, -1);
	else if (u->img_done == u->img_n)
		page_finish(u, 0);
}

static void xfer_done(struct xfer *x, CURLcode res)
{
	struct user *u = x->u;
	xfer_stop(u, x);
	if (u->phase == PH_IDLE)
		return;
	if (res != CURLE_OK) {
		fail(u->c, "transfer failed: %s", curl_easy_strerror(res));
		page_finish(u, -1);
	} else if (x == &u->main) {
		main_done(u);
	} else {
		image_done(u, x);
	}
}

static int pick_static(struct web_client *c, struct rng *r)
{
	double x = rng_uniform(r);
	int lo = 0, hi = c->cfg.files - 1;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (c->zipf_cdf[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return c->cfg.files - 1 - lo;
}

static int pick_type(struct rng *r)
{
	double x = rng_uniform(r);
	return x < 0.40 ? T_STATIC : x < 0.65 ? T_SUMMARY : x < 0.85 ? T_HISTORY : T_TRANSFER;
}

/* The page's main request. */
static int page_start(struct web_client *c, struct user *u, struct rng *r)
{
	u->amount = 0;
	if (c->cfg.page) {
		snprintf(u->url, sizeof(u->url), "%s%s", c->base, c->cfg.page);
		return xfer_start(u, &u->main, u->url, c->page_expect, NULL);
	}
	if (u->type == T_STATIC) {
		int i = pick_static(c, r);
		snprintf(u->url, sizeof(u->url), "%s/static/f%05d.bin", c->base, i);
		return xfer_start(u, &u->main, u->url, &c->statics[i], NULL);
	}
	if (u->type == T_TRANSFER) {
		u->amount = rng_range(r, 1, 1000);
		snprintf(u->url, sizeof(u->url), "%s/bank/transfer", c->base);
		snprintf(u->form, sizeof(u->form), "user=%d&amount=%" PRId64 "&payee=payee%d",
		         u->bank_user, u->amount, (int)rng_range(r, 0, 99));
		return xfer_start(u, &u->main, u->url, NULL, u->form);
	}
	snprintf(u->url, sizeof(u->url), "%s/bank/%s?user=%d", c->base,
	         u->type == T_SUMMARY ? "summary" : "history", u->bank_user);
	return xfer_start(u, &u->main, u->url, NULL, NULL);
}

int web_client_op_start(void *arg, void *wctx, struct lg_op *op)
{
	struct web_client *c = arg;
	struct user *u = op->state;
	if (!u && !(op->state = u = user_new(c, wctx, op->user))) {
		fail(c, "cannot create a curl handle");
		return -1;
	}
	u->new_session = u->pages_left <= 0;
	if (u->new_session) /* a new session: a new connection, resumed TLS */
		u->pages_left = 1 + (int)rng_exp(op->rng, c->cfg.session_pages - 1);
	u->last_page = --u->pages_left <= 0;
	u->type = c->cfg.page ? T_STATIC : pick_type(op->rng);
	u->op = op;
	u->bytes = 0;
	u->phase = PH_MAIN;
	if (page_start(c, u, op->rng) != 0) {
		page_account(u, -1);
		u->op = NULL;
		return -1;
	}
	return 0;
}

/* ---- curl on the engine's event loop ---- */

/* A socket of curl's, by fd: its watch in the worker's epoll set, what curl wants and whose it is.
 * curl tells us to forget a keep-alive connection's socket after every transfer and to watch it
 * again on the next, two epoll_ctl calls per request; instead a socket stays watched (closes come
 * through on_close, which forgets it) and is removed only when it reports an event curl does not
 * want. */
struct wsock {
	struct lg_io io;
	uint32_t wanted; /* epoll events */
	struct multi *mh;
};

static int multi_renew(struct multi *mh);

/* The transfers curl finished; then (HTTP/2) the connection of a session that ended closes. */
static void drain_done(struct multi *mh)
{
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(mh->m, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		CURLcode res = m->data.result;
		struct xfer *x = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		if (x)
			xfer_done(x, res);
	}
	if (mh->u && mh->u->session_over) {
		mh->u->session_over = 0;
		if (multi_renew(mh))
			fail(mh->w->c, "cannot create a curl multi handle");
	}
}

/* The engine: a socket of curl's is ready. */
static void on_ready(void *arg, int fd, uint32_t revents)
{
	struct wsock *ws = arg;
	int running;
	if (!ws->wanted) { /* an idle socket (e.g. closed by the server): curl looks when it
		            * reuses it; until then it must not spin */
		char b;
		if ((revents & (EPOLLHUP | EPOLLERR)) ||
		    recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
			ws->mh->stale = 1; /* the next page opens a new connection */
		lg_io_watch(ws->mh->w->loop, &ws->io, 0);
		return;
	}
	int f = ((revents & (EPOLLIN | EPOLLHUP)) ? CURL_CSELECT_IN : 0) |
	        ((revents & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
	        ((revents & EPOLLERR) ? CURL_CSELECT_ERR : 0);
	struct multi *mh = ws->mh;
	curl_multi_socket_action(mh->m, fd, f, &running);
	drain_done(mh);
}

/* Sets the loop's timer to the earliest of the worker's multi handles' timers. */
static void timer_arm(struct web_worker *w)
{
	int64_t due = INT64_MAX;
	for (const struct multi *mh = w->multis; mh; mh = mh->next)
		due = mh->due_ns < due ? mh->due_ns : due;
	w->armed = due;
	lg_timer_set(w->loop, due == INT64_MAX ? -1 : due);
}

/* The engine: the loop's timer is due (the engine has cleared it): every multi handle whose timer
 * is due runs it, then the loop's timer is set again. curl sets a timer again when its earliest
 * expiry changed; when it did not (this one came before curl's expiry: timers count from the
 * loop's last wake-up and curl rounds down to milliseconds), curl is asked for it. */
void web_client_timer(void *arg, void *wctx)
{
	(void)arg;
	struct web_worker *w = wctx;
	int64_t now = lg_loop_now(w->loop);
	for (struct multi *mh = w->multis; mh; mh = mh->next) {
		if (mh->due_ns > now)
			continue;
		int running;
		long ms = -1;
		mh->due_ns = INT64_MAX;
		mh->told = 0;
		curl_multi_socket_action(mh->m, CURL_SOCKET_TIMEOUT, 0, &running);
		drain_done(mh);
		if (!mh->told && curl_multi_timeout(mh->m, &ms) == CURLM_OK && ms >= 0)
			mh->due_ns = now + (int64_t)ms * 1000000;
	}
	timer_arm(w);
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	(void)e;
	(void)socketp;
	struct multi *mh = userp;
	struct web_worker *w = mh->w;
	if (s < 0 || s >= MAX_FDS) {
		fail(w->c, "socket %d beyond the event loop's table", (int)s);
		return -1;
	}
	struct wsock *ws = &w->fds[s];
	if (what == CURL_POLL_REMOVE) {
		ws->wanted = 0; /* stays watched until it reports something */
		return 0;
	}
	ws->wanted =
	    ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
	ws->mh = mh;
	ws->io.fd = s;
	ws->io.arg = ws;
	ws->io.ready = on_ready;
	return lg_io_watch(w->loop, &ws->io, ws->wanted);
}

/* curl opens a socket for a connection of mh's. */
static curl_socket_t on_open(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
	(void)purpose;
	struct multi *mh = clientp;
	curl_socket_t s = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	if (s != CURL_SOCKET_BAD)
		mh->sockets++;
	return s;
}

/* curl closes a socket: the kernel drops it from the epoll set. */
static int on_close(void *clientp, curl_socket_t s)
{
	struct multi *mh = clientp; /* outlives its sockets: curl closes cached sockets last */
	if (s >= 0 && s < MAX_FDS) {
		struct wsock *ws = &mh->w->fds[s];
		lg_io_closed(&ws->io);
		ws->wanted = 0;
	}
	mh->sockets--;
	// cppcheck-suppress invalidFunctionArg ; curl hands over only sockets it opened
	return close(s);
}

/* curl sets mh's timer: the loop's timer follows when it comes earlier, or when it was mh's and
 * moves (the others are looked at then). */
static int on_timer(CURLM *m, long timeout_ms, void *userp)
{
	(void)m;
	struct multi *mh = userp;
	struct web_worker *w = mh->w;
	int64_t was = mh->due_ns;
	mh->told = 1;
	/* From the last wake-up, not the clock: a deadline early by microseconds costs one extra
	 * look by curl, a clock read per call costs more (curl calls this often). */
	mh->due_ns =
	    timeout_ms < 0 ? INT64_MAX : lg_loop_now(w->loop) + (int64_t)timeout_ms * 1000000;
	if (mh->due_ns < w->armed) {
		w->armed = mh->due_ns;
		lg_timer_set(w->loop, w->armed);
	} else if (was == w->armed && mh->due_ns != was) {
		timer_arm(w);
	}
	return 0;
}

static void multi_setopts(struct multi *mh, long maxconnects)
{
	curl_multi_setopt(mh->m, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(mh->m, CURLMOPT_SOCKETDATA, mh);
	curl_multi_setopt(mh->m, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(mh->m, CURLMOPT_TIMERDATA, mh);
	curl_multi_setopt(mh->m, CURLMOPT_MAXCONNECTS, maxconnects);
	curl_multi_setopt(mh->m, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
}

/* A multi handle of w's (and of u, for HTTP/2), keeping up to maxconnects idle connections; 0, or
 * -1. */
static int multi_open(struct multi *mh, struct web_worker *w, struct user *u, long maxconnects)
{
	*mh = (struct multi){ .m = curl_multi_init(), .due_ns = INT64_MAX, .u = u };
	if (!mh->m)
		return -1;
	mh->w = w;
	multi_setopts(mh, maxconnects);
	mh->next = w->multis;
	if (w->multis)
		w->multis->prev = mh;
	w->multis = mh;
	return 0;
}

/* HTTP/2: a user's session ended: its multi handle is closed with its connection (a browser
 * quits), and a new one waits for the next session. 0, or -1 (the user's next page fails). */
static int multi_renew(struct multi *mh)
{
	curl_multi_cleanup(mh->m);
	mh->due_ns = INT64_MAX;
	mh->stale = 0;
	if (!(mh->m = curl_multi_init()))
		return -1;
	multi_setopts(mh, 2);
	return 0;
}

/* Closes mh's connections (if it was opened) and forgets it. */
static void multi_close(struct multi *mh)
{
	if (!mh->w)
		return; /* never opened */
	if (mh->m)
		curl_multi_cleanup(mh->m);
	mh->m = NULL;
	if (mh->prev)
		mh->prev->next = mh->next;
	else
		mh->w->multis = mh->next;
	if (mh->next)
		mh->next->prev = mh->prev;
}

void *web_client_worker_open(void *arg, int worker, struct lg_loop *loop)
{
	(void)worker;
	struct web_client *c = arg;
	struct web_worker *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->c = c;
	w->loop = loop;
	w->armed = INT64_MAX;
	w->fds = calloc(MAX_FDS, sizeof(*w->fds));
	/* HTTP/1.1: the worker's users share its connections; keep every user's idle ones (curl's
	 * default cache is small). HTTP/2: each user has its own multi handle (user_new). */
	if (!w->fds ||
	    (!c->cfg.http2 &&
	     multi_open(&w->shared, w, NULL, (long)c->cfg.users * IMAGES_AT_ONCE + 8) != 0)) {
		fail(c, "cannot create the event loop");
		web_client_worker_close(c, w);
		return NULL;
	}
	return w;
}

void web_client_worker_close(void *arg, void *wctx)
{
	(void)arg;
	struct web_worker *w = wctx;
	multi_close(&w->shared);
	free(w->fds);
	free(w);
}
