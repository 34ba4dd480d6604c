/* workloads/mail/server_net.c: SMTP and IMAP on the server core (workloads/common/srv.h): the
 * listeners (SMTP and IMAP, where the server speaks first: no TCP_DEFER_ACCEPT, and nothing is read
 * before the client answers the greeting; with a TLS context also SMTP submission and IMAP over
 * implicit TLS, RFC 8314, where the client's handshake comes first), a connection's session opened
 * on accept, fed on input, switched to TLS after it answered STARTTLS (srv_conn_upgrade, before
 * anything more is read), told when the connection has been idle for --idle-timeout, or
 * --imap-idle-timeout while the client IDLEs (it says goodbye: RFC 5321 4.5.3.2 421, RFC 3501 BYE),
 * woken (srv_conn_wake) when a folder an IDLE watches changes, and closed with the connection. A
 * command costs epoll_wait, one recv and one send. */
#include "workloads/mail/server.h"
#include "workloads/common/srv.h"
#include "workloads/common/srv_tls.h"

#include <stdio.h>
#include <stdlib.h>

#define IN_HIGH (1u << 20) /* stop reading while this much input waits to be consumed */

/* a listener's kind: enum conn_kind, with this bit on the implicit-TLS ones */
#define KIND_TLS 0x100

struct mail_ctx {
	const struct server_cfg *cfg;
	struct mstore *st;
	SSL_CTX *tls;
};

/* A store watcher's call (any thread): the session stays open meanwhile, since its close
 * unwatches under the lock the store holds around this call (srv_conn_wake's contract). */
static void net_wake(struct conn *c)
{
	srv_conn_wake(c->net);
}

static int mail_open(struct srv_conn *sc)
{
	const struct mail_ctx *m = sc->arg;
	struct conn *c = calloc(1, sizeof(*c));
	if (!c)
		return -1;
	c->wake = net_wake;
	c->net = sc;
	c->fd = sc->fd;
	c->kind = (enum conn_kind)(sc->kind & ~KIND_TLS);
	c->tls = sc->kind & KIND_TLS;
	c->submission = c->tls && c->kind == CONN_SMTP;
	c->st = m->st;
	c->cfg = m->cfg;
	if (c->kind == CONN_SMTP ? smtp_open(c) : imap_open(c)) { /* queues the greeting */
		free(c);
		return -1;
	}
	sc->in = &c->in;
	sc->out = &c->out;
	sc->proto = c;
	return 0;
}

/* the sessions' entry points, by enum conn_kind */
static void (*const session_input[])(struct conn *) = {
	[CONN_SMTP] = smtp_input, [CONN_IMAP] = imap_input
};
static void (*const session_timeout[])(struct conn *) = {
	[CONN_SMTP] = smtp_timeout, [CONN_IMAP] = imap_timeout
};

static int mail_input(struct srv_conn *sc)
{
	struct conn *c = sc->proto;
	const struct mail_ctx *m = sc->arg;
	session_input[c->kind](c);
	sc->close_after = c->close_after_flush;
	sc->more = c->more;
	sc->idle_timeout_s = c->idling ? c->cfg->imap_idle_timeout_s : 0;
	if (c->starttls) { /* the session dropped what followed the command */
		c->starttls = false;
		srv_conn_upgrade(sc, srv_tls_attach, m->tls);
	}
	return 0;
}

static void mail_wake(struct srv_conn *sc)
{
	struct conn *c = sc->proto;
	if (c->kind == CONN_IMAP)
		imap_wake(c);
	sc->close_after = c->close_after_flush;
}

static void mail_timeout(struct srv_conn *sc)
{
	struct conn *c = sc->proto;
	session_timeout[c->kind](c);
	c->close_after_flush = true;
}

static void mail_close(struct srv_conn *sc)
{
	struct conn *c = sc->proto;
	conn_end(c);
	free(c);
}

int server_run(const struct server_cfg *cfg, struct mstore *st, SSL_CTX *tls, int stop_fd)
{
	struct mail_ctx m = { .cfg = cfg, .st = st, .tls = tls };
	static const struct srv_proto proto = { .open = mail_open,
		                                .input = mail_input,
		                                .timeout = mail_timeout,
		                                .wake = mail_wake,
		                                .close = mail_close,
		                                .in_max = IN_HIGH,
		                                .out_high = CONN_OUT_HIGH };
	struct srv_listener ls[4] = { { .port = cfg->smtp_port, .kind = CONN_SMTP },
		                      { .port = cfg->imap_port, .kind = CONN_IMAP } };
	int n = 2;
	const struct {
		int port, kind;
	} tls_ls[2] = { { cfg->smtps_port, CONN_SMTP }, { cfg->imaps_port, CONN_IMAP } };
	for (int i = 0; i < 2 && tls; i++)
		if (tls_ls[i].port)
			ls[n++] = (struct srv_listener){ .port = tls_ls[i].port,
				                         .kind = tls_ls[i].kind | KIND_TLS,
				                         .client_first = true,
				                         .secure = srv_tls_attach,
				                         .secure_ctx = tls };
	const struct srv_config sc = { .addr = cfg->addr,
		                       .listeners = ls,
		                       .n_listeners = n,
		                       .threads = (int)cfg->threads,
		                       .idle_timeout_s = cfg->idle_timeout_s,
		                       .request_timeout_s = cfg->idle_timeout_s,
		                       .stop_fd = stop_fd,
		                       .proto = &proto,
		                       .arg = &m };
	struct srv *s;
	char err[256];
	if (srv_start(&s, &sc, err, sizeof(err))) {
		fprintf(stderr, "vcons-mail: %s\n", err);
		return 1;
	}
	printf("ready\n");
	(void)fflush(stdout);
	srv_wait(s);
	srv_finish(s);
	return 0;
}
