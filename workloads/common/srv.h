/* workloads/common/srv.h: the network-server core of vcons-db, vcons-web and vcons-mail: listeners
 * on the VM's address, a pool of worker threads, per-connection idle and request timeouts, a clean
 * stop, and a transport (plain sockets, or TLS: srv_tls.h) under each connection. A server supplies
 * its protocol (struct srv_proto): what to do with a new connection, with buffered input, and on
 * close. The core moves bytes and never interprets them.
 *
 * Threads. Each of cfg->threads workers has its own epoll set, holding every listener (with
 * EPOLLEXCLUSIVE: a new connection wakes one worker) and the connections it accepted; a connection
 * stays with that worker for its whole life, so nothing is handed between threads and a protocol's
 * per-connection state needs no lock (c->worker says which worker, for per-worker resources).
 *
 * System calls (under vcons-hv each is an exit) are what a request costs, so a request costs one
 * read and one write plus its share of epoll_wait, and nothing else:
 * - connections are edge-triggered, registered once after their first progress (EPOLLOUT added the
 *   first time output does not fit the socket buffer), never modified back or deleted (close drops
 *   them from the set);
 * - a read shorter than the room offered drained the socket: the next read waits for an edge
 *   instead of asking for an EAGAIN (once the peer's FIN was reported, it reads on to the end);
 * - the listeners carry TCP_NODELAY (inherited by accepted sockets), and TCP_DEFER_ACCEPT when the
 *   client speaks first (the connection is accepted with its first request readable, which is read
 *   at once; where the server speaks first nothing is read until an edge); a wake-up accepts one
 *   connection (the listener is level-triggered: another pending one reports again), so no accept
 *   ends in EAGAIN;
 * - output queued by one input call leaves in one write (the buffered bytes and a borrowed tail in
 *   one writev).
 *
 * A connection's round: send what is queued; give the protocol the buffered input (only while less
 * than out_high bytes wait to be sent and no borrowed tail does: pipelined answers stay in order
 * and memory bounded); read more (only while less than in_max bytes wait). It repeats until the
 * connection waits for an edge. At the peer's end of stream the protocol still gets what was
 * buffered; the connection closes once its output is sent (or cannot be).
 *
 * Timeouts: a connection with input or output pending (or a TLS handshake) is closed after
 * request_timeout_s without progress, an idle one after idle_timeout_s (or the protocol's own
 * c->idle_timeout_s for it: IMAP IDLE waits for the server, RFC 2177's 30 minutes); if the protocol
 * has a timeout callback, it is called first instead (to queue a goodbye) and the connection closes
 * once that is sent, or after another request_timeout_s. Each worker sleeps until its earliest
 * deadline (or an event): no polling, an idle server makes no system calls.
 *
 * Wake-ups: what happens on one connection may concern another, on any worker (a delivery to a
 * mailbox an IMAP client IDLEs on). srv_conn_wake(c), from any thread, queues c on its worker's
 * wake list and, when the list was empty, writes the worker's eventfd (in its epoll set): the
 * worker then calls the protocol's wake callback for each queued connection, on that worker, and
 * sends what it queued. A connection is queued at most once however often it is woken before the
 * worker gets to it; closing it takes it off the list. Under vcons-hv this is eventfd2, read,
 * write, epoll and futex: no signal, no inotify.
 *
 * Stop: srv_stop() (async-signal-safe, from any thread) or cfg->stop_fd becoming readable (an
 * eventfd that stays readable: lib/stop.h's stop_fd()) wakes every worker, which closes its
 * connections (the protocol's close) and ends. */
#ifndef VCONS_SRV_H
#define VCONS_SRV_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "workloads/common/buf.h"

struct srv;
struct srv_conn;

/* What moves a connection's bytes. read: >0 bytes read, 0 end of stream, SRV_AGAIN nothing for now
 * (c->drained set, or c->blocked when TLS must write first), SRV_ERR. writev: bytes taken (> 0),
 * SRV_AGAIN (c->blocked set), SRV_ERR. flush (may be NULL): after writes, 1 all out, 0 the socket
 * is full (c->blocked set), -1 error. handshake (NULL when there is none): 1 done, 0 waiting
 * (drained or blocked set), -1 failed. close (may be NULL): best-effort goodbye, frees c->tr_state
 * (never the socket). */
struct srv_transport {
	ssize_t (*read)(struct srv_conn *c, void *p, size_t n);
	ssize_t (*writev)(struct srv_conn *c, const struct iovec *iov, int n);
	int (*flush)(struct srv_conn *c);
	int (*handshake)(struct srv_conn *c);
	void (*close)(struct srv_conn *c);
};
#define SRV_AGAIN (-1)
#define SRV_ERR   (-2)
extern const struct srv_transport srv_plain;

/* Puts a connection under another transport (srv_tls_attach); 0, or -1. */
typedef int srv_secure_fn(struct srv_conn *c, void *ctx);

struct srv_conn {
	/* the protocol's: input it consumes, output it appends (the core's ibuf and obuf unless its
	 * open callback points them elsewhere), its state */
	struct buf *in, *out;
	void *proto;
	/* borrowed bytes sent after *out (a static file's body): valid until the protocol's next
	 * input or close call, which comes only once they are sent */
	const unsigned char *ext;
	size_t ext_len;
	bool close_after;   /* the protocol is done: close once the output is sent */
	bool more;          /* paused with work left (out_high): call again once output drains */
	int idle_timeout_s; /* this connection's idle timeout while > 0, else cfg->idle_timeout_s */
	/* the core's, for the protocol to read */
	struct srv *srv;
	void *arg;  /* cfg->arg */
	int kind;   /* the listener's kind */
	int worker; /* the owning worker, 0..threads-1 */
	int fd;     /* the socket */
	bool eof;   /* the peer ended its stream */
	bool timed_out;
	/* the transport's */
	const struct srv_transport *tr;
	void *tr_state;
	bool handshaking;
	bool drained;    /* nothing more to read: wait for an EPOLLIN edge */
	bool rdhup;      /* the peer's FIN was reported: read until end of stream */
	bool blocked;    /* the socket buffer is full: wait for an EPOLLOUT edge */
	bool short_read; /* TLS: the last socket read returned less than asked */
	/* the core's own */
	srv_secure_fn *upgrade; /* switch transports once the output is sent (STARTTLS) */
	void *upgrade_ctx;
	uint32_t events;              /* registered interest; 0 = not in the epoll set yet */
	int64_t last_ms;              /* last progress, CLOCK_MONOTONIC */
	struct srv_conn *prev, *next; /* the worker's connections */
	bool woken;                   /* the protocol's wake is due (once the output is sent) */
	bool wake_queued;             /* on the worker's wake list (guarded by its lock) */
	struct srv_conn *wake_prev, *wake_next;
	struct buf ibuf, obuf;
};

struct srv_proto {
	/* A new connection: may set c->proto (and c->in, c->out), may queue a greeting; 0, or -1
	 * to refuse it (nothing to free). */
	int (*open)(struct srv_conn *c);
	/* Consumes what it can of c->in, appends to c->out (or sets c->ext); may set close_after
	 * and more. 0, or -1 to close the connection at once. */
	int (*input)(struct srv_conn *c);
	/* May be NULL. A timeout passed: queue a goodbye (the core closes after it). */
	void (*timeout)(struct srv_conn *c);
	/* May be NULL. A TLS handshake completed on c. */
	void (*secured)(struct srv_conn *c);
	/* May be NULL. c was woken (srv_conn_wake), and its output is all sent: may append to
	 * c->out (sent at once; counts as progress for the timeouts) and set close_after. */
	void (*wake)(struct srv_conn *c);
	/* May be NULL. Frees c->proto and buffers of its own (the core's are freed after it). */
	void (*close)(struct srv_conn *c);
	size_t in_max;   /* stop reading while this much input is pending */
	size_t out_high; /* call input only while less output than this is pending (1: none) */
};

struct srv_listener {
	int port;              /* 0: any free port (srv_port) */
	int kind;              /* handed to the protocol in c->kind */
	bool client_first;     /* the client speaks first: TCP_DEFER_ACCEPT, first read at once */
	srv_secure_fn *secure; /* NULL: plain; else run on each new connection (srv_tls_attach) */
	void *secure_ctx;
};

struct srv_config {
	const char *addr; /* IPv4 dotted quad */
	const struct srv_listener *listeners;
	int n_listeners;
	int threads;
	int backlog;           /* 0: lib/net.h's default */
	int idle_timeout_s;    /* no input or output pending */
	int request_timeout_s; /* a partial request, unsent output or a handshake */
	int stop_fd;           /* -1, or an eventfd readable once the server must stop */
	const struct srv_proto *proto;
	void *arg; /* c->arg */
};

/* Opens the listeners and starts the workers (cfg, its listeners and protocol are copied). 0, or
 * -1 with err filled ("cannot listen on ADDR:PORT: REASON", or what else failed). */
int srv_start(struct srv **out, const struct srv_config *cfg, char *err, size_t len);
int srv_port(const struct srv *s, int i); /* listener i's bound port */
void srv_stop(struct srv *s);             /* async-signal-safe */
void srv_wait(struct srv *s);   /* returns once srv_stop was called or cfg->stop_fd is readable */
void srv_finish(struct srv *s); /* stops, joins the workers (their connections closed), frees */

/* Wakes c (see Wake-ups above) from any thread. c must stay open during the call: the caller
 * holds a lock that the protocol's close callback takes too before it returns (the core frees c
 * only after that callback). Async-signal-unsafe (a mutex). */
void srv_conn_wake(struct srv_conn *c);

/* Switches c to another transport once its pending output is sent (STARTTLS: queue the "go ahead"
 * reply, then call this; input buffered after the command should be discarded by the protocol). */
void srv_conn_upgrade(struct srv_conn *c, srv_secure_fn *secure, void *ctx);

#endif
