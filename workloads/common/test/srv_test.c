/* workloads/common/test/srv_test.c: the server core (srv.h) with a line-echo protocol over
 * loopback: pipelined lines answered in order, a line in two pieces, a stop with a connection open,
 * the idle timeout's goodbye then close, a connection's own longer idle timeout, STARTTLS
 * (srv_conn_upgrade to srv_tls_attach: the client's TLS handshake after the plain "go" reply, then
 * lines over TLS, also with data read ahead in the handshake), wake-ups (srv_conn_wake) from a
 * thread outside the server and from a worker, coalesced, and racing connections that close; a
 * data directory's key and certificate made, kept, and made anew when they do not match. */
#include "tools/unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "workloads/common/srv.h"
#include "workloads/common/srv_tls.h"

#define ADDR "127.0.1.16"

static SSL_CTX *server_ctx;

/* The open connections, for the wake tests: whoever calls srv_conn_wake holds reg_lock, which
 * echo_close takes too, so a connection is never woken after its close (srv.h's contract). */
#define REG_MAX 64
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct srv_conn *reg[REG_MAX];

/* Wakes every registered connection but self, times times each; returns how many. */
static int wake_all_but(const struct srv_conn *self, int times)
{
	int n = 0;
	pthread_mutex_lock(&reg_lock);
	for (int i = 0; i < REG_MAX; i++)
		if (reg[i] && reg[i] != self) {
			for (int k = 0; k < times; k++)
				srv_conn_wake(reg[i]);
			n++;
		}
	pthread_mutex_unlock(&reg_lock);
	return n;
}

/* Echoes each complete line; "starttls" answers "go" and switches to TLS after it; "wake" wakes
 * every other connection and answers how many; "long" gives this connection a 3 s idle timeout;
 * "sleep" keeps the worker busy for 300 ms. */
static int echo_input(struct srv_conn *c)
{
	char *p = c->in->p + c->in->off, *nl;
	while (!c->upgrade && (nl = memchr(p, '\n', buf_pending(c->in)))) {
		size_t n = (size_t)(nl - p) + 1;
		if (n == 9 && memcmp(p, "starttls\n", 9) == 0) {
			buf_put(c->out, "go\n", 3);
			srv_conn_upgrade(c, srv_tls_attach, server_ctx);
		} else if (n == 5 && memcmp(p, "wake\n", 5) == 0) {
			buf_printf(c->out, "woke %d\n", wake_all_but(c, 1));
		} else if (n == 6 && memcmp(p, "sleep\n", 6) == 0) {
			struct timespec ts = { 0, 300 * 1000 * 1000 };
			nanosleep(&ts, NULL);
			buf_put(c->out, "slept\n", 6);
		} else {
			c->idle_timeout_s =
			    n == 5 && memcmp(p, "long\n", 5) == 0 ? 3 : c->idle_timeout_s;
			buf_put(c->out, p, n);
		}
		buf_consume(c->in, n);
		p = c->in->p + c->in->off;
	}
	return 0;
}

static int echo_open(struct srv_conn *c)
{
	pthread_mutex_lock(&reg_lock);
	for (int i = 0; i < REG_MAX; i++)
		if (!reg[i]) {
			reg[i] = c;
			break;
		}
	pthread_mutex_unlock(&reg_lock);
	return 0;
}

static void echo_close(struct srv_conn *c)
{
	pthread_mutex_lock(&reg_lock);
	for (int i = 0; i < REG_MAX; i++)
		if (reg[i] == c)
			reg[i] = NULL;
	pthread_mutex_unlock(&reg_lock);
}

static void echo_wake(struct srv_conn *c)
{
	buf_printf(c->out, "woken %d\n", c->worker);
}

static void echo_timeout(struct srv_conn *c)
{
	buf_put(c->out, "bye\n", 4);
}

static struct srv *start_n(int threads, int idle_s, int request_s)
{
	static const struct srv_proto proto = { .open = echo_open,
		                                .input = echo_input,
		                                .timeout = echo_timeout,
		                                .close = echo_close,
		                                .wake = echo_wake,
		                                .in_max = 1 << 16,
		                                .out_high = 1 << 16 };
	const struct srv_listener l = { .port = 0, .client_first = true };
	const struct srv_config cfg = { .addr = ADDR,
		                        .listeners = &l,
		                        .n_listeners = 1,
		                        .threads = threads,
		                        .idle_timeout_s = idle_s,
		                        .request_timeout_s = request_s,
		                        .stop_fd = -1,
		                        .proto = &proto };
	struct srv *s = NULL;
	char err[160];
	assert_int_equal(srv_start(&s, &cfg, err, sizeof(err)), 0);
	return s;
}

static struct srv *start(int idle_s, int request_s)
{
	return start_n(2, idle_s, request_s);
}

static int dial(struct srv *s)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
		                  .sin_port = htons((uint16_t)srv_port(s, 0)) };
	inet_pton(AF_INET, ADDR, &sa.sin_addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Reads until want bytes or end of stream (waiting at most ms for each read): the bytes read. */
static size_t read_some(int fd, char *buf, size_t want, int ms)
{
	size_t got = 0;
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	while (got < want && poll(&pf, 1, ms) == 1) {
		ssize_t r = recv(fd, buf + got, want - got, 0);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

static void pipelined_lines_echo_in_order(void **state)
{
	(void)state;
	struct srv *s = start(60, 60);
	int fd = dial(s);
	const char req[] = "one\ntwo\nthr";
	assert_int_equal(send(fd, req, sizeof(req) - 1, 0), (ssize_t)sizeof(req) - 1);
	char buf[64] = "";
	assert_int_equal(read_some(fd, buf, 8, 2000), 8);
	assert_memory_equal(buf, "one\ntwo\n", 8);
	assert_int_equal(send(fd, "ee\n", 3, 0), 3);
	assert_int_equal(read_some(fd, buf, 6, 2000), 6);
	assert_memory_equal(buf, "three\n", 6);
	srv_finish(s);                                    /* with the connection open */
	assert_int_equal(read_some(fd, buf, 1, 2000), 0); /* closed by the stop */
	close(fd);
}

static void idle_connection_gets_goodbye_then_close(void **state)
{
	(void)state;
	struct srv *s = start(1, 1);
	int fd = dial(s);
	assert_int_equal(send(fd, "a\n", 2, 0), 2);
	char buf[16] = "";
	assert_int_equal(read_some(fd, buf, 2, 2000), 2);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(read_some(fd, buf, sizeof(buf), 5000), 4); /* "bye\n", then closed */
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_memory_equal(buf, "bye\n", 4);
	assert_true(b.tv_sec - a.tv_sec >= 0 && b.tv_sec - a.tv_sec <= 3);
	close(fd);
	srv_finish(s);
}

/* The server's TLS info callback of the slow test: it pauses before the handshake reads the
 * ClientHello and once the server's flight is out (TLS 1.3: the state after the server's Finished),
 * so that the client's messages are waiting each time the handshake reads: it completes without
 * ever waiting, with the client's Finished and its first data read ahead together. */
static void slow_server(const SSL *ssl, int where, int ret)
{
	(void)ret;
	if ((where & SSL_CB_HANDSHAKE_START) ||
	    ((where & SSL_CB_ACCEPT_LOOP) && SSL_get_state(ssl) == TLS_ST_EARLY_DATA)) {
		struct timespec ts = { 0, 300 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

/* "starttls", the handshake, then a line over TLS. slow: the whole handshake happens in the round
 * that switched transports (after a plain read that drained the socket), and the line arrives
 * with the client's Finished, so OpenSSL reads it ahead during the handshake: the connection must
 * not then wait for an edge that never comes. */
static void starttls_round(bool slow)
{
	char dir[] = "/tmp/vcons-srv-test.XXXXXX", key[64], cert[64];
	assert_non_null(mkdtemp(dir));
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	assert_int_equal(tls_init(), 0);
	assert_int_equal(tls_make_cert(key, cert, "srv-test", ADDR), 0);
	const char *err = NULL;
	server_ctx = tls_server_ctx(cert, key, &err);
	assert_non_null(server_ctx);
	if (slow)
		SSL_CTX_set_info_callback(server_ctx, slow_server);
	struct srv *s = start(60, 60);
	int fd = dial(s);
	struct timeval tv = { .tv_sec = 5 }; /* a stall fails the test instead of hanging it */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(send(fd, "hi\nstarttls\n", 12, 0), 12);
	char buf[16] = "";
	assert_int_equal(read_some(fd, buf, 6, 2000), 6);
	assert_memory_equal(buf, "hi\ngo\n", 6);
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = SSL_new(cctx);
	SSL_set_fd(ssl, fd);
	assert_int_equal(SSL_connect(ssl), 1);
	assert_int_equal(SSL_write(ssl, "secret\n", 7), 7);
	int got = 0, k;
	while (got < 7 && (k = SSL_read(ssl, buf + got, 7 - got)) > 0)
		got += k;
	assert_int_equal(got, 7);
	assert_memory_equal(buf, "secret\n", 7);
	SSL_free(ssl);
	SSL_CTX_free(cctx);
	close(fd);
	srv_finish(s);
	SSL_CTX_free(server_ctx);
	unlink(key);
	unlink(cert);
	rmdir(dir);
}

/* A connection's own idle timeout (3 s, set by the protocol) outlasts the configured one (1 s). */
static void connection_keeps_its_own_idle_timeout(void **state)
{
	(void)state;
	struct srv *s = start(1, 1);
	int a = dial(s), b = dial(s);
	char buf[16] = "";
	assert_int_equal(send(a, "long\n", 5, 0), 5);
	assert_int_equal(send(b, "b\n", 2, 0), 2);
	assert_int_equal(read_some(a, buf, 5, 2000), 5);
	assert_int_equal(read_some(b, buf, 2, 2000), 2);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(read_some(b, buf, sizeof(buf), 5000), 4); /* b: "bye\n" after 1 s */
	assert_int_equal(read_some(a, buf, sizeof(buf), 500), 0);  /* a: nothing yet */
	assert_int_equal(read_some(a, buf, sizeof(buf), 5000), 4);
	assert_memory_equal(buf, "bye\n", 4);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 2000 && ms <= 6000);
	close(a);
	close(b);
	srv_finish(s);
}

/* Dials n connections and waits for each to be served (so each is registered). */
static void dial_n(struct srv *s, int *fd, int n)
{
	for (int i = 0; i < n; i++) {
		char buf[4];
		fd[i] = dial(s);
		assert_int_equal(send(fd[i], "hi\n", 3, 0), 3);
		assert_int_equal(read_some(fd[i], buf, 3, 2000), 3);
	}
}

/* Each connection woken from the test's thread gets one wake-up; then a worker wakes the others
 * (on both workers, where the connections landed on both). */
static void wake_reaches_connections_from_any_thread(void **state)
{
	(void)state;
	enum { N = 8 };
	struct srv *s = start(60, 60);
	int fd[N];
	dial_n(s, fd, N);
	assert_int_equal(wake_all_but(NULL, 1), N);
	char buf[64];
	for (int i = 0; i < N; i++) {
		memset(buf, 0, sizeof(buf));
		size_t n = read_some(fd[i], buf, sizeof(buf) - 1, 300); /* all it gets in 300 ms */
		assert_true(n == 8 && (!strcmp(buf, "woken 0\n") || !strcmp(buf, "woken 1\n")));
	}
	assert_int_equal(send(fd[0], "wake\n", 5, 0), 5);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(read_some(fd[0], buf, 7, 2000), 7);
	assert_string_equal(buf, "woke 7\n");
	for (int i = 1; i < N; i++) {
		memset(buf, 0, sizeof(buf));
		assert_int_equal(read_some(fd[i], buf, sizeof(buf) - 1, 300), 8);
		assert_memory_equal(buf, "woken ", 6);
	}
	for (int i = 0; i < N; i++)
		close(fd[i]);
	srv_finish(s);
}

/* Woken three times while its worker is busy with another connection: one wake-up. */
static void wakes_coalesce_while_the_worker_is_busy(void **state)
{
	(void)state;
	struct srv *s = start_n(1, 60, 60);
	int fd[2];
	char buf[32] = "";
	dial_n(s, fd, 2);
	assert_int_equal(send(fd[0], "sleep\n", 6, 0), 6);
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	nanosleep(&ts, NULL); /* the worker is in fd[0]'s input now */
	assert_int_equal(wake_all_but(NULL, 3), 2);
	assert_int_equal(read_some(fd[0], buf, 6, 2000), 6);
	assert_memory_equal(buf, "slept\n", 6);
	assert_int_equal(read_some(fd[0], buf, sizeof(buf), 300), 8);
	assert_int_equal(read_some(fd[1], buf, sizeof(buf), 300), 8); /* once, not three times */
	assert_memory_equal(buf, "woken 0\n", 8);
	close(fd[0]);
	close(fd[1]);
	srv_finish(s);
}

static atomic_bool waking;

static void *wake_loop(void *arg)
{
	(void)arg;
	while (atomic_load(&waking))
		wake_all_but(NULL, 1);
	return NULL;
}

/* Connections open and close while another thread wakes every open one without pause: nothing
 * is woken after its close (ASan would see it), and the server still answers. */
static void wake_races_close(void **state)
{
	(void)state;
	struct srv *s = start(60, 60);
	pthread_t t;
	atomic_store(&waking, true);
	assert_int_equal(pthread_create(&t, NULL, wake_loop, NULL), 0);
	for (int i = 0; i < 40; i++) {
		int fd;
		dial_n(s, &fd, 1);
		close(fd);
	}
	atomic_store(&waking, false);
	pthread_join(t, NULL);
	int fd;
	dial_n(s, &fd, 1);
	close(fd);
	srv_finish(s);
}

static void starttls_switches_a_live_connection(void **state)
{
	(void)state;
	starttls_round(false);
}

static void starttls_data_read_ahead_in_the_handshake(void **state)
{
	(void)state;
	starttls_round(true);
}

/* The whole of a small file, NUL-terminated, in a static buffer. */
static const char *slurp(const char *path)
{
	static char text[8192];
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = 0;
	(void)fclose(f); /* read only */
	return text;
}

static void data_pair_is_made_kept_and_repaired(void **state)
{
	(void)state;
	char dir[] = "/tmp/vcons-srv-test.XXXXXX", key[64], cert[64], err[512];
	char first[8192];
	assert_non_null(mkdtemp(dir));
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	assert_int_equal(tls_init(), 0);
	assert_null(tls_data_ctx(dir, NULL, NULL, err, sizeof(err))); /* nothing there yet */
	assert_non_null(strstr(err, cert));
	assert_int_equal(tls_data_cert(dir, "t", ADDR, true), 0); /* made */
	snprintf(first, sizeof(first), "%s", slurp(cert));
	assert_int_equal(tls_data_cert(dir, "t", ADDR, true), 0); /* kept */
	assert_string_equal(slurp(cert), first);
	SSL_CTX *ctx = tls_data_ctx(dir, NULL, NULL, err, sizeof(err));
	assert_non_null(ctx);
	SSL_CTX_free(ctx);
	/* a key of another pair, as a crash between the two renames leaves: made anew */
	char odir[] = "/tmp/vcons-srv-test.XXXXXX", okey[64];
	assert_non_null(mkdtemp(odir));
	assert_int_equal(tls_data_cert(odir, "o", ADDR, false), 0);
	snprintf(okey, sizeof(okey), "%s/key.pem", odir);
	assert_int_equal(rename(okey, key), 0);
	assert_null(tls_data_ctx(dir, NULL, NULL, err, sizeof(err)));
	assert_int_equal(tls_data_cert(dir, "t", ADDR, true), 0);
	assert_string_not_equal(slurp(cert), first);
	ctx = tls_data_ctx(dir, NULL, NULL, err, sizeof(err));
	assert_non_null(ctx);
	SSL_CTX_free(ctx);
	/* --cert/--key name other files; no temporary file is left behind */
	assert_null(tls_data_ctx(dir, "/nonexistent.pem", NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent.pem"));
	char tmp[80];
	snprintf(tmp, sizeof(tmp), "%s/key.pem.tmp", dir);
	assert_int_equal(access(tmp, F_OK), -1);
	unlink(key);
	unlink(cert);
	rmdir(dir);
	snprintf(okey, sizeof(okey), "%s/cert.pem", odir);
	unlink(okey);
	rmdir(odir);
}

UNIT_MAIN(cmocka_unit_test(pipelined_lines_echo_in_order),
          cmocka_unit_test(idle_connection_gets_goodbye_then_close),
          cmocka_unit_test(connection_keeps_its_own_idle_timeout),
          cmocka_unit_test(starttls_switches_a_live_connection),
          cmocka_unit_test(starttls_data_read_ahead_in_the_handshake),
          cmocka_unit_test(data_pair_is_made_kept_and_repaired),
          cmocka_unit_test(wake_reaches_connections_from_any_thread),
          cmocka_unit_test(wakes_coalesce_while_the_worker_is_busy),
          cmocka_unit_test(wake_races_close))
