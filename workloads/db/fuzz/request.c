/* workloads/db/fuzz/request.c: fuzz target for what vcons-db does with a client's bytes: the input
 * is the byte stream of one connection, fed in chunks to the frame parser (frame.h) exactly as
 * server.c does, and every complete frame is decoded and executed against a small TPC-C database
 * (1 warehouse, scale 100) that lives for the whole fuzzing session.
 *
 * Checked besides crashes: every request gets a response object whose status is ok, rollback or
 * error; no transaction is left open; and, after each input, TPC-C's consistency conditions still
 * hold (tpcc_check), so no malformed or out-of-range request can commit a partial transaction. */
#include "tools/fuzz.h"
#include "workloads/db/frame.h"
#include "workloads/db/tpcc.h"

#include <stdlib.h>
#include <string.h>

static struct fuzz_db {
	const char *dir;
	struct tpcc_db db;
} fz;

static void fuzz_db_close(void)
{
	tpcc_close(&fz.db);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256] = "";
	fz.dir = fuzz_scratch_dir("db-request");
	if (tpcc_load(fz.dir, 1, 100, 1, err, sizeof err) ||
	    tpcc_open(&fz.db, fz.dir, TPCC_SYNC_NORMAL, 1)) {
		fprintf(stderr, "db fuzz: cannot set up a database in %s: %s %s\n", fz.dir, err,
		        fz.db.err);
		exit(1);
	}
	atexit(fuzz_db_close); /* runs before the scratch folder goes */
	return 0;
}

/* Executes one frame's payload the way server.c's serve_frame does (minus the socket). */
static void fuzz_execute(const char *payload, uint32_t len)
{
	json_error_t jerr;
	json_t *req = json_loadb(payload, len, JSON_REJECT_DUPLICATES, &jerr);
	const char *tx = json_string_value(json_object_get(req, "tx"));
	if (json_is_object(req) && !(tx && strcmp(tx, "shutdown") == 0)) {
		json_t *resp = tpcc_execute(&fz.db, req);
		const char *st = json_string_value(json_object_get(resp, "status"));
		fuzz_assert(json_is_object(resp) && st);
		fuzz_assert(!strcmp(st, "ok") || !strcmp(st, "rollback") || !strcmp(st, "error"));
		fuzz_assert(sqlite3_get_autocommit(fz.db.db));
		json_decref(resp);
	}
	json_decref(req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The first byte picks the chunk size, so frames arrive whole, split or several at once. */
	size_t chunk = size ? (size_t)data[0] % 64 + 1 : 1, off = size ? 1 : 0;
	struct frame_buf in = { 0 };
	enum frame_state fs = FRAME_MORE;
	while (off < size && fs == FRAME_MORE) {
		size_t n = size - off < chunk ? size - off : chunk;
		if (frame_buf_reserve(&in, n))
			break; /* the server would have answered the frame too big already */
		memcpy(in.data + in.have, data + off, n);
		in.have += n;
		off += n;
		const char *payload;
		uint32_t len;
		while ((fs = frame_parse(&in, &payload, &len)) == FRAME_READY) {
			fuzz_assert(len > 0 && len <= FRAME_MAX && payload == in.data + 4);
			fuzz_execute(payload, len);
			frame_consume(&in, len);
		}
	}
	frame_buf_free(&in);
	char failed[512];
	if (tpcc_check(&fz.db, failed, sizeof failed)) {
		fprintf(stderr, "db fuzz: consistency broken: %s\n", failed);
		abort();
	}
	return 0;
}
