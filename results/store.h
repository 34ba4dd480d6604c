/* results/store.h: the results repository's database (SQLite, WAL, synchronous=FULL): one row per
 * accepted submission, keyed by the submission's manifest digest so that the same submission is
 * stored once. A store__add that returns has committed its row to disk: the server answers only
 * after it. One connection, serialized by a mutex: safe from any thread. */
#ifndef RESULTS_STORE_H
#define RESULTS_STORE_H
#include "results/seal.h"

#include <jansson.h>
#include <stdint.h>

struct store;

/* Opens (creating) the database. 0, or -1 with the reason in err. */
int store__open(const char *path, struct store **out, char *err, size_t errlen);
void store__close(struct store *st);

/* Stores a checked submission (raw: its bytes). *id is its row; *created 0 when a submission with
 * the same digest was there already (nothing written). 0, or -1 with the reason in err. */
int store__add(struct store *st, const struct submission *s, const char *raw, size_t rawlen,
               int64_t *id, int *created, char *err, size_t errlen);

struct store_filter {
	const char *platform; /* NULL: any */
	const char *cpu;      /* substring of the CPU model; NULL: any */
	int csus;             /* 0: any */
	int compliant;        /* -1: any, 0 or 1 */
	const char *sort; /* id, score, platform, cpu, csus, compliant, received, run (NULL: id) */
	int desc;
	int limit; /* 0: all */
};

/* The sort keys store_filter.sort accepts, NULL-terminated. */
extern const char *const store__sort_keys[];

/* Summaries (id, run_id, platform, cpu, csus, valid, compliant, score, rules, received_at, key,
 * digest) of the matching rows, or NULL on a database error. */
json_t *store__list(struct store *st, const struct store_filter *f);

/* One row: its summary with "result" (the full result.json). NULL when absent. */
json_t *store__get(struct store *st, int64_t id);

/* The stored submission's bytes (malloc'd) or NULL. */
char *store__submission(struct store *st, int64_t id, size_t *len);

int64_t store__count(struct store *st);

#endif
