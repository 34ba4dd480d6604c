/* workloads/mail/mailstore.h: the Maildir store of vcons-mail. Layout under the data directory:
 *   <data>/userK/Maildir/{tmp,new,cur}/   INBOX: one file per message, stored as received (CRLF)
 *   <data>/userK/Maildir/vcons-uidvalidity the IMAP UIDVALIDITY of INBOX, written once
 *   <data>/userK/Maildir/vcons-uidnext     INBOX's next UID, written (tmp, fsync, rename, the
 *                                          folder fsynced) only when a message with the highest
 *                                          UID is about to leave: otherwise the files say it
 *   <data>/userK/Maildir/.<name>/          every other folder (Maildir++), hierarchy delimiter
 *                                          ".", with its own tmp/ new/ cur/ vcons-uidvalidity
 *                                          and vcons-uidnext
 *   <data>/userK/Maildir/subscriptions     subscribed folder names, one a line (atomic rewrite)
 *   <data>/userK/Maildir/vcons-journal     a COPY/MOVE under way (replayed at open)
 * Message names carry the IMAP UID and size: "<sec>.<uid>_<rand>.vcons,U=<uid>,S=<bytes>", plus the
 * Maildir info ":2,<flags>" once in cur/. Delivery writes the message once to tmp/, fsyncs it,
 * links it into each recipient's new/ (the last one by rename) under that user's lock (so UIDs
 * become visible in increasing order) and fsyncs each new/; only then is a message acknowledged.
 * tmp/ is emptied when the store opens. Each user's messages are indexed in memory (built at open,
 * rebuilt by mstore_sync), so listing them reads no directory. Thread-safe. */
#ifndef VCONS_MAILSTORE_H
#define VCONS_MAILSTORE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MS_DOMAIN "vcons.test"

struct mstore;

#define MS_INBOX    0u  /* the folder id of INBOX */
#define MS_NAME_MAX 200 /* bytes in a folder name */
#define MS_BOXES    256 /* folders a user may have, INBOX included */

struct ms_msg {
	uint32_t box; /* the folder it is in (an id from mstore_box_find) */
	uint32_t uid;
	unsigned flags; /* MP_FLAG_* */
	uint64_t size;  /* bytes, = RFC822.SIZE */
	int64_t time_s; /* delivery time (seconds since the epoch), for INTERNALDATE */
	char name[112]; /* file name in cur/ without the ":2," info */
};

/* Opens (and provisions: creates user1..userN's Maildirs) the store under dir. passwords: NULL
 * (password = user name) or a file of "user:password" lines. Returns 0 or -errno with a message in
 * err. */
int mstore_open(struct mstore **out, const char *dir, unsigned users, const char *passwords,
                char *err, size_t errlen);
void mstore_close(struct mstore *st);
unsigned mstore_users(const struct mstore *st);

/* "userK", "userK@vcons.test" (case-insensitive domain) -> K-1, or -1 when no such user. */
int mstore_find(const struct mstore *st, const char *addr);
int mstore_auth(const struct mstore *st, const char *user, const char *pass); /* index or -1 */

/* Delivers one message (prefix + body) durably to each of n users. 0 or -errno. */
int mstore_deliver(struct mstore *st, const int *users, size_t n, const char *prefix, size_t plen,
                   const char *body, size_t blen);

/* Folders are named by their IMAP names ("INBOX" in any case, "Sent", "a.b": "." separates levels)
 * and known to the calls below by an id that stays the same across RENAME and is never reused
 * while the store is open (ids are given anew at each open; INBOX's is always MS_INBOX).
 * Functions taking a box return -ENOENT when it no longer exists. */
uint32_t mstore_uidvalidity(struct mstore *st, int user, uint32_t box);
uint32_t mstore_uidnext(struct mstore *st, int user, uint32_t box);
/* Rereads the folder's new/ and cur/ into the index: files changed behind the store's back (not by
 * its own calls) are seen from then on. 0 or -errno. */
int mstore_sync(struct mstore *st, int user, uint32_t box);
/* Moves new/ messages into cur/ and returns the folder's messages with UID > min_uid, sorted by
 * UID (*msgs is malloc'd; free it), and the UID the next message will get, read at the same
 * instant (so every message not returned has a UID >= *uidnext or <= min_uid). 0 or -errno. */
int mstore_scan(struct mstore *st, int user, uint32_t box, uint32_t min_uid, struct ms_msg **msgs,
                size_t *n, uint32_t *uidnext);
/* The calls below find the message by m->box and m->uid. */
/* Renames the message to carry new flags (m->flags is updated). -ENOENT if it is gone. */
int mstore_set_flags(struct mstore *st, int user, struct ms_msg *m, unsigned flags);
int mstore_remove(struct mstore *st, int user, const struct ms_msg *m);
/* Reads the whole message into a malloc'd buffer. */
int mstore_read(struct mstore *st, int user, const struct ms_msg *m, char **buf, size_t *len);

/* ---- folders (mailbox.c) ---- */
/* A folder name is 1..MS_NAME_MAX bytes of printable ASCII (modified UTF-7 is kept as it is) with
 * no "/", "\\", "*" or "%", no empty level ("a..b", ".a", "a."); "INBOX" in any case is INBOX, also
 * as the first level of a longer name. 0 when valid (the INBOX level is written "INBOX" in canon,
 * MS_NAME_MAX + 1 bytes), else -EINVAL. */
int mstore_box_name(const char *name, char *canon);
/* The folder's id: 0, -EINVAL (a bad name) or -ENOENT. */
int mstore_box_find(struct mstore *st, int user, const char *name, uint32_t *box);
/* Creates a folder and any missing parent levels, durably (directories and UIDVALIDITY fsynced).
 * -EEXIST, -EINVAL, -ENOSPC (MS_BOXES reached) or another -errno. */
int mstore_box_create(struct mstore *st, int user, const char *name);
/* Deletes a folder and its messages: -EPERM for INBOX, -ENOTEMPTY when it has sub-folders (RFC
 * 3501 allows refusing), -ENOENT. A crash half-way leaves a hidden directory removed at open. */
int mstore_box_delete(struct mstore *st, int user, const char *name);
/* Renames a folder and its sub-folders (ids, UIDs and UIDVALIDITY kept). Renaming INBOX creates
 * the new folder and moves INBOX's messages into it (RFC 3501 6.3.5). -EEXIST, -ENOENT, -EINVAL
 * (also: into itself). */
int mstore_box_rename(struct mstore *st, int user, const char *from, const char *to);

enum {
	MS_ATTR_CHILDREN = 1u << 0, /* has sub-folders (\HasChildren, else \HasNoChildren) */
	MS_ATTR_SENT = 1u << 1,     /* RFC 6154 special uses: the provisioned folders */
	MS_ATTR_DRAFTS = 1u << 2,
	MS_ATTR_TRASH = 1u << 3,
	MS_ATTR_JUNK = 1u << 4,
	MS_ATTR_ARCHIVE = 1u << 5,
	MS_ATTR_SUBSCRIBED = 1u << 6,
};
struct ms_boxinfo {
	char name[MS_NAME_MAX + 1];
	unsigned attrs; /* MS_ATTR_* */
};
/* Every folder, INBOX first, then by name (*out malloc'd). 0 or -errno. */
int mstore_box_list(struct mstore *st, int user, struct ms_boxinfo **out, size_t *n);
/* Subscribed names (also of folders that are gone, as RFC 3501 6.3.6 allows), sorted; *out is
 * malloc'd, one block. A user who never subscribed has INBOX and the special-use folders. */
int mstore_subs(struct mstore *st, int user, char ***out, size_t *n);
/* Adds or removes a name; the file is rewritten atomically (tmp, fsync, rename, fsync dir). */
int mstore_subscribe(struct mstore *st, int user, const char *name, bool on);

struct ms_status {
	uint32_t messages, unseen, uidnext, uidvalidity;
};
int mstore_status(struct mstore *st, int user, uint32_t box, struct ms_status *out);

/* ---- APPEND, COPY, MOVE (mailbox_copy.c) ---- */
/* Stores a message in a folder durably (tmp/, fsync, named in cur/ with its flags under the lock,
 * cur/ fsynced) with time_s as its INTERNALDATE; its UID goes to *uid. 0 or -errno. */
int mstore_append(struct mstore *st, int user, uint32_t box, const char *msg, size_t len,
                  unsigned flags, int64_t time_s, uint32_t *uid);
/* Copies n messages (all of one folder, sorted by UID) into folder dst: hard links under new UIDs
 * (consecutive, the first in *first_uid), flags and INTERNALDATE kept, the destination fsynced.
 * With move, the sources are then unlinked (and leave the store's index). A journal (written and
 * fsynced first, removed last) lets the store finish a MOVE or undo a COPY that a crash
 * interrupted, at its next open: a message is never in both folders after a MOVE. Messages already
 * gone are skipped: *done says how many were copied. 0 or -errno (-EINVAL: dst is the source). */
int mstore_copy(struct mstore *st, int user, const struct ms_msg *msgs, size_t n, uint32_t dst,
                bool move, uint32_t *first_uid, size_t *done);

/* ---- sessions' views of a folder, change notification (mailview.c) ---- */
/* A session's copy of a folder's message list (IMAP: index = sequence number - 1), brought up to
 * date by mstore_view_sync. Starts zeroed, with box set (mstore_view_reset). */
struct ms_view {
	uint32_t box;
	struct ms_msg *msgs; /* sorted by UID */
	size_t n, cap;
	uint32_t uidnext; /* the folder's UIDNEXT at the last sync */
	uint64_t changes; /* the folder's change count at the last complete sync (0: never) */
};
enum ms_view_event {
	MS_VIEW_EXPUNGE, /* the message at seq has left the view (later ones moved down by one) */
	MS_VIEW_FLAGS,   /* the message at seq has new flags (m) */
	MS_VIEW_EXISTS,  /* messages were added at the end: seq is the new count */
};
typedef void ms_view_fn(void *ctx, enum ms_view_event e, size_t seq, const struct ms_msg *m);
/* Brings v up to date with its folder, reporting each difference to fn (if not NULL) in the order
 * it is applied, under the store's lock for the user (fn must not call the store). Messages the
 * folder no longer has leave the view only if expunge (else they stay until a sync that may
 * expunge: sequence numbers a client holds keep their meaning); messages are added only above the
 * view's highest UID, in UID order. Costs a compare of two counts when nothing changed since the
 * last complete sync. 0, -ENOENT (the folder was deleted) or another -errno. */
int mstore_view_sync(struct mstore *st, int user, struct ms_view *v, bool expunge, ms_view_fn *fn,
                     void *ctx);
void mstore_view_reset(struct ms_view *v, uint32_t box); /* empty, for box (memory kept) */
void mstore_view_free(struct ms_view *v);

/* A watcher's fn is called whenever its folder changes (messages added, expunged, moved out,
 * flags changed; the folder deleted), by the thread changing it, under the store's lock for the
 * user: fn must not call the store (it wakes a connection: srv_conn_wake). After mstore_unwatch
 * returns, fn is not running and will not be called again. */
struct ms_watch {
	void (*fn)(struct ms_watch *w);
	uint32_t box;          /* set by mstore_watch */
	struct ms_watch *next; /* the store's */
};
void mstore_watch(struct mstore *st, int user, uint32_t box, struct ms_watch *w);
void mstore_unwatch(struct mstore *st, int user, struct ms_watch *w);

/* Tests: the next COPY/MOVE stops as a crash would, after the given step, with nothing cleaned up
 * (the call returns -EINTR); the store should then be closed and reopened. */
enum ms_fault {
	MS_FAULT_NONE,
	MS_FAULT_AFTER_JOURNAL,
	MS_FAULT_AFTER_LINKS,
	MS_FAULT_AFTER_UNLINK1
};
void mstore_fault(struct mstore *st, enum ms_fault f);

#endif
