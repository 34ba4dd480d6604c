/* workloads/web/client.c: vcons-web-load's user model, requests and validation (see client.h). */
#include "workloads/web/client.h"
#include "workloads/web/fileset.h"
#include "workloads/web/pages.h"
#include <curl/curl.h>
#include "workloads/common/report.h"
#include <inttypes.h>
#include <stdarg.h>
#include <strings.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { T_STATIC, T_SUMMARY, T_HISTORY, T_TRANSFER, T_MAX };
static const char *const type_names[T_MAX] = { "static", "summary", "history", "transfer" };
#define MAX_IMAGES 4
#define BODY_MAX   (2u * 1024 * 1024)

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

/* One HTTP exchange's buffers. */
struct xfer {
	CURL *h;
	char last_url[256]; /* what CURLOPT_URL holds: setting it again makes curl re-parse it */
	char *body;
	size_t len, cap;
	int too_big;
	int have_sum;
	uint64_t sum;
	const struct expect *expect; /* static file or image: the file set's answer */
};

struct user {
	CURLM *multi;
	struct xfer main, img[MAX_IMAGES];
	int bank_user;
	int known; /* balance and seq below are the server's, as last seen */
	int64_t balance;
	uint64_t seq;
	int pages_left;
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

struct web_client *web_client_new(const struct web_client_cfg *cfg, const char **err)
{
	struct web_client *c = calloc(1, sizeof(*c));
	unsigned char *scratch = malloc(FILESET_MAX_BYTES);
	if (!c || !scratch || !(c->statics = calloc((size_t)cfg->files, sizeof(*c->statics))) ||
	    !(c->zipf_cdf = calloc((size_t)cfg->files, sizeof(double)))) {
		*err = "out of memory";
		free(scratch);
		web_client_free(c);
		return NULL;
	}
	c->cfg = *cfg;
	snprintf(c->base, sizeof(c->base), "%s://%s:%d", cfg->https ? "https" : "http", cfg->host,
	         cfg->port);
	for (int k = 0; k < fileset_count(cfg->files); k++) {
		struct fileset_entry e;
		fileset_nth(cfg->files, k, scratch, &e);
		struct expect *x = k < cfg->files ? &c->statics[k] : &c->images[k - cfg->files];
		x->size = e.size;
		x->fnv = e.fnv;
		if (!(x->data = malloc(e.size))) {
			*err = "out of memory";
			free(scratch);
			web_client_free(c);
			return NULL;
		}
		memcpy(x->data, scratch, e.size);
	}
	free(scratch);
	double sum = 0;
	for (int r = 0; r < cfg->files; r++)
		c->zipf_cdf[r] = (sum += 1.0 / (r + 1));
	for (int r = 0; r < cfg->files; r++)
		c->zipf_cdf[r] /= sum;
	pthread_mutex_init(&c->err_lock, NULL);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&c->share_lock[i], NULL);
	unsigned idx;
	int n = 0;
	if (cfg->page && sscanf(cfg->page, "/static/f%5u.bin%n", &idx, &n) == 1 && n == 18 &&
	    idx < (unsigned)cfg->files)
		c->page_expect = &c->statics[idx];
	else if (cfg->page && sscanf(cfg->page, "/images/i%3u.png%n", &idx, &n) == 1 && n == 16 &&
	         idx < FILESET_IMAGES)
		c->page_expect = &c->images[idx];
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

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;
	if (x->len + len > BODY_MAX) {
		x->too_big = 1;
		return 0; /* aborts the transfer: an answer this large is wrong */
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

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;
	static const char name[] = "x-vcons-sum:";
	if (len <= sizeof(name) || strncasecmp(p, name, sizeof(name) - 1) != 0)
		return len;
	size_t i = sizeof(name) - 1;
	while (i < len && p[i] == ' ')
		i++;
	uint64_t v = 0;
	int digits = 0;
	for (; i < len && hexval(p[i]) >= 0; i++, digits++)
		v = v << 4 | (uint64_t)hexval(p[i]);
	x->have_sum = digits == 16;
	x->sum = v;
	return len;
}

static int xfer_init(struct web_client *c, struct xfer *x)
{
	if (!(x->h = curl_easy_init()))
		return -1;
	CURL *h = x->h;
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_SHARE, c->share);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->cfg.timeout_ms);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, NULL);
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

static void xfer_reset(struct xfer *x, const char *url, const struct expect *e)
{
	x->len = 0;
	x->too_big = 0;
	x->have_sum = 0;
	x->expect = e;
	if (strcmp(x->last_url, url) != 0) {
		snprintf(x->last_url, sizeof(x->last_url), "%s", url);
		curl_easy_setopt(x->h, CURLOPT_URL, x->last_url);
	}
}

void web_client_user_close(void *arg, void *state)
{
	(void)arg;
	struct user *u = state;
	struct xfer *all[MAX_IMAGES + 1] = { &u->main };
	for (int i = 0; i < MAX_IMAGES; i++)
		all[i + 1] = &u->img[i];
	for (int i = 0; i <= MAX_IMAGES; i++) {
		if (all[i]->h)
			curl_easy_cleanup(all[i]->h);
		free(all[i]->body);
	}
	if (u->multi)
		curl_multi_cleanup(u->multi);
	free(u);
}

static CURLM *new_multi(void)
{
	CURLM *m = curl_multi_init();
	if (m)
		curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 2L);
	return m;
}

static struct user *user_new(struct web_client *c, int id)
{
	struct user *u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->bank_user = (c->cfg.user_base + id) % c->cfg.bank_users;
	int ok = (u->multi = new_multi()) != NULL && xfer_init(c, &u->main) == 0;
	for (int i = 0; ok && i < MAX_IMAGES; i++)
		ok = xfer_init(c, &u->img[i]) == 0;
	if (!ok) {
		web_client_user_close(c, u);
		return NULL;
	}
	return u;
}

/* Runs the n transfers concurrently through the user's multi handle until all are done. 0 when
 * every one completed at the transport level (checked further by the caller), else -1. */
static int run(struct web_client *c, struct user *u, struct xfer **xs, int n)
{
	for (int i = 0; i < n; i++)
		curl_multi_add_handle(u->multi, xs[i]->h);
	int running = n, rc = 0;
	while (running > 0) {
		if (curl_multi_perform(u->multi, &running) != CURLM_OK) {
			rc = -1;
			break;
		}
		if (running > 0 && curl_multi_wait(u->multi, NULL, 0, 1000, NULL) != CURLM_OK) {
			rc = -1;
			break;
		}
	}
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(u->multi, &left))) {
		if (m->msg == CURLMSG_DONE && m->data.result != CURLE_OK) {
			fail(c, "transfer failed: %s", curl_easy_strerror(m->data.result));
			rc = -1;
		}
	}
	for (int i = 0; i < n; i++)
		curl_multi_remove_handle(u->multi, xs[i]->h);
	return rc;
}

/* Status, length, checksum header, and the file set when the answer is a file. */
static int check(struct web_client *c, struct xfer *x, const char *what)
{
	long status = 0;
	curl_off_t clen = -1;
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(x->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &clen);
	if (status != 200) {
		fail(c, "%s: status %ld", what, status);
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
	if (!x->have_sum || x->sum != sum) {
		fail(c, "%s: X-Vcons-Sum missing or not %016" PRIx64, what, sum);
		return -1;
	}
	if (e && (e->size != x->len || memcmp(e->data, x->body, x->len) != 0)) {
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

/* Fetches the images a page embeds (<img src="/images/iNNN.png">), concurrently. */
static int fetch_images(struct web_client *c, struct user *u, size_t *bytes)
{
	struct xfer *xs[MAX_IMAGES];
	int n = 0;
	const char *p = u->main.body, *end = u->main.body + u->main.len;
	static const char tag[] = "<img src=\"/images/i";
	while (n < MAX_IMAGES && (p = memmem(p, (size_t)(end - p), tag, sizeof(tag) - 1))) {
		p += sizeof(tag) - 1;
		unsigned idx;
		if (end - p < 8 || sscanf(p, "%3u.png\"", &idx) != 1 || idx >= FILESET_IMAGES)
			break;
		char url[256];
		snprintf(url, sizeof(url), "%s/images/i%03u.png", c->base, idx);
		xfer_reset(&u->img[n], url, &c->images[idx]);
		curl_easy_setopt(u->img[n].h, CURLOPT_HTTPGET, 1L);
		xs[n] = &u->img[n];
		n++;
	}
	if (n == 0) {
		fail(c, "page embeds no images");
		return -1;
	}
	if (run(c, u, xs, n) != 0)
		return -1;
	for (int i = 0; i < n; i++) {
		if (check(c, xs[i], "image") != 0)
			return -1;
		*bytes += xs[i]->len;
	}
	return 0;
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

static int page_static(struct web_client *c, struct user *u, struct rng *r, size_t *bytes)
{
	int i = pick_static(c, r);
	snprintf(u->url, sizeof(u->url), "%s/static/f%05d.bin", c->base, i);
	xfer_reset(&u->main, u->url, &c->statics[i]);
	curl_easy_setopt(u->main.h, CURLOPT_HTTPGET, 1L);
	struct xfer *xs[1] = { &u->main };
	if (run(c, u, xs, 1) != 0 || check(c, &u->main, "static") != 0)
		return -1;
	*bytes = u->main.len;
	return 0;
}

static int page_dynamic(struct web_client *c, struct user *u, int type, struct rng *r,
                        size_t *bytes)
{
	int64_t amount = 0;
	if (type == T_TRANSFER) {
		amount = rng_range(r, 1, 1000);
		snprintf(u->url, sizeof(u->url), "%s/bank/transfer", c->base);
		snprintf(u->form, sizeof(u->form), "user=%d&amount=%" PRId64 "&payee=payee%d",
		         u->bank_user, amount, (int)rng_range(r, 0, 99));
		xfer_reset(&u->main, u->url, NULL);
		curl_easy_setopt(u->main.h, CURLOPT_POSTFIELDS, u->form);
	} else {
		snprintf(u->url, sizeof(u->url), "%s/bank/%s?user=%d", c->base,
		         type == T_SUMMARY ? "summary" : "history", u->bank_user);
		xfer_reset(&u->main, u->url, NULL);
		curl_easy_setopt(u->main.h, CURLOPT_HTTPGET, 1L);
	}
	struct xfer *xs[1] = { &u->main };
	if (run(c, u, xs, 1) != 0 || check(c, &u->main, type_names[type]) != 0 ||
	    check_acct(c, u, type_names[type], amount) != 0)
		return -1;
	*bytes = u->main.len;
	if (type == T_TRANSFER)
		return 0;
	return fetch_images(c, u, bytes);
}

static int page_fixed(struct web_client *c, struct user *u, size_t *bytes)
{
	snprintf(u->url, sizeof(u->url), "%s%s", c->base, c->cfg.page);
	xfer_reset(&u->main, u->url, c->page_expect);
	struct xfer *xs[1] = { &u->main };
	if (run(c, u, xs, 1) != 0 || check(c, &u->main, c->cfg.page) != 0)
		return -1;
	*bytes = u->main.len;
	return 0;
}

static int pick_type(struct rng *r)
{
	double x = rng_uniform(r);
	return x < 0.40 ? T_STATIC : x < 0.65 ? T_SUMMARY : x < 0.85 ? T_HISTORY : T_TRANSFER;
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

int web_client_op(void *arg, struct lg_op *op)
{
	struct web_client *c = arg;
	struct user *u = op->state;
	if (!u && !(op->state = u = user_new(c, op->user))) {
		fail(c, "cannot create a curl handle");
		return -1;
	}
	if (u->pages_left <= 0) { /* a new session: new connections, resumed TLS */
		curl_multi_cleanup(u->multi);
		if (!(u->multi = new_multi()))
			return -1;
		u->pages_left = 1 + (int)rng_exp(op->rng, c->cfg.session_pages - 1);
	}
	u->pages_left--;
	int type = c->cfg.page ? T_STATIC : pick_type(op->rng);
	size_t bytes = 0;
	int rc;
	if (c->cfg.page)
		rc = page_fixed(c, u, &bytes);
	else if (type == T_STATIC)
		rc = page_static(c, u, op->rng, &bytes);
	else
		rc = page_dynamic(c, u, type, op->rng, &bytes);
	op->type = c->type_id[c->cfg.page ? 0 : type];
	struct qos_ctr *q = &c->qos[c->cfg.page ? 0 : type];
	atomic_fetch_add(&q->pages, 1);
	if (rc != 0) {
		atomic_fetch_add(&q->failed, 1);
		u->known = 0; /* a failed transfer may or may not have happened */
		u->pages_left = 0;
		return -1;
	}
	int64_t good, tol, t = lg_latency_us(op->intended_ns, report_now_ns());
	qos_limits(c->cfg.page ? -1 : type, bytes, &good, &tol);
	if (t <= good)
		atomic_fetch_add(&q->good, 1);
	if (t <= tol)
		atomic_fetch_add(&q->tolerable, 1);
	atomic_fetch_add(&q->bytes, bytes);
	return 0;
}
