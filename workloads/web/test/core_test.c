/* workloads/web/test/core_test.c: file set determinism, the bank journal (durability, replay,
 * torn tails) and the pages' acct line. */
#include "tools/unit.h"
#include "workloads/web/bank.h"
#include "workloads/web/fileset.h"
#include "workloads/web/pages.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_fileset_sizes(void **state)
{
	(void)state;
	assert_int_equal(fileset_size(FILESET_STATIC, 0), FILESET_MAX_BYTES);
	for (int i = 0; i < 3000; i++) {
		size_t s = fileset_size(FILESET_STATIC, i);
		assert_true(s >= FILESET_MIN_BYTES && s <= FILESET_MAX_BYTES);
		if (i > 0 && i < 1000) /* Zipf: size falls like 1/rank, jitter under 1/8 */
			assert_true(s <= FILESET_MAX_BYTES / (size_t)(i + 1) * 9 / 8 + 1024);
	}
	for (int i = 0; i < FILESET_IMAGES; i++)
		assert_true(fileset_size(FILESET_IMAGE, i) <= 32 * 1024);
}

static void test_fileset_deterministic(void **state)
{
	(void)state;
	unsigned char *a = malloc(FILESET_MAX_BYTES), *b = malloc(FILESET_MAX_BYTES);
	struct fileset_entry e1, e2, e3;
	fileset_nth(100, 7, a, &e1);
	fileset_nth(100, 7, b, &e2);
	assert_string_equal(e1.path, "/static/f00007.bin");
	assert_int_equal(e1.fnv, e2.fnv);
	assert_memory_equal(a, b, e1.size);
	fileset_nth(100, 8, b, &e3);
	assert_true(e3.fnv != e1.fnv);
	fileset_nth(100, 100, a, &e1);
	assert_string_equal(e1.path, "/images/i000.png");
	assert_memory_equal(a, "\x89PNG", 4);
	assert_int_equal(fnv1a64("a", 1), 0xaf63dc4c8601ec8cULL);
	free(a);
	free(b);
}

static char *tmp_journal(void)
{
	char *p = strdup("/tmp/vcweb-journal-XXXXXX");
	int fd = mkstemp(p);
	assert_true(fd >= 0);
	close(fd);
	return p;
}

static void test_bank_replay(void **state)
{
	(void)state;
	char *path = tmp_journal();
	long n = -1;
	const char *err;
	struct bank *b = bank_open(path, 10, &n, &err);
	assert_non_null(b);
	assert_int_equal(n, 0);
	struct bank_txn t;
	assert_int_equal(bank_transfer(b, 3, 100, "acme", 4, &t), 0);
	assert_int_equal(t.seq, 1);
	assert_int_equal(t.balance, bank_initial_balance(3) - 100);
	assert_int_equal(bank_transfer(b, 3, 50, "bob_2", 5, &t), 0);
	assert_int_equal(bank_transfer(b, 4, 7, "x", 1, &t), 0);
	assert_int_equal(bank_transfer(b, 3, 1LL << 60, "acme", 4, &t), 1); /* funds */
	assert_int_equal(bank_transfer(b, 3, 1, "a b", 3, &t), 1);          /* payee */
	assert_int_equal(bank_transfer(b, 10, 1, "a", 1, &t), 1);           /* user */
	bank_close(b);

	/* A torn record at the end (crash mid-append) is dropped, the rest replayed. */
	FILE *f = fopen(path, "a");
	fputs("T 3 3 10 99 acme 00000000", f);
	assert_int_equal(fclose(f), 0);
	b = bank_open(path, 10, &n, &err);
	assert_non_null(b);
	assert_int_equal(n, 3);
	struct bank_view v;
	bank_view(b, 3, &v);
	assert_int_equal(v.seq, 2);
	assert_int_equal(v.balance, bank_initial_balance(3) - 150);
	assert_int_equal(v.nrecent, 2);
	assert_int_equal(v.recent[0].amount, 50);
	assert_string_equal(v.recent[0].payee, "bob_2");
	/* Appending after the truncated tail continues the sequence. */
	assert_int_equal(bank_transfer(b, 3, 1, "acme", 4, &t), 0);
	assert_int_equal(t.seq, 3);
	bank_close(b);

	/* A corrupted checksum in the middle ends the journal there. */
	f = fopen(path, "r+");
	assert_int_equal(fseek(f, 2, SEEK_SET), 0);
	fputc('9', f);
	assert_int_equal(fclose(f), 0);
	b = bank_open(path, 10, &n, &err);
	assert_non_null(b);
	assert_int_equal(n, 0);
	bank_close(b);
	unlink(path);
	free(path);
}

static void test_pages_acct(void **state)
{
	(void)state;
	struct bank_view v = { .user = 42, .balance = 1234, .seq = 9 };
	struct wbuf b = { 0 };
	pages_history(&b, &v);
	assert_false(b.oom);
	int user;
	int64_t bal;
	uint64_t seq;
	assert_int_equal(pages_parse_acct(b.p, b.len, &user, &bal, &seq), 0);
	assert_int_equal(user, 42);
	assert_int_equal(bal, 1234);
	assert_int_equal(seq, 9);
	struct wbuf c = { 0 };
	pages_history(&c, &v);
	assert_int_equal(b.len, c.len);
	assert_memory_equal(b.p, c.p, b.len); /* deterministic */
	assert_non_null(strstr(b.p, "<img src=\"/images/i"));
	assert_int_equal(
	    pages_parse_acct("<p class=\"acct\">user=1 balance=x", 32, &user, &bal, &seq), -1);
	wbuf_free(&b);
	wbuf_free(&c);
}

UNIT_MAIN(cmocka_unit_test(test_fileset_sizes), cmocka_unit_test(test_fileset_deterministic),
          cmocka_unit_test(test_bank_replay), cmocka_unit_test(test_pages_acct))
