/* workloads/mail/imap_msg.h: IMAP4rev1 (RFC 3501) over a parsed message (mime.h), no I/O:
 *   - the FETCH views: ENVELOPE, BODYSTRUCTURE and BODY (its non-extensible form), and which
 *     bytes BODY[section] names (part numbers 1.2.3, HEADER, HEADER.FIELDS (...),
 *     HEADER.FIELDS.NOT (...), TEXT, MIME), header fields filtered for HEADER.FIELDS;
 *   - SEARCH: the search program parsed to an expression tree (every RFC 3501 search key,
 *     parenthesised lists, NOT, OR, sequence sets, CHARSET) and evaluated over one message (its
 *     index data, and its text only when a key needs it). String keys match a case-insensitive
 *     substring of the raw (unfolded, undecoded) header value or text, as RFC 3501 6.4.4 allows.
 * Output goes to a sink, so the server writes straight into a connection's buffer. */
#ifndef VCONS_IMAP_MSG_H
#define VCONS_IMAP_MSG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "workloads/mail/mailproto.h"
#include "workloads/mail/mime.h"

struct mp_sink {
	void (*put)(void *ctx, const void *p, size_t n);
	void *ctx;
};

/* ENVELOPE of message entity ent (0: the message; the child of a MIME_RFC822 part: the message
 * inside), the parenthesised list of RFC 3501 7.4.2. */
void imap_envelope(const struct mime_msg *m, int ent, struct mp_sink *o);
/* BODYSTRUCTURE (ext true) or BODY (ext false) of entity ent. */
void imap_bodystructure(const struct mime_msg *m, int ent, bool ext, struct mp_sink *o);

/* Where a BODY[section] is: a range of the message (*off, *len), or, for HEADER.FIELDS[.NOT], the
 * header block to filter with imap_header_fields. false: the section does not exist in this
 * message (a part number past the parts, HEADER of a part that is no message/rfc822, ...). */
bool imap_section(const struct mime_msg *m, const struct mp_fetch_body *b, size_t *off,
                  size_t *len);
/* Copies the fields of header block h (not) named in b->fields, with a final CRLF, into dst
 * (which must have room for len + 4 bytes); returns the length. */
size_t imap_header_fields(const char *h, size_t len, const struct mp_fetch_body *b, char *dst);

/* Writes s as an IMAP string: a quoted string if it can be one, else a literal. */
void imap_string(struct mp_sink *o, const char *s, size_t n);

/* ---- SEARCH ---- */
#define MP_SEARCH_NODES 256
#define MP_SEARCH_SETS  8
#define MP_SEARCH_STRS  8192

struct mp_snode {
	uint8_t key;        /* enum in imap_search.c */
	int16_t kid, next;  /* first child (NOT, OR, lists) and next sibling; -1: none */
	uint32_t str, str2; /* offsets into strs (HEADER: field name, value) */
	uint64_t num;       /* LARGER/SMALLER bytes, dates as days since 1970, a set's index */
};
struct mp_search {
	unsigned n, nsets;
	size_t strs_len;
	bool needs_text; /* some key reads the message's header or body */
	struct mp_snode node[MP_SEARCH_NODES];
	struct mp_seqset set[MP_SEARCH_SETS];
	char strs[MP_SEARCH_STRS];
};
enum mp_search_rc {
	MP_SEARCH_OK,
	MP_SEARCH_SYNTAX,  /* BAD */
	MP_SEARCH_CHARSET, /* NO [BADCHARSET (UTF-8 US-ASCII)] */
	MP_SEARCH_LIMIT,   /* BAD: more keys, sets or string bytes than the limits above */
};
/* Parses the search program (after "SEARCH "; to the end of the command). */
enum mp_search_rc mp_search_parse(struct mp_imap_cur *c, struct mp_search *s);

struct mp_search_msg {
	uint32_t seq, uid;
	uint32_t max_seq, max_uid; /* what '*' stands for */
	unsigned flags;            /* MP_FLAG_* */
	uint64_t size;
	int64_t time_s;             /* INTERNALDATE */
	const struct mime_msg *msg; /* the parsed message; needed only when s->needs_text */
};
bool mp_search_match(const struct mp_search *s, const struct mp_search_msg *m);

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
int64_t mp_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
