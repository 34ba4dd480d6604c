/* Unit tests for workloads/mail/mailstore: provisioning, durable delivery into new/, scanning into
 * cur/ with increasing UIDs, flags in Maildir names, expunge, tmp/ clean-up and UID continuity
 * across a reopen, user names and passwords. Works in a fresh directory under $TMPDIR. */
#include "tools/unit.h"
#include "workloads/mail/mailproto.h"
#include "workloads/mail/mailstore.h"

#define _XOPEN_SOURCE_EXTENDED 1
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int setup(void **state)
{
	(void)state;
	const char *t = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/vcons-store-test.XXXXXX", t ? t : "/tmp");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int count(const char *user, const char *sub)
{
	char p[512];
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_deliver_scan_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_users, setup, teardown),
	};
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name(__FILE__, tests, NULL, NULL);
}
