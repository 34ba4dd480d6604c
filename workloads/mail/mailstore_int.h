/* workloads/mail/mailstore_int.h: the store's internals shared by its four files (mailstore.c:
 * users, the per-folder index, delivery, flags, UIDNEXT; mailbox.c: folder names,
 * CREATE/DELETE/RENAME, LIST, subscriptions; mailbox_copy.c: APPEND, COPY, MOVE and the copy
 * journal; mailview.c: sessions' views and watchers). Not for users of
 * the store: mailstore.h is its contract. Every function here that takes a user expects its lock
 * held unless it says otherwise. */
#ifndef VCONS_MAILSTORE_INT_H
#define VCONS_MAILSTORE_INT_H
#include "workloads/mail/mailstore.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#define MS_PATH 1024 /* buffer for any path in the store (names are bounded: MS_NAME_MAX) */

struct ms_ent {
	struct ms_msg m;
	bool in_new; /* still in new/ under its bare name (else cur/<name>:2,<info>) */
};

/* One folder: INBOX is Maildir/ itself, every other one the Maildir++ folder Maildir/.<name>/.
 * Its index (messages sorted by UID) is loaded the first time the folder is used. */
struct ms_box {
	uint32_t
	    id; /* MS_INBOX or a number given when the store found or created it, never reused */
	char name[MS_NAME_MAX + 1];
	bool loaded; /* idx, uidvalidity and next_uid are valid */
	uint32_t uidvalidity, next_uid;
	uint32_t uidnext_saved; /* what vcons-uidnext says (0: none) */
	uint64_t changes;       /* counts every change to its messages, from 1 (ms_box_changed) */
	struct ms_ent *idx;
	size_t n, cap;
};

struct ms_user {
	pthread_mutex_t lock; /* guards everything below and the user's files' names */
	char pass[64];
	struct ms_box *box; /* box[0] is INBOX; the others in no order */
	size_t nbox, boxcap;
	uint32_t next_box_id;
	char **subs; /* subscribed names (NULL until loaded: then the defaults) */
	size_t nsubs;
	int newfd; /* INBOX's new/, open for its fsyncs once the user got mail (-1 before) */
	struct ms_watch *watch; /* mstore_watch's, on any of the user's folders */
};

struct mstore {
	char *dir;
	unsigned n;
	struct ms_user *u;
	uint64_t seed;        /* from getrandom at open: unique names without a call per message */
	_Atomic uint64_t ctr; /* deliveries so far */
	atomic_uint dir_fds;  /* new/ descriptors kept open */
	_Atomic uint32_t last_validity; /* the last UIDVALIDITY given to a new folder */
	enum ms_fault fault;            /* a crash to simulate (tests) */
	bool unsynced; /* provisioning made folders without fsyncs: syncfs before serving */
};

/* Paths: Maildir/[.<box>/][sub/][name]; box NULL is the Maildir itself. */
void ms_path(const struct mstore *st, int user, const struct ms_box *b, const char *sub,
             const char *name, char *dst, size_t cap);
/* Where the index says e's file is (relative: "cur/<name>:2,<info>" or "new/<name>"). */
void ms_ent_rel(const struct ms_ent *e, char *dst, size_t cap);
void ms_ent_path(const struct mstore *st, int user, const struct ms_box *b, const struct ms_ent *e,
                 char *dst, size_t cap);
void ms_info(unsigned flags, char *dst); /* Maildir info letters, ASCII order */

/* The folder with that id, its index loaded; NULL with *rc = -ENOENT or a load error. */
struct ms_box *ms_box_get(struct mstore *st, int user, uint32_t id, int *rc);
/* Loads a folder found on disk: completes its directories and UIDVALIDITY if a crash interrupted
 * its creation, empties tmp/, indexes new/ and cur/. */
int ms_box_open(struct mstore *st, int user, struct ms_box *b);
void ms_box_free(struct ms_box *b);
long ms_idx_find(const struct ms_box *b, uint32_t uid);    /* index position, or -1 */
size_t ms_idx_above(const struct ms_box *b, uint32_t uid); /* the first above uid (or n) */
/* Moves the index's new/ messages into cur/ (one that is gone leaves the index). */
void ms_move_new(struct mstore *st, int user, struct ms_box *b);
/* Before a message with b's highest UID leaves it: makes b's next UID durable in vcons-uidnext
 * unless it says so already (the files alone would give that UID again after a restart). */
int ms_uidnext_save(struct mstore *st, int user, struct ms_box *b);
/* mailview.c: b's messages changed: its count goes up, its watchers are called. */
void ms_box_changed(struct ms_user *u, struct ms_box *b);
int ms_idx_push(struct ms_box *b, const struct ms_ent *e);
void ms_idx_del(struct ms_box *b, size_t i);

uint64_t ms_rand(struct mstore *st);
/* Writes prefix + body to a new file in the folder's tmp/ and fsyncs it; its path goes to tmp. */
int ms_write_tmp(struct mstore *st, int user, const struct ms_box *b, int64_t now, uint64_t r,
                 const char *prefix, size_t plen, const char *body, size_t blen, char *tmp,
                 size_t cap);
/* "<sec>.<uid>_<rand>.vcons,U=<uid>,S=<size>" */
void ms_name(char *dst, size_t cap, int64_t t, uint32_t uid, uint64_t r, uint64_t size);
int ms_fsync_path(const char *p);
unsigned long ms_read_number(const char *p); /* a UIDVALIDITY or UIDNEXT file; 0: none */
/* tmp file, fsync (unless !sync: the caller syncs the file system later), rename */
int ms_write_file(const char *p, const char *text, bool sync);

/* mailbox.c: the user's folders found under the Maildir (at open, no index loaded), the
 * special-use ones created if missing, a deletion or a copy a crash interrupted finished. */
int ms_boxes_open(struct mstore *st, int user);
struct ms_box *ms_box_named(struct ms_user *u, const char *name);
/* Creates the folder's directories and UIDVALIDITY, durably if sync (else the caller syncs the
 * file system before anything depends on them: st->unsynced is set). */
int ms_box_make(struct mstore *st, int user, const char *name, bool sync);
void ms_subs_free(struct ms_user *u);
/* mailbox_copy.c: replays the copy journal a crash left (at open, before anything is indexed). */
int ms_journal_recover(struct mstore *st, int user);
/* Moves every INBOX message into folder dst (RENAME INBOX). */
int ms_move_all(struct mstore *st, int user, uint32_t dst);

#endif
