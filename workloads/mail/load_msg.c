/* workloads/mail/load_msg.c: synthetic messages for vcons-mail-load: headers naming the message
 * (X-Vcons-Id) and the SHA-256 of its body (X-Vcons-Sum), a body of random text lines (some
 * starting with '.', to exercise dot-stuffing), sizes drawn from a capped log-normal distribution.
 */
#include "workloads/mail/load.h"

#include <math.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static void sha256_hex(const char *p, size_t n, char out[65])
{
	unsigned char md[32];
	unsigned int len = 0;
	EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

size_t msg_size_draw(struct rng *r, const struct mail_profile *p)
{
	/* Box-Muller: one standard normal deviate */
	double u1 = rng_uniform(r), u2 = rng_uniform(r);
	if (u1 < 1e-300)
		u1 = 1e-300;
	double z = sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
	double v = p->size_median_bytes * exp(p->size_sigma * z);
	if (v < 16)
		v = 16;
	if (v > (double)p->size_max_bytes)
		v = (double)p->size_max_bytes;
	return (size_t)v;
}

int msg_build(struct gen_msg *m, struct rng *r, const char *id, int from, const int *rcpt, int n,
              size_t body_bytes)
{
	static const char alpha[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ,;-";
	size_t hdr_cap = 512 + (size_t)n * 32;
	size_t cap = hdr_cap + body_bytes + 128;
	char *buf = malloc(cap);
	if (!buf)
		return -1;
	/* body first (at the end of the buffer's header room), then the header that names its sum
	 */
	char *body = buf + hdr_cap;
	size_t b = 0;
	while (b < body_bytes) {
		size_t line = 1 + (size_t)rng_range(r, 0, 76);
		if (b + line + 2 > body_bytes)
			line = body_bytes > b + 2 ? body_bytes - b - 2 : 0;
		for (size_t k = 0; k < line; k++)
			body[b + k] = alpha[rng_next(r) % (sizeof(alpha) - 1)];
		if (line && rng_range(r, 0, 15) == 0)
			body[b] = '.';
		b += line;
		body[b++] = '\r';
		body[b++] = '\n';
	}
	snprintf(m->id, sizeof(m->id), "%s", id);
	sha256_hex(body, b, m->sum);
	char *h = buf;
	int hl = snprintf(h, hdr_cap, "From: user%d@vcons.test\r\nTo: ", from);
	for (int i = 0; i < n; i++)
		hl += snprintf(h + hl, hdr_cap - (size_t)hl, "%suser%d@vcons.test", i ? ", " : "",
		               rcpt[i]);
	hl += snprintf(h + hl, hdr_cap - (size_t)hl,
	               "\r\nSubject: vcons load %s\r\nMessage-ID: <%s@vcons.test>\r\n"
	               "X-Vcons-Id: %s\r\nX-Vcons-Sum: %s\r\n\r\n",
	               id, id, id, m->sum);
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

/* Value of header `name` in the header block hdr[0..hlen) into dst (cap bytes). */
static bool header(const char *hdr, size_t hlen, const char *name, char *dst, size_t cap)
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
	if (!header(data, hlen, "X-Vcons-Sum", sum, 65) ||
	    !header(data, hlen, "X-Vcons-Id", id, 80))
		return false;
	sha256_hex(sep + 4, len - hlen - 2, actual);
	return true;
}
