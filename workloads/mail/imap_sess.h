/* workloads/mail/imap_sess.h: the IMAP session's state, shared by the two files that serve it:
 * server_imap.c (the session, its input, FETCH, STORE, EXPUNGE, IDLE and the untagged updates on
 * the selected folder) and server_mailbox.c (the mailbox commands: SELECT, LIST, CREATE, APPEND,
 * COPY, MOVE, ...). Private to libmailsession. */
#ifndef VCONS_MAIL_IMAP_SESS_H
#define VCONS_MAIL_IMAP_SESS_H
#include "workloads/mail/imap_msg.h"
#include "workloads/mail/mailproto.h"
#include "workloads/mail/server.h"

#define IMAP_CAPS     "IMAP4rev1 LITERAL+ UIDPLUS MOVE NAMESPACE ENABLE SPECIAL-USE CHILDREN IDLE"
#define IMAP_LINE_MAX (8u * 1024u)
#define IMAP_CMD_MAX  (MP_IMAP_LITERAL_MAX + 4u * IMAP_LINE_MAX)

enum imap_state { IS_NOAUTH, IS_AUTH, IS_SELECTED };

struct imap_sess {
	enum imap_state state;
	struct mp_lines lr;
	struct buf cmd;    /* the command being assembled */
	uint64_t lit_left; /* bytes of a literal still to come */
	int user;
	bool readonly;
	struct ms_view v; /* the selected folder as the client knows it (v.box: which) */
	struct conn *c;   /* the session's connection, for the watcher */
	bool idling;      /* in IDLE, under idle_tag, until DONE */
	char idle_tag[72];
	char sasl_tag[72]; /* an AUTHENTICATE waiting for the client's response line, "": none */
	bool watching;     /* watch is registered (IDLE in the selected state) */
	struct ms_watch watch; /* wakes the connection when the selected folder changes */
	struct fetch_job {     /* a FETCH that paused for output room (c->more is set) */
		bool active, uid, lost;
		char tag[72];
		struct mp_seqset set;
		struct mp_fetch f;
		size_t next; /* index of the next message to look at */
	} job;
	struct msg_cache { /* the message last read: its bytes and, once needed, its MIME tree */
		uint32_t uid, box; /* uid 0: none */
		char *buf;
		size_t len;
		bool parsed;
		struct mime_msg mime;
	} msg;
};

/* server_imap.c */
void imap_reply(struct conn *c, const char *tag, const char *text); /* "<tag> <text>\r\n" */
/* Tells the client what changed in the selected folder since it last heard: EXPUNGE (only if
 * expunge: RFC 3501 7.4.1 forbids them during FETCH, STORE and SEARCH), FETCH FLAGS, EXISTS; a
 * folder deleted meanwhile ends the session (BYE). */
void imap_sync(struct conn *c, bool expunge);
bool imap_match(const struct imap_sess *s, const struct mp_seqset *set, size_t i, bool uid);
/* false if a message could not be removed (it stays) */
bool imap_expunge(struct conn *c, bool silent, const struct mp_seqset *uids);

/* server_mailbox.c: runs the command if it is a mailbox command (w: its name, wn bytes; uid: it
 * came after UID) and returns true, else returns false and does nothing. */
bool imap_mailbox_cmd(struct conn *c, const char *tag, const char *w, size_t wn, bool uid,
                      bool args, struct mp_imap_cur *cur);
/* The largest literal an APPEND being assembled may carry (its message: --max-size), 0 when the
 * command is not an APPEND (the usual MP_IMAP_LITERAL_MAX applies). */
uint64_t imap_literal_max(const struct conn *c, const struct buf *cmd);

#endif
