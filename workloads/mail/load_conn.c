/* workloads/mail/load_conn.c: the transport of vcons-mail-load's sessions. Each SMTP connection
 * and each IMAP session draws whether it runs under TLS (the profile's tls_pct) and, if so, on the
 * implicit-TLS port or after STARTTLS (tls_implicit_pct); a TLS connection offers the user's last
 * TLS session of that protocol for resumption, as mail clients do, and SMTP authenticates inside
 * it (AUTH PLAIN; IMAP's LOGIN is load_steps.c's, the same in the clear or not). Counts the
 * connections, the TLS ones and the resumed ones. */
#include "workloads/mail/load_sess.h"
#include "workloads/mail/mailproto.h"

#include <string.h>
#include <time.h>

enum conn_mode { MODE_PLAIN, MODE_STARTTLS, MODE_IMPLICIT };

static void nap_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

/* A new connection's transport, by the profile's TLS shares (no draw when nothing uses TLS, so
 * plain runs make the same choices from a seed as without TLS support). */
static enum conn_mode draw_mode(struct run *r, struct rng *g)
{
	atomic_fetch_add(&r->connections, 1);
	if (r->prof.tls_pct <= 0 || rng_uniform(g) * 100 >= r->prof.tls_pct)
		return MODE_PLAIN;
	return rng_uniform(g) * 100 < r->prof.tls_implicit_pct ? MODE_IMPLICIT : MODE_STARTTLS;
}

/* The client's TLS handshake on c, resuming *keep if it can. 0 or -1. */
static int tls_start(struct run *r, struct mconn *c, SSL_SESSION *const *keep)
{
	if (mconn_tls(c, r->tls, *keep))
		return -1;
	atomic_fetch_add(&r->tls_sessions, 1);
	if (SSL_session_reused(c->ssl))
		atomic_fetch_add(&r->tls_resumed, 1);
	return 0;
}

/* Connects to port, or naps when the server is down (no spinning). 0 or -1. */
static int open_or_nap(struct run *r, struct mconn *c, int port)
{
	if (mconn_open(c, r->host, port, 30000) == 0)
		return 0;
	nap_ms(20);
	return -1;
}

static int smtp_handshake(struct run *r, struct user *u, struct mconn *c, enum conn_mode m)
{
	if ((m == MODE_IMPLICIT && tls_start(r, c, &u->smtp_tls)) || smtp_reply(c) != 220 ||
	    smtp_cmd(c, "EHLO load.vcons.test") != 250)
		return -1;
	if (m == MODE_STARTTLS &&
	    (smtp_cmd(c, "STARTTLS") != 220 || tls_start(r, c, &u->smtp_tls) ||
	     smtp_cmd(c, "EHLO load.vcons.test") != 250))
		return -1;
	if (m == MODE_PLAIN)
		return 0;
	char name[32], resp[2 * MP_SASL_MAX];
	const char *pass = pw_pass(r->pw, u->mbox, name);
	if (mp_sasl_plain_encode(name, pass, resp, sizeof(resp)) < 0)
		return -1;
	return smtp_cmd(c, "AUTH PLAIN %s", resp) == 235 ? 0 : -1;
}

int conn_smtp(struct run *r, struct user *u, struct mconn *c, struct rng *g)
{
	enum conn_mode m = draw_mode(r, g);
	if (open_or_nap(r, c, m == MODE_IMPLICIT ? r->smtps_port : r->smtp_port))
		return -1;
	if (smtp_handshake(r, u, c, m)) {
		conn_close(c, &u->smtp_tls);
		return -1;
	}
	return 0;
}

int conn_imap(struct run *r, struct user *u, struct rng *g)
{
	char line[512];
	struct imap_result res;
	enum conn_mode m = draw_mode(r, g);
	if (open_or_nap(r, &u->imap, m == MODE_IMPLICIT ? r->imaps_port : r->imap_port))
		return -1;
	u->up = true;
	u->tag = 0;
	if ((m == MODE_IMPLICIT && tls_start(r, &u->imap, &u->imap_tls)) ||
	    mconn_line(&u->imap, line, sizeof(line)) < 0 || strncmp(line, "* OK", 4))
		return -1;
	if (m != MODE_STARTTLS)
		return 0;
	if (imap_cmd(&u->imap, &u->tag, &res, "STARTTLS"))
		return -1;
	bool ok = !strcmp(res.status, "OK");
	imap_result_free(&res);
	return ok ? tls_start(r, &u->imap, &u->imap_tls) : -1;
}

void conn_close(struct mconn *c, SSL_SESSION **keep)
{
	mconn_tls_keep(c, keep);
	mconn_close(c);
}
