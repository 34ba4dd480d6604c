/* workloads/mail/fuzz/smtp.c: fuzz target for vcons-mail's SMTP session (server_smtp.c) over a
 * scratch Maildir. The input is a client's byte stream, cut into chunks (driver.h; 0xff N B is
 * (N + 1) * 16 bytes B); bit 7 of the first byte ends the session with the idle-timeout goodbye.
 * Besides crashes, leaks and overreads it checks the session's promises:
 *   - every reply is "DDD text" CRLF or a "DDD-" continuation of the same code, DDD in 200..559,
 *     text printable ASCII;
 *   - the reply to DATA's end (the one after a 354) comes only once the client's bytes so far hold
 *     one more <CRLF>.<CRLF> than there were earlier ends: nothing is taken as the final dot
 *     before it arrives;
 *   - a message reaches new/ only with its "250 ... queued" reply, once per accepted recipient, as
 *     big as the reply says, as CRLF lines the client sent after a Return-Path line, and nothing is
 *     left in tmp/ once the session is closed;
 *   - STARTTLS's go-ahead is the last reply before the handshake (driver.h: nothing sent with the
 *     command is answered), and after it no "250 ... queued" comes before a new EHLO's reply.
 * The TLS set-up (driver.h's 0xfe M prefix) varies: STARTTLS offered or not, --require-tls, the
 * submission port (AUTH PLAIN / LOGIN before MAIL); seeds fuzz/smtp/tls-*.
 * fsync is a no-op here: durability is mailstore's business, speed (thousands of runs a second)
 * is this target's. */
#include "tools/fuzz.h"
#include "workloads/mail/fuzz/driver.h"
#include "workloads/mail/mailproto.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define USERS 3
static const char *dir;
static struct mstore *st;
static const struct server_cfg cfg = { .addr = "127.0.0.1", .max_size = 2048, .threads = 1 };

int fsync(int fd)
{
	(void)fd;
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];
	dir = fuzz_scratch_dir("mail-smtp");
	if (mstore_open(&st, dir, USERS, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "mail-smtp: %s\n", err);
		exit(1);
	}
	return 0;
}

/* What the replies so far say, and what the client has sent. */
struct smtp_check {
	const uint8_t *in; /* the client's bytes */
	size_t in_len;
	size_t ends_seen; /* <CRLF>.<CRLF> in the bytes fed so far (non-overlapping) */
	size_t scanned;   /* bytes looked at for those */
	size_t data_ends; /* replies to the end of DATA */
	bool in_data;     /* the last reply was 354 */
	char cont[4];     /* code of a "DDD-" line waiting for its last line, or "" */
	size_t rcpts;     /* "Recipient OK" since the last "Sender OK" */
	size_t files;     /* messages the replies say were delivered */
	size_t sizes[64]; /* their sizes (the first 64 deliveries) */
	size_t nsizes;
	bool fresh; /* after a STARTTLS go-ahead, until the next EHLO/HELO reply */
};

static void count_ends(struct smtp_check *k, size_t fed)
{
	while (k->scanned + 5 <= fed) {
		if (!memcmp(k->in + k->scanned, "\r\n.\r\n", 5)) {
			k->ends_seen++;
			k->scanned += 5;
		} else {
			k->scanned++;
		}
	}
}

static void check_line(struct smtp_check *k, const char *l, size_t n)
{
	fuzz_assert(n >= 3 && l[0] >= '2' && l[0] <= '5' && l[1] >= '0' && l[1] <= '5' &&
	            l[2] >= '0' && l[2] <= '9');
	fuzz_assert(n == 3 || l[3] == ' ' || l[3] == '-');
	for (size_t i = 4; i < n; i++)
		fuzz_assert(l[i] == '\t' || (l[i] >= 0x20 && l[i] < 0x7f));
	fuzz_assert(!k->cont[0] || !memcmp(k->cont, l, 3));
	if (n > 3 && l[3] == '-') {
		memcpy(k->cont, l, 3);
		return;
	}
	k->cont[0] = 0;
}

static bool starts(const char *l, size_t n, const char *prefix)
{
	return n >= strlen(prefix) && !memcmp(l, prefix, strlen(prefix));
}

/* Follows the transaction through the replies (whole replies: their last lines). */
static void track(struct smtp_check *k, const char *l, size_t n)
{
	if (k->in_data) {
		k->in_data = false;
		if (starts(l, n, "421 4.4.2"))
			return; /* the timeout, in DATA: no end */
		k->data_ends++;
		fuzz_assert(k->data_ends <= k->ends_seen);
		fuzz_assert(!starts(l, n, "451")); /* no store errors on the scratch Maildir */
	}
	if (starts(l, n, "354 "))
		k->in_data = true;
	else if (starts(l, n, "250 2.1.0 Sender OK")) {
		fuzz_assert(!k->fresh); /* STARTTLS reset the session: EHLO first */
		k->rcpts = 0;
	} else if (starts(l, n, "250 2.1.5 Recipient OK"))
		k->rcpts++;
	else if (starts(l, n, "220 2.0.0 Ready to start TLS")) {
		k->fresh = true;
		k->rcpts = 0;
	} else if (starts(l, n, "250 ENHANCEDSTATUSCODES") ||
	           (n == 4 + strlen(MS_DOMAIN) && starts(l, n, "250 " MS_DOMAIN)))
		k->fresh = false; /* the last line of EHLO's reply, or HELO's */
	else if (starts(l, n, "250 2.0.0 OK: queued as ")) {
		fuzz_assert(k->rcpts > 0 && !k->fresh);
		k->files += k->rcpts;
		if (k->nsizes < 64)
			k->sizes[k->nsizes++] = strtoul(l + 24, NULL, 10);
	}
}

static void on_chunk(void *ctx, const char *out, size_t len, size_t fed)
{
	struct smtp_check *k = ctx;
	count_ends(k, fed);
	const char *p = out, *end = out + len;
	while (p < end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		fuzz_assert(lf && lf > p && lf[-1] == '\r'); /* whole CRLF lines */
		// cppcheck-suppress nullPointerArithmeticRedundantCheck ; fuzz_assert(lf) aborts
		size_t n = (size_t)(lf - 1 - p);
		fuzz_assert(!memchr(p, '\r', n));
		check_line(k, p, n);
		if (!k->cont[0])
			track(k, p, n);
		bool go_ahead = starts(p, n, "220 2.0.0 Ready to start TLS");
		p = lf + 1;
		fuzz_assert(!go_ahead || p == end); /* nothing answered after it */
	}
	fuzz_assert(!k->cont[0]); /* a multi-line reply is never cut */
}

static bool known_size(const struct smtp_check *k, size_t size)
{
	if (k->nsizes == 64)
		return true;
	for (size_t i = 0; i < k->nsizes; i++)
		if (k->sizes[i] == size)
			return true;
	return false;
}

/* A message's text: "Return-Path: <...>" CRLF, then CRLF lines, each one the client sent (a
 * stuffing dot less), within the size limit. */
static void check_text(const struct smtp_check *k, const char *path, size_t size)
{
	static char text[MP_PATH_MAX + 32 + 2048];
	fuzz_assert(size <= sizeof(text));
	FILE *f = fopen(path, "rb");
	fuzz_assert(f && fread(text, 1, size, f) == size);
	(void)fclose(f);
	fuzz_assert(size >= 17 && !memcmp(text, "Return-Path: <", 14));
	const char *p = memchr(text, '\n', size), *end = text + size;
	fuzz_assert(p && p[-1] == '\r' && p[-2] == '>');
	for (p++; p < end;) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		fuzz_assert(lf && lf > p && lf[-1] == '\r');
		size_t n = (size_t)(lf - 1 - p);
		fuzz_assert(n == 0 || memmem(k->in, k->in_len, p, n));
		p = lf + 1;
	}
}

/* A message in new/: its size is the one in its name and one a reply gave. Removed afterwards. */
static void check_message(void *ctx, const char *folder, const char *name)
{
	const struct smtp_check *k = ctx;
	char p[800];
	struct stat sb;
	snprintf(p, sizeof(p), "%s/%s", folder, name);
	fuzz_assert(stat(p, &sb) == 0 && known_size(k, (size_t)sb.st_size));
	const char *s = strstr(name, ",S=");
	fuzz_assert(s && strtoull(s + 3, NULL, 10) == (unsigned long long)sb.st_size);
	check_text(k, p, (size_t)sb.st_size);
	fuzz_assert(unlink(p) == 0);
}

/* As many messages in new/ as the replies say, nothing in tmp/ (nor in cur/: SMTP never goes
 * there). Leaves the Maildirs empty for the next input (and the store's index too). */
static void check_maildir(const struct smtp_check *k)
{
	size_t files = 0;
	for (unsigned u = 1; u <= USERS; u++) {
		fuzz_assert(fz_maildir_each(dir, u, "tmp", NULL, NULL) == 0);
		files += fz_maildir_each(dir, u, "new", check_message, (void *)k);
		fuzz_assert(mstore_sync(st, (int)u - 1, MS_INBOX) == 0);
	}
	fuzz_assert(files == k->files);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_stream s;
	fz_stream_init(&s, data, size, 16, 32u * 1024u);
	struct smtp_check k = { .in = s.p, .in_len = s.len };
	const struct server_cfg sc = fz_cfg(cfg, &s);
	struct conn c = { .st = st, .cfg = &sc };
	fz_session_run(&c, CONN_SMTP, &s, s.chunking & 0x80, on_chunk, &k);
	conn_end(&c);
	check_maildir(&k);
	fz_stream_free(&s);
	return 0;
}
