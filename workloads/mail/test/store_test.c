/* Unit tests for workloads/mail/mailstore: provisioning, durable delivery into new/, scanning into
 * cur/ with increasing UIDs, flags in Maildir names, expunge, tmp/ clean-up and UID continuity
 * across a reopen, user names and passwords; folders (names, hostile ones, CREATE/RENAME/DELETE,
 * LIST, subscriptions), APPEND/COPY/MOVE and a COPY/MOVE cut short at each step, then recovered;
 * UIDNEXT kept across a reopen after the highest UIDs were expunged or moved out; sessions' views
 * brought up to date (expunges held back or not) and the watchers told of each change. Works in
 * a fresh directory under $TMPDIR. */
#include "tools/unit.h"
#include "lib/fs.h"
#include "workloads/mail/mailproto.h"
#include "workloads/mail/mailstore.h"

#define _XOPEN_SOURCE_EXTENDED 1
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];

static int setup(void **state)
{
	(void)state;
	return fs_tmpdir(dir, sizeof(dir), "vcons-store-test");
}

static int teardown(void **state)
{
	(void)state;
	return fs_rmtree(dir, false);
}

static int count(const char *user, const char *sub)
{
	char p[600];
	snprintf(p, sizeof(p), "%s/%s/Maildir/%s", dir, user, sub);
	DIR *d = opendir(p);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void test_deliver_scan_flags(void **state)
{
	(void)state;
	struct mstore *st;
	char err[256];
	assert_int_equal(mstore_open(&st, dir, 3, NULL, err, sizeof(err)), 0);
	assert_int_equal(count("user3", "tmp"), 0);
	int to[] = { 0, 2 };
	const char *body = "Subject: x\r\n\r\nhello\r\n";
	assert_int_equal(mstore_deliver(st, to, 2, "P: 1\r\n", 6, body, strlen(body)), 0);
	assert_int_equal(count("user1", "new"), 1);
	assert_int_equal(count("user2", "new"), 0);
	assert_int_equal(count("user3", "new"), 1);
	assert_int_equal(count("user1", "tmp"), 0);

	struct ms_msg *m;
	size_t n;
	uint32_t next;
	assert_int_equal(mstore_scan(st, 0, MS_INBOX, 0, &m, &n, &next), 0);
	assert_int_equal(next, 2);
	assert_int_equal(n, 1);
	assert_int_equal(m[0].uid, 1);
	assert_int_equal(m[0].size, 6 + strlen(body));
	assert_int_equal(m[0].flags, 0);
	assert_int_equal(count("user1", "new"), 0);
	assert_int_equal(count("user1", "cur"), 1);
	char *data;
	size_t len;
	assert_int_equal(mstore_read(st, 0, &m[0], &data, &len), 0);
	assert_int_equal(len, m[0].size);
	assert_memory_equal(data, "P: 1\r\nSubject: x", 16);
	free(data);

	assert_int_equal(mstore_set_flags(st, 0, &m[0], MP_FLAG_SEEN | MP_FLAG_DELETED), 0);
	char p[600];
	snprintf(p, sizeof(p), "%s/user1/Maildir/cur/%s:2,ST", dir, m[0].name);
	assert_int_equal(access(p, F_OK), 0);
	struct ms_msg *m2;
	size_t n2;
	assert_int_equal(mstore_scan(st, 0, MS_INBOX, 0, &m2, &n2, &next), 0);
	assert_int_equal(n2, 1);
	assert_int_equal(m2[0].flags, MP_FLAG_SEEN | MP_FLAG_DELETED);
	free(m2);
	assert_int_equal(mstore_remove(st, 0, &m[0]), 0);
	assert_int_equal(mstore_set_flags(st, 0, &m[0], 0), -ENOENT);
	free(m);
	assert_int_equal(mstore_scan(st, 0, MS_INBOX, 0, &m, &n, &next), 0);
	assert_int_equal(n, 0);
	free(m);

	/* UIDs keep increasing; scan from a UID returns only newer ones */
	assert_int_equal(mstore_deliver(st, to, 1, "", 0, body, strlen(body)), 0);
	assert_int_equal(mstore_deliver(st, to, 1, "", 0, body, strlen(body)), 0);
	assert_int_equal(mstore_uidnext(st, 0, MS_INBOX), 4);
	assert_int_equal(mstore_scan(st, 0, MS_INBOX, 2, &m, &n, &next), 0);
	assert_int_equal(n, 1);
	assert_int_equal(m[0].uid, 3);
	free(m);
	uint32_t validity = mstore_uidvalidity(st, 0, MS_INBOX);
	assert_true(validity > 0);
	mstore_close(st);

	/* a leftover in tmp/ is removed on reopen; UIDs and UIDVALIDITY survive */
	snprintf(p, sizeof(p), "%s/user1/Maildir/tmp/crash.leftover", dir);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs("partial", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(mstore_open(&st, dir, 3, NULL, err, sizeof(err)), 0);
	assert_int_equal(count("user1", "tmp"), 0);
	assert_int_equal(mstore_uidnext(st, 0, MS_INBOX), 4);
	assert_int_equal(mstore_uidvalidity(st, 0, MS_INBOX), validity);
	assert_int_equal(mstore_scan(st, 0, MS_INBOX, 0, &m, &n, &next), 0);
	assert_int_equal(n, 2);
	assert_true(m[0].uid == 2 && m[1].uid == 3);
	free(m);
	mstore_close(st);
}

static void test_users(void **state)
{
	(void)state;
	char pw[300], err[256];
	snprintf(pw, sizeof(pw), "%s/passwords", dir);
	FILE *f = fopen(pw, "w");
	assert_non_null(f);
	fputs("# comment\nuser2:s3cret\nuser9:ignored\n", f);
	assert_int_equal(fclose(f), 0);
	struct mstore *st;
	assert_int_equal(mstore_open(&st, dir, 3, pw, err, sizeof(err)), 0);
	assert_int_equal(mstore_users(st), 3);
	assert_int_equal(mstore_find(st, "user1"), 0);
	assert_int_equal(mstore_find(st, "USER3@VCONS.TEST"), 2);
	assert_int_equal(mstore_find(st, "user3@vcons.test"), 2);
	const char *bad[] = { "user4", "user0",  "user01",  "user1@example.org",
		              "user",  "user1x", "bob",     "user+1",
		              "",      "user 1", "user\t1", "user-1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(mstore_find(st, bad[i]), -1);
	assert_int_equal(mstore_auth(st, "user1", "user1"), 0);
	assert_int_equal(mstore_auth(st, "user2", "user2"), -1);
	assert_int_equal(mstore_auth(st, "user2", "s3cret"), 1);
	assert_int_equal(mstore_auth(st, "user2@vcons.test", "s3cret"), 1);
	assert_int_equal(mstore_auth(st, "user4", "user4"), -1);
	mstore_close(st);
	snprintf(pw, sizeof(pw), "%s/missing", dir);
	assert_int_not_equal(mstore_open(&st, dir, 3, pw, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "missing"));
}

static int count_box(const char *box, const char *sub)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", box, sub);
	return count("user1", p);
}

static void test_folder_names(void **state)
{
	(void)state;
	char c[MS_NAME_MAX + 1], longname[MS_NAME_MAX + 2];
	const char *bad[] = { "",     "..", ".", "../x", "a/b",   "a\\b", ".hidden",
		              "a..b", "x.", "*", "a%",   "tab\t", "\x7f", "\xc3\xa9" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(mstore_box_name(bad[i], c), -EINVAL);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[MS_NAME_MAX + 1] = 0;
	assert_int_equal(mstore_box_name(longname, c), -EINVAL);
	assert_int_equal(mstore_box_name("inbox.Sub", c), 0);
	assert_string_equal(c, "INBOX.Sub");
	assert_int_equal(mstore_box_name("Inboxes", c), 0);
	assert_string_equal(c, "Inboxes");
	assert_int_equal(mstore_box_name("&ZeVnLIqe-", c), 0); /* modified UTF-7, kept */
	assert_int_equal(mstore_box_name("Sent Items", c), 0);
}

static bool listed(struct mstore *st, const char *name, unsigned *attrs)
{
	struct ms_boxinfo *l;
	size_t n;
	assert_int_equal(mstore_box_list(st, 0, &l, &n), 0);
	bool found = false;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(l[i].name, name)) {
			found = true;
			*attrs = l[i].attrs;
		}
	assert_string_equal(l[0].name, "INBOX");
	free(l);
	return found;
}

static void test_folders(void **state)
{
	(void)state;
	struct mstore *st;
	char err[256];
	unsigned a;
	uint32_t id, id2;
	assert_int_equal(mstore_open(&st, dir, 1, NULL, err, sizeof(err)), 0);
	assert_true(listed(st, "Sent", &a) && a == MS_ATTR_SENT);
	assert_true(listed(st, "Archive", &a) && a == MS_ATTR_ARCHIVE);
	assert_int_equal(count_box(".Trash", "cur"), 0);
	assert_int_equal(mstore_box_create(st, 0, "a.b.c"), 0);
	assert_true(listed(st, "a", &a) && a == MS_ATTR_CHILDREN);
	assert_true(listed(st, "a.b.c", &a) && a == 0);
	assert_int_equal(mstore_box_create(st, 0, "a.b"), -EEXIST);
	assert_int_equal(mstore_box_create(st, 0, "INBOX"), -EEXIST);
	assert_int_equal(mstore_box_create(st, 0, "../x"), -EINVAL);
	assert_int_equal(mstore_box_find(st, 0, "inbox", &id), 0);
	assert_int_equal(id, MS_INBOX);
	assert_int_equal(mstore_box_find(st, 0, "a.b", &id), 0);
	assert_int_equal(mstore_box_find(st, 0, "nope", &id2), -ENOENT);
	/* rename moves the children and keeps the id */
	assert_int_equal(mstore_box_rename(st, 0, "a", "a.b.c.d"), -EINVAL);
	assert_int_equal(mstore_box_rename(st, 0, "a", "Sent"), -EEXIST);
	assert_int_equal(mstore_box_rename(st, 0, "a", "z.y"), 0);
	assert_int_equal(mstore_box_find(st, 0, "z.y.b", &id2), 0);
	assert_int_equal(id2, id);
	assert_true(listed(st, "z", &a) && !listed(st, "a.b", &a));
	assert_int_equal(count_box(".z.y.b.c", "cur"), 0);
	assert_int_equal(count_box(".a.b", "cur"), -1);
	/* delete: not with children, not INBOX */
	assert_int_equal(mstore_box_delete(st, 0, "z.y"), -ENOTEMPTY);
	assert_int_equal(mstore_box_delete(st, 0, "INBOX"), -EPERM);
	assert_int_equal(mstore_box_delete(st, 0, "z.y.b.c"), 0);
	assert_int_equal(mstore_box_delete(st, 0, "z.y.b.c"), -ENOENT);
	assert_int_equal(count_box(".z.y.b.c", "cur"), -1);
	/* subscriptions: defaults, then the file */
	char **subs;
	size_t n;
	assert_int_equal(mstore_subs(st, 0, &subs, &n), 0);
	assert_int_equal(n, 6);
	free(subs);
	assert_int_equal(mstore_subscribe(st, 0, "z.y", true), 0);
	assert_int_equal(mstore_subscribe(st, 0, "Junk", false), 0);
	assert_int_equal(mstore_subscribe(st, 0, "Junk", false), -ENOENT);
	mstore_close(st);
	assert_int_equal(mstore_open(&st, dir, 1, NULL, err, sizeof(err)), 0);
	assert_true(listed(st, "z.y.b", &a) && !listed(st, "z.y.b.c", &a));
	assert_int_equal(mstore_subs(st, 0, &subs, &n), 0);
	assert_int_equal(n, 6);
	bool zy = false, junk = false;
	for (size_t i = 0; i < n; i++) {
		zy |= !strcmp(subs[i], "z.y");
		junk |= !strcmp(subs[i], "Junk");
	}
	assert_true(zy && !junk);
	free(subs);
	mstore_close(st);
}

/* Appends three messages to INBOX, returns them scanned. */
static size_t three(struct mstore *st, struct ms_msg **m)
{
	uint32_t uid, next;
	size_t n;
	for (int i = 0; i < 3; i++)
		assert_int_equal(mstore_append(st, 0, MS_INBOX, "Subject: x\r\n\r\nbody\r\n", 21,
		                               i == 1 ? MP_FLAG_SEEN : 0, 1700000000 + i, &uid),
		                 0);
	assert_int_equal(mstore_scan(st, 0, MS_INBOX, 0, m, &n, &next), 0);
	assert_int_equal(n, 3);
	return n;
}

static void test_append_copy_move(void **state)
{
	(void)state;
	struct mstore *st;
	char err[256];
	struct ms_msg *m, *w;
	size_t n, done;
	uint32_t uid, first, next, arch, trash, st_uidnext;
	assert_int_equal(mstore_open(&st, dir, 1, NULL, err, sizeof(err)), 0);
	assert_int_equal(mstore_box_find(st, 0, "Archive", &arch), 0);
	assert_int_equal(mstore_box_find(st, 0, "Trash", &trash), 0);
	assert_int_equal(mstore_append(st, 0, arch, "x\r\n", 3, MP_FLAG_FLAGGED, 86400, &uid), 0);
	assert_int_equal(uid, 1);
	assert_int_equal(count_box(".Archive", "cur"), 1);
	assert_int_equal(count("user1", "tmp"), 0);
	three(st, &m);
	assert_int_equal(m[0].time_s, 1700000000);
	assert_int_equal(mstore_copy(st, 0, m, 3, arch, false, &first, &done), 0);
	assert_int_equal(first, 2);
	assert_int_equal(done, 3);
	assert_int_equal(count_box(".Archive", "cur"), 4);
	assert_int_equal(mstore_copy(st, 0, m, 3, MS_INBOX, false, &first, &done), -EINVAL);
	assert_int_equal(mstore_scan(st, 0, arch, 0, &w, &n, &next), 0);
	assert_int_equal(n, 4);
	assert_int_equal(next, 5);
	assert_int_equal(w[2].flags, MP_FLAG_SEEN);
	assert_int_equal(w[2].time_s, 1700000001);
	char *text;
	size_t len;
	assert_int_equal(mstore_read(st, 0, &w[3], &text, &len), 0);
	assert_memory_equal(text, "Subject: x", 10);
	free(text);
	free(w);
	/* MOVE: the sources leave INBOX (and its index), the copies are in Trash */
	assert_int_equal(mstore_copy(st, 0, m + 1, 2, trash, true, &first, &done), 0);
	assert_int_equal(done, 2);
	assert_int_equal(count("user1", "cur"), 1);
	assert_int_equal(count_box(".Trash", "cur"), 2);
	assert_int_equal(mstore_read(st, 0, &m[1], &text, &len), -ENOENT);
	struct ms_status s;
	assert_int_equal(mstore_status(st, 0, trash, &s), 0);
	assert_true(s.messages == 2 && s.unseen == 1 && s.uidnext == 3);
	st_uidnext = s.uidnext;
	free(m);
	/* RENAME INBOX: its messages move into the new folder */
	assert_int_equal(mstore_box_rename(st, 0, "INBOX", "Old"), 0);
	assert_int_equal(count("user1", "cur"), 0);
	assert_int_equal(count_box(".Old", "cur"), 1);
	mstore_close(st);
	assert_int_equal(mstore_open(&st, dir, 1, NULL, err, sizeof(err)), 0);
	/* ids belong to one opening of the store: find the folders again */
	assert_int_equal(mstore_box_find(st, 0, "Archive", &arch), 0);
	assert_int_equal(mstore_box_find(st, 0, "Trash", &trash), 0);
	assert_int_equal(mstore_uidnext(st, 0, trash), st_uidnext);
	assert_int_equal(mstore_status(st, 0, arch, &s), 0);
	assert_int_equal(s.messages, 4);
	mstore_close(st);
}

/* A COPY or MOVE cut short at each step, as by kill -9: after the reopen no message is lost, none
 * is in two folders, the journal is gone. */
static void test_crash_recovery(void **state)
{
	(void)state;
	static const struct {
		enum ms_fault f;
		bool move;
		int inbox, trash; /* files in cur/ after recovery */
	} cases[] = {
		{ MS_FAULT_AFTER_JOURNAL, true, 3, 0 },
		{ MS_FAULT_AFTER_LINKS, true, 1, 2 },
		{ MS_FAULT_AFTER_UNLINK1, true, 1, 2 },
		{ MS_FAULT_AFTER_LINKS, false, 3, 0 },
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct mstore *st;
		char err[256], p[512];
		struct ms_msg *m;
		size_t done;
		uint32_t first, trash;
		teardown(NULL);
		assert_int_equal(setup(NULL), 0);
		assert_int_equal(mstore_open(&st, dir, 1, NULL, err, sizeof(err)), 0);
		assert_int_equal(mstore_box_find(st, 0, "Trash", &trash), 0);
		three(st, &m);
		mstore_fault(st, cases[k].f);
		assert_int_equal(mstore_copy(st, 0, m + 1, 2, trash, cases[k].move, &first, &done),
		                 -EINTR);
		free(m);
		snprintf(p, sizeof(p), "%s/user1/Maildir/vcons-journal", dir);
		assert_int_equal(access(p, F_OK), 0);
		mstore_close(st); /* nothing cleaned up: the state a crash leaves */
		assert_int_equal(mstore_open(&st, dir, 1, NULL, err, sizeof(err)), 0);
		assert_int_not_equal(access(p, F_OK), 0);
		assert_int_equal(mstore_box_find(st, 0, "Trash", &trash), 0);
		assert_int_equal(count("user1", "cur"), cases[k].inbox);
		assert_int_equal(count_box(".Trash", "cur"), cases[k].trash);
		struct ms_status s;
		assert_int_equal(mstore_status(st, 0, trash, &s), 0);
		assert_int_equal(s.messages, (uint32_t)cases[k].trash);
		mstore_close(st);
	}
}

/* The number in a folder's vcons-uidnext (folder "" is INBOX), or 0 when there is none. */
static unsigned long uidnext_file(const char *folder)
{
	char p[600];
	snprintf(p, sizeof(p), "%s/user1/Maildir/%s%svcons-uidnext", dir, folder,
	         *folder ? "/" : "");
	FILE *f = fopen(p, "r");
	unsigned long v = 0;
	char line[32];
	if (f) {
		if (fgets(line, sizeof(line), f)) {
			char *end;
			errno = 0;
			v = strtoul(line, &end, 10);
			if (errno || end == line || (*end && *end != '\n'))
				v = 0;
		}
		(void)fclose(f); /* read only */
	}
	return v;
}

/* The UID rule (RFC 3501 2.3.1.1) across restarts: expunging or moving out the highest UID writes
 * UIDNEXT before the file goes, so a reopen (all a kill -9 leaves: nothing is written at close)
 * does not give that UID again. Other expunges write nothing; deliveries beyond it win. */
static void test_uidnext_survives_reopen(void **state)
{
	(void)state;
	struct mstore *st;
	char err[256];
	struct ms_msg *m;
	size_t n, done;
	uint32_t next, uid, first, arch, trash;
	int to = 0;
	assert_int_equal(mstore_open(&st, dir, 1, NULL, err, sizeof(err)), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(mstore_deliver(st, &to, 1, "", 0, "S: x\r\n\r\nb\r\n", 11), 0);
	assert_int_equal(mstore_scan(st, 0, MS_INBOX, 0, &m, &n, &next), 0);
	assert_int_equal(mstore_remove(st, 0, &m[0]), 0); /* not the highest: nothing written */
	assert_int_equal(uidnext_file(""), 0);
	assert_int_equal(mstore_remove(st, 0, &m[2]), 0);
	assert_int_equal(uidnext_file(""), 4);
	free(m);
	/* Archive: two appended, the highest moved to Trash */
	assert_int_equal(mstore_box_find(st, 0, "Archive", &arch), 0);
	assert_int_equal(mstore_box_find(st, 0, "Trash", &trash), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(mstore_append(st, 0, arch, "x\r\n", 3, 0, 86400, &uid), 0);
	assert_int_equal(mstore_scan(st, 0, arch, 1, &m, &n, &next), 0);
	assert_int_equal(n, 1);
	assert_int_equal(mstore_copy(st, 0, m, 1, trash, true, &first, &done), 0);
	free(m);
	assert_int_equal(uidnext_file(".Archive"), 3);
	assert_int_equal(uidnext_file(".Trash"), 0); /* its highest is there: the file says it */
	mstore_close(st);

	assert_int_equal(mstore_open(&st, dir, 1, NULL, err, sizeof(err)), 0);
	assert_int_equal(mstore_box_find(st, 0, "Archive", &arch), 0);
	assert_int_equal(mstore_box_find(st, 0, "Trash", &trash), 0);
	assert_int_equal(mstore_uidnext(st, 0, MS_INBOX), 4);
	assert_int_equal(mstore_uidnext(st, 0, arch), 3);
	assert_int_equal(mstore_uidnext(st, 0, trash), 2);
	assert_int_equal(mstore_append(st, 0, arch, "y\r\n", 3, 0, 86400, &uid), 0);
	assert_int_equal(uid, 3);
	for (int i = 0; i < 2; i++) /* UIDs 4 and 5: now the files say more than vcons-uidnext */
		assert_int_equal(mstore_deliver(st, &to, 1, "", 0, "S: y\r\n\r\nb\r\n", 11), 0);
	mstore_close(st);
	assert_int_equal(mstore_open(&st, dir, 1, NULL, err, sizeof(err)), 0);
	assert_int_equal(mstore_uidnext(st, 0, MS_INBOX), 6);
	/* every message gone, the folder renamed away (INBOX's move), then reopened */
	assert_int_equal(mstore_box_rename(st, 0, "INBOX", "Old"), 0);
	assert_int_equal(uidnext_file(""), 6);
	mstore_close(st);
	assert_int_equal(mstore_open(&st, dir, 1, NULL, err, sizeof(err)), 0);
	assert_int_equal(mstore_uidnext(st, 0, MS_INBOX), 6);
	assert_int_equal(mstore_deliver(st, &to, 1, "", 0, "S: z\r\n\r\nb\r\n", 11), 0);
	assert_int_equal(mstore_scan(st, 0, MS_INBOX, 0, &m, &n, &next), 0);
	assert_true(n == 1 && m[0].uid == 6 && next == 7);
	free(m);
	mstore_close(st);
}

/* What a view sync reported, as text: "X<seq>" expunge, "F<seq>=<flags>", "E<count>". */
struct events {
	char text[256];
};

static void note_event(void *ctx, enum ms_view_event e, size_t seq, const struct ms_msg *m)
{
	struct events *ev = ctx;
	size_t o = strlen(ev->text);
	if (e == MS_VIEW_EXPUNGE)
		snprintf(ev->text + o, sizeof(ev->text) - o, "X%zu ", seq);
	else if (e == MS_VIEW_FLAGS)
		snprintf(ev->text + o, sizeof(ev->text) - o, "F%zu=%u ", seq, m->flags);
	else
		snprintf(ev->text + o, sizeof(ev->text) - o, "E%zu ", seq);
}

static const char *sync_view(struct mstore *st, struct ms_view *v, bool expunge, struct events *ev)
{
	ev->text[0] = 0;
	assert_int_equal(mstore_view_sync(st, 0, v, expunge, note_event, ev), 0);
	return ev->text;
}

struct counted_watch {
	struct ms_watch w;
	int calls;
};

static void count_call(struct ms_watch *w)
{
	((struct counted_watch *)(void *)w)->calls++;
}

/* Two sessions' views of INBOX and a watcher: each kind of change reaches both, in order, with
 * sequence numbers as the view had them; an expunge held back keeps the numbers. */
static void test_views_and_watchers(void **state)
{
	(void)state;
	struct mstore *st;
	char err[256];
	struct events ev;
	struct ms_view a = { 0 }, b = { 0 };
	struct counted_watch cw = { .w.fn = count_call };
	uint32_t uid, first, trash;
	size_t done;
	int to = 0;
	assert_int_equal(mstore_open(&st, dir, 1, NULL, err, sizeof(err)), 0);
	assert_int_equal(mstore_box_find(st, 0, "Trash", &trash), 0);
	mstore_view_reset(&a, MS_INBOX);
	mstore_view_reset(&b, MS_INBOX);
	assert_string_equal(sync_view(st, &a, true, &ev), ""); /* empty: nothing to add */
	mstore_watch(st, 0, MS_INBOX, &cw.w);
	for (int i = 0; i < 3; i++)
		assert_int_equal(mstore_deliver(st, &to, 1, "", 0, "S: x\r\n\r\nb\r\n", 11), 0);
	assert_int_equal(cw.calls, 3);
	assert_string_equal(sync_view(st, &a, true, &ev), "E3 ");
	assert_string_equal(sync_view(st, &b, true, &ev), "E3 ");
	assert_int_equal(a.uidnext, 4);
	assert_string_equal(sync_view(st, &a, true, &ev), ""); /* nothing changed */
	/* b's session: flags on 2, expunge 1; a hears of both, b of neither (its own) */
	assert_int_equal(mstore_set_flags(st, 0, &b.msgs[1], MP_FLAG_FLAGGED), 0);
	assert_int_equal(mstore_set_flags(st, 0, &b.msgs[1], MP_FLAG_FLAGGED), 0); /* the same */
	assert_int_equal(cw.calls, 4);
	assert_int_equal(mstore_remove(st, 0, &b.msgs[0]), 0);
	assert_int_equal(cw.calls, 5);
	/* a is in a FETCH by sequence number: the expunge waits, message 1 stays message 1 */
	char want[32];
	snprintf(want, sizeof(want), "F2=%u ", (unsigned)MP_FLAG_FLAGGED);
	assert_string_equal(sync_view(st, &a, false, &ev), want);
	assert_int_equal(a.n, 3);
	assert_string_equal(sync_view(st, &a, false, &ev), "");
	assert_int_equal(mstore_append(st, 0, MS_INBOX, "y\r\n", 3, MP_FLAG_SEEN, 1, &uid), 0);
	assert_string_equal(sync_view(st, &a, false, &ev), "E4 ");
	assert_string_equal(sync_view(st, &a, true, &ev), "X1 ");
	assert_true(a.n == 3 && a.msgs[0].uid == 2 && a.msgs[2].uid == 4);
	/* a MOVE out of INBOX and a COPY into it */
	struct ms_msg two[2] = { a.msgs[1], a.msgs[2] };
	assert_int_equal(mstore_copy(st, 0, two, 2, trash, true, &first, &done), 0);
	assert_string_equal(sync_view(st, &a, true, &ev), "X2 X2 ");
	struct ms_view t = { 0 };
	mstore_view_reset(&t, trash);
	assert_string_equal(sync_view(st, &t, true, &ev), "E2 ");
	assert_int_equal(mstore_copy(st, 0, t.msgs, 2, MS_INBOX, false, &first, &done), 0);
	assert_string_equal(sync_view(st, &a, true, &ev), "E3 ");
	int before = cw.calls;
	mstore_unwatch(st, 0, &cw.w);
	assert_int_equal(mstore_deliver(st, &to, 1, "", 0, "S: z\r\n\r\nb\r\n", 11), 0);
	assert_int_equal(cw.calls, before);
	/* b (UIDs 1 2 3) missed all that: 1 expunged, 3 moved, 5 6 copied and 7 delivered */
	assert_string_equal(sync_view(st, &b, true, &ev), "X1 X2 E4 ");
	assert_true(b.n == 4 && b.msgs[0].uid == 2 && b.msgs[3].uid == 7);
	/* a folder deleted under a watching view */
	struct counted_watch tw = { .w.fn = count_call };
	mstore_watch(st, 0, trash, &tw.w);
	assert_int_equal(mstore_box_delete(st, 0, "Trash"), 0);
	assert_int_equal(tw.calls, 1);
	assert_int_equal(mstore_view_sync(st, 0, &t, true, note_event, &ev), -ENOENT);
	mstore_unwatch(st, 0, &tw.w);
	mstore_view_free(&a);
	mstore_view_free(&b);
	mstore_view_free(&t);
	mstore_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_deliver_scan_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_users, setup, teardown),
		cmocka_unit_test(test_folder_names),
		cmocka_unit_test_setup_teardown(test_folders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_copy_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_recovery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uidnext_survives_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_views_and_watchers, setup, teardown),
	};
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name(__FILE__, tests, NULL, NULL);
}
