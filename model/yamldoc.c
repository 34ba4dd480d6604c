/* model/yamldoc.c: YAML files as line-annotated trees, and typed getters with located errors. */
#include "model/yamldoc.h"
#include "lib/size.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static struct ynode *node_new(enum ynode_kind kind, int line)
{
	struct ynode *n = calloc(1, sizeof(*n));
	if (n) {
		n->kind = kind;
		n->line = line;
	}
	return n;
}

static void node_free(struct ynode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++) {
		if (n->keys)
			free(n->keys[i]);
		node_free(n->items[i]);
	}
	free(n->keys);
	free(n->items);
	free(n->value);
	free(n);
}

static int append(struct ynode *parent, char *key, struct ynode *child)
{
	char **keys = parent->keys;
	if (parent->kind == Y_MAP &&
	    !(keys = realloc(parent->keys, (parent->n + 1) * sizeof(*keys))))
		return -1;
	parent->keys = keys;
	// NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers
	struct ynode **items = realloc(parent->items, (parent->n + 1) * sizeof(*items));
	if (!items)
		return -1;
	parent->items = items;
	if (parent->kind == Y_MAP)
		parent->keys[parent->n] = key;
	parent->items[parent->n++] = child;
	return 0;
}

/* Recursive descent over libyaml's events; `ev` holds the node's first event, `depth` counts the
 * mappings and sequences around it (at most YAMLDOC_MAX_DEPTH, so that no file can exhaust the
 * stack). */
static struct ynode *parse_node(yaml_parser_t *p, yaml_event_t *ev, int depth, char *err,
                                size_t errlen, const char *path);

static int next_event(yaml_parser_t *p, yaml_event_t *ev, char *err, size_t errlen,
                      const char *path)
{
	if (yaml_parser_parse(p, ev))
		return 0;
	snprintf(err, errlen, "%s:%zu: YAML syntax error: %s", path, p->problem_mark.line + 1,
	         p->problem ? p->problem : "unknown");
	return -1;
}

static struct ynode *parse_node(yaml_parser_t *p, yaml_event_t *ev, int depth, char *err,
                                size_t errlen, const char *path)
{
	int line = (int)ev->start_mark.line + 1;
	if (ev->type == YAML_SCALAR_EVENT) {
		struct ynode *n = node_new(Y_SCALAR, line);
		if (n)
			n->value = strdup((const char *)ev->data.scalar.value);
		return n;
	}
	if (ev->type == YAML_ALIAS_EVENT) {
		snprintf(err, errlen, "%s:%d: YAML aliases are not supported here", path, line);
		return NULL;
	}
	int map = ev->type == YAML_MAPPING_START_EVENT;
	if (!map && ev->type != YAML_SEQUENCE_START_EVENT) {
		snprintf(err, errlen, "%s:%d: unexpected YAML content", path, line);
		return NULL;
	}
	if (depth >= YAMLDOC_MAX_DEPTH) {
		snprintf(err, errlen, "%s:%d: nested deeper than %d levels", path, line,
		         YAMLDOC_MAX_DEPTH);
		return NULL;
	}
	struct ynode *n = node_new(map ? Y_MAP : Y_SEQ, line);
	for (;;) {
		yaml_event_t e;
		if (next_event(p, &e, err, errlen, path) < 0)
			goto fail;
		if (e.type == (map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT)) {
			yaml_event_delete(&e);
			return n;
		}
		char *key = NULL;
		if (map) {
			if (e.type != YAML_SCALAR_EVENT) {
				snprintf(err, errlen, "%s:%zu: a key must be a plain name", path,
				         e.start_mark.line + 1);
				yaml_event_delete(&e);
				goto fail;
			}
			key = strdup((const char *)e.data.scalar.value);
			if (ynode_get(n, key)) {
				snprintf(err, errlen, "%s:%zu: %s: the key appears twice", path,
				         e.start_mark.line + 1, key);
				free(key);
				yaml_event_delete(&e);
				goto fail;
			}
			yaml_event_delete(&e);
			if (next_event(p, &e, err, errlen, path) < 0) {
				free(key);
				goto fail;
			}
		}
		struct ynode *child = parse_node(p, &e, depth + 1, err, errlen, path);
		yaml_event_delete(&e);
		if (!child || append(n, key, child) < 0) {
			free(key);
			node_free(child);
			goto fail;
		}
	}
fail:
	node_free(n);
	return NULL;
}

struct yamldoc *yamldoc_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	yaml_parser_t p;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	struct yamldoc *d = calloc(1, sizeof(*d));
	yaml_event_t ev;
	int ok = 0;
	while (d && !ok && next_event(&p, &ev, err, errlen, path) == 0) {
		if (ev.type == YAML_MAPPING_START_EVENT || ev.type == YAML_SEQUENCE_START_EVENT ||
		    ev.type == YAML_SCALAR_EVENT) {
			d->root = parse_node(&p, &ev, 0, err, errlen, path);
			ok = d->root ? 1 : -1;
		} else if (ev.type == YAML_STREAM_END_EVENT) {
			snprintf(err, errlen, "%s:1: the file is empty", path);
			ok = -1;
		}
		yaml_event_delete(&ev);
		if (ok < 0)
			break;
	}
	yaml_parser_delete(&p);
	(void)fclose(f);
	if (ok != 1 || !d) {
		yamldoc_free(d);
		return NULL;
	}
	d->path = strdup(path);
	return d;
}

void yamldoc_free(struct yamldoc *d)
{
	if (!d)
		return;
	node_free(d->root);
	free(d->path);
	free(d);
}

const char *yamldoc_error(const struct yamldoc *d)
{
	return d->err;
}

int yamldoc_fail(struct yamldoc *d, const struct ynode *n, const char *field, const char *fmt, ...)
{
	char msg[384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(d->err, sizeof(d->err), "%s:%d: %s: %s", d->path, n ? n->line : 1, field, msg);
	return -1;
}

const struct ynode *ynode_get(const struct ynode *map, const char *key)
{
	if (!map || map->kind != Y_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (!strcmp(map->keys[i], key))
			return map->items[i];
	return NULL;
}

int ynode_only_keys(struct yamldoc *d, const struct ynode *map, const char *field,
                    const char *const *allowed)
{
	for (size_t i = 0; map && map->kind == Y_MAP && i < map->n; i++) {
		int ok = 0;
		for (size_t k = 0; allowed[k] && !ok; k++)
			ok = !strcmp(map->keys[i], allowed[k]);
		if (!ok) {
			char f[256];
			snprintf(f, sizeof(f), "%s%s%s", field, *field ? "." : "", map->keys[i]);
			return yamldoc_fail(d, map->items[i], f, "unknown field");
		}
	}
	return 0;
}

int ynode_map(struct yamldoc *d, const struct ynode *n, const char *field)
{
	if (!n)
		return yamldoc_fail(d, NULL, field, "missing");
	return n->kind == Y_MAP ? 0 : yamldoc_fail(d, n, field, "expected a mapping");
}

const struct ynode *ynode_submap(struct yamldoc *d, const struct ynode *map, const char *key,
                                 const char *field)
{
	const struct ynode *n = ynode_get(map, key);
	if (!n) {
		yamldoc_fail(d, map, field, "missing");
		return NULL;
	}
	return ynode_map(d, n, field) < 0 ? NULL : n;
}

/* The scalar at map[key], or NULL after reporting it missing or not a single value. */
static const struct ynode *scalar(struct yamldoc *d, const struct ynode *map, const char *key,
                                  const char *field)
{
	const struct ynode *n = ynode_get(map, key);
	if (!n)
		yamldoc_fail(d, map, field, "missing");
	else if (n->kind != Y_SCALAR)
		yamldoc_fail(d, n, field, "expected a single value");
	return n && n->kind == Y_SCALAR ? n : NULL;
}

int ynode_string(struct yamldoc *d, const struct ynode *map, const char *key, const char *field,
                 const char **out)
{
	const struct ynode *n = scalar(d, map, key, field);
	if (!n)
		return -1;
	*out = n->value;
	return 0;
}

int ynode_int(struct yamldoc *d, const struct ynode *map, const char *key, const char *field,
              long min, long max, long *out)
{
	const struct ynode *n = scalar(d, map, key, field);
	if (!n)
		return -1;
	char *end;
	errno = 0;
	long v = strtol(n->value, &end, 10);
	if (errno || end == n->value || *end)
		return yamldoc_fail(d, n, field, "'%s' is not a whole number", n->value);
	if (v < min || v > max)
		return yamldoc_fail(d, n, field, "%ld is outside %ld..%ld", v, min, max);
	*out = v;
	return 0;
}

int ynode_double(struct yamldoc *d, const struct ynode *map, const char *key, const char *field,
                 double min, double max, double *out)
{
	const struct ynode *n = scalar(d, map, key, field);
	if (!n)
		return -1;
	char *end;
	errno = 0;
	double v = strtod(n->value, &end);
	if (errno || end == n->value || *end || !isfinite(v))
		return yamldoc_fail(d, n, field, "'%s' is not a number", n->value);
	if (v < min || v > max)
		return yamldoc_fail(d, n, field, "%g is outside %g..%g", v, min, max);
	*out = v;
	return 0;
}

int ynode_bool(struct yamldoc *d, const struct ynode *map, const char *key, const char *field,
               int *out)
{
	const struct ynode *n = scalar(d, map, key, field);
	if (!n)
		return -1;
	if (!strcmp(n->value, "true") || !strcmp(n->value, "yes"))
		*out = 1;
	else if (!strcmp(n->value, "false") || !strcmp(n->value, "no"))
		*out = 0;
	else
		return yamldoc_fail(d, n, field, "'%s' is not true or false", n->value);
	return 0;
}

int ynode_size(struct yamldoc *d, const struct ynode *map, const char *key, const char *field,
               uint64_t *out)
{
	const struct ynode *n = scalar(d, map, key, field);
	if (!n)
		return -1;
	uint64_t v;
	if (size_parse(n->value, YAMLDOC_MAX_SIZE, &v) < 0 || v == 0)
		return yamldoc_fail(d, n, field, "'%s' is not a size like 512M or 2G", n->value);
	*out = v;
	return 0;
}
