/* workloads/mail/fuzz/driver.c: Maildir scans, input decoding and session driving shared by the
 * mail session fuzz targets (see driver.h). */
#include "workloads/mail/fuzz/driver.h"
#include "tools/fuzz.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

size_t fz_maildir_each(const char *dir, unsigned user, const char *sub, fz_on_file *fn, void *ctx)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/user%u/Maildir/%s", dir, user, sub);
	DIR *d = opendir(p);
	if (!d)
		return 0;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		n++;
		if (fn)
			fn(ctx, p, e->d_name);
	}
	closedir(d);
	return n;
}

bool fz_names_word(const uint8_t *p, size_t n, const char *const *words, size_t nwords)
{
	for (size_t i = 0; i < n; i++)
		for (size_t w = 0; w < nwords; w++) {
			size_t k = 0, len = strlen(words[w]);
			while (k < len && i + k < n && tolower(p[i + k]) == words[w][k])
				k++;
			if (k == len)
				return true;
		}
	return false;
}

bool fz_changes_folders(const uint8_t *p, size_t n)
{
	static const char *const words[] = { "append", "copy",   "move",     "create",
		                             "rename", "delete", "subscribe" };
	return fz_names_word(p, n, words, sizeof(words) / sizeof(words[0]));
}

void fz_stream_init(struct fz_stream *s, const uint8_t *data, size_t size, size_t unit, size_t max)
{
	size_t cap = 0, start = 1; /* what the input expands to, up to max */
	s->tls = 0;
	if (size >= 3 && data[1] == 0xfe) {
		s->tls = data[2];
		start = 3;
	}
	for (size_t i = start; i < size && cap < max; i++) {
		bool macro = data[i] == 0xff && i + 2 < size;
		cap += macro ? ((size_t)data[i + 1] + 1) * unit : 1;
		i += macro ? 2 : 0;
	}
	cap = cap < max ? cap : max;
	s->chunking = size ? data[0] : 0;
	s->p = malloc(cap ? cap : 1);
	s->len = 0;
	if (!s->p)
		abort();
	for (size_t i = start; i < size && s->len < cap; i++) {
		size_t n = 1;
		uint8_t b = data[i];
		if (b == 0xff && i + 2 < size) {
			n = ((size_t)data[i + 1] + 1) * unit;
			b = data[i + 2];
			i += 2;
		}
		if (n > cap - s->len)
			n = cap - s->len;
		memset(s->p + s->len, b, n);
		s->len += n;
	}
}

struct server_cfg fz_cfg(struct server_cfg base, const struct fz_stream *s)
{
	base.tls = !(s->tls & FZ_TLS_NONE);
	base.require_tls = base.tls && (s->tls & FZ_TLS_REQUIRE);
	return base;
}

void fz_stream_free(struct fz_stream *s)
{
	free(s->p);
	s->p = NULL;
}

static void session_input(struct conn *c)
{
	if (c->kind == CONN_SMTP)
		smtp_input(c);
	else
		imap_input(c);
}

/* Moves the session's output to acc (the client reads everything at once). */
static void drain(struct conn *c, struct buf *acc)
{
	size_t n = buf_pending(&c->out);
	if (n && buf_put(acc, c->out.p + c->out.off, n))
		abort();
	buf_consume(&c->out, n);
}

/* c->wake: what the network layer does with srv_conn_wake (c->net: the driver's flag). */
static void note_wake(struct conn *c)
{
	*(bool *)c->net = true;
}

/* Runs the session over what is in c->in like the server core does (srv.c's conn_work), after
 * serving a wake-up. After a STARTTLS go-ahead it stops, as the network layer does to switch
 * transports (the rest of the chunk was sent before the handshake: the session must have dropped
 * it). */
static void pump(struct conn *c, struct buf *acc)
{
	bool *woken = c->net;
	if (*woken && !c->close_after_flush) {
		*woken = false;
		if (c->kind == CONN_IMAP)
			imap_wake(c);
		drain(c, acc);
	}
	for (;;) {
		size_t before = buf_pending(&c->in);
		if (!c->close_after_flush && buf_pending(&c->out) < CONN_OUT_HIGH)
			session_input(c);
		drain(c, acc);
		if (c->starttls) {
			fuzz_assert(c->tls && buf_pending(&c->in) == 0 && !c->more);
			c->starttls = false; /* the handshake */
			return;
		}
		if (c->close_after_flush || (buf_pending(&c->in) == before && !c->more))
			return;
	}
}

size_t fz_chunk_len(uint32_t *rng, uint8_t chunking, size_t fed, size_t left)
{
	uint32_t k = chunking & 0x7f;
	if (k == 0)
		return left;
	*rng ^= *rng << 13; /* xorshift32 */
	*rng ^= *rng >> 17;
	*rng ^= *rng << 5;
	size_t n = 1 + *rng % (k * k);
	n = n > fed / 256 ? n : fed / 256;
	return n < left ? n : left;
}

static void report(struct buf *acc, size_t fed, fz_on_chunk *on_chunk, void *ctx)
{
	on_chunk(ctx, acc->p ? acc->p + acc->off : "", buf_pending(acc), fed);
	acc->off = acc->len = 0;
}

void fz_session_run(struct conn *c, enum conn_kind kind, const struct fz_stream *s, bool timeout,
                    fz_on_chunk *on_chunk, void *ctx)
{
	struct buf acc = { 0 };
	bool woken = false;
	c->kind = kind;
	c->fd = -1;
	c->wake = note_wake;
	// cppcheck-suppress autoVariables ; both are cleared before the return
	c->net = &woken;
	c->tls = s->tls & FZ_TLS_IMPLICIT;
	c->submission = c->tls && kind == CONN_SMTP;
	if ((kind == CONN_SMTP ? smtp_open(c) : imap_open(c)) != 0)
		abort();
	drain(c, &acc);
	report(&acc, 0, on_chunk, ctx);
	uint32_t rng = 0x9e3779b9u ^ s->chunking;
	size_t fed = 0;
	while (fed < s->len && !c->close_after_flush) {
		size_t n = fz_chunk_len(&rng, s->chunking, fed, s->len - fed);
		if (buf_put(&c->in, s->p + fed, n))
			abort();
		fed += n;
		pump(c, &acc);
		report(&acc, fed, on_chunk, ctx);
	}
	if (timeout && !c->close_after_flush) {
		if (kind == CONN_SMTP)
			smtp_timeout(c);
		else
			imap_timeout(c);
		c->close_after_flush = true;
		drain(c, &acc);
		report(&acc, fed, on_chunk, ctx);
	}
	c->wake = NULL; /* woken is gone: the session may still be watching until conn_end */
	c->net = NULL;
	buf_free(&acc);
}
