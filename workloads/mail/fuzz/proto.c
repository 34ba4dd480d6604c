/* workloads/mail/fuzz/proto.c: fuzz target for libmailproto (mailproto.h), the parsers every byte
 * from a mail client or server reaches. Input: byte 0 sets the line limit (1..256), byte 1 seeds
 * the chunking, byte 2 sizes output buffers and picks flags; the rest is text. Every function gets
 * exactly the bytes it is told about in their own allocation, so ASan sees any read past them. It
 * checks the header's contracts:
 *   - mp_lines_next splits the text as a plain reference does (lines up to the limit with their
 *     CRLF or LF, each longer one reported once as TOOLONG), and the same whether the text comes
 *     at once or in chunks;
 *   - mp_smtp_parse: verbs case-insensitive, arg NUL-terminated, paths without spaces, controls or
 *     brackets and RCPT's never empty, SIZE only on MAIL, AUTH's mechanism a word and its
 *     initial response a word inside the line;
 *   - mp_base64_decode takes exactly what a strict reference decoder takes, with the same bytes;
 *     mp_sasl_plain and mp_sasl_text results fit, hold no NUL, and PLAIN's round-trip through
 *     mp_sasl_plain_encode; mp_data_unstuff drops one leading dot and
 *     ends on "." alone; mp_data_stuff's output, cut into lines and unstuffed, ends at its final
 * dot with the text (bare LF made CRLF, a last CRLF added) and never writes past cap;
 *   - mp_imap_literal finds exactly the markers "{N}" / "{N+}" with N <= MP_IMAP_LITERAL_MAX at a
 *     line's end; the tokenizer keeps its cursor inside the command and moving forward, tags and
 *     atoms are made of their characters, astrings fit and are NUL-terminated, sequence sets hold
 *     their own numbers, FETCH and STORE results stay within their enums (sections: part numbers
 *     nonzero, MIME only after one, field lists only for HEADER.FIELDS), formatting truncates. */
#include "tools/fuzz.h"
#include "workloads/mail/mailproto.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* An exact-size copy (so an overread hits ASan's redzone); free it. */
static char *dup_exact(const char *p, size_t n)
{
	char *d = malloc(n ? n : 1);
	if (!d)
		abort();
	memcpy(d, p, n);
	return d;
}

/* ---- lines ---- */
struct line_ev {
	enum mp_line_rc rc;
	size_t off, len; /* an OK line's bytes in the text */
};
#define MAX_EVS 4096

/* The reference: every LF ends a line; one up to max bytes with its LF is OK, a longer one TOOLONG.
 */
static size_t ref_lines(const char *t, size_t len, size_t max, struct line_ev *ev)
{
	size_t n = 0, start = 0;
	for (size_t i = 0; i < len && n < MAX_EVS; i++) {
		if (t[i] != '\n')
			continue;
		size_t whole = i + 1 - start, l = i - start;
		if (l > 0 && t[i - 1] == '\r')
			l--;
		ev[n++] = whole <= max ? (struct line_ev){ MP_LINE_OK, start, l }
		                       : (struct line_ev){ MP_LINE_TOOLONG, 0, 0 };
		start = i + 1;
	}
	return n;
}

/* One call with the contract's checks; pos is where buf starts in the text. buf is copied unless
 * it ends where the input does (which libFuzzer and fuzz_replay.c allocate exactly). */
static enum mp_line_rc next_line(struct mp_lines *lr, const char *buf, size_t len, bool at_end,
                                 size_t *used, struct line_ev *ev, size_t pos)
{
	bool skipping = lr->skipping;
	size_t line_len;
	char *b = at_end ? (char *)buf : dup_exact(buf, len);
	enum mp_line_rc rc = mp_lines_next(lr, b, len, &line_len, used);
	fuzz_assert(*used <= len);
	if (rc == MP_LINE_OK) {
		fuzz_assert(*used >= 1 && b[*used - 1] == '\n' && *used <= lr->max);
		fuzz_assert(line_len + 1 == *used ||
		            (line_len + 2 == *used && b[line_len] == '\r'));
		fuzz_assert(!memchr(b, '\n', line_len));
		*ev = (struct line_ev){ rc, pos, line_len };
	} else if (rc == MP_LINE_TOOLONG) {
		fuzz_assert(*used >= 1 && b[*used - 1] == '\n' && !memchr(b, '\n', *used - 1));
		fuzz_assert(skipping || *used > lr->max);
		*ev = (struct line_ev){ rc, 0, 0 };
	} else {
		fuzz_assert(rc == MP_LINE_MORE && !memchr(b, '\n', len));
		fuzz_assert(lr->skipping ? *used == len : *used == 0 && len < lr->max);
	}
	if (!at_end)
		free(b);
	return rc;
}

/* Splits the text fed in chunks of 1..limit bytes (limit 0: at once); returns the events. */
static size_t split(const char *t, size_t len, size_t max, unsigned limit, uint32_t seed,
                    struct line_ev *ev, size_t *rest)
{
	struct mp_lines lr;
	mp_lines_init(&lr, max);
	size_t n = 0, start = 0, fed = 0; /* pending bytes: t[start, fed) */
	while (fed < len && n < MAX_EVS) {
		size_t c = len - fed;
		if (limit) {
			seed = seed * 1103515245u + 12345u;
			c = 1 + (seed >> 8) % limit < c ? 1 + (seed >> 8) % limit : c;
		}
		fed += c;
		for (;;) {
			size_t used;
			enum mp_line_rc rc = next_line(&lr, t + start, fed - start, fed == len,
			                               &used, &ev[n], start);
			start += used;
			if (rc == MP_LINE_MORE)
				break;
			if (++n == MAX_EVS)
				break;
		}
	}
	*rest = lr.skipping ? 0 : fed - start;
	return n;
}

static void check_lines(const char *t, size_t len, size_t max, uint8_t seed)
{
	static struct line_ev ref[MAX_EVS], whole[MAX_EVS], chunked[MAX_EVS];
	size_t rest_w, rest_c;
	size_t nr = ref_lines(t, len, max, ref);
	size_t nw = split(t, len, max, 0, 0, whole, &rest_w);
	size_t nc = split(t, len, max, seed % 16 + 1, seed, chunked, &rest_c);
	if (nr == MAX_EVS || nw == MAX_EVS || nc == MAX_EVS)
		return;
	fuzz_assert(nr == nw && nw == nc && rest_w == rest_c);
	for (size_t i = 0; i < nr; i++) {
		fuzz_assert(ref[i].rc == whole[i].rc && ref[i].rc == chunked[i].rc);
		fuzz_assert(ref[i].off == whole[i].off && ref[i].off == chunked[i].off);
		fuzz_assert(ref[i].len == whole[i].len && ref[i].len == chunked[i].len);
	}
}

/* ---- SMTP ---- */
static bool path_ok(const char *a)
{
	for (; *a; a++)
		if ((unsigned char)*a <= ' ' || (unsigned char)*a >= 0x7f || *a == '<' || *a == '>')
			return false;
	return true;
}

static bool domain_ok(const char *a)
{
	for (; *a; a++)
		if ((unsigned char)*a <= ' ' || (unsigned char)*a >= 0x7f)
			return false;
	return true;
}

static void check_smtp(const char *line, size_t len)
{
	struct mp_smtp_cmd cmd, up;
	char *b = dup_exact(line, len);
	mp_smtp_parse(b, len, &cmd);
	fuzz_assert(memchr(cmd.arg, 0, sizeof(cmd.arg)));
	fuzz_assert(cmd.verb >= MP_SMTP_UNKNOWN && cmd.verb <= MP_SMTP_NOTIMPL);
	fuzz_assert(!cmd.has_size || cmd.verb == MP_SMTP_MAIL);
	if (cmd.syntax_ok && (cmd.verb == MP_SMTP_MAIL || cmd.verb == MP_SMTP_RCPT))
		fuzz_assert(path_ok(cmd.arg) && (cmd.verb == MP_SMTP_MAIL || cmd.arg[0]));
	if (cmd.syntax_ok && (cmd.verb == MP_SMTP_EHLO || cmd.verb == MP_SMTP_HELO))
		fuzz_assert(cmd.arg[0] && domain_ok(cmd.arg));
	fuzz_assert(!cmd.resp || (cmd.verb == MP_SMTP_AUTH && cmd.syntax_ok));
	if (cmd.syntax_ok && cmd.verb == MP_SMTP_AUTH) {
		for (size_t k = 0; k == 0 || cmd.arg[k]; k++)
			fuzz_assert(isalnum((unsigned char)cmd.arg[k]) || cmd.arg[k] == '-' ||
			            cmd.arg[k] == '_');
		fuzz_assert(strlen(cmd.arg) <= 20);
		fuzz_assert(!cmd.resp || (cmd.resp > b && cmd.resp + cmd.resp_len == b + len &&
		                          cmd.resp_len && !memchr(cmd.resp, ' ', cmd.resp_len)));
	}
	for (size_t i = 0; i < len; i++)
		b[i] = (char)toupper((unsigned char)b[i]);
	mp_smtp_parse(b, len, &up);
	fuzz_assert(up.verb == cmd.verb && up.syntax_ok == cmd.syntax_ok);
	fuzz_assert(up.has_size == cmd.has_size && up.size == cmd.size);
	fuzz_assert(strcasecmp(up.arg, cmd.arg) == 0);
	free(b);

	b = dup_exact(line, len);
	const char *o;
	size_t on;
	if (mp_data_unstuff(b, len, &o, &on) == MP_DATA_END) {
		fuzz_assert(len == 1 && b[0] == '.');
	} else {
		size_t dot = len > 0 && b[0] == '.';
		fuzz_assert(!(len == 1 && b[0] == '.') && o == b + dot && on == len - dot);
	}
	free(b);
}

/* ---- SASL ---- */
static int b64_value(char ch)
{
	static const char set[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = ch ? strchr(set, ch) : NULL;
	return p ? (int)(p - set) : -1;
}

/* A plain strict base64 decoder (RFC 4648 section 4, padded): the length or -1. */
static long ref_base64(const char *s, size_t n, unsigned char *dst)
{
	if (n % 4)
		return -1;
	size_t o = 0;
	for (size_t i = 0; i < n; i += 4) {
		int v[4], pad = 0;
		for (int k = 0; k < 4; k++) {
			bool last = i + 4 == n,
			     may_pad = last && (k == 3 || (k == 2 && s[i + 3] == '='));
			v[k] = may_pad && s[i + k] == '=' ? 0 : b64_value(s[i + k]);
			pad += may_pad && s[i + k] == '=';
			if (v[k] < 0)
				return -1;
		}
		uint32_t w = (uint32_t)(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
		unsigned char b[3] = { (unsigned char)(w >> 16), (unsigned char)(w >> 8),
			               (unsigned char)w };
		memcpy(dst + o, b, (size_t)(3 - pad));
		o += (size_t)(3 - pad);
	}
	return (long)o;
}

static void check_sasl(const char *line, size_t len)
{
	char *b = dup_exact(line, len);
	size_t cap = len / 4 * 3 + 1;
	char *got = malloc(cap);
	unsigned char *want = malloc(cap);
	if (!got || !want)
		abort();
	long k = mp_base64_decode(b, len, got, cap), r = ref_base64(b, len, want);
	fuzz_assert(k == r && (k < 0 || (got[k] == 0 && !memcmp(got, want, (size_t)k))));
	fuzz_assert(mp_base64_decode(b, len, got, cap - 1) ==
	            -1); /* room for the worst case only */
	free(got);
	free(want);
	char user[MP_SASL_MAX], pass[MP_SASL_MAX], again[MP_SASL_MAX], enc[512];
	enum mp_sasl_rc rc = mp_sasl_plain(b, len, user, pass);
	fuzz_assert(rc == (len == 1 && b[0] == '*' ? MP_SASL_CANCEL : rc));
	if (rc == MP_SASL_OK) {
		fuzz_assert(user[0] && strlen(user) < MP_SASL_MAX && strlen(pass) < MP_SASL_MAX);
		long e = mp_sasl_plain_encode(user, pass, enc, sizeof(enc));
		char u2[MP_SASL_MAX], p2[MP_SASL_MAX];
		fuzz_assert(e > 0 && mp_sasl_plain(enc, (size_t)e, u2, p2) == MP_SASL_OK);
		fuzz_assert(!strcmp(u2, user) && !strcmp(p2, pass));
	}
	rc = mp_sasl_text(b, len, again);
	if (rc == MP_SASL_OK)
		fuzz_assert(strlen(again) < MP_SASL_MAX);
	free(b);
}

/* The text as mp_data_stuff promises to transmit it: bare LF as CRLF, a final CRLF added. */
static size_t normalised(const char *t, size_t len, char *dst)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (t[i] == '\n' && (i == 0 || t[i - 1] != '\r'))
			dst[o++] = '\r';
		dst[o++] = t[i];
	}
	if (len && t[len - 1] != '\n') {
		dst[o++] = '\r';
		dst[o++] = '\n';
	}
	return o;
}

static void check_stuff(const char *t, size_t len, uint8_t capsel)
{
	char *src = dup_exact(t, len);
	size_t need = mp_data_stuff(src, len, NULL, 0);
	fuzz_assert(need >= 3 && need <= 2 * len + 5);
	char *full = malloc(need);
	fuzz_assert(full && mp_data_stuff(src, len, full, need) == need);
	size_t cap = capsel % (need + 1);
	char *part = malloc(cap ? cap : 1);
	fuzz_assert(part && mp_data_stuff(src, len, part, cap) == need);
	fuzz_assert(!memcmp(part, full, cap));
	free(part);
	/* unstuff it line by line as a server does: the end comes at the last line, with the text
	 */
	char *back = malloc(need), *want = malloc(2 * len + 2);
	fuzz_assert(back && want);
	size_t nb = 0, start = 0;
	bool ended = false;
	for (size_t i = 0; i < need; i++) {
		if (full[i] != '\n')
			continue;
		fuzz_assert(!ended && i > start && full[i - 1] == '\r');
		const char *o;
		size_t on;
		if (mp_data_unstuff(full + start, i - 1 - start, &o, &on) == MP_DATA_END) {
			ended = true;
			fuzz_assert(i + 1 == need);
		} else {
			memcpy(back + nb, o, on);
			memcpy(back + nb + on, "\r\n", 2);
			nb += on + 2;
		}
		start = i + 1;
	}
	fuzz_assert(ended && nb == normalised(src, len, want) && !memcmp(back, want, nb));
	free(back);
	free(want);
	free(full);
	free(src);
}

/* ---- IMAP ---- */
static void check_literal(const char *line, size_t len)
{
	char *b = dup_exact(line, len);
	uint64_t n = 0;
	bool nonsync = false;
	int r = mp_imap_literal(b, len, &n, &nonsync);
	/* the reference: "{" digits ["+"] "}" at the end, after the start or a non-digit */
	size_t e = len, d;
	bool plus = false, marker = false;
	uint64_t v = 0;
	if (e >= 3 && b[e - 1] == '}') {
		e--;
		if (b[e - 1] == '+') {
			plus = true;
			e--;
		}
		for (d = e; d > 0 && isdigit((unsigned char)b[d - 1]); d--)
			;
		marker = d < e && d > 0 && b[d - 1] == '{';
		for (size_t i = d; marker && i < e && v <= MP_IMAP_LITERAL_MAX; i++)
			v = v * 10 + (uint64_t)(b[i] - '0');
	}
	if (marker && v <= MP_IMAP_LITERAL_MAX)
		fuzz_assert(r == 1 && n == v && nonsync == plus);
	else
		fuzz_assert(r != 1);
	free(b);
}

static bool atom_char(char ch)
{
	return ch > 0x20 && ch < 0x7f && !strchr("(){ %*\"\\]", ch);
}

struct cur_check {
	struct mp_imap_cur c;
	const char *start, *last;
};

static void cur_ok(struct cur_check *k)
{
	fuzz_assert(k->c.p >= k->last && k->c.p <= k->c.end);
	k->last = k->c.p;
}

static void check_seqset(struct cur_check *k)
{
	struct mp_seqset s;
	if (!mp_seqset_parse(&k->c, &s))
		return;
	fuzz_assert(s.n >= 1 && s.n <= MP_SEQ_RANGES);
	for (unsigned i = 0; i < s.n; i++) {
		uint32_t star = s.r[i].lo > s.r[i].hi ? s.r[i].lo : s.r[i].hi;
		star = star ? star : 7;
		fuzz_assert(mp_seqset_has(&s, s.r[i].lo ? s.r[i].lo : star, star));
		fuzz_assert(mp_seqset_has(&s, s.r[i].hi ? s.r[i].hi : star, star));
	}
}

static void check_fetch(struct cur_check *k, size_t cap)
{
	struct mp_fetch f;
	if (!mp_fetch_parse(&k->c, &f))
		return;
	fuzz_assert((f.attrs & ~0x7fu) == 0 && f.nbodies <= MP_FETCH_BODIES);
	fuzz_assert(f.attrs || f.nbodies);
	for (unsigned i = 0; i < f.nbodies; i++) {
		const struct mp_fetch_body *b = &f.body[i];
		fuzz_assert(b->sec <= MP_SEC_MIME && (!b->partial || b->count > 0));
		fuzz_assert(b->nparts <= MP_PART_DEPTH && (b->sec != MP_SEC_MIME || b->nparts));
		for (unsigned k = 0; k < b->nparts; k++)
			fuzz_assert(b->part[k] > 0);
		bool lists = b->sec == MP_SEC_FIELDS || b->sec == MP_SEC_FIELDS_NOT;
		fuzz_assert(lists ? b->nfields > 0 : b->nfields == 0);
		char full[MP_BODY_NAME_MAX], *part = malloc(cap ? cap : 1);
		size_t n = mp_fetch_body_name(b, full, sizeof(full));
		fuzz_assert(n > 0 && n < sizeof(full) && strlen(full) == n);
		fuzz_assert(part && mp_fetch_body_name(b, part, cap) == n);
		if (cap)
			fuzz_assert(strlen(part) == (n < cap ? n : cap - 1) &&
			            !strncmp(part, full, cap - 1));
		free(part);
	}
}

static void check_store(struct cur_check *k)
{
	enum mp_store_op op;
	bool silent;
	unsigned flags = 0;
	if (mp_store_parse(&k->c, &op, &silent, &flags))
		fuzz_assert((flags & ~0x1fu) == 0 && op <= MP_STORE_REMOVE &&
		            mp_imap_at_end(&k->c));
}

static void check_astring_literal(const char *at, const char *end, size_t n)
{
	const char *p = at + 1;
	while (isdigit((unsigned char)*p))
		p++;
	fuzz_assert(p > at + 1);
	if (*p == '+')
		p++;
	fuzz_assert(p[0] == '}' && p[1] == '\r' && p[2] == '\n' && p + 3 + n == end);
}

/* Walks a command with the tokenizer: tag SP atom, then arguments as sel says. */
static void check_tokens(const char *t, size_t len, uint8_t sel)
{
	char *b = dup_exact(t, len);
	struct cur_check k = { .start = b, .last = b };
	mp_imap_cur_init(&k.c, b, len);
	const char *tok;
	size_t n = mp_imap_tag(&k.c, &tok);
	cur_ok(&k);
	fuzz_assert(n <= 64 && (n == 0 || tok == b));
	for (size_t i = 0; i < n; i++)
		fuzz_assert(atom_char(tok[i]) && tok[i] != '+');
	for (int round = 0; round < 16 && !mp_imap_at_end(&k.c); round++) {
		const char *before = k.c.p;
		mp_imap_sp(&k.c);
		cur_ok(&k);
		size_t cap = (size_t)((sel >> 2) % 48) + 1;
		char dst[48];
		switch ((sel + round) % 5) {
		case 0:
			n = mp_imap_atom(&k.c, &tok);
			fuzz_assert(tok >= before && tok + n == k.c.p);
			for (size_t i = 0; i < n; i++)
				fuzz_assert(atom_char(tok[i]) && tok[i] != '[');
			break;
		case 1: {
			const char *at = k.c.p;
			long r = mp_imap_astring(&k.c, dst, cap);
			fuzz_assert(r < (long)cap && (r < 0 || dst[r] == 0));
			/* a literal: "{" digits ["+"] "}" CRLF, r bytes */
			if (r >= 0 && *at == '{')
				check_astring_literal(at, k.c.p, (size_t)r);
			break;
		}
		case 2: check_seqset(&k); break;
		case 3: check_fetch(&k, cap); break;
		case 4: check_store(&k); break;
		}
		cur_ok(&k);
		if (k.c.p == before && !mp_imap_at_end(&k.c))
			k.c.p++; /* skip a byte no parser took */
		k.last = k.c.p;
	}
	free(b);
}

static void check_flags(uint8_t sel)
{
	char full[96];
	unsigned flags = sel & 0x1f;
	size_t n = mp_flags_format(flags, full, sizeof(full));
	fuzz_assert(strlen(full) == n && (flags || n == 0));
	for (size_t cap = 0; cap < 50; cap += 7) {
		char *part = malloc(cap ? cap : 1);
		size_t m = mp_flags_format(flags, part, cap);
		fuzz_assert(m == (cap == 0 ? 0 : n < cap ? n : cap - 1));
		fuzz_assert(cap == 0 || (strlen(part) == m && !strncmp(part, full, m)));
		free(part);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	size_t max = (size_t)data[0] + 1;
	const char *t = (const char *)data + 3;
	size_t len = size - 3;
	check_lines(t, len, max, data[1]);
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && t[i] != '\n')
			continue;
		size_t l = i - start;
		if (i < len && l > 0 && t[i - 1] == '\r')
			l--;
		check_smtp(t + start, l);
		check_sasl(t + start, l);
		check_literal(t + start, l);
		check_tokens(t + start, l, (uint8_t)(data[2] + i));
		start = i + 1;
	}
	check_tokens(t, len, data[2]); /* a whole command, literals inline, as the server has it */
	check_stuff(t, len, data[2]);
	check_flags(data[2]);
	return 0;
}
