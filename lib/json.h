/* lib/json.h: reading fields of jansson objects with defaults, so that a missing or mistyped field
 * is one expression, not four lines, wherever JSON is read (results, reports, responses).
 *
 * Contract: O may be NULL or any JSON value; KEY names a member of an object. jget_num() returns
 * the member's value when it is a number (integer or real), else def. jget_int() returns it when it
 * is an integer, or a real with no fractional part inside the range of json_int_t, else def.
 * jget_str() returns the member's string (owned by O: valid while O is) when it is a string, else
 * def. None of them prints or allocates. */
#ifndef LIB_JSON_H
#define LIB_JSON_H
#include <jansson.h>

double jget_num(const json_t *o, const char *key, double def);
json_int_t jget_int(const json_t *o, const char *key, json_int_t def);
const char *jget_str(const json_t *o, const char *key, const char *def);

#endif
