/* lib/opt.c: the table-driven option parser and its generated usage text (see opt.h). */
#include "lib/opt.h"

#include "lib/num.h"
#include "lib/size.h"

#include <ctype.h>
#include <stdarg.h>
#include <string.h>

#define WHY_LEN 160

static int count_opts(const struct opt *t)
{
	int n = 0;
	while (t[n].kind != OPT_KIND_END)
		n++;
	return n;
}

/* The option NAME (LEN bytes) names: the exact name, else the one name it is a prefix of. NULL when
 * none or several; *ambiguous tells which. */
static const struct opt *find_long(const struct opt *t, const char *name, size_t len,
                                   bool *ambiguous)
{
	const struct opt *hit = NULL;
	int hits = 0;
	*ambiguous = false;
	for (; t->kind != OPT_KIND_END; t++) {
		if (strncmp(t->name, name, len))
			continue;
		if (!t->name[len])
			return t;
		hit = t, hits++;
	}
	*ambiguous = hits > 1;
	return hits == 1 ? hit : NULL;
}

static const struct opt *find_short(const struct opt *t, char c)
{
	for (; t->kind != OPT_KIND_END; t++)
		if (t->short_name && t->short_name == c)
			return t;
	return NULL;
}

static void choice_words(const char *const *list, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = 0;
	for (int i = 0; list[i] && n < len; i++) {
		const char *sep = !i ? "" : list[i + 1] ? ", " : " or ";
		int w = snprintf(buf + n, len - n, "%s%s", sep, list[i]);
		n += w > 0 ? (size_t)w : 0;
	}
}

static void size_range(const struct opt *o, char *why, size_t len)
{
	char lo[32], hi[32];
	size_format(o->smin, lo, sizeof(lo));
	size_format(o->smax, hi, sizeof(hi));
	if (o->smax == UINT64_MAX && o->smin == 0)
		snprintf(why, len, "not a size like 256M or 1G");
	else if (o->smax == UINT64_MAX)
		snprintf(why, len, "not a size of at least %s", lo);
	else
		snprintf(why, len, "not a size from %s to %s", lo, hi);
}

static bool set_size(const struct opt *o, const char *v, char *why, size_t len)
{
	uint64_t s;
	if (size_parse(v, o->smax, &s) == 0 && s >= o->smin) {
		*(uint64_t *)o->dst = s;
		return true;
	}
	size_range(o, why, len);
	return false;
}

static bool set_double(const struct opt *o, const char *v, char *why, size_t len)
{
	double d;
	if (num_double(v, o->dmin, o->dmax, &d) == 0 && !(o->dmin_open && d == o->dmin)) {
		*(double *)o->dst = d;
		return true;
	}
	snprintf(why, len, "not a number %s %g %s %g", o->dmin_open ? "above" : "from", o->dmin,
	         o->dmin_open ? "and at most" : "to", o->dmax);
	return false;
}

static bool set_choice(const struct opt *o, const char *v, char *why, size_t len)
{
	for (int i = 0; o->choices[i]; i++) {
		if (!strcmp(o->choices[i], v)) {
			*(int *)o->dst = i;
			return true;
		}
	}
	char words[WHY_LEN - 8];
	choice_words(o->choices, words, sizeof(words));
	snprintf(why, len, "not %s", words);
	return false;
}

/* Stores V through o->dst when valid; false with the reason in why otherwise. */
static bool set_value(const struct opt *o, const char *v, char *why, size_t len)
{
	long long ll;
	switch (o->kind) {
	case OPT_KIND_INT:
	case OPT_KIND_LLONG:
		if (num_ll(v, o->min, o->max, &ll) < 0) {
			snprintf(why, len, "not an integer from %lld to %lld", o->min, o->max);
			return false;
		}
		if (o->kind == OPT_KIND_INT)
			*(int *)o->dst = (int)ll;
		else
			*(long long *)o->dst = ll;
		return true;
	case OPT_KIND_DOUBLE: return set_double(o, v, why, len);
	case OPT_KIND_SIZE: return set_size(o, v, why, len);
	case OPT_KIND_CHOICE: return set_choice(o, v, why, len);
	case OPT_KIND_CALL: {
		const char *e = o->call(v, o->dst);
		if (e)
			snprintf(why, len, "%s", e);
		return !e;
	}
	case OPT_KIND_STRING: *(const char **)o->dst = v; return true;
	default: *(bool *)o->dst = o->kind == OPT_KIND_FLAG; return true;
	}
}

static bool is_flag(const struct opt *o)
{
	return o->kind == OPT_KIND_FLAG || o->kind == OPT_KIND_FLAG_OFF;
}

static int usage_error(const struct opt_cmd *cmd, const char *what, const char *arg)
{
	fprintf(stderr, "%s: %s%s (see --help)\n", cmd->prog, what, arg);
	return OPT_USAGE_STATUS;
}

int opt_usage_error(const struct opt_cmd *cmd, const char *fmt, ...)
{
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return usage_error(cmd, what, "");
}

static int option_error(const struct opt_cmd *cmd, const struct opt *o, const char *what)
{
	fprintf(stderr, "%s: --%s: %s (see --help)\n", cmd->prog, o->name, what);
	return OPT_USAGE_STATUS;
}

static int value_error(const struct opt_cmd *cmd, const struct opt *o, const char *why,
                       const char *v)
{
	fprintf(stderr, "%s: --%s: %s: %s\n", cmd->prog, o->name, why, v);
	return cmd->value_status ? cmd->value_status : OPT_USAGE_STATUS;
}

/* Option O found at argv[*i]: its value from "=V" or the rest of a short option's word
 * (inline_v), or the next argument. OPT_RUN, or an exit status after the message. */
static int one_option(const struct opt_cmd *cmd, const struct opt *o, const char *inline_v,
                      int argc, char **argv, int *i)
{
	const char *v = inline_v;
	if (is_flag(o) && v)
		return option_error(cmd, o, "takes no value");
	if (!is_flag(o) && !v) {
		if (*i + 1 >= argc)
			return option_error(cmd, o, "needs a value");
		v = argv[++*i];
	}
	char why[WHY_LEN];
	if (!set_value(o, v, why, sizeof(why)))
		return value_error(cmd, o, why, v);
	return OPT_RUN;
}

static int long_option(struct opt_cmd *cmd, int argc, char **argv, int *i)
{
	const char *name = argv[*i] + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	bool ambiguous;
	const struct opt *o = find_long(cmd->opts, name, len, &ambiguous);
	if (!strcmp(name, "help") ||
	    (!o && !ambiguous && len && !eq && !strncmp(name, "help", len))) {
		opt_usage(cmd, stdout);
		return 0;
	}
	if (!o) {
		return usage_error(cmd, ambiguous ? "ambiguous option " : "unknown option ",
		                   argv[*i]);
	}
	return one_option(cmd, o, eq ? eq + 1 : NULL, argc, argv, i);
}

static int short_option(struct opt_cmd *cmd, int argc, char **argv, int *i)
{
	const char *w = argv[*i];
	const struct opt *o = find_short(cmd->opts, w[1]);
	if (!o)
		return usage_error(cmd, "unknown option ", w);
	if (is_flag(o) && w[2])
		return usage_error(cmd, "unknown option ", w);
	return one_option(cmd, o, w[2] ? w + 2 : NULL, argc, argv, i);
}

static int positionals(struct opt_cmd *cmd, int argc, char **argv, int i)
{
	cmd->argi = i;
	if (!cmd->args && i < argc)
		return usage_error(cmd, "unexpected argument ", argv[i]);
	if (cmd->args && cmd->max_args > 0 && argc - i > cmd->max_args)
		return usage_error(cmd, "unexpected argument ", argv[i + cmd->max_args]);
	if (cmd->args && i >= argc && !cmd->args_optional) {
		char what[128];
		snprintf(what, sizeof(what), "no %s given", cmd->args);
		return usage_error(cmd, what, "");
	}
	return OPT_RUN;
}

/* Interleaving: argv[*first..from-1] are the positional arguments met so far; moves the words
 * argv[from..to] (an option with its value, or "--") in front of them, both keeping their order. */
static void move_before(char **argv, int *first, int from, int to)
{
	for (int k = from; k <= to; k++, ++*first) {
		char *w = argv[k];
		memmove(&argv[*first + 1], &argv[*first], (size_t)(k - *first) * sizeof(*argv));
		argv[*first] = w;
	}
}

int opt_parse(struct opt_cmd *cmd, int argc, char **argv)
{
	int i = 1, first = 1; /* with interleave, argv[first..i-1] are positional arguments */
	for (; i < argc; i++) {
		const char *w = argv[i];
		if (!strcmp(w, "--")) {
			if (cmd->interleave)
				move_before(argv, &first, i, i);
			i++;
			break;
		}
		if (w[0] != '-' || !w[1]) {
			if (cmd->interleave)
				continue;
			break;
		}
		int at = i;
		int rc = w[1] == '-' ? long_option(cmd, argc, argv, &i)
		                     : short_option(cmd, argc, argv, &i);
		if (rc != OPT_RUN)
			return rc;
		if (cmd->interleave)
			move_before(argv, &first, at, i);
	}
	return positionals(cmd, argc, argv, cmd->interleave ? first : i);
}

/* ---- usage ---------------------------------------------------------------------------------- */

static const char *arg_name(const struct opt *o)
{
	static const char *const names[] = {
		[OPT_KIND_INT] = "N",      [OPT_KIND_LLONG] = "N",      [OPT_KIND_DOUBLE] = "X",
		[OPT_KIND_SIZE] = "SIZE",  [OPT_KIND_STRING] = "VALUE", [OPT_KIND_CHOICE] = "WORD",
		[OPT_KIND_CALL] = "VALUE",
	};
	return is_flag(o) ? NULL : o->arg ? o->arg : names[o->kind];
}

/* "  -x, --name ARG" into buf; its length. */
static int left_column(const struct opt *o, char *buf, size_t len)
{
	char shortname[8] = "";
	if (o->short_name)
		snprintf(shortname, sizeof(shortname), "-%c, ", o->short_name);
	const char *a = arg_name(o);
	int n = snprintf(buf, len, "  %s--%s%s%s", shortname, o->name, a ? " " : "", a ? a : "");
	return n < 0 ? 0 : n;
}

#define HELP_COLUMN 23 /* as the hand-written usage texts had it */

static void print_help_lines(FILE *f, const char *help, const char *def)
{
	const char *p = help ? help : "";
	for (bool first = true;; first = false) {
		size_t n = strcspn(p, "\n");
		if (!first)
			fprintf(f, "%*s", HELP_COLUMN, "");
		fprintf(f, "%.*s", (int)n, p);
		if (!p[n])
			break;
		fputc('\n', f);
		p += n + 1;
	}
	if (def) /* "(default 256M)", "(default 0 = until stopped)", "(default: the host's)" */
		fprintf(f, " (default%s %s)",
		        strchr(def, ' ') && !isdigit((unsigned char)*def) ? ":" : "", def);
	fputc('\n', f);
}

static void print_option(FILE *f, const struct opt *o)
{
	char left[128];
	int n = left_column(o, left, sizeof(left));
	fputs(left, f);
	if (n + 2 > HELP_COLUMN)
		fprintf(f, "\n%*s", HELP_COLUMN, "");
	else
		fprintf(f, "%*s", HELP_COLUMN - n, "");
	print_help_lines(f, o->help, o->def);
}

void opt_usage(const struct opt_cmd *cmd, FILE *f)
{
	fprintf(f, "usage: %s %s\n", cmd->prog, cmd->synopsis ? cmd->synopsis : "[options]");
	if (cmd->about)
		fputs(cmd->about, f);
	int n = count_opts(cmd->opts);
	for (int i = 0; i < n; i++)
		print_option(f, &cmd->opts[i]);
	const struct opt help = { .name = "help", .kind = OPT_KIND_FLAG, .help = "this text" };
	print_option(f, &help);
	if (cmd->footer)
		fputs(cmd->footer, f);
}
