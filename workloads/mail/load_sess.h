/* workloads/mail/load_sess.h: what vcons-mail-load's session flow (load_session.c) and its commands
 * (load_steps.c) share: the run, a simulated user's state across sessions and within one, and the
 * command types each op is counted as. Internal to vcons-mail-load (load_main.c sees only the run,
 * the types and the engine callbacks). */
#ifndef VCONS_MAIL_LOAD_SESS_H
#define VCONS_MAIL_LOAD_SESS_H
#include "workloads/mail/load.h"

#include <stdatomic.h>

#include "workloads/common/loadgen.h"

/* One engine op is one IMAP command or one SMTP delivery: the harness's unit of mail work. */
enum op_type {
	OP_LOGIN,         /* connect, greeting, LOGIN */
	OP_LIST,          /* LIST "" "*" */
	OP_CREATE,        /* CREATE of a personal folder (a user's first session) */
	OP_SELECT,        /* SELECT of INBOX or another folder */
	OP_FETCH_FLAGS,   /* UID FETCH 1:last (UID FLAGS): the client's flag resync */
	OP_FETCH_HEADERS, /* UID FETCH of ENVELOPE, BODYSTRUCTURE, FLAGS, HEADER.FIELDS */
	OP_FETCH_BODY,    /* UID FETCH of BODY[] or a MIME part, checked */
	OP_SEARCH,        /* UID SEARCH */
	OP_MOVE,          /* UID MOVE to a folder or Trash */
	OP_STORE,         /* UID STORE +FLAGS.SILENT (\Deleted) */
	OP_EXPUNGE,       /* UID EXPUNGE */
	OP_NOOP,          /* a polling idle session's NOOP */
	OP_IDLE,   /* a watching idle session's IDLE: sent, "+"; DONE and OK in its next op */
	OP_APPEND, /* a sent message APPENDed to Sent */
	OP_LOGOUT,
	OP_SMTP, /* an SMTP delivery (own connection: EHLO, MAIL, RCPT..., DATA, QUIT) */
	OP_TYPES
};
extern const char *const op_names[OP_TYPES];

#define SET_RANGES  32 /* ranges per UID set (the server takes up to 32) */
#define VISIT_FETCH 20 /* envelopes a folder visit lists */
#define ID_MAX      64
/* A user's folders: INBOX, the special-use ones the server provisions, then the personal ones. */
#define FIRST_PERSONAL 6
extern const char *const special_folders[FIRST_PERSONAL]; /* "INBOX", "Sent", "Trash", ... */

struct run {
	const char *host;
	int smtp_port, imap_port, smtps_port, imaps_port;
	SSL_CTX *tls;  /* NULL when no session uses TLS */
	int mailboxes; /* users provisioned on the server: recipients are drawn from 1..mailboxes */
	double mean_gap_s; /* open loop: users / rate, each user's mean gap; 0 closed loop */
	pthread_mutex_t pace_lock;
	double gap_sum; /* pacing: the weights of the gaps of all completed cycles and the prior */
	uint64_t gap_n;
	struct mail_profile prof;
	struct journal *journal;
	const struct passwords *pw;
	char run_id[24];
	_Atomic uint64_t fetched, checked_against_journal, parts_checked, checksum_errors,
	    search_errors, sent, acked_rcpts, appended, moved, deleted, sessions, sessions_failed,
	    session_cmds;
	/* IDLE: commands ended with DONE and answered OK; "* N EXISTS" they brought after the "+",
	 * and of those the ones that had come before the DONE was sent (pushed by the server) */
	_Atomic uint64_t idle_completed, idle_exists, idle_pushed;
	/* transport (load_conn.c): SMTP connections and IMAP sessions opened, of them under TLS, of
	 * those resuming a TLS session */
	_Atomic uint64_t connections, tls_sessions, tls_resumed;
};

struct kmsg { /* a message of ours the user knows, in one folder */
	uint32_t uid;
	char id[ID_MAX];
};

struct folder {
	char name[32];
	bool exists;    /* LIST showed it, or CREATE made it */
	struct kmsg *m; /* oldest first */
	size_t n, cap;
};

struct newmsg { /* an INBOX message this session listed as new */
	uint32_t uid;
	char id[ID_MAX];
	bool multipart, read, attachment;
	char sum1[65], sum2[65];
};

struct pend { /* a message to file: moved to folder dest, or deleted (dest -1) */
	uint32_t uid;
	char id[ID_MAX];
	int dest;
};

enum phase {
	PH_LOGIN,
	PH_LIST,
	PH_CREATE,
	PH_SELECT,
	PH_IDLE,
	PH_FLAGS,
	PH_HEADERS,
	PH_READ,
	PH_SEARCH,
	PH_FILE,
	PH_SEND,
	PH_VISIT,
	PH_PRUNE,
	PH_LOGOUT,
	PH_DONE
};

struct user {
	int mbox; /* user<mbox>, 1-based */
	/* across sessions */
	struct folder *f; /* [0] INBOX, then the special-use and the personal folders */
	size_t nf;
	int personal;      /* personal folders wanted (drawn at the first session) */
	bool folders_made; /* LIST seen and missing folders created */
	uint32_t last_uid; /* INBOX: the highest UID listed */
	unsigned seq;      /* messages sent (their ids) */
	double cycle_w;    /* pacing: the weights of this session's gaps so far ... */
	unsigned cycle_n;  /* ... and how many */
	SSL_SESSION *smtp_tls, *imap_tls; /* TLS sessions to resume, as mail clients do */
	/* this session */
	struct mconn imap;
	bool up;
	unsigned tag;
	bool idling;       /* an IDLE is under way (its DONE not sent) ... */
	unsigned idle_tag; /* ... with this tag number */
	enum phase ph;
	struct session_plan plan;
	int cmds;     /* commands so far */
	int selected; /* folder index, -1 none */
	int sub;      /* a phase's own progress (polls done, visit step, ...) */
	int target;   /* the folder a visit or a prune works on, -1 none */
	long exists;  /* messages in the selected folder (SELECT's EXISTS) */
	struct newmsg *nm;
	size_t nnew, capnew, cursor;
	uint32_t *seen; /* UIDs whose bodies this session read (\Seen): the UNSEEN check */
	size_t nseen, capseen;
	struct pend *pend; /* to file, in the order decided */
	size_t npend, cappend;
	struct pend *batch; /* the STORE just done, for its UID EXPUNGE */
	size_t nbatch, capbatch;
	int batch_folder;   /* the folder of batch */
	struct gen_msg out; /* a sent message waiting for its APPEND */
	bool have_out;
	int sends_left;
	int create_next; /* PH_CREATE: the next folder index to look at */
};

/* ---- a session's transport (load_conn.c): plain or TLS, drawn by the profile's tls_pct and
 * tls_implicit_pct, resuming the user's last TLS session ---- */
/* Connects for an SMTP delivery: greeting and EHLO; under TLS (implicit, or STARTTLS and EHLO
 * again) also AUTH PLAIN as the user (RFC 4954; the submission port requires it). 0, or -1 (c
 * then closed). */
int conn_smtp(struct run *r, struct user *u, struct mconn *c, struct rng *g);
/* Opens the user's IMAP connection up to its greeting, under TLS if drawn (implicit, or
 * STARTTLS after the greeting); the caller LOGs IN. 0, or -1 (u->up set once connected). */
int conn_imap(struct run *r, struct user *u, struct rng *g);
/* Closes c, keeping its TLS session in *keep for the next connection. */
void conn_close(struct mconn *c, SSL_SESSION **keep);

/* The engine's callbacks (load_session.c). */
int mail_op(void *arg, struct lg_op *op);
void mail_user_close(void *arg, void *state);

/* ---- the commands (load_steps.c): each performs one command, 0 or -1 (an error: the
 * session ends) ---- */
int step_login(struct run *r, struct user *u, struct rng *g);
int step_list(struct run *r, struct user *u, bool *create_needed);
int step_create(struct run *r, struct user *u, int folder);
int step_select(struct run *r, struct user *u, int folder);
int step_noop(struct run *r, struct user *u);
/* Ends the IDLE under way, if any (step_idle_done), then begins the next: IDLE, "+". */
int step_idle(struct run *r, struct user *u);
/* Ends the IDLE under way, if any: DONE, the updates (EXISTS counted), the tagged OK. */
int step_idle_done(struct run *r, struct user *u);
int step_fetch_flags(struct run *r, struct user *u);
int step_fetch_headers(struct run *r, struct user *u, struct rng *g);
int step_fetch_recent(struct run *r, struct user *u);
int step_read(struct run *r, struct user *u, const struct newmsg *m, int part);
int step_read_known(struct run *r, struct user *u, const struct kmsg *k);
int step_search(struct run *r, struct user *u, struct rng *g);
int step_move(struct run *r, struct user *u);
int step_store(struct run *r, struct user *u);
int step_expunge(struct run *r, struct user *u);
int step_smtp(struct run *r, struct user *u, struct rng *g);
int step_append(struct run *r, struct user *u);
int step_logout(struct run *r, struct user *u);

/* Makes room for `need` elements of `elem` bytes in the array *pp of capacity *cap (doubling); 0,
 * or -1 when out of memory (the array unchanged). */
int grow(void *pp, size_t *cap, size_t need, size_t elem);

/* Folder lists (load_session.c). */
int folder_find(const struct user *u, const char *name); /* index or -1 */
int folder_add(struct user *u, const char *name);        /* index or -1 */
int folder_known_add(struct folder *f, uint32_t uid, const char *id);
void folder_known_remove(struct folder *f, uint32_t uid);

#endif
