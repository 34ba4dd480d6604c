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
struct mail_profile {
	double send_weight;       /* relative frequency of "send" among send/check decisions */
	double check_weight;      /* relative frequency of "check" (poll the inbox for new mail) */
	double delete_pct;        /* % of fetched messages the user deletes */
	int recipients_max;       /* each message goes to 1..recipients_max users (uniform) */
	double size_median_bytes; /* body size: log-normal with this median ... */
	double size_sigma;        /* ... and this sigma (of the underlying normal) */
	uint64_t size_max_bytes;  /* ... capped here */
	double tls_pct;           /* % of sessions (SMTP connections, IMAP sessions) under TLS */
	double tls_implicit_pct;  /* % of those on the implicit-TLS ports; the rest use STARTTLS */
};
void profile_defaults(struct mail_profile *p);
/* Reads a flat YAML mapping of the fields above; 0, or -1 with a message in err. */
int profile_load(struct mail_profile *p, const char *file, char *err, size_t errlen);

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
};
/* Sends "tagN <command>\r\n" and collects responses until the tagged one. 0 (status set) or -1. */
int imap_cmd(struct mconn *c, unsigned *tagno, struct imap_result *res, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void imap_result_free(struct imap_result *res);
/* "UID 17" inside a FETCH response text -> 17, 0 if absent. */
uint32_t imap_resp_uid(const struct imap_resp *r);

/* ---- messages (load_msg.c) ---- */
struct gen_msg {
	char id[80];
	char sum[65]; /* sha256 of the body, hex */
	char *data;   /* the whole message, CRLF lines */
	size_t len;
};
/* Builds a message of about body_bytes body from user `from` to the recipients. */
int msg_build(struct gen_msg *m, struct rng *r, const char *id, int from, const int *rcpt, int n,
              size_t body_bytes);
void msg_free(struct gen_msg *m);
/* For a received message: its X-Vcons-Id, X-Vcons-Sum header values and the sha256 of its body.
 * Returns false when it has no X-Vcons-Sum header (not one of ours). */
bool msg_inspect(const char *data, size_t len, char id[80], char sum[65], char actual[65]);
size_t msg_size_draw(struct rng *r, const struct mail_profile *p);

/* ---- journal (load_journal.c) ---- */
/* Lines: "A id user sum" acknowledged with 250 for that recipient; "D id user" a delete about to be
 * sent; "X id user" a delete the server confirmed. Appended and flushed by many threads. */
struct journal;
struct journal *journal_open(const char *path, char *err, size_t errlen);
/* -1 when a line could not be written (the file misses some), else 0 */
int journal_close(struct journal *j);
void journal_acked(struct journal *j, const char *id, int user, const char *sum);
void journal_delete(struct journal *j, const char *id, int user, bool confirmed);
/* The checksum recorded for (id, user) in this run, or NULL (not acknowledged yet / another run).
 */
const char *journal_sum(struct journal *j, const char *id, int user);

struct verify_cfg {
	const char *host;
	int imap_port;
	const char *journal;
	const struct passwords *pw;
	FILE *out;
	int csu;
	bool json;
};
/* Checks every acknowledged, not-deleted message of the journal over IMAP. 0 when none is lost or
 * damaged, 1 when some are, -1 when the check itself could not be done. */
int verify_run(const struct verify_cfg *cfg);

#endif
