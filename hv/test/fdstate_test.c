/* Tests of fdstate.c/fdstate_sock.c without KVM: a real fd table in this process (files under a
 * temporary root, pipes, an eventfd, an epoll, a timerfd, TCP and UDP sockets on loopback) is
 * saved, its originals detached and closed, and loaded again; every fd must behave as before
 * (offsets, contents, counters, readiness, a listener on its port, a TCP connection that goes on
 * with a peer that never saw it close). Refusals: a changed file, every truncation of a stream, a
 * kind hv cannot save, all without leaking an fd. Moving a TCP connection needs CAP_NET_ADMIN:
 * without it that part is skipped, loudly. Run it in a private network namespace. */
#include "tools/unit.h"
#include "hv/fdstate.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <linux/kcmp.h>
#include <linux/sockios.h>
#include <sys/syscall.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define FILE_TEXT "hello world, snapshot"
#define PEER_TEXT 1000 /* bytes the peer sent that the table's end has not read */

struct root {
	char dir[64];
	char path[4096];
	struct fdstate_ctx ctx;
};

static void make_root(struct root *r)
{
	snprintf(r->dir, sizeof(r->dir), "/tmp/hv-fdstate.XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	assert_non_null(realpath(r->dir, r->path));
	memset(&r->ctx, 0, sizeof(r->ctx));
	r->ctx.root_fd = open(r->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(r->ctx.root_fd >= 0);
	r->ctx.root_path = r->path;
	for (int i = 0; i < 3; i++)
		r->ctx.stdio_fds[i] = i;
	char p[4200];
	snprintf(p, sizeof(p), "%s/sub", r->path);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/data.txt", r->path);
	int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	assert_int_equal(write(fd, FILE_TEXT, strlen(FILE_TEXT)), strlen(FILE_TEXT));
	close(fd);
}

static void drop_root(struct root *r)
{
	char cmd[128];
	close(r->ctx.root_fd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", r->dir);
	// NOLINTNEXTLINE(cert-env33-c): a test's own command line
	assert_int_equal(system(cmd), 0);
}

static int open_in(struct root *r, const char *rel, int flags)
{
	char p[4200];
	snprintf(p, sizeof(p), "%s/%s", r->path, rel);
	return open(p, flags | O_CLOEXEC, 0600);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static int at(struct fdtab *t, int host, int gfd)
{
	assert_true(host >= 0);
	int got = fdtab__install(t, host, 0, gfd);
	assert_int_equal(got, gfd);
	return got;
}

static int host_of(struct fdtab *t, int gfd)
{
	struct hfile *f = fdtab__get(t, gfd);
	assert_non_null(f);
	int h = f->host;
	fdtab__put(t, f);
	return h;
}

static struct sockaddr_in loop_addr(uint16_t port)
{
	return (struct sockaddr_in){ .sin_family = AF_INET,
		                     .sin_port = htons(port),
		                     .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
}

static uint16_t port_of(int s)
{
	struct sockaddr_in a = { 0 };
	socklen_t len = sizeof(a);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
	return ntohs(a.sin_port);
}

static int bound_socket(int type, uint16_t port)
{
	int s = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = loop_addr(port);
	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	return s;
}

static int connect_to(int s, uint16_t port)
{
	struct sockaddr_in a = loop_addr(port);
	return connect(s, (struct sockaddr *)&a, sizeof(a));
}

static int accept_one(int l)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	return accept4(l, (struct sockaddr *)&a, &len, SOCK_CLOEXEC);
}

/* TCP_REPAIR needs CAP_NET_ADMIN: asked of a fresh socket. */
static int repair_allowed(void)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), on = 1;
	int ok = setsockopt(s, IPPROTO_TCP, TCP_REPAIR, &on, sizeof(on)) == 0;
	close(s);
	return ok;
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 % 251);
}

static void read_all(int s, uint8_t *buf, size_t len)
{
	size_t got = 0;
	for (int tries = 0; got < len && tries < 1000; tries++) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		assert_int_equal(poll(&p, 1, 2000), 1);
		ssize_t n = recv(s, buf + got, len - got, MSG_DONTWAIT);
		if (n <= 0)
			print_message("# recv after %zu of %zu bytes: %zd (%s)\n", got, len, n,
			              n < 0 ? strerror(errno) : "end");
		assert_true(n > 0);
		got += (size_t)n;
	}
	assert_int_equal(got, len);
}

/* The connection: the table's end (returned) holds PEER_TEXT unread bytes and a send queue its
 * peer (*peer, not in the table) has not read, *sent bytes of pattern() in all. */
static int tcp_pair(int *peer, int *server, size_t *sent)
{
	int small = 4096;
	*server = bound_socket(SOCK_STREAM, 0);
	assert_int_equal(setsockopt(*server, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	assert_int_equal(listen(*server, 4), 0);
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(setsockopt(c, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	assert_int_equal(connect_to(c, port_of(*server)), 0);
	*peer = accept_one(*server);
	assert_true(*peer >= 0);
	int on = 1; /* no delayed acknowledgement left pending at the save */
	assert_int_equal(setsockopt(*peer, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof(on)), 0);
	uint8_t buf[PEER_TEXT];
	memset(buf, 'p', sizeof(buf));
	assert_int_equal(send(*peer, buf, sizeof(buf), 0), sizeof(buf));
	*sent = 0;
	for (int i = 0; i < 4096; i++) {
		uint8_t chunk[1024];
		for (size_t k = 0; k < sizeof(chunk); k++)
			chunk[k] = pattern(*sent + k);
		ssize_t n = send(c, chunk, sizeof(chunk), MSG_DONTWAIT);
		if (n < 0) {
			assert_int_equal(errno, EAGAIN);
			break;
		}
		*sent += (size_t)n;
	}
	int outq = 0;
	usleep(50 * 1000); /* let loopback settle: the peer's window is closed */
	/* Nothing of the peer's left to acknowledge: a retransmission while no socket holds the
	 * connection (between detach and load, long on a loaded machine) would be answered with a
	 * reset, as hv's README says of moves without a network lock. */
	struct tcp_info ti;
	socklen_t tl = sizeof(ti);
	for (int i = 0; i < 200; i++) {
		assert_int_equal(getsockopt(*peer, IPPROTO_TCP, TCP_INFO, &ti, &tl), 0);
		if (!ti.tcpi_unacked)
			break;
		usleep(10 * 1000);
	}
	assert_int_equal(ti.tcpi_unacked, 0);
	assert_int_equal(ioctl(c, TIOCOUTQ, &outq), 0);
	assert_true(outq > 0); /* bytes the peer has not taken yet */
	int unsent = 0;
	assert_int_equal(ioctl(c, SIOCOUTQNSD, &unsent), 0);
	print_message("# TCP: %zu bytes written, %d in the send queue, %d of them never sent\n",
	              *sent, outq, unsent);
	return c;
}

enum {
	G_FILE = 3,
	G_FILE_DUP,
	G_DIR,
	G_DELETED,
	G_NULL,
	G_PA_R,
	G_PA_W,
	G_PB_R,
	G_EVENT,
	G_EPOLL,
	G_TIMER,
	G_LISTEN,
	G_UDP,
	G_UDPC,
	G_OPATH,
	G_TCP
};

/* Everything but the TCP connection, at guest fds G_FILE..G_OPATH (and the stdio at 0..2). */
static void build_table(struct fdtab *t, struct root *r, int *udp_peer)
{
	for (int i = 0; i < 3; i++) {
		int h = fcntl(i, F_DUPFD_CLOEXEC, 3);
		if (h >= 0)
			at(t, h, i);
	}
	int f = open_in(r, "data.txt", O_RDWR | O_APPEND);
	assert_int_equal(lseek(f, 5, SEEK_SET), 5);
	at(t, f, G_FILE);
	assert_int_equal(fdtab__dup(t, G_FILE, G_FILE_DUP, 0, 1), G_FILE_DUP);
	at(t, open_in(r, "sub", O_RDONLY | O_DIRECTORY), G_DIR);
	at(t, open_in(r, "data.txt", O_PATH), G_OPATH);
	int d = open_in(r, "sub/scratch", O_RDWR | O_CREAT);
	assert_int_equal(write(d, "temporary", 9), 9);
	assert_int_equal(lseek(d, 3, SEEK_SET), 3);
	char p[4200];
	snprintf(p, sizeof(p), "%s/sub/scratch", r->path);
	assert_int_equal(unlink(p), 0);
	at(t, d, G_DELETED);
	at(t, open("/dev/null", O_WRONLY | O_CLOEXEC), G_NULL);
	int pa[2], pb[2];
	assert_int_equal(pipe2(pa, O_CLOEXEC), 0);
	assert_int_equal(pipe2(pb, O_CLOEXEC | O_NONBLOCK), 0);
	assert_int_equal(write(pa[1], "abc", 3), 3);
	assert_int_equal(write(pb[1], "xyz", 3), 3);
	close(pb[1]);
	at(t, pa[0], G_PA_R);
	at(t, pa[1], G_PA_W);
	at(t, pb[0], G_PB_R);
	at(t, eventfd(7, EFD_CLOEXEC | EFD_NONBLOCK), G_EVENT);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	at(t, ep, G_EPOLL);
	int tm = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	struct itimerspec its = { .it_value = { 0, 80 * 1000 * 1000 },
		                  .it_interval = { 0, 50 * 1000 * 1000 } };
	assert_int_equal(timerfd_settime(tm, 0, &its, NULL), 0);
	at(t, tm, G_TIMER);
	int l = bound_socket(SOCK_STREAM, 0), on = 1;
	assert_int_equal(setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)), 0);
	assert_int_equal(listen(l, 16), 0);
	at(t, l, G_LISTEN);
	at(t, bound_socket(SOCK_DGRAM, 0), G_UDP);
	*udp_peer = bound_socket(SOCK_DGRAM, 0);
	int uc = bound_socket(SOCK_DGRAM, 0);
	assert_int_equal(connect_to(uc, port_of(*udp_peer)), 0);
	assert_int_equal(connect_to(*udp_peer, port_of(uc)), 0);
	at(t, uc, G_UDPC);
	const struct {
		int gfd;
		uint32_t events;
		uint64_t data;
	} watch[] = { { G_PA_R, EPOLLIN, 0xa1 },
		      { G_EVENT, EPOLLIN | EPOLLET, 0xe7 },
		      { G_PB_R, EPOLLIN, 0xb2 },
		      { G_LISTEN, EPOLLIN, 0x15 } };
	for (size_t i = 0; i < sizeof(watch) / sizeof(*watch); i++) {
		struct epoll_event ev = { .events = watch[i].events, .data.u64 = watch[i].data };
		assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, host_of(t, watch[i].gfd), &ev), 0);
	}
}

static void save(struct fdtab *t, struct root *r, struct wbuf *w)
{
	char err[256] = "";
	wbuf__init(w);
	int rc = fdstate__save(t, &r->ctx, w, err, sizeof(err));
	if (rc)
		print_message("# save: %s\n", err);
	assert_int_equal(rc, 0);
	assert_false(w->oom);
}

static void load(struct fdtab *t, struct root *r, const struct wbuf *w)
{
	char err[256] = "";
	struct rbuf rb;
	rbuf__init(&rb, w->p, w->len);
	assert_int_equal(fdtab__init(t, 1024), 0);
	int rc = fdstate__load(t, &r->ctx, &rb, err, sizeof(err));
	if (rc)
		print_message("# load: %s\n", err);
	assert_int_equal(rc, 0);
	assert_int_equal(rbuf__left(&rb), 0);
}

static void check_epoll(struct fdtab *t)
{
	struct epoll_event ev[8];
	int n = epoll_wait(host_of(t, G_EPOLL), ev, 8, 1000), seen = 0;
	assert_int_equal(n, 3); /* the pipes and the eventfd; the listener has nobody waiting */
	for (int i = 0; i < n; i++) {
		uint64_t d = ev[i].data.u64;
		assert_true(d == 0xa1 || d == 0xe7 || d == 0xb2);
		seen |= d == 0xa1 ? 1 : d == 0xe7 ? 2 : 4;
	}
	assert_int_equal(seen, 7);
}

static void check_files(struct fdtab *t, struct root *r)
{
	int f = host_of(t, G_FILE);
	char buf[64] = "";
	for (int i = 0; i < 3; i++) /* this process's own standard fds again */
		if (fcntl(i, F_GETFD) >= 0)
			assert_int_equal(
			    syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, i, host_of(t, i)), 0);
	struct hfile *one = fdtab__get(t, G_FILE), *two = fdtab__get(t, G_FILE_DUP);
	assert_ptr_equal(one, two); /* still one open file */
	fdtab__put(t, one);
	fdtab__put(t, two);
	assert_int_equal(fdtab__cloexec(t, G_FILE, -1), 0);
	assert_int_equal(fdtab__cloexec(t, G_FILE_DUP, -1), 1);
	assert_int_equal(lseek(f, 0, SEEK_CUR), 5);
	assert_true(fcntl(f, F_GETFL) & O_APPEND);
	assert_int_equal((fcntl(f, F_GETFL) & O_ACCMODE), O_RDWR);
	assert_int_equal(read(f, buf, sizeof(buf)), strlen(FILE_TEXT) - 5);
	assert_string_equal(buf, FILE_TEXT + 5);
	struct stat a, b;
	char p[4200];
	snprintf(p, sizeof(p), "%s/sub", r->path);
	assert_int_equal(fstat(host_of(t, G_DIR), &a), 0);
	assert_int_equal(stat(p, &b), 0);
	assert_true(a.st_ino == b.st_ino && S_ISDIR(a.st_mode));
	snprintf(p, sizeof(p), "%s/data.txt", r->path);
	assert_int_equal(fstat(host_of(t, G_OPATH), &a), 0);
	assert_int_equal(stat(p, &b), 0);
	assert_true(a.st_ino == b.st_ino && (fcntl(host_of(t, G_OPATH), F_GETFL) & O_PATH));
	int d = host_of(t, G_DELETED);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(fstat(d, &a), 0);
	assert_int_equal(a.st_nlink, 0);
	assert_int_equal(read(d, buf, sizeof(buf)), 6);
	assert_string_equal(buf, "porary");
	assert_int_equal(fstat(host_of(t, G_NULL), &a), 0);
	assert_int_equal(stat("/dev/null", &b), 0);
	assert_true(a.st_rdev == b.st_rdev);
	assert_int_equal(write(host_of(t, G_NULL), "x", 1), 1);
}

static void check_pipes_counters(struct fdtab *t)
{
	char buf[8] = "";
	int ra = host_of(t, G_PA_R), rb = host_of(t, G_PB_R);
	assert_false(fcntl(ra, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(rb, F_GETFL) & O_NONBLOCK);
	assert_int_equal(read(ra, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "abc", 3);
	assert_int_equal(write(host_of(t, G_PA_W), "d", 1), 1); /* both ends: one pipe */
	assert_int_equal(read(ra, buf, sizeof(buf)), 1);
	assert_int_equal(buf[0], 'd');
	assert_int_equal(read(rb, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "xyz", 3);
	assert_int_equal(read(rb, buf, sizeof(buf)), 0); /* no writer, as before */
	uint64_t v = 0;
	assert_int_equal(read(host_of(t, G_EVENT), &v, sizeof(v)), sizeof(v));
	assert_int_equal(v, 7);
	struct pollfd p = { .fd = host_of(t, G_TIMER), .events = POLLIN };
	assert_int_equal(poll(&p, 1, 2000), 1);
	assert_int_equal(read(p.fd, &v, sizeof(v)), sizeof(v));
	assert_true(v >= 1);
	struct itimerspec its;
	assert_int_equal(timerfd_gettime(p.fd, &its), 0);
	assert_int_equal(its.it_interval.tv_nsec, 50 * 1000 * 1000); /* still periodic */
}

static void check_sockets(struct fdtab *t, uint16_t listen_port, int udp_peer)
{
	int l = host_of(t, G_LISTEN), c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(port_of(l), listen_port);
	assert_int_equal(connect_to(c, listen_port), 0);
	int a = accept_one(l);
	assert_true(a >= 0);
	close(a);
	close(c);
	int u = host_of(t, G_UDPC);
	char buf[8] = "";
	assert_int_equal(send(u, "up", 2, 0), 2);
	assert_int_equal(recv(udp_peer, buf, sizeof(buf), 0), 2);
	assert_memory_equal(buf, "up", 2);
	assert_int_equal(send(udp_peer, "down", 4, 0), 4);
	struct pollfd p = { .fd = u, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 2000), 1);
	assert_int_equal(recv(u, buf, sizeof(buf), 0), 4);
	assert_memory_equal(buf, "down", 4);
	assert_true(port_of(host_of(t, G_UDP)) != 0);
}

/* The restored end: the bytes it had not read, the peer gets every byte it had not taken, and
 * the connection carries new bytes both ways. */
static void check_tcp(struct fdtab *t, int peer, size_t sent)
{
	int c = host_of(t, G_TCP);
	uint8_t in[PEER_TEXT], *all = malloc(sent);
	assert_non_null(all);
	read_all(c, in, sizeof(in));
	for (size_t i = 0; i < sizeof(in); i++)
		assert_int_equal(in[i], 'p');
	read_all(peer, all, sent);
	for (size_t i = 0; i < sent; i++)
		assert_int_equal(all[i], pattern(i));
	free(all);
	assert_int_equal(send(c, "ping", 4, 0), 4);
	read_all(peer, in, 4);
	assert_memory_equal(in, "ping", 4);
	assert_int_equal(send(peer, "pong", 4, 0), 4);
	read_all(c, in, 4);
	assert_memory_equal(in, "pong", 4);
}

static void whole_table_survives_save_and_load(void **state)
{
	(void)state;
	struct root r;
	struct fdtab t, t2;
	struct wbuf w;
	int udp_peer, peer = -1, server = -1, tcp = repair_allowed();
	size_t sent = 0;
	if (!tcp)
		print_message(
		    "# TCP_REPAIR not permitted (needs CAP_NET_ADMIN): the TCP connection "
		    "is left out of this table\n");
	make_root(&r);
	int fds_before = count_fds();
	assert_int_equal(fdtab__init(&t, 1024), 0);
	build_table(&t, &r, &udp_peer);
	if (tcp)
		at(&t, tcp_pair(&peer, &server, &sent), G_TCP);
	uint16_t listen_port = port_of(host_of(&t, G_LISTEN));
	int pa = host_of(&t, G_PA_R), avail = 0;
	save(&t, &r, &w);
	assert_int_equal(ioctl(pa, FIONREAD, &avail), 0);
	assert_int_equal(avail, 3); /* peeked, not taken */
	fdstate__detach(&t);
	fdtab__free(&t);
	if (tcp) { /* the peer saw no FIN (CLOSE_WAIT) and no RST (CLOSE, an error) */
		struct tcp_info ti;
		socklen_t len = sizeof(ti);
		int e = 0;
		assert_int_equal(getsockopt(peer, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
		assert_int_equal(ti.tcpi_state, TCP_ESTABLISHED);
		len = sizeof(e);
		assert_int_equal(getsockopt(peer, SOL_SOCKET, SO_ERROR, &e, &len), 0);
		assert_int_equal(e, 0);
	}
	load(&t2, &r, &w);
	check_epoll(&t2);
	check_files(&t2, &r);
	check_pipes_counters(&t2);
	check_sockets(&t2, listen_port, udp_peer);
	if (tcp)
		check_tcp(&t2, peer, sent);
	fdtab__free(&t2);
	wbuf__free(&w);
	close(udp_peer);
	if (tcp) {
		close(peer);
		close(server);
	}
	if (count_fds() != fds_before)
		// NOLINTNEXTLINE(cert-env33-c)
		(void)system("ls -l /proc/$PPID/fd >&2");
	assert_int_equal(count_fds(), fds_before);
	drop_root(&r);
}

/* A listener (*l), a peer connected to it (*peer), and the accepted end, returned. */
static int accepted(int *l, int *peer)
{
	*l = bound_socket(SOCK_STREAM, 0);
	*peer = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(listen(*l, 4), 0);
	assert_int_equal(connect_to(*peer, port_of(*l)), 0);
	return accept_one(*l);
}

/* A table holding `host` alone at G_FILE, saved into w and let go of, as a stopping VM's is. */
static void save_alone(int host, struct root *r, struct wbuf *w)
{
	struct fdtab t;
	assert_int_equal(fdtab__init(&t, 64), 0);
	at(&t, host, G_FILE);
	save(&t, r, w);
	fdstate__detach(&t);
	fdtab__free(&t);
}

/* A connection its peer half closed (CLOSE_WAIT: a client that sent its last request and shut
 * its side) moves: the guest reads the request, then the end; its answer reaches the peer, which
 * still reads; its close ends the connection there. */
static void half_closed_by_peer_moves(void **state)
{
	(void)state;
	if (!repair_allowed())
		skip(); /* needs CAP_NET_ADMIN */
	struct root r;
	struct fdtab t2;
	struct wbuf w;
	make_root(&r);
	int l, peer, a = accepted(&l, &peer);
	assert_int_equal(send(peer, "last request", 12, 0), 12);
	assert_int_equal(shutdown(peer, SHUT_WR), 0);
	struct pollfd p = { .fd = a, .events = POLLRDHUP };
	assert_int_equal(poll(&p, 1, 2000), 1);
	save_alone(a, &r, &w);
	load(&t2, &r, &w);
	int c = host_of(&t2, G_FILE);
	char buf[64];
	read_all(c, (uint8_t *)buf, 12);
	assert_memory_equal(buf, "last request", 12);
	assert_int_equal(recv(c, buf, sizeof(buf), MSG_DONTWAIT), 0); /* then the end */
	assert_int_equal(send(c, "answer", 6, 0), 6);
	read_all(peer, (uint8_t *)buf, 6);
	assert_memory_equal(buf, "answer", 6);
	fdtab__free(&t2); /* the guest closes it: the peer reads the end */
	p = (struct pollfd){ .fd = peer, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 2000), 1);
	assert_int_equal(recv(peer, buf, sizeof(buf), MSG_DONTWAIT), 0);
	wbuf__free(&w);
	close(peer);
	close(l);
	drop_root(&r);
}

/* A half-closed connection whose peer went away entirely before the load (a run started from
 * snapshots: the generators that held those connections are gone): it loads, and ends. */
static void half_closed_and_gone_loads(void **state)
{
	(void)state;
	if (!repair_allowed())
		skip(); /* needs CAP_NET_ADMIN */
	struct root r;
	struct fdtab t2;
	struct wbuf w;
	make_root(&r);
	int l, peer, a = accepted(&l, &peer);
	assert_int_equal(shutdown(peer, SHUT_WR), 0);
	struct pollfd p = { .fd = a, .events = POLLRDHUP };
	assert_int_equal(poll(&p, 1, 2000), 1);
	save_alone(a, &r, &w);
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	assert_int_equal(setsockopt(peer, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	close(peer); /* gone: the restored socket's first packet is answered with a reset */
	load(&t2, &r, &w);
	char b;
	ssize_t n = recv(host_of(&t2, G_FILE), &b, 1, MSG_DONTWAIT);
	assert_true(n == 0 || (n < 0 && errno == ECONNRESET));
	fdtab__free(&t2);
	wbuf__free(&w);
	close(l);
	drop_root(&r);
}

/* An accepted connection its peer reset, not yet closed by the guest (TCP_CLOSE, still bound to
 * the listener's address), next to that listener: both load, the dead one bound where it was. */
static void reset_connection_beside_its_listener_loads(void **state)
{
	(void)state;
	if (!repair_allowed())
		skip(); /* needs CAP_NET_ADMIN */
	struct root r;
	struct fdtab t, t2;
	struct wbuf w;
	make_root(&r);
	int l, peer, a = accepted(&l, &peer);
	uint16_t port = port_of(l);
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	assert_int_equal(setsockopt(peer, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	close(peer);
	struct pollfd p = { .fd = a, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 2000), 1); /* the reset has come */
	assert_int_equal(fdtab__init(&t, 64), 0);
	at(&t, l, G_FILE);
	at(&t, a, G_FILE_DUP);
	save(&t, &r, &w);
	fdstate__detach(&t);
	fdtab__free(&t);
	load(&t2, &r, &w);
	assert_int_equal(port_of(host_of(&t2, G_FILE)), port);
	assert_int_equal(port_of(host_of(&t2, G_FILE_DUP)), port);
	char b;
	assert_true(recv(host_of(&t2, G_FILE_DUP), &b, 1, MSG_DONTWAIT) <= 0);
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); /* the listener listens */
	assert_int_equal(connect_to(c, port), 0);
	close(c);
	fdtab__free(&t2);
	wbuf__free(&w);
	drop_root(&r);
}

/* A save leaves the connection as the guest had it: leaving repair mode clears SO_REUSEADDR,
 * which the save sets back (else the guest's getsockopt changes, and the connection's TIME_WAIT
 * keeps its listener's port from a restored VM for a minute). */
static void save_leaves_reuseaddr(void **state)
{
	(void)state;
	if (!repair_allowed())
		skip(); /* needs CAP_NET_ADMIN */
	struct root r;
	struct fdtab t;
	struct wbuf w;
	make_root(&r);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), on = 1, v = 0;
	assert_int_equal(setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)), 0);
	struct sockaddr_in a = loop_addr(0);
	assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(l, 4), 0);
	int peer = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect_to(peer, port_of(l)), 0);
	int c = accept_one(l);
	assert_int_equal(fdtab__init(&t, 64), 0);
	at(&t, c, G_FILE);
	save(&t, &r, &w);
	socklen_t len = sizeof(v);
	assert_int_equal(getsockopt(c, SOL_SOCKET, SO_REUSEADDR, &v, &len), 0);
	assert_int_equal(v, 1);
	fdtab__free(&t);
	wbuf__free(&w);
	close(peer);
	close(l);
	drop_root(&r);
}

/* A connection whose peer sent while the VM was away met no socket and was reset: the table
 * still loads (nothing else in it is lost), and the guest's calls on that socket say so. */
static void connection_reset_while_away_loads(void **state)
{
	(void)state;
	if (!repair_allowed())
		skip(); /* needs CAP_NET_ADMIN */
	struct root r;
	struct fdtab t2;
	struct wbuf w;
	int peer = -1, server = -1;
	size_t sent = 0;
	make_root(&r);
	save_alone(tcp_pair(&peer, &server, &sent), &r, &w);
	assert_int_equal(send(peer, "gone?", 5, 0), 5);
	int e = 0;
	socklen_t len = sizeof(e);
	for (int i = 0; i < 200 && !e; i++) { /* its answer is a reset */
		usleep(10 * 1000);
		assert_int_equal(getsockopt(peer, SOL_SOCKET, SO_ERROR, &e, &len), 0);
	}
	assert_int_equal(e, ECONNRESET);
	load(&t2, &r, &w);
	int c = host_of(&t2, G_FILE);
	char buf[PEER_TEXT + 64];
	size_t got = 0;
	ssize_t n = 1;
	for (int i = 0; i < 200 && n != 0 && !(n < 0 && errno != EAGAIN); i++) {
		struct pollfd p = { .fd = c, .events = POLLIN };
		(void)poll(&p, 1, 10);
		n = recv(c, buf, sizeof(buf), MSG_DONTWAIT);
		got += n > 0 ? (size_t)n : 0;
	}
	/* the bytes it had not read, then the end: a reset, or end of stream once the restore's
	 * own send took the reset's error */
	assert_int_equal(got, PEER_TEXT);
	assert_true(n == 0 || (n < 0 && errno == ECONNRESET));
	assert_int_equal(send(c, "x", 1, MSG_NOSIGNAL), -1);
	assert_true(errno == EPIPE || errno == ECONNRESET);
	fdtab__free(&t2);
	wbuf__free(&w);
	close(peer);
	close(server);
	drop_root(&r);
}

/* Saves a table holding `host` at guest fd 3: the refusal, and the stream left alone. */
static void refused(struct root *r, int host, const char *msg)
{
	struct fdtab t;
	struct wbuf w;
	char err[256] = "";
	assert_int_equal(fdtab__init(&t, 64), 0);
	at(&t, host, 3);
	wbuf__init(&w);
	assert_int_equal(fdstate__save(&t, &r->ctx, &w, err, sizeof(err)), -1);
	assert_string_equal(err, msg);
	assert_int_equal(w.len, 0);
	wbuf__free(&w);
	fdtab__free(&t);
}

/* TCP sockets hv cannot move: a listener with connections waiting, a half-closed connection,
 * and, without CAP_NET_ADMIN, any connection (the move itself then goes untested: skipped). */
static void tcp_states_that_cannot_move_are_refused(void **state)
{
	(void)state;
	struct root r;
	make_root(&r);
	int l = bound_socket(SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(listen(l, 4), 0);
	assert_int_equal(connect_to(c, port_of(l)), 0);
	refused(
	    &r, dup(l),
	    "guest fd 3: a listening socket with 1 connections waiting to be accepted cannot be "
	    "saved yet");
	int a = accept_one(l);
	assert_int_equal(shutdown(a, SHUT_WR), 0); /* the guest's own half close */
	struct pollfd p = { .fd = c, .events = POLLRDHUP };
	assert_int_equal(poll(&p, 1, 2000), 1); /* its FIN has arrived */
	usleep(20 * 1000);                      /* and been acknowledged */
	refused(&r, dup(a), "guest fd 3: a TCP socket in state FIN_WAIT2 cannot be saved");
	int c2 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect_to(c2, port_of(l)), 0);
	int allowed = repair_allowed();
	if (!allowed)
		refused(&r, dup(c2),
		        "guest fd 3: saving a TCP connection needs CAP_NET_ADMIN (TCP_REPAIR)");
	close(c2);
	close(a);
	close(c);
	close(l);
	drop_root(&r);
	if (!allowed) {
		print_message("# SKIPPED: TCP_REPAIR gives EPERM here (no CAP_NET_ADMIN): moving a "
		              "TCP connection was not tested\n");
		skip();
	}
}

/* The last resort for a listener that keeps connections waiting: they are accepted and reset,
 * without blocking on the (blocking) listener once its queue is empty; then it can be saved. */
static void waiting_connections_are_reset(void **state)
{
	(void)state;
	struct fdtab t;
	assert_int_equal(fdtab__init(&t, 64), 0);
	int l = bound_socket(SOCK_STREAM, 0);
	assert_int_equal(listen(l, 4), 0);
	int c1 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int c2 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect_to(c1, port_of(l)), 0);
	assert_int_equal(connect_to(c2, port_of(l)), 0);
	assert_int_equal(fdtab__install(&t, l, 0, 3), 3);
	assert_int_equal(fdstate__reset_pending(&t), 2);
	assert_int_equal(fdstate__reset_pending(&t), 0); /* nothing waits, nothing blocks */
	char b;
	assert_true(recv(c1, &b, 1, 0) <= 0 && recv(c2, &b, 1, 0) <= 0); /* reset, no data */
	struct root r;
	make_root(&r);
	struct wbuf w;
	wbuf__init(&w);
	char err[256];
	assert_int_equal(fdstate__save(&t, &r.ctx, &w, err, sizeof(err)), 0);
	wbuf__free(&w);
	/* the save itself resets them when its context allows (ctx.reset), and counts them */
	int c3 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), reset = 0;
	assert_int_equal(connect_to(c3, port_of(l)), 0);
	wbuf__init(&w);
	assert_int_equal(fdstate__save(&t, &r.ctx, &w, err, sizeof(err)), -1); /* refused */
	assert_int_equal(w.len, 0);
	struct fdstate_ctx ctx = r.ctx;
	ctx.reset = &reset;
	assert_int_equal(fdstate__save(&t, &ctx, &w, err, sizeof(err)), 0);
	assert_int_equal(reset, 1);
	assert_true(recv(c3, &b, 1, 0) <= 0);
	wbuf__free(&w);
	close(c1);
	close(c2);
	close(c3);
	fdtab__free(&t);
	drop_root(&r);
}

/* A small table with one of most kinds (no TCP connection): short enough to load at every length.
 */
static void every_truncation_is_refused(void **state)
{
	(void)state;
	struct root r;
	struct fdtab t, t2;
	struct wbuf w;
	int udp_peer;
	make_root(&r);
	assert_int_equal(fdtab__init(&t, 1024), 0);
	build_table(&t, &r, &udp_peer);
	save(&t, &r, &w);
	fdstate__detach(&t);
	fdtab__free(&t);
	int fds = count_fds();
	assert_int_equal(fdtab__init(&t2, 1024), 0);
	for (size_t len = 0; len < w.len; len++) {
		char err[256] = "";
		struct rbuf rb;
		struct hfile *f;
		int cloexec;
		rbuf__init(&rb, w.p, len);
		assert_int_equal(fdstate__load(&t2, &r.ctx, &rb, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "snapshot: "));
		assert_null(strchr(err, '\n'));
		assert_int_equal(fdtab__next(&t2, 0, &f, &cloexec), -1);
		if (count_fds() != fds)
			print_message("# leak at %zu of %zu: %s\n", len, w.len, err);
		assert_int_equal(count_fds(), fds);
	}
	uint8_t v = w.p[0]; /* another version */
	w.p[0] = 99;
	char err[256] = "";
	struct rbuf rb;
	rbuf__init(&rb, w.p, w.len);
	assert_int_equal(fdstate__load(&t2, &r.ctx, &rb, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "version 99"));
	w.p[0] = v;
	fdtab__free(&t2);
	load(&t2, &r, &w); /* the whole stream still loads */
	fdtab__free(&t2);
	wbuf__free(&w);
	close(udp_peer);
	assert_int_equal(count_fds(), fds - 1);
	drop_root(&r);
}

static void changed_file_is_refused(void **state)
{
	(void)state;
	struct root r;
	struct fdtab t, t2;
	struct wbuf w;
	make_root(&r);
	assert_int_equal(fdtab__init(&t, 64), 0);
	at(&t, open_in(&r, "data.txt", O_RDONLY), 0);
	save(&t, &r, &w);
	fdtab__free(&t);
	int fd = open_in(&r, "data.txt", O_WRONLY | O_APPEND), fds = count_fds();
	assert_int_equal(write(fd, "!", 1), 1);
	close(fd);
	char err[256] = "";
	struct rbuf rb;
	rbuf__init(&rb, w.p, w.len);
	assert_int_equal(fdtab__init(&t2, 64), 0);
	assert_int_equal(fdstate__load(&t2, &r.ctx, &rb, err, sizeof(err)), -1);
	assert_string_equal(err,
	                    "snapshot: /data.txt changed since the snapshot (size 21, now 22)");
	assert_false(fdtab__valid(&t2, 0));
	assert_int_equal(count_fds(), fds - 1);
	fdtab__free(&t2);
	wbuf__free(&w);
	drop_root(&r);
}

/* Kinds hv cannot save are refused by name, and the stream is left as it was. */
static void unsupported_kinds_are_refused(void **state)
{
	(void)state;
	struct root r;
	struct fdtab t;
	struct wbuf w;
	sigset_t set;
	int sp[2];
	make_root(&r);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	close(sp[1]);
	const struct {
		int host;
		const char *msg;
	} cases[] = { { signalfd(-1, &set, SFD_CLOEXEC),
		        "guest fd 4: signalfd cannot be saved yet" },
		      { sp[0], "guest fd 4: a unix socket cannot be saved yet" } };
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char err[256] = "";
		assert_int_equal(fdtab__init(&t, 64), 0);
		at(&t, open_in(&r, "data.txt", O_RDONLY), 3);
		at(&t, cases[i].host, 4);
		wbuf__init(&w);
		wbuf__u32(&w, 0xfeed);
		assert_int_equal(fdstate__save(&t, &r.ctx, &w, err, sizeof(err)), -1);
		assert_string_equal(err, cases[i].msg);
		assert_int_equal(w.len, 4);
		wbuf__free(&w);
		fdtab__free(&t);
	}
	drop_root(&r);
}

UNIT_MAIN(cmocka_unit_test(whole_table_survives_save_and_load),
          cmocka_unit_test(tcp_states_that_cannot_move_are_refused),
          cmocka_unit_test(every_truncation_is_refused), cmocka_unit_test(changed_file_is_refused),
          cmocka_unit_test(unsupported_kinds_are_refused),
          cmocka_unit_test(waiting_connections_are_reset),
          cmocka_unit_test(connection_reset_while_away_loads),
          cmocka_unit_test(half_closed_by_peer_moves), cmocka_unit_test(half_closed_and_gone_loads),
          cmocka_unit_test(reset_connection_beside_its_listener_loads),
          cmocka_unit_test(save_leaves_reuseaddr))
