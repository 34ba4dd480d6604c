/* lib/net.h: a TCP listener on the VM's address, the one way the servers (vcons-db, vcons-web,
 * vcons-mail) open theirs.
 *
 * Contract: net_listen() makes an IPv4 TCP socket, non-blocking and close-on-exec, with
 * SO_REUSEADDR (a restarted server binds at once), binds it to ADDR:PORT (ADDR a dotted quad; PORT
 * 0 picks a free one) and listens with o->backlog (512 when 0). With o->nodelay, TCP_NODELAY is set
 * on the listener (Linux hands it to every accepted socket); with o->defer_accept_s > 0,
 * TCP_DEFER_ACCEPT. o may be NULL (the defaults). Returns the socket, or -1 with errno set and the
 * message "cannot listen on ADDR:PORT: REASON" in err (REASON "not an IPv4 address" for a bad
 * ADDR). net_ignore_sigpipe() makes a write to a closed connection an EPIPE error, not a killing
 * signal. */
#ifndef LIB_NET_H
#define LIB_NET_H
#include <stdbool.h>
#include <stddef.h>

struct net_listen_opts {
	int backlog;
	bool nodelay;
	int defer_accept_s;
};

int net_listen(const char *addr, int port, const struct net_listen_opts *o, char *err,
               size_t errlen);
void net_ignore_sigpipe(void);

#endif
