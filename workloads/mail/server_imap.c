/* workloads/mail/server_imap.c: the IMAP4rev1 session (RFC 3501 subset) and the commands on the
 * selected folder: CAPABILITY, NOOP, LOGOUT, STARTTLS, LOGIN, AUTHENTICATE PLAIN, CHECK, CLOSE,
 * EXPUNGE, FETCH, STORE, SEARCH and their UID forms, IDLE (RFC 2177) (the mailbox commands are
 * server_mailbox.c's). Commands are assembled from lines and literals ({N} synchronising, {N+}
 * LITERAL+) first, then parsed with mailproto's tokenizer. What FETCH and SEARCH make of a
 * message's bytes is imap_msg.h's; the session reads the message file once per command that needs
 * it and keeps the last small one (with its MIME tree) for the next command.
 *
 * Other sessions' changes to the selected folder (deliveries, APPEND, COPY, MOVE, STORE, EXPUNGE)
 * reach the client as untagged EXISTS, FETCH FLAGS and EXPUNGE when each command starts (EXPUNGE
 * held back while a command names messages by sequence number: RFC 3501 7.4.1 and 5.5), and at
 * once while it IDLEs: the session watches the folder (mstore_watch), whose change wakes the
 * connection on its own thread (c->wake, then imap_wake). */
#include "workloads/mail/imap_msg.h"
#include "workloads/mail/imap_sess.h"
#include "workloads/mail/mailproto.h"
#include "workloads/mail/server.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MSG_KEEP_MAX (256u * 1024u) /* a message this small stays cached after its command */

static void out(struct conn *c, const char *tag, const char *text)
{
	buf_printf(&c->out, "%s %s\r\n", tag, text);
}

void imap_reply(struct conn *c, const char *tag, const char *text)
{
	out(c, tag, text);
}

/* The selected folder changed (any thread, under the store's lock): wake the connection. */
static void folder_changed(struct ms_watch *w)
{
	struct imap_sess *s =
	    (struct imap_sess *)(void *)((char *)w - offsetof(struct imap_sess, watch));
	if (s->c->wake)
		s->c->wake(s->c);
}

/* May a password be sent (LOGIN, AUTHENTICATE PLAIN)? Not in the clear with --require-tls. */
static bool login_ok(const struct conn *c)
{
	return c->tls || !c->cfg->require_tls;
}

/* What CAPABILITY adds to IMAP_CAPS before login (RFC 3501 6.1.1, 6.2): STARTTLS while TLS can be
 * had, then LOGINDISABLED while no password may be sent, else AUTH=PLAIN with SASL-IR (RFC 4959);
 * after login, nothing. */
static const char *caps_extra(const struct conn *c)
{
	if (c->imap->state != IS_NOAUTH)
		return "";
	bool offer = c->cfg->tls && !c->tls;
	if (login_ok(c))
		return offer ? " STARTTLS AUTH=PLAIN SASL-IR" : " AUTH=PLAIN SASL-IR";
	return offer ? " STARTTLS LOGINDISABLED" : " LOGINDISABLED";
}

int imap_open(struct conn *c)
{
	struct imap_sess *s = calloc(1, sizeof(*s));
	if (!s)
		return -1;
	mp_lines_init(&s->lr, IMAP_LINE_MAX);
	s->user = -1;
	s->c = c;
	s->watch.fn = folder_changed;
	c->imap = s;
	buf_printf(&c->out, "* OK [CAPABILITY " IMAP_CAPS "%s] vcons-mail IMAP ready\r\n",
	           caps_extra(c));
	return 0;
}

void imap_close(struct conn *c)
{
	if (!c->imap)
		return;
	if (c->imap->watching) /* after this no other thread wakes c */
		mstore_unwatch(c->st, c->imap->user, &c->imap->watch);
	buf_free(&c->imap->cmd);
	mime_free(&c->imap->msg.mime);
	free(c->imap->msg.buf);
	mstore_view_free(&c->imap->v);
	free(c->imap);
	c->imap = NULL;
}

void imap_timeout(struct conn *c)
{
	out(c, "*", "BYE autologout: idle for too long");
}

/* One change of the selected folder as an untagged response. This server keeps no \Recent
 * messages: RECENT is 0 after each EXISTS, as at SELECT. */
static void view_event(void *ctx, enum ms_view_event e, size_t seq, const struct ms_msg *m)
{
	struct conn *c = ctx;
	char fl[96];
	switch (e) {
	case MS_VIEW_EXPUNGE: buf_printf(&c->out, "* %zu EXPUNGE\r\n", seq); break;
	case MS_VIEW_EXISTS: buf_printf(&c->out, "* %zu EXISTS\r\n* 0 RECENT\r\n", seq); break;
	case MS_VIEW_FLAGS:
		mp_flags_format(m->flags, fl, sizeof(fl));
		buf_printf(&c->out, "* %zu FETCH (UID %u FLAGS (%s))\r\n", seq, m->uid, fl);
		break;
	}
}

void imap_sync(struct conn *c, bool expunge)
{
	struct imap_sess *s = c->imap;
	if (s->state != IS_SELECTED)
		return;
	if (mstore_view_sync(c->st, s->user, &s->v, expunge, view_event, c) == -ENOENT) {
		out(c, "*", "BYE the selected mailbox was deleted");
		c->close_after_flush = true;
	} /* another error (out of memory): the next sync tries again */
}

static void do_noop(struct conn *c, const char *tag, const char *name)
{
	buf_printf(&c->out, "%s OK %s completed\r\n", tag, name); /* updates: execute() */
}

/* IDLE (RFC 2177): "+ idling", then untagged updates as the folder changes, until DONE. */
static void do_idle(struct conn *c, const char *tag)
{
	struct imap_sess *s = c->imap;
	if (s->state == IS_SELECTED) {
		mstore_watch(c->st, s->user, s->v.box, &s->watch);
		s->watching = true;
		imap_sync(c, true); /* what changed before the watch began */
		if (c->close_after_flush)
			return;
	}
	snprintf(s->idle_tag, sizeof(s->idle_tag), "%s", tag);
	s->idling = c->idling = true;
	buf_printf(&c->out, "+ idling\r\n");
}

/* The line that ends IDLE: DONE, or anything else, which is an error but ends it too. */
static void idle_end(struct conn *c, bool done)
{
	struct imap_sess *s = c->imap;
	imap_sync(c, true);
	if (s->watching)
		mstore_unwatch(c->st, s->user, &s->watch);
	s->watching = s->idling = c->idling = false;
	out(c, s->idle_tag, done ? "OK IDLE terminated" : "BAD IDLE: expected DONE");
}

void imap_wake(struct conn *c)
{
	if (c->imap && c->imap->idling)
		imap_sync(c, true);
}

static bool match(const struct imap_sess *s, const struct mp_seqset *set, size_t i, bool uid)
{
	if (uid)
		return mp_seqset_has(set, s->v.msgs[i].uid, s->v.n ? s->v.msgs[s->v.n - 1].uid : 0);
	return mp_seqset_has(set, (uint32_t)(i + 1), (uint32_t)s->v.n);
}

bool imap_match(const struct imap_sess *s, const struct mp_seqset *set, size_t i, bool uid)
{
	return match(s, set, i, uid);
}

/* Removes \Deleted messages (only those in uids if not NULL); untagged EXPUNGE replies unless
 * silent. */
bool imap_expunge(struct conn *c, bool silent, const struct mp_seqset *uids)
{
	struct imap_sess *s = c->imap;
	uint32_t star = s->v.n ? s->v.msgs[s->v.n - 1].uid : 0; /* '*' as the command saw it */
	bool all = true;
	for (size_t i = s->v.n; i-- > 0;) {
		if (!(s->v.msgs[i].flags & MP_FLAG_DELETED) ||
		    (uids && !mp_seqset_has(uids, s->v.msgs[i].uid, star)))
			continue;
		int rc = mstore_remove(c->st, s->user, &s->v.msgs[i]);
		if (rc && rc != -ENOENT) { /* already gone is fine */
			all = false;
			continue;
		}
		memmove(s->v.msgs + i, s->v.msgs + i + 1, (s->v.n - i - 1) * sizeof(*s->v.msgs));
		s->v.n--;
		if (!silent)
			buf_printf(&c->out, "* %zu EXPUNGE\r\n", i + 1);
	}
	return all;
}

/* "24-Nov-2026 19:13:24 +0000" for t seconds since the epoch. Computed here (days to civil date, H.
 * Hinnant's algorithm) because glibc's gmtime_r may read /etc/localtime, which a guest must not
 * touch. */
static void internaldate(int64_t t, char *dst, size_t cap)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
		                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400, secs = t - days * 86400;
	int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = yoe + era * 400 + (m <= 2);
	snprintf(dst, cap, "%02d-%s-%04lld %02d:%02d:%02d +0000", (int)d, mon[m - 1], (long long)y,
	         (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
}

static void msg_drop(struct imap_sess *s)
{
	mime_free(&s->msg.mime);
	free(s->msg.buf);
	s->msg = (struct msg_cache){ 0 };
}

/* Makes s->msg hold message m (read unless it is there already); false if it cannot be read. */
static bool msg_load(struct conn *c, const struct ms_msg *m)
{
	struct imap_sess *s = c->imap;
	if (s->msg.uid == m->uid && s->msg.box == m->box && s->msg.buf)
		return true;
	msg_drop(s);
	if (mstore_read(c->st, s->user, m, &s->msg.buf, &s->msg.len))
		return false;
	s->msg.uid = m->uid;
	s->msg.box = m->box;
	return true;
}

/* The MIME tree of the loaded message, parsed on first use; NULL when out of memory. */
static const struct mime_msg *msg_mime(struct imap_sess *s)
{
	if (!s->msg.parsed && mime_parse(&s->msg.mime, s->msg.buf, s->msg.len) == 0)
		s->msg.parsed = true;
	return s->msg.parsed ? &s->msg.mime : NULL;
}

/* After a command: a large message is not kept (memory per session stays small). */
static void msg_trim(struct imap_sess *s)
{
	if (s->msg.len > MSG_KEEP_MAX)
		msg_drop(s);
}

static void sink_put(void *ctx, const void *p, size_t n)
{
	buf_put(ctx, p, n);
}

/* One BODY[section] item of the loaded message: a range copy, filtered header fields, or NIL for
 * a section the message does not have. */
static void body_part(struct conn *c, const struct mp_fetch_body *b)
{
	struct imap_sess *s = c->imap;
	const char *p = s->msg.buf;
	size_t off = 0, n = s->msg.len;
	char *fields = NULL;
	bool found = true;
	if (b->nparts || b->sec != MP_SEC_ALL) {
		const struct mime_msg *m = msg_mime(s);
		found = m && imap_section(m, b, &off, &n);
		if (found && (b->sec == MP_SEC_FIELDS || b->sec == MP_SEC_FIELDS_NOT)) {
			fields = malloc(n + 4);
			found = fields != NULL;
			if (found) {
				n = imap_header_fields(p + off, n, b, fields);
				p = fields;
				off = 0;
			}
		}
	}
	p += off;
	if (b->partial) {
		size_t o = b->origin < n ? b->origin : n;
		p += o;
		n -= o;
		if (n > b->count)
			n = b->count;
	}
	char name[MP_BODY_NAME_MAX];
	mp_fetch_body_name(b, name, sizeof(name));
	if (!found) {
		buf_printf(&c->out, "%s NIL", name);
	} else {
		buf_printf(&c->out, "%s {%zu}\r\n", name, n);
		buf_put(&c->out, p, n);
	}
	free(fields);
}

/* One message's FETCH response; false if it could not be read. */
static bool fetch_one(struct conn *c, size_t i, const struct mp_fetch *f, bool uid)
{
	struct imap_sess *s = c->imap;
	struct ms_msg *m = &s->v.msgs[i];
	bool set_seen = false;
	if (f->nbodies || (f->attrs & (MP_F_ENVELOPE | MP_F_BODYSTRUCTURE | MP_F_BODY))) {
		if (!msg_load(c, m))
			return false;
		if ((f->attrs & (MP_F_ENVELOPE | MP_F_BODYSTRUCTURE | MP_F_BODY)) && !msg_mime(s))
			return false;
		for (unsigned k = 0; k < f->nbodies; k++)
			if (!f->body[k].peek && !s->readonly && !(m->flags & MP_FLAG_SEEN))
				set_seen = true;
		if (set_seen)
			mstore_set_flags(c->st, s->user, m, m->flags | MP_FLAG_SEEN);
	}
	buf_printf(&c->out, "* %zu FETCH (", i + 1);
	const char *sp = "";
	if (uid || (f->attrs & MP_F_UID)) {
		buf_printf(&c->out, "UID %u", m->uid);
		sp = " ";
	}
	if ((f->attrs & MP_F_FLAGS) || set_seen) {
		char fl[96];
		mp_flags_format(m->flags, fl, sizeof(fl));
		buf_printf(&c->out, "%sFLAGS (%s)", sp, fl);
		sp = " ";
	}
	if (f->attrs & MP_F_INTERNALDATE) {
		char d[40];
		internaldate(m->time_s, d, sizeof(d));
		buf_printf(&c->out, "%sINTERNALDATE \"%s\"", sp, d);
		sp = " ";
	}
	if (f->attrs & MP_F_SIZE) {
		buf_printf(&c->out, "%sRFC822.SIZE %llu", sp, (unsigned long long)m->size);
		sp = " ";
	}
	struct mp_sink o = { sink_put, &c->out };
	static const struct {
		unsigned attr;
		const char *name;
	} views[] = { { MP_F_ENVELOPE, "ENVELOPE " },
		      { MP_F_BODYSTRUCTURE, "BODYSTRUCTURE " },
		      { MP_F_BODY, "BODY " } };
	for (size_t k = 0; k < sizeof(views) / sizeof(views[0]); k++) {
		if (!(f->attrs & views[k].attr))
			continue;
		const struct mime_msg *mm = msg_mime(s); /* parsed above */
		buf_printf(&c->out, "%s%s", sp, views[k].name);
		if (views[k].attr == MP_F_ENVELOPE)
			imap_envelope(mm, 0, &o);
		else
			imap_bodystructure(mm, 0, views[k].attr == MP_F_BODYSTRUCTURE, &o);
		sp = " ";
	}
	for (unsigned k = 0; k < f->nbodies; k++) {
		buf_printf(&c->out, "%s", sp);
		body_part(c, &f->body[k]);
		sp = " ";
	}
	buf_printf(&c->out, ")\r\n");
	msg_trim(s);
	return true;
}

/* Runs the FETCH job until it is done or the output buffer is full; in that case it leaves c->more
 * set and the network layer calls back once the client has read some of it. Bounds the memory a
 * FETCH of a whole big mailbox takes to about CONN_OUT_HIGH plus one message. */
static void fetch_continue(struct conn *c)
{
	struct imap_sess *s = c->imap;
	struct fetch_job *j = &s->job;
	for (; j->next < s->v.n; j->next++) {
		if (buf_pending(&c->out) >= CONN_OUT_HIGH) {
			c->more = true;
			return;
		}
		if (match(s, &j->set, j->next, j->uid) && !fetch_one(c, j->next, &j->f, j->uid))
			j->lost = true;
	}
	c->more = false;
	j->active = false;
	out(c, j->tag, j->lost ? "NO some messages could no longer be read" : "OK FETCH completed");
}

static void do_fetch(struct conn *c, const char *tag, struct mp_imap_cur *cur, bool uid)
{
	struct imap_sess *s = c->imap;
	struct mp_seqset set;
	struct mp_fetch f;
	if (!mp_seqset_parse(cur, &set) || !mp_imap_sp(cur) || !mp_fetch_parse(cur, &f) ||
	    !mp_imap_at_end(cur))
		return out(c, tag, "BAD FETCH: syntax or unsupported attribute");
	if (!uid)
		for (unsigned k = 0; k < set.n; k++)
			if (set.r[k].lo > s->v.n || set.r[k].hi > s->v.n)
				return out(c, tag, "BAD FETCH: no such message sequence number");
	s->job = (struct fetch_job){ .active = true, .uid = uid, .set = set, .f = f };
	snprintf(s->job.tag, sizeof(s->job.tag), "%s", tag);
	fetch_continue(c);
}

/* SEARCH / UID SEARCH: one "* SEARCH" line with the matching sequence numbers (UIDs). The
 * message files are read only when a key looks at headers or text. */
static void do_search(struct conn *c, const char *tag, struct mp_imap_cur *cur, bool uid)
{
	struct imap_sess *s = c->imap;
	struct mp_search *q = malloc(sizeof(*q));
	if (!q)
		return out(c, tag, "NO [SERVERBUG] out of memory");
	switch (mp_search_parse(cur, q)) {
	case MP_SEARCH_OK: break;
	case MP_SEARCH_CHARSET:
		free(q);
		return out(c, tag, "NO [BADCHARSET (UTF-8 US-ASCII)] unsupported charset");
	case MP_SEARCH_LIMIT:
		free(q);
		return out(c, tag, "BAD SEARCH: too many keys, sets or string bytes");
	default: free(q); return out(c, tag, "BAD SEARCH: syntax");
	}
	bool lost = false;
	buf_printf(&c->out, "* SEARCH");
	for (size_t i = 0; i < s->v.n; i++) {
		const struct ms_msg *m = &s->v.msgs[i];
		struct mp_search_msg sm = { .seq = (uint32_t)(i + 1),
			                    .uid = m->uid,
			                    .max_seq = (uint32_t)s->v.n,
			                    .max_uid = s->v.msgs[s->v.n - 1].uid,
			                    .flags = m->flags,
			                    .size = m->size,
			                    .time_s = m->time_s };
		if (q->needs_text) {
			if (!msg_load(c, m) || !(sm.msg = msg_mime(s))) {
				lost = true;
				continue;
			}
		}
		if (mp_search_match(q, &sm))
			buf_printf(&c->out, " %u", uid ? m->uid : (uint32_t)(i + 1));
		msg_trim(s);
	}
	buf_printf(&c->out, "\r\n");
	free(q);
	out(c, tag, lost ? "NO some messages could no longer be read" : "OK SEARCH completed");
}

static void do_store(struct conn *c, const char *tag, struct mp_imap_cur *cur, bool uid)
{
	struct imap_sess *s = c->imap;
	struct mp_seqset set;
	enum mp_store_op op;
	bool silent;
	unsigned flags;
	if (!mp_seqset_parse(cur, &set) || !mp_imap_sp(cur) ||
	    !mp_store_parse(cur, &op, &silent, &flags))
		return out(c, tag, "BAD STORE: syntax");
	if (s->readonly)
		return out(c, tag, "NO mailbox is read-only");
	bool lost = false;
	for (size_t i = 0; i < s->v.n; i++) {
		if (!match(s, &set, i, uid))
			continue;
		struct ms_msg *m = &s->v.msgs[i];
		unsigned nf = op == MP_STORE_SET   ? flags
		              : op == MP_STORE_ADD ? m->flags | flags
		                                   : m->flags & ~flags;
		if (mstore_set_flags(c->st, s->user, m, nf)) {
			lost = true;
			continue;
		}
		if (!silent || uid) {
			char fl[96];
			mp_flags_format(m->flags, fl, sizeof(fl));
			if (uid)
				buf_printf(&c->out, "* %zu FETCH (UID %u FLAGS (%s))\r\n", i + 1,
				           m->uid, fl);
			else
				buf_printf(&c->out, "* %zu FETCH (FLAGS (%s))\r\n", i + 1, fl);
		}
	}
	out(c, tag, lost ? "NO some messages could no longer be changed" : "OK STORE completed");
}

/* LOGIN and AUTHENTICATE's end: the user is in, or not. */
static void log_in(struct conn *c, const char *tag, const char *user, const char *pass,
                   const char *cmd)
{
	struct imap_sess *s = c->imap;
	int u = mstore_auth(c->st, user, pass);
	if (u < 0)
		return out(c, tag, "NO [AUTHENTICATIONFAILED] invalid credentials");
	s->user = u;
	s->state = IS_AUTH;
	buf_printf(&c->out, "%s OK [CAPABILITY " IMAP_CAPS "] %s completed\r\n", tag, cmd);
}

static void do_login(struct conn *c, const char *tag, struct mp_imap_cur *cur)
{
	char user[MP_SASL_MAX], pass[MP_SASL_MAX];
	if (!login_ok(c)) /* RFC 3501 6.2.3, RFC 5530 */
		return out(c, tag, "NO [PRIVACYREQUIRED] LOGIN is disabled until STARTTLS");
	if (mp_imap_astring(cur, user, sizeof(user)) < 0 || !mp_imap_sp(cur) ||
	    mp_imap_astring(cur, pass, sizeof(pass)) < 0 || !mp_imap_at_end(cur))
		return out(c, tag, "BAD LOGIN: syntax: LOGIN user password");
	log_in(c, tag, user, pass, "LOGIN");
}

/* The PLAIN response of an AUTHENTICATE (its initial response, or the line after "+ "). */
static void sasl_response(struct conn *c, const char *tag, const char *resp, size_t n)
{
	char user[MP_SASL_MAX], pass[MP_SASL_MAX];
	switch (mp_sasl_plain(resp, n, user, pass)) {
	case MP_SASL_OK: return log_in(c, tag, user, pass, "AUTHENTICATE");
	case MP_SASL_CANCEL: return out(c, tag, "BAD AUTHENTICATE cancelled");
	default: return out(c, tag, "BAD AUTHENTICATE: malformed PLAIN response");
	}
}

/* AUTHENTICATE PLAIN [initial-response] (RFC 3501 6.2.2, RFC 4959). */
static void do_authenticate(struct conn *c, const char *tag, struct mp_imap_cur *cur)
{
	struct imap_sess *s = c->imap;
	const char *m, *ir = NULL;
	size_t mn = mp_imap_atom(cur, &m), irn = 0;
	if (mn && mp_imap_sp(cur) && !(irn = mp_imap_atom(cur, &ir)))
		return out(c, tag, "BAD AUTHENTICATE: syntax: AUTHENTICATE mechanism [response]");
	if (mn == 0 || !mp_imap_at_end(cur))
		return out(c, tag, "BAD AUTHENTICATE: syntax: AUTHENTICATE mechanism [response]");
	if (s->state != IS_NOAUTH)
		return out(c, tag, "BAD already logged in");
	if (!login_ok(c))
		return out(c, tag, "NO [PRIVACYREQUIRED] AUTHENTICATE needs TLS: STARTTLS first");
	if (mn != 5 || strncasecmp(m, "PLAIN", 5))
		return out(c, tag, "NO unsupported authentication mechanism");
	if (ir)
		return sasl_response(c, tag, ir, irn);
	snprintf(s->sasl_tag, sizeof(s->sasl_tag), "%s", tag);
	buf_printf(&c->out, "+ \r\n");
}

/* RFC 3501 6.2.1: OK, then TLS. Whatever the client sent after the command is dropped unread: it
 * came before the handshake, so it cannot be told from an attacker's injection (CVE-2011-0411);
 * the capabilities change (no STARTTLS, a password may now be sent). */
static void do_starttls(struct conn *c, const char *tag, bool args)
{
	if (!c->cfg->tls)
		return out(c, tag, "BAD STARTTLS is not offered here (see CAPABILITY)");
	if (args)
		return out(c, tag, "BAD STARTTLS takes no arguments");
	if (c->tls)
		return out(c, tag, "BAD TLS is already active");
	if (c->imap->state != IS_NOAUTH)
		return out(c, tag, "BAD STARTTLS only before login");
	out(c, tag, "OK Begin TLS negotiation now");
	buf_consume(&c->in, buf_pending(&c->in));
	c->tls = c->starttls = true;
}

static bool is(const char *tok, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(tok, w, n) == 0;
}

static void execute(struct conn *c, const char *p, size_t len)
{
	struct imap_sess *s = c->imap;
	struct mp_imap_cur cur;
	mp_imap_cur_init(&cur, p, len);
	const char *t, *w;
	size_t tn = mp_imap_tag(&cur, &t);
	char tag[72];
	if (tn == 0 || !mp_imap_sp(&cur))
		return out(c, "*", "BAD missing or invalid tag");
	snprintf(tag, sizeof(tag), "%.*s", (int)tn, t);
	size_t wn = mp_imap_atom(&cur, &w);
	bool uid = false;
	if (is(w, wn, "UID")) {
		uid = true;
		if (!mp_imap_sp(&cur))
			return out(c, tag, "BAD UID needs a command");
		wn = mp_imap_atom(&cur, &w);
		if (!is(w, wn, "FETCH") && !is(w, wn, "STORE") && !is(w, wn, "SEARCH") &&
		    !is(w, wn, "COPY") && !is(w, wn, "MOVE") && !is(w, wn, "EXPUNGE"))
			return out(c, tag,
			           "BAD UID: only FETCH, STORE, SEARCH, COPY, MOVE and EXPUNGE");
	}
	bool args = mp_imap_sp(&cur);
	/* the folder's changes first (RFC 3501 5.2), unless the command leaves it; no EXPUNGE
	 * before a command naming messages by sequence number: it would shift the numbers it names
	 */
	if (!is(w, wn, "SELECT") && !is(w, wn, "EXAMINE") && !is(w, wn, "CLOSE") &&
	    !is(w, wn, "LOGOUT")) {
		bool numbered =
		    !uid && (is(w, wn, "FETCH") || is(w, wn, "STORE") || is(w, wn, "SEARCH") ||
		             is(w, wn, "COPY") || is(w, wn, "MOVE"));
		imap_sync(c, !numbered);
		if (c->close_after_flush)
			return;
	}
	if (is(w, wn, "CAPABILITY") && !args) {
		buf_printf(&c->out, "* CAPABILITY " IMAP_CAPS "%s\r\n", caps_extra(c));
		return out(c, tag, "OK CAPABILITY completed");
	}
	if (is(w, wn, "NOOP") && !args)
		return do_noop(c, tag, "NOOP");
	if (is(w, wn, "LOGOUT") && !args) {
		buf_printf(&c->out, "* BYE vcons-mail logging out\r\n");
		out(c, tag, "OK LOGOUT completed");
		c->close_after_flush = true;
		return;
	}
	if (is(w, wn, "LOGIN") && args) {
		if (s->state != IS_NOAUTH)
			return out(c, tag, "BAD already logged in");
		return do_login(c, tag, &cur);
	}
	if (is(w, wn, "IDLE") && !args) {
		if (s->state == IS_NOAUTH)
			return out(c, tag, "BAD log in first");
		return do_idle(c, tag);
	}
	if (is(w, wn, "STARTTLS"))
		return do_starttls(c, tag, args);
	if (is(w, wn, "AUTHENTICATE"))
		return do_authenticate(c, tag, &cur);
	if (imap_mailbox_cmd(c, tag, w, wn, uid, args, &cur))
		return;
	bool known = is(w, wn, "CHECK") || is(w, wn, "CLOSE") || is(w, wn, "EXPUNGE") ||
	             is(w, wn, "FETCH") || is(w, wn, "STORE") || is(w, wn, "SEARCH");
	if (!known)
		return out(c, tag, "BAD unknown or unsupported command");
	if (s->state == IS_NOAUTH)
		return out(c, tag, "BAD log in first");
	if (s->state != IS_SELECTED)
		return out(c, tag, "BAD select a mailbox first");
	if (is(w, wn, "CHECK") && !args)
		return do_noop(c, tag, "CHECK");
	if (is(w, wn, "CLOSE") && !args) {
		if (!s->readonly) { /* the flags as they are now; no untagged responses */
			mstore_view_sync(c->st, s->user, &s->v, true, NULL, NULL);
			imap_expunge(c, true, NULL);
		}
		s->state = IS_AUTH;
		s->v.n = 0;
		return out(c, tag, "OK CLOSE completed");
	}
	if (is(w, wn, "EXPUNGE") && !args) {
		if (s->readonly)
			return out(c, tag, "NO mailbox is read-only");
		bool all = imap_expunge(c, false, NULL);
		return out(c, tag,
		           all ? "OK EXPUNGE completed"
		               : "NO [SERVERBUG] some messages stay: the store failed");
	}
	if (is(w, wn, "FETCH") && args)
		return do_fetch(c, tag, &cur, uid);
	if (is(w, wn, "STORE") && args)
		return do_store(c, tag, &cur, uid);
	if (is(w, wn, "SEARCH") && args)
		return do_search(c, tag, &cur, uid);
	out(c, tag, "BAD wrong arguments");
}

/* Tag of a command being refused before it is complete ("*" if it has none yet). */
static void partial_tag(const struct buf *cmd, char *dst, size_t cap)
{
	struct mp_imap_cur cur;
	const char *t;
	mp_imap_cur_init(&cur, cmd->p ? cmd->p + cmd->off : "", buf_pending(cmd));
	size_t n = mp_imap_tag(&cur, &t);
	if (n == 0)
		snprintf(dst, cap, "*");
	else
		snprintf(dst, cap, "%.*s", (int)n, t);
}

/* Refuses the command being assembled. When its last line announced a non-synchronising literal
 * ("{N+}"), the client sends the literal's bytes without waiting, and they would be read as
 * commands (a message body could carry "x LOGOUT" or worse): RFC 7888 lets the server close the
 * connection instead, which it does, after the BAD. A refused synchronising literal is safe: the
 * client waits for a "+" that never comes. */
static void refuse(struct conn *c, const char *line, size_t len, const char *why)
{
	struct imap_sess *s = c->imap;
	char tag[72];
	partial_tag(&s->cmd, tag, sizeof(tag));
	s->cmd.off = s->cmd.len = 0;
	out(c, tag, why);
	if (len >= 2 && line[len - 2] == '+' && line[len - 1] == '}') {
		out(c, "*", "BYE literal refused; its data cannot be told from commands");
		c->close_after_flush = true;
	}
}

static void command_line(struct conn *c, const char *line, size_t len)
{
	struct imap_sess *s = c->imap;
	uint64_t n;
	bool nonsync;
	if (buf_pending(&s->cmd) + len > IMAP_CMD_MAX)
		return refuse(c, line, len, "BAD command too long");
	buf_put(&s->cmd, line, len);
	uint64_t amax = imap_literal_max(c, &s->cmd); /* 0: not an APPEND */
	int lit = mp_imap_literal_max(line, len, amax ? amax : MP_IMAP_LITERAL_MAX, &n, &nonsync);
	if (lit < 0 && amax && mp_imap_literal_max(line, len, UINT32_MAX, &n, &nonsync) == 1)
		return refuse(c, line, len, "NO [TOOBIG] APPEND: message over the size limit");
	if (lit < 0)
		return refuse(c, line, len, "BAD invalid literal (size must be 0..65536)");
	if (lit > 0) {
		buf_put(&s->cmd, "\r\n", 2);
		s->lit_left = n;
		if (!nonsync)
			buf_printf(&c->out, "+ ready for %llu bytes\r\n", (unsigned long long)n);
		return;
	}
	/* an empty first line leaves cmd unallocated */
	execute(c, s->cmd.p ? s->cmd.p + s->cmd.off : "", buf_pending(&s->cmd));
	s->cmd.off = s->cmd.len = 0;
}

void imap_input(struct conn *c)
{
	struct imap_sess *s = c->imap;
	if (s->job.active) {
		fetch_continue(c);
		if (s->job.active)
			return;
	}
	while (buf_pending(&c->in) && !c->close_after_flush && !c->starttls &&
	       buf_pending(&c->out) < CONN_OUT_HIGH) {
		const char *p = c->in.p + c->in.off;
		if (s->lit_left) {
			size_t n = buf_pending(&c->in);
			if (n > s->lit_left)
				n = (size_t)s->lit_left;
			buf_put(&s->cmd, p, n);
			buf_consume(&c->in, n);
			s->lit_left -= n;
			continue;
		}
		size_t len, used;
		enum mp_line_rc rc = mp_lines_next(&s->lr, p, buf_pending(&c->in), &len, &used);
		buf_consume(&c->in, used);
		if (rc == MP_LINE_MORE)
			break;
		if (s->idling) {
			idle_end(c, rc == MP_LINE_OK && len == 4 && !strncasecmp(p, "DONE", 4));
			continue;
		}
		if (s->sasl_tag[0]) { /* the client's answer to "+ " (a too long one is refused) */
			char tag[72];
			memcpy(tag, s->sasl_tag, sizeof(tag));
			s->sasl_tag[0] = 0;
			if (rc == MP_LINE_TOOLONG)
				out(c, tag, "BAD AUTHENTICATE: response too long");
			else
				sasl_response(c, tag, p, len);
			continue;
		}
		if (rc == MP_LINE_TOOLONG) {
			char tag[72];
			partial_tag(&s->cmd, tag, sizeof(tag));
			s->cmd.off = s->cmd.len = 0;
			out(c, tag, "BAD line too long");
			continue;
		}
		command_line(c, p, len);
	}
}
