/* workloads/mail/fuzz/imap.c: fuzz target for vcons-mail's IMAP session (server_imap.c) against a
 * scratch Maildir where user1 has three messages (one \Seen in cur/, two in new/, one without a
 * header/body separator) and user2 none; every input starts from that state. The input is a
 * client's byte stream, cut into chunks (driver.h; 0xff N B is (N + 1) * 64 bytes B); bit 7 of the
 * first byte ends the session with the idle-timeout goodbye. Besides crashes, leaks and overreads
 * it checks that the output is a sequence of IMAP responses: lines ending CRLF with no CR, LF or
 * NUL inside, each one untagged
 * ("* "), a continuation request ("+ ") or tagged (a valid tag, then OK, NO or BAD), literals
 * "{n}" CRLF followed by exactly n bytes; message numbers and UIDs within the three messages; no
 * file left in tmp/, none added. */
#include "tools/fuzz.h"
#include "workloads/mail/fuzz/driver.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define USERS 2
#define NMSGS 3
static const char *dir;
static struct mstore *st;
static const struct server_cfg cfg = { .addr = "127.0.0.1", .max_size = 2048, .threads = 1 };

/* in the Maildir as mailstore names them: <name>,S=<size><info> */
static const struct {
	const char *sub, *name, *info, *text;
} msgs[NMSGS] = {
	{ "cur", "1700000000.1_00000000000000a1.vcons,U=1", ":2,S",
	  "Return-Path: <a@b.test>\r\nSubject: one\r\n\r\nbody one\r\n.. line\r\n" },
	{ "new", "0.2_00000000000000a2.vcons,U=2", "",
	  "Return-Path: <>\r\nSubject: two, no body\r\n" },
	{ "new", "4102444800.3_00000000000000a3.vcons,U=3", "",
	  "Return-Path: <c@d.test>\r\nSubject: three\r\n\r\n" },
};

static void put_message(int i)
{
	char p[512];
	size_t n = strlen(msgs[i].text);
	snprintf(p, sizeof(p), "%s/user1/Maildir/%s/%s,S=%zu%s", dir, msgs[i].sub, msgs[i].name, n,
	         msgs[i].info);
	FILE *f = fopen(p, "wb");
	if (!f || fwrite(msgs[i].text, 1, n, f) != n || fclose(f) != 0) {
		fprintf(stderr, "mail-imap: cannot write %s: %s\n", p, strerror(errno));
		exit(1);
	}
}

/* The files a session left in user1's new/ and cur/. */
struct left {
	size_t n;
	char path[NMSGS][512];
};

static void note_file(void *ctx, const char *folder, const char *name)
{
	struct left *l = ctx;
	fuzz_assert(l->n < NMSGS); /* no file added */
	snprintf(l->path[l->n++], sizeof(l->path[0]), "%s/%s", folder, name);
}

/* Checks the Maildir (nothing in tmp/, nothing added) and brings it back to its first state with
 * as few file operations as it takes: renames back what moved, rewrites what was expunged. user2
 * is not looked at: an IMAP session creates no files, and user2 never had any. */
static void restore_maildir(void)
{
	struct left l = { 0 };
	bool seen[NMSGS] = { false };
	fuzz_assert(fz_maildir_each(dir, 1, "tmp", NULL, NULL) == 0);
	fz_maildir_each(dir, 1, "new", note_file, &l);
	fz_maildir_each(dir, 1, "cur", note_file, &l);
	for (size_t i = 0; i < l.n; i++) {
		const char *u = strstr(l.path[i], ",U=");
		fuzz_assert(u);
		unsigned long uid = strtoul(u + 3, NULL, 10);
		fuzz_assert(uid >= 1 && uid <= NMSGS && !seen[uid - 1]);
		seen[uid - 1] = true;
		int k = (int)uid - 1;
		char p[512];
		snprintf(p, sizeof(p), "%s/user1/Maildir/%s/%s,S=%zu%s", dir, msgs[k].sub,
		         msgs[k].name, strlen(msgs[k].text), msgs[k].info);
		if (strcmp(p, l.path[i]) != 0)
			fuzz_assert(rename(l.path[i], p) == 0);
	}
	for (int k = 0; k < NMSGS; k++)
		if (!seen[k])
			put_message(k);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];
	dir = fz_scratch_dir("fuzz-mail-imap");
	/* the first open makes the Maildirs, the second one sees the messages (UIDNEXT 4) */
	for (int i = 0; i < 2; i++) {
		if (i)
			mstore_close(st);
		if (mstore_open(&st, dir, USERS, NULL, err, sizeof(err)) != 0) {
			fprintf(stderr, "mail-imap: %s\n", err);
			exit(1);
		}
		for (int k = 0; !i && k < NMSGS; k++)
			put_message(k);
	}
	return 0;
}

struct imap_check {
	uint64_t literal; /* bytes of a literal still to come in the output */
	bool mid_line;    /* after a literal: the rest of the response's line follows */
};

static bool tag_char(char ch)
{
	return ch > 0x20 && ch < 0x7f && !strchr("(){ %*\"\\]+", ch);
}

static unsigned long number_after(const char *l, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);
	if (n <= k || memcmp(l, prefix, k) != 0)
		return 0;
	return strtoul(l + k, NULL, 10);
}

/* The first line of a response. */
static void check_start(const char *l, size_t n)
{
	if (n >= 2 && (l[0] == '*' || l[0] == '+') && l[1] == ' ') {
		unsigned long m = number_after(l, n, "* ");
		const char *sp = memchr(l + 2, ' ', n - 2);
		bool expunge_or_fetch =
		    sp && (!strncmp(sp, " FETCH ", 7) || !strncmp(sp, " EXPUNGE", 8));
		fuzz_assert(m <= NMSGS && (!expunge_or_fetch || m >= 1));
		if (expunge_or_fetch && !strncmp(sp, " FETCH (UID ", 12)) {
			unsigned long uid = strtoul(sp + 12, NULL, 10);
			fuzz_assert(uid >= 1 && uid <= NMSGS);
		}
		return;
	}
	size_t t = 0;
	while (t < n && tag_char(l[t]))
		t++;
	fuzz_assert(t > 0 && t <= 64);
	fuzz_assert((n - t >= 4 && !memcmp(l + t, " OK ", 4)) ||
	            (n - t >= 4 && !memcmp(l + t, " NO ", 4)) ||
	            (n - t >= 5 && !memcmp(l + t, " BAD ", 5)));
}

static void on_chunk(void *ctx, const char *out, size_t len, size_t fed)
{
	struct imap_check *k = ctx;
	const char *p = out, *end = out + len;
	while (p < end) {
		if (k->literal) {
			size_t n = (size_t)(end - p) < k->literal ? (size_t)(end - p) : k->literal;
			p += n;
			k->literal -= n;
			continue;
		}
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		fuzz_assert(lf && lf > p && lf[-1] == '\r'); /* responses are never cut */
		size_t n = (size_t)(lf - 1 - p);
		fuzz_assert(!memchr(p, '\r', n) && !memchr(p, 0, n));
		if (!k->mid_line)
			check_start(p, n);
		k->mid_line = false;
		if (n >= 3 && p[n - 1] == '}') {
			const char *open = p + n - 2;
			while (open > p && *open >= '0' && *open <= '9')
				open--;
			if (*open == '{' && open < p + n - 2) {
				k->literal = strtoull(open + 1, NULL, 10);
				k->mid_line = true;
				fuzz_assert(k->literal < 1024); /* the messages are small */
			}
		}
		p = lf + 1;
	}
	fuzz_assert(k->literal == 0); /* a literal is never cut from its response either */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_stream s;
	fz_stream_init(&s, data, size, 64, 120u * 1024u); /* under ASan's mmap threshold */
	struct imap_check k = { 0 };
	struct conn c = { .st = st, .cfg = &cfg };
	fz_session_run(&c, CONN_IMAP, &s, s.chunking & 0x80, on_chunk, &k);
	fz_session_close(&c);
	restore_maildir();
	fz_stream_free(&s);
	return 0;
}
