/* Guest conformance test: a TCP echo server on an epoll loop and four client threads over loopback.
 * The server binds 0.0.0.0 on an ephemeral port; clients connect to the address it reports. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define CLIENTS 4
#define ROUNDS  500

static struct sockaddr_in server_addr;

static void *client(void *arg)
{
	long id = (long)arg, ok = 0;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(s, (struct sockaddr *)&server_addr, sizeof(server_addr)) < 0) {
		perror("connect");
		return (void *)-1L;
	}
	char out[2048], in[2048];
	for (int r = 0; r < ROUNDS; r++) {
		int n = 1 + (int)((id * 7919 + r * 104729) % sizeof(out));
		for (int k = 0; k < n; k++)
			out[k] = (char)(id + r + k);
		// cppcheck-suppress uninitvar ; out[0..n) was just written
		if (send(s, out, n, 0) != n)
			break;
		int got = 0;
		while (got < n) {
			int k = (int)recv(s, in + got, n - got, 0);
			if (k <= 0)
				break;
			got += k;
		}
		ok += got == n && memcmp(in, out, n) == 0;
	}
	close(s);
	return (void *)ok;
}

int main(void)
{
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	if (bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 16) < 0) {
		perror("bind/listen");
		// cppcheck-suppress resourceLeak ; main() returns, the process exits
		return 1;
	}
	socklen_t al = sizeof(server_addr);
	getsockname(ls, (struct sockaddr *)&server_addr, &al);
	if (server_addr.sin_addr.s_addr == htonl(INADDR_ANY))
		server_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	printf("listening: %d\n", ntohs(server_addr.sin_port) > 0);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = ls };
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	pthread_t t[CLIENTS];
	for (long i = 0; i < CLIENTS; i++)
		pthread_create(&t[i], NULL, client, (void *)i);
	int closed = 0, accepted = 0;
	long bytes = 0;
	while (closed < CLIENTS) {
		struct epoll_event evs[16];
		int n = epoll_wait(ep, evs, 16, 5000);
		if (n <= 0) {
			printf("epoll_wait timed out\n");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == ls) {
				int c;
				// cppcheck-suppress nullPointer ; NULL addrlen is fine (gnu.cfg)
				while ((c = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					struct epoll_event ce = { .events = EPOLLIN, .data.fd = c };
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
					accepted++;
				}
				continue;
			}
			char buf[4096];
			ssize_t k = recv(fd, buf, sizeof(buf), 0);
			if (k > 0) {
				bytes += k;
				send(fd, buf, k, MSG_NOSIGNAL);
			} else if (k == 0 || errno != EAGAIN) {
				epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
				close(fd);
				closed++;
			}
		}
	}
	long good = 0;
	for (int i = 0; i < CLIENTS; i++) {
		void *r;
		pthread_join(t[i], &r);
		good += (long)r;
	}
	printf("accepted %d, echoed rounds ok %ld of %d, bytes %ld\n", accepted, good,
	       CLIENTS * ROUNDS, bytes);
	return good == CLIENTS * ROUNDS ? 0 : 1;
}
