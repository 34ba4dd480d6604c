/* workloads/db/test/db_test.c: framing (incremental parsing, bad lengths), the five transactions
 * and their validation on a small freshly loaded database, the New-Order rollback, bad requests,
 * concurrent writers on separate connections (busy handling), the server's shared connection and
 * its write combining, and --check catching broken data. */
#include "tools/unit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "workloads/db/frame.h"
#include "workloads/db/server.h"
#include "workloads/db/tpcc.h"
#include "workloads/db/vfs.h"

static char dir[] = "/tmp/vcdb-test.XXXXXX";

static int setup(void **state)
{
	char err[512];
	if (!mkdtemp(dir))
		return -1;
	/* scale 100: 1000 items, 30 customers and orders per district: loads in milliseconds */
	if (tpcc_load(dir, 2, 100, 7, err, sizeof(err))) {
		fprintf(stderr, "load: %s\n", err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	// NOLINTNEXTLINE(cert-env33-c): a test's own command line
	return system(cmd);
}

static void frames_parse_incrementally(void **state)
{
	struct frame_buf b = { 0 };
	const char *payload;
	uint32_t len;
	const char msg[] = "\0\0\0\x05hello\0\0\0\x02hi";
	for (size_t i = 0; i < 8; i++) { /* byte by byte: not ready until the 9th byte */
		assert_int_equal(frame_buf_reserve(&b, 1), 0);
		b.data[b.have++] = msg[i];
		assert_int_equal(frame_parse(&b, &payload, &len), FRAME_MORE);
	}
	assert_int_equal(frame_buf_reserve(&b, 7), 0);
	memcpy(b.data + b.have, msg + 8, 7);
	b.have += 7;
	assert_int_equal(frame_parse(&b, &payload, &len), FRAME_READY);
	assert_int_equal(len, 5);
	assert_memory_equal(payload, "hello", 5);
	frame_consume(&b, len);
	assert_int_equal(frame_parse(&b, &payload, &len), FRAME_READY);
	assert_memory_equal(payload, "hi", 2);
	frame_consume(&b, len);
	assert_int_equal(b.have, 0);
	memcpy(b.data, "\xff\xff\xff\xff", 4);
	b.have = 4;
	assert_int_equal(frame_parse(&b, &payload, &len), FRAME_TOO_BIG);
	memcpy(b.data, "\0\x01\0\x01", 4); /* 65537 > FRAME_MAX */
	assert_int_equal(frame_parse(&b, &payload, &len), FRAME_TOO_BIG);
	memcpy(b.data, "\0\0\0\0", 4);
	assert_int_equal(frame_parse(&b, &payload, &len), FRAME_EMPTY);
	/* the buffer never grows past one maximal frame */
	b.have = 0;
	assert_int_equal(frame_buf_reserve(&b, FRAME_MAX + 4), 0);
	b.have = FRAME_MAX + 4;
	assert_int_equal(frame_buf_reserve(&b, 1), -1);
	frame_buf_free(&b);
}

static void frames_round_trip_over_a_socket(void **state)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	json_t *o = json_pack("{s:s, s:i}", "tx", "info", "n", 42);
	assert_int_equal(frame_send_json(sv[0], o, 1000), 0);
	const char *why = NULL;
	json_t *back = frame_recv_json(sv[1], &why);
	assert_non_null(back);
	assert_true(json_equal(o, back));
	json_decref(back);
	/* truncated frame, then EOF */
	assert_int_equal(write(sv[0], "\0\0\0\x10{\"a\"", 8), 8);
	close(sv[0]);
	assert_null(frame_recv_json(sv[1], &why));
	assert_string_equal(why, "truncated frame");
	close(sv[1]);
	json_decref(o);
}

static json_t *exec_json(struct tpcc_db *db, const char *text)
{
	json_error_t e;
	json_t *req = json_loads(text, 0, &e);
	assert_non_null(req);
	json_t *resp = tpcc_execute(db, req);
	json_decref(req);
	assert_non_null(resp);
	return resp;
}

static const char *status(const json_t *r)
{
	return json_string_value(json_object_get(r, "status"));
}

static void transactions_answer_correctly(void **state)
{
	struct tpcc_db db;
	char why[256];
	assert_int_equal(tpcc_open(&db, dir, TPCC_SYNC_NORMAL, 1), 0);
	assert_int_equal(db.sz.warehouses, 2);
	assert_int_equal(db.sz.items, 1000);
	assert_int_equal(db.sz.customers, 30);
	struct rng r;
	rng_seed(&r, 5);
	int counts[TX_COUNT] = { 0 }, rollbacks = 0;
	for (int i = 0; i < 600; i++) {
		enum tpcc_tx tx = tpcc_pick_tx(&r);
		struct tpcc_req q;
		assert_int_equal(tpcc_make_req(&q, tx, &r, &db.sz, i % 2 + 1, i % 10 + 1), 0);
		json_t *resp = tpcc_execute(&db, q.json);
		if (tpcc_validate(&q, resp, &db.sz, why, sizeof(why)))
			fail_msg("%s: %s", tpcc_tx_names[tx], why);
		counts[tx]++;
		rollbacks += q.expect_rollback;
		json_decref(resp);
		json_decref(q.json);
	}
	for (int t = 0; t < TX_COUNT; t++)
		assert_true(counts[t] > 0);
	assert_true(counts[TX_NEW_ORDER] > 200 && counts[TX_PAYMENT] > 200);
	char failed[512];
	if (tpcc_check(&db, failed, sizeof(failed)))
		fail_msg("check after the mix: %s", failed);
	(void)rollbacks;
	tpcc_close(&db);
}

static void new_order_rollback_leaves_no_trace(void **state)
{
	struct tpcc_db db;
	assert_int_equal(tpcc_open(&db, dir, TPCC_SYNC_NORMAL, 1), 0);
	json_t *a = exec_json(&db, "{\"tx\":\"new_order\",\"w_id\":1,\"d_id\":1,\"c_id\":1,"
	                           "\"items\":[[1,1,1],[2,1,2]]}");
	assert_string_equal(status(a), "ok");
	json_int_t o_id = json_integer_value(json_object_get(a, "o_id"));
	json_t *b = exec_json(&db, "{\"tx\":\"new_order\",\"w_id\":1,\"d_id\":1,\"c_id\":1,"
	                           "\"items\":[[1,1,1],[1001,1,2]]}");
	assert_string_equal(status(b), "rollback");
	json_t *c = exec_json(&db, "{\"tx\":\"new_order\",\"w_id\":1,\"d_id\":1,\"c_id\":1,"
	                           "\"items\":[[3,1,1]]}");
	assert_string_equal(status(c), "ok");
	/* the rolled-back order consumed no order number */
	assert_int_equal(json_integer_value(json_object_get(c, "o_id")), o_id + 1);
	/* lines are quantity x price */
	json_t *line = json_array_get(json_object_get(a, "lines"), 1);
	assert_int_equal(json_integer_value(json_array_get(line, 0)), 2);
	assert_int_equal(json_integer_value(json_array_get(line, 2)) % 2, 0);
	json_decref(a);
	json_decref(b);
	json_decref(c);
	tpcc_close(&db);
}

static void bad_requests_get_errors(void **state)
{
	struct tpcc_db db;
	assert_int_equal(tpcc_open(&db, dir, TPCC_SYNC_NORMAL, 1), 0);
	static const char *const bad[] = {
		"{}",
		"{\"tx\":\"drop_tables\"}",
		"{\"tx\":\"new_order\",\"w_id\":3,\"d_id\":1,\"c_id\":1,\"items\":[[1,1,1]]}",
		"{\"tx\":\"new_order\",\"w_id\":1,\"d_id\":1,\"c_id\":1,\"items\":[]}",
		"{\"tx\":\"new_order\",\"w_id\":1,\"d_id\":1,\"c_id\":1,\"items\":[[1,1,11]]}",
		"{\"tx\":\"new_order\",\"w_id\":1,\"d_id\":1,\"c_id\":1,\"items\":[[1,\"x\",1]]}",
		// NOLINTNEXTLINE(bugprone-suspicious-missing-comma): one request in two pieces
		"{\"tx\":\"payment\",\"w_id\":1,\"d_id\":1,\"c_w_id\":1,\"c_d_id\":1,\"c_id\":1,"
		"\"amount_cents\":99}",
		"{\"tx\":\"payment\",\"w_id\":1,\"d_id\":1,\"c_w_id\":1,\"c_d_id\":1,"
		"\"c_last\":\"NOSUCHNAME\",\"amount_cents\":500}",
		"{\"tx\":\"order_status\",\"w_id\":1,\"d_id\":11,\"c_id\":1}",
		"{\"tx\":\"delivery\",\"w_id\":1,\"carrier_id\":0}",
		"{\"tx\":\"stock_level\",\"w_id\":1,\"d_id\":1,\"threshold\":\"10\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *r = exec_json(&db, bad[i]);
		if (strcmp(status(r), "error"))
			fail_msg("request %zu answered %s", i, status(r));
		json_decref(r);
	}
	json_t *info = exec_json(&db, "{\"tx\":\"info\"}");
	struct tpcc_sizes sz;
	assert_int_equal(tpcc_sizes_from_json(&sz, info), 0);
	assert_int_equal(sz.customers, 30);
	json_decref(info);
	/* a failed payment changed nothing: the database is still consistent */
	char failed[512];
	assert_int_equal(tpcc_check(&db, failed, sizeof(failed)), 0);
	tpcc_close(&db);
}

static void validation_rejects_wrong_answers(void **state)
{
	struct tpcc_sizes sz;
	tpcc_sizes_for(&sz, 1, 100);
	struct rng r;
	rng_seed(&r, 1);
	struct tpcc_req q;
	char why[256];
	assert_int_equal(tpcc_make_req(&q, TX_ORDER_STATUS, &r, &sz, 1, 1), 0);
	json_t *resp = json_pack("{s:s, s:i, s:i, s:i, s:i, s:[[iiiI]]}", "status", "ok", "c_id", 1,
	                         "c_balance_cents", 0, "o_id", 5, "ol_cnt", 2, "lines", 1, 1, 1,
	                         (json_int_t)100);
	assert_int_equal(tpcc_validate(&q, resp, &sz, why, sizeof(why)), -1); /* 1 line, not 2 */
	json_decref(resp);
	resp = json_pack("{s:s}", "status", "rollback");
	assert_int_equal(tpcc_validate(&q, resp, &sz, why, sizeof(why)), -1);
	q.expect_rollback = 1;
	assert_int_equal(tpcc_validate(&q, resp, &sz, why, sizeof(why)), 0);
	json_decref(resp);
	json_decref(q.json);
	assert_int_equal(tpcc_make_req(&q, TX_STOCK_LEVEL, &r, &sz, 1, 1), 0);
	resp = json_pack("{s:s, s:i}", "status", "ok", "low_stock", -1);
	assert_int_equal(tpcc_validate(&q, resp, &sz, why, sizeof(why)), -1);
	json_decref(resp);
	json_decref(q.json);
}

struct writer_arg {
	int n_ok, n_err;
	uint64_t seed;
};

static void *writer(void *p)
{
	struct writer_arg *a = p;
	struct tpcc_db db;
	if (tpcc_open(&db, dir, TPCC_SYNC_NORMAL, a->seed)) {
		a->n_err = -1;
		return NULL;
	}
	struct rng r;
	rng_seed(&r, a->seed);
	for (int i = 0; i < 150; i++) {
		struct tpcc_req q;
		enum tpcc_tx tx = i % 3 == 2 ? TX_DELIVERY : i % 3 ? TX_PAYMENT : TX_NEW_ORDER;
		if (tpcc_make_req(&q, tx, &r, &db.sz, 1, 1))
			break;
		json_t *resp = tpcc_execute(&db, q.json);
		char why[256];
		if (tpcc_validate(&q, resp, &db.sz, why, sizeof(why)))
			a->n_err++;
		else
			a->n_ok++;
		json_decref(resp);
		json_decref(q.json);
	}
	tpcc_close(&db);
	return NULL;
}

static void concurrent_writers_do_not_fail(void **state)
{
	pthread_t t[4];
	struct writer_arg a[4] = { { .seed = 11 }, { .seed = 12 }, { .seed = 13 }, { .seed = 14 } };
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, writer, &a[i]);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(a[i].n_err, 0);
		assert_int_equal(a[i].n_ok, 150);
	}
	struct tpcc_db db;
	char failed[512];
	assert_int_equal(tpcc_open(&db, dir, TPCC_SYNC_NORMAL, 1), 0);
	if (tpcc_check(&db, failed, sizeof(failed)))
		fail_msg("%s", failed);
	tpcc_close(&db);
}

/* The server's connection: its threads share it (tpcc_share), the VFS gathers a commit's WAL
 * frames into one write (a New-Order changes ~20 pages: ~40 writes of SQLite's, 1 pwrite), and
 * while it is open no other connection can take the database. */
static void shared_connection_writes_a_commit_at_once(void **state)
{
	struct tpcc_db owner, a, other;
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct dbvfs_counts c0, c1;
	char why[256];
	assert_int_equal(tpcc_open_server(&owner, dir, TPCC_SYNC_NORMAL, 1), 0);
	tpcc_share(&a, &owner, &lock, 5);
	struct rng r;
	rng_seed(&r, 5);
	dbvfs_counts(&c0);
	for (int i = 0; i < 20; i++) {
		struct tpcc_req q;
		assert_int_equal(tpcc_make_req(&q, TX_NEW_ORDER, &r, &a.sz, 1, 1), 0);
		json_t *resp = tpcc_execute(&a, q.json);
		if (tpcc_validate(&q, resp, &a.sz, why, sizeof(why)))
			fail_msg("%s", why);
		json_decref(resp);
		json_decref(q.json);
	}
	dbvfs_counts(&c1);
	unsigned long long writes = c1.flushes - c0.flushes;
	unsigned long long gathered = c1.writes_gathered - c0.writes_gathered;
	if (writes < 20 || writes > 22 || gathered < 10 * writes)
		fail_msg("20 New-Orders: %llu pwrites for %llu writes gathered", writes, gathered);
	assert_int_not_equal(tpcc_open(&other, dir, TPCC_SYNC_NORMAL, 1), 0);
	tpcc_close(&a);
	tpcc_close(&owner);
	assert_int_equal(tpcc_open(&other, dir, TPCC_SYNC_NORMAL, 1), 0);
	char failed[512];
	if (tpcc_check(&other, failed, sizeof(failed)))
		fail_msg("%s", failed);
	tpcc_close(&other);
}

static void check_names_the_broken_condition(void **state)
{
	struct tpcc_db db;
	char failed[512];
	assert_int_equal(tpcc_open(&db, dir, TPCC_SYNC_NORMAL, 1), 0);
	static const struct {
		const char *breakit, *want;
	} cases[] = {
		{ "UPDATE warehouse SET w_ytd=w_ytd+1 WHERE w_id=2", "condition 1" },
		{ "UPDATE district SET d_next_o_id=d_next_o_id+1 WHERE d_w_id=1 AND d_id=3",
		  "condition 2" },
		{ "DELETE FROM new_order WHERE no_w_id=2 AND no_d_id=4 AND no_o_id=(SELECT"
		  " min(no_o_id)+1 FROM new_order WHERE no_w_id=2 AND no_d_id=4)",
		  "condition 3" },
		{ "DELETE FROM order_line WHERE ol_w_id=1 AND ol_d_id=2 AND ol_o_id=1 AND "
		  "ol_number=1",
		  "condition 4" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(sqlite3_exec(db.db, "SAVEPOINT s", NULL, NULL, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db.db, cases[i].breakit, NULL, NULL, NULL),
		                 SQLITE_OK);
		assert_int_equal(sqlite3_changes(db.db), 1);
		assert_int_equal(tpcc_check(&db, failed, sizeof(failed)), -1);
		if (!strstr(failed, cases[i].want))
			fail_msg("case %zu: %s", i, failed);
		assert_int_equal(sqlite3_exec(db.db, "ROLLBACK TO s; RELEASE s", NULL, NULL, NULL),
		                 SQLITE_OK);
	}
	assert_int_equal(tpcc_check(&db, failed, sizeof(failed)), 0);
	tpcc_close(&db);
}

static int dial(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, "127.0.1.15", &sa.sin_addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static json_t *ask(int fd, const char *text)
{
	json_error_t e;
	json_t *req = json_loads(text, 0, &e);
	assert_non_null(req);
	assert_int_equal(frame_send_json(fd, req, 1000), 0);
	json_decref(req);
	const char *why;
	return frame_recv_json(fd, &why);
}

/* The server itself, under the sanitizers: requests, a bad frame, a connection left open at the
 * end, in-band shutdown. */
static void server_serves_and_shuts_down(void **state)
{
	struct db_server_config cfg = { .addr = "127.0.1.15",
		                        .port = 0,
		                        .data = dir,
		                        .threads = 2,
		                        .sync = TPCC_SYNC_NORMAL,
		                        .seed = 3 };
	struct db_server *s;
	char err[512];
	if (db_server_start(&s, &cfg, err, sizeof(err)))
		fail_msg("start: %s", err);
	int port = db_server_port(s);
	assert_true(port > 0);
	int a = dial(port), b = dial(port), idle = dial(port);
	json_t *r = ask(a, "{\"tx\":\"info\"}");
	assert_non_null(r);
	assert_string_equal(status(r), "ok");
	json_decref(r);
	r = ask(b, "{\"tx\":\"new_order\",\"w_id\":2,\"d_id\":5,\"c_id\":3,\"items\":[[4,2,3]]}");
	assert_non_null(r);
	assert_string_equal(status(r), "ok");
	json_decref(r);
	assert_int_equal(write(a, "\xff\xff\xff\xff", 4), 4);
	const char *why;
	r = frame_recv_json(a, &why);
	assert_non_null(r);
	assert_string_equal(status(r), "error");
	json_decref(r);
	assert_null(frame_recv_json(a, &why));       /* and closed */
	assert_int_equal(write(idle, "\0\0", 2), 2); /* half a header, left open */
	r = ask(b, "{\"tx\":\"shutdown\"}");
	assert_non_null(r);
	json_decref(r);
	for (int i = 0; i < 100 && !db_server_stopping(s); i++)
		usleep(10000);
	assert_true(db_server_stopping(s));
	struct db_server_stats st;
	db_server_finish(s, &st);
	assert_int_equal(st.requests, 3);
	assert_int_equal(st.bad_frames, 1);
	assert_int_equal(st.connections, 3);
	close(a);
	close(b);
	close(idle);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(frames_parse_incrementally),
		cmocka_unit_test(frames_round_trip_over_a_socket),
		cmocka_unit_test(transactions_answer_correctly),
		cmocka_unit_test(new_order_rollback_leaves_no_trace),
		cmocka_unit_test(bad_requests_get_errors),
		cmocka_unit_test(validation_rejects_wrong_answers),
		cmocka_unit_test(concurrent_writers_do_not_fail),
		cmocka_unit_test(shared_connection_writes_a_commit_at_once),
		cmocka_unit_test(check_names_the_broken_condition),
		cmocka_unit_test(server_serves_and_shuts_down),
	};
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name(__FILE__, tests, setup, teardown);
}
