/* workloads/mail/proto_sasl.c: SASL responses (RFC 4422) for SMTP AUTH (RFC 4954) and IMAP
 * AUTHENTICATE (RFC 3501 6.2.2): base64 with OpenSSL's EVP block coder (after a strict check of
 * the alphabet and padding, which EVP_DecodeBlock does not make), the PLAIN message (RFC 4616) and
 * the LOGIN mechanism's single-field answers. */
#include "workloads/mail/mailproto.h"

#include <openssl/evp.h>
#include <limits.h>
#include <string.h>

static bool b64_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '+' || ch == '/';
}

long mp_base64_decode(const char *s, size_t n, char *dst, size_t cap)
{
	if (n % 4 || n > INT_MAX || n / 4 * 3 >= cap)
		return -1;
	size_t pad = 0;
	while (pad < 2 && pad < n && s[n - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < n - pad; i++)
		if (!b64_char(s[i]))
			return -1;
	int k = EVP_DecodeBlock((unsigned char *)dst, (const unsigned char *)s, (int)n);
	if (k < 0 || (size_t)k < pad)
		return -1;
	dst[k - (int)pad] = 0;
	return k - (long)pad;
}

long mp_base64_encode(const void *p, size_t n, char *dst, size_t cap)
{
	if (n > INT_MAX / 2 || (n + 2) / 3 * 4 >= cap)
		return -1;
	return EVP_EncodeBlock((unsigned char *)dst, p, (int)n);
}

/* Decodes a response into buf (cap bytes): its length, -1 when malformed, -2 for "*". */
static long response(const char *resp, size_t n, char *buf, size_t cap)
{
	if (n == 1 && resp[0] == '*')
		return -2;
	if (n == 1 && resp[0] == '=') {
		buf[0] = 0;
		return 0;
	}
	return mp_base64_decode(resp, n, buf, cap);
}

enum mp_sasl_rc mp_sasl_plain(const char *resp, size_t n, char *user, char *pass)
{
	char msg[3 * MP_SASL_MAX];
	long k = response(resp, n, msg, sizeof(msg));
	if (k == -2)
		return MP_SASL_CANCEL;
	if (k < 0)
		return MP_SASL_BAD;
	const char *authz = msg, *end = msg + k;
	const char *nul1 = memchr(msg, 0, (size_t)k);
	const char *nul2 = nul1 ? memchr(nul1 + 1, 0, (size_t)(end - nul1 - 1)) : NULL;
	if (!nul2 || memchr(nul2 + 1, 0, (size_t)(end - nul2 - 1)))
		return MP_SASL_BAD;
	size_t zlen = (size_t)(nul1 - authz), ulen = (size_t)(nul2 - nul1 - 1);
	size_t plen = (size_t)(end - nul2 - 1);
	if (ulen == 0 || ulen >= MP_SASL_MAX || plen >= MP_SASL_MAX ||
	    (zlen && (zlen != ulen || memcmp(authz, nul1 + 1, ulen))))
		return MP_SASL_BAD;
	memcpy(user, nul1 + 1, ulen);
	user[ulen] = 0;
	memcpy(pass, nul2 + 1, plen);
	pass[plen] = 0;
	return MP_SASL_OK;
}

enum mp_sasl_rc mp_sasl_text(const char *resp, size_t n, char *dst)
{
	char buf[MP_SASL_MAX];
	long k = response(resp, n, buf, sizeof(buf));
	if (k == -2)
		return MP_SASL_CANCEL;
	if (k < 0 || memchr(buf, 0, (size_t)k))
		return MP_SASL_BAD;
	memcpy(dst, buf, (size_t)k + 1);
	return MP_SASL_OK;
}

long mp_sasl_plain_encode(const char *user, const char *pass, char *dst, size_t cap)
{
	char msg[2 * MP_SASL_MAX + 2];
	size_t u = strlen(user), p = strlen(pass);
	if (u >= MP_SASL_MAX || p >= MP_SASL_MAX)
		return -1;
	msg[0] = 0;
	memcpy(msg + 1, user, u + 1);
	memcpy(msg + 2 + u, pass, p);
	return mp_base64_encode(msg, u + p + 2, dst, cap);
}
