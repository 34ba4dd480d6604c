/* workloads/mail/load.h: vcons-mail-load's internals: the workload profile, blocking SMTP/IMAP
 * client connections (plain or TLS, OpenSSL), message generation with checksums, and the journal
 * of acknowledged messages that --verify checks against the server. */
#ifndef VCONS_MAIL_LOAD_H
#define VCONS_MAIL_LOAD_H
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/ssl.h>

#include "workloads/common/rng.h"

/* ---- profile (load_profile.c) ---- */
/* The user model's parameters (README "The user model" says what each does and where the numbers
 * come from). Shares are percentages 0..100; weights are relative think times. */
struct mail_profile {
	/* messages */
	int recipients_max;       /* each message goes to 1..recipients_max users (uniform) */
	double size_median_bytes; /* body size: log-normal with this median ... */
	double size_sigma;        /* ... and this sigma (of the underlying normal) */
	uint64_t size_max_bytes;  /* ... capped here */
	double multipart_pct; /* share of messages sent as text + attachment (multipart/mixed) */
	/* folders */
	double folders_median; /* personal folders per user: log-normal with this median ... */
	double folders_sigma;  /* ... and sigma, rounded, ... */
	int folders_max;       /* ... capped here */
	int folder_max_msgs;   /* a folder holding more is pruned (INBOX: the oldest archived) */
	int trash_max_msgs;    /* Trash holding more is emptied */
	/* sessions */
	double idle_session_pct; /* sessions that only keep the mailbox open and watch it ... */
	double imap_idle_pct;    /* ... of them, those that wait in IDLE (RFC 2177); the rest poll
	                          * with NOOP */
	int idle_polls;          /* IDLE commands (or NOOPs) of an idle session */
	double read_pct;         /* share of new messages whose body is read */
	double attachment_pct;   /* share of read multipart messages whose attachment is opened */
	double move_pct;         /* of read messages: moved to a personal folder ... */
	double trash_pct;        /* ... moved to Trash ... */
	double delete_pct;       /* ... flagged \Deleted and expunged; the rest stay in INBOX */
	double search_pct;       /* sessions that SEARCH INBOX */
	double send_mean; /* messages a session sends (Poisson), each then APPENDed to Sent */
	double visit_pct; /* sessions that open another folder and read a message there */
	/* pacing (open loop): gaps are exponential, their means in these proportions, scaled so
	 * that all users together issue --rate commands per second */
	double think_weight;       /* between two commands of a session */
	double idle_poll_weight;   /* an idle session's watch: the gap after each IDLE or NOOP */
	double session_gap_weight; /* from a LOGOUT to the next session's connection */
	/* transport */
	double tls_pct;          /* % of sessions (SMTP connections, IMAP sessions) under TLS */
	double tls_implicit_pct; /* % of those on the implicit-TLS ports; the rest use STARTTLS */
};
void profile_defaults(struct mail_profile *p);
/* Sets one field from its text ("key", "value"); 0, or -1 with the reason in err (the key unknown,
 * the value no number or out of the key's range). */
int profile_set(struct mail_profile *p, const char *key, const char *val, char *err, size_t errlen);
/* Reads a flat YAML mapping of the fields above; 0, or -1 with a message in err. */
int profile_load(struct mail_profile *p, const char *file, char *err, size_t errlen);
/* The checks that span fields (move + trash + delete <= 100, ...); 0, or -1 with err. */
int profile_check(const struct mail_profile *p, char *err, size_t errlen);

/* ---- the model's decisions (load_plan.c): pure functions of the profile and a generator ---- */
enum fate { FATE_KEEP, FATE_MOVE, FATE_TRASH, FATE_DELETE };
enum search_kind { SEARCH_UNSEEN, SEARCH_FROM, SEARCH_SUBJECT, SEARCH_SINCE, SEARCH_KINDS };
struct session_plan {
	bool idle;   /* an idle session: LOGIN, LIST, SELECT, idle_polls watches, LOGOUT ... */
	bool push;   /* ... each watch an IDLE (else a NOOP poll) */
	bool search; /* one UID SEARCH of INBOX */
	enum search_kind search_kind;
	int sends;  /* messages sent (SMTP) and appended to Sent */
	bool visit; /* open another folder and read a message there */
};
void plan_session(struct rng *r, const struct mail_profile *p, struct session_plan *out);
bool plan_read(struct rng *r, const struct mail_profile *p);
bool plan_attachment(struct rng *r, const struct mail_profile *p);
enum fate plan_fate(struct rng *r, const struct mail_profile *p);
int plan_folder_count(struct rng *r, const struct mail_profile *p);
/* One of n folders, the first ones more often (Zipf, s = 1): a user files most mail in a few. */
int plan_folder_pick(struct rng *r, int n);
/* Poisson-distributed count with that mean (mean <= 50). */
int plan_poisson(struct rng *r, double mean);
/* A capped log-normal draw: median * exp(sigma * N(0,1)), within [lo, hi]. */
double plan_lognormal(struct rng *r, double median, double sigma, double lo, double hi);
/* The mean gap before a step of this weight, so that the gaps of all users average mean_gap_s:
 * mean_gap_s * weight / (sum / n, the mean weight of the gaps seen: n gaps weighing sum). */
double plan_gap_mean(double mean_gap_s, double weight, double sum, uint64_t n);
/* Where that mean weight starts: PRIOR_SESSIONS sessions as the profile's mix would weigh them, a
 * working one taken as PRIOR_WORK_CMDS commands (what the default profile measures: README), an
 * idle one as its watches and four more (a polling one waits a watch before its first NOOP, an
 * IDLE one a think time before its first IDLE); the run's own sessions soon outweigh it. */
#define PRIOR_SESSIONS  10
#define PRIOR_WORK_CMDS 12
void plan_gap_prior(const struct mail_profile *p, double *sum, uint64_t *n);
/* IMAP sequence set of up to max_ranges ranges from the sorted UIDs uids[0..n): "3:5,9". Writes at
 * most cap bytes (NUL included) and returns how many UIDs it covers (0 when cap is too small). */
size_t plan_uid_set(const uint32_t *uids, size_t n, int max_ranges, char *dst, size_t cap);

/* ---- passwords (load_profile.c) ---- */
/* Passwords of user1..userN: the user name, or what a "user:password" file (vcons-mail --passwords)
 * says. pw_login writes the IMAP LOGIN arguments (quoted) for user k into dst. */
struct passwords;
struct passwords *passwords_load(const char *file, char *err, size_t errlen); /* file may be NULL */
void passwords_free(struct passwords *pw);
void pw_login(const struct passwords *pw, int user, char *dst, size_t cap);
/* User k's password (name: a buffer for "userK", which is the password when none is given). */
const char *pw_pass(const struct passwords *pw, int user, char name[32]);

/* ---- connections (load_net.c) ---- */
struct mconn {
	int fd;
	SSL *ssl; /* NULL: plain */
	char buf[65536];
	size_t off, len;
};
int mconn_open(struct mconn *c, const char *host, int port, int timeout_ms); /* 0 or -1 */
void mconn_close(struct mconn *c);
/* The client context: TLS 1.2 and up; with cacert the server's certificate must chain to it and
 * name host (an IP address or a DNS name); without, it is not checked. NULL with a message in err.
 */
SSL_CTX *mconn_tls_ctx(const char *cacert, const char *host, char *err, size_t errlen);
/* Puts c under TLS (the client's handshake), offering *sess for resumption when not NULL. Refused
 * (-1) when bytes the server sent before the handshake are still unread: after STARTTLS they
 * could be an attacker's (the client side of CVE-2011-0411). 0 or -1. */
int mconn_tls(struct mconn *c, SSL_CTX *ctx, SSL_SESSION *sess);
/* Keeps the session of c's TLS connection in *keep (freeing the one there) for a later
 * connection to resume, when it can be resumed. */
void mconn_tls_keep(struct mconn *c, SSL_SESSION **keep);
int mconn_send(struct mconn *c, const void *p, size_t n);
/* One line without CRLF into dst (NUL-terminated, truncated to cap); its length or -1. */
long mconn_line(struct mconn *c, char *dst, size_t cap);
int mconn_read(struct mconn *c, void *dst, size_t n); /* exactly n bytes; 0 or -1 */

/* SMTP: reads one (multi-line) reply; returns the code or -1. */
int smtp_reply(struct mconn *c);
int smtp_cmd(struct mconn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* IMAP: one untagged response line (text) with the literal it carried, if any. */
struct imap_resp {
	char *text; /* the line, literals replaced by "{N}" */
	char *lit;  /* the first literal's bytes (malloc'd), NULL if none */
	size_t lit_len;
};
struct imap_result {
	struct imap_resp *r;
	size_t n;
	char status[8]; /* "OK", "NO", "BAD" */
	char tail[160]; /* the tagged reply after its status ("[APPENDUID 1 5] ..."), truncated */
};
/* Sends "tagN <command>\r\n" and collects responses until the tagged one. 0 (status set) or -1. */
int imap_cmd(struct mconn *c, unsigned *tagno, struct imap_result *res, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The same, the command ending in a non-synchronising literal (" {N+}", LITERAL+) of lit. */
int imap_cmd_lit(struct mconn *c, unsigned *tagno, struct imap_result *res, const void *lit,
                 size_t litlen, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void imap_result_free(struct imap_result *res);
/* IDLE (RFC 2177), in two halves, since the client's wait lies between them. imap_idle_start
 * sends "tagN IDLE" and reads up to the server's "+" continuation: 0 when the server idles (the
 * updates it sent before the "+" in res, status ""), 1 when it answered with a tagged status
 * instead (res->status: NO, BAD), -1 when the connection failed. imap_idle_done ends the IDLE of
 * tag number tagno: it first reads what the server has sent while idling, without waiting (the
 * first *pushed responses of res), then sends DONE and collects the rest up to the tagged reply
 * (status set; a tagged reply among the pushed ones, the server ending IDLE itself, is that
 * reply and no DONE is sent). 0 or -1. */
int imap_idle_start(struct mconn *c, unsigned *tagno, struct imap_result *res);
int imap_idle_done(struct mconn *c, unsigned tagno, struct imap_result *res, size_t *pushed);
/* "UID 17" inside a FETCH response text -> 17, 0 if absent. */
uint32_t imap_resp_uid(const struct imap_resp *r);

/* ---- IMAP responses the generator reads (load_imap.c) ---- */
/* s as an IMAP quoted string (\\ and \" escaped) into dst, cut to fit; its length. */
size_t imap_quote(const char *s, char *dst, size_t cap);
/* The mailbox name of a "* LIST (attrs) delim name" line (quoted or atom) into dst; false if the
 * text is no LIST response or the name does not fit. */
bool imap_list_name(const char *text, char *dst, size_t cap);
/* The numbers of the "* SEARCH" responses into *out (malloc'd, ascending as sent); their count, or
 * -1 when out of memory. */
long imap_search_nums(const struct imap_result *res, uint32_t **out);
/* N of the last "* N EXISTS", or -1. */
long imap_exists(const struct imap_result *res);
/* How many of the responses res->r[from..to) are "* N EXISTS". */
size_t imap_exists_count(const struct imap_result *res, size_t from, size_t to);
/* From "[COPYUID v src dst]" (an untagged OK, as MOVE sends it, or the tagged tail): the
 * destination UID of source UID src_uid; 0 when absent or not in the sets. */
uint32_t imap_copyuid(const struct imap_result *res, uint32_t src_uid);
/* From the tagged tail "[APPENDUID v uid]": the new message's UID, 0 when absent. */
uint32_t imap_appenduid(const struct imap_result *res);
/* In a FETCH response text: whether BODYSTRUCTURE is a multipart ("BODYSTRUCTURE (("). */
bool imap_multipart(const char *text);

/* ---- messages (load_msg.c) ---- */
struct gen_msg {
	char id[80];
	char sum[65];            /* sha256 of the body, hex */
	bool multipart;          /* text part + base64 attachment */
	char sum1[65], sum2[65]; /* multipart: sha256 of each part's content, as BODY[1] and BODY[2]
	                          * return it */
	char *data;              /* the whole message, CRLF lines */
	size_t len;
};
/* Builds a message of about body_bytes body from user `from` to the recipients: one text part, or
 * (multipart) a short text part and a base64 attachment of the rest. Headers X-Vcons-Id and
 * X-Vcons-Sum (and X-Vcons-Sum-1, X-Vcons-Sum-2) name it and its checksums. 0 or -1. */
int msg_build(struct gen_msg *m, struct rng *r, const char *id, int from, const int *rcpt, int n,
              size_t body_bytes, bool multipart);
void msg_free(struct gen_msg *m);
/* For a received message: its X-Vcons-Id, X-Vcons-Sum header values and the sha256 of its body.
 * Returns false when it has no X-Vcons-Sum header (not one of ours). */
bool msg_inspect(const char *data, size_t len, char id[80], char sum[65], char actual[65]);
/* The value of header field `name` in a header block (or a HEADER.FIELDS answer) into dst; false
 * when absent or longer than cap - 1. */
bool msg_header(const char *hdr, size_t hlen, const char *name, char *dst, size_t cap);
void msg_sha256_hex(const char *p, size_t n, char out[65]);
size_t msg_size_draw(struct rng *r, const struct mail_profile *p);

/* ---- journal (load_journal.c) ---- */
/* Lines: "A id user sum [folder]" acknowledged for that recipient (250 to the SMTP delivery, folder
 * INBOX) or APPENDed to its folder (OK); "M id user folder" a MOVE about to be sent, "F id user
 * folder" one the server confirmed; "D id user" a delete (STORE \Deleted + UID EXPUNGE) about to
 * be sent, "X id user" one the server confirmed. Appended and flushed by many threads; the lines
 * of one (id, user) come in order, except that a recipient may move or delete a message before
 * its sender saw the 250. Folder names are atoms without spaces. */
struct journal;
struct journal *journal_open(const char *path, char *err, size_t errlen);
/* -1 when a line could not be written (the file misses some), else 0 */
int journal_close(struct journal *j);
/* folder NULL: INBOX */
void journal_acked(struct journal *j, const char *id, int user, const char *sum,
                   const char *folder);
void journal_move(struct journal *j, const char *id, int user, const char *folder, bool confirmed);
void journal_delete(struct journal *j, const char *id, int user, bool confirmed);
/* The checksum recorded for (id, user) in this run, or NULL (not acknowledged yet / another run).
 */
const char *journal_sum(struct journal *j, const char *id, int user);

struct verify_cfg {
	const char *host;
	int imap_port;
	const char *journal;
	const char *folder; /* check only this folder (the journal covers only it); NULL: all */
	const struct passwords *pw;
	FILE *out;
	int csu;
	bool json;
};
/* Checks every acknowledged, not-deleted message of the journal over IMAP, in every folder of its
 * user (only cfg->folder when set: a message the journal has elsewhere, or moving elsewhere, may
 * be absent from it): present once, in the folder the journal says (either one while a MOVE was in
 * flight), with the body it was sent with. 0 when none is lost, damaged, duplicated or misplaced,
 * 1 when some are, -1 when the check itself could not be done. */
int verify_run(const struct verify_cfg *cfg);

#endif
