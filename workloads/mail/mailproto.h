/* workloads/mail/mailproto.h: the mail protocol parsers shared by vcons-mail and vcons-mail-load,
 * kept free of I/O so the unit tests (plain and under ASan+UBSan) cover them:
 *   - a line splitter with a length limit that reports over-long lines once and resynchronises;
 *   - the SMTP command parser (RFC 5321 verbs, MAIL FROM / RCPT TO paths, SIZE=, AUTH's
 *     mechanism and initial response) and dot-unstuffing;
 *   - SASL responses (RFC 4422) of the PLAIN (RFC 4616) and LOGIN mechanisms, base64 both ways;
 *   - IMAP4rev1 pieces: literal markers at line ends, tag/atom/astring tokens (quoted strings with
 *     escapes, {N} and {N+} literals), sequence sets, FETCH attribute lists (body sections with
 *     part numbers and header field lists) and STORE flag lists.
 * What IMAP makes of a message's bytes (ENVELOPE, BODYSTRUCTURE, sections, SEARCH) is in
 * imap_msg.h; the MIME parser under it in mime.h.
 * Every function takes explicit lengths (no NUL terminators needed) and never reads past them. */
#ifndef VCONS_MAILPROTO_H
#define VCONS_MAILPROTO_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- line splitting ---- */
enum mp_line_rc {
	MP_LINE_MORE,    /* no complete line yet: read more (consumed bytes, if any, are dropped) */
	MP_LINE_OK,      /* a line: *line_len bytes without the CRLF/LF; *consumed includes it */
	MP_LINE_TOOLONG, /* an over-long line ended here; all its bytes are in *consumed */
};
struct mp_lines {
	size_t max;    /* longest accepted line in bytes, counting its CRLF (SMTP: 512 / 1000) */
	bool skipping; /* inside an over-long line, dropping bytes until its LF */
};
void mp_lines_init(struct mp_lines *lr, size_t max);
enum mp_line_rc mp_lines_next(struct mp_lines *lr, const char *buf, size_t len, size_t *line_len,
                              size_t *consumed);

/* ---- SMTP ---- */
#define MP_SMTP_CMD_MAX  512  /* RFC 5321 4.5.3.1.4, with CRLF */
#define MP_SMTP_TEXT_MAX 1000 /* RFC 5321 4.5.3.1.6, with CRLF */
#define MP_PATH_MAX      256  /* 4.5.3.1.3 */

enum mp_smtp_verb {
	MP_SMTP_UNKNOWN,
	MP_SMTP_EHLO,
	MP_SMTP_HELO,
	MP_SMTP_MAIL,
	MP_SMTP_RCPT,
	MP_SMTP_DATA,
	MP_SMTP_RSET,
	MP_SMTP_NOOP,
	MP_SMTP_QUIT,
	MP_SMTP_STARTTLS, /* RFC 3207 */
	MP_SMTP_AUTH,     /* RFC 4954 */
	MP_SMTP_NOTIMPL, /* a real SMTP verb this server does not implement (VRFY, EXPN, HELP, ...):
	                    502 */
};
struct mp_smtp_cmd {
	enum mp_smtp_verb verb;
	bool syntax_ok;        /* false: arguments are malformed (501) */
	char arg[MP_PATH_MAX]; /* EHLO/HELO domain (printable ASCII); MAIL/RCPT path without <>
	                          ("" = null path); AUTH mechanism (1..20 letters, digits,
	                          '-' or '_') */
	const char *resp;      /* AUTH's initial response (points into the line), NULL if none */
	size_t resp_len;
	uint64_t size; /* MAIL FROM SIZE= parameter, 0 if absent */
	bool has_size;
};
/* Parses one command line (without CRLF). Never fails: the result's verb and syntax_ok say what to
 * do. */
void mp_smtp_parse(const char *line, size_t len, struct mp_smtp_cmd *cmd);

enum mp_data_rc { MP_DATA_LINE, MP_DATA_END };
/* One DATA text line (without CRLF): MP_DATA_END for the lone ".", else the unstuffed line. */
enum mp_data_rc mp_data_unstuff(const char *line, size_t len, const char **out, size_t *out_len);
/* Dot-stuffs a message for sending: writes at most cap bytes to dst, returns the length the stuffed
 * text needs (lines end in CRLF; a bare LF becomes CRLF; the terminating ".\r\n" is appended). */
size_t mp_data_stuff(const char *msg, size_t len, char *dst, size_t cap);

/* ---- SASL (RFC 4422) ---- */
#define MP_SASL_MAX 128 /* a user name or password, with its NUL */
enum mp_sasl_rc { MP_SASL_OK, MP_SASL_CANCEL, MP_SASL_BAD };
/* Base64 (RFC 4648 section 4, padded, no white space) of n bytes into dst (cap bytes, at least
 * n / 4 * 3 + 1 whatever the padding), which gets a NUL after them; the decoded length, or -1 when
 * the text is not base64 or cap is smaller. */
long mp_base64_decode(const char *s, size_t n, char *dst, size_t cap);
/* The base64 text of n bytes into dst (cap bytes, NUL-terminated); its length, or -1 when it does
 * not fit. */
long mp_base64_encode(const void *p, size_t n, char *dst, size_t cap);
/* A PLAIN response (base64 text of n bytes; "=" is the empty initial response of RFC 4954 and
 * RFC 4959): "authzid NUL authcid NUL passwd" into user and pass (MP_SASL_MAX bytes each).
 * MP_SASL_CANCEL for "*"; MP_SASL_BAD for anything else malformed: not base64, a missing or extra
 * NUL, an empty user, a field too long, or an authzid other than empty or the user (this server
 * does no proxy authorisation). */
enum mp_sasl_rc mp_sasl_plain(const char *resp, size_t n, char *user, char *pass);
/* A LOGIN mechanism response (the user name, then the password): base64 text of n bytes decoded
 * into dst (MP_SASL_MAX bytes); CANCEL for "*", BAD when malformed, too long or holding a NUL. */
enum mp_sasl_rc mp_sasl_text(const char *resp, size_t n, char *dst);
/* The client's side: PLAIN's response for user and pass (empty authzid), base64 into dst (cap
 * bytes); its length, or -1 when it does not fit. */
long mp_sasl_plain_encode(const char *user, const char *pass, char *dst, size_t cap);

/* ---- IMAP ---- */
#define MP_IMAP_LITERAL_MAX (64u * 1024u) /* literals in commands (LOGIN, ...); no APPEND here */

/* Does a command line (without CRLF) end in a literal marker?  0 no, 1 yes (*n bytes follow,
 * *nonsync for the LITERAL+ form {N+}), -1 a malformed or over-large marker ({}, {x},
 * {99999999999}). */
int mp_imap_literal(const char *line, size_t len, uint64_t *n, bool *nonsync);
/* The same with another size limit (an APPEND's message). */
int mp_imap_literal_max(const char *line, size_t len, uint64_t max, uint64_t *n, bool *nonsync);

/* A cursor over one complete command (its literals inline as "{N}\r\n" + N bytes). */
struct mp_imap_cur {
	const char *p, *end;
};
void mp_imap_cur_init(struct mp_imap_cur *c, const char *s, size_t len);
bool mp_imap_at_end(const struct mp_imap_cur *c);
bool mp_imap_sp(struct mp_imap_cur *c); /* consumes exactly one SP */
/* tag: 1..64 atom chars except '+'. Returns its length (0 = none) with *tok pointing into the
 * input. */
size_t mp_imap_tag(struct mp_imap_cur *c, const char **tok);
/* atom (also accepts '[' ']' '.' so "BODY.PEEK" stays one atom up to a '['). Returns length, 0 =
 * none. */
size_t mp_imap_atom(struct mp_imap_cur *c, const char **tok);
/* astring: atom, quoted string (escapes \\ \" resolved) or literal. Copies into dst (cap bytes,
 * always NUL-terminated); returns the length, or -1 on syntax error or when it does not fit. */
long mp_imap_astring(struct mp_imap_cur *c, char *dst, size_t cap);

/* A literal argument of up to max bytes: *data points into the input. false on syntax error. */
bool mp_imap_literal_arg(struct mp_imap_cur *c, uint64_t max, const char **data, size_t *n);
/* list-mailbox (RFC 3501): an astring or 1*list-char (atom chars with '%' '*' ']'). -1 on error. */
long mp_imap_list_mailbox(struct mp_imap_cur *c, char *dst, size_t cap);
/* date-time: "dd-Mon-yyyy hh:mm:ss +zzzz" (quoted; day may be " d") -> seconds since the epoch
 * (1970..9999). false on syntax error. */
bool mp_imap_datetime(struct mp_imap_cur *c, int64_t *t);
/* flag-list: "(" [flag *(SP flag)] ")"; keywords accepted and not kept. false on syntax error. */
bool mp_imap_flag_list(struct mp_imap_cur *c, unsigned *flags);

/* Sequence sets ("1", "2:4", "5:*", "1,3:5"); '*' stands for the largest number in use. */
#define MP_SEQ_RANGES 32
struct mp_seqset {
	unsigned n;
	struct {
		uint32_t lo, hi; /* 0 = '*' */
	} r[MP_SEQ_RANGES];
};
/* Parses a sequence set at the cursor; false on syntax error or too many ranges. */
bool mp_seqset_parse(struct mp_imap_cur *c, struct mp_seqset *s);
/* Is n in the set, given the largest number in use (star)? */
bool mp_seqset_has(const struct mp_seqset *s, uint32_t n, uint32_t star);

/* FETCH attributes. */
enum {
	MP_F_UID = 1u << 0,
	MP_F_FLAGS = 1u << 1,
	MP_F_SIZE = 1u << 2,
	MP_F_INTERNALDATE = 1u << 3,
	MP_F_ENVELOPE = 1u << 4,
	MP_F_BODYSTRUCTURE = 1u << 5,
	MP_F_BODY = 1u << 6, /* BODY without a section: BODYSTRUCTURE's non-extensible form */
};
enum mp_section {
	MP_SEC_ALL, /* [] or [1.2]: the whole message, or the part's content */
	MP_SEC_HEADER,
	MP_SEC_TEXT,
	MP_SEC_FIELDS,     /* HEADER.FIELDS (names) */
	MP_SEC_FIELDS_NOT, /* HEADER.FIELDS.NOT (names) */
	MP_SEC_MIME,       /* a part's MIME header (only after a part number) */
};
#define MP_FETCH_BODIES 8
#define MP_PART_DEPTH   16  /* part numbers in a section: 1.2.3... */
#define MP_FIELDS_MAX   512 /* bytes of HEADER.FIELDS names */
struct mp_fetch_body {
	enum mp_section sec;
	bool peek;    /* BODY.PEEK[...]: do not set \Seen */
	bool rfc822;  /* requested as RFC822 / RFC822.HEADER / RFC822.TEXT: echo that name */
	bool partial; /* <origin.count> */
	uint32_t origin, count;
	unsigned nparts;
	uint32_t part[MP_PART_DEPTH];
	unsigned nfields;
	char fields[MP_FIELDS_MAX]; /* the field names, upper case, each NUL-terminated */
};
struct mp_fetch {
	unsigned attrs; /* MP_F_* */
	unsigned nbodies;
	struct mp_fetch_body body[MP_FETCH_BODIES];
};
/* Parses a FETCH attribute, a parenthesised list of them, or a macro (ALL, FAST, FULL). false on
 * syntax error or an attribute this server does not support. */
bool mp_fetch_parse(struct mp_imap_cur *c, struct mp_fetch *f);
/* Writes the name a body item is answered with ("BODY[1.2.HEADER.FIELDS (FROM)]<0>",
 * "RFC822.TEXT", ...); returns its full length (output truncated to cap, always NUL-terminated).
 * MP_BODY_NAME_MAX bytes always fit: 16 part numbers, the longest section text, 512 bytes of
 * field names (atoms) and the partial origin take at most 725. */
#define MP_BODY_NAME_MAX 768
size_t mp_fetch_body_name(const struct mp_fetch_body *b, char *dst, size_t cap);

enum {
	MP_FLAG_SEEN = 1u << 0,
	MP_FLAG_DELETED = 1u << 1,
	MP_FLAG_ANSWERED = 1u << 2,
	MP_FLAG_FLAGGED = 1u << 3,
	MP_FLAG_DRAFT = 1u << 4
};
enum mp_store_op { MP_STORE_SET, MP_STORE_ADD, MP_STORE_REMOVE };
/* STORE arguments after the sequence set: "+FLAGS.SILENT (\Deleted)" etc. false on syntax error. */
bool mp_store_parse(struct mp_imap_cur *c, enum mp_store_op *op, bool *silent, unsigned *flags);
/* Writes "\Seen \Deleted" style text for flags (cap bytes, NUL-terminated); returns the length. */
size_t mp_flags_format(unsigned flags, char *dst, size_t cap);

#endif
