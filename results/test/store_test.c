/* results/test/store_test.c: the results database: a submission is stored once (by its digest)
 * and gets its id back when added again; filters, sorting and limit; a row's result and bytes
 * come back; rows survive closing and reopening. */
#include "tools/unit.h"
#include "results/store.h"
#include "results/test/fixture.h"

static struct fixture fx;

/* A sealed and opened submission of the fixture with this run id and score. */
static void make_sub(const char *run_id, struct submission *s, char **raw, size_t *len)
{
	char err[512], path[256];
	snprintf(path, sizeof(path), "%s/result.json", fx.result);
	json_t *r = json_load_file(path, 0, NULL);
	json_object_set_new(r, "run_id", json_string(run_id));
	assert_int_equal(json_dump_file(r, path, 0), 0);
	json_decref(r);
	assert_int_equal(seal__create(fx.result, fx.key, raw, len, err, sizeof(err)), 0);
	assert_int_equal(seal__open(*raw, *len, s, err, sizeof(err)), 0);
}

static void store_once(void **state)
{
	assert_int_equal(fix_make(&fx, "r"), 0);
	char db[128], err[512], *raw;
	size_t len;
	snprintf(db, sizeof(db), "%s/t.sqlite", fx.dir);
	struct store *st;
	assert_int_equal(store__open(db, &st, err, sizeof(err)), 0);
	struct submission a, b;
	int64_t id;
	int created;
	make_sub("run-a", &a, &raw, &len);
	assert_int_equal(store__add(st, &a, raw, len, &id, &created, err, sizeof(err)), 0);
	assert_int_equal(id, 1);
	assert_int_equal(created, 1);
	assert_int_equal(store__add(st, &a, raw, len, &id, &created, err, sizeof(err)), 0);
	assert_int_equal(id, 1);
	assert_int_equal(created, 0);
	size_t blen;
	char *back = store__submission(st, 1, &blen);
	assert_int_equal(blen, len);
	assert_memory_equal(back, raw, len);
	free(back);
	free(raw);
	make_sub("run-b", &b, &raw, &len);
	assert_int_equal(store__add(st, &b, raw, len, &id, &created, err, sizeof(err)), 0);
	assert_int_equal(id, 2);
	free(raw);
	assert_int_equal(store__count(st), 2);

	struct store_filter f = { .compliant = -1, .sort = "run", .desc = 1 };
	json_t *l = store__list(st, &f);
	assert_int_equal(json_array_size(l), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(l, 0), "run_id")),
	                    "run-b");
	json_decref(l);
	f.limit = 1;
	l = store__list(st, &f);
	assert_int_equal(json_array_size(l), 1);
	json_decref(l);
	struct store_filter none = { .platform = "hv", .compliant = -1 },
	                    cpu = { .cpu = "test cpu", .compliant = 0, .csus = 1 };
	l = store__list(st, &none);
	assert_int_equal(json_array_size(l), 0);
	json_decref(l);
	l = store__list(st, &cpu);
	assert_int_equal(json_array_size(l), 2);
	json_decref(l);

	json_t *row = store__get(st, 2);
	assert_string_equal(json_string_value(json_object_get(row, "digest")), b.digest);
	assert_true(json_equal(json_object_get(row, "result"), b.result));
	json_decref(row);
	assert_null(store__get(st, 3));
	store__close(st);

	assert_int_equal(store__open(db, &st, err, sizeof(err)), 0); /* reopened */
	assert_int_equal(store__count(st), 2);
	assert_int_equal(store__add(st, &b, "x", 1, &id, &created, err, sizeof(err)), 0);
	assert_int_equal(id, 2);
	assert_int_equal(created, 0);
	store__close(st);
	seal__free(&a);
	seal__free(&b);
	fix_remove(&fx);
}

UNIT_MAIN(cmocka_unit_test(store_once))
