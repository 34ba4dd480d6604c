/* workloads/mail/server.h: vcons-mail's internals shared by its files: the server, a connection
 * with its byte buffers, and the two protocol sessions that run on a connection (SMTP and IMAP). A
 * session consumes the connection's input buffer and appends replies to its output buffer; the
 * network layer (server_net.c on the server core, workloads/common/srv.h) moves bytes and never
 * interprets them, and puts the connection under TLS when a session asks (conn.starttls). */
#ifndef VCONS_MAIL_SERVER_H
#define VCONS_MAIL_SERVER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "workloads/common/buf.h"
#include "workloads/mail/mailstore.h"

struct server_cfg {
	const char *addr;
	int smtp_port, imap_port;
	int smtps_port, imaps_port; /* implicit TLS (RFC 8314), 0: none */
	unsigned threads;
	uint64_t max_size;       /* SMTP message size limit (bytes), advertised in EHLO */
	int idle_timeout_s;      /* a connection quiet this long is closed */
	int imap_idle_timeout_s; /* ... or this long while in IMAP IDLE (RFC 2177: 30 min) */
	bool tls;         /* TLS can be had: STARTTLS is offered (the server has a context) */
	bool require_tls; /* no password and no SMTP MAIL in the clear: IMAP LOGINDISABLED and
	                     SMTP 530 until STARTTLS */
};

struct smtp_sess;
struct imap_sess;

enum conn_kind { CONN_SMTP, CONN_IMAP };
struct conn {
	int fd; /* the socket (-1 when a test drives the session) */
	enum conn_kind kind;
	struct mstore *st;
	const struct server_cfg *cfg;
	struct buf in, out;
	bool close_after_flush; /* QUIT / LOGOUT / fatal error: close once out is sent */
	bool more;   /* the session paused with work left: call it again once out drains */
	bool idling; /* IMAP IDLE: the server speaks next (cfg->imap_idle_timeout_s applies) */
	/* Wakes the connection from any thread (NULL: there is no one to wake): the network layer
	 * then calls imap_wake on the connection's own thread. Set by the network layer. */
	void (*wake)(struct conn *c);
	void *net; /* the network layer's */
	bool tls;  /* under TLS: an implicit-TLS port, or after STARTTLS */
	/* the session answered STARTTLS and dropped the input after it (RFC 3207 section 6: no
	 * command sent before the handshake may run after it): the network layer switches the
	 * connection to TLS once out is sent, before it reads again, and clears this */
	bool starttls;
	bool submission; /* SMTP on the submission port (RFC 8314): MAIL needs AUTH first */
	union {
		struct smtp_sess *smtp;
		struct imap_sess *imap;
	};
};
/* Keep generating output only while less than this is waiting to be sent. */
#define CONN_OUT_HIGH (256u * 1024u)

int smtp_open(struct conn *c); /* allocates the session, queues the greeting; 0 or -1 */
void smtp_input(struct conn *c);
void smtp_close(struct conn *c);
void smtp_timeout(struct conn *c); /* queues the goodbye for an idle connection */
int imap_open(struct conn *c);
void imap_input(struct conn *c);
void imap_close(struct conn *c);
void imap_timeout(struct conn *c);
void imap_wake(struct conn *c); /* after c->wake: sends what changed if the session IDLEs */

/* Ends c's protocol session and frees its buffers (the socket and c itself stay the caller's). */
static inline void conn_end(struct conn *c)
{
	if (c->kind == CONN_SMTP)
		smtp_close(c);
	else
		imap_close(c);
	buf_free(&c->in);
	buf_free(&c->out);
}

/* Listens, prints "ready" and serves until stop_fd (an eventfd: lib/stop.h's) is readable. tls:
 * the TLS context (STARTTLS and the implicit-TLS ports), or NULL (cfg->tls false). 0, or 1 after a
 * message on stderr. */
struct ssl_ctx_st;
int server_run(const struct server_cfg *cfg, struct mstore *st, struct ssl_ctx_st *tls,
               int stop_fd);

#endif
