/* results/check.h: what `vcons verify` and the server check beyond the seal: the result's schema
 * (the required fields and their types, in C; tests also run an independent JSON Schema validator),
 * and its verdict, re-run from the recorded figures under the recorded rules - which must be the
 * sealed rules file's rules, byte for byte by SHA-256 - and compared with the recorded one. */
#ifndef RESULTS_CHECK_H
#define RESULTS_CHECK_H
#include "results/seal.h"

#include <jansson.h>

/* SEAL_OK or SEAL_SCHEMA naming the first missing or mistyped field. */
int check__schema(const json_t *result, char *err, size_t errlen);

/* SEAL_OK, or SEAL_VERDICT saying how the data contradict the recorded verdict or scores, or that
 * the sealed rules file is not the one recorded. Expects check__schema to have passed. */
int check__verdict(const struct submission *s, char *err, size_t errlen);

/* Everything in order: open (structure, signature, digests), trust (skipped when trust_dir is
 * NULL), schema, verdict. On SEAL_OK s is open (seal__free it either way). */
int check__submission(const char *buf, size_t len, const char *trust_dir, struct submission *s,
                      char *err, size_t errlen);

#endif
