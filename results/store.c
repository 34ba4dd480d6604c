/* results/store.c: the SQLite results table (see store.h). */
#include "results/store.h"
#include "lib/json.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct store {
	sqlite3 *db;
	pthread_mutex_t lock;
};

static const char schema_sql[] = "CREATE TABLE IF NOT EXISTS results ("
                                 " id INTEGER PRIMARY KEY AUTOINCREMENT,"
                                 " digest TEXT NOT NULL UNIQUE,"
                                 " received_at TEXT NOT NULL,"
                                 " run_id TEXT NOT NULL,"
                                 " platform TEXT NOT NULL,"
                                 " cpu TEXT NOT NULL,"
                                 " csus INTEGER NOT NULL,"
                                 " valid INTEGER NOT NULL,"
                                 " compliant INTEGER NOT NULL,"
                                 " score REAL NOT NULL,"
                                 " rules TEXT NOT NULL,"
                                 " key_id TEXT NOT NULL,"
                                 " result TEXT NOT NULL,"
                                 " submission BLOB NOT NULL);";

/* Summary columns, in the order row_summary reads them. */
#define SUMMARY_COLS                                                                               \
	"id, run_id, platform, cpu, csus, valid, compliant, score, rules, received_at, key_id, "   \
	"digest"

const char *const store__sort_keys[] = { "id",        "score",    "platform", "cpu", "csus",
	                                 "compliant", "received", "run",      NULL };
static const char *const sort_cols[] = { "id",        "score",       "platform", "cpu", "csus",
	                                 "compliant", "received_at", "run_id",   NULL };

int store__open(const char *path, struct store **out, char *err, size_t errlen)
{
	struct store *st = calloc(1, sizeof(*st));
	if (!st)
		return snprintf(err, errlen, "out of memory"), -1;
	int rc = sqlite3_open_v2(path, &st->db,
	                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
	                         NULL);
	char *msg = NULL;
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(st->db,
		                  "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
		                  "PRAGMA busy_timeout=10000;",
		                  NULL, NULL, &msg);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(st->db, schema_sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, msg ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		sqlite3_close(st->db);
		free(st);
		return -1;
	}
	pthread_mutex_init(&st->lock, NULL);
	*out = st;
	return 0;
}

void store__close(struct store *st)
{
	if (!st)
		return;
	sqlite3_close(st->db);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

static int64_t find(struct store *st, const char *digest)
{
	sqlite3_stmt *q;
	int64_t id = 0;
	if (sqlite3_prepare_v2(st->db, "SELECT id FROM results WHERE digest = ?", -1, &q, NULL))
		return -1;
	sqlite3_bind_text(q, 1, digest, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW)
		id = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return id;
}

static int insert(struct store *st, const struct submission *s, const char *raw, size_t rawlen,
                  const char *result_text)
{
	const json_t *r = s->result, *v = json_object_get(r, "verdict");
	char now[32];
	time_t t = time(NULL);
	struct tm tm;
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(st->db,
	                       "INSERT INTO results (digest, received_at, run_id, platform, cpu, "
	                       "csus, valid, compliant, score, rules, key_id, result, submission) "
	                       "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
	                       -1, &q, NULL))
		return -1;
	sqlite3_bind_text(q, 1, s->digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, jget_str(r, "run_id", NULL), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, jget_str(r, "platform", NULL), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, jget_str(json_object_get(r, "system"), "cpu_model", NULL), -1,
	                  SQLITE_STATIC);
	sqlite3_bind_int64(q, 6, jget_int(r, "csus", 0));
	sqlite3_bind_int(q, 7, json_is_true(json_object_get(v, "valid")));
	sqlite3_bind_int(q, 8, json_is_true(json_object_get(v, "compliant")));
	sqlite3_bind_double(q, 9, jget_num(json_object_get(r, "score"), "run", 0));
	sqlite3_bind_text(q, 10, jget_str(json_object_get(r, "rules"), "name", NULL), -1,
	                  SQLITE_STATIC);
	sqlite3_bind_text(q, 11, s->key_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 12, result_text, -1, SQLITE_STATIC);
	sqlite3_bind_blob64(q, 13, raw, rawlen, SQLITE_STATIC);
	int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(q);
	return rc;
}

int store__add(struct store *st, const struct submission *s, const char *raw, size_t rawlen,
               int64_t *id, int *created, char *err, size_t errlen)
{
	char *text = json_dumps(s->result, JSON_COMPACT);
	if (!text)
		return snprintf(err, errlen, "out of memory"), -1;
	pthread_mutex_lock(&st->lock);
	int rc = 0;
	*created = 0;
	*id = find(st, s->digest);
	if (*id == 0) {
		rc = insert(st, s, raw, rawlen, text);
		*id = sqlite3_last_insert_rowid(st->db);
		*created = rc == 0;
	}
	if (rc || *id < 0) {
		snprintf(err, errlen, "database: %s", sqlite3_errmsg(st->db));
		rc = -1;
	}
	pthread_mutex_unlock(&st->lock);
	free(text);
	return rc;
}

static json_t *row_summary(sqlite3_stmt *q)
{
	const char *key = (const char *)sqlite3_column_text(q, 10);
	char kshort[17];
	snprintf(kshort, sizeof(kshort), "%s", key ? key : "");
	return json_pack(
	    "{s:I,s:s,s:s,s:s,s:I,s:b,s:b,s:f,s:s,s:s,s:s,s:s}", "id",
	    (json_int_t)sqlite3_column_int64(q, 0), "run_id",
	    (const char *)sqlite3_column_text(q, 1), "platform",
	    (const char *)sqlite3_column_text(q, 2), "cpu", (const char *)sqlite3_column_text(q, 3),
	    "csus", (json_int_t)sqlite3_column_int64(q, 4), "valid", sqlite3_column_int(q, 5),
	    "compliant", sqlite3_column_int(q, 6), "score", sqlite3_column_double(q, 7), "rules",
	    (const char *)sqlite3_column_text(q, 8), "received_at",
	    (const char *)sqlite3_column_text(q, 9), "key", kshort, "digest",
	    (const char *)sqlite3_column_text(q, 11));
}

static const char *sort_col(const char *key)
{
	for (int i = 0; key && store__sort_keys[i]; i++)
		if (!strcmp(key, store__sort_keys[i]))
			return sort_cols[i];
	return "id";
}

json_t *store__list(struct store *st, const struct store_filter *f)
{
	char sql[512];
	snprintf(sql, sizeof(sql),
	         "SELECT " SUMMARY_COLS " FROM results WHERE (?1 IS NULL OR platform = ?1) AND "
	         "(?2 IS NULL OR instr(lower(cpu), lower(?2)) > 0) AND (?3 = 0 OR csus = ?3) AND "
	         "(?4 < 0 OR compliant = ?4) ORDER BY %s %s, id LIMIT ?5",
	         sort_col(f->sort), f->desc ? "DESC" : "ASC");
	pthread_mutex_lock(&st->lock);
	sqlite3_stmt *q;
	json_t *out = NULL;
	if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_text(q, 1, f->platform, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, f->cpu, -1, SQLITE_STATIC);
		sqlite3_bind_int(q, 3, f->csus);
		sqlite3_bind_int(q, 4, f->compliant);
		sqlite3_bind_int(q, 5, f->limit > 0 ? f->limit : -1);
		out = json_array();
		int rc;
		while ((rc = sqlite3_step(q)) == SQLITE_ROW)
			json_array_append_new(out, row_summary(q));
		if (rc != SQLITE_DONE) {
			json_decref(out);
			out = NULL;
		}
		sqlite3_finalize(q);
	}
	pthread_mutex_unlock(&st->lock);
	return out;
}

json_t *store__get(struct store *st, int64_t id)
{
	pthread_mutex_lock(&st->lock);
	sqlite3_stmt *q;
	json_t *out = NULL;
	if (sqlite3_prepare_v2(st->db, "SELECT " SUMMARY_COLS ", result FROM results WHERE id = ?",
	                       -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(q, 1, id);
		if (sqlite3_step(q) == SQLITE_ROW) {
			out = row_summary(q);
			json_object_set_new(
			    out, "result",
			    json_loads((const char *)sqlite3_column_text(q, 12), 0, NULL));
		}
		sqlite3_finalize(q);
	}
	pthread_mutex_unlock(&st->lock);
	return out;
}

char *store__submission(struct store *st, int64_t id, size_t *len)
{
	pthread_mutex_lock(&st->lock);
	sqlite3_stmt *q;
	char *out = NULL;
	if (sqlite3_prepare_v2(st->db, "SELECT submission FROM results WHERE id = ?", -1, &q,
	                       NULL) == SQLITE_OK) {
		sqlite3_bind_int64(q, 1, id);
		if (sqlite3_step(q) == SQLITE_ROW) {
			*len = (size_t)sqlite3_column_bytes(q, 0);
			out = malloc(*len + 1);
			if (out)
				memcpy(out, sqlite3_column_blob(q, 0), *len);
		}
		sqlite3_finalize(q);
	}
	pthread_mutex_unlock(&st->lock);
	return out;
}

int64_t store__count(struct store *st)
{
	pthread_mutex_lock(&st->lock);
	sqlite3_stmt *q;
	int64_t n = -1;
	if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM results", -1, &q, NULL) == SQLITE_OK) {
		if (sqlite3_step(q) == SQLITE_ROW)
			n = sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
	}
	pthread_mutex_unlock(&st->lock);
	return n;
}
