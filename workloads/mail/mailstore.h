/* workloads/mail/mailstore.h: the Maildir store of vcons-mail. Layout under the data directory:
 *   <data>/userK/Maildir/{tmp,new,cur}/   one file per message, stored exactly as received (CRLF)
 *   <data>/userK/Maildir/vcons-uidvalidity the IMAP UIDVALIDITY of INBOX, written once
 * Message names carry the IMAP UID and size: "<sec>.<uid>_<rand>.vcons,U=<uid>,S=<bytes>", plus the
 * Maildir info ":2,<flags>" once in cur/. Delivery writes the message once to tmp/, fsyncs it,
 * links it into each recipient's new/ (the last one by rename) under that user's lock (so UIDs
 * become visible in increasing order) and fsyncs each new/; only then is a message acknowledged.
 * tmp/ is emptied when the store opens. Each user's messages are indexed in memory (built at open,
 * rebuilt by mstore_sync), so listing them reads no directory. Thread-safe. */
#ifndef VCONS_MAILSTORE_H
#define VCONS_MAILSTORE_H
#include <stddef.h>
#include <stdint.h>

#define MS_DOMAIN "vcons.test"

struct mstore;

struct ms_msg {
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

uint32_t mstore_uidvalidity(const struct mstore *st, int user);
uint32_t mstore_uidnext(struct mstore *st, int user);
/* Rereads the user's new/ and cur/ into the index: files changed behind the store's back (not by
 * its own calls) are seen from then on. 0 or -errno. */
int mstore_sync(struct mstore *st, int user);
/* Moves new/ messages into cur/ and returns the user's messages with UID > min_uid, sorted by UID
 * (*msgs is malloc'd; free it), and the UID the next delivery will get, read at the same instant
 * (so every message not returned has a UID >= *uidnext or <= min_uid). 0 or -errno. */
int mstore_scan(struct mstore *st, int user, uint32_t min_uid, struct ms_msg **msgs, size_t *n,
                uint32_t *uidnext);
/* Renames the message (found by m->uid) to carry new flags (m->flags is updated). -ENOENT if it
 * is gone. */
int mstore_set_flags(struct mstore *st, int user, struct ms_msg *m, unsigned flags);
int mstore_remove(struct mstore *st, int user, const struct ms_msg *m);
/* Reads the whole message into a malloc'd buffer. */
int mstore_read(struct mstore *st, int user, const struct ms_msg *m, char **buf, size_t *len);

#endif
