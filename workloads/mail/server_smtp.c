/* workloads/mail/server_smtp.c: the SMTP session (RFC 5321 subset): greeting, EHLO/HELO, MAIL,
 * RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT, STARTTLS (RFC 3207) and AUTH PLAIN / LOGIN
 * (RFC 4954, offered and taken only under TLS); reply codes per the RFCs. A message is
 * acknowledged with 250 only after mstore_deliver has made it durable; a dropped connection
 * delivers nothing. */
#include "workloads/mail/mailproto.h"
#include "workloads/mail/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_RCPT   100
#define MAX_ERRORS 50 /* bad commands before the server gives up on a client (421) */

enum smtp_state { SM_INIT, SM_READY, SM_MAIL, SM_RCPT, SM_DATA };

struct smtp_sess {
	enum smtp_state state;
	struct mp_lines lr;
	char helo[MP_PATH_MAX];
	char from[MP_PATH_MAX];
	int rcpt[MAX_RCPT];
	size_t nrcpt;
	struct buf msg;
	bool too_big, long_line;
	bool crlf; /* the last line ended in CRLF (a dot after it may end DATA) */
	bool cr;   /* the last byte taken was a CR (its LF may come next) */
	unsigned errors;
	int user; /* the user AUTH authenticated, -1: none */
	/* an AUTH exchange waiting for the client's next line */
	enum { SA_NONE, SA_PLAIN, SA_LOGIN_USER, SA_LOGIN_PASS } sasl;
	char sasl_user[MP_SASL_MAX]; /* LOGIN's user name, until its password comes */
};

static void reply(struct conn *c, const char *text)
{
	buf_printf(&c->out, "%s\r\n", text);
}

static void reset_txn(struct smtp_sess *s)
{
	s->nrcpt = 0;
	s->from[0] = 0;
	s->msg.off = s->msg.len = 0;
	s->too_big = s->long_line = false;
	if (s->state > SM_READY)
		s->state = SM_READY;
}

int smtp_open(struct conn *c)
{
	struct smtp_sess *s = calloc(1, sizeof(*s));
	if (!s)
		return -1;
	mp_lines_init(&s->lr, MP_SMTP_CMD_MAX);
	s->user = -1;
	c->smtp = s;
	reply(c, "220 " MS_DOMAIN " ESMTP vcons-mail ready");
	return 0;
}

void smtp_close(struct conn *c)
{
	if (!c->smtp)
		return;
	buf_free(&c->smtp->msg);
	free(c->smtp);
	c->smtp = NULL;
}

void smtp_timeout(struct conn *c)
{
	reply(c, "421 4.4.2 " MS_DOMAIN " Timeout, closing connection");
}

static void bad(struct conn *c, const char *text)
{
	reply(c, text);
	if (++c->smtp->errors >= MAX_ERRORS) {
		reply(c, "421 4.7.0 Too many errors, closing connection");
		c->close_after_flush = true;
	}
}

static void do_ehlo(struct conn *c, const struct mp_smtp_cmd *cmd)
{
	struct smtp_sess *s = c->smtp;
	if (!cmd->syntax_ok)
		return bad(c, "501 5.5.4 Syntax: EHLO domain");
	reset_txn(s);
	s->state = SM_READY;
	snprintf(s->helo, sizeof(s->helo), "%s", cmd->arg);
	if (cmd->verb == MP_SMTP_HELO) {
		buf_printf(&c->out, "250 %s\r\n", MS_DOMAIN);
		return;
	}
	buf_printf(&c->out,
	           "250-%s greets %s\r\n250-SIZE %llu\r\n250-8BITMIME\r\n250-PIPELINING\r\n",
	           MS_DOMAIN, s->helo, (unsigned long long)c->cfg->max_size);
	if (c->cfg->tls && !c->tls)
		buf_printf(&c->out, "250-STARTTLS\r\n");
	if (c->tls) /* RFC 4954 section 4: no password mechanism in the clear */
		buf_printf(&c->out, "250-AUTH PLAIN LOGIN\r\n");
	buf_printf(&c->out, "250 ENHANCEDSTATUSCODES\r\n");
}

/* RFC 3207: "220", then TLS. Whatever the client sent after the command is dropped unread (it came
 * before the handshake, so it cannot be told from an attacker's injection, CVE-2011-0411), and the
 * session starts afresh: the client must EHLO again. */
static void do_starttls(struct conn *c, const struct mp_smtp_cmd *cmd)
{
	struct smtp_sess *s = c->smtp;
	if (!c->cfg->tls)
		return bad(c, "502 5.5.1 Command not implemented");
	if (!cmd->syntax_ok)
		return bad(c, "501 5.5.4 Syntax: STARTTLS");
	if (c->tls)
		return bad(c, "503 5.5.1 TLS already active");
	reply(c, "220 2.0.0 Ready to start TLS");
	buf_consume(&c->in, buf_pending(&c->in));
	reset_txn(s);
	s->state = SM_INIT;
	s->helo[0] = 0;
	s->user = -1;
	s->crlf = s->cr = false;
	c->tls = c->starttls = true;
}

static void auth_check(struct conn *c, const char *user, const char *pass)
{
	struct smtp_sess *s = c->smtp;
	int u = mstore_auth(c->st, user, pass);
	if (u < 0)
		return bad(c, "535 5.7.8 Authentication credentials invalid");
	s->user = u;
	reply(c, "235 2.7.0 Authentication successful");
}

/* The client's line in an AUTH exchange (or AUTH's initial response). */
static void auth_line(struct conn *c, const char *line, size_t len)
{
	struct smtp_sess *s = c->smtp;
	char user[MP_SASL_MAX], pass[MP_SASL_MAX];
	enum mp_sasl_rc rc;
	int step = s->sasl;
	s->sasl = SA_NONE;
	if (step == SA_PLAIN)
		rc = mp_sasl_plain(line, len, user, pass);
	else
		rc = mp_sasl_text(line, len, step == SA_LOGIN_USER ? s->sasl_user : pass);
	if (rc == MP_SASL_CANCEL)
		return bad(c, "501 5.0.0 Authentication cancelled");
	if (rc != MP_SASL_OK)
		return bad(c, "501 5.5.2 Cannot decode the response");
	if (step == SA_LOGIN_USER) {
		s->sasl = SA_LOGIN_PASS;
		return reply(c, "334 UGFzc3dvcmQ6"); /* "Password:" */
	}
	auth_check(c, step == SA_PLAIN ? user : s->sasl_user, pass);
}

static void do_auth(struct conn *c, const struct mp_smtp_cmd *cmd)
{
	struct smtp_sess *s = c->smtp;
	if (!c->tls)
		return bad(c, c->cfg->tls ? "538 5.7.11 Encryption required for requested "
		                            "authentication mechanism"
		                          : "502 5.5.1 Command not implemented");
	if (!cmd->syntax_ok)
		return bad(c, "501 5.5.4 Syntax: AUTH mechanism [initial-response]");
	if (s->state == SM_INIT)
		return bad(c, "503 5.5.1 Send EHLO first");
	if (s->user >= 0)
		return bad(c, "503 5.5.1 Already authenticated");
	if (s->state != SM_READY)
		return bad(c, "503 5.5.1 AUTH not permitted during a mail transaction");
	if (!strcasecmp(cmd->arg, "PLAIN"))
		s->sasl = SA_PLAIN;
	else if (!strcasecmp(cmd->arg, "LOGIN"))
		s->sasl = SA_LOGIN_USER;
	else
		return bad(c, "504 5.5.4 Unrecognized authentication type");
	if (cmd->resp)
		return auth_line(c, cmd->resp, cmd->resp_len);
	reply(c, s->sasl == SA_PLAIN ? "334 " : "334 VXNlcm5hbWU6"); /* "Username:" */
}

static void do_mail(struct conn *c, const struct mp_smtp_cmd *cmd)
{
	struct smtp_sess *s = c->smtp;
	if (s->state == SM_INIT)
		return bad(c, "503 5.5.1 Send EHLO or HELO first");
	if (s->state != SM_READY)
		return bad(c, "503 5.5.1 Nested MAIL command");
	if (!cmd->syntax_ok)
		return bad(c, "501 5.5.4 Syntax: MAIL FROM:<address> [SIZE=n]");
	if (c->cfg->require_tls && !c->tls)
		return bad(c, "530 5.7.0 Must issue a STARTTLS command first");
	if (c->submission && s->user < 0) /* RFC 6409 4.3 */
		return bad(c, "530 5.7.0 Authentication required");
	if (cmd->has_size && cmd->size > c->cfg->max_size)
		return reply(c, "552 5.3.4 Message size exceeds fixed maximum message size");
	snprintf(s->from, sizeof(s->from), "%s", cmd->arg);
	s->state = SM_MAIL;
	reply(c, "250 2.1.0 Sender OK");
}

static void do_rcpt(struct conn *c, const struct mp_smtp_cmd *cmd)
{
	struct smtp_sess *s = c->smtp;
	if (s->state != SM_MAIL && s->state != SM_RCPT)
		return bad(c, "503 5.5.1 Need MAIL before RCPT");
	if (!cmd->syntax_ok)
		return bad(c, "501 5.5.4 Syntax: RCPT TO:<address>");
	if (s->nrcpt == MAX_RCPT)
		return reply(c, "452 4.5.3 Too many recipients");
	int u = mstore_find(c->st, cmd->arg);
	/* RFC 5321 4.5.1: "Postmaster" (any case, bare or at our domain) must be accepted: user1 */
	if (u < 0 &&
	    (!strcasecmp(cmd->arg, "postmaster") || !strcasecmp(cmd->arg, "postmaster@" MS_DOMAIN)))
		u = 0;
	if (u < 0)
		return reply(c, "550 5.1.1 No such user here");
	s->rcpt[s->nrcpt++] = u;
	s->state = SM_RCPT;
	reply(c, "250 2.1.5 Recipient OK");
}

static void do_command(struct conn *c, const char *line, size_t len)
{
	struct smtp_sess *s = c->smtp;
	struct mp_smtp_cmd cmd;
	mp_smtp_parse(line, len, &cmd);
	switch (cmd.verb) {
	case MP_SMTP_EHLO:
	case MP_SMTP_HELO: return do_ehlo(c, &cmd);
	case MP_SMTP_MAIL: return do_mail(c, &cmd);
	case MP_SMTP_RCPT: return do_rcpt(c, &cmd);
	case MP_SMTP_DATA:
		if (!cmd.syntax_ok)
			return bad(c, "501 5.5.4 Syntax: DATA");
		if (s->state == SM_MAIL)
			return bad(c, "554 5.5.1 No valid recipients");
		if (s->state != SM_RCPT)
			return bad(c, "503 5.5.1 Need RCPT before DATA");
		s->state = SM_DATA;
		s->msg.off = s->msg.len = 0;
		mp_lines_init(&s->lr, MP_SMTP_TEXT_MAX);
		return reply(c, "354 End data with <CR><LF>.<CR><LF>");
	case MP_SMTP_RSET:
		if (!cmd.syntax_ok)
			return bad(c, "501 5.5.4 Syntax: RSET");
		reset_txn(s);
		return reply(c, "250 2.0.0 OK");
	case MP_SMTP_NOOP: return reply(c, "250 2.0.0 OK");
	case MP_SMTP_QUIT:
		reply(c, "221 2.0.0 " MS_DOMAIN " closing connection");
		c->close_after_flush = true;
		return;
	case MP_SMTP_STARTTLS: return do_starttls(c, &cmd);
	case MP_SMTP_AUTH: return do_auth(c, &cmd);
	case MP_SMTP_NOTIMPL: return bad(c, "502 5.5.1 Command not implemented");
	case MP_SMTP_UNKNOWN: return bad(c, "500 5.5.2 Command unrecognized");
	}
}

static void end_of_data(struct conn *c)
{
	struct smtp_sess *s = c->smtp;
	mp_lines_init(&s->lr, MP_SMTP_CMD_MAX);
	if (s->too_big) {
		reply(c, "552 5.3.4 Message size exceeds fixed maximum message size");
	} else if (s->long_line) {
		reply(c, "500 5.5.2 Line too long (RFC 5321 limit: 1000 octets); message rejected");
	} else {
		char prefix[MP_PATH_MAX + 32];
		int plen = snprintf(prefix, sizeof(prefix), "Return-Path: <%s>\r\n", s->from);
		int rc = mstore_deliver(c->st, s->rcpt, s->nrcpt, prefix, (size_t)plen,
		                        s->msg.p ? s->msg.p : "", s->msg.len);
		if (rc)
			reply(c, "451 4.3.0 Local error in processing: message not stored");
		else
			buf_printf(&c->out, "250 2.0.0 OK: queued as %zu bytes\r\n",
			           (size_t)plen + s->msg.len);
	}
	reset_txn(s);
	if (s->msg.cap > (1u << 20)) /* do not keep a big buffer for an idle session */
		buf_free(&s->msg);
}

/* may_end: the line and the one before it ended in CRLF. Only <CRLF>.<CRLF> ends DATA (RFC 5321
 * 4.1.1.4): a "." next to a bare LF is text, or a client could smuggle a second message past a
 * relay in front of us that reads the stream the standard way. */
static void data_line(struct conn *c, const char *line, size_t len, bool may_end)
{
	struct smtp_sess *s = c->smtp;
	const char *p;
	size_t n;
	if (mp_data_unstuff(line, len, &p, &n) == MP_DATA_END) {
		if (may_end)
			return end_of_data(c);
		p = line;
		n = len;
	}
	if (s->too_big || s->long_line)
		return;
	if (s->msg.len + n + 2 > c->cfg->max_size) {
		s->too_big = true;
		return;
	}
	if (buf_put(&s->msg, p, n) || buf_put(&s->msg, "\r\n", 2))
		s->too_big = true;
}

void smtp_input(struct conn *c)
{
	struct smtp_sess *s = c->smtp;
	while (buf_pending(&c->in) && !c->close_after_flush && !c->starttls &&
	       buf_pending(&c->out) < CONN_OUT_HIGH) {
		size_t len, used;
		const char *line = c->in.p + c->in.off;
		enum mp_line_rc rc = mp_lines_next(&s->lr, line, buf_pending(&c->in), &len, &used);
		bool crlf = used >= 2 ? line[used - 2] == '\r' : s->cr; /* the byte before the LF */
		s->cr = used && line[used - 1] == '\r';
		buf_consume(&c->in, used);
		if (rc == MP_LINE_MORE)
			break;
		if (s->state == SM_DATA) {
			if (rc == MP_LINE_TOOLONG)
				s->long_line = true;
			else
				data_line(c, line, len, s->crlf && crlf);
		} else if (rc == MP_LINE_TOOLONG) {
			s->sasl = SA_NONE; /* ends an AUTH exchange too */
			bad(c, "500 5.5.2 Line too long (RFC 5321 limit: 512 octets)");
		} else if (s->sasl != SA_NONE) {
			auth_line(c, line, len);
		} else {
			do_command(c, line, len);
		}
		s->crlf = crlf;
	}
}
