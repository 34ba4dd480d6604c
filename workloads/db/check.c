/* workloads/db/check.c: TPC-C consistency conditions (3.3.2.1 - 3.3.2.6) over one read snapshot,
 * after SQLite's own integrity check. Each query returns the first row that violates its condition.
 */
#include "workloads/db/tpcc.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name, *sql;
} conditions[] = {
	{ "integrity: PRAGMA integrity_check",
	  "SELECT 'says ' || integrity_check FROM"
	  " pragma_integrity_check WHERE integrity_check != 'ok'" },
	{ "condition 1: W_YTD = sum(D_YTD)",
	  "SELECT 'w_id=' || w_id FROM warehouse w WHERE w_ytd !="
	  " (SELECT sum(d_ytd) FROM district WHERE d_w_id=w.w_id) LIMIT 1" },
	{ "condition 2: D_NEXT_O_ID - 1 = max(O_ID) = max(NO_O_ID)",
	  "SELECT 'w_id=' || d_w_id || ' d_id=' || d_id FROM district WHERE"
	  " d_next_o_id - 1 != (SELECT max(o_id) FROM orders WHERE o_w_id=d_w_id AND o_d_id=d_id)"
	  " OR d_next_o_id - 1 != coalesce((SELECT max(no_o_id) FROM new_order"
	  "  WHERE no_w_id=d_w_id AND no_d_id=d_id), d_next_o_id - 1) LIMIT 1" },
	{ "condition 3: max(NO_O_ID) - min(NO_O_ID) + 1 = count(NEW-ORDER rows)",
	  "SELECT 'w_id=' || no_w_id || ' d_id=' || no_d_id FROM new_order"
	  " GROUP BY no_w_id, no_d_id HAVING max(no_o_id) - min(no_o_id) + 1 != count(*) LIMIT 1" },
	{ "condition 4: sum(O_OL_CNT) = count(ORDER-LINE rows)",
	  "SELECT 'w_id=' || d_w_id || ' d_id=' || d_id FROM district WHERE"
	  " (SELECT sum(o_ol_cnt) FROM orders WHERE o_w_id=d_w_id AND o_d_id=d_id) !="
	  " (SELECT count(*) FROM order_line WHERE ol_w_id=d_w_id AND ol_d_id=d_id) LIMIT 1" },
	{ "condition 5: O_CARRIER_ID is null iff a NEW-ORDER row exists",
	  "SELECT 'w_id=' || o_w_id || ' d_id=' || o_d_id || ' o_id=' || o_id FROM orders WHERE"
	  " (o_carrier_id IS NULL) != EXISTS(SELECT 1 FROM new_order WHERE no_w_id=o_w_id AND"
	  " no_d_id=o_d_id AND no_o_id=o_id) LIMIT 1" },
	{ "condition 6: O_OL_CNT = count(ORDER-LINE rows of the order)",
	  "SELECT 'w_id=' || o_w_id || ' d_id=' || o_d_id || ' o_id=' || o_id FROM orders WHERE"
	  " o_ol_cnt != (SELECT count(*) FROM order_line WHERE ol_w_id=o_w_id AND ol_d_id=o_d_id"
	  " AND ol_o_id=o_id) LIMIT 1" },
};

int tpcc_check(struct tpcc_db *t, char *failed, size_t len)
{
	int result = 0;
	if (sqlite3_exec(t->db, "SAVEPOINT tpcc_check", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(failed, len, "cannot begin: %s", sqlite3_errmsg(t->db));
		return -1;
	}
	for (size_t i = 0; i < sizeof(conditions) / sizeof(conditions[0]) && !result; i++) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(t->db, conditions[i].sql, -1, &st, NULL) != SQLITE_OK) {
			snprintf(failed, len, "%s: %s", conditions[i].name, sqlite3_errmsg(t->db));
			result = -1;
			break;
		}
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			snprintf(failed, len, "%s fails at %s", conditions[i].name,
			         (const char *)sqlite3_column_text(st, 0));
			result = -1;
		} else if (rc != SQLITE_DONE) {
			snprintf(failed, len, "%s: %s", conditions[i].name, sqlite3_errmsg(t->db));
			result = -1;
		}
		sqlite3_finalize(st);
	}
	sqlite3_exec(t->db, "RELEASE tpcc_check", NULL, NULL, NULL);
	return result;
}
