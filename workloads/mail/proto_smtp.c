/* workloads/mail/proto_smtp.c: SMTP command parsing (RFC 5321 section 4.1, with STARTTLS of
 * RFC 3207 and AUTH of RFC 4954) and DATA dot-stuffing (section 4.5.2) in both directions. */
#include "workloads/mail/mailproto.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	enum mp_smtp_verb verb;
} verbs[] = {
	{ "EHLO", MP_SMTP_EHLO },         { "HELO", MP_SMTP_HELO },    { "MAIL", MP_SMTP_MAIL },
	{ "RCPT", MP_SMTP_RCPT },         { "DATA", MP_SMTP_DATA },    { "RSET", MP_SMTP_RSET },
	{ "NOOP", MP_SMTP_NOOP },         { "QUIT", MP_SMTP_QUIT },    { "VRFY", MP_SMTP_NOTIMPL },
	{ "EXPN", MP_SMTP_NOTIMPL },      { "HELP", MP_SMTP_NOTIMPL }, { "TURN", MP_SMTP_NOTIMPL },
	{ "ETRN", MP_SMTP_NOTIMPL },      { "BDAT", MP_SMTP_NOTIMPL }, { "AUTH", MP_SMTP_AUTH },
	{ "STARTTLS", MP_SMTP_STARTTLS }, { "SEND", MP_SMTP_NOTIMPL }, { "SOML", MP_SMTP_NOTIMPL },
	{ "SAML", MP_SMTP_NOTIMPL },
};

static size_t skip_sp(const char *s, size_t i, size_t len)
{
	while (i < len && s[i] == ' ')
		i++;
	return i;
}

/* Parses "<path>" at s[i..len); the null path "<>" is allowed when null_ok. Returns the index after
 * '>' or 0 on error. */
static size_t parse_path(const char *s, size_t i, size_t len, bool null_ok, char *dst)
{
	if (i >= len || s[i] != '<')
		return 0;
	size_t start = ++i;
	while (i < len && s[i] != '>') {
		unsigned char ch = (unsigned char)s[i];
		if (ch <= ' ' || ch >= 0x7f || ch == '<')
			return 0;
		i++;
	}
	if (i >= len)
		return 0;
	size_t n = i - start;
	if (n >= MP_PATH_MAX || (n == 0 && !null_ok))
		return 0;
	/* a source route "@a,@b:user@dom" is accepted and ignored (RFC 5321 4.1.2) */
	const char *p = s + start;
	if (n && p[0] == '@') {
		const char *colon = memchr(p, ':', n);
		if (!colon)
			return 0;
		n -= (size_t)(colon + 1 - p);
		p = colon + 1;
		if (n == 0) /* "<@a:>": a route to nobody, not the null path */
			return 0;
	}
	memcpy(dst, p, n);
	dst[n] = 0;
	return i + 1;
}

/* ESMTP parameters after a path: "SIZE=123 BODY=8BITMIME". Only SIZE is interpreted. */
static bool parse_params(const char *s, size_t i, size_t len, struct mp_smtp_cmd *cmd)
{
	for (;;) {
		i = skip_sp(s, i, len);
		if (i >= len)
			return true;
		size_t start = i;
		while (i < len && s[i] != ' ')
			i++;
		const char *kw = s + start;
		size_t n = i - start;
		if (n > 5 && strncasecmp(kw, "SIZE=", 5) == 0) {
			uint64_t v = 0;
			for (size_t k = 5; k < n; k++) {
				if (!isdigit((unsigned char)kw[k]) || v > UINT64_MAX / 10 - 10)
					return false;
				v = v * 10 + (uint64_t)(kw[k] - '0');
			}
			cmd->size = v;
			cmd->has_size = true;
		} else if (n == 0 || !isalnum((unsigned char)kw[0])) {
			return false;
		}
	}
}

void mp_smtp_parse(const char *line, size_t len, struct mp_smtp_cmd *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
	size_t vlen = 0;
	while (vlen < len && line[vlen] != ' ')
		vlen++;
	cmd->verb = MP_SMTP_UNKNOWN;
	for (size_t k = 0; k < sizeof(verbs) / sizeof(verbs[0]); k++) {
		if (strlen(verbs[k].name) == vlen && strncasecmp(line, verbs[k].name, vlen) == 0) {
			cmd->verb = verbs[k].verb;
			break;
		}
	}
	size_t i = skip_sp(line, vlen, len);
	switch (cmd->verb) {
	case MP_SMTP_EHLO:
	case MP_SMTP_HELO: {
		size_t n = len - i;
		while (n > 0 && line[i + n - 1] == ' ')
			n--;
		if (n == 0 || n >= MP_PATH_MAX)
			return;
		/* a domain or address literal: printable ASCII, since the greeting echoes it */
		for (size_t k = 0; k < n; k++)
			if ((unsigned char)line[i + k] <= ' ' || (unsigned char)line[i + k] >= 0x7f)
				return;
		memcpy(cmd->arg, line + i, n);
		cmd->arg[n] = 0;
		cmd->syntax_ok = true;
		return;
	}
	case MP_SMTP_MAIL:
	case MP_SMTP_RCPT: {
		const char *kw = cmd->verb == MP_SMTP_MAIL ? "FROM:" : "TO:";
		size_t kwlen = strlen(kw);
		if (len - i < kwlen || strncasecmp(line + i, kw, kwlen) != 0)
			return;
		i = skip_sp(line, i + kwlen, len); /* tolerate "FROM: <x>" as many servers do */
		i = parse_path(line, i, len, cmd->verb == MP_SMTP_MAIL, cmd->arg);
		if (i == 0)
			return;
		if (cmd->verb == MP_SMTP_RCPT) {
			cmd->syntax_ok = skip_sp(line, i, len) == len;
			return;
		}
		cmd->syntax_ok = parse_params(line, i, len, cmd);
		return;
	}
	case MP_SMTP_AUTH: { /* "AUTH mechanism [initial-response]" (RFC 4422 3.1 names) */
		size_t m = i;
		while (m < len &&
		       (isalnum((unsigned char)line[m]) || line[m] == '-' || line[m] == '_'))
			m++;
		if (m == i || m - i > 20 || (m < len && line[m] != ' '))
			return;
		memcpy(cmd->arg, line + i, m - i);
		cmd->arg[m - i] = 0;
		if (m < len) {
			size_t r = m + 1;
			if (r == len || memchr(line + r, ' ', len - r))
				return;
			cmd->resp = line + r;
			cmd->resp_len = len - r;
		}
		cmd->syntax_ok = true;
		return;
	}
	case MP_SMTP_NOOP: /* NOOP may carry a string, which is ignored */
	case MP_SMTP_NOTIMPL:
	case MP_SMTP_UNKNOWN: cmd->syntax_ok = true; return;
	default: cmd->syntax_ok = i == len; return;
	}
}

enum mp_data_rc mp_data_unstuff(const char *line, size_t len, const char **out, size_t *out_len)
{
	if (len == 1 && line[0] == '.')
		return MP_DATA_END;
	if (len > 0 && line[0] == '.') {
		line++;
		len--;
	}
	*out = line;
	*out_len = len;
	return MP_DATA_LINE;
}

size_t mp_data_stuff(const char *msg, size_t len, char *dst, size_t cap)
{
	size_t o = 0;
#define PUT(ch)                                                                                    \
	do {                                                                                       \
		if (o < cap)                                                                       \
			dst[o] = (ch);                                                             \
		o++;                                                                               \
	} while (0)
	bool bol = true;
	for (size_t i = 0; i < len; i++) {
		char ch = msg[i];
		if (bol && ch == '.')
			PUT('.');
		bol = false;
		if (ch == '\n') {
			if (i == 0 || msg[i - 1] != '\r')
				PUT('\r');
			bol = true;
		}
		PUT(ch);
	}
	if (!bol) {
		PUT('\r');
		PUT('\n');
	}
	PUT('.');
	PUT('\r');
	PUT('\n');
#undef PUT
	return o;
}
