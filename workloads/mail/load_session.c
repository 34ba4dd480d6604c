/* workloads/mail/load_session.c: vcons-mail-load's user model as a session flow. Each simulated
 * user runs sessions one after another, each on a new IMAP connection: LOGIN, LIST (and, the
 * first time, CREATE of the folders it lacks), SELECT INBOX; then either an idle session, which
 * watches the mailbox (IDLE, each one ended by DONE at the start of the next command; or NOOP
 * polls), or a working one: the flag resync, the headers of new mail (ENVELOPE, BODYSTRUCTURE,
 * FLAGS, HEADER.FIELDS), reading some bodies or parts, a SEARCH, filing what was read (UID MOVE to
 * a folder or Trash, STORE \Deleted + UID EXPUNGE), sending mail (SMTP, then APPEND to Sent), a
 * visit to another folder, pruning a full folder; LOGOUT. Every engine op is ONE of those commands
 * (or one SMTP delivery), counted as its type; what to do is load_plan.c's, how load_steps.c's.
 * In open loop the gap before each command is exponential with a mean in the profile's
 * proportions (think time, an idle session's watches, the gap between sessions), scaled so that
 * all users together issue --rate commands per second on average. */
#include "workloads/mail/load_sess.h"

#include <stdlib.h>
#include <string.h>

const char *const op_names[OP_TYPES] = {
	[OP_LOGIN] = "login",
	[OP_LIST] = "list",
	[OP_CREATE] = "create",
	[OP_SELECT] = "select",
	[OP_FETCH_FLAGS] = "fetch_flags",
	[OP_FETCH_HEADERS] = "fetch_headers",
	[OP_FETCH_BODY] = "fetch_body",
	[OP_SEARCH] = "search",
	[OP_MOVE] = "move",
	[OP_STORE] = "store",
	[OP_EXPUNGE] = "expunge",
	[OP_NOOP] = "noop",
	[OP_IDLE] = "idle",
	[OP_APPEND] = "append",
	[OP_LOGOUT] = "logout",
	[OP_SMTP] = "smtp",
};

int grow(void *pp, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t nc = *cap ? *cap : 16;
	while (nc < need)
		nc *= 2;
	void *np = realloc(*(void **)pp, nc * elem);
	if (!np)
		return -1;
	*(void **)pp = np;
	*cap = nc;
	return 0;
}

int folder_find(const struct user *u, const char *name)
{
	for (size_t i = 0; i < u->nf; i++)
		if (!strcmp(u->f[i].name, name))
			return (int)i;
	return -1;
}

int folder_add(struct user *u, const char *name)
{
	struct folder *nf = realloc(u->f, (u->nf + 1) * sizeof(*nf));
	if (!nf)
		return -1;
	u->f = nf;
	struct folder *f = &u->f[u->nf];
	*f = (struct folder){ .exists = false };
	snprintf(f->name, sizeof(f->name), "%s", name);
	return (int)u->nf++;
}

int folder_known_add(struct folder *f, uint32_t uid, const char *id)
{
	if (grow(&f->m, &f->cap, f->n + 1, sizeof(*f->m)))
		return -1;
	f->m[f->n].uid = uid;
	snprintf(f->m[f->n].id, sizeof(f->m[0].id), "%s", id);
	f->n++;
	return 0;
}

void folder_known_remove(struct folder *f, uint32_t uid)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->m[i].uid == uid) {
			memmove(f->m + i, f->m + i + 1, (f->n - i - 1) * sizeof(*f->m));
			f->n--;
			return;
		}
}

static int pend_add(struct user *u, uint32_t uid, const char *id, int dest)
{
	if (grow(&u->pend, &u->cappend, u->npend + 1, sizeof(*u->pend)))
		return -1;
	struct pend *p = &u->pend[u->npend++];
	p->uid = uid;
	p->dest = dest;
	snprintf(p->id, sizeof(p->id), "%s", id);
	return 0;
}

static bool pending(const struct user *u, uint32_t uid)
{
	for (size_t i = 0; i < u->npend; i++)
		if (u->pend[i].uid == uid)
			return true;
	return false;
}

/* What becomes of a message just read: its fate, as a pending move or delete. */
static int file_read(struct run *r, struct user *u, struct rng *g, const struct newmsg *m)
{
	int personal = (int)u->nf - FIRST_PERSONAL;
	switch (plan_fate(g, &r->prof)) {
	case FATE_MOVE:
		return pend_add(u, m->uid, m->id,
		                personal > 0 ? FIRST_PERSONAL + plan_folder_pick(g, personal)
		                             : folder_find(u, "Archive"));
	case FATE_TRASH: return pend_add(u, m->uid, m->id, folder_find(u, "Trash"));
	case FATE_DELETE: return pend_add(u, m->uid, m->id, -1);
	default: return 0;
	}
}

/* INBOX beyond folder_max_msgs: its oldest messages (not already being filed) to Archive, down
 * to three quarters of the limit (a client's auto-archive rule). */
static int archive_overflow(struct run *r, struct user *u)
{
	const struct folder *in = &u->f[0];
	size_t keep = (size_t)r->prof.folder_max_msgs * 3 / 4, staying = in->n;
	if (in->n <= (size_t)r->prof.folder_max_msgs)
		return 0;
	for (size_t i = 0; i < u->npend; i++)
		staying--;
	int archive = folder_find(u, "Archive");
	for (size_t i = 0; i < in->n && staying > keep; i++)
		if (!pending(u, in->m[i].uid)) {
			if (pend_add(u, in->m[i].uid, in->m[i].id, archive))
				return -1;
			staying--;
		}
	return 0;
}

/* The next filing command in the selected folder: UID EXPUNGE of the last STORE, a MOVE, a
 * STORE; false when nothing is left to file. */
static bool file_next(struct run *r, struct user *u, int *type, int *rc)
{
	if (u->nbatch) {
		*type = OP_EXPUNGE;
		*rc = step_expunge(r, u);
	} else if (u->npend && u->pend[0].dest >= 0) {
		*type = OP_MOVE;
		*rc = step_move(r, u);
	} else if (u->npend) {
		*type = OP_STORE;
		*rc = step_store(r, u);
	} else {
		return false;
	}
	return true;
}

/* A folder other than INBOX over its limit: Trash is emptied, another loses its oldest messages
 * down to three quarters of the limit. Queues the deletes; the folder's index, -1 when none is
 * full, -2 when out of memory. */
static int prune_pick(struct run *r, struct user *u)
{
	for (size_t i = 1; i < u->nf; i++) {
		struct folder *f = &u->f[i];
		bool trash = !strcmp(f->name, "Trash");
		size_t max = (size_t)(trash ? r->prof.trash_max_msgs : r->prof.folder_max_msgs);
		if (f->n <= max)
			continue;
		size_t drop = trash ? f->n : f->n - max * 3 / 4;
		for (size_t k = 0; k < drop; k++)
			if (pend_add(u, f->m[k].uid, f->m[k].id, -1))
				return -2;
		return (int)i;
	}
	return -1;
}

/* A folder to visit: one of those (not INBOX) holding messages we know, or -1. */
static int visit_pick(struct user *u, struct rng *g)
{
	int cand[64], n = 0;
	for (size_t i = 1; i < u->nf && n < 64; i++)
		if (u->f[i].n)
			cand[n++] = (int)i;
	return n ? cand[rng_range(g, 0, n - 1)] : -1;
}

/* The read phase: the next part of the next message to read (its text, then maybe its
 * attachment; or the whole message), each message filed once read; false when all are done. */
static bool read_next(struct run *r, struct user *u, struct rng *g, int *type, int *rc)
{
	while (u->cursor < u->nnew) {
		const struct newmsg *m = &u->nm[u->cursor];
		int parts = !m->read ? 0 : m->multipart && m->attachment ? 2 : 1;
		*type = OP_FETCH_BODY;
		if (u->sub < parts) {
			*rc = step_read(r, u, m, m->multipart ? u->sub + 1 : 0);
			u->sub++;
			return true;
		}
		if (m->read && file_read(r, u, g, m)) {
			*rc = -1; /* out of memory */
			return true;
		}
		u->cursor++;
		u->sub = 0;
	}
	return false;
}

/* The visit phase: SELECT a folder, list its latest envelopes, read one message. */
static bool visit_next(struct run *r, struct user *u, struct rng *g, int *type, int *rc)
{
	if (!u->plan.visit)
		return false;
	if (u->sub == 0) {
		u->target = visit_pick(u, g);
		if (u->target < 0)
			return false;
		*type = OP_SELECT;
		*rc = step_select(r, u, u->target);
	} else if (u->sub == 1) {
		*type = OP_FETCH_HEADERS;
		*rc = step_fetch_recent(r, u);
	} else if (u->sub == 2 && u->f[u->target].n) {
		const struct folder *f = &u->f[u->target];
		*type = OP_FETCH_BODY;
		*rc = step_read_known(r, u, &f->m[rng_range(g, 0, (int64_t)f->n - 1)]);
	} else {
		return false;
	}
	u->sub++;
	return true;
}

/* The prune phase: pick a full folder, SELECT it, STORE and UID EXPUNGE its oldest. */
static bool prune_next(struct run *r, struct user *u, int *type, int *rc)
{
	if (u->sub == 0) {
		u->sub = 1;
		u->target = prune_pick(r, u);
		if (u->target == -2) {
			*type = OP_STORE;
			*rc = -1; /* out of memory */
			return true;
		}
	}
	if (u->target < 0)
		return false;
	if (u->selected != u->target) {
		*type = OP_SELECT;
		*rc = step_select(r, u, u->target);
		return true;
	}
	return file_next(r, u, type, rc);
}

/* Performs the session's next command; its result, its type in *type. */
static int command(struct run *r, struct user *u, struct rng *g, int *type)
{
	int rc = 0;
	bool need;
	for (;;) {
		switch (u->ph) {
		case PH_LOGIN:
			*type = OP_LOGIN;
			u->ph = PH_LIST;
			return step_login(r, u, g);
		case PH_LIST:
			*type = OP_LIST;
			rc = step_list(r, u, &need);
			u->ph = need ? PH_CREATE : PH_SELECT;
			u->create_next = 1;
			return rc;
		case PH_CREATE:
			while ((size_t)u->create_next < u->nf && u->f[u->create_next].exists)
				u->create_next++;
			if ((size_t)u->create_next < u->nf) {
				*type = OP_CREATE;
				return step_create(r, u, u->create_next++);
			}
			u->ph = PH_SELECT;
			break;
		case PH_SELECT:
			*type = OP_SELECT;
			u->ph = u->plan.idle ? PH_IDLE : PH_FLAGS;
			u->sub = 0;
			return step_select(r, u, 0);
		case PH_IDLE:
			if (u->sub < r->prof.idle_polls) {
				u->sub++;
				*type = u->plan.push ? OP_IDLE : OP_NOOP;
				return u->plan.push ? step_idle(r, u) : step_noop(r, u);
			}
			u->ph = PH_LOGOUT;
			break;
		case PH_FLAGS:
			u->ph = PH_HEADERS;
			if (u->last_uid) {
				*type = OP_FETCH_FLAGS;
				return step_fetch_flags(r, u);
			}
			break;
		case PH_HEADERS:
			*type = OP_FETCH_HEADERS;
			u->ph = PH_READ;
			u->cursor = 0;
			u->sub = 0;
			return step_fetch_headers(r, u, g);
		case PH_READ:
			if (read_next(r, u, g, type, &rc))
				return rc;
			if (archive_overflow(r, u))
				return -1;
			u->ph = PH_SEARCH;
			break;
		case PH_SEARCH:
			u->ph = PH_FILE;
			if (u->plan.search) {
				*type = OP_SEARCH;
				return step_search(r, u, g);
			}
			break;
		case PH_FILE:
			if (file_next(r, u, type, &rc))
				return rc;
			u->ph = PH_SEND;
			u->sends_left = u->plan.sends;
			break;
		case PH_SEND:
			if (u->have_out) {
				*type = OP_APPEND;
				return step_append(r, u);
			}
			if (u->sends_left > 0) {
				u->sends_left--;
				*type = OP_SMTP;
				return step_smtp(r, u, g);
			}
			u->ph = PH_VISIT;
			u->sub = 0;
			break;
		case PH_VISIT:
			if (visit_next(r, u, g, type, &rc))
				return rc;
			u->ph = PH_PRUNE;
			u->sub = 0;
			break;
		case PH_PRUNE:
			if (prune_next(r, u, type, &rc))
				return rc;
			u->ph = PH_LOGOUT;
			break;
		case PH_LOGOUT:
			*type = OP_IDLE; /* a failed DONE is the IDLE's error */
			if (step_idle_done(r, u))
				return -1;
			*type = OP_LOGOUT;
			u->ph = PH_DONE;
			return step_logout(r, u);
		case PH_DONE: return -1; /* not reached: a session starts before */
		}
	}
}

static void session_begin(struct run *r, struct user *u, struct rng *g)
{
	plan_session(g, &r->prof, &u->plan);
	u->ph = PH_LOGIN;
	u->cmds = 0;
	u->sub = 0;
	u->target = -1;
	u->selected = -1;
	u->exists = -1;
	u->nnew = u->cursor = u->nseen = u->npend = u->nbatch = 0;
	u->sends_left = 0;
}

/* The end of a session, done or broken: the connection closed, the session's lists dropped. */
static void session_end(struct user *u)
{
	if (u->up)
		conn_close(&u->imap, &u->imap_tls);
	u->up = u->idling = false;
	if (u->have_out)
		msg_free(&u->out);
	u->have_out = false;
	u->nnew = u->nseen = u->npend = u->nbatch = 0;
	u->ph = PH_DONE;
}

static struct user *user_new(int mbox)
{
	struct user *u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->mbox = mbox;
	u->imap.fd = -1;
	u->ph = PH_DONE;
	u->personal = -1;
	u->selected = -1;
	return u;
}

/* Open loop: the gap to the user's next command. The mean weight it is scaled by is learnt from
 * whole cycles (a session's commands and the gap after it): a running mean over single gaps
 * would count every session's think times before its closing gap and run low. */
static void pace(struct run *r, struct user *u, struct lg_op *op)
{
	if (r->mean_gap_s <= 0)
		return;
	const struct mail_profile *p = &r->prof;
	bool cycle_done = u->ph == PH_DONE;
	/* an idle session watches after each IDLE or NOOP; a polling one also before its first */
	bool watch = u->ph == PH_IDLE && (u->sub > 0 || !u->plan.push);
	double w = cycle_done ? p->session_gap_weight
	           : watch    ? p->idle_poll_weight
	                      : p->think_weight;
	u->cycle_w += w;
	u->cycle_n++;
	pthread_mutex_lock(&r->pace_lock);
	double mean = plan_gap_mean(r->mean_gap_s, w, r->gap_sum, r->gap_n);
	if (cycle_done) {
		r->gap_sum += u->cycle_w;
		r->gap_n += u->cycle_n;
	}
	pthread_mutex_unlock(&r->pace_lock);
	if (cycle_done)
		u->cycle_w = u->cycle_n = 0;
	op->next_gap_ns = (int64_t)(rng_exp(op->rng, mean) * 1e9);
}

int mail_op(void *arg, struct lg_op *op)
{
	struct run *r = arg;
	struct user *u = op->state;
	if (!u) {
		if (!(u = user_new(op->user + 1)))
			return -1;
		op->state = u;
	}
	if (u->ph == PH_DONE)
		session_begin(r, u, op->rng);
	int type = OP_LOGIN;
	int rc = command(r, u, op->rng, &type);
	op->type = type;
	u->cmds++;
	if (rc) {
		atomic_fetch_add(&r->sessions_failed, 1);
		session_end(u);
	} else if (u->ph == PH_DONE) {
		atomic_fetch_add(&r->sessions, 1);
		atomic_fetch_add(&r->session_cmds, (uint64_t)u->cmds);
		session_end(u);
	}
	pace(r, u, op);
	return rc;
}

void mail_user_close(void *arg, void *state)
{
	struct user *u = state;
	(void)arg;
	if (!u)
		return;
	if (u->up) { /* the run ended in a session: leave politely (not counted) */
		struct imap_result res;
		size_t pushed;
		if (u->idling && imap_idle_done(&u->imap, u->idle_tag, &res, &pushed) == 0)
			imap_result_free(&res);
		if (imap_cmd(&u->imap, &u->tag, &res, "LOGOUT") == 0)
			imap_result_free(&res);
	}
	session_end(u);
	for (size_t i = 0; i < u->nf; i++)
		free(u->f[i].m);
	free(u->f);
	free(u->nm);
	free(u->seen);
	free(u->pend);
	free(u->batch);
	SSL_SESSION_free(u->smtp_tls);
	SSL_SESSION_free(u->imap_tls);
	free(u);
}
