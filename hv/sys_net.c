/* hv/sys_net.c: the VM's network boundary. A VM owns one IPv4 address (--net): binding to 0.0.0.0
 * or to it binds to it, binding elsewhere is refused; connections and datagrams go only to loopback
 * (127.0.0.0/8), and an unbound socket is bound to the VM's address first, so peers see which VM
 * spoke. Only AF_INET stream/datagram sockets (and AF_UNIX socketpairs) exist; no raw sockets, no
 * descriptor passing. */
#include "hv/syscall.h"
#include "hv/uaccess.h"
#include "hv/vm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* Reads a guest sockaddr_in (other families are refused). */
static int addr_in(struct vcpu *c, uint64_t gva, uint64_t len, struct sockaddr_in *out)
{
	struct sockaddr_storage ss;
	if (len < sizeof(sa_family_t) || len > sizeof(ss))
		return -EINVAL;
	if (uaccess__in(c->vm, &ss, gva, len, 1))
		return -EFAULT;
	if (ss.ss_family != AF_INET)
		return -EAFNOSUPPORT;
	if (len < sizeof(*out))
		return -EINVAL;
	memcpy(out, &ss, sizeof(*out));
	return 0;
}

/* Reads the guest's destination address: a sockaddr_in on loopback (127.0.0.0/8), else
 * -ENETUNREACH. */
static int peer_in(struct vcpu *c, uint64_t gva, uint64_t len, struct sockaddr_in *out)
{
	int rc = addr_in(c, gva, len, out);
	if (rc < 0)
		return rc;
	return (ntohl(out->sin_addr.s_addr) >> 24) == 127 ? 0 : -ENETUNREACH;
}

/* The room of a guest's (addr, addrlen*) pair, as accept/getsockname/recvfrom take it: reads the
 * length word once and checks the buffer, so that no call takes a connection or a datagram that
 * cannot be answered. Returns the room (0 without an address) or -errno. */
static long addr_room(struct vcpu *c, uint64_t gaddr, uint64_t glen)
{
	socklen_t len;
	if (!gaddr)
		return 0;
	if (copy_from_guest(c->vm, &len, glen, 1))
		return -EFAULT;
	if ((int)len < 0)
		return -EINVAL;
	return uaccess__ok(c->vm, gaddr, len) ? (long)len : -EFAULT;
}

/* Writes a host sockaddr into the guest's pair: at most `room` bytes, and its full length. */
static int addr_out(struct vcpu *c, uint64_t gaddr, uint64_t glen, socklen_t room,
                    const struct sockaddr_storage *a, socklen_t alen)
{
	if (!gaddr)
		return 0;
	if (uaccess__out(c->vm, gaddr, a, room < alen ? room : alen, 1) ||
	    copy_to_guest(c->vm, glen, &alen, 1))
		return -EFAULT;
	return 0;
}

static int bind_to_vm(int host, struct vm *vm, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = port, .sin_addr = vm->addr };
	return bind(host, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
}

/* An AF_INET socket not yet bound gets the VM's address before it talks to anyone. */
static int ensure_bound(int host, struct vm *vm)
{
	struct sockaddr_storage ss;
	socklen_t n = sizeof(ss);
	// NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult): getsockname set it
	if (getsockname(host, (struct sockaddr *)&ss, &n) < 0 || ss.ss_family != AF_INET)
		return 0;
	const struct sockaddr_in *s = (const struct sockaddr_in *)&ss;
	if (s->sin_addr.s_addr != INADDR_ANY || s->sin_port)
		return 0;
	int rc = bind_to_vm(host, vm, 0);
	return rc == -EINVAL ? 0 : rc; /* EINVAL: bound meanwhile */
}

long sys_socket(struct vcpu *c, const uint64_t *a)
{
	int domain = (int)a[0], type = (int)a[1], base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (domain != AF_INET)
		return -EAFNOSUPPORT;
	if (base != SOCK_STREAM && base != SOCK_DGRAM)
		return base == SOCK_RAW ? -EPERM : -EINVAL;
	int h = socket(domain, type | SOCK_CLOEXEC, (int)a[2]);
	if (h < 0)
		return -errno;
	return fdtab__install(&c->vm->fds, h, !!(type & SOCK_CLOEXEC), 0);
}

long sys_socketpair(struct vcpu *c, const uint64_t *a)
{
	int host[2], type = (int)a[1];
	if ((int)a[0] != AF_UNIX)
		return -EAFNOSUPPORT;
	if (!uaccess__ok(c->vm, a[3], 2 * sizeof(int)) || a[3] % sizeof(int))
		return -EFAULT;
	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, (int)a[2], host) < 0)
		return -errno;
	return fd__install_pair(c, host, a[3], !!(type & SOCK_CLOEXEC));
}

long sys_bind(struct vcpu *c, const uint64_t *a)
{
	struct sockaddr_in sa;
	int rc = addr_in(c, a[1], a[2], &sa);
	if (rc < 0)
		return rc;
	if (sa.sin_addr.s_addr != INADDR_ANY && sa.sin_addr.s_addr != c->vm->addr.s_addr)
		return -EADDRNOTAVAIL; /* another VM's address, or not a local one */
	struct hfile *f = fdtab__get(&c->vm->fds, (int)a[0]);
	if (!f)
		return -EBADF;
	rc = bind_to_vm(f->host, c->vm, sa.sin_port);
	fdtab__put(&c->vm->fds, f);
	return rc;
}

long sys_listen(struct vcpu *c, const uint64_t *a)
{
	struct hfile *f = fdtab__get(&c->vm->fds, (int)a[0]);
	if (!f)
		return -EBADF;
	long r = ensure_bound(f->host, c->vm);
	if (!r)
		r = ret_errno(listen(f->host, (int)a[1]));
	fdtab__put(&c->vm->fds, f);
	return r;
}

long sys_connect(struct vcpu *c, const uint64_t *a)
{
	struct sockaddr_in sa;
	int rc = peer_in(c, a[1], a[2], &sa);
	if (rc < 0)
		return rc;
	struct hfile *f = fdtab__get(&c->vm->fds, (int)a[0]);
	if (!f)
		return -EBADF;
	long r = ensure_bound(f->host, c->vm);
	if (!r)
		r = ret_errno(connect(f->host, (struct sockaddr *)&sa, sizeof(sa)));
	fdtab__put(&c->vm->fds, f);
	return r;
}

static long do_accept(struct vcpu *c, const uint64_t *a, int flags)
{
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	struct sockaddr_storage ss;
	socklen_t n = sizeof(ss);
	long room = addr_room(c, a[1], a[2]); /* before taking a connection off the queue */
	if (room < 0)
		return room;
	struct hfile *f = fdtab__get(&c->vm->fds, (int)a[0]);
	if (!f)
		return -EBADF;
	int h = accept4(f->host, (struct sockaddr *)&ss, &n, flags | SOCK_CLOEXEC);
	int err = errno;
	fdtab__put(&c->vm->fds, f);
	if (h < 0)
		return -err;
	int rc = addr_out(c, a[1], a[2], (socklen_t)room, &ss, n);
	if (rc < 0) {
		close(h);
		return rc;
	}
	return fdtab__install(&c->vm->fds, h, !!(flags & SOCK_CLOEXEC), 0);
}

long sys_accept(struct vcpu *c, const uint64_t *a)
{
	return do_accept(c, a, 0);
}

long sys_accept4(struct vcpu *c, const uint64_t *a)
{
	return do_accept(c, a, (int)a[3]);
}

static long sock_name(struct vcpu *c, const uint64_t *a, int peer)
{
	struct sockaddr_storage ss;
	socklen_t n = sizeof(ss);
	if (!a[1])
		return -EFAULT;
	long room = addr_room(c, a[1], a[2]);
	if (room < 0)
		return room;
	struct hfile *f = fdtab__get(&c->vm->fds, (int)a[0]);
	if (!f)
		return -EBADF;
	int r = peer ? getpeername(f->host, (struct sockaddr *)&ss, &n)
	             : getsockname(f->host, (struct sockaddr *)&ss, &n);
	int err = errno;
	fdtab__put(&c->vm->fds, f);
	if (r < 0)
		return -err;
	return addr_out(c, a[1], a[2], (socklen_t)room, &ss, n);
}

long sys_getsockname(struct vcpu *c, const uint64_t *a)
{
	return sock_name(c, a, 0);
}

long sys_getpeername(struct vcpu *c, const uint64_t *a)
{
	return sock_name(c, a, 1);
}

/* Socket options a guest may set: none of them reach beyond its own sockets. */
static int option_allowed(int level, int name)
{
	switch (level) {
	case SOL_SOCKET:
		return name == SO_REUSEADDR || name == SO_REUSEPORT || name == SO_KEEPALIVE ||
		       name == SO_RCVBUF || name == SO_SNDBUF || name == SO_LINGER ||
		       name == SO_RCVTIMEO || name == SO_SNDTIMEO || name == SO_RCVLOWAT ||
		       name == SO_OOBINLINE || name == SO_BROADCAST || name == SO_ERROR ||
		       name == SO_TYPE || name == SO_ACCEPTCONN || name == SO_DOMAIN ||
		       name == SO_PROTOCOL;
	case IPPROTO_TCP:
		return name == TCP_NODELAY || name == TCP_CORK || name == TCP_KEEPIDLE ||
		       name == TCP_KEEPINTVL || name == TCP_KEEPCNT || name == TCP_DEFER_ACCEPT ||
		       name == TCP_QUICKACK || name == TCP_MAXSEG || name == TCP_INFO ||
		       name == TCP_USER_TIMEOUT || name == TCP_FASTOPEN;
	case IPPROTO_IP: return name == IP_TOS || name == IP_TTL || name == IP_RECVERR;
	default: return 0;
	}
}

long sys_setsockopt(struct vcpu *c, const uint64_t *a)
{
	int level = (int)a[1], name = (int)a[2];
	const struct guest_bytes *v;
	if (a[4] > 1024)
		return -EINVAL;
	GUEST_BUF(v, c->vm, a[3], a[4]);
	if (!option_allowed(level, name))
		return -ENOPROTOOPT;
	struct hfile *f = fdtab__get(&c->vm->fds, (int)a[0]);
	if (!f)
		return -EBADF;
	long r = ret_errno(setsockopt(f->host, level, name, v, (socklen_t)a[4]));
	fdtab__put(&c->vm->fds, f);
	return r;
}

long sys_getsockopt(struct vcpu *c, const uint64_t *a)
{
	int level = (int)a[1], name = (int)a[2];
	socklen_t len;
	uint8_t v[1024];
	if (copy_from_guest(c->vm, &len, a[4], 1))
		return -EFAULT;
	if ((int)len < 0)
		return -EINVAL;
	if (len > sizeof(v))
		len = sizeof(v);
	if (!uaccess__ok(c->vm, a[3], len))
		return -EFAULT;
	if (!option_allowed(level, name))
		return -ENOPROTOOPT;
	struct hfile *f = fdtab__get(&c->vm->fds, (int)a[0]);
	if (!f)
		return -EBADF;
	long r = ret_errno(getsockopt(f->host, level, name, v, &len));
	fdtab__put(&c->vm->fds, f);
	if (!r && (copy_to_guest(c->vm, a[3], v, len) || copy_to_guest(c->vm, a[4], &len, 1)))
		return -EFAULT;
	return r;
}

long sys_sendto(struct vcpu *c, const uint64_t *a)
{
	const struct guest_bytes *buf;
	struct sockaddr_in sa;
	GUEST_BUF(buf, c->vm, a[1], a[2]);
	if (a[4]) {
		int rc = peer_in(c, a[4], a[5], &sa);
		if (rc < 0)
			return rc;
	}
	struct hfile *f = fdtab__get(&c->vm->fds, (int)a[0]);
	if (!f)
		return -EBADF;
	long r = a[4] ? ensure_bound(f->host, c->vm) : 0;
	if (!r)
		r = ret_errno(sendto(f->host, buf, a[2], (int)a[3] | MSG_NOSIGNAL,
		                     a[4] ? (struct sockaddr *)&sa : NULL, a[4] ? sizeof(sa) : 0));
	fdtab__put(&c->vm->fds, f);
	return r;
}

long sys_recvfrom(struct vcpu *c, const uint64_t *a)
{
	struct guest_bytes *buf;
	GUEST_BUF(buf, c->vm, a[1], a[2]);
	long room = addr_room(c, a[4], a[5]);
	if (room < 0)
		return room;
	struct sockaddr_storage ss;
	socklen_t n = sizeof(ss);
	struct hfile *f = fdtab__get(&c->vm->fds, (int)a[0]);
	if (!f)
		return -EBADF;
	long r =
	    recvfrom(f->host, buf, a[2], (int)a[3] & ~MSG_CMSG_CLOEXEC, (struct sockaddr *)&ss, &n);
	int err = errno;
	fdtab__put(&c->vm->fds, f);
	if (r < 0)
		return -err;
	int rc = addr_out(c, a[4], a[5], (socklen_t)room, &ss, n);
	return rc < 0 ? rc : r;
}

/* recvmsg's results in the guest's msghdr: the fields Linux writes, and nothing else (the guest
 * may have changed the others meanwhile). */
static int msg_out(struct vcpu *c, uint64_t gmsg, const struct msghdr *m, const struct msghdr *h,
                   const struct sockaddr_storage *ss)
{
	const size_t zero = 0;
	if (m->msg_name) {
		socklen_t k = h->msg_namelen < m->msg_namelen ? h->msg_namelen : m->msg_namelen;
		if (uaccess__out(c->vm, (uint64_t)m->msg_name, ss, k, 1) ||
		    copy_to_guest(c->vm, gmsg + offsetof(struct msghdr, msg_namelen),
		                  &h->msg_namelen, 1))
			return -EFAULT;
	}
	if (copy_to_guest(c->vm, gmsg + offsetof(struct msghdr, msg_controllen), &zero, 1) ||
	    copy_to_guest(c->vm, gmsg + offsetof(struct msghdr, msg_flags), &h->msg_flags, 1))
		return -EFAULT;
	return 0;
}

/* sendmsg/recvmsg: the name and the data; control messages (descriptor passing) are refused. The
 * guest's msghdr is read once, into `m`; everything after uses that copy. */
static long msg_io(struct vcpu *c, const uint64_t *a, int send)
{
	struct msghdr m;
	if (copy_from_guest(c->vm, &m, a[1], 1))
		return -EFAULT;
	if (send && m.msg_controllen)
		return -EINVAL;
	struct iovec iov[64];
	if (m.msg_iovlen > 64)
		return -EMSGSIZE;
	long n = iov__in(c, (uint64_t)m.msg_iov, m.msg_iovlen, iov);
	if (n < 0)
		return n;
	struct sockaddr_in sa;
	struct sockaddr_storage ss;
	struct msghdr h = { .msg_iov = iov, .msg_iovlen = (size_t)n };
	if (send && m.msg_name) {
		int rc = peer_in(c, (uint64_t)m.msg_name, m.msg_namelen, &sa);
		if (rc < 0)
			return rc;
		h.msg_name = &sa;
		h.msg_namelen = sizeof(sa);
	} else if (!send && m.msg_name) {
		if (!uaccess__ok(c->vm, (uint64_t)m.msg_name, m.msg_namelen))
			return -EFAULT;
		h.msg_name = &ss;
		h.msg_namelen = sizeof(ss);
	}
	struct hfile *f = fdtab__get(&c->vm->fds, (int)a[0]);
	if (!f)
		return -EBADF;
	long r = send && h.msg_name ? ensure_bound(f->host, c->vm) : 0;
	if (!r)
		r = send ? sendmsg(f->host, &h, (int)a[2] | MSG_NOSIGNAL)
		         : recvmsg(f->host, &h, (int)a[2] & ~MSG_CMSG_CLOEXEC);
	int err = errno;
	fdtab__put(&c->vm->fds, f);
	if (r < 0)
		return -err;
	if (!send && msg_out(c, a[1], &m, &h, &ss))
		return -EFAULT;
	return r;
}

long sys_sendmsg(struct vcpu *c, const uint64_t *a)
{
	return msg_io(c, a, 1);
}

long sys_recvmsg(struct vcpu *c, const uint64_t *a)
{
	return msg_io(c, a, 0);
}

long sys_shutdown(struct vcpu *c, const uint64_t *a)
{
	struct hfile *f = fdtab__get(&c->vm->fds, (int)a[0]);
	if (!f)
		return -EBADF;
	long r = ret_errno(shutdown(f->host, (int)a[1]));
	fdtab__put(&c->vm->fds, f);
	return r;
}
