/* Guest conformance test: SQLite in WAL mode, 10,000 rows, queries, reopen, integrity check. */
#include <sqlite3.h>
#include <stdio.h>
#include <unistd.h>

static int exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
	if (rc != SQLITE_OK) {
		printf("error in %s: %s\n", sql, err);
		sqlite3_free(err);
	}
	return rc;
}

static void print_query(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	printf("%s ->", sql);
	while (sqlite3_step(st) == SQLITE_ROW)
		for (int i = 0; i < sqlite3_column_count(st); i++)
			printf(" %s", (const char *)sqlite3_column_text(st, i));
	printf("\n");
	sqlite3_finalize(st);
}

int main(void)
{
	sqlite3 *db;
	unlink("t.db");
	if (sqlite3_open("t.db", &db) != SQLITE_OK)
		return 1;
	print_query(db, "PRAGMA journal_mode=WAL");
	exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v REAL)");
	sqlite3_stmt *ins;
	sqlite3_prepare_v2(db, "INSERT INTO t(name, v) VALUES(?, ?)", -1, &ins, NULL);
	for (int batch = 0; batch < 10; batch++) {
		exec(db, "BEGIN");
		for (int i = 0; i < 1000; i++) {
			char name[32];
			int n = batch * 1000 + i;
			snprintf(name, sizeof(name), "row-%05d", n);
			sqlite3_bind_text(ins, 1, name, -1, SQLITE_TRANSIENT);
			sqlite3_bind_double(ins, 2, n * 0.5);
			sqlite3_step(ins);
			sqlite3_reset(ins);
		}
		exec(db, "COMMIT");
	}
	sqlite3_finalize(ins);
	print_query(db, "SELECT count(*), sum(v), min(name), max(name) FROM t");
	exec(db, "CREATE INDEX t_v ON t(v)");
	print_query(db, "SELECT name FROM t WHERE v BETWEEN 100 AND 102 ORDER BY v");
	exec(db, "DELETE FROM t WHERE id % 3 = 0");
	print_query(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	sqlite3_close(db);
	sqlite3_open("t.db", &db);
	print_query(db, "SELECT count(*) FROM t");
	print_query(db, "PRAGMA integrity_check");
	sqlite3_close(db);
	unlink("t.db");
	unlink("t.db-wal");
	unlink("t.db-shm");
	return 0;
}
