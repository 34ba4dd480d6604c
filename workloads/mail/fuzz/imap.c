/* workloads/mail/fuzz/imap.c: fuzz target for vcons-mail's IMAP session (server_imap.c) against a
 * scratch Maildir where user1 has four messages (one \Seen in cur/, three in new/: a 48 KiB one,
 * so that six of its bodies in one FETCH pause it for output room, one without a header/body
 * separator, one with an empty body) and user2 none; every input starts from that state. The
 * input is a client's byte stream, cut into chunks (driver.h; 0xff N B is (N + 1) * 64 bytes B);
 * bit 7 of the first byte ends the session with the idle-timeout goodbye. Besides crashes, leaks
 * and overreads it checks that the output is a sequence of IMAP responses: lines ending CRLF with
 * no CR, LF or NUL inside, each one untagged ("* "), a continuation request ("+ ") or tagged (a
 * valid tag, then OK, NO or BAD); literals "{n}" CRLF and n bytes, each a piece of one of the
 * messages (or lines of one, for HEADER.FIELDS); RFC822.SIZE one of theirs; FLAGS lists of system
 * flags; message numbers and UIDs within the four; no file left in tmp/, none added; after
 * "+ idling" no tagged response but IDLE's own. An input that names a command that adds or moves
 * messages or folders (APPEND, COPY, MOVE, CREATE, RENAME, DELETE, SUBSCRIBE) or IDLE is checked
 * for the syntax of the responses only (its literals and numbers may be of messages it made) and
 * the store is made anew after it; while such a session IDLEs, a message is delivered to user1
 * after each chunk (three at most), which wakes it as another session's delivery would.
 * STARTTLS's go-ahead is the last response before the handshake (driver.h: nothing pipelined with
 * it is answered) and no command after it finds the session logged in until a LOGIN or
 * AUTHENTICATE completes under TLS. The TLS set-up (driver.h's 0xfe M prefix) varies: STARTTLS
 * offered or not, LOGINDISABLED (--require-tls), an implicit-TLS connection; seeds fuzz/imap/tls-*.
 */
#include "tools/fuzz.h"
#include "workloads/mail/fuzz/driver.h"

#include <errno.h>
#include "lib/fs.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define USERS 2
#define NMSGS 4
#define BIG   (48u * 1024u)
static const char *dir;
static struct mstore *st;
static const struct server_cfg cfg = { .addr = "127.0.0.1", .max_size = 2048, .threads = 1 };

static char big[BIG + 1]; /* message 2, made by LLVMFuzzerInitialize */

/* in the Maildir as mailstore names them: <name>,S=<size><info> */
static const struct {
	const char *sub, *name, *info, *text;
} msgs[NMSGS] = {
	{ "cur", "1700000000.1_00000000000000a1.vcons,U=1", ":2,S",
	  "Return-Path: <a@b.test>\r\nSubject: one\r\n\r\nbody one\r\n.. line\r\n" },
	{ "new", "1800000000.2_00000000000000a2.vcons,U=2", "", big },
	{ "new", "0.3_00000000000000a3.vcons,U=3", "",
	  "Return-Path: <>\r\nSubject: three, no body\r\n" },
	{ "new", "4102444800.4_00000000000000a4.vcons,U=4", "",
	  "Return-Path: <c@d.test>\r\nSubject: four\r\n\r\n" },
};

static void make_big(void)
{
	size_t o =
	    (size_t)snprintf(big, sizeof(big), "Return-Path: <b@b.test>\r\nSubject: big\r\n\r\n");
	for (unsigned line = 0; o + 64 <= BIG; line++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, "%08u %-51.51s\r\n", line,
		                      "the quick brown fox jumps over the lazy dog");
	big[o] = 0;
}

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

/* Provisions the store with user1's four messages. */
static void make_store(void)
{
	char err[256];
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
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	dir = fuzz_scratch_dir("mail-imap");
	make_big();
	make_store();
	return 0;
}

/* Does the stream name a command that changes folders, or IDLE (whose wake-ups deliver)? */
static bool changes_folders(const uint8_t *p, size_t n)
{
	static const char *const idle[] = { "idle" };
	return fz_changes_folders(p, n) || fz_names_word(p, n, idle, 1);
}

struct imap_check {
	bool folders;     /* the input changes folders: check the syntax only */
	bool fresh;       /* after a STARTTLS go-ahead, until a login completes */
	uint64_t literal; /* bytes of a literal still to come in the output */
	bool mid_line;    /* after a literal: the rest of the response's line follows */
	bool idling;      /* "+ idling" was sent: only IDLE's own tagged response may come */
	int delivered;    /* messages delivered while the session idled */
	const struct conn *c;
};

/* A literal in a FETCH response: a piece of one of the messages, or (HEADER.FIELDS) some of a
 * message's header lines and a CRLF, or a part of that (a partial fetch). */
static void check_literal(const char *p, size_t n)
{
	for (int i = 0; i < NMSGS; i++)
		if (n == 0 || memmem(msgs[i].text, strlen(msgs[i].text), p, n))
			return;
	for (int i = 0; i < NMSGS; i++) {
		const char *t = msgs[i].text, *q = p, *end = p + n;
		size_t tn = strlen(t);
		while (q <
		       end) { /* each whole line (the first and last may be cut) is one of t's */
			const char *lf = memchr(q, '\n', (size_t)(end - q));
			size_t l = lf ? (size_t)(lf - q) + 1 : (size_t)(end - q);
			if (!memmem(t, tn, q, l))
				break;
			q += l;
		}
		if (q == end)
			return;
	}
	fuzz_assert(!"a literal that is no message's text");
}

/* "FLAGS (...)" lists only the five system flags, each once. */
static void check_flags(const char *l, size_t n)
{
	static const char *const names[] = { "\\Seen", "\\Deleted", "\\Answered", "\\Flagged",
		                             "\\Draft" };
	const char *p = memmem(l, n, "FLAGS (", 7);
	if (!p)
		return;
	const char *end = memchr(p, ')', n - (size_t)(p - l));
	fuzz_assert(end);
	unsigned seen = 0;
	for (p += 7; p < end;) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		size_t w = (size_t)((sp ? sp : end) - p);
		unsigned k = 0;
		while (k < 5 && (strlen(names[k]) != w || memcmp(names[k], p, w) != 0))
			k++;
		fuzz_assert(k < 5 && !(seen & (1u << k)));
		seen |= 1u << k;
		p += w + (sp != NULL);
	}
}

static void check_size(const char *l, size_t n)
{
	const char *s = memmem(l, n, " RFC822.SIZE ", 13);
	if (!s || memmem(l, (size_t)(s - l), "HEADER.FIELDS", 13))
		return; /* none, or a field name echoed in a HEADER.FIELDS list */
	unsigned long v = strtoul(s + 13, NULL, 10);
	for (int i = 0; i < NMSGS; i++)
		if (v == strlen(msgs[i].text))
			return;
	fuzz_assert(!"RFC822.SIZE of no message");
}

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
static void check_start(struct imap_check *k, const char *l, size_t n)
{
	bool folders = k->folders;
	if (n == 8 && !memcmp(l, "+ idling", 8))
		k->idling = true;
	if (n >= 2 && (l[0] == '*' || l[0] == '+') && l[1] == ' ') {
		unsigned long m = number_after(l, n, "* ");
		const char *sp = memchr(l + 2, ' ', n - 2);
		bool expunge_or_fetch =
		    sp && (!strncmp(sp, " FETCH ", 7) || !strncmp(sp, " EXPUNGE", 8));
		fuzz_assert((folders || m <= NMSGS) && (!expunge_or_fetch || m >= 1));
		if (expunge_or_fetch && !strncmp(sp, " FETCH (UID ", 12)) {
			unsigned long uid = strtoul(sp + 12, NULL, 10);
			fuzz_assert(uid >= 1 && (folders || uid <= NMSGS));
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
	if (k->idling) /* what ends the IDLE, and nothing else */
		fuzz_assert(memmem(l, n, " OK IDLE terminated", 19) ||
		            memmem(l, n, " BAD IDLE: expected DONE", 24));
	k->idling = false;
}

static bool has(const char *l, size_t n, const char *what)
{
	return memmem(l, n, what, strlen(what)) != NULL;
}

/* The tagged go-ahead of STARTTLS ("* " lines may carry client text: quoted names, subjects). */
static bool go_ahead(const char *l, size_t n)
{
	static const char tail[] = " OK Begin TLS negotiation now";
	size_t t = sizeof(tail) - 1;
	return n > t && l[0] != '*' && !memcmp(l + n - t, tail, t);
}

/* After a STARTTLS go-ahead the session starts logged out: commands that need a login are refused
 * until a LOGIN or AUTHENTICATE succeeds (its OK carries the capabilities). */
static void track(struct imap_check *k, const char *l, size_t n)
{
	if (go_ahead(l, n))
		k->fresh = true;
	else if (has(l, n, " OK [CAPABILITY ") &&
	         (has(l, n, "] LOGIN completed") || has(l, n, "] AUTHENTICATE completed")))
		k->fresh = false;
	else if (k->fresh)
		fuzz_assert(!has(l, n, " OK [READ-WRITE]") && !has(l, n, " OK [READ-ONLY]") &&
		            !has(l, n, " OK LIST completed") && !has(l, n, " OK FETCH completed"));
}

static void on_chunk(void *ctx, const char *out, size_t len, size_t fed)
{
	struct imap_check *k = ctx;
	const char *p = out, *end = out + len;
	while (p < end) {
		if (k->literal) {
			fuzz_assert((size_t)(end - p) >= k->literal); /* never cut */
			if (!k->folders)
				check_literal(p, k->literal);
			p += k->literal;
			k->literal = 0;
			continue;
		}
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		fuzz_assert(lf && lf > p && lf[-1] == '\r'); /* responses are never cut */
		// cppcheck-suppress nullPointerArithmeticRedundantCheck ; fuzz_assert(lf) aborts
		size_t n = (size_t)(lf - 1 - p);
		fuzz_assert(!memchr(p, '\r', n) && !memchr(p, 0, n));
		if (!k->mid_line) {
			check_start(k, p, n);
			track(k, p, n);
		}
		if (!k->folders)
			check_size(p, n);
		check_flags(p, n);
		bool go = !k->mid_line && go_ahead(p, n);
		k->mid_line = false;
		if (n >= 3 && p[n - 1] == '}') {
			const char *open = p + n - 2;
			while (open > p && *open >= '0' && *open <= '9')
				open--;
			if (*open == '{' && open < p + n - 2) {
				k->literal = strtoull(open + 1, NULL, 10);
				k->mid_line = true;
				fuzz_assert(k->literal <= BIG);
			}
		}
		p = lf + 1;
		fuzz_assert(!go || p == end); /* nothing answered after it */
	}
	if (k->folders && k->c->idling && k->delivered < 3) { /* another session's delivery */
		int user = 0;
		const char *m = msgs[0].text;
		fuzz_assert(mstore_deliver(st, &user, 1, "", 0, m, strlen(m)) == 0);
		k->delivered++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_stream s;
	fz_stream_init(&s, data, size, 64, 120u * 1024u); /* under ASan's mmap threshold */
	const struct server_cfg sc = fz_cfg(cfg, &s);
	struct conn c = { .st = st, .cfg = &sc };
	struct imap_check k = { .folders = changes_folders(s.p, s.len), .c = &c };
	fz_session_run(&c, CONN_IMAP, &s, s.chunking & 0x80, on_chunk, &k);
	conn_end(&c);
	if (k.folders) {
		fuzz_assert(fz_maildir_each(dir, 1, "tmp", NULL, NULL) == 0);
		mstore_close(st);
		fs_rmtree(dir, true);
		make_store();
	} else {
		restore_maildir();
	}
	fz_stream_free(&s);
	return 0;
}
