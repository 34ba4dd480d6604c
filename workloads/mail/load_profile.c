/* workloads/mail/load_profile.c: the users' passwords, and the per-user operation mix and message
 * sizes of vcons-mail-load: a
 * built-in default, overridable by a flat YAML mapping (libyaml), e.g.
 *     send_weight: 1
 *     check_weight: 1
 *     delete_pct: 90
 *     recipients_max: 3
 *     size_median_bytes: 4096
 *     size_sigma: 1.0
 *     size_max_bytes: 1048576
 *     tls_pct: 0
 *     tls_implicit_pct: 50 */
#include "workloads/mail/load.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

void profile_defaults(struct mail_profile *p)
{
	/* SPECmail-like: messages of a few KB with a long tail, most to one recipient, users poll
	 * as often as they send and delete most of what they read */
	*p = (struct mail_profile){ .send_weight = 1,
		                    .check_weight = 1,
		                    .delete_pct = 90,
		                    .recipients_max = 3,
		                    .size_median_bytes = 4096,
		                    .size_sigma = 1.0,
		                    .size_max_bytes = 1048576,
		                    .tls_implicit_pct = 50 };
}

static int set_field(struct mail_profile *p, const char *key, const char *val)
{
	char *end;
	errno = 0;
	double v = strtod(val, &end);
	if (errno || end == val || *end || v < 0)
		return -1;
	if (!strcmp(key, "send_weight"))
		p->send_weight = v;
	else if (!strcmp(key, "check_weight"))
		p->check_weight = v;
	else if (!strcmp(key, "delete_pct") && v <= 100)
		p->delete_pct = v;
	else if (!strcmp(key, "recipients_max") && v >= 1 && v <= 100)
		p->recipients_max = (int)v;
	else if (!strcmp(key, "size_median_bytes") && v >= 16)
		p->size_median_bytes = v;
	else if (!strcmp(key, "size_sigma") && v <= 5)
		p->size_sigma = v;
	else if (!strcmp(key, "size_max_bytes") && v >= 16 && v <= 64 * 1048576.0)
		p->size_max_bytes = (uint64_t)v;
	else if (!strcmp(key, "tls_pct") && v <= 100)
		p->tls_pct = v;
	else if (!strcmp(key, "tls_implicit_pct") && v <= 100)
		p->tls_implicit_pct = v;
	else
		return -1;
	return 0;
}

int profile_load(struct mail_profile *p, const char *file, char *err, size_t errlen)
{
	FILE *f = fopen(file, "r");
	if (!f) {
		snprintf(err, errlen, "cannot open profile %s: %s", file, strerror(errno));
		return -1;
	}
	yaml_parser_t y;
	yaml_parser_initialize(&y);
	yaml_parser_set_input_file(&y, f);
	char key[64] = "";
	int depth = 0, rc = 0;
	bool have_key = false, done = false;
	while (!done && rc == 0) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&y, &ev)) {
			snprintf(err, errlen, "%s: YAML error at line %zu: %s", file,
			         y.problem_mark.line + 1, y.problem ? y.problem : "?");
			rc = -1;
			break;
		}
		switch (ev.type) {
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			if (++depth > 1) {
				snprintf(err, errlen,
				         "%s: the profile is a flat mapping of numbers", file);
				rc = -1;
			}
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT: depth--; break;
		case YAML_SCALAR_EVENT: {
			const char *s = (const char *)ev.data.scalar.value;
			if (!have_key) {
				snprintf(key, sizeof(key), "%s", s);
				have_key = true;
			} else {
				if (set_field(p, key, s)) {
					snprintf(err, errlen, "%s: bad key or value '%s: %s'", file,
					         key, s);
					rc = -1;
				}
				have_key = false;
			}
			break;
		}
		case YAML_STREAM_END_EVENT: done = true; break;
		default: break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&y);
	(void)fclose(f);
	if (rc == 0 && p->send_weight + p->check_weight <= 0) {
		snprintf(err, errlen, "%s: send_weight + check_weight must be > 0", file);
		rc = -1;
	}
	return rc;
}

struct passwords {
	size_t n;
	struct {
		int user;
		char pass[64];
	} * e;
};

struct passwords *passwords_load(const char *file, char *err, size_t errlen)
{
	struct passwords *pw = calloc(1, sizeof(*pw));
	if (!pw || !file)
		return pw;
	FILE *f = fopen(file, "r");
	if (!f) {
		snprintf(err, errlen, "cannot open password file %s: %s", file, strerror(errno));
		free(pw);
		return NULL;
	}
	char line[256];
	size_t cap = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = 0;
		int user, off = 0;
		// NOLINTNEXTLINE(cert-err34-c): 9 digits at most: no overflow
		if (line[0] == '#' || sscanf(line, "user%9d:%n", &user, &off) != 1 || off == 0)
			continue;
		if (pw->n == cap) {
			cap = cap ? cap * 2 : 64;
			void *ne = realloc(pw->e, cap * sizeof(*pw->e));
			if (!ne)
				break;
			pw->e = ne;
		}
		pw->e[pw->n].user = user;
		snprintf(pw->e[pw->n].pass, sizeof(pw->e[0].pass), "%s", line + off);
		pw->n++;
	}
	(void)fclose(f);
	return pw;
}

void passwords_free(struct passwords *pw)
{
	if (pw)
		free(pw->e);
	free(pw);
}

/* IMAP quoted string of s (\\ and \" escaped). */
static size_t quote(const char *s, char *dst, size_t cap)
{
	size_t o = 0;
	if (cap < 3)
		return 0;
	dst[o++] = '"';
	for (; *s && o + 3 < cap; s++) {
		if (*s == '"' || *s == '\\')
			dst[o++] = '\\';
		dst[o++] = *s;
	}
	dst[o++] = '"';
	dst[o] = 0;
	return o;
}

const char *pw_pass(const struct passwords *pw, int user, char name[32])
{
	snprintf(name, 32, "user%d", user);
	const char *pass = name;
	for (size_t i = 0; pw && i < pw->n; i++)
		if (pw->e[i].user == user)
			pass = pw->e[i].pass; /* the last line for a user wins, as in vcons-mail */
	return pass;
}

void pw_login(const struct passwords *pw, int user, char *dst, size_t cap)
{
	char name[32];
	const char *pass = pw_pass(pw, user, name);
	size_t o = quote(name, dst, cap);
	if (o + 1 < cap) {
		dst[o++] = ' ';
		quote(pass, dst + o, cap - o);
	}
}
