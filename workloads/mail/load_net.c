/* workloads/mail/load_net.c: blocking client connections for vcons-mail-load, plain or under TLS
 * (OpenSSL: implicit, or switched after STARTTLS), with SMTP reply and IMAP response reading
 * (literals included), and IDLE's two halves (the updates pushed while idling told apart). */
#include "workloads/mail/load.h"

#include <openssl/x509v3.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int mconn_open(struct mconn *c, const char *host, int port, int timeout_ms)
{
	c->fd = -1;
	c->ssl = NULL;
	c->off = c->len = 0;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *ai;
		if (getaddrinfo(host, NULL, &hints, &ai))
			return -1;
		sa.sin_addr = ((struct sockaddr_in *)ai->ai_addr)->sin_addr;
		freeaddrinfo(ai);
	}
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	c->fd = fd;
	return 0;
}

void mconn_close(struct mconn *c)
{
	if (c->ssl) {
		SSL_shutdown(c->ssl); /* close_notify, not waiting for the server's */
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->off = c->len = 0;
}

SSL_CTX *mconn_tls_ctx(const char *cacert, const char *host, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		snprintf(err, errlen, "cannot create the TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);
	if (!cacert)
		return ctx;
	X509_VERIFY_PARAM *vp = SSL_CTX_get0_param(ctx);
	struct in_addr ip;
	bool named = inet_pton(AF_INET, host, &ip) == 1 ? X509_VERIFY_PARAM_set1_ip_asc(vp, host)
	                                                : X509_VERIFY_PARAM_set1_host(vp, host, 0);
	if (SSL_CTX_load_verify_locations(ctx, cacert, NULL) != 1 || !named) {
		snprintf(err, errlen, "cannot use %s to check the server's certificate", cacert);
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

int mconn_tls(struct mconn *c, SSL_CTX *ctx, SSL_SESSION *sess)
{
	if (c->off != c->len)
		return -1;
	c->off = c->len = 0;
	c->ssl = SSL_new(ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1 ||
	    (sess && SSL_set_session(c->ssl, sess) != 1))
		return -1;
	return SSL_connect(c->ssl) == 1 ? 0 : -1;
}

void mconn_tls_keep(struct mconn *c, SSL_SESSION **keep)
{
	SSL_SESSION *s = c->ssl ? SSL_get1_session(c->ssl) : NULL;
	if (s && SSL_SESSION_is_resumable(s)) {
		SSL_SESSION_free(*keep);
		*keep = s;
	} else {
		SSL_SESSION_free(s);
	}
}

/* One write or read of the connection's stream: what send/recv return. */
static ssize_t io_send(struct mconn *c, const void *p, size_t n)
{
	if (!c->ssl)
		return send(c->fd, p, n, MSG_NOSIGNAL);
	int k = SSL_write(c->ssl, p, n > INT_MAX ? INT_MAX : (int)n);
	return k > 0 ? k : -1;
}

static ssize_t io_recv(struct mconn *c, void *p, size_t n)
{
	if (!c->ssl)
		return recv(c->fd, p, n, 0);
	int k = SSL_read(c->ssl, p, n > INT_MAX ? INT_MAX : (int)n);
	return k > 0 ? k : -1;
}

int mconn_send(struct mconn *c, const void *p, size_t n)
{
	const char *s = p;
	while (n) {
		ssize_t w = io_send(c, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static int fill(struct mconn *c)
{
	if (c->off == c->len)
		c->off = c->len = 0;
	if (c->len == sizeof(c->buf)) {
		if (c->off == 0)
			return -1;
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	for (;;) {
		ssize_t r = io_recv(c, c->buf + c->len, sizeof(c->buf) - c->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c->len += (size_t)r;
		return 0;
	}
}

long mconn_line(struct mconn *c, char *dst, size_t cap)
{
	size_t o = 0;
	for (;;) {
		char *lf = memchr(c->buf + c->off, '\n', c->len - c->off);
		size_t n = lf ? (size_t)(lf - (c->buf + c->off)) : c->len - c->off;
		size_t take = n < cap - 1 - o ? n : cap - 1 - o;
		memcpy(dst + o, c->buf + c->off, take);
		o += take;
		c->off += n + (lf ? 1 : 0);
		if (lf)
			break;
		if (fill(c))
			return -1;
	}
	if (o && dst[o - 1] == '\r')
		o--;
	dst[o] = 0;
	return (long)o;
}

int mconn_read(struct mconn *c, void *dst, size_t n)
{
	char *d = dst;
	while (n) {
		if (c->off == c->len && fill(c))
			return -1;
		size_t take = c->len - c->off < n ? c->len - c->off : n;
		memcpy(d, c->buf + c->off, take);
		c->off += take;
		d += take;
		n -= take;
	}
	return 0;
}

int smtp_reply(struct mconn *c)
{
	char line[1024];
	for (;;) {
		long n = mconn_line(c, line, sizeof(line));
		if (n < 3)
			return -1;
		if (n == 3 || line[3] == ' ')
			// NOLINTNEXTLINE(cert-err34-c): 3 digits then ' ': no overflow
			return atoi(line);
		if (line[3] != '-')
			return -1;
	}
}

int smtp_cmd(struct mconn *c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 2)
		return -1;
	memcpy(line + n, "\r\n", 2);
	if (mconn_send(c, line, (size_t)n + 2))
		return -1;
	return smtp_reply(c);
}

void imap_result_free(struct imap_result *res)
{
	for (size_t i = 0; i < res->n; i++) {
		free(res->r[i].text);
		free(res->r[i].lit);
	}
	free(res->r);
	res->r = NULL;
	res->n = 0;
}

/* Literal marker at the end of a response line: "{123}". */
static long literal_at_end(const char *line, size_t len)
{
	if (len < 3 || line[len - 1] != '}')
		return -1;
	const char *open = memrchr(line, '{', len);
	if (!open)
		return -1;
	char *end;
	long v = strtol(open + 1, &end, 10);
	return end == line + len - 1 && v >= 0 ? v : -1;
}

static int read_response(struct mconn *c, struct imap_resp *r)
{
	char line[8192];
	size_t tl = 0, tcap = 0;
	r->text = NULL;
	r->lit = NULL;
	r->lit_len = 0;
	for (;;) {
		long n = mconn_line(c, line, sizeof(line));
		if (n < 0)
			return -1;
		if (tl + (size_t)n + 1 > tcap) {
			tcap = (tl + (size_t)n + 1) * 2;
			char *nt = realloc(r->text, tcap);
			if (!nt)
				return -1;
			r->text = nt;
		}
		/* r->text was grown above for the first line */
		// NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker)
		memcpy(r->text + tl, line, (size_t)n);
		tl += (size_t)n;
		r->text[tl] = 0;
		long lit = literal_at_end(line, (size_t)n);
		if (lit < 0)
			return 0;
		char *data = malloc((size_t)lit + 1);
		if (!data || mconn_read(c, data, (size_t)lit)) {
			free(data);
			return -1;
		}
		if (r->lit) {
			free(data); /* only the first literal is kept */
		} else {
			r->lit = data;
			r->lit_len = (size_t)lit;
		}
	}
}

/* Adds response r to res (taking its memory); 0, or -1 (r freed, res freed) when out of memory. */
static int res_add(struct imap_result *res, struct imap_resp *r, size_t *cap)
{
	if (res->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct imap_resp *nr = realloc(res->r, nc * sizeof(*nr));
		if (!nr) {
			free(r->text);
			free(r->lit);
			imap_result_free(res);
			return -1;
		}
		res->r = nr;
		*cap = nc;
	}
	res->r[res->n++] = *r;
	return 0;
}

/* Whether r is the tagged response for `tag`: then its status and tail go into res, r is freed. */
static bool tagged(struct imap_resp *r, const char *tag, struct imap_result *res)
{
	size_t taglen = strlen(tag);
	if (strncmp(r->text, tag, taglen) || r->text[taglen] != ' ')
		return false;
	const char *st = r->text + taglen + 1;
	size_t sl = strcspn(st, " ");
	snprintf(res->status, sizeof(res->status), "%.*s", (int)sl, st);
	snprintf(res->tail, sizeof(res->tail), "%s", st[sl] ? st + sl + 1 : "");
	free(r->text);
	free(r->lit);
	return true;
}

/* One response into r; -1 (r freed, res freed) when the connection failed. */
static int next_response(struct mconn *c, struct imap_resp *r, struct imap_result *res)
{
	if (read_response(c, r) == 0)
		return 0;
	free(r->text);
	free(r->lit);
	imap_result_free(res);
	return -1;
}

/* Reads responses until the tagged one for `tag` (status and tail into res, the rest collected). */
static int collect(struct mconn *c, const char *tag, struct imap_result *res, size_t *cap)
{
	for (;;) {
		struct imap_resp r;
		if (next_response(c, &r, res))
			return -1;
		if (tagged(&r, tag, res))
			return 0;
		if (res_add(res, &r, cap))
			return -1;
	}
}

static int vcmd(struct mconn *c, unsigned *tagno, struct imap_result *res, const void *lit,
                size_t litlen, const char *fmt, va_list ap)
{
	char line[2048], tag[16];
	memset(res, 0, sizeof(*res));
	snprintf(tag, sizeof(tag), "t%u", ++*tagno);
	int n = snprintf(line, sizeof(line), "%s ", tag);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 2, fmt, ap);
	if (m < 0 || (size_t)n + (size_t)m >= sizeof(line) - 2)
		return -1;
	n += m;
	if (lit) { /* LITERAL+ (RFC 7888): no wait for a continuation */
		m = snprintf(line + n, sizeof(line) - (size_t)n - 2, " {%zu+}", litlen);
		if (m < 0 || (size_t)n + (size_t)m >= sizeof(line) - 2)
			return -1;
		n += m;
	}
	memcpy(line + n, "\r\n", 2);
	if (mconn_send(c, line, (size_t)n + 2) ||
	    (lit && (mconn_send(c, lit, litlen) || mconn_send(c, "\r\n", 2))))
		return -1;
	size_t cap = 0;
	return collect(c, tag, res, &cap);
}

int imap_cmd(struct mconn *c, unsigned *tagno, struct imap_result *res, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = vcmd(c, tagno, res, NULL, 0, fmt, ap);
	va_end(ap);
	return rc;
}

int imap_cmd_lit(struct mconn *c, unsigned *tagno, struct imap_result *res, const void *lit,
                 size_t litlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = vcmd(c, tagno, res, lit, litlen, fmt, ap);
	va_end(ap);
	return rc;
}

int imap_idle_start(struct mconn *c, unsigned *tagno, struct imap_result *res)
{
	char line[32], tag[16];
	memset(res, 0, sizeof(*res));
	snprintf(tag, sizeof(tag), "t%u", ++*tagno);
	int n = snprintf(line, sizeof(line), "%s IDLE\r\n", tag);
	if (mconn_send(c, line, (size_t)n))
		return -1;
	size_t cap = 0;
	for (;;) {
		struct imap_resp r;
		if (next_response(c, &r, res))
			return -1;
		if (r.text[0] == '+') {
			free(r.text);
			free(r.lit);
			return 0;
		}
		if (tagged(&r, tag, res))
			return 1;
		if (res_add(res, &r, &cap))
			return -1;
	}
}

/* Whether a response has arrived, or begun to: bytes in the buffer, in OpenSSL's, or on the
 * socket (or its end). No waiting: under TLS what the socket holds may be no application data
 * (a session ticket), so OpenSSL peeks at it without blocking. */
static bool arrived(const struct mconn *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	if (c->off < c->len || (c->ssl && SSL_pending(c->ssl) > 0))
		return true;
	if (poll(&p, 1, 0) <= 0)
		return false;
	if (!c->ssl)
		return true;
	int fl = fcntl(c->fd, F_GETFL);
	if (fl < 0 || fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return true; /* then a blocking read: a response is most likely there */
	char b;
	int k = SSL_peek(c->ssl, &b, 1);
	bool more = k > 0 || SSL_get_error(c->ssl, k) != SSL_ERROR_WANT_READ; /* data, or the end */
	(void)fcntl(c->fd, F_SETFL, fl);
	return more;
}

int imap_idle_done(struct mconn *c, unsigned tagno, struct imap_result *res, size_t *pushed)
{
	char tag[16];
	memset(res, 0, sizeof(*res));
	snprintf(tag, sizeof(tag), "t%u", tagno);
	size_t cap = 0;
	*pushed = 0;
	while (arrived(c)) { /* what the server sent while the client waited */
		struct imap_resp r;
		if (next_response(c, &r, res))
			return -1;
		if (tagged(&r, tag, res)) {
			*pushed = res->n;
			return 0;
		}
		if (res_add(res, &r, &cap))
			return -1;
	}
	*pushed = res->n;
	if (mconn_send(c, "DONE\r\n", 6)) {
		imap_result_free(res);
		return -1;
	}
	return collect(c, tag, res, &cap);
}

uint32_t imap_resp_uid(const struct imap_resp *r)
{
	const char *p = strstr(r->text, "(UID ");
	if (!p)
		p = strstr(r->text, " UID ");
	if (!p)
		return 0;
	return (uint32_t)strtoul(p + 5, NULL, 10);
}
