/* workloads/mail/mailbox_copy.c: messages going into a folder other than by SMTP: APPEND (written
 * to Maildir/tmp/, fsynced, renamed into the folder's cur/ under a new UID, cur/ fsynced), COPY and
 * MOVE (hard links under new UIDs, the destination fsynced, then for MOVE the sources unlinked,
 * the source's next UID saved first when the MOVE takes its highest: ms_uidnext_save),
 * and the journal that makes a COPY or MOVE cut short by a crash come out whole at the next open:
 *
 *   Maildir/vcons-journal   "copy" or "move", then one line per message: source TAB destination,
 *                           both relative to the Maildir ("cur/<name>:2,S", ".Sent/cur/<name>:2,")
 *
 * It is written and fsynced (with the Maildir) before the first link and removed (the Maildir
 * fsynced) after the last step. At open, a "move" line whose destination exists has its source
 * unlinked (the move is finished: the sources are unlinked only after every destination is
 * durable, so no message is lost either way), a "copy" line's destination is unlinked (the COPY
 * was never acknowledged; RFC 3501 asks for the destination as it was). Then the file system is
 * synced and the journal removed. All of it runs under the user's lock. */
#include "workloads/mail/mailstore_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define JOURNAL "vcons-journal"

int mstore_append(struct mstore *st, int user, uint32_t box, const char *msg, size_t len,
                  unsigned flags, int64_t time_s, uint32_t *uid)
{
	char tmp[MS_PATH], dst[MS_PATH];
	uint64_t r = ms_rand(st);
	/* INBOX's tmp/: its path does not change when a folder is renamed meanwhile */
	int rc =
	    ms_write_tmp(st, user, NULL, (int64_t)time(NULL), r, "", 0, msg, len, tmp, sizeof(tmp));
	if (rc)
		return rc;
	pthread_mutex_lock(&st->u[user].lock);
	struct ms_box *b = ms_box_get(st, user, box, &rc);
	if (b) {
		struct ms_ent e = { .m = { .box = box,
			                   .uid = b->next_uid,
			                   .flags = flags,
			                   .size = len,
			                   .time_s = time_s } };
		ms_name(e.m.name, sizeof(e.m.name), time_s, e.m.uid, r, len);
		ms_ent_path(st, user, b, &e, dst, sizeof(dst));
		rc = rename(tmp, dst) ? -errno : 0;
		if (!rc) {
			b->next_uid++;
			(void)ms_idx_push(b, &e); /* on ENOMEM: seen at the next mstore_sync */
			ms_box_changed(&st->u[user], b);
			*uid = e.m.uid;
			ms_path(st, user, b, "cur", NULL, dst, sizeof(dst));
			rc = ms_fsync_path(dst);
		}
	}
	pthread_mutex_unlock(&st->u[user].lock);
	if (rc)
		unlink(tmp); /* gone already if the rename was done */
	return rc;
}

/* A message's path relative to the Maildir. */
static void rel_path(const struct ms_box *b, const struct ms_ent *e, char *dst, size_t cap)
{
	char rel[160];
	ms_ent_rel(e, rel, sizeof(rel));
	if (b->id == MS_INBOX)
		snprintf(dst, cap, "%s", rel);
	else
		snprintf(dst, cap, ".%s/%s", b->name, rel);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Writes the journal and makes it durable (its data, then its name in the Maildir). */
static int journal_write(struct mstore *st, int user, const char *text, size_t len)
{
	char p[MS_PATH];
	ms_path(st, user, NULL, NULL, JOURNAL, p, sizeof(p));
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int rc = write_all(fd, text, len);
	if (!rc && fsync(fd))
		rc = -errno;
	close(fd);
	ms_path(st, user, NULL, NULL, NULL, p, sizeof(p));
	return rc ? rc : ms_fsync_path(p);
}

static int journal_remove(struct mstore *st, int user)
{
	char p[MS_PATH];
	ms_path(st, user, NULL, NULL, JOURNAL, p, sizeof(p));
	if (unlink(p) && errno != ENOENT)
		return -errno;
	ms_path(st, user, NULL, NULL, NULL, p, sizeof(p));
	return ms_fsync_path(p);
}

/* One message being copied: where it is and where it goes (both relative to the Maildir). */
struct cp_item {
	struct ms_ent e; /* the destination's index entry */
	uint32_t src_uid;
	char src[MS_PATH / 2], dst[MS_PATH / 2];
};

/* Lists the messages still there, with their destination names and UIDs; *text is the journal. */
static int plan(struct mstore *st, const struct ms_box *src, const struct ms_box *dst,
                const struct ms_msg *msgs, size_t n, bool move, struct cp_item *it, size_t *k,
                char **text, size_t *tlen)
{
	*text = malloc(8 + n * sizeof(it->src) * 2);
	if (!*text)
		return -ENOMEM;
	*tlen = (size_t)sprintf(*text, "%s\n", move ? "move" : "copy");
	*k = 0;
	for (size_t i = 0; i < n; i++) {
		long x = ms_idx_find(src, msgs[i].uid);
		if (x < 0)
			continue;
		struct cp_item *c = &it[(*k)++];
		c->src_uid = msgs[i].uid;
		c->e = (struct ms_ent){ .m = src->idx[x].m };
		c->e.m.box = dst->id;
		c->e.m.uid = dst->next_uid + (uint32_t)(*k - 1);
		ms_name(c->e.m.name, sizeof(c->e.m.name), c->e.m.time_s, c->e.m.uid, ms_rand(st),
		        c->e.m.size);
		rel_path(src, &src->idx[x], c->src, sizeof(c->src));
		rel_path(dst, &c->e, c->dst, sizeof(c->dst));
		*tlen += (size_t)sprintf(*text + *tlen, "%s\t%s\n", c->src, c->dst);
	}
	return 0;
}

static void abs_path(struct mstore *st, int user, const char *rel, char *dst, size_t cap)
{
	ms_path(st, user, NULL, NULL, rel, dst, cap);
}

/* The links, made durable; on an error the ones made are undone. */
static int link_all(struct mstore *st, int user, const struct ms_box *dst, const struct cp_item *it,
                    size_t k)
{
	char a[MS_PATH], b[MS_PATH];
	size_t i = 0;
	int rc = 0;
	for (; !rc && i < k; i++) {
		abs_path(st, user, it[i].src, a, sizeof(a));
		abs_path(st, user, it[i].dst, b, sizeof(b));
		rc = link(a, b) ? -errno : 0;
	}
	if (!rc) {
		ms_path(st, user, dst, "cur", NULL, a, sizeof(a));
		return ms_fsync_path(a);
	}
	for (size_t j = 0; j + 1 < i; j++) {
		abs_path(st, user, it[j].dst, b, sizeof(b));
		unlink(b);
	}
	return rc;
}

/* Unlinks the sources and makes that durable (cur/, and new/ if a source was there). */
static int unlink_all(struct mstore *st, int user, const struct ms_box *src,
                      const struct cp_item *it, size_t k)
{
	char a[MS_PATH];
	bool in_new = false;
	for (size_t i = 0; i < k; i++) {
		abs_path(st, user, it[i].src, a, sizeof(a));
		if (unlink(a) && errno != ENOENT)
			return -errno;
		in_new |= strstr(it[i].src, "new/") != NULL;
		if (i == 0 && st->fault == MS_FAULT_AFTER_UNLINK1)
			return -EINTR;
	}
	ms_path(st, user, src, "cur", NULL, a, sizeof(a));
	int rc = ms_fsync_path(a);
	ms_path(st, user, src, "new", NULL, a, sizeof(a));
	return rc || !in_new ? rc : ms_fsync_path(a);
}

/* The index after the copy: the destinations added, the sources of a move dropped; the
 * folders' watchers told. */
static void reindex(struct ms_user *u, struct ms_box *src, struct ms_box *dst,
                    const struct cp_item *it, size_t k, bool move)
{
	for (size_t i = 0; i < k; i++) {
		(void)ms_idx_push(dst, &it[i].e); /* on ENOMEM: seen at the next mstore_sync */
		long x = move ? ms_idx_find(src, it[i].src_uid) : -1;
		if (x >= 0)
			ms_idx_del(src, (size_t)x);
	}
	ms_box_changed(u, dst);
	if (move)
		ms_box_changed(u, src);
}

/* Does a move take the source folder's highest UID? Then its next UID must be saved first. */
static bool takes_top(const struct ms_box *src, const struct cp_item *it, size_t k)
{
	for (size_t i = 0; src->n && i < k; i++)
		if (it[i].src_uid == src->idx[src->n - 1].m.uid)
			return true;
	return false;
}

static int copy_locked(struct mstore *st, int user, const struct ms_msg *msgs, size_t n,
                       uint32_t dst_id, bool move, uint32_t *first_uid, size_t *done)
{
	int rc;
	*done = 0;
	struct ms_box *dst = ms_box_get(st, user, dst_id, &rc);
	struct ms_box *src = dst ? ms_box_get(st, user, msgs[0].box, &rc) : NULL;
	if (!src)
		return rc;
	if (src == dst)
		return -EINVAL;
	struct cp_item *it = calloc(n, sizeof(*it));
	char *text = NULL;
	size_t k = 0, tlen;
	rc = it ? plan(st, src, dst, msgs, n, move, it, &k, &text, &tlen) : -ENOMEM;
	if (!rc && k && move && takes_top(src, it, k))
		rc = ms_uidnext_save(st, user, src);
	if (!rc && k) {
		*first_uid = dst->next_uid;
		rc = journal_write(st, user, text, tlen);
		if (!rc && st->fault == MS_FAULT_AFTER_JOURNAL)
			rc = -EINTR;
		if (!rc) {
			dst->next_uid += (uint32_t)k; /* never reused, whatever happens next */
			rc = link_all(st, user, dst, it, k);
			if (rc)
				journal_remove(st, user);
		}
		if (!rc && st->fault == MS_FAULT_AFTER_LINKS)
			rc = -EINTR;
		if (!rc && move)
			rc = unlink_all(st, user, src, it, k);
		if (!rc) {
			reindex(&st->u[user], src, dst, it, k, move);
			*done = k;
			rc = journal_remove(st, user);
		}
	}
	free(text);
	free(it);
	return rc;
}

int mstore_copy(struct mstore *st, int user, const struct ms_msg *msgs, size_t n, uint32_t dst,
                bool move, uint32_t *first_uid, size_t *done)
{
	*done = 0;
	if (n == 0)
		return 0;
	pthread_mutex_lock(&st->u[user].lock);
	int rc = copy_locked(st, user, msgs, n, dst, move, first_uid, done);
	pthread_mutex_unlock(&st->u[user].lock);
	return rc;
}

int ms_move_all(struct mstore *st, int user, uint32_t dst)
{
	struct ms_box *in = &st->u[user].box[0];
	if (in->n == 0)
		return 0;
	struct ms_msg *m = malloc(in->n * sizeof(*m));
	if (!m)
		return -ENOMEM;
	for (size_t i = 0; i < in->n; i++)
		m[i] = in->idx[i].m;
	uint32_t first;
	size_t done;
	int rc = copy_locked(st, user, m, in->n, dst, true, &first, &done);
	free(m);
	return rc;
}

/* One journal line: finishes a move or undoes a copy. */
static void replay(struct mstore *st, int user, bool move, char *line)
{
	char a[MS_PATH], b[MS_PATH];
	char *tab = strchr(line, '\t');
	if (!tab || strstr(line, "..") || line[0] == '/' || tab[1] == '/')
		return; /* a line cut short by the crash, or not ours */
	*tab = 0;
	abs_path(st, user, line, a, sizeof(a));
	abs_path(st, user, tab + 1, b, sizeof(b));
	if (!move)
		unlink(b);
	else if (access(b, F_OK) == 0)
		unlink(a);
}

int ms_journal_recover(struct mstore *st, int user)
{
	char p[MS_PATH], line[MS_PATH + 8];
	ms_path(st, user, NULL, NULL, JOURNAL, p, sizeof(p));
	FILE *f = fopen(p, "r");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	bool move = false;
	for (unsigned n = 0; fgets(line, sizeof(line), f); n++) {
		line[strcspn(line, "\n")] = 0;
		if (n == 0)
			move = strcmp(line, "move") == 0;
		else
			replay(st, user, move, line);
	}
	int rc = syncfs(fileno(f)) ? -errno : 0;
	(void)fclose(f); /* opened to read: nothing to lose */
	return rc ? rc : journal_remove(st, user);
}
