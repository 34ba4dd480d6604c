/* workloads/mail/fuzz/driver.h: what the mail session fuzz targets (smtp.c, imap.c) share:
 * Maildir scans, how a fuzz input becomes a client's byte stream cut into
 * network-like chunks, and a session driven over them the way server_net.c drives it.
 *
 * Input format: byte 0 chooses the chunking by its low 7 bits k (0: everything at once; else chunks
 * of 1..k*k bytes, sizes from a PRNG seeded with the byte, so k = 1 is byte by byte, but at least
 * 1/256 of what was fed before, so that long streams stay quick); its bit 7 is left to the target.
 * The rest is the client's bytes, where the three bytes 0xff N B stand for (N + 1) * unit copies
 * of B, so that small inputs reach the line and literal limits of the protocols (SMTP 512 and 1000
 * bytes, IMAP 8 KiB lines and 64 KiB literals). */
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

/* The client's bytes of an input (malloc'd; free it, at most max of them) and its chunking byte.
 */
struct fz_stream {
	uint8_t *p;
	size_t len;
	uint8_t chunking;
};
void fz_stream_init(struct fz_stream *s, const uint8_t *data, size_t size, size_t unit, size_t max);
void fz_stream_free(struct fz_stream *s);

/* Called after each chunk with the replies it produced (whole lines: the sessions write whole
 * replies) and the number of client bytes fed so far. */
typedef void fz_on_chunk(void *ctx, const char *out, size_t out_len, size_t fed);

/* Opens a session of kind on c (cfg and st as given), feeds it the stream chunk by chunk, calls
 * on_chunk after each, stops feeding once the session closes. The greeting counts as chunk 0's
 * output. A wake-up (c->wake, called where srv_conn_wake would be: a folder an IMAP IDLE watches
 * changed) is served with imap_wake before the next chunk. If timeout, finishes with the
 * idle-timeout goodbye. Leaves the session open. */
void fz_session_run(struct conn *c, enum conn_kind kind, const struct fz_stream *s, bool timeout,
                    fz_on_chunk *on_chunk, void *ctx);

#endif
