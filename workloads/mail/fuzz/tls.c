/* workloads/mail/fuzz/tls.c: fuzz target for a mail session under TLS: vcons-mail's SMTP or IMAP
 * session on the server core's TLS transport (workloads/common/srv_tls.c, on one end of a
 * socketpair), driven as srv.c drives a connection (reads, the session's input, writes, the
 * STARTTLS switch, edges), against an OpenSSL client whose records pass through memory BIOs, so
 * the target can damage them. The input (driver.h's format): bit 7 of the first byte picks IMAP
 * (else SMTP); the 0xfe M prefix's bits 1, 2, 4 are driver.h's (implicit TLS, --require-tls, no
 * TLS), bit 8 holds the client to TLS 1.2, bit 16 makes the server slow: the client moves as soon
 * as the server has sent something, inside the server's round and inside its handshake (after its
 * flight), as a fast client does to a busy server; M >> 5 (when not 0) flips one byte of the
 * client's records at offset (M >> 5) * 128: the handshake's or the application data's. Edges
 * are as epoll reports them: bytes the client sent make one, unless the server read them all in
 * the round they came. On a plain connection the client switches to TLS when it reads STARTTLS's
 * go-ahead; the chunk that carried the command went out in the clear, pipelined bytes and all.
 * Besides crashes, leaks and overreads it checks:
 *   - "drained" is true: when the transport says a read must wait for an edge (the socket is
 *     empty) the socket holds no byte and OpenSSL none read ahead, after a handshake too (a stall
 *     the e2e tests found: the client's first command read ahead with its Finished);
 *   - what the transport delivers under TLS is what the client wrote under TLS, in order, and
 *     nothing after a damaged record (TLS's integrity: the connection ends);
 *   - what the client reads is what the session wrote, in order, and, when nothing was damaged
 *     and the session did not end the connection, all of it. */
#include "tools/fuzz.h"
#include "lib/fs.h"
#include "workloads/common/srv_tls.h"
#include "workloads/mail/fuzz/driver.h"

#include <errno.h>
#include <openssl/err.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define USERS     2
#define ROUNDS    64 /* server/client exchanges per chunk at most (a handshake takes a few) */
#define CORRUPT_Q 128
enum { M_TLS12 = 8, M_SLOW = 16 };
static const char *dir;
static struct mstore *st;
static SSL_CTX *sctx, *cctx;
static const struct server_cfg cfg = { .addr = "127.0.0.1", .max_size = 2048, .threads = 1 };
static void server_info(const SSL *ssl, int where, int ret);

int fsync(int fd)
{
	(void)fd;
	return 0;
}

static void open_store(void)
{
	char err[256];
	if (mstore_open(&st, dir, USERS, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "mail-tls: %s\n", err);
		exit(1);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[1024];
	(void)argc;
	(void)argv;
	dir = fuzz_scratch_dir("mail-tls");
	signal(SIGPIPE, SIG_IGN); /* the transport writes to a socket the test shut down */
	open_store();
	if (tls_init() || tls_data_cert(dir, "mail-tls", "127.0.0.1", false) ||
	    !(sctx = tls_data_ctx(dir, NULL, NULL, err, sizeof(err))) ||
	    !(cctx = SSL_CTX_new(TLS_client_method()))) {
		fprintf(stderr, "mail-tls: cannot set up TLS\n");
		exit(1);
	}
	SSL_CTX_set_info_callback(sctx, server_info);
	return 0;
}

struct run {
	int fd[2]; /* the server's end, the client's */
	struct srv_conn sc;
	struct conn mc;
	bool tls_up;                   /* the server's transport is TLS */
	bool closed;                   /* the server ended the connection */
	SSL *cli;                      /* the client, NULL while in the clear */
	BIO *cr, *cw;                  /* its records: from the server, to the server */
	size_t cipher_out, corrupt_at; /* record bytes the client sent; the one to flip (0: none) */
	bool damaged;                  /* that byte went out */
	struct buf wrote;              /* what the session produced, as the transport took it */
	struct buf got;                /* what the client read of it */
	struct buf sent_tls;           /* what the client wrote under TLS */
	struct buf recv_tls;           /* what the transport delivered under TLS */
	struct buf pending;            /* client bytes waiting for its handshake */
	bool edge_in, edge_out;        /* the client wrote / read since the server's last round */
	bool unsettled;                /* an exchange ran out of turns */
	bool slow, tls12;              /* the input's M_SLOW and M_TLS12 */
	int yields;                    /* client moves inside the server's rounds, bounded */
	const struct fz_stream *s;     /* the client's bytes */
	size_t fed;                    /* how many it has sent (or queued for TLS) */
	uint32_t rng;                  /* the chunking's */
};
static struct run *current; /* the run the server's TLS info callback belongs to */
static void client_round(struct run *t);

/* The transport says there is nothing to read until an edge: true of the socket, and (once the
 * handshake is done) of OpenSSL, which must hold no record it could read without the socket. The
 * peek may process a buffered record (SSL_read returns its bytes later all the same); the
 * transport's short-read mark is kept as it was. */
static void check_drained(struct run *t)
{
	if (!t->sc.drained)
		return;
	char b;
	fuzz_assert(recv(t->fd[0], &b, 1, MSG_PEEK | MSG_DONTWAIT) < 0 && errno == EAGAIN);
	SSL *ssl = srv_tls_ssl(&t->sc);
	if (!ssl || t->sc.handshaking)
		return;
	bool short_read = t->sc.short_read;
	fuzz_assert(SSL_peek(ssl, &b, 1) <= 0);
	ERR_clear_error();
	t->sc.short_read = short_read;
}

/* A slow server: the client takes its turn now, in the middle of the server's work (its OpenSSL
 * errors, if any, are not the server's). */
static void yield(struct run *t)
{
	if (t->slow && t->yields++ < 4 * ROUNDS) {
		ERR_set_mark();
		client_round(t);
		ERR_pop_to_mark();
	}
}

/* The server's TLS info callback: a slow server pauses once its flight is out (TLS 1.3: the state
 * after its Finished), so the client's Finished and first data come before the handshake reads. */
static void server_info(const SSL *ssl, int where, int ret)
{
	(void)ret;
	if (current && (where & SSL_CB_ACCEPT_LOOP) && SSL_get_state(ssl) == TLS_ST_EARLY_DATA)
		yield(current);
}

static void server_close(struct run *t)
{
	t->closed = true;
	shutdown(t->fd[0], SHUT_RDWR);
}

/* Sends what the session wrote: 1 all out, 0 the socket is full, -1 broken. */
static int server_flush(struct run *t)
{
	struct srv_conn *c = &t->sc;
	struct buf *out = &t->mc.out;
	while (buf_pending(out)) {
		struct iovec iov = { out->p + out->off, buf_pending(out) };
		ssize_t k = c->tr->writev(c, &iov, 1);
		if (k == SRV_AGAIN)
			return 0;
		if (k < 0)
			return -1;
		if (buf_put(&t->wrote, iov.iov_base, (size_t)k))
			abort();
		buf_consume(out, (size_t)k);
	}
	int rc = c->tr->flush ? c->tr->flush(c) : 1;
	c->blocked = rc == 0;
	if (rc > 0)
		yield(t);
	return rc;
}

/* The session's input, as server_net.c calls it: true when it made progress. */
static bool server_input(struct run *t)
{
	struct conn *m = &t->mc;
	if (m->close_after_flush || (!buf_pending(&m->in) && !m->more))
		return false;
	size_t in = buf_pending(&m->in), out = buf_pending(&m->out);
	if (m->kind == CONN_SMTP)
		smtp_input(m);
	else
		imap_input(m);
	return buf_pending(&m->in) != in || buf_pending(&m->out) != out || m->close_after_flush;
}

/* One round of srv.c's conn_work. */
static void server_work(struct run *t)
{
	struct srv_conn *c = &t->sc;
	for (int guard = 0; guard < 4096 && !t->closed; guard++) {
		if (c->handshaking) {
			int rc = c->tr->handshake(c);
			if (rc <= 0) {
				if (rc < 0)
					server_close(t);
				else
					check_drained(t);
				return;
			}
			c->handshaking = false;
			check_drained(t);
		}
		if (buf_pending(&t->mc.out)) {
			int rc = c->blocked ? 0 : server_flush(t);
			if (rc < 0)
				server_close(t);
			if (rc <= 0)
				return;
		}
		if (t->mc.starttls) { /* server_net.c's srv_conn_upgrade, done by srv.c now */
			t->mc.starttls = false;
			if (srv_tls_attach(c, sctx))
				abort();
			t->tls_up = true;
			continue;
		}
		if (t->mc.close_after_flush)
			return server_close(t);
		if (server_input(t))
			continue;
		if (c->drained || c->blocked)
			return check_drained(t);
		if (buf_reserve(&t->mc.in, 16384))
			abort();
		struct buf *in = &t->mc.in;
		ssize_t r = c->tr->read(c, in->p + in->len, in->cap - in->len);
		if (r > 0 && t->tls_up && buf_put(&t->recv_tls, in->p + in->len, (size_t)r))
			abort();
		if (r > 0)
			in->len += (size_t)r;
		else if (r == SRV_AGAIN)
			return check_drained(t);
		else
			return server_close(t);
	}
}

/* A round after the edges the client's moves made, as epoll reports them: an EPOLLIN edge only
 * when bytes came since the last round and some are still in the socket. */
static void server_round(struct run *t)
{
	struct srv_conn *c = &t->sc;
	char b;
	if (t->edge_in && recv(t->fd[0], &b, 1, MSG_PEEK | MSG_DONTWAIT) == 1)
		c->drained = false;
	if (t->edge_out)
		c->blocked = false;
	t->edge_in = t->edge_out = false;
	server_work(t);
}

static const char *go_ahead(enum conn_kind kind)
{
	return kind == CONN_SMTP ? "220 2.0.0 Ready to start TLS\r\n"
	                         : " OK Begin TLS negotiation now\r\n";
}

static void client_start_tls(struct run *t)
{
	t->cli = SSL_new(cctx);
	t->cr = BIO_new(BIO_s_mem());
	t->cw = BIO_new(BIO_s_mem());
	if (!t->cli || !t->cr || !t->cw)
		abort();
	SSL_set_bio(t->cli, t->cr, t->cw);
	SSL_set_connect_state(t->cli);
	if (t->tls12)
		SSL_set_max_proto_version(t->cli, TLS1_2_VERSION);
}

/* Moves the client's records to the socket, flipping the chosen byte as it passes. */
static void client_push(struct run *t)
{
	char b[16384];
	int n;
	while (t->cli && (n = BIO_read(t->cw, b, sizeof(b))) > 0) {
		size_t at = t->corrupt_at - 1;
		if (t->corrupt_at && at >= t->cipher_out && at < t->cipher_out + (size_t)n) {
			b[at - t->cipher_out] ^= 0x5a;
			t->damaged = true;
		}
		t->cipher_out += (size_t)n;
		if (send(t->fd[1], b, (size_t)n, MSG_NOSIGNAL) != n)
			return; /* the server is gone */
		t->edge_in = true;
	}
}

static void client_send(struct run *t, const uint8_t *p, size_t n);

/* The client sends the next chunk of its stream, if any is left: false when none is. */
static bool client_next(struct run *t)
{
	if (t->fed >= t->s->len || t->closed)
		return false;
	size_t n = fz_chunk_len(&t->rng, t->s->chunking, t->fed, t->s->len - t->fed);
	client_send(t, t->s->p + t->fed, n);
	t->fed += n;
	return true;
}

/* The client's turn: reads what came (in the clear until STARTTLS's go-ahead), goes on with its
 * handshake, writes what waits for it. */
static void client_round(struct run *t)
{
	char b[16384];
	ssize_t n;
	while ((n = recv(t->fd[1], b, sizeof(b), MSG_DONTWAIT)) > 0) {
		t->edge_out = true;
		if (t->cli) {
			BIO_write(t->cr, b, (int)n);
			continue;
		}
		if (buf_put(&t->got, b, (size_t)n))
			abort();
		const char *g = go_ahead(t->mc.kind);
		size_t gl = strlen(g), have = buf_pending(&t->got);
		if (have >= gl && !memcmp(t->got.p + t->got.off + have - gl, g, gl))
			client_start_tls(t); /* the server sends nothing more in the clear */
		if (t->cli && t->slow) /* a fast client: its next command goes with its Finished */
			client_next(t);
	}
	if (!t->cli)
		return;
	if (!SSL_is_init_finished(t->cli))
		SSL_do_handshake(t->cli);
	int k;
	while ((k = SSL_read(t->cli, b, sizeof(b))) > 0)
		if (buf_put(&t->got, b, (size_t)k))
			abort();
	if (SSL_is_init_finished(t->cli) && buf_pending(&t->pending)) {
		k = SSL_write(t->cli, t->pending.p + t->pending.off, (int)buf_pending(&t->pending));
		if (k > 0) {
			if (buf_put(&t->sent_tls, t->pending.p + t->pending.off, (size_t)k))
				abort();
			buf_consume(&t->pending, (size_t)k);
		}
	}
	client_push(t);
}

/* The client sends bytes of its stream: in the clear, or through TLS once it switched. */
static void client_send(struct run *t, const uint8_t *p, size_t n)
{
	if (t->cli) {
		if (buf_put(&t->pending, p, n))
			abort();
		return;
	}
	if (send(t->fd[1], p, n, MSG_NOSIGNAL) == (ssize_t)n)
		t->edge_in = true;
}

/* Server and client take turns until neither moves (or the server is gone); t->unsettled when
 * they were still moving after ROUNDS turns. */
static void exchange(struct run *t)
{
	for (int r = 0; r < ROUNDS && !t->closed; r++) {
		size_t got = buf_pending(&t->got), out = t->cipher_out,
		       sent = buf_pending(&t->sent_tls);
		server_round(t);
		client_round(t);
		ERR_clear_error();
		if (!t->edge_in && !t->edge_out && got == buf_pending(&t->got) &&
		    out == t->cipher_out && sent == buf_pending(&t->sent_tls))
			return;
	}
	t->unsettled = !t->closed;
}

static bool prefix(const struct buf *a, const struct buf *b)
{
	size_t n = buf_pending(a);
	return n <= buf_pending(b) && (n == 0 || !memcmp(a->p + a->off, b->p + b->off, n));
}

static void check_run(struct run *t)
{
	fuzz_assert(prefix(&t->recv_tls, &t->sent_tls)); /* nothing forged or reordered */
	fuzz_assert(prefix(&t->got, &t->wrote));
	if (!t->damaged && !t->closed && !t->unsettled && !buf_pending(&t->mc.out))
		fuzz_assert(buf_pending(&t->got) == buf_pending(&t->wrote));
}

static void run_free(struct run *t)
{
	conn_end(&t->mc);
	if (t->sc.tr->close)
		t->sc.tr->close(&t->sc);
	close(t->fd[0]);
	close(t->fd[1]);
	SSL_free(t->cli); /* frees its BIOs */
	buf_free(&t->wrote);
	buf_free(&t->got);
	buf_free(&t->sent_tls);
	buf_free(&t->recv_tls);
	buf_free(&t->pending);
}

static void on_file(void *ctx, const char *folder, const char *name)
{
	(void)ctx;
	char p[800];
	snprintf(p, sizeof(p), "%s/%s", folder, name);
	fuzz_assert(unlink(p) == 0);
}

/* Empties what a session left: SMTP's deliveries; a store whose folders changed is made anew. */
static void reset_store(const struct fz_stream *s, enum conn_kind kind)
{
	if (kind == CONN_IMAP && fz_changes_folders(s->p, s->len)) {
		mstore_close(st);
		fs_rmtree(dir, true); /* the key and certificate too: sctx holds them */
		open_store();
		return;
	}
	for (unsigned u = 1; u <= USERS; u++) {
		fuzz_assert(fz_maildir_each(dir, u, "tmp", NULL, NULL) == 0);
		fz_maildir_each(dir, u, "new", on_file, NULL);
		fuzz_assert(mstore_sync(st, (int)u - 1, MS_INBOX) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_stream s;
	fz_stream_init(&s, data, size, 16, 16u * 1024u);
	enum conn_kind kind = s.chunking & 0x80 ? CONN_IMAP : CONN_SMTP;
	const struct server_cfg sc = fz_cfg(cfg, &s);
	struct run t = { .mc = { .st = st, .cfg = &sc, .kind = kind, .fd = -1 },
		         .corrupt_at = (size_t)(s.tls >> 5) * CORRUPT_Q,
		         .slow = s.tls & M_SLOW,
		         .tls12 = s.tls & M_TLS12,
		         .s = &s,
		         .rng = 0x9e3779b9u ^ s.chunking };
	current = &t;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, t.fd))
		abort();
	t.mc.tls = sc.tls && (s.tls & FZ_TLS_IMPLICIT);
	t.mc.submission = t.mc.tls && kind == CONN_SMTP;
	if ((kind == CONN_SMTP ? smtp_open(&t.mc) : imap_open(&t.mc)) != 0)
		abort();
	t.sc = (struct srv_conn){
		.in = &t.mc.in, .out = &t.mc.out, .fd = t.fd[0], .tr = &srv_plain, .drained = true
	};
	if (t.mc.tls) {
		if (srv_tls_attach(&t.sc, sctx))
			abort();
		t.tls_up = true;
		t.sc.drained = false; /* client_first: read at once */
		client_start_tls(&t);
	}
	exchange(&t);
	while (client_next(&t))
		exchange(&t);
	check_run(&t);
	run_free(&t);
	current = NULL;
	reset_store(&s, kind);
	fz_stream_free(&s);
	return 0;
}
