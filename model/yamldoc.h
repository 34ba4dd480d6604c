/* model/yamldoc.h: a YAML file as a small tree that remembers where each node came from, so every
 * configuration error can name the file, the line and the field (libyaml does the parsing).
 *
 * Contract: yamldoc_load() returns a tree or NULL with one message "FILE:LINE: problem" (also for
 * mappings and sequences nested deeper than YAMLDOC_MAX_DEPTH, which no configuration needs).
 * Getters take a dotted field name for messages only ("vms.db.vcpus"), return 0 or -1, and on -1
 * have written "FILE:LINE: FIELD: problem" into the document's error buffer (yamldoc_error()). */
#ifndef MODEL_YAMLDOC_H
#define MODEL_YAMLDOC_H
#include <stddef.h>
#include <stdint.h>

enum ynode_kind { Y_SCALAR, Y_MAP, Y_SEQ };

struct ynode {
	enum ynode_kind kind;
	int line;
	char *value;          /* scalar text */
	char **keys;          /* map keys, in file order */
	struct ynode **items; /* map values or sequence items */
	size_t n;
};

struct yamldoc {
	char *path;
	struct ynode *root;
	char err[512];
};

#define YAMLDOC_MAX_DEPTH 64
struct yamldoc *yamldoc_load(const char *path, char *err, size_t errlen);
void yamldoc_free(struct yamldoc *d);
const char *yamldoc_error(const struct yamldoc *d);

/* Map lookup: the value of `key`, or NULL. */
const struct ynode *ynode_get(const struct ynode *map, const char *key);
/* Checks that a map has only the listed keys (NULL-terminated): an unknown key is an error, so a
 * misspelt field never silently falls back to a default. */
int ynode_only_keys(struct yamldoc *d, const struct ynode *map, const char *field,
                    const char *const *allowed);

/* Typed getters read `key` of mapping `map`; `field` is its dotted name for messages. A missing key
 * is reported at the line of the mapping it is missing from. */
int ynode_map(struct yamldoc *d, const struct ynode *n, const char *field);
const struct ynode *ynode_submap(struct yamldoc *d, const struct ynode *map, const char *key,
                                 const char *field);
int ynode_string(struct yamldoc *d, const struct ynode *map, const char *key, const char *field,
                 const char **out);
int ynode_int(struct yamldoc *d, const struct ynode *map, const char *key, const char *field,
              long min, long max, long *out);
int ynode_double(struct yamldoc *d, const struct ynode *map, const char *key, const char *field,
                 double min, double max, double *out);
int ynode_bool(struct yamldoc *d, const struct ynode *map, const char *key, const char *field,
               int *out);
/* A size as vcons-hv's --mem takes it (lib/size.h: 512M, 2G, 400MiB; whole numbers), above 0 and at
 * most YAMLDOC_MAX_SIZE -> bytes. */
#define YAMLDOC_MAX_SIZE (1ULL << 50)
int ynode_size(struct yamldoc *d, const struct ynode *map, const char *key, const char *field,
               uint64_t *out);

/* Reports a problem at node `n` (or the file's start): always returns -1. */
int yamldoc_fail(struct yamldoc *d, const struct ynode *n, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
