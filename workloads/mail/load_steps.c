/* workloads/mail/load_steps.c: the commands of vcons-mail-load's sessions, one function each, on
 * the blocking connections of load_net.c: what is sent, what the answer must be, and what the
 * user and the journal learn from it. Every body read is checked: a whole message against its
 * X-Vcons-Sum and the checksum journalled when it was acknowledged, a MIME part against the
 * X-Vcons-Sum-N its header listed; a UID SEARCH UNSEEN must not name a message this session read,
 * a SUBJECT search must find its message. A wrong answer is an error, printed and counted. */
#include "workloads/mail/load_sess.h"
#include "workloads/mail/mailproto.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const special_folders[FIRST_PERSONAL] = { "INBOX",   "Sent",   "Trash",
	                                              "Archive", "Drafts", "Junk" };

/* The result of a command that needs no more than its status: 0 for OK, else -1. */
static int done(struct imap_result *res, int rc)
{
	if (rc == 0 && strcmp(res->status, "OK"))
		rc = -1;
	imap_result_free(res);
	return rc;
}

int step_login(struct run *r, struct user *u, struct rng *g)
{
	char login[300];
	struct imap_result res;
	if (conn_imap(r, u, g))
		return -1;
	pw_login(r->pw, u->mbox, login, sizeof(login));
	return done(&res, imap_cmd(&u->imap, &u->tag, &res, "LOGIN %s", login));
}

/* The user's folders, the first time: INBOX, the special-use ones, personal Folder1..N, N drawn
 * from a generator seeded by the user's number: a mailbox keeps its folders from run to run. */
static int folders_init(struct run *r, struct user *u)
{
	if (u->personal < 0) {
		struct rng fr;
		rng_seed(&fr, 0x766f6c64657273ULL ^ (uint64_t)u->mbox);
		u->personal = plan_folder_count(&fr, &r->prof);
	}
	for (int i = 0; i < FIRST_PERSONAL; i++)
		if (folder_add(u, special_folders[i]) < 0)
			return -1;
	for (int k = 1; k <= u->personal; k++) {
		char name[32];
		snprintf(name, sizeof(name), "Folder%d", k);
		if (folder_add(u, name) < 0)
			return -1;
	}
	return 0;
}

int step_list(struct run *r, struct user *u, bool *create_needed)
{
	struct imap_result res;
	*create_needed = false;
	if (!u->nf && folders_init(r, u))
		return -1;
	if (imap_cmd(&u->imap, &u->tag, &res, "LIST \"\" \"*\""))
		return -1;
	for (size_t i = 0; i < res.n; i++) {
		char name[256];
		int k;
		if (imap_list_name(res.r[i].text, name, sizeof(name)) &&
		    (k = folder_find(u, !strcasecmp(name, "INBOX") ? "INBOX" : name)) >= 0)
			u->f[k].exists = true;
	}
	for (size_t i = 0; i < u->nf; i++)
		*create_needed |= !u->f[i].exists;
	return done(&res, 0);
}

int step_create(struct run *r, struct user *u, int folder)
{
	struct imap_result res;
	(void)r;
	if (imap_cmd(&u->imap, &u->tag, &res, "CREATE \"%s\"", u->f[folder].name))
		return -1;
	bool ok = !strcmp(res.status, "OK") || strstr(res.tail, "[ALREADYEXISTS]");
	imap_result_free(&res);
	u->f[folder].exists = ok;
	return ok ? 0 : -1;
}

int step_select(struct run *r, struct user *u, int folder)
{
	struct imap_result res;
	(void)r;
	u->selected = -1;
	if (imap_cmd(&u->imap, &u->tag, &res, "SELECT \"%s\"", u->f[folder].name))
		return -1;
	u->exists = imap_exists(&res);
	if (!strcmp(res.status, "OK"))
		u->selected = folder;
	return done(&res, 0);
}

int step_noop(struct run *r, struct user *u)
{
	struct imap_result res;
	(void)r;
	return done(&res, imap_cmd(&u->imap, &u->tag, &res, "NOOP"));
}

int step_idle_done(struct run *r, struct user *u)
{
	struct imap_result res;
	size_t pushed;
	if (!u->idling)
		return 0;
	u->idling = false;
	if (imap_idle_done(&u->imap, u->idle_tag, &res, &pushed))
		return -1;
	if (!strcmp(res.status, "OK"))
		atomic_fetch_add(&r->idle_completed, 1);
	atomic_fetch_add(&r->idle_exists, imap_exists_count(&res, 0, res.n));
	atomic_fetch_add(&r->idle_pushed, imap_exists_count(&res, 0, pushed));
	return done(&res, 0);
}

int step_idle(struct run *r, struct user *u)
{
	struct imap_result res;
	if (step_idle_done(r, u))
		return -1;
	int rc = imap_idle_start(&u->imap, &u->tag, &res);
	imap_result_free(&res);
	if (rc)
		return -1; /* refused (tagged NO or BAD) or the connection failed */
	u->idling = true;
	u->idle_tag = u->tag;
	return 0;
}

int step_fetch_flags(struct run *r, struct user *u)
{
	struct imap_result res;
	(void)r;
	return done(&res,
	            imap_cmd(&u->imap, &u->tag, &res, "UID FETCH 1:%u (UID FLAGS)", u->last_uid));
}

static struct newmsg *newmsg_add(struct user *u)
{
	if (grow(&u->nm, &u->capnew, u->nnew + 1, sizeof(*u->nm)))
		return NULL;
	struct newmsg *m = &u->nm[u->nnew++];
	memset(m, 0, sizeof(*m));
	return m;
}

/* A new INBOX message from its FETCH response: ours (its header names an X-Vcons-Id) is listed,
 * known in INBOX and maybe read; another is left alone. */
static int note_new(struct run *r, struct user *u, struct rng *g, const struct imap_resp *resp,
                    uint32_t uid)
{
	char id[ID_MAX];
	if (!resp->lit || !msg_header(resp->lit, resp->lit_len, "X-Vcons-Id", id, sizeof(id)))
		return 0;
	struct newmsg *m = newmsg_add(u);
	if (!m || folder_known_add(&u->f[0], uid, id))
		return -1;
	m->uid = uid;
	snprintf(m->id, sizeof(m->id), "%s", id);
	m->multipart = imap_multipart(resp->text);
	if (m->multipart &&
	    (!msg_header(resp->lit, resp->lit_len, "X-Vcons-Sum-1", m->sum1, sizeof(m->sum1)) ||
	     !msg_header(resp->lit, resp->lit_len, "X-Vcons-Sum-2", m->sum2, sizeof(m->sum2))))
		m->multipart = false; /* a multipart of another kind: read whole */
	bool seen = strstr(resp->text, "\\Seen") != NULL;
	m->read = !seen && plan_read(g, &r->prof);
	m->attachment = m->multipart && plan_attachment(g, &r->prof);
	return 0;
}

int step_fetch_headers(struct run *r, struct user *u, struct rng *g)
{
	struct imap_result res;
	if (imap_cmd(&u->imap, &u->tag, &res,
	             "UID FETCH %u:* (UID FLAGS RFC822.SIZE ENVELOPE BODYSTRUCTURE "
	             "BODY.PEEK[HEADER.FIELDS (DATE FROM TO CC SUBJECT MESSAGE-ID X-VCONS-ID "
	             "X-VCONS-SUM-1 X-VCONS-SUM-2)])",
	             u->last_uid + 1))
		return -1;
	int rc = 0;
	for (size_t i = 0; i < res.n && rc == 0; i++) {
		uint32_t uid = imap_resp_uid(&res.r[i]);
		if (uid <= u->last_uid)
			continue; /* "n:*" also names the last message when it is older */
		u->last_uid = uid;
		rc = note_new(r, u, g, &res.r[i], uid);
	}
	return done(&res, rc);
}

int step_fetch_recent(struct run *r, struct user *u)
{
	struct imap_result res;
	(void)r;
	long lo = u->exists > VISIT_FETCH ? u->exists - VISIT_FETCH + 1 : 1;
	return done(&res,
	            imap_cmd(&u->imap, &u->tag, &res, "FETCH %ld:* (UID FLAGS ENVELOPE)", lo));
}

static int seen_add(struct user *u, uint32_t uid)
{
	if (grow(&u->seen, &u->capseen, u->nseen + 1, sizeof(*u->seen)))
		return -1;
	u->seen[u->nseen++] = uid;
	return 0;
}

/* A whole message read back: one of ours, the one asked for, with the body it was sent with. */
static int check_whole(struct run *r, struct user *u, const char *data, size_t len,
                       const char *want_id, uint32_t uid)
{
	char id[80], sum[65], actual[65];
	atomic_fetch_add(&r->fetched, 1);
	if (!msg_inspect(data, len, id, sum, actual) || strcmp(id, want_id)) {
		fprintf(stderr, "vcons-mail-load: user%d %s UID %u: not message %s\n", u->mbox,
		        u->f[u->selected].name, uid, want_id);
		atomic_fetch_add(&r->checksum_errors, 1);
		return -1;
	}
	const char *want = journal_sum(r->journal, id, u->mbox);
	if (want)
		atomic_fetch_add(&r->checked_against_journal, 1);
	if (strcmp(sum, actual) || (want && strcmp(want, actual))) {
		atomic_fetch_add(&r->checksum_errors, 1);
		fprintf(stderr, "vcons-mail-load: user%d %s UID %u (%s): body checksum mismatch\n",
		        u->mbox, u->f[u->selected].name, uid, id);
		return -1;
	}
	return 0;
}

/* The literal of the FETCH response for uid, or NULL. */
static const struct imap_resp *literal_of(const struct imap_result *res, uint32_t uid)
{
	for (size_t i = 0; i < res->n; i++)
		if (res->r[i].lit && imap_resp_uid(&res->r[i]) == uid)
			return &res->r[i];
	return NULL;
}

int step_read(struct run *r, struct user *u, const struct newmsg *m, int part)
{
	struct imap_result res;
	int rc =
	    part ? imap_cmd(&u->imap, &u->tag, &res, "UID FETCH %u (UID BODY[%d])", m->uid, part)
	         : imap_cmd(&u->imap, &u->tag, &res, "UID FETCH %u (UID RFC822.SIZE BODY[])",
	                    m->uid);
	if (rc)
		return -1;
	const struct imap_resp *l = literal_of(&res, m->uid);
	if (!l || strcmp(res.status, "OK")) {
		rc = -1;
	} else if (!part) {
		rc = check_whole(r, u, l->lit, l->lit_len, m->id, m->uid);
	} else {
		char actual[65];
		msg_sha256_hex(l->lit, l->lit_len, actual);
		atomic_fetch_add(&r->fetched, 1);
		atomic_fetch_add(&r->parts_checked, 1);
		if (strcmp(actual, part == 1 ? m->sum1 : m->sum2)) {
			atomic_fetch_add(&r->checksum_errors, 1);
			fprintf(stderr,
			        "vcons-mail-load: user%d UID %u (%s): part %d checksum mismatch\n",
			        u->mbox, m->uid, m->id, part);
			rc = -1;
		}
	}
	if (rc == 0 && seen_add(u, m->uid)) /* a non-PEEK fetch sets \Seen */
		rc = -1;
	return done(&res, rc);
}

int step_read_known(struct run *r, struct user *u, const struct kmsg *k)
{
	struct imap_result res;
	if (imap_cmd(&u->imap, &u->tag, &res, "UID FETCH %u (UID RFC822.SIZE BODY[])", k->uid))
		return -1;
	const struct imap_resp *l = literal_of(&res, k->uid);
	int rc = l && !strcmp(res.status, "OK")
	             ? check_whole(r, u, l->lit, l->lit_len, k->id, k->uid)
	             : -1;
	return done(&res, rc);
}

static bool has(const uint32_t *v, long n, uint32_t x)
{
	for (long i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

/* The SEARCH's answer checked: UNSEEN names no message this session read; SUBJECT finds its
 * message. 0, or -1 with the mismatch printed and counted. */
static int check_search(struct run *r, struct user *u, enum search_kind kind, uint32_t want,
                        const uint32_t *got, long n)
{
	const char *why = NULL;
	for (size_t i = 0; kind == SEARCH_UNSEEN && i < u->nseen && !why; i++)
		if (has(got, n, u->seen[i]))
			why = "UNSEEN names a message this session read";
	if (kind == SEARCH_SUBJECT && !has(got, n, want))
		why = "SUBJECT misses its message";
	if (!why)
		return 0;
	atomic_fetch_add(&r->search_errors, 1);
	fprintf(stderr, "vcons-mail-load: user%d INBOX: UID SEARCH %s\n", u->mbox, why);
	return -1;
}

int step_search(struct run *r, struct user *u, struct rng *g)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
		                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	enum search_kind kind = u->plan.search_kind;
	const struct folder *in = &u->f[0];
	struct imap_result res;
	uint32_t want = 0;
	int rc;
	if (kind == SEARCH_SUBJECT && !in->n)
		kind = SEARCH_UNSEEN;
	if (kind == SEARCH_FROM) {
		rc = imap_cmd(&u->imap, &u->tag, &res, "UID SEARCH FROM \"user%d@vcons.test\"",
		              (int)rng_range(g, 1, r->mailboxes));
	} else if (kind == SEARCH_SUBJECT) {
		const struct kmsg *k = &in->m[rng_range(g, 0, (int64_t)in->n - 1)];
		want = k->uid;
		rc = imap_cmd(&u->imap, &u->tag, &res, "UID SEARCH SUBJECT \"vcons load %s\"",
		              k->id);
	} else if (kind == SEARCH_SINCE) {
		time_t t = time(NULL) - (time_t)rng_range(g, 0, 7) * 86400;
		struct tm tm;
		gmtime_r(&t, &tm);
		rc = imap_cmd(&u->imap, &u->tag, &res, "UID SEARCH SINCE %d-%s-%d", tm.tm_mday,
		              mon[tm.tm_mon], tm.tm_year + 1900);
	} else {
		rc = imap_cmd(&u->imap, &u->tag, &res, "UID SEARCH UNSEEN");
	}
	if (rc)
		return -1;
	uint32_t *got;
	long n = imap_search_nums(&res, &got);
	rc = n < 0 || strcmp(res.status, "OK") ? -1 : check_search(r, u, kind, want, got, n);
	free(got);
	return done(&res, rc);
}

static int by_uid(const void *a, const void *b)
{
	const struct pend *x = a, *y = b;
	return (x->uid > y->uid) - (x->uid < y->uid);
}

/* The next batch to file: the pending messages bound for pend[0]'s destination, as many as a UID
 * set of SET_RANGES ranges names, moved into u->batch (sorted) and their set into set; 0 or -1. */
static int take_batch(struct user *u, char *set, size_t cap)
{
	int dest = u->pend[0].dest;
	uint32_t *uids = malloc(u->npend * sizeof(*uids));
	if (!uids || grow(&u->batch, &u->capbatch, u->npend, sizeof(*u->batch))) {
		free(uids);
		return -1;
	}
	struct pend *b = u->batch;
	size_t n = 0;
	for (size_t i = 0; i < u->npend; i++)
		if (u->pend[i].dest == dest)
			b[n++] = u->pend[i];
	qsort(b, n, sizeof(*b), by_uid);
	for (size_t i = 0; i < n; i++)
		uids[i] = b[i].uid;
	u->nbatch = plan_uid_set(uids, n, SET_RANGES, set, cap);
	free(uids);
	size_t o = 0; /* what is left pending, in its order */
	for (size_t i = 0; i < u->npend; i++) {
		bool taken = false;
		for (size_t k = 0; k < u->nbatch && !taken; k++)
			taken = b[k].uid == u->pend[i].uid;
		if (!taken)
			u->pend[o++] = u->pend[i];
	}
	u->npend = o;
	u->batch_folder = u->selected;
	return u->nbatch ? 0 : -1;
}

/* A batch whose fate is unknown (its command failed): forgotten, as the journal allows. */
static int drop_batch(struct user *u)
{
	for (size_t i = 0; i < u->nbatch; i++)
		folder_known_remove(&u->f[u->batch_folder], u->batch[i].uid);
	u->nbatch = 0;
	return -1;
}

int step_move(struct run *r, struct user *u)
{
	char set[SET_RANGES * 24];
	struct imap_result res;
	if (take_batch(u, set, sizeof(set)))
		return -1;
	const struct folder *to = &u->f[u->batch[0].dest];
	for (size_t i = 0; i < u->nbatch; i++)
		journal_move(r->journal, u->batch[i].id, u->mbox, to->name, false);
	if (imap_cmd(&u->imap, &u->tag, &res, "UID MOVE %s \"%s\"", set, to->name))
		return drop_batch(u);
	if (strcmp(res.status, "OK")) {
		imap_result_free(&res);
		return drop_batch(u);
	}
	int rc = 0;
	for (size_t i = 0; i < u->nbatch; i++) {
		const struct pend *p = &u->batch[i];
		uint32_t nu = imap_copyuid(&res, p->uid);
		journal_move(r->journal, p->id, u->mbox, to->name, true);
		folder_known_remove(&u->f[u->batch_folder], p->uid);
		if (nu && folder_known_add(&u->f[p->dest], nu, p->id))
			rc = -1;
	}
	atomic_fetch_add(&r->moved, u->nbatch);
	u->nbatch = 0;
	return done(&res, rc);
}

int step_store(struct run *r, struct user *u)
{
	char set[SET_RANGES * 24];
	struct imap_result res;
	if (take_batch(u, set, sizeof(set)))
		return -1;
	for (size_t i = 0; i < u->nbatch; i++)
		journal_delete(r->journal, u->batch[i].id, u->mbox, false);
	int rc = imap_cmd(&u->imap, &u->tag, &res, "UID STORE %s +FLAGS.SILENT (\\Deleted)", set);
	if (done(&res, rc))
		return drop_batch(u);
	return 0; /* the batch waits for its UID EXPUNGE */
}

int step_expunge(struct run *r, struct user *u)
{
	char set[SET_RANGES * 24];
	struct imap_result res;
	uint32_t *uids = malloc(u->nbatch * sizeof(*uids));
	if (!uids)
		return drop_batch(u);
	for (size_t i = 0; i < u->nbatch; i++)
		uids[i] = u->batch[i].uid;
	size_t n = plan_uid_set(uids, u->nbatch, SET_RANGES, set, sizeof(set));
	free(uids);
	if (n != u->nbatch || done(&res, imap_cmd(&u->imap, &u->tag, &res, "UID EXPUNGE %s", set)))
		return drop_batch(u);
	for (size_t i = 0; i < u->nbatch; i++) {
		journal_delete(r->journal, u->batch[i].id, u->mbox, true);
		folder_known_remove(&u->f[u->batch_folder], u->batch[i].uid);
	}
	atomic_fetch_add(&r->deleted, u->nbatch);
	u->nbatch = 0;
	return 0;
}

/* 1..recipients_max distinct recipients from 1..mailboxes, the sender not among them (its copy
 * goes to Sent) unless it is the only mailbox. Their count. */
static int recipients(struct run *r, struct rng *g, int self, int *rcpt)
{
	int others = r->mailboxes > 1 ? r->mailboxes - 1 : 1;
	int n = (int)rng_range(g, 1, r->prof.recipients_max);
	if (n > others)
		n = others;
	for (int i = 0; i < n; i++) {
		int k;
		bool dup;
		do {
			k = (int)rng_range(g, 1, r->mailboxes);
			dup = k == self && r->mailboxes > 1;
			for (int j = 0; j < i; j++)
				dup |= rcpt[j] == k;
		} while (dup);
		rcpt[i] = k;
	}
	return n;
}

/* One SMTP transaction of the user's message on its own connection; 0 when the server said 250
 * to it. */
static int smtp_deliver(struct run *r, struct user *u, struct rng *g, const int *rcpt, int n)
{
	const struct gen_msg *m = &u->out;
	size_t need = mp_data_stuff(m->data, m->len, NULL, 0);
	char *stuffed = malloc(need);
	struct mconn c;
	int rc = -1;
	if (!stuffed)
		return -1;
	mp_data_stuff(m->data, m->len, stuffed, need);
	if (conn_smtp(r, u, &c, g)) {
		free(stuffed);
		return -1;
	}
	if (smtp_cmd(&c, "MAIL FROM:<user%d@vcons.test> SIZE=%zu", u->mbox, m->len) != 250)
		goto out;
	for (int i = 0; i < n; i++)
		if (smtp_cmd(&c, "RCPT TO:<user%d@vcons.test>", rcpt[i]) != 250)
			goto out;
	if (smtp_cmd(&c, "DATA") != 354 || mconn_send(&c, stuffed, need) || smtp_reply(&c) != 250)
		goto out;
	rc = 0;
	smtp_cmd(&c, "QUIT");
out:
	conn_close(&c, &u->smtp_tls);
	free(stuffed);
	return rc;
}

int step_smtp(struct run *r, struct user *u, struct rng *g)
{
	int rcpt[100], n = recipients(r, g, u->mbox, rcpt);
	char id[80];
	snprintf(id, sizeof(id), "%s-%d-%u", r->run_id, u->mbox, ++u->seq);
	bool multipart = rng_uniform(g) * 100 < r->prof.multipart_pct;
	if (msg_build(&u->out, g, id, u->mbox, rcpt, n, msg_size_draw(g, &r->prof), multipart))
		return -1;
	if (smtp_deliver(r, u, g, rcpt, n)) {
		msg_free(&u->out);
		return -1;
	}
	for (int i = 0; i < n; i++)
		journal_acked(r->journal, u->out.id, rcpt[i], u->out.sum, NULL);
	atomic_fetch_add(&r->sent, 1);
	atomic_fetch_add(&r->acked_rcpts, (uint64_t)n);
	if (r->mailboxes > 1)
		u->have_out = true; /* its copy goes to Sent next */
	else
		msg_free(&u->out);
	return 0;
}

int step_append(struct run *r, struct user *u)
{
	struct imap_result res;
	int sent = folder_find(u, "Sent");
	int rc = imap_cmd_lit(&u->imap, &u->tag, &res, u->out.data, u->out.len,
	                      "APPEND \"Sent\" (\\Seen)");
	if (rc == 0 && !strcmp(res.status, "OK")) {
		uint32_t uid = imap_appenduid(&res);
		journal_acked(r->journal, u->out.id, u->mbox, u->out.sum, "Sent");
		atomic_fetch_add(&r->appended, 1);
		if (uid && sent >= 0 && folder_known_add(&u->f[sent], uid, u->out.id))
			rc = -1;
	} else {
		rc = -1;
	}
	msg_free(&u->out);
	u->have_out = false;
	return done(&res, rc);
}

int step_logout(struct run *r, struct user *u)
{
	struct imap_result res;
	(void)r;
	return done(&res, imap_cmd(&u->imap, &u->tag, &res, "LOGOUT"));
}
