/* Unit tests of vcons-mail-load's user model and the parsing it relies on (mailload-test): a seeded
 * generator gives the same decisions twice and the profile's shares over many draws (sessions
 * idle or working, searches, sends per session, which new messages are read and what becomes of
 * them, folder counts and picks, message sizes); open-loop gaps average the configured mean in the
 * profile's proportions; UID sets; the profile's keys, ranges and cross-field checks; the IMAP
 * responses read back (LIST, SEARCH, EXISTS, COPYUID, APPENDUID, BODYSTRUCTURE); and generated
 * messages whose part checksums match what the server's BODY[1] and BODY[2] return. */
#include "tools/unit.h"
#include "workloads/mail/imap_msg.h"
#include "workloads/mail/load.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DRAWS 200000

/* |got - want| within tol (percentage points or units). */
#define assert_near(got, want, tol) assert_true(fabs((double)(got) - (double)(want)) <= (tol))

/* Member by member: the struct has padding, which memcmp would compare too. */
static bool plan_equal(const struct session_plan *x, const struct session_plan *y)
{
	return x->idle == y->idle && x->push == y->push && x->search == y->search &&
	       x->search_kind == y->search_kind && x->sends == y->sends && x->visit == y->visit;
}

static void same_seed_same_mix(void **state)
{
	(void)state;
	struct mail_profile p;
	profile_defaults(&p);
	struct rng a, b, c;
	rng_seed(&a, 42);
	rng_seed(&b, 42);
	rng_seed(&c, 43);
	int differ = 0;
	for (int i = 0; i < 1000; i++) {
		struct session_plan x, y, z;
		plan_session(&a, &p, &x);
		plan_session(&b, &p, &y);
		plan_session(&c, &p, &z);
		assert_true(plan_equal(&x, &y));
		assert_int_equal(plan_fate(&a, &p), plan_fate(&b, &p));
		assert_int_equal(plan_folder_count(&a, &p), plan_folder_count(&b, &p));
		assert_int_equal(msg_size_draw(&a, &p), msg_size_draw(&b, &p));
		differ += !plan_equal(&x, &z);
		(void)plan_fate(&c, &p);
		(void)plan_folder_count(&c, &p);
		(void)msg_size_draw(&c, &p);
	}
	assert_true(differ > 100); /* another seed, another mix */
}

static void session_shares(void **state)
{
	(void)state;
	struct mail_profile p;
	profile_defaults(&p);
	p.idle_session_pct = 15;
	p.search_pct = 40;
	p.send_mean = 1.5;
	p.visit_pct = 30;
	struct rng r;
	rng_seed(&r, 7);
	p.imap_idle_pct = 70;
	long idle = 0, push = 0, search = 0, visit = 0, sends = 0, kinds[SEARCH_KINDS] = { 0 };
	for (int i = 0; i < DRAWS; i++) {
		struct session_plan s;
		plan_session(&r, &p, &s);
		if (s.idle) {
			idle++;
			push += s.push;
			assert_false(s.search || s.visit || s.sends);
			continue;
		}
		assert_false(s.push);
		search += s.search;
		visit += s.visit;
		sends += s.sends;
		kinds[s.search_kind]++;
	}
	long work = DRAWS - idle;
	assert_near(100.0 * idle / DRAWS, 15, 0.5);
	assert_near(100.0 * push / idle, 70, 1); /* of 30,000 idle sessions */
	assert_near(100.0 * search / work, 40, 0.5);
	assert_near(100.0 * visit / work, 30, 0.5);
	assert_near((double)sends / work, 1.5, 0.02);
	for (int k = 0; k < SEARCH_KINDS; k++)
		assert_near(100.0 * kinds[k] / work, 100.0 / SEARCH_KINDS, 0.5);
	/* all or none of them in IDLE */
	p.idle_session_pct = 100;
	for (int pct = 0; pct <= 100; pct += 100) {
		p.imap_idle_pct = pct;
		for (int i = 0; i < 1000; i++) {
			struct session_plan s;
			plan_session(&r, &p, &s);
			assert_true(s.idle && s.push == (pct == 100));
		}
	}
}

static void message_fates(void **state)
{
	(void)state;
	struct mail_profile p;
	profile_defaults(&p);
	p.move_pct = 10;
	p.trash_pct = 20;
	p.delete_pct = 30;
	p.read_pct = 60;
	p.attachment_pct = 25;
	struct rng r;
	rng_seed(&r, 11);
	long fate[4] = { 0 }, read = 0, att = 0;
	for (int i = 0; i < DRAWS; i++) {
		fate[plan_fate(&r, &p)]++;
		read += plan_read(&r, &p);
		att += plan_attachment(&r, &p);
	}
	assert_near(100.0 * fate[FATE_MOVE] / DRAWS, 10, 0.5);
	assert_near(100.0 * fate[FATE_TRASH] / DRAWS, 20, 0.5);
	assert_near(100.0 * fate[FATE_DELETE] / DRAWS, 30, 0.5);
	assert_near(100.0 * fate[FATE_KEEP] / DRAWS, 40, 0.5);
	assert_near(100.0 * read / DRAWS, 60, 0.5);
	assert_near(100.0 * att / DRAWS, 25, 0.5);
	p.move_pct = p.trash_pct = p.delete_pct = 0; /* nothing but keeping */
	for (int i = 0; i < 1000; i++)
		assert_int_equal(plan_fate(&r, &p), FATE_KEEP);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void distributions(void **state)
{
	(void)state;
	struct mail_profile p;
	profile_defaults(&p);
	p.size_median_bytes = 5000;
	p.size_sigma = 1;
	p.size_max_bytes = 100000;
	p.folders_median = 6;
	p.folders_max = 20;
	struct rng r;
	rng_seed(&r, 3);
	static double size[DRAWS];
	long folders[21] = { 0 }, capped = 0;
	double pois = 0, pois2 = 0;
	for (int i = 0; i < DRAWS; i++) {
		size[i] = (double)msg_size_draw(&r, &p);
		assert_true(size[i] >= 16 && size[i] <= 100000);
		capped += size[i] == 100000;
		int f = plan_folder_count(&r, &p);
		assert_true(f >= 0 && f <= 20);
		folders[f]++;
		int k = plan_poisson(&r, 2.5);
		pois += k;
		pois2 += (double)k * k;
	}
	qsort(size, DRAWS, sizeof(size[0]), cmp_double);
	assert_near(size[DRAWS / 2], 5000, 100); /* the median */
	/* P(size > 100000) = P(z > ln 20) = 0.0013 */
	assert_near(100.0 * capped / DRAWS, 0.13, 0.05);
	long below = 0; /* the median folder count: half of the users have fewer than 6 */
	for (int f = 0; f < 6; f++)
		below += folders[f];
	assert_near(100.0 * (below + folders[6] / 2.0) / DRAWS, 50, 3);
	double mean = pois / DRAWS;
	assert_near(mean, 2.5, 0.02);
	assert_near(pois2 / DRAWS - mean * mean, 2.5, 0.05); /* Poisson: variance = mean */
}

static void folder_picks(void **state)
{
	(void)state;
	struct rng r;
	rng_seed(&r, 5);
	long n[4] = { 0 };
	for (int i = 0; i < DRAWS; i++)
		n[plan_folder_pick(&r, 4)]++;
	double h = 1 + 1 / 2.0 + 1 / 3.0 + 1 / 4.0; /* Zipf: P(k) = (1/k) / H_4 */
	for (int k = 0; k < 4; k++)
		assert_near(100.0 * n[k] / DRAWS, 100.0 / (k + 1) / h, 0.5);
	for (int i = 0; i < 100; i++)
		assert_int_equal(plan_folder_pick(&r, 1), 0);
}

static void gaps_average_the_rate(void **state)
{
	(void)state;
	/* cycles of 9 commands at think weight 1 and a gap of weight 20, the mean weight learnt
	 * from whole cycles: each gap in proportion to its weight, all of them averaging the rate's
	 * mean */
	double sum = 0, total = 0, think = 0, gap = 0;
	uint64_t n = 0;
	for (int s = 0; s < 1000; s++) {
		for (int c = 0; c < 10; c++) {
			double m = plan_gap_mean(2.0, c < 9 ? 1 : 20, s ? sum : 29, s ? n : 10);
			total += m;
			*(c < 9 ? &think : &gap) = m;
		}
		sum += 29;
		n += 10;
	}
	assert_near(total / 10000, 2.0, 1e-9);
	assert_near(gap / think, 20, 1e-9);
	assert_near(think, 2.0 * 10 / 29, 1e-9);             /* mean weight (9 + 20) / 10 */
	assert_near(plan_gap_mean(2.0, 5, 0, 0), 2.0, 1e-9); /* nothing learnt: the plain mean */

	/* the prior: 10 sessions, a tenth of them idle (login, list, select, 4 IDLEs, logout: a
	 * think time before the first IDLE, a watch after each) */
	struct mail_profile p;
	profile_defaults(&p);
	plan_gap_prior(&p, &sum, &n);
	double w_work = 11 * p.think_weight + p.session_gap_weight;
	double w_idle = 3 * p.think_weight + 4 * p.idle_poll_weight + p.session_gap_weight;
	assert_near(sum, 10 * (0.1 * w_idle + 0.9 * w_work), 1e-9);
	assert_int_equal(n, 116); /* 10 * (0.1 * 8 + 0.9 * 12) */
	/* polling with NOOP: a watch before the first poll too */
	p.imap_idle_pct = 0;
	plan_gap_prior(&p, &sum, &n);
	w_idle = 2 * p.think_weight + 5 * p.idle_poll_weight + p.session_gap_weight;
	assert_near(sum, 10 * (0.1 * w_idle + 0.9 * w_work), 1e-9);
	assert_int_equal(n, 116);
	p.idle_session_pct = 0;
	plan_gap_prior(&p, &sum, &n);
	assert_near(sum / (double)n, (11 * p.think_weight + p.session_gap_weight) / 12, 1e-9);
}

static void uid_sets(void **state)
{
	(void)state;
	const uint32_t u[] = { 3, 4, 5, 9, 11, 12 };
	char set[64];
	assert_int_equal(plan_uid_set(u, 6, 32, set, sizeof(set)), 6);
	assert_string_equal(set, "3:5,9,11:12");
	assert_int_equal(plan_uid_set(u, 6, 2, set, sizeof(set)), 4); /* two ranges */
	assert_string_equal(set, "3:5,9");
	assert_int_equal(plan_uid_set(u, 6, 32, set, 5), 3); /* "3:5,9" and its NUL need 6 */
	assert_string_equal(set, "3:5");
	assert_int_equal(plan_uid_set(u, 1, 32, set, sizeof(set)), 1);
	assert_string_equal(set, "3");
	assert_int_equal(plan_uid_set(u, 0, 32, set, sizeof(set)), 0);
	assert_string_equal(set, "");
}

static void profile_keys(void **state)
{
	(void)state;
	struct mail_profile p;
	char err[256];
	profile_defaults(&p);
	assert_int_equal(profile_check(&p, err, sizeof(err)), 0);
	assert_int_equal(profile_set(&p, "move_pct", "12.5", err, sizeof(err)), 0);
	assert_true(p.move_pct == 12.5);
	assert_int_equal(profile_set(&p, "idle_polls", "7", err, sizeof(err)), 0);
	assert_int_equal(p.idle_polls, 7);
	assert_int_equal(profile_set(&p, "size_max_bytes", "2000", err, sizeof(err)), 0);
	assert_int_equal(p.size_max_bytes, 2000);
	assert_int_equal(profile_set(&p, "send_weight", "1", err, sizeof(err)),
	                 -1); /* the old model's key */
	assert_int_equal(profile_set(&p, "read_pct", "101", err, sizeof(err)), -1);
	assert_int_equal(profile_set(&p, "read_pct", "-1", err, sizeof(err)), -1);
	assert_int_equal(profile_set(&p, "read_pct", "lots", err, sizeof(err)), -1);
	assert_int_equal(profile_set(&p, "read_pct", "", err, sizeof(err)), -1);
	assert_int_equal(profile_set(&p, "recipients_max", "0", err, sizeof(err)), -1);
	assert_true(p.tls_pct == 0 && p.tls_implicit_pct == 50); /* plain unless asked */
	assert_int_equal(profile_set(&p, "tls_pct", "30", err, sizeof(err)), 0);
	assert_int_equal(profile_set(&p, "tls_implicit_pct", "0", err, sizeof(err)), 0);
	assert_true(p.tls_pct == 30 && p.tls_implicit_pct == 0);
	assert_int_equal(profile_set(&p, "tls_pct", "100.5", err, sizeof(err)), -1);
	assert_int_equal(profile_set(&p, "tls_implicit_pct", "-1", err, sizeof(err)), -1);
	assert_string_equal(err, "tls_implicit_pct must be a number from 0 to 100, not '-1'");
	assert_int_equal(profile_set(&p, "send_weight", "1", err, sizeof(err)), -1);
	assert_string_equal(err, "unknown profile key 'send_weight'");
	/* idle sessions watch with IDLE unless told to poll */
	assert_true(p.imap_idle_pct == 100);
	assert_int_equal(profile_set(&p, "imap_idle_pct", "0", err, sizeof(err)), 0);
	assert_true(p.imap_idle_pct == 0);
	assert_int_equal(profile_set(&p, "imap_idle_pct", "37.5", err, sizeof(err)), 0);
	assert_true(p.imap_idle_pct == 37.5);
	assert_int_equal(profile_set(&p, "imap_idle_pct", "yes", err, sizeof(err)), -1);
	assert_string_equal(err, "imap_idle_pct must be a number from 0 to 100, not 'yes'");
	assert_int_equal(profile_set(&p, "imap_idle_pct", "100.5", err, sizeof(err)), -1);
	assert_int_equal(profile_set(&p, "imap_idle_pct", "-0.5", err, sizeof(err)), -1);
	assert_int_equal(profile_set(&p, "imap_idle_pct", "50%", err, sizeof(err)), -1);
	assert_true(p.imap_idle_pct == 37.5); /* a refused value changes nothing */
	profile_defaults(&p);
	assert_int_equal(profile_set(&p, "trash_pct", "60", err, sizeof(err)), 0);
	assert_int_equal(profile_set(&p, "delete_pct", "60", err, sizeof(err)), 0);
	assert_int_equal(profile_check(&p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "at most 100"));

	char path[] = "/tmp/mailload-test-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	assert_non_null(f);
	assert_true(fputs("# a profile\nread_pct: 50\nfolders_median: 3\nimap_idle_pct: 0\n", f) >=
	            0);
	assert_int_equal(fclose(f), 0);
	profile_defaults(&p);
	assert_int_equal(profile_load(&p, path, err, sizeof(err)), 0);
	assert_true(p.read_pct == 50 && p.folders_median == 3 && p.imap_idle_pct == 0);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs("read_pct: 50\nimap_idle_pct: noop\n", f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(profile_load(&p, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ": imap_idle_pct must be a number from 0 to 100, not 'noop'"));
	f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs("read_pct: {a: 1}\n", f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(profile_load(&p, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "flat mapping"));
	unlink(path);
	assert_int_equal(profile_load(&p, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot open"));
}

static struct imap_result result(const char *const *lines, size_t n, const char *tail)
{
	struct imap_result res = { .n = n };
	res.r = calloc(n ? n : 1, sizeof(*res.r));
	for (size_t i = 0; i < n; i++)
		res.r[i].text = strdup(lines[i]);
	snprintf(res.status, sizeof(res.status), "OK");
	snprintf(res.tail, sizeof(res.tail), "%s", tail);
	return res;
}

static void imap_responses(void **state)
{
	(void)state;
	char name[64];
	assert_true(imap_list_name("* LIST (\\HasNoChildren \\Trash) \".\" Trash", name, 64));
	assert_string_equal(name, "Trash");
	assert_true(imap_list_name("* LIST () \".\" \"My \\\"box\\\"\"", name, 64));
	assert_string_equal(name, "My \"box\"");
	assert_true(imap_list_name("* LIST (\\Noselect) NIL INBOX", name, 64));
	assert_string_equal(name, "INBOX");
	assert_true(imap_list_name("* LIST () \"\\\\\" a", name, 64)); /* delimiter "\\" */
	assert_string_equal(name, "a");
	assert_false(imap_list_name("* LIST () \".\" {5}", name, 64));
	assert_false(imap_list_name("* LSUB () \".\" a", name, 64));
	assert_false(imap_list_name("* LIST () \".\" Folder12345", name, 8)); /* does not fit */

	const char *const l1[] = { "* 3 EXISTS", "* SEARCH 2 7 19",
		                   "* 0 RECENT", "* SEARCH 21",
		                   "* 5 EXISTS", "* OK [COPYUID 9 4:6,10 20:23] moved",
		                   "* SEARCH" };
	struct imap_result res = result(l1, 7, "[APPENDUID 9 44] APPEND completed");
	uint32_t *nums;
	assert_int_equal(imap_search_nums(&res, &nums), 4);
	assert_int_equal(nums[0], 2);
	assert_int_equal(nums[2], 19);
	assert_int_equal(nums[3], 21);
	free(nums);
	assert_int_equal(imap_exists(&res), 5);
	assert_int_equal(imap_copyuid(&res, 4), 20);
	assert_int_equal(imap_copyuid(&res, 6), 22);
	assert_int_equal(imap_copyuid(&res, 10), 23);
	assert_int_equal(imap_copyuid(&res, 7), 0);
	assert_int_equal(imap_appenduid(&res), 44);
	imap_result_free(&res);
	res = result(NULL, 0, "[COPYUID 9 8 30] COPY completed"); /* COPY: in the tagged reply */
	assert_int_equal(imap_copyuid(&res, 8), 30);
	assert_int_equal(imap_exists(&res), -1);
	assert_int_equal(imap_appenduid(&res), 0);
	imap_result_free(&res);
	assert_true(imap_multipart("* 1 FETCH (UID 4 BODYSTRUCTURE ((\"TEXT\" \"PLAIN\"))"));
	assert_false(imap_multipart("* 1 FETCH (UID 4 BODYSTRUCTURE (\"TEXT\" \"PLAIN\"))"));
	char q[64];
	assert_int_equal(imap_quote("a\"b\\c", q, sizeof(q)), 9);
	assert_string_equal(q, "\"a\\\"b\\\\c\"");
}

/* A scripted IMAP server on one end of a socketpair: for each step, read the line it expects
 * (NULL: none), then write its reply (NULL: none; both NULL: end its side of the stream); then
 * read what is left up to EOF. */
struct script {
	int fd;
	const char *const (*steps)[2];
	size_t n;
	bool mismatch;
	char rest[256];
};

static bool read_line(int fd, char *dst, size_t cap)
{
	size_t o = 0;
	while (o + 1 < cap && read(fd, dst + o, 1) == 1)
		if (dst[o++] == '\n')
			break;
	dst[o] = 0;
	return o > 0;
}

static void *script_run(void *arg)
{
	struct script *s = arg;
	char line[256];
	for (size_t i = 0; i < s->n; i++) {
		const char *want = s->steps[i][0], *reply = s->steps[i][1];
		if (!want && !reply)
			(void)shutdown(s->fd, SHUT_WR);
		if (want && (!read_line(s->fd, line, sizeof(line)) || strcmp(line, want)))
			s->mismatch = true;
		if (reply && write(s->fd, reply, strlen(reply)) != (ssize_t)strlen(reply))
			s->mismatch = true;
	}
	size_t o = 0;
	ssize_t k;
	while (o + 1 < sizeof(s->rest) &&
	       (k = read(s->fd, s->rest + o, sizeof(s->rest) - 1 - o)) > 0)
		o += (size_t)k;
	s->rest[o] = 0;
	return NULL;
}

static struct mconn idle_conn; /* 64 KiB of buffer: not on the stack */

/* Runs steps against the client calls in fn; returns what the client sent after the steps. */
static void with_server(const char *const (*steps)[2], size_t n, void (*fn)(struct mconn *),
                        char *rest, size_t cap)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	struct script s = { .fd = sv[1], .steps = steps, .n = n };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, script_run, &s), 0);
	idle_conn = (struct mconn){ .fd = sv[0] };
	fn(&idle_conn);
	close(sv[0]);
	pthread_join(t, NULL);
	close(sv[1]);
	assert_false(s.mismatch);
	snprintf(rest, cap, "%s", s.rest);
}

static void idle_pushed_and_after_done(struct mconn *c)
{
	struct imap_result res;
	unsigned tag = 0;
	size_t pushed;
	assert_int_equal(imap_idle_start(c, &tag, &res), 0);
	assert_int_equal(tag, 1);
	assert_int_equal(res.n, 1); /* the update sent before the "+" */
	assert_int_equal(imap_exists(&res), 2);
	imap_result_free(&res);
	/* the server's pushed updates are in by now: the "+" came in the same write */
	assert_int_equal(imap_idle_done(c, tag, &res, &pushed), 0);
	assert_string_equal(res.status, "OK");
	assert_int_equal(pushed, 2);
	assert_int_equal(res.n, 3);
	assert_int_equal(imap_exists_count(&res, 0, pushed), 1);
	assert_int_equal(imap_exists_count(&res, 0, res.n), 2);
	assert_int_equal(imap_exists(&res), 4);
	imap_result_free(&res);
	assert_int_equal(imap_cmd(c, &tag, &res, "LOGOUT"), 0);
	assert_string_equal(res.status, "OK");
	imap_result_free(&res);
}

static void idle_refused(struct mconn *c)
{
	struct imap_result res;
	unsigned tag = 6;
	assert_int_equal(imap_idle_start(c, &tag, &res), 1);
	assert_string_equal(res.status, "BAD");
	imap_result_free(&res);
}

static void idle_ended_by_server(struct mconn *c)
{
	struct imap_result res;
	unsigned tag = 2;
	size_t pushed;
	assert_int_equal(imap_idle_start(c, &tag, &res), 0);
	imap_result_free(&res);
	assert_int_equal(imap_idle_done(c, tag, &res, &pushed), 0);
	assert_string_equal(res.status, "NO"); /* the server's own tagged end: no DONE sent */
	assert_int_equal(pushed, 1);
	imap_result_free(&res);
}

static void idle_connection_lost(struct mconn *c)
{
	struct imap_result res;
	unsigned tag = 0;
	size_t pushed;
	assert_int_equal(imap_idle_start(c, &tag, &res), 0);
	imap_result_free(&res);
	assert_int_equal(imap_idle_done(c, tag, &res, &pushed), -1);
}

static void idle_client(void **state)
{
	(void)state;
	char rest[256];
	const char *const ok[][2] = {
		{ "t1 IDLE\r\n",
		  "* 2 EXISTS\r\n+ idling\r\n* 3 EXISTS\r\n* 1 FETCH (FLAGS (\\Seen))\r\n" },
		{ "DONE\r\n", "* 4 EXISTS\r\nt1 OK IDLE terminated\r\n" },
		{ "t2 LOGOUT\r\n", "* BYE\r\nt2 OK LOGOUT completed\r\n" },
	};
	with_server(ok, 3, idle_pushed_and_after_done, rest, sizeof(rest));
	assert_string_equal(rest, "");
	const char *const refused[][2] = { { "t7 IDLE\r\n", "t7 BAD IDLE: no\r\n" } };
	with_server(refused, 1, idle_refused, rest, sizeof(rest));
	assert_string_equal(rest, "");
	const char *const ended[][2] = {
		{ "t3 IDLE\r\n", "+ idling\r\n* 5 EXISTS\r\nt3 NO IDLE: mailbox gone\r\n" },
	};
	with_server(ended, 1, idle_ended_by_server, rest, sizeof(rest));
	assert_string_equal(rest, ""); /* no DONE after the server's tagged reply */
	const char *const lost[][2] = { { "t1 IDLE\r\n", "+ idling\r\n" }, { NULL, NULL } };
	/* (whether the DONE went out first depends on when the end reached the client) */
	with_server(lost, 2, idle_connection_lost, rest, sizeof(rest));
}

/* The section of parsed message m as BODY[part] would return it. */
static void section_sum(const struct gen_msg *g, uint32_t part, char out[65])
{
	struct mime_msg m;
	assert_int_equal(mime_parse(&m, g->data, g->len), 0);
	struct mp_fetch_body b = { .nparts = 1, .part = { part } };
	size_t off, len;
	assert_true(imap_section(&m, &b, &off, &len));
	msg_sha256_hex(g->data + off, len, out);
	mime_free(&m);
}

static void messages_and_their_sums(void **state)
{
	(void)state;
	struct rng r;
	rng_seed(&r, 9);
	const int rcpt[] = { 2, 5 };
	for (size_t size = 20; size < 300000; size = size * 3 + 7) {
		for (int mp = 0; mp < 2; mp++) {
			struct gen_msg g;
			char id[80], sum[65], actual[65], part[65], hdr[80];
			assert_int_equal(msg_build(&g, &r, "run-1-7", 1, rcpt, 2, size, mp), 0);
			assert_true(msg_inspect(g.data, g.len, id, sum, actual));
			assert_string_equal(id, "run-1-7");
			assert_string_equal(sum, actual);
			assert_string_equal(sum, g.sum);
			assert_true(msg_header(g.data, g.len, "To", hdr, sizeof(hdr)));
			assert_string_equal(hdr, "user2@vcons.test, user5@vcons.test");
			assert_true(g.len >= size && g.len < size + 2048);
			if (mp) { /* the parts as the server's BODY[1] and BODY[2] cut them */
				section_sum(&g, 1, part);
				assert_string_equal(part, g.sum1);
				section_sum(&g, 2, part);
				assert_string_equal(part, g.sum2);
				assert_true(msg_header(g.data, g.len, "X-Vcons-Sum-1", hdr, 65));
				assert_string_equal(hdr, g.sum1);
			} else {
				assert_false(msg_header(g.data, g.len, "X-Vcons-Sum-1", hdr, 65));
			}
			msg_free(&g);
		}
	}
}

UNIT_MAIN(cmocka_unit_test(same_seed_same_mix), cmocka_unit_test(session_shares),
          cmocka_unit_test(message_fates), cmocka_unit_test(distributions),
          cmocka_unit_test(folder_picks), cmocka_unit_test(gaps_average_the_rate),
          cmocka_unit_test(uid_sets), cmocka_unit_test(profile_keys),
          cmocka_unit_test(imap_responses), cmocka_unit_test(idle_client),
          cmocka_unit_test(messages_and_their_sums))
