/* workloads/common/handoff.h: a connection handed from one worker thread to another through an
 * epoll set armed with EPOLLONESHOT (vcons-db, vcons-mail).
 *
 * EPOLLONESHOT gives a connection to one worker at a time: the worker that arms it (EPOLL_CTL_ADD
 * or MOD) is done with it before epoll_wait can hand it to another. The kernel orders the two, but
 * C11 does not know that, nor does ThreadSanitizer (it models EPOLL_CTL_ADD as a release, not MOD),
 * so the hand-off is also stated in the language: a release before every arming, an acquire after
 * every event.
 *
 * Contract: the giving worker calls handoff_give() just before the epoll_ctl() that arms the
 * connection and touches the connection no more afterwards (copy its fd first), unless arming
 * failed; the worker that receives an event for it calls handoff_take() before touching it. */
#ifndef VCONS_HANDOFF_H
#define VCONS_HANDOFF_H
#include <stdatomic.h>

struct handoff {
	atomic_uint n; /* hand-offs so far; only its release/acquire ordering matters */
};

static inline void handoff_give(struct handoff *h)
{
	atomic_fetch_add_explicit(&h->n, 1, memory_order_release);
}

static inline void handoff_take(struct handoff *h)
{
	(void)atomic_load_explicit(&h->n, memory_order_acquire);
}

#endif
