/* workloads/mail/proto_line.c: splits a byte stream into CRLF (or bare LF) lines with a length
 * limit. An over-long line is dropped as it arrives and reported once, when its LF comes, so the
 * server can answer it with one error reply and go on with the next line. */
#include "workloads/mail/mailproto.h"

#include <string.h>

void mp_lines_init(struct mp_lines *lr, size_t max)
{
	lr->max = max;
	lr->skipping = false;
}

enum mp_line_rc mp_lines_next(struct mp_lines *lr, const char *buf, size_t len, size_t *line_len,
                              size_t *consumed)
{
	*line_len = 0;
	if (lr->skipping) {
		const char *lf = memchr(buf, '\n', len);
		if (!lf) {
			*consumed = len;
			return MP_LINE_MORE;
		}
		*consumed = (size_t)(lf - buf) + 1;
		lr->skipping = false;
		return MP_LINE_TOOLONG;
	}
	size_t window = len < lr->max ? len : lr->max;
	const char *lf = memchr(buf, '\n', window);
	if (lf) {
		size_t n = (size_t)(lf - buf);
		*consumed = n + 1;
		if (n > 0 && buf[n - 1] == '\r')
			n--;
		*line_len = n;
		return MP_LINE_OK;
	}
	if (len < lr->max) {
		*consumed = 0;
		return MP_LINE_MORE;
	}
	/* max bytes and no LF: the line is too long. Drop what we have and look for its end. */
	lr->skipping = true;
	size_t rest = 0;
	enum mp_line_rc rc = mp_lines_next(lr, buf + lr->max, len - lr->max, line_len, &rest);
	*consumed = lr->max + rest;
	return rc;
}
