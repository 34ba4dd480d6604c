/* hv/fdstate_sock.c: AF_INET sockets in the fd table's snapshot (fdstate.h). Unbound, bound,
 * listening and connected UDP sockets are recreated from their addresses and options; a connected
 * TCP socket is moved with TCP_REPAIR (CAP_NET_ADMIN), CRIU's method: in repair mode its sequence
 * numbers, both queues (peeked), options, window and timestamp are read without a packet leaving,
 * and a new socket is given the same, "connected" without a SYN. INET record (after the kind):
 *   u8 type (SOCK_STREAM, SOCK_DGRAM), u32 F_GETFL flags,
 *   u32 local address (network order), u32 local port, u8 state (enum below),
 *   u32 peer address, u32 peer port, u32 listen backlog, u8 reading shut down,
 *   u32 n, then n of u32 level, u32 name, bytes value (the options in `opts`, as getsockopt gave),
 *   ESTABLISHED only: u32 send sequence (write_seq), u32 receive sequence (rcv_nxt),
 *   bytes send queue, u32 unsent (its tail no packet carried yet), bytes receive queue,
 *   u32 mss, u32 tcpi_options, u32 snd_wscale, u32 rcv_wscale, u32 timestamp,
 *   u32 snd_wl1, snd_wnd, max_window, rcv_wnd, rcv_wup (TCP_REPAIR_WINDOW). */
#include "hv/fdstate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define QUEUE_MAX (256U << 20) /* a TCP queue a record may carry */

enum { S_UNBOUND, S_BOUND, S_LISTEN, S_CONNECTED, S_ESTABLISHED };

/* Options saved and set again; `late`: set after bind/connect/repair (TCP's own). Nothing else is
 * taken from a record. */
static const struct {
	int level, name, late;
} opts[] = {
	{ SOL_SOCKET, SO_REUSEPORT, 0 },
	{ SOL_SOCKET, SO_KEEPALIVE, 0 },
	{ SOL_SOCKET, SO_BROADCAST, 0 },
	{ SOL_SOCKET, SO_OOBINLINE, 0 },
	{ SOL_SOCKET, SO_RCVLOWAT, 0 },
	{ SOL_SOCKET, SO_LINGER, 0 },
	{ SOL_SOCKET, SO_RCVTIMEO, 0 },
	{ SOL_SOCKET, SO_SNDTIMEO, 0 },
	{ SOL_SOCKET, SO_RCVBUF, 0 },
	{ SOL_SOCKET, SO_SNDBUF, 0 },
	{ IPPROTO_IP, IP_TOS, 0 },
	{ IPPROTO_IP, IP_TTL, 0 },
	{ IPPROTO_IP, IP_RECVERR, 0 },
	{ SOL_SOCKET, SO_REUSEADDR, 1 },
	{ IPPROTO_TCP, TCP_NODELAY, 1 },
	{ IPPROTO_TCP, TCP_CORK, 1 },
	{ IPPROTO_TCP, TCP_KEEPIDLE, 1 },
	{ IPPROTO_TCP, TCP_KEEPINTVL, 1 },
	{ IPPROTO_TCP, TCP_KEEPCNT, 1 },
	{ IPPROTO_TCP, TCP_USER_TIMEOUT, 1 },
	{ IPPROTO_TCP, TCP_DEFER_ACCEPT, 1 },
};
#define NOPTS    (sizeof(opts) / sizeof(*opts))
#define OPT_SIZE 32 /* larger than any option above */

static const char *const tcp_states[] = { "?",          "ESTABLISHED", "SYN_SENT",  "SYN_RECV",
	                                  "FIN_WAIT1",  "FIN_WAIT2",   "TIME_WAIT", "CLOSE",
	                                  "CLOSE_WAIT", "LAST_ACK",    "LISTEN",    "CLOSING" };

static int say(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int sopt(int s, int level, int name, int v)
{
	return setsockopt(s, level, name, &v, sizeof(v));
}

static int gopt(int s, int level, int name, int *v)
{
	socklen_t len = sizeof(*v);
	return getsockopt(s, level, name, v, &len);
}

/* ---------------------------------------------------------------- TCP repair */

struct tcp_repair {
	uint32_t snd_seq, rcv_seq, unsent, mss, options, snd_wscale, rcv_wscale, timestamp;
	struct tcp_repair_window win;
	uint8_t *sndq, *rcvq; /* save: malloc'd; load: point into the record */
	size_t sndq_len, rcvq_len;
};

static int peek_queue(int s, int queue, uint32_t *seq, uint8_t **buf, size_t len)
{
	socklen_t sl = sizeof(*seq);
	if (sopt(s, IPPROTO_TCP, TCP_REPAIR_QUEUE, queue) < 0 ||
	    getsockopt(s, IPPROTO_TCP, TCP_QUEUE_SEQ, seq, &sl) < 0)
		return -1;
	*buf = malloc(len ? len : 1);
	if (!*buf)
		return -1;
	if (len && recv(s, *buf, len, MSG_PEEK | MSG_DONTWAIT) != (ssize_t)len) {
		errno = EAGAIN; /* the queue changed under us: a retry will do */
		return -1;
	}
	return 0;
}

/* Reads the connection's state; the socket is in repair mode. */
static int dump_tcp(int s, struct tcp_repair *t)
{
	int outq, unsent, inq;
	struct tcp_info ti;
	socklen_t l1 = sizeof(ti), l2 = sizeof(t->win), l3 = sizeof(t->timestamp);
	int mss;
	if (getsockopt(s, IPPROTO_TCP, TCP_INFO, &ti, &l1) < 0)
		return -1;
	if (ti.tcpi_state != TCP_ESTABLISHED && ti.tcpi_state != TCP_CLOSE_WAIT) {
		errno = EAGAIN; /* it moved on since we looked */
		return -1;
	}
	if (ioctl(s, SIOCOUTQ, &outq) < 0 || ioctl(s, SIOCOUTQNSD, &unsent) < 0 ||
	    ioctl(s, SIOCINQ, &inq) < 0 || gopt(s, IPPROTO_TCP, TCP_MAXSEG, &mss) < 0 ||
	    getsockopt(s, IPPROTO_TCP, TCP_REPAIR_WINDOW, &t->win, &l2) < 0 ||
	    getsockopt(s, IPPROTO_TCP, TCP_TIMESTAMP, &t->timestamp, &l3) < 0)
		return -1;
	t->unsent = (uint32_t)unsent;
	t->mss = (uint32_t)mss;
	t->options = ti.tcpi_options;
	t->snd_wscale = ti.tcpi_snd_wscale;
	t->rcv_wscale = ti.tcpi_rcv_wscale;
	t->sndq_len = (size_t)outq;
	t->rcvq_len = (size_t)inq;
	int rc = peek_queue(s, TCP_RECV_QUEUE, &t->rcv_seq, &t->rcvq, t->rcvq_len);
	if (rc == 0)
		rc = peek_queue(s, TCP_SEND_QUEUE, &t->snd_seq, &t->sndq, t->sndq_len);
	sopt(s, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_NO_QUEUE);
	return rc;
}

/* Leaves repair mode without the window probe leaving repair sends (the peer sees nothing). */
static void repair_off_quietly(int s)
{
	if (sopt(s, IPPROTO_TCP, TCP_REPAIR, TCP_REPAIR_OFF_NO_WP) < 0)
		sopt(s, IPPROTO_TCP, TCP_REPAIR, TCP_REPAIR_OFF);
}

static int save_tcp(int s, int gfd, struct wbuf *w, char *err, size_t errlen)
{
	struct tcp_repair t = { 0 };
	int reuse = 0; /* leaving repair mode clears it: the guest would see it change, and a
	                * listener could not be bound again beside the connection's TIME_WAIT */
	(void)gopt(s, SOL_SOCKET, SO_REUSEADDR, &reuse);
	if (sopt(s, IPPROTO_TCP, TCP_REPAIR, TCP_REPAIR_ON) < 0)
		return say(err, errlen, "guest fd %d: saving a TCP connection %s", gfd,
		           errno == EPERM ? "needs CAP_NET_ADMIN (TCP_REPAIR)" : strerror(errno));
	int rc = dump_tcp(s, &t);
	int e = errno;
	repair_off_quietly(s);
	(void)sopt(s, SOL_SOCKET, SO_REUSEADDR, reuse);
	if (rc < 0) {
		free(t.sndq);
		free(t.rcvq);
		return say(err, errlen, "guest fd %d: reading the TCP connection's state: %s", gfd,
		           e == EAGAIN ? "it changed while being read (try again)" : strerror(e));
	}
	wbuf__u32(w, t.snd_seq);
	wbuf__u32(w, t.rcv_seq);
	wbuf__bytes(w, t.sndq, t.sndq_len);
	wbuf__u32(w, t.unsent);
	wbuf__bytes(w, t.rcvq, t.rcvq_len);
	const uint32_t v[] = { t.mss,         t.options,     t.snd_wscale,  t.rcv_wscale,
		               t.timestamp,   t.win.snd_wl1, t.win.snd_wnd, t.win.max_window,
		               t.win.rcv_wnd, t.win.rcv_wup };
	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++)
		wbuf__u32(w, v[i]);
	free(t.sndq);
	free(t.rcvq);
	return 0;
}

static int read_tcp(struct rbuf *r, struct tcp_repair *t)
{
	t->snd_seq = rbuf__u32(r);
	t->rcv_seq = rbuf__u32(r);
	t->sndq = (uint8_t *)rbuf__bytes(r, &t->sndq_len);
	t->unsent = rbuf__u32(r);
	t->rcvq = (uint8_t *)rbuf__bytes(r, &t->rcvq_len);
	uint32_t *v[] = { &t->mss,         &t->options,     &t->snd_wscale,  &t->rcv_wscale,
		          &t->timestamp,   &t->win.snd_wl1, &t->win.snd_wnd, &t->win.max_window,
		          &t->win.rcv_wnd, &t->win.rcv_wup };
	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++)
		*v[i] = rbuf__u32(r);
	if (r->bad || t->sndq_len > QUEUE_MAX || t->rcvq_len > QUEUE_MAX || t->unsent > t->sndq_len)
		rbuf__fail(r);
	return r->bad ? -1 : 0;
}

/* Writes a queue in bounded chunks (a chunk the socket cannot take at once is halved). */
static int write_queue(int s, const uint8_t *p, size_t len)
{
	size_t chunk = len;
	for (int tries = 0; len && tries < 64; tries++) {
		ssize_t n = send(s, p, chunk < len ? chunk : len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			tries = 0;
		} else if (n < 0 && (errno == ENOMEM || errno == EAGAIN) && chunk > 1) {
			chunk /= 2;
		} else {
			return -1;
		}
	}
	if (len)
		errno = ENOBUFS;
	return len ? -1 : 0;
}

static int set_seq(int s, int queue, uint32_t seq)
{
	return sopt(s, IPPROTO_TCP, TCP_REPAIR_QUEUE, queue) < 0
	           ? -1
	           : sopt(s, IPPROTO_TCP, TCP_QUEUE_SEQ, (int)seq);
}

/* Before bind: repair mode and the sequence numbers the queues will end at. */
static int restore_tcp_seqs(int s, const struct tcp_repair *t)
{
	if (sopt(s, IPPROTO_TCP, TCP_REPAIR, TCP_REPAIR_ON) < 0)
		return -1;
	if (set_seq(s, TCP_RECV_QUEUE, t->rcv_seq - (uint32_t)t->rcvq_len) < 0 ||
	    set_seq(s, TCP_SEND_QUEUE, t->snd_seq - (uint32_t)t->sndq_len) < 0)
		return -1;
	return 0;
}

/* After connect (no SYN in repair mode): options, timestamp, both queues, the window; then out of
 * repair mode, and the part of the send queue no packet carried yet sent as any data is. A peer
 * that reset the connection while the VM was away (its packets met no socket) answers that with
 * a reset: the socket stays, and the guest's next call on it says ECONNRESET, as it would have
 * on a real network that lost the connection. */
static int restore_tcp(int s, const struct tcp_repair *t)
{
	struct tcp_repair_opt o[4];
	int n = 0;
	if (t->options & TCPI_OPT_SACK)
		o[n++] = (struct tcp_repair_opt){ TCPOPT_SACK_PERMITTED, 0 };
	if (t->options & TCPI_OPT_WSCALE)
		o[n++] =
		    (struct tcp_repair_opt){ TCPOPT_WINDOW, t->snd_wscale + (t->rcv_wscale << 16) };
	if (t->options & TCPI_OPT_TIMESTAMPS)
		o[n++] = (struct tcp_repair_opt){ TCPOPT_TIMESTAMP, 0 };
	o[n++] = (struct tcp_repair_opt){ TCPOPT_MAXSEG, t->mss };
	size_t sent = t->sndq_len - t->unsent;
	if (setsockopt(s, IPPROTO_TCP, TCP_REPAIR_OPTIONS, o, (socklen_t)(n * sizeof(*o))) < 0 ||
	    ((t->options & TCPI_OPT_TIMESTAMPS) &&
	     setsockopt(s, IPPROTO_TCP, TCP_TIMESTAMP, &t->timestamp, sizeof(t->timestamp)) < 0) ||
	    sopt(s, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE) < 0 ||
	    write_queue(s, t->rcvq, t->rcvq_len) < 0 ||
	    sopt(s, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE) < 0 ||
	    write_queue(s, t->sndq, sent) < 0 ||
	    setsockopt(s, IPPROTO_TCP, TCP_REPAIR_WINDOW, &t->win, sizeof(t->win)) < 0 ||
	    sopt(s, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_NO_QUEUE) < 0 ||
	    sopt(s, IPPROTO_TCP, TCP_REPAIR, TCP_REPAIR_OFF) < 0)
		return -1;
	if (write_queue(s, t->sndq + sent, t->unsent) < 0 && errno != ECONNRESET && errno != EPIPE)
		return -1;
	return 0;
}

int fdstate__tcp_quiet(int host)
{
	int type;
	if (gopt(host, SOL_SOCKET, SO_TYPE, &type) < 0)
		return -errno;
	if (type != SOCK_STREAM)
		return 0;
	return sopt(host, IPPROTO_TCP, TCP_REPAIR, TCP_REPAIR_ON) < 0 ? -errno : 0;
}

/* ---------------------------------------------------------------- saving */

int fdstate__drain_listener(int s)
{
	/* the guest's listener may block: non-blocking while the queue is drained (the VM is
	 * paused: the guest cannot see its flags change) */
	int fl = fcntl(s, F_GETFL), c, n = 0;
	if (fl >= 0 && !(fl & O_NONBLOCK))
		(void)fcntl(s, F_SETFL, fl | O_NONBLOCK);
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	while ((c = accept4(s, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC)) >= 0) {
		plen = sizeof(peer);
		struct linger l = { .l_onoff = 1, .l_linger = 0 };
		(void)setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		close(c);
		n++;
	}
	if (fl >= 0 && !(fl & O_NONBLOCK))
		(void)fcntl(s, F_SETFL, fl);
	return n;
}

/* Where the socket stands: one of the S_* states, or -1 with err. A listener's waiting
 * connections are reset when `reset` allows (a new one can come while its queue is drained: a few
 * rounds), else refused. */
static int sock_state(int s, int type, int gfd, const struct sockaddr_in *me, int connected,
                      uint32_t *backlog, int *reset, char *err, size_t errlen)
{
	if (type == SOCK_DGRAM)
		return connected ? S_CONNECTED : me->sin_port ? S_BOUND : S_UNBOUND;
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	for (int round = 0;; round++) {
		if (getsockopt(s, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
			return say(err, errlen, "guest fd %d: TCP_INFO: %s", gfd, strerror(errno));
		if (!reset || ti.tcpi_state != TCP_LISTEN || !ti.tcpi_unacked || round == 8)
			break;
		*reset += fdstate__drain_listener(s);
	}
	switch (ti.tcpi_state) {
	case TCP_CLOSE: return me->sin_port ? S_BOUND : S_UNBOUND;
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
		/* CLOSE_WAIT: the peer's FIN came (a client that sent its last request and closed):
		 * saved as a connection whose read side ended (rdshut, from POLLRDHUP). Its receive
		 * sequence counts the FIN and its queue length does not, so the restored socket
		 * acknowledges what this one did; reads give the bytes left, then the end, and the
		 * guest's answer and close go out as they would have. */
		return S_ESTABLISHED;
	case TCP_LISTEN:
		/* for a listener, TCP_INFO gives the backlog and the accept queue's length */
		if (ti.tcpi_unacked)
			return say(
			    err, errlen,
			    "guest fd %d: a listening socket with %u connections waiting to be "
			    "accepted cannot be saved yet",
			    gfd, ti.tcpi_unacked);
		*backlog = ti.tcpi_sacked;
		return S_LISTEN;
	default:
		return say(err, errlen, "guest fd %d: a TCP socket in state %s cannot be saved",
		           gfd,
		           ti.tcpi_state < sizeof(tcp_states) / sizeof(*tcp_states)
		               ? tcp_states[ti.tcpi_state]
		               : "?");
	}
}

static void save_opts(int s, int type, struct wbuf *w)
{
	size_t at = w->len;
	uint32_t n = 0;
	wbuf__u32(w, 0);
	for (size_t i = 0; i < NOPTS; i++) {
		uint8_t v[OPT_SIZE];
		socklen_t len = sizeof(v);
		if ((opts[i].level == IPPROTO_TCP && type != SOCK_STREAM) ||
		    getsockopt(s, opts[i].level, opts[i].name, v, &len) < 0)
			continue;
		wbuf__u32(w, (uint32_t)opts[i].level);
		wbuf__u32(w, (uint32_t)opts[i].name);
		wbuf__bytes(w, v, len);
		n++;
	}
	wbuf__patch_u32(w, at, n);
}

static const char *family_name(int domain)
{
	return domain == AF_UNIX ? "a unix socket" : domain == AF_INET6 ? "an IPv6 socket" : NULL;
}

int fdstate__save_inet(int s, int gfd, struct wbuf *w, int *reset, char *err, size_t errlen)
{
	int domain, type;
	if (gopt(s, SOL_SOCKET, SO_DOMAIN, &domain) < 0 || gopt(s, SOL_SOCKET, SO_TYPE, &type) < 0)
		return say(err, errlen, "guest fd %d: %s", gfd, strerror(errno));
	if (domain != AF_INET)
		return family_name(domain)
		           ? say(err, errlen, "guest fd %d: %s cannot be saved yet", gfd,
		                 family_name(domain))
		           : say(err, errlen,
		                 "guest fd %d: a socket of family %d cannot be saved yet", gfd,
		                 domain);
	if (type != SOCK_STREAM && type != SOCK_DGRAM)
		return say(err, errlen, "guest fd %d: a socket of type %d cannot be saved yet", gfd,
		           type);
	struct sockaddr_in me = { 0 }, peer = { 0 };
	socklen_t ml = sizeof(me), pl = sizeof(peer);
	if (getsockname(s, (struct sockaddr *)&me, &ml) < 0)
		return say(err, errlen, "guest fd %d: %s", gfd, strerror(errno));
	int connected = getpeername(s, (struct sockaddr *)&peer, &pl) == 0;
	uint32_t backlog = 0;
	int state = sock_state(s, type, gfd, &me, connected, &backlog, reset, err, errlen);
	if (state < 0)
		return -1;
	struct pollfd p = { .fd = s, .events = POLLRDHUP };
	int rdshut = (state == S_ESTABLISHED || state == S_CONNECTED) && poll(&p, 1, 0) == 1 &&
	             (p.revents & POLLRDHUP);
	wbuf__u8(w, (uint8_t)type);
	wbuf__u32(w, (uint32_t)fcntl(s, F_GETFL));
	wbuf__u32(w, me.sin_addr.s_addr);
	wbuf__u32(w, ntohs(me.sin_port));
	wbuf__u8(w, (uint8_t)state);
	wbuf__u32(w, peer.sin_addr.s_addr);
	wbuf__u32(w, ntohs(peer.sin_port));
	wbuf__u32(w, backlog);
	wbuf__u8(w, (uint8_t)rdshut);
	save_opts(s, type, w);
	return state == S_ESTABLISHED ? save_tcp(s, gfd, w, err, errlen) : 0;
}

/* ---------------------------------------------------------------- loading */

struct inet_rec {
	int type, state, rdshut;
	uint32_t flags, backlog;
	struct sockaddr_in me, peer;
	uint32_t nopts;
	struct {
		int level, name, late;
		const void *v;
		size_t len;
	} o[NOPTS];
	struct tcp_repair tcp;
};

static int read_opts(struct rbuf *r, struct inet_rec *s)
{
	s->nopts = rbuf__u32(r);
	if (s->nopts > NOPTS)
		return -1;
	for (uint32_t i = 0; i < s->nopts && !r->bad; i++) {
		int level = (int)rbuf__u32(r), name = (int)rbuf__u32(r);
		s->o[i].v = rbuf__bytes(r, &s->o[i].len);
		size_t k = 0;
		while (k < NOPTS && (opts[k].level != level || opts[k].name != name))
			k++;
		if (k == NOPTS || s->o[i].len > OPT_SIZE)
			return -1; /* only the options hv saves */
		s->o[i].level = level;
		s->o[i].name = name;
		s->o[i].late = opts[k].late;
	}
	return r->bad ? -1 : 0;
}

static int loopback(const struct sockaddr_in *a)
{
	return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
}

static int read_inet(struct rbuf *r, struct inet_rec *s)
{
	s->type = rbuf__u8(r);
	s->flags = rbuf__u32(r);
	s->me = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = rbuf__u32(r) };
	uint32_t port = rbuf__u32(r);
	s->state = rbuf__u8(r);
	s->peer = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = rbuf__u32(r) };
	uint32_t pport = rbuf__u32(r);
	s->backlog = rbuf__u32(r);
	s->rdshut = rbuf__u8(r);
	if (r->bad || port > 65535 || pport > 65535 || s->state > S_ESTABLISHED || s->rdshut > 1 ||
	    (s->type != SOCK_STREAM && s->type != SOCK_DGRAM) ||
	    (s->type == SOCK_STREAM && s->state == S_CONNECTED) ||
	    (s->type == SOCK_DGRAM && (s->state == S_LISTEN || s->state == S_ESTABLISHED)) ||
	    read_opts(r, s) < 0)
		return -1;
	s->me.sin_port = htons((uint16_t)port);
	s->peer.sin_port = htons((uint16_t)pport);
	int connects = s->state == S_CONNECTED || s->state == S_ESTABLISHED;
	/* the VM boundary holds for a record too: loopback only (sys_net.c) */
	if ((connects && !loopback(&s->peer)) ||
	    (s->me.sin_addr.s_addr != INADDR_ANY && !loopback(&s->me)))
		return -1;
	return s->state == S_ESTABLISHED ? read_tcp(r, &s->tcp) : 0;
}

/* SO_RCVBUF/SO_SNDBUF as they were: a connection's always (its queues must fit), another
 * socket's where it differs from a new socket's. getsockopt reports twice what was set. */
static int set_buffer(int s, const struct inet_rec *rec, int name, int force, const void *v)
{
	int want, now;
	memcpy(&want, v, sizeof(want));
	if (rec->state != S_ESTABLISHED && gopt(s, SOL_SOCKET, name, &now) == 0 && now == want)
		return 0;
	if (sopt(s, SOL_SOCKET, force, want / 2) == 0)
		return 0;
	return sopt(s, SOL_SOCKET, name, want / 2);
}

static int apply_opts(int s, const struct inet_rec *rec, int late)
{
	for (uint32_t i = 0; i < rec->nopts; i++) {
		if (rec->o[i].late != late)
			continue;
		int rc;
		if (rec->o[i].name == SO_RCVBUF && rec->o[i].level == SOL_SOCKET)
			rc = rec->o[i].len == sizeof(int)
			         ? set_buffer(s, rec, SO_RCVBUF, SO_RCVBUFFORCE, rec->o[i].v)
			         : -1;
		else if (rec->o[i].name == SO_SNDBUF && rec->o[i].level == SOL_SOCKET)
			rc = rec->o[i].len == sizeof(int)
			         ? set_buffer(s, rec, SO_SNDBUF, SO_SNDBUFFORCE, rec->o[i].v)
			         : -1;
		else
			rc = setsockopt(s, rec->o[i].level, rec->o[i].name, rec->o[i].v,
			                (socklen_t)rec->o[i].len);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static const char *addr_str(const struct sockaddr_in *a, char *buf, size_t n)
{
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
	snprintf(buf, n, "%s:%u", ip, ntohs(a->sin_port));
	return buf;
}

/* Creates the socket and brings it to its state; -1 with err. */
static int rebuild(int s, const struct inet_rec *rec, char *err, size_t errlen)
{
	char a[32];
	if (apply_opts(s, rec, 0) < 0)
		return say(err, errlen, "snapshot: a socket's options: %s", strerror(errno));
	if (rec->state != S_UNBOUND && sopt(s, SOL_SOCKET, SO_REUSEADDR, 1) < 0)
		return say(err, errlen, "snapshot: SO_REUSEADDR: %s", strerror(errno));
	if (rec->state == S_ESTABLISHED && restore_tcp_seqs(s, &rec->tcp) < 0)
		return say(err, errlen, "snapshot: restoring a TCP connection %s",
		           errno == EPERM ? "needs CAP_NET_ADMIN (TCP_REPAIR)" : strerror(errno));
	/* A TCP socket bound and closed is most often an accepted connection its peer ended, still
	 * on its listener's port, which a plain bind next to that listener cannot take: repair mode
	 * lets it share the port, as the first one did (left quietly before the options below). */
	int shared = rec->type == SOCK_STREAM && rec->state == S_BOUND &&
	             sopt(s, IPPROTO_TCP, TCP_REPAIR, TCP_REPAIR_ON) == 0;
	if (rec->state != S_UNBOUND &&
	    bind(s, (const struct sockaddr *)&rec->me, sizeof(rec->me)) < 0)
		return say(err, errlen, "snapshot: binding %s: %s",
		           addr_str(&rec->me, a, sizeof(a)),
		           errno == EADDRINUSE ? "the port is in use" : strerror(errno));
	if (shared)
		repair_off_quietly(s);
	if (rec->state == S_LISTEN && listen(s, (int)rec->backlog) < 0)
		return say(err, errlen, "snapshot: listening on %s: %s",
		           addr_str(&rec->me, a, sizeof(a)), strerror(errno));
	if ((rec->state == S_CONNECTED || rec->state == S_ESTABLISHED) &&
	    connect(s, (const struct sockaddr *)&rec->peer, sizeof(rec->peer)) < 0)
		return say(err, errlen, "snapshot: reconnecting to %s: %s",
		           addr_str(&rec->peer, a, sizeof(a)), strerror(errno));
	if (rec->state == S_ESTABLISHED && restore_tcp(s, &rec->tcp) < 0)
		return say(err, errlen, "snapshot: restoring the TCP connection to %s: %s",
		           addr_str(&rec->peer, a, sizeof(a)), strerror(errno));
	if (apply_opts(s, rec, 1) < 0) /* SO_REUSEADDR as it was among them */
		return say(err, errlen, "snapshot: a socket's options: %s", strerror(errno));
	/* (a connection reset on the way has no read side left to shut: ENOTCONN) */
	if ((rec->rdshut && shutdown(s, SHUT_RD) < 0 && errno != ENOTCONN) ||
	    fcntl(s, F_SETFL, (fcntl(s, F_GETFL) & ~O_NONBLOCK) | (rec->flags & O_NONBLOCK)) < 0)
		return say(err, errlen, "snapshot: a socket: %s", strerror(errno));
	return 0;
}

int fdstate__load_inet(struct rbuf *r, char *err, size_t errlen)
{
	struct inet_rec rec;
	memset(&rec, 0, sizeof(rec));
	if (read_inet(r, &rec) < 0) {
		rbuf__fail(r);
		return say(err, errlen, "snapshot: the fd table record is malformed (socket)");
	}
	int s = socket(AF_INET, rec.type | SOCK_CLOEXEC, 0);
	if (s < 0)
		return say(err, errlen, "snapshot: socket: %s", strerror(errno));
	if (rebuild(s, &rec, err, errlen) < 0) {
		close(s);
		return -1;
	}
	return s;
}
