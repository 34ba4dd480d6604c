/* workloads/mail/server.h: vcons-mail's internals shared by its files: the server, a connection
 * with its byte buffers, and the two protocol sessions that run on a connection (SMTP and IMAP). A
 * session consumes the connection's input buffer and appends replies to its output buffer; the
 * network layer (server_net.c) moves bytes and never interprets them. */
#ifndef VCONS_MAIL_SERVER_H
#define VCONS_MAIL_SERVER_H
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

#include "workloads/common/buf.h"
#include "workloads/mail/mailstore.h"

struct server_cfg {
	const char *addr;
	int smtp_port, imap_port;
	unsigned threads;
	uint64_t max_size;  /* SMTP message size limit (bytes), advertised in EHLO */
	int idle_timeout_s; /* a connection quiet this long is closed */
};

struct server;
struct worker;
struct smtp_sess;
struct imap_sess;

enum conn_kind { CONN_SMTP, CONN_IMAP };
struct conn {
	int fd;
	enum conn_kind kind;
	struct server *srv;
	struct mstore *st;
	const struct server_cfg *cfg;
	struct buf in, out;
	bool close_after_flush; /* QUIT / LOGOUT / fatal error: close once out is sent */
	bool eof;               /* the peer closed its side */
	_Atomic bool timed_out; /* idle too long: the session says goodbye (421 / BYE) and closes */
	bool more; /* the session paused with work left: call it again once out drains */
	_Atomic int64_t last_ns;
	struct worker *w; /* the worker thread that owns the connection for its whole life */
	uint32_t armed;   /* the epoll events it is registered for (0: not yet registered) */
	struct conn *prev, *next;
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

/* Serves until *stop (set by a signal handler, which may run in any thread, so an atomic). */
int server_run(const struct server_cfg *cfg, struct mstore *st, const atomic_int *stop);

#endif
