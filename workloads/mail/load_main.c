/* workloads/mail/load_main.c: vcons-mail-load, the mail VM's load generator. Simulated users in the
 * style of SPECmail: each user sends mail (SMTP, 1..N recipients, log-normal sizes), checks its
 * inbox (IMAP, a session it keeps open), fetches each new message and checks it against the
 * checksum it was sent with, and deletes most of what it read. A share of the SMTP connections
 * and IMAP sessions (tls_pct) runs under TLS, on the implicit-TLS ports or after STARTTLS, and
 * authenticates (SMTP AUTH PLAIN, IMAP LOGIN) inside it. Scheduling, latency histograms and
 * interval reports come from workloads/common/loadgen. --verify checks a journal of acknowledged
 * messages instead. */
#include "workloads/mail/load.h"
#include "workloads/mail/mailproto.h"
#include "lib/net.h"
#include "lib/opt.h"

#include <errno.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "workloads/common/loadgen.h"
#include "workloads/common/report.h"

enum { OP_SEND, OP_CHECK, OP_FETCH, OP_DELETE, OP_TYPES };
static const char *const op_names[OP_TYPES] = { "send", "check", "fetch", "delete" };
#define DELETE_BATCH 32 /* UIDs per STORE (the server takes up to 32 ranges per set) */

struct run {
	const char *host;
	int smtp_port, imap_port, smtps_port, imaps_port;
	SSL_CTX *tls;  /* NULL when no session uses TLS */
	int mailboxes; /* users provisioned on the server: recipients are drawn from 1..mailboxes */
	struct mail_profile prof;
	struct journal *journal;
	const struct passwords *pw;
	char run_id[24];
	_Atomic uint64_t fetched, checked_against_journal, checksum_errors, sent, acked_rcpts;
	_Atomic uint64_t sessions, tls_sessions, tls_resumed;
};

struct user_state {
	struct mconn imap;
	bool imap_up;
	unsigned tag;
	uint32_t last_uid;
	uint32_t *fetchq;
	size_t nfetch, capf;
	struct del {
		uint32_t uid;
		char id[80];
	} * delq;
	size_t ndel, capd;
	unsigned seq;
	SSL_SESSION *smtp_tls, *imap_tls; /* to resume, as mail clients do */
};

static void nap_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

enum sess_mode { MODE_PLAIN, MODE_STARTTLS, MODE_IMPLICIT };

/* A new session's transport, by the profile's TLS shares (no draw when nothing uses TLS, so
 * plain runs make the same choices from a seed as before). */
static enum sess_mode draw_mode(struct run *r, struct rng *g)
{
	atomic_fetch_add(&r->sessions, 1);
	if (r->prof.tls_pct <= 0 || rng_uniform(g) * 100 >= r->prof.tls_pct)
		return MODE_PLAIN;
	return rng_uniform(g) * 100 < r->prof.tls_implicit_pct ? MODE_IMPLICIT : MODE_STARTTLS;
}

/* The client's TLS handshake on c, resuming *keep if it can. 0 or -1. */
static int tls_start(struct run *r, struct mconn *c, SSL_SESSION *const *keep)
{
	if (mconn_tls(c, r->tls, *keep))
		return -1;
	atomic_fetch_add(&r->tls_sessions, 1);
	if (SSL_session_reused(c->ssl))
		atomic_fetch_add(&r->tls_resumed, 1);
	return 0;
}

/* Connects for a send: greeting and EHLO; under TLS (implicit, or STARTTLS and EHLO again) also
 * AUTH PLAIN as user mbox (RFC 4954; the submission port requires it). 0, or -1 (c closed only
 * when it was never opened). */
static int smtp_begin(struct run *r, struct user_state *s, struct mconn *c, struct rng *g, int mbox)
{
	enum sess_mode m = draw_mode(r, g);
	if (mconn_open(c, r->host, m == MODE_IMPLICIT ? r->smtps_port : r->smtp_port, 30000)) {
		nap_ms(20); /* server down: do not spin */
		return -1;
	}
	if ((m == MODE_IMPLICIT && tls_start(r, c, &s->smtp_tls)) || smtp_reply(c) != 220 ||
	    smtp_cmd(c, "EHLO load.vcons.test") != 250)
		return -1;
	if (m == MODE_STARTTLS &&
	    (smtp_cmd(c, "STARTTLS") != 220 || tls_start(r, c, &s->smtp_tls) ||
	     smtp_cmd(c, "EHLO load.vcons.test") != 250))
		return -1;
	if (m == MODE_PLAIN)
		return 0;
	char name[32], resp[2 * MP_SASL_MAX];
	const char *pass = pw_pass(r->pw, mbox, name);
	if (mp_sasl_plain_encode(name, pass, resp, sizeof(resp)) < 0)
		return -1;
	return smtp_cmd(c, "AUTH PLAIN %s", resp) == 235 ? 0 : -1;
}

static int do_send(struct run *r, struct lg_op *op, int mbox)
{
	int rcpt[100], n = (int)rng_range(op->rng, 1, r->prof.recipients_max);
	if (n > r->mailboxes)
		n = r->mailboxes;
	for (int i = 0; i < n; i++) { /* distinct recipients */
		int u;
		bool dup;
		do {
			u = (int)rng_range(op->rng, 1, r->mailboxes);
			dup = false;
			for (int k = 0; k < i; k++)
				dup |= rcpt[k] == u;
		} while (dup);
		rcpt[i] = u;
	}
	struct user_state *s = op->state;
	char id[80];
	snprintf(id, sizeof(id), "%s-%d-%u", r->run_id, mbox, ++s->seq);
	struct gen_msg m;
	if (msg_build(&m, op->rng, id, mbox, rcpt, n, msg_size_draw(op->rng, &r->prof)))
		return -1;
	size_t need = mp_data_stuff(m.data, m.len, NULL, 0);
	char *stuffed = malloc(need);
	struct mconn c; /* set up by smtp_begin's mconn_open */
	int rc = -1;
	if (!stuffed)
		goto out_msg;
	mp_data_stuff(m.data, m.len, stuffed, need);
	if (smtp_begin(r, s, &c, op->rng, mbox) ||
	    smtp_cmd(&c, "MAIL FROM:<user%d@vcons.test> SIZE=%zu", mbox, m.len) != 250)
		goto out_conn;
	for (int i = 0; i < n; i++)
		if (smtp_cmd(&c, "RCPT TO:<user%d@vcons.test>", rcpt[i]) != 250)
			goto out_conn;
	if (smtp_cmd(&c, "DATA") != 354 || mconn_send(&c, stuffed, need) || smtp_reply(&c) != 250)
		goto out_conn;
	for (int i = 0; i < n; i++)
		journal_acked(r->journal, m.id, rcpt[i], m.sum);
	atomic_fetch_add(&r->sent, 1);
	atomic_fetch_add(&r->acked_rcpts, (uint64_t)n);
	rc = 0;
	smtp_cmd(&c, "QUIT");
out_conn:
	mconn_tls_keep(&c, &s->smtp_tls);
	mconn_close(&c);
	free(stuffed);
out_msg:
	msg_free(&m);
	return rc;
}

static void imap_down(struct user_state *s)
{
	if (s->imap_up) {
		mconn_tls_keep(&s->imap, &s->imap_tls);
		mconn_close(&s->imap);
	}
	s->imap_up = false;
}

/* Makes sure the user has a logged-in IMAP session with INBOX selected (under TLS on the
 * implicit-TLS port or after STARTTLS, as drawn). */
static int imap_up(struct run *r, struct user_state *s, struct rng *g, int mbox)
{
	if (s->imap_up)
		return 0;
	char line[512];
	struct imap_result res;
	enum sess_mode m = draw_mode(r, g);
	if (mconn_open(&s->imap, r->host, m == MODE_IMPLICIT ? r->imaps_port : r->imap_port,
	               30000)) {
		nap_ms(20);
		return -1;
	}
	s->imap_up = true;
	if ((m == MODE_IMPLICIT && tls_start(r, &s->imap, &s->imap_tls)) ||
	    mconn_line(&s->imap, line, sizeof(line)) < 0 || strncmp(line, "* OK", 4))
		goto fail;
	if (m == MODE_STARTTLS) {
		if (imap_cmd(&s->imap, &s->tag, &res, "STARTTLS"))
			goto fail;
		bool ok = !strcmp(res.status, "OK");
		imap_result_free(&res);
		if (!ok || tls_start(r, &s->imap, &s->imap_tls))
			goto fail;
	}
	char login[300];
	pw_login(r->pw, mbox, login, sizeof(login));
	if (imap_cmd(&s->imap, &s->tag, &res, "LOGIN %s", login))
		goto fail;
	bool ok = !strcmp(res.status, "OK");
	imap_result_free(&res);
	if (!ok || imap_cmd(&s->imap, &s->tag, &res, "SELECT INBOX"))
		goto fail;
	ok = !strcmp(res.status, "OK");
	imap_result_free(&res);
	if (ok)
		return 0;
fail:
	imap_down(s);
	return -1;
}

static int do_check(struct run *r, struct lg_op *op, struct user_state *s, int mbox)
{
	struct imap_result res;
	if (imap_up(r, s, op->rng, mbox))
		return -1;
	if (imap_cmd(&s->imap, &s->tag, &res, "NOOP"))
		goto fail;
	imap_result_free(&res);
	if (imap_cmd(&s->imap, &s->tag, &res, "UID FETCH %u:* (UID RFC822.SIZE)", s->last_uid + 1))
		goto fail;
	int rc = strcmp(res.status, "OK") ? -1 : 0;
	for (size_t i = 0; i < res.n && rc == 0; i++) {
		uint32_t uid = imap_resp_uid(&res.r[i]);
		if (uid <= s->last_uid)
			continue; /* "n:*" also names the last message when it is older */
		if (s->nfetch == s->capf) {
			size_t nc = s->capf ? s->capf * 2 : 16;
			uint32_t *nq = realloc(s->fetchq, nc * sizeof(*nq));
			if (!nq) {
				rc = -1;
				break;
			}
			s->fetchq = nq;
			s->capf = nc;
		}
		s->fetchq[s->nfetch++] = uid;
		s->last_uid = uid;
	}
	imap_result_free(&res);
	return rc;
fail:
	imap_down(s);
	return -1;
}

static int do_fetch(struct run *r, struct lg_op *op, struct user_state *s, int mbox)
{
	uint32_t uid = s->fetchq[0];
	memmove(s->fetchq, s->fetchq + 1, --s->nfetch * sizeof(*s->fetchq));
	struct imap_result res;
	if (imap_up(r, s, op->rng, mbox))
		return -1;
	if (imap_cmd(&s->imap, &s->tag, &res, "UID FETCH %u (UID RFC822.SIZE BODY[])", uid)) {
		imap_down(s);
		return -1;
	}
	int rc = -1;
	for (size_t i = 0; i < res.n; i++) {
		char id[80], sum[65], actual[65];
		if (!res.r[i].lit || imap_resp_uid(&res.r[i]) != uid)
			continue;
		atomic_fetch_add(&r->fetched, 1);
		if (!msg_inspect(res.r[i].lit, res.r[i].lit_len, id, sum, actual)) {
			rc = 0; /* not generated by us (a test's message): nothing to check */
			break;
		}
		const char *want = journal_sum(r->journal, id, mbox);
		if (want)
			atomic_fetch_add(&r->checked_against_journal, 1);
		if (strcmp(sum, actual) || (want && strcmp(want, actual))) {
			atomic_fetch_add(&r->checksum_errors, 1);
			fprintf(stderr,
			        "vcons-mail-load: user%d UID %u (%s): body checksum mismatch\n",
			        mbox, uid, id);
			break;
		}
		rc = 0;
		if (rng_uniform(op->rng) * 100 < r->prof.delete_pct) {
			if (s->ndel == s->capd) {
				size_t nc = s->capd ? s->capd * 2 : 16;
				struct del *nd = realloc(s->delq, nc * sizeof(*nd));
				if (!nd)
					break;
				s->delq = nd;
				s->capd = nc;
			}
			s->delq[s->ndel].uid = uid;
			snprintf(s->delq[s->ndel].id, sizeof(s->delq[0].id), "%s", id);
			s->ndel++;
		}
		break;
	}
	if (strcmp(res.status, "OK"))
		rc = -1;
	imap_result_free(&res);
	return rc;
}

static int do_delete(struct run *r, struct lg_op *op, struct user_state *s, int mbox)
{
	size_t n = s->ndel < DELETE_BATCH ? s->ndel : DELETE_BATCH;
	char set[DELETE_BATCH * 12];
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		o += (size_t)snprintf(set + o, sizeof(set) - o, "%s%u", i ? "," : "",
		                      s->delq[i].uid);
		journal_delete(r->journal, s->delq[i].id, mbox, false);
	}
	struct imap_result res;
	int rc = -1;
	if (imap_up(r, s, op->rng, mbox))
		goto drop;
	if (imap_cmd(&s->imap, &s->tag, &res, "UID STORE %s +FLAGS.SILENT (\\Deleted)", set)) {
		imap_down(s);
		goto drop;
	}
	bool ok = !strcmp(res.status, "OK");
	imap_result_free(&res);
	if (!ok || imap_cmd(&s->imap, &s->tag, &res, "EXPUNGE")) {
		imap_down(s);
		goto drop;
	}
	ok = !strcmp(res.status, "OK");
	imap_result_free(&res);
	if (ok) {
		for (size_t i = 0; i < n; i++)
			journal_delete(r->journal, s->delq[i].id, mbox, true);
		rc = 0;
	}
drop: /* whether or not it worked, these are not retried: the journal says they may be gone */
	memmove(s->delq, s->delq + n, (s->ndel - n) * sizeof(*s->delq));
	s->ndel -= n;
	return rc;
}

static int mail_op(void *arg, struct lg_op *op)
{
	struct run *r = arg;
	struct user_state *s = op->state;
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -1;
		s->imap.fd = -1;
		op->state = s;
	}
	int mbox = op->user + 1;
	if (s->nfetch) {
		op->type = OP_FETCH;
		return do_fetch(r, op, s, mbox);
	}
	if (s->ndel) {
		op->type = OP_DELETE;
		return do_delete(r, op, s, mbox);
	}
	double w = r->prof.send_weight + r->prof.check_weight;
	if (rng_uniform(op->rng) * w < r->prof.send_weight) {
		op->type = OP_SEND;
		return do_send(r, op, mbox);
	}
	op->type = OP_CHECK;
	return do_check(r, op, s, mbox);
}

static void user_close(void *arg, void *state)
{
	(void)arg;
	struct user_state *s = state;
	if (!s)
		return;
	if (s->imap_up) {
		struct imap_result res;
		if (imap_cmd(&s->imap, &s->tag, &res, "LOGOUT") == 0)
			imap_result_free(&res);
	}
	imap_down(s);
	SSL_SESSION_free(s->smtp_tls);
	SSL_SESSION_free(s->imap_tls);
	free(s->fetchq);
	free(s->delq);
	free(s);
}

struct opts {
	struct run run;
	struct lg_config lg;
	const char *profile, *journal, *passwords, *cacert;
	double tls_pct, tls_implicit_pct; /* -1: the profile's */
	bool verify, json;
};

static int parse_opts(int argc, char **argv, struct opts *o)
{
	long long seed = 0;
	const struct opt opts[] = {
		{ OPT_STRING("target", &o->run.host), .arg = "HOST", .help = "server address",
		  .def = "127.0.0.1" },
		{ OPT_INT("smtp-port", &o->run.smtp_port, 1, 65535), .help = "SMTP port",
		  .def = "2525" },
		{ OPT_INT("imap-port", &o->run.imap_port, 1, 65535), .help = "IMAP port",
		  .def = "1143" },
		{ OPT_INT("smtps-port", &o->run.smtps_port, 1, 65535),
		  .help = "SMTP submission over TLS port", .def = "2465" },
		{ OPT_INT("imaps-port", &o->run.imaps_port, 1, 65535), .help = "IMAP over TLS port",
		  .def = "1993" },
		{ OPT_DOUBLE("tls-pct", &o->tls_pct, 0, 100), .arg = "PCT",
		  .help = "% of SMTP connections and IMAP sessions under TLS (they\n"
		          "authenticate: SMTP AUTH PLAIN, IMAP LOGIN)",
		  .def = "the profile's tls_pct: 0" },
		{ OPT_DOUBLE("tls-implicit-pct", &o->tls_implicit_pct, 0, 100), .arg = "PCT",
		  .help = "% of the TLS ones on the implicit-TLS ports (the rest: STARTTLS)",
		  .def = "the profile's tls_implicit_pct: 50" },
		{ OPT_STRING("cacert", &o->cacert), .arg = "FILE",
		  .help = "check the server's TLS certificate against FILE (vcons-mail's\n"
		          "DATA/cert.pem) and --target",
		  .def = "not checked" },
		{ OPT_INT("users", &o->lg.users, 1, 100000),
		  .help = "simulated users = mailboxes user1..userN used", .def = "10" },
		{ OPT_INT("mailboxes", &o->run.mailboxes, 1, 1000000),
		  .help = "recipients drawn from user1..userN", .def = "--users" },
		{ OPT_DOUBLE("rate", &o->lg.rate, 0.001, 1e7), .arg = "OPS_PER_S",
		  .help = "open loop at this total rate", .def = "closed loop" },
		{ OPT_INT("threads", &o->lg.threads, 1, 1024), .help = "open-loop worker threads",
		  .def = "the engine's" },
		{ OPT_DOUBLE("duration", &o->lg.duration_s, 0.1, 1e7), .arg = "S",
		  .help = "run length", .def = "10" },
		{ OPT_DOUBLE("interval", &o->lg.interval_s, 0, 1e6), .arg = "S",
		  .help = "report period", .def = "1" },
		{ OPT_STRING("profile", &o->profile), .arg = "FILE",
		  .help = "YAML profile: send_weight, check_weight, delete_pct, recipients_max,\n"
		          "size_median_bytes, size_sigma, size_max_bytes, tls_pct,\n"
		          "tls_implicit_pct" },
		{ OPT_STRING("journal", &o->journal), .arg = "FILE",
		  .help = "append every acknowledged message (id, recipient, sha256) here" },
		{ OPT_STRING("passwords", &o->passwords), .arg = "FILE",
		  .help = "'user:password' lines, as given to vcons-mail",
		  .def = "password = name" },
		{ OPT_FLAG("verify", &o->verify),
		  .help = "check the --journal against the server over IMAP; exit 0 only if no\n"
		          "acknowledged message is lost or damaged" },
		{ OPT_FLAG("json", &o->json),
		  .help = "JSON lines (intervals, summaries) on stdout" },
		{ OPT_INT("csu", &o->lg.csu, 0, 1000000), .help = "CSU number in reports",
		  .def = "0" },
		{ OPT_LLONG("seed", &seed, 0, 1000000000000000000LL), .help = "random seed" },
		OPT_END,
	};
	struct opt_cmd cmd = {
		.prog = "vcons-mail-load",
		.about =
		    "  drives vcons-mail with SPECmail-style users: send (SMTP), check, fetch, "
		    "delete (IMAP)\n",
		.footer =
		    "Exit: 0 ok, 1 a checksum mismatch (or, with --verify, a lost message), 2 bad "
		    "option.\n",
		.opts = opts,
	};
	seed = (long long)o->lg.seed;
	int rc = opt_parse(&cmd, argc, argv);
	if (rc != OPT_RUN)
		return rc;
	o->lg.seed = (uint64_t)seed;
	if (o->lg.rate > 0)
		o->lg.mode = LG_OPEN;
	if (o->verify && !o->journal) {
		fprintf(stderr, "vcons-mail-load: --verify needs --journal FILE\n");
		return 2;
	}
	if (!o->run.mailboxes)
		o->run.mailboxes = o->lg.users;
	if (o->lg.users > o->run.mailboxes) {
		fprintf(stderr,
		        "vcons-mail-load: --users %d exceeds --mailboxes %d (one session per "
		        "mailbox)\n",
		        o->lg.users, o->run.mailboxes);
		return 2;
	}
	return OPT_RUN;
}

static void print_summary(struct lg *lg, struct run *r, bool json, int csu)
{
	if (json) {
		json_t *o = report_new("mail-checks", "mail-load", csu, "host_ns");
		json_object_set_new(o, "sent", json_integer((json_int_t)r->sent));
		json_object_set_new(o, "acked_recipients",
		                    json_integer((json_int_t)r->acked_rcpts));
		json_object_set_new(o, "fetched", json_integer((json_int_t)r->fetched));
		json_object_set_new(o, "checked_against_journal",
		                    json_integer((json_int_t)r->checked_against_journal));
		json_object_set_new(o, "checksum_errors",
		                    json_integer((json_int_t)r->checksum_errors));
		json_object_set_new(o, "sessions", json_integer((json_int_t)r->sessions));
		json_object_set_new(o, "tls_sessions", json_integer((json_int_t)r->tls_sessions));
		json_object_set_new(o, "tls_resumed", json_integer((json_int_t)r->tls_resumed));
		report_write(stdout, o);
		return;
	}
	for (int t = 0; t <= OP_TYPES; t++) {
		struct lg_totals tot;
		if (lg_totals(lg, t, &tot))
			continue;
		struct hdr_summary hs;
		hdr_summarise(tot.hist, &hs);
		printf("%-7s %8llu ops %6llu errors %9.1f ops/s  p50 %7lld us  p99 %7lld us  max "
		       "%8lld "
		       "us\n",
		       t == OP_TYPES ? "all" : op_names[t], (unsigned long long)tot.ops,
		       (unsigned long long)tot.errors, tot.ops_per_s, (long long)hs.p50_us,
		       (long long)hs.p99_us, (long long)hs.max_us);
	}
	printf(
	    "messages: %llu sent (%llu recipient copies acknowledged), %llu fetched, %llu checked "
	    "against the record of what was sent, %llu checksum errors\n",
	    (unsigned long long)r->sent, (unsigned long long)r->acked_rcpts,
	    (unsigned long long)r->fetched, (unsigned long long)r->checked_against_journal,
	    (unsigned long long)r->checksum_errors);
	printf("sessions: %llu (SMTP connections and IMAP sessions), %llu under TLS, %llu of them "
	       "resumed\n",
	       (unsigned long long)r->sessions, (unsigned long long)r->tls_sessions,
	       (unsigned long long)r->tls_resumed);
}

/* The profile's TLS shares, unless the command line set them; the client context if any session
 * uses TLS. 0, or -1 after a message. */
static int tls_setup(struct opts *o)
{
	struct mail_profile *p = &o->run.prof;
	if (o->tls_pct >= 0)
		p->tls_pct = o->tls_pct;
	if (o->tls_implicit_pct >= 0)
		p->tls_implicit_pct = o->tls_implicit_pct;
	if (p->tls_pct <= 0)
		return 0;
	char err[512];
	o->run.tls = mconn_tls_ctx(o->cacert, o->run.host, err, sizeof(err));
	if (!o->run.tls) {
		fprintf(stderr, "vcons-mail-load: %s\n", err);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .run = { .host = "127.0.0.1",
		                   .smtp_port = 2525,
		                   .imap_port = 1143,
		                   .smtps_port = 2465,
		                   .imaps_port = 1993 },
		          .tls_pct = -1,
		          .tls_implicit_pct = -1,
		          .lg = { .role = "mail-load",
		                  .mode = LG_CLOSED,
		                  .users = 10,
		                  .duration_s = 10,
		                  .interval_s = 1 } };
	profile_defaults(&o.run.prof);
	int rc = parse_opts(argc, argv, &o);
	if (rc != OPT_RUN)
		return rc;
	char err[512];
	struct passwords *pw = passwords_load(o.passwords, err, sizeof(err));
	if (!pw) {
		fprintf(stderr, "vcons-mail-load: %s\n", err);
		return 1;
	}
	o.run.pw = pw;
	if (o.verify) {
		struct verify_cfg vc = { .host = o.run.host,
			                 .imap_port = o.run.imap_port,
			                 .journal = o.journal,
			                 .pw = pw,
			                 .out = stdout,
			                 .csu = o.lg.csu,
			                 .json = o.json };
		rc = verify_run(&vc);
		passwords_free(pw);
		return rc < 0 ? 1 : rc;
	}
	if (o.profile && profile_load(&o.run.prof, o.profile, err, sizeof(err))) {
		fprintf(stderr, "vcons-mail-load: %s\n", err);
		passwords_free(pw);
		return 2;
	}
	net_ignore_sigpipe(); /* OpenSSL writes with send() without MSG_NOSIGNAL */
	if (tls_setup(&o)) {
		passwords_free(pw);
		return 1;
	}
	o.run.journal = journal_open(o.journal, err, sizeof(err));
	if (!o.run.journal) {
		fprintf(stderr, "vcons-mail-load: %s\n", err);
		SSL_CTX_free(o.run.tls);
		passwords_free(pw);
		return 1;
	}
	if (!o.lg.seed)
		o.lg.seed = (uint64_t)now_ns() ^ (uint64_t)getpid() << 32;
	snprintf(o.run.run_id, sizeof(o.run.run_id), "%d-%016llx", o.lg.csu,
	         (unsigned long long)o.lg.seed);
	o.lg.out = o.json ? stdout : NULL;
	struct lg_workload w = { .arg = &o.run, .op = mail_op, .user_close = user_close };
	const char *lerr = NULL;
	struct lg *lg = lg_new(&o.lg, &w, &lerr);
	if (!lg) {
		fprintf(stderr, "vcons-mail-load: %s\n",
		        lerr ? lerr : "cannot set up the load engine");
		(void)journal_close(o.run.journal);
		SSL_CTX_free(o.run.tls);
		passwords_free(pw);
		return 2;
	}
	for (int t = 0; t < OP_TYPES; t++)
		lg_add_type(lg, op_names[t]);
	rc = lg_run(lg) ? 1 : 0;
	print_summary(lg, &o.run, o.json, o.lg.csu);
	if (o.run.checksum_errors)
		rc = 1;
	lg_free(lg);
	if (journal_close(o.run.journal)) {
		fprintf(stderr, "vcons-mail-load: cannot write the journal %s\n", o.journal);
		rc = 1;
	}
	SSL_CTX_free(o.run.tls);
	passwords_free(pw);
	return rc;
}
