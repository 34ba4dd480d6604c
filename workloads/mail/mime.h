/* workloads/mail/mime.h: the structure of a stored message, as IMAP needs it: RFC 5322 header
 * fields (case-insensitive names, folded values) and the RFC 2045/2046 MIME tree (multiparts by
 * their boundaries, message/rfc822 parts with the message inside), each entity as byte ranges of
 * the message (its header block and its body), so that BODY[section] is a range copy and
 * BODYSTRUCTURE's sizes and line counts are exact. No I/O, no copies of the message: the tree
 * points into the bytes it was given, which must outlive it.
 *
 * Tolerant as real servers are: a header without its blank line is all header, a multipart whose
 * boundary never appears (or has none) is one leaf, a missing close delimiter ends the part at
 * its parent's end, lines that are no header field are skipped. Bounded: nesting deeper than
 * MIME_DEPTH_MAX and parts beyond MIME_PARTS_MAX are left as leaves. Never reads past len. */
#ifndef VCONS_MIME_H
#define VCONS_MIME_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MIME_DEPTH_MAX 16
#define MIME_PARTS_MAX 1000

enum mime_kind {
	MIME_LEAF,   /* any single part (text/plain, image/png, a multipart without parts, ...) */
	MIME_MULTI,  /* multipart/<any>: children are its parts, in order */
	MIME_RFC822, /* message/rfc822 (not base64/quoted-printable): one child, the message inside
	              */
};

struct mime_ent {
	size_t hdr, hdr_len; /* header block, with the empty line that ends it (if there is one) */
	size_t body, body_len; /* content (for a multipart: preamble, parts and epilogue) */
	uint32_t lines;        /* lines in the body (a last line without its LF counts) */
	enum mime_kind kind;
	bool digest_child; /* a part of multipart/digest: its default type is message/rfc822 */
	int child, next;   /* first child and next sibling (indexes into mime_msg.e), -1: none */
	unsigned nchild;
};

struct mime_msg {
	const char *p;
	size_t len;
	struct mime_ent *e; /* e[0] is the whole message */
	unsigned n, cap;
};

/* Parses p[0..len) into m (which then points into p). 0, or -1 when out of memory (m is empty
 * then). Free with mime_free. */
int mime_parse(struct mime_msg *m, const char *p, size_t len);
void mime_free(struct mime_msg *m);

/* One header field: raw name and raw value (after the colon, leading blanks skipped, folding
 * CRLFs still in it, the final CRLF not); line..line_end is the whole field with its CRLF(s). */
struct mime_field {
	const char *name, *val, *line;
	size_t name_len, val_len, line_len;
};
/* Iterates the fields of the header block h[0..len): *pos starts at 0. false at the end. */
bool mime_field_next(const char *h, size_t len, size_t *pos, struct mime_field *f);
/* The first field called name (case-insensitive), false if there is none. */
bool mime_field_find(const char *h, size_t len, const char *name, struct mime_field *f);
/* Unfolds a value (CR and LF dropped, leading and trailing blanks trimmed) into dst (cap bytes,
 * NUL-terminated, cut if longer); returns its length. */
size_t mime_unfold(const char *v, size_t len, char *dst, size_t cap);

/* Content-Type or Content-Disposition style value: "token/token" or "token", then ";"-separated
 * attribute=value parameters (tokens or quoted strings; comments in parentheses skipped). */
struct mime_ctype {
	char type[64], subtype[64]; /* lower case as given; "" when absent or malformed */
	unsigned nparams;
	struct {
		char name[64];   /* as given */
		char value[256]; /* quotes and escapes removed */
	} param[8];
};
/* Parses a raw (folded) value. With slash false only the first token is read (dispositions). */
void mime_ctype_parse(const char *v, size_t len, bool slash, struct mime_ctype *ct);
/* The value of parameter name (case-insensitive) or NULL. */
const char *mime_ctype_param(const struct mime_ctype *ct, const char *name);

#endif
