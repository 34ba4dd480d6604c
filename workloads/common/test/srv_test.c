/* workloads/common/test/srv_test.c: the server core (srv.h) with a line-echo protocol over
 * loopback: pipelined lines answered in order, a line in two pieces, a stop with a connection open,
 * the idle timeout's goodbye then close, and STARTTLS (srv_conn_upgrade to srv_tls_attach: the
 * client's TLS handshake after the plain "go" reply, then lines over TLS); a data directory's key
 * and certificate made, kept, and made anew when they do not match. */
#include "tools/unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
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

/* Echoes each complete line; "starttls" answers "go" and switches to TLS after it. */
static int echo_input(struct srv_conn *c)
{
	char *p = c->in->p + c->in->off, *nl;
	while (!c->upgrade && (nl = memchr(p, '\n', buf_pending(c->in)))) {
		size_t n = (size_t)(nl - p) + 1;
		if (n == 9 && memcmp(p, "starttls\n", 9) == 0) {
			buf_put(c->out, "go\n", 3);
			srv_conn_upgrade(c, srv_tls_attach, server_ctx);
		} else {
			buf_put(c->out, p, n);
		}
		buf_consume(c->in, n);
		p = c->in->p + c->in->off;
	}
	return 0;
}

static int echo_open(struct srv_conn *c)
{
	(void)c;
	return 0;
}

static void echo_timeout(struct srv_conn *c)
{
	buf_put(c->out, "bye\n", 4);
}

static struct srv *start(int idle_s, int request_s)
{
	static const struct srv_proto proto = { .open = echo_open,
		                                .input = echo_input,
		                                .timeout = echo_timeout,
		                                .in_max = 1 << 16,
		                                .out_high = 1 << 16 };
	const struct srv_listener l = { .port = 0, .client_first = true };
	const struct srv_config cfg = { .addr = ADDR,
		                        .listeners = &l,
		                        .n_listeners = 1,
		                        .threads = 2,
		                        .idle_timeout_s = idle_s,
		                        .request_timeout_s = request_s,
		                        .stop_fd = -1,
		                        .proto = &proto };
	struct srv *s = NULL;
	char err[160];
	assert_int_equal(srv_start(&s, &cfg, err, sizeof(err)), 0);
	return s;
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
	fclose(f);
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
          cmocka_unit_test(starttls_switches_a_live_connection),
          cmocka_unit_test(starttls_data_read_ahead_in_the_handshake),
          cmocka_unit_test(data_pair_is_made_kept_and_repaired))
