/* lib/json.c: jansson getters with defaults (see json.h). */
#include "lib/json.h"

static json_t *member(const json_t *o, const char *key)
{
	return json_is_object(o) ? json_object_get(o, key) : NULL;
}

double jget_num(const json_t *o, const char *key, double def)
{
	json_t *v = member(o, key);
	return json_is_number(v) ? json_number_value(v) : def;
}

json_int_t jget_int(const json_t *o, const char *key, json_int_t def)
{
	json_t *v = member(o, key);
	if (json_is_integer(v))
		return json_integer_value(v);
	if (!json_is_real(v))
		return def;
	double d = json_real_value(v);
	/* 2^63 as a double: the first value above json_int_t's range (NaN fails both tests) */
	if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
		return def;
	return (double)(json_int_t)d == d ? (json_int_t)d : def;
}

const char *jget_str(const json_t *o, const char *key, const char *def)
{
	const char *s = json_string_value(member(o, key));
	return s ? s : def;
}
