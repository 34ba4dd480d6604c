/* workloads/mail/load_profile.c: the users' passwords, and the user model's parameters of
 * vcons-mail-load: built-in defaults (README "The user model"), overridable by a flat YAML mapping
 * (libyaml) and by --set KEY=VALUE, e.g.
 *     read_pct: 70
 *     move_pct: 20
 *     size_median_bytes: 4096
 *     folders_median: 6
 *     imap_idle_pct: 100
 *     tls_pct: 30 */
#include "workloads/mail/load.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

void profile_defaults(struct mail_profile *p)
{
	*p = (struct mail_profile){
		.recipients_max = 3,
		.size_median_bytes = 4096,
		.size_sigma = 1.0,
		.size_max_bytes = 1048576,
		.multipart_pct = 20,
		.folders_median = 6,
		.folders_sigma = 0.8,
		.folders_max = 40,
		.folder_max_msgs = 200,
		.trash_max_msgs = 50,
		.idle_session_pct = 10,
		.imap_idle_pct = 100,
		.idle_polls = 4,
		.read_pct = 70,
		.attachment_pct = 30,
		.move_pct = 20,
		.trash_pct = 25,
		.delete_pct = 35,
		.search_pct = 25,
		.send_mean = 1,
		.visit_pct = 20,
		.think_weight = 1,
		.idle_poll_weight = 3,
		.session_gap_weight = 4,
		.tls_implicit_pct = 50,
	};
}

enum ftype { F_DOUBLE, F_INT, F_U64 };
static const struct field {
	const char *name;
	size_t off;
	enum ftype type;
	double lo, hi;
} fields[] = {
#define D(n, lo, hi)                                                                               \
	{                                                                                          \
#n, offsetof(struct mail_profile, n), F_DOUBLE, lo, hi                             \
	}
#define I(n, lo, hi)                                                                               \
	{                                                                                          \
#n, offsetof(struct mail_profile, n), F_INT, lo, hi                                \
	}
	I(recipients_max, 1, 100),
	D(size_median_bytes, 16, 64 * 1048576.0),
	D(size_sigma, 0, 5),
	{ "size_max_bytes", offsetof(struct mail_profile, size_max_bytes), F_U64, 16,
	  64 * 1048576.0 },
	D(multipart_pct, 0, 100),
	D(folders_median, 0, 1000),
	D(folders_sigma, 0, 5),
	I(folders_max, 0, 1000),
	I(folder_max_msgs, 1, 100000),
	I(trash_max_msgs, 1, 100000),
	D(idle_session_pct, 0, 100),
	D(imap_idle_pct, 0, 100),
	I(idle_polls, 1, 1000),
	D(read_pct, 0, 100),
	D(attachment_pct, 0, 100),
	D(move_pct, 0, 100),
	D(trash_pct, 0, 100),
	D(delete_pct, 0, 100),
	D(search_pct, 0, 100),
	D(send_mean, 0, 50),
	D(visit_pct, 0, 100),
	D(think_weight, 0, 1e6),
	D(idle_poll_weight, 0, 1e6),
	D(session_gap_weight, 0, 1e6),
	D(tls_pct, 0, 100),
	D(tls_implicit_pct, 0, 100),
#undef D
#undef I
};

int profile_set(struct mail_profile *p, const char *key, const char *val, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const struct field *f = &fields[i];
		if (strcmp(key, f->name))
			continue;
		char *end;
		errno = 0;
		double v = strtod(val, &end);
		if (errno || end == val || *end || !(v >= f->lo && v <= f->hi)) {
			snprintf(err, errlen, "%s must be a number from %.15g to %.15g, not '%s'",
			         key, f->lo, f->hi, val);
			return -1;
		}
		char *dst = (char *)p + f->off;
		if (f->type == F_DOUBLE)
			*(double *)(void *)dst = v;
		else if (f->type == F_INT)
			*(int *)(void *)dst = (int)v;
		else
			*(uint64_t *)(void *)dst = (uint64_t)v;
		return 0;
	}
	snprintf(err, errlen, "unknown profile key '%s'", key);
	return -1;
}

int profile_check(const struct mail_profile *p, char *err, size_t errlen)
{
	if (p->move_pct + p->trash_pct + p->delete_pct > 100) {
		snprintf(err, errlen, "move_pct + trash_pct + delete_pct must be at most 100");
		return -1;
	}
	if (p->size_median_bytes > (double)p->size_max_bytes) {
		snprintf(err, errlen, "size_median_bytes must be at most size_max_bytes");
		return -1;
	}
	if (p->think_weight + p->session_gap_weight <= 0) {
		snprintf(err, errlen, "think_weight + session_gap_weight must be > 0");
		return -1;
	}
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
				char why[192];
				if (profile_set(p, key, s, why, sizeof(why))) {
					snprintf(err, errlen, "%s: %s", file, why);
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
	size_t o = imap_quote(name, dst, cap);
	if (o + 1 < cap) {
		dst[o++] = ' ';
		imap_quote(pass, dst + o, cap - o);
	}
}
