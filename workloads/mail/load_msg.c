/* workloads/mail/load_msg.c: synthetic messages for vcons-mail-load: headers naming the message
 * (X-Vcons-Id) and the SHA-256 of its body (X-Vcons-Sum, and of each part of a multipart one), a
 * body of random text lines (some starting with '.', to exercise dot-stuffing) or a text part and
 * a base64 attachment, sizes drawn from a capped log-normal distribution. */
#include "workloads/mail/load.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void msg_sha256_hex(const char *p, size_t n, char out[65])
{
	unsigned char md[32];
	unsigned int len = 0;
	EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

size_t msg_size_draw(struct rng *r, const struct mail_profile *p)
{
	return (size_t)plan_lognormal(r, p->size_median_bytes, p->size_sigma, 16,
	                              (double)p->size_max_bytes);
}

/* Random text lines of about n bytes (CRLF each), one in 16 starting with '.' (dot-stuffing). */
static size_t text_lines(struct rng *r, char *dst, size_t n)
{
	static const char alpha[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ,;-";
	size_t b = 0;
	while (b < n) {
		size_t line = 1 + (size_t)rng_range(r, 0, 76);
		if (b + line + 2 > n)
			line = n > b + 2 ? n - b - 2 : 0;
		for (size_t k = 0; k < line; k++)
			dst[b + k] = alpha[rng_next(r) % (sizeof(alpha) - 1)];
		if (line && rng_range(r, 0, 15) == 0)
			dst[b] = '.';
		b += line;
		dst[b++] = '\r';
		dst[b++] = '\n';
	}
	return b;
}

/* Lines of 76 base64 characters (the last one shorter, a multiple of 4), about n bytes. */
static size_t base64_lines(struct rng *r, char *dst, size_t n)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t b = 0;
	while (b + 6 <= n) {
		size_t line = n - b - 2 < 76 ? (n - b - 2) / 4 * 4 : 76;
		if (!line)
			break;
		for (size_t k = 0; k < line; k++)
			dst[b + k] = b64[rng_next(r) % 64];
		b += line;
		dst[b++] = '\r';
		dst[b++] = '\n';
	}
	return b;
}

#define BOUNDARY      "=_vcons-part-boundary"
#define TEXT_PART_MAX 2048 /* a multipart message's text part: the rest is the attachment */

/* A multipart/mixed body into dst (room for n + 512 bytes): preamble, a text part, a base64
 * attachment; each part's content checksummed as IMAP's BODY[1] / BODY[2] return it (RFC 2046
 * 5.1.1: the CRLF before a delimiter belongs to the delimiter). */
static size_t multipart_body(struct gen_msg *m, struct rng *r, char *dst, size_t n)
{
	size_t text = n / 4 < TEXT_PART_MAX ? n / 4 : TEXT_PART_MAX, o = 0;
	o += (size_t)sprintf(dst + o,
	                     "This is a multi-part message in MIME format.\r\n\r\n--" BOUNDARY
	                     "\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n");
	size_t t = text_lines(r, dst + o, text < 4 ? 4 : text);
	msg_sha256_hex(dst + o, t - 2, m->sum1);
	o += t;
	o += (size_t)sprintf(dst + o, "--" BOUNDARY "\r\nContent-Type: application/octet-stream; "
	                              "name=\"report.bin\"\r\nContent-Transfer-Encoding: base64\r\n"
	                              "Content-Disposition: attachment; filename=\"report.bin\"\r\n"
	                              "\r\n");
	size_t a = base64_lines(r, dst + o, n > t + 8 ? n - t : 8);
	msg_sha256_hex(dst + o, a ? a - 2 : 0, m->sum2);
	o += a;
	o += (size_t)sprintf(dst + o, "--" BOUNDARY "--\r\n");
	return o;
}

int msg_build(struct gen_msg *m, struct rng *r, const char *id, int from, const int *rcpt, int n,
              size_t body_bytes, bool multipart)
{
	size_t hdr_cap = 1024 + (size_t)n * 32;
	size_t cap = hdr_cap + body_bytes + 1024;
	char *buf = malloc(cap);
	if (!buf)
		return -1;
	/* body first (at the end of the buffer's header room), then the header that names its sum
	 */
	char *body = buf + hdr_cap;
	m->multipart = multipart;
	m->sum1[0] = m->sum2[0] = 0;
	size_t b =
	    multipart ? multipart_body(m, r, body, body_bytes) : text_lines(r, body, body_bytes);
	snprintf(m->id, sizeof(m->id), "%s", id);
	msg_sha256_hex(body, b, m->sum);
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", gmtime_r(&now, &tm));
	char *h = buf;
	int hl = snprintf(h, hdr_cap, "Date: %s\r\nFrom: user%d@vcons.test\r\nTo: ", date, from);
	for (int i = 0; i < n; i++)
		hl += snprintf(h + hl, hdr_cap - (size_t)hl, "%suser%d@vcons.test", i ? ", " : "",
		               rcpt[i]);
	hl += snprintf(h + hl, hdr_cap - (size_t)hl,
	               "\r\nSubject: vcons load %s\r\nMessage-ID: <%s@vcons.test>\r\n"
	               "X-Vcons-Id: %s\r\nX-Vcons-Sum: %s\r\n",
	               id, id, id, m->sum);
	if (multipart)
		hl += snprintf(h + hl, hdr_cap - (size_t)hl,
		               "X-Vcons-Sum-1: %s\r\nX-Vcons-Sum-2: %s\r\nMIME-Version: 1.0\r\n"
		               "Content-Type: multipart/mixed; boundary=\"" BOUNDARY "\"\r\n",
		               m->sum1, m->sum2);
	hl += snprintf(h + hl, hdr_cap - (size_t)hl, "\r\n");
	memmove(buf + hl, body, b);
	m->data = buf;
	m->len = (size_t)hl + b;
	return 0;
}

void msg_free(struct gen_msg *m)
{
	free(m->data);
	m->data = NULL;
}

bool msg_header(const char *hdr, size_t hlen, const char *name, char *dst, size_t cap)
{
	size_t nl = strlen(name);
	const char *p = hdr, *end = hdr + hlen;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			while (v < eol && *v == ' ')
				v++;
			size_t n = (size_t)(eol - v);
			if (n && v[n - 1] == '\r')
				n--;
			if (n >= cap)
				return false;
			memcpy(dst, v, n);
			dst[n] = 0;
			return true;
		}
		p = eol + 1;
	}
	return false;
}

bool msg_inspect(const char *data, size_t len, char id[80], char sum[65], char actual[65])
{
	const char *sep = memmem(data, len, "\r\n\r\n", 4);
	if (!sep)
		return false;
	size_t hlen = (size_t)(sep - data) + 2;
	if (!msg_header(data, hlen, "X-Vcons-Sum", sum, 65) ||
	    !msg_header(data, hlen, "X-Vcons-Id", id, 80))
		return false;
	msg_sha256_hex(sep + 4, len - hlen - 2, actual);
	return true;
}
