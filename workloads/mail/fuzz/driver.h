/* workloads/mail/fuzz/driver.h: what the mail session fuzz targets (smtp.c, imap.c) share:
 * Maildir scans, how a fuzz input becomes a client's byte stream cut into
 * network-like chunks, and a session driven over them the way server_net.c drives it.
 *
 * Input format: byte 0 chooses the chunking by its low 7 bits k (0: everything at once; else chunks
 * of 1..k*k bytes, sizes from a PRNG seeded with the byte, so k = 1 is byte by byte, but at least
 * 1/256 of what was fed before, so that long streams stay quick); its bit 7 is left to the target.
 * Then, optionally, 0xfe M: the connection's TLS set-up, M's bits: 1 it came in on an implicit-TLS
 * port (already under TLS; SMTP's is submission, AUTH before MAIL), 2 --require-tls, 4 no TLS to
 * offer (no STARTTLS); without it, TLS is offered on a plain connection.
 * The rest is the client's bytes, where the three bytes 0xff N B stand for (N + 1) * unit copies
 * of B, so that small inputs reach the line and literal limits of the protocols (SMTP 512 and 1000
 * bytes, IMAP 8 KiB lines and 64 KiB literals).
 *
 * STARTTLS is run as server_net.c runs it: once a session has answered it (conn.starttls), the
 * driver checks that the session dropped the rest of its input (nothing the client sent before
 * the handshake may run after it) and produced nothing after the go-ahead, then takes the
 * handshake as done and feeds the next chunk as the first bytes under TLS. */
#ifndef VCONS_MAIL_FUZZ_DRIVER_H
#define VCONS_MAIL_FUZZ_DRIVER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "workloads/mail/server.h"

/* Calls fn (if not NULL) for every file in userK/Maildir/<sub> with its folder and name; returns
 * how many there were. One pass: the targets keep the file system work per input small. */
typedef void fz_on_file(void *ctx, const char *folder, const char *name);
size_t fz_maildir_each(const char *dir, unsigned user, const char *sub, fz_on_file *fn, void *ctx);

/* Does the stream hold one of words (lower case), case-insensitively, anywhere? */
bool fz_names_word(const uint8_t *p, size_t n, const char *const *words, size_t nwords);
/* Does the stream name an IMAP command that changes folders (APPEND, COPY, MOVE, CREATE, RENAME,
 * DELETE, SUBSCRIBE; case-insensitively)? */
bool fz_changes_folders(const uint8_t *p, size_t n);

/* The client's bytes of an input (malloc'd; free it, at most max of them) and its chunking byte.
 */
struct fz_stream {
	uint8_t *p;
	size_t len;
	uint8_t chunking;
	uint8_t tls; /* the 0xfe M prefix's M (FZ_TLS_* bits; a target may use the others), or 0 */
};
enum { FZ_TLS_IMPLICIT = 1, FZ_TLS_REQUIRE = 2, FZ_TLS_NONE = 4 };
/* The length of the next chunk: chunking's low 7 bits k, 0 everything left, else 1..k*k bytes
 * (k = 1: bytewise) from the PRNG *rng, but no less than fed / 256. */
size_t fz_chunk_len(uint32_t *rng, uint8_t chunking, size_t fed, size_t left);
/* base as the stream's TLS set-up configures it (tls, require_tls). */
struct server_cfg fz_cfg(struct server_cfg base, const struct fz_stream *s);
void fz_stream_init(struct fz_stream *s, const uint8_t *data, size_t size, size_t unit, size_t max);
void fz_stream_free(struct fz_stream *s);

/* Called after each chunk with the replies it produced (whole lines: the sessions write whole
 * replies) and the number of client bytes fed so far. */
typedef void fz_on_chunk(void *ctx, const char *out, size_t out_len, size_t fed);

/* Opens a session of kind on c (cfg and st as given; c->tls and c->submission from the stream's
 * set-up), feeds it the stream chunk by chunk, calls on_chunk after each, stops feeding once the
 * session closes. The greeting counts as chunk 0's output; a chunk that brought STARTTLS ends with
 * its go-ahead. A wake-up (c->wake, called where srv_conn_wake would be: a folder an IMAP IDLE
 * watches changed) is served with imap_wake before the next chunk. If timeout, finishes with the
 * idle-timeout goodbye. Leaves the session open. */
void fz_session_run(struct conn *c, enum conn_kind kind, const struct fz_stream *s, bool timeout,
                    fz_on_chunk *on_chunk, void *ctx);

#endif
