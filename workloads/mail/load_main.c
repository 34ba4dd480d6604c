/* workloads/mail/load_main.c: vcons-mail-load, the mail VM's load generator: options, the run,
 * the report. Simulated users in the style of SPECmail's enterprise users run IMAP sessions one
 * after another (load_session.c: log in, list folders, read new mail by envelope and body
 * structure, read some bodies, search, file into folders and Trash, delete and expunge, send mail
 * and APPEND it to Sent, some only idling; load_plan.c decides what, by the profile), every
 * command one op with its own latency histogram; scheduling, histograms and interval reports come
 * from workloads/common/loadgen. The report adds IMAP sessions per hour, SPECmail's metric.
 * A share of the SMTP connections and IMAP sessions (tls_pct) runs under TLS (load_conn.c).
 * --verify checks a journal of acknowledged messages instead. */
#include "workloads/mail/load_sess.h"
#include "lib/net.h"
#include "lib/opt.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "workloads/common/report.h"

#define MAX_SETS 64

struct opts {
	struct run run;
	struct lg_config lg;
	const char *profile, *journal, *passwords, *folder;
	const char *sets[MAX_SETS]; /* --set KEY=VALUE, applied after --profile */
	int nsets;
	const char *cacert;
	double tls_pct, tls_implicit_pct; /* -1: the profile's (--tls-pct, --tls-implicit-pct) */
	bool verify, json;
};

static const char *collect_set(const char *arg, void *dst)
{
	struct opts *o = dst;
	if (!strchr(arg, '='))
		return "not KEY=VALUE";
	if (o->nsets == MAX_SETS)
		return "too many";
	o->sets[o->nsets++] = arg;
	return NULL;
}

/* The profile: defaults, then --profile FILE, then each --set, then --tls-pct and
 * --tls-implicit-pct; 0 or -1 with err. */
static int load_profile(struct opts *o, char *err, size_t errlen)
{
	struct mail_profile *p = &o->run.prof;
	profile_defaults(p);
	if (o->profile && profile_load(p, o->profile, err, errlen))
		return -1;
	for (int i = 0; i < o->nsets; i++) {
		char key[64];
		const char *eq = strchr(o->sets[i], '=');
		snprintf(key, sizeof(key), "%.*s", (int)(eq - o->sets[i]), o->sets[i]);
		char why[192];
		if (profile_set(p, key, eq + 1, why, sizeof(why))) {
			snprintf(err, errlen, "--set %s: %s", o->sets[i], why);
			return -1;
		}
	}
	if (o->tls_pct >= 0)
		p->tls_pct = o->tls_pct;
	if (o->tls_implicit_pct >= 0)
		p->tls_implicit_pct = o->tls_implicit_pct;
	char why[256];
	if (profile_check(p, why, sizeof(why))) {
		snprintf(err, errlen, "profile%s%s: %s", o->profile ? " " : "",
		         o->profile ? o->profile : "", why);
		return -1;
	}
	plan_gap_prior(p, &o->run.gap_sum, &o->run.gap_n);
	/* open loop: users start at random points of their first cycle (a session and the gap after
	 * it), not all with a session at once, which would pulse the rate for minutes */
	o->lg.start_spread_s = o->run.mean_gap_s * (double)o->run.gap_n / PRIOR_SESSIONS;
	return 0;
}

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
		  .help = "YAML profile: a flat mapping of the user model's keys (README)" },
		{ OPT_CALL("set", collect_set, o), .arg = "KEY=VALUE",
		  .help = "one profile key, after --profile (repeatable)" },
		{ OPT_STRING("journal", &o->journal), .arg = "FILE",
		  .help = "append every acknowledged message (id, recipient, sha256) here" },
		{ OPT_STRING("passwords", &o->passwords), .arg = "FILE",
		  .help = "'user:password' lines, as given to vcons-mail",
		  .def = "password = name" },
		{ OPT_FLAG("verify", &o->verify),
		  .help = "check the --journal against the server over IMAP; exit 0 only if no\n"
		          "acknowledged message is lost or damaged" },
		{ OPT_STRING("folder", &o->folder), .arg = "NAME",
		  .help = "with --verify: check only this folder, for a journal that covers\n"
		          "only it (a message it says went elsewhere may be absent)",
		  .def = "every folder" },
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
		    "  drives vcons-mail with SPECmail-style users: IMAP sessions (list, read, "
		    "search,\n  file, delete; or watch the mailbox in IDLE) and SMTP deliveries; "
		    "every command\n  is an op\n",
		.footer =
		    "Exit: 0 ok, 1 a checksum mismatch or a wrong SEARCH answer (with --verify: a "
		    "lost,\ndamaged, duplicated or misplaced message), 2 bad option or profile.\n",
		.opts = opts,
	};
	seed = (long long)o->lg.seed;
	int rc = opt_parse(&cmd, argc, argv);
	if (rc != OPT_RUN)
		return rc;
	o->lg.seed = (uint64_t)seed;
	if (o->lg.rate > 0) {
		o->lg.mode = LG_OPEN;
		o->run.mean_gap_s = o->lg.users / o->lg.rate;
	}
	if (o->verify && !o->journal) {
		fprintf(stderr, "vcons-mail-load: --verify needs --journal FILE\n");
		return 2;
	}
	if (o->folder && !o->verify) {
		fprintf(stderr, "vcons-mail-load: --folder is an option of --verify\n");
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

struct session_rate {
	uint64_t done, failed;
	double per_hour, cmds_mean;
};

static struct session_rate session_rate(struct lg *lg, const struct run *r)
{
	struct lg_totals all;
	struct session_rate s = { .done = r->sessions, .failed = r->sessions_failed };
	if (lg_totals(lg, OP_TYPES, &all) == 0 && all.elapsed_s > 0)
		s.per_hour = (double)s.done * 3600 / all.elapsed_s;
	s.cmds_mean = s.done ? (double)r->session_cmds / (double)s.done : 0;
	return s;
}

static void print_json(struct lg *lg, struct run *r, int csu)
{
	struct session_rate sr = session_rate(lg, r);
	json_t *o = report_new("mail-checks", "mail-load", csu, "host_ns");
	const struct {
		const char *k;
		uint64_t v;
	} f[] = { { "sent", r->sent },
		  { "acked_recipients", r->acked_rcpts },
		  { "appended", r->appended },
		  { "moved", r->moved },
		  { "deleted", r->deleted },
		  { "fetched", r->fetched },
		  { "checked_against_journal", r->checked_against_journal },
		  { "parts_checked", r->parts_checked },
		  { "checksum_errors", r->checksum_errors },
		  { "search_errors", r->search_errors },
		  { "sessions", sr.done },
		  { "sessions_failed", sr.failed },
		  { "connections", r->connections },
		  { "tls_sessions", r->tls_sessions },
		  { "tls_resumed", r->tls_resumed },
		  { "idle_completed", r->idle_completed },
		  { "idle_exists", r->idle_exists },
		  { "idle_exists_pushed", r->idle_pushed } };
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		json_object_set_new(o, f[i].k, json_integer((json_int_t)f[i].v));
	json_object_set_new(o, "sessions_per_hour", json_real(sr.per_hour));
	json_object_set_new(o, "commands_per_session", json_real(sr.cmds_mean));
	report_write(stdout, o);
}

static void print_summary(struct lg *lg, struct run *r, bool json, int csu)
{
	if (json)
		return print_json(lg, r, csu);
	for (int t = 0; t <= OP_TYPES; t++) {
		struct lg_totals tot;
		if (lg_totals(lg, t, &tot) || (t < OP_TYPES && !tot.ops))
			continue;
		struct hdr_summary hs;
		hdr_summarise(tot.hist, &hs);
		printf("%-13s %8llu ops %6llu errors %9.1f ops/s  p50 %7lld us  p95 %7lld us  p99 "
		       "%7lld us\n",
		       t == OP_TYPES ? "all" : op_names[t], (unsigned long long)tot.ops,
		       (unsigned long long)tot.errors, tot.ops_per_s, (long long)hs.p50_us,
		       (long long)hs.p95_us, (long long)hs.p99_us);
	}
	struct session_rate sr = session_rate(lg, r);
	printf("sessions: %llu done (%.0f per hour, %.1f commands each), %llu broken off\n",
	       (unsigned long long)sr.done, sr.per_hour, sr.cmds_mean,
	       (unsigned long long)sr.failed);
	printf("messages: %llu sent (%llu recipient copies acknowledged, %llu appended to Sent), "
	       "%llu moved, %llu deleted; %llu bodies and parts read, %llu checked against the "
	       "record of what was sent, %llu parts against their header; %llu checksum errors, "
	       "%llu wrong SEARCH answers\n",
	       (unsigned long long)r->sent, (unsigned long long)r->acked_rcpts,
	       (unsigned long long)r->appended, (unsigned long long)r->moved,
	       (unsigned long long)r->deleted, (unsigned long long)r->fetched,
	       (unsigned long long)r->checked_against_journal, (unsigned long long)r->parts_checked,
	       (unsigned long long)r->checksum_errors, (unsigned long long)r->search_errors);
	printf("connections: %llu (SMTP connections and IMAP sessions), %llu under TLS, %llu of "
	       "them resumed\n",
	       (unsigned long long)r->connections, (unsigned long long)r->tls_sessions,
	       (unsigned long long)r->tls_resumed);
	printf("IDLE: %llu ended with DONE and OK; %llu EXISTS seen in them, %llu of those pushed "
	       "before the DONE\n",
	       (unsigned long long)r->idle_completed, (unsigned long long)r->idle_exists,
	       (unsigned long long)r->idle_pushed);
}

/* The client context, if any session uses TLS. 0, or -1 after a message. */
static int tls_setup(struct opts *o)
{
	if (o->run.prof.tls_pct <= 0)
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
			                 .folder = o.folder,
			                 .pw = pw,
			                 .out = stdout,
			                 .csu = o.lg.csu,
			                 .json = o.json };
		rc = verify_run(&vc);
		passwords_free(pw);
		return rc < 0 ? 1 : rc;
	}
	if (load_profile(&o, err, sizeof(err))) {
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
	pthread_mutex_init(&o.run.pace_lock, NULL);
	struct lg_workload w = { .arg = &o.run, .op = mail_op, .user_close = mail_user_close };
	const char *lerr = NULL;
	struct lg *lg = lg_new(&o.lg, &w, &lerr);
	if (!lg) {
		fprintf(stderr, "vcons-mail-load: %s\n",
		        lerr ? lerr : "cannot set up the load engine");
		(void)journal_close(o.run.journal);
		pthread_mutex_destroy(&o.run.pace_lock);
		SSL_CTX_free(o.run.tls);
		passwords_free(pw);
		return 2;
	}
	for (int t = 0; t < OP_TYPES; t++)
		lg_add_type(lg, op_names[t]);
	rc = lg_run(lg) ? 1 : 0;
	print_summary(lg, &o.run, o.json, o.lg.csu);
	if (o.run.checksum_errors || o.run.search_errors)
		rc = 1;
	lg_free(lg);
	if (journal_close(o.run.journal)) {
		fprintf(stderr, "vcons-mail-load: cannot write the journal %s\n", o.journal);
		rc = 1;
	}
	pthread_mutex_destroy(&o.run.pace_lock);
	SSL_CTX_free(o.run.tls);
	passwords_free(pw);
	return rc;
}
