/* workloads/mail/mailview.c: what sessions see of a folder while others change it (see
 * mailstore.h): a session's view brought up to date against the folder's index (expunged
 * messages, flag changes, new messages, in that order), each folder's change count that lets an
 * unchanged view skip the comparison, and the watchers that are told of every change (an IMAP
 * session in IDLE, which wakes its connection). */
#include "workloads/mail/mailstore_int.h"

#include <errno.h>
#include <stdlib.h>

void ms_box_changed(struct ms_user *u, struct ms_box *b)
{
	b->changes++;
	for (struct ms_watch *w = u->watch; w; w = w->next)
		if (w->box == b->id)
			w->fn(w);
}

void mstore_watch(struct mstore *st, int user, uint32_t box, struct ms_watch *w)
{
	struct ms_user *u = &st->u[user];
	pthread_mutex_lock(&u->lock);
	w->box = box;
	w->next = u->watch;
	u->watch = w;
	pthread_mutex_unlock(&u->lock);
}

void mstore_unwatch(struct mstore *st, int user, struct ms_watch *w)
{
	struct ms_user *u = &st->u[user];
	pthread_mutex_lock(&u->lock);
	for (struct ms_watch **p = &u->watch; *p; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			break;
		}
	pthread_mutex_unlock(&u->lock);
}

void mstore_view_reset(struct ms_view *v, uint32_t box)
{
	v->box = box;
	v->n = 0;
	v->uidnext = 0;
	v->changes = 0;
}

void mstore_view_free(struct ms_view *v)
{
	free(v->msgs);
	*v = (struct ms_view){ 0 };
}

/* Drops from v what b no longer has (or keeps it, unless expunge) and takes b's flags. Returns
 * whether messages b no longer has were kept. */
static bool view_update(struct ms_view *v, const struct ms_box *b, bool expunge, ms_view_fn *fn,
                        void *ctx)
{
	size_t o = 0, j = 0;
	bool kept = false;
	for (size_t i = 0; i < v->n; i++) {
		struct ms_msg m = v->msgs[i];
		while (j < b->n && b->idx[j].m.uid < m.uid)
			j++;
		bool gone = j == b->n || b->idx[j].m.uid != m.uid;
		if (gone && expunge) {
			if (fn)
				fn(ctx, MS_VIEW_EXPUNGE, o + 1, &m);
			continue;
		}
		kept |= gone;
		v->msgs[o] = m;
		if (!gone && b->idx[j].m.flags != m.flags) {
			v->msgs[o].flags = b->idx[j].m.flags;
			if (fn)
				fn(ctx, MS_VIEW_FLAGS, o + 1, &v->msgs[o]);
		}
		o++;
	}
	v->n = o;
	return kept;
}

/* Appends b's messages above the view's highest UID: 0 or -ENOMEM. */
static int view_add(struct ms_view *v, const struct ms_box *b, ms_view_fn *fn, void *ctx)
{
	size_t lo = ms_idx_above(b, v->n ? v->msgs[v->n - 1].uid : 0);
	size_t add = b->n - lo;
	if (add == 0)
		return 0;
	if (v->n + add > v->cap) {
		size_t nc = v->cap ? v->cap : 64;
		while (nc < v->n + add)
			nc *= 2;
		struct ms_msg *nm = realloc(v->msgs, nc * sizeof(*nm));
		if (!nm)
			return -ENOMEM;
		v->msgs = nm;
		v->cap = nc;
	}
	for (size_t i = lo; i < b->n; i++)
		v->msgs[v->n++] = b->idx[i].m;
	if (fn)
		fn(ctx, MS_VIEW_EXISTS, v->n, NULL);
	return 0;
}

int mstore_view_sync(struct mstore *st, int user, struct ms_view *v, bool expunge, ms_view_fn *fn,
                     void *ctx)
{
	int rc;
	pthread_mutex_lock(&st->u[user].lock);
	struct ms_box *b = ms_box_get(st, user, v->box, &rc);
	if (b && b->changes != v->changes) {
		ms_move_new(st, user, b); /* delivered since: into cur/ (may find one gone) */
		bool kept = view_update(v, b, expunge, fn, ctx);
		rc = view_add(v, b, fn, ctx);
		v->uidnext = b->next_uid;
		if (!rc && !kept) /* else the next sync looks again */
			v->changes = b->changes;
	}
	pthread_mutex_unlock(&st->u[user].lock);
	return rc;
}
