/* lib/opt.h: table-driven command-line options, one parser for every vcons program (after kvmtool's
 * util/parse-options.c). A program declares a table of options, each with its kind, where its value
 * goes, its range, its help text and the default --help shows; opt_parse() reads argv by the table,
 * prints the usage text generated from it for --help, and words every error the same way.
 *
 * Contract:
 * - Options are "--name VALUE", "--name=VALUE", or a unique prefix of a name ("--dur 5"); with a
 *   short name also "-x VALUE" and "-xVALUE". Parsing stops at "--" (skipped) or at the first
 *   argument that is not an option; cmd->argi is then the index of the first positional argument.
 *   A value may start with '-' ("--duration -2" reads "-2" and refuses it for its range); a lone
 *   "-" is a positional argument.
 * - With cmd->interleave, options may also follow positional arguments ("report R.json --out X",
 *   as GNU getopt permits): parsing goes on to the end or to "--", and opt_parse() permutes argv
 *   (the pointers only, never the strings) so that the options and their values come first, then
 *   "--" if it was given, then the positional arguments in the order they came, the ones after
 *   "--" last; cmd->argi is the first of them. Without it argv is not changed.
 * - cmd->max_args (with cmd->args set): the most positional arguments allowed, 0 for any number.
 * - Kinds: a flag sets a bool to true, FLAG_OFF sets it to false (so "--progress" and
 *   "--no-progress" may share one bool, the last given winning); a value given to either is an
 *   error. INT, LLONG and DOUBLE read a number with lib/num.h (the whole text, errno, range
 *   [min, max]; DOUBLE with min_open refuses min itself); SIZE reads lib/size.h's syntax into a
 *   uint64_t within [smin, smax]; STRING stores the argument (argv's own storage); CHOICE stores
 *   the index of the argument in a NULL-terminated list of words; CALL hands the argument to a
 *   function that stores it and returns NULL, or returns why the value is wrong. A value is stored
 *   only when it is valid; a repeated option's last value wins (a CALL may collect every one).
 * - Errors: one line on stderr, "PROG: --name: WHY: VALUE" for a bad value (exit status
 *   cmd->value_status, 2 when 0), and for usage errors (exit status 2) "PROG: unknown option ARG",
 *   "PROG: --name: needs a value", "PROG: --name: takes no value", "PROG: unexpected argument ARG"
 *   (when cmd->args is NULL, or beyond cmd->max_args) or "PROG: no ARGS given" (when cmd->args is
 *   set but none follow), each followed by " (see --help)". opt_usage_error() words a program's
 *   own usage errors (a required option missing) the same way.
 * - --help (always there) prints opt_usage() to stdout: "usage: PROG SYNOPSIS", the about text, one
 *   line per option ("  --name ARG  help (default DEF)", or "(default: DEF)" when DEF has a
 *   blank and does not start with a digit, help lines split at '\n' and aligned), a
 *   line for --help, then the footer.
 * - opt_parse() returns OPT_RUN when the program goes on, else the status main() exits with (0
 *   after --help). It keeps no state between calls and never exits the process. */
#ifndef LIB_OPT_H
#define LIB_OPT_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define OPT_RUN          (-1)
#define OPT_USAGE_STATUS 2

enum opt_kind {
	OPT_KIND_END,
	OPT_KIND_FLAG,
	OPT_KIND_FLAG_OFF,
	OPT_KIND_INT,
	OPT_KIND_LLONG,
	OPT_KIND_DOUBLE,
	OPT_KIND_SIZE,
	OPT_KIND_STRING,
	OPT_KIND_CHOICE,
	OPT_KIND_CALL,
};

/* A CALL option's handler: stores ARG through dst and returns NULL, or returns why ARG is wrong. */
typedef const char *opt_call_fn(const char *arg, void *dst);

struct opt {
	const char *name; /* long name, without "--" */
	char short_name;  /* 0: none */
	enum opt_kind kind;
	void *dst;
	const char *arg;  /* the value's name in --help ("N", "S", "FILE"); NULL: the kind's */
	const char *help; /* may hold '\n' */
	const char *def;  /* the default --help shows, NULL: none shown */
	long long min, max;
	double dmin, dmax;
	bool dmin_open;
	uint64_t smin, smax;
	const char *const *choices;
	opt_call_fn *call;
};

struct opt_cmd {
	const char *prog;     /* every message starts with it */
	const char *synopsis; /* after "usage: PROG " (NULL: "[options]") */
	const char *about;    /* before the options, may be NULL */
	const char *footer;   /* after the options, may be NULL */
	const struct opt *opts;
	const char *args;   /* the positional arguments' name, NULL: none allowed */
	int max_args;       /* the most positional arguments (with args set); 0: any number */
	bool args_optional; /* the positional arguments may be absent (the caller checks) */
	bool interleave;    /* options may follow positional arguments (argv is permuted) */
	int value_status;   /* exit status after a bad value; 0: OPT_USAGE_STATUS */
	int argi;           /* set by opt_parse(): the first positional argument */
};

/* Table entries, type-checked (a pointer of another type is a compile error, "pointer type
 * mismatch"): { OPT_INT("port", &port, 1, 65535), .arg = "N", .help = "..." }. */
#define OPT_PTR_(T, p)     ((void *)(1 ? (p) : (T *)0))
#define OPT_FLAG(n, p)     .name = (n), .kind = OPT_KIND_FLAG, .dst = OPT_PTR_(bool, p)
#define OPT_FLAG_OFF(n, p) .name = (n), .kind = OPT_KIND_FLAG_OFF, .dst = OPT_PTR_(bool, p)
#define OPT_INT(n, p, lo, hi)                                                                      \
	.name = (n), .kind = OPT_KIND_INT, .dst = OPT_PTR_(int, p), .min = (lo), .max = (hi)
#define OPT_LLONG(n, p, lo, hi)                                                                    \
	.name = (n), .kind = OPT_KIND_LLONG, .dst = OPT_PTR_(long long, p), .min = (lo), .max = (hi)
#define OPT_DOUBLE(n, p, lo, hi)                                                                   \
	.name = (n), .kind = OPT_KIND_DOUBLE, .dst = OPT_PTR_(double, p), .dmin = (lo), .dmax = (hi)
#define OPT_SIZE(n, p, lo, hi)                                                                     \
	.name = (n), .kind = OPT_KIND_SIZE, .dst = OPT_PTR_(uint64_t, p), .smin = (lo), .smax = (hi)
#define OPT_STRING(n, p) .name = (n), .kind = OPT_KIND_STRING, .dst = OPT_PTR_(const char *, p)
#define OPT_CHOICE(n, p, list)                                                                     \
	.name = (n), .kind = OPT_KIND_CHOICE, .dst = OPT_PTR_(int, p), .choices = (list)
#define OPT_CALL(n, fn, p) .name = (n), .kind = OPT_KIND_CALL, .dst = (p), .call = (fn)
#define OPT_END                                                                                    \
	{                                                                                          \
		.kind = OPT_KIND_END                                                               \
	}

int opt_parse(struct opt_cmd *cmd, int argc, char **argv);
void opt_usage(const struct opt_cmd *cmd, FILE *f);
/* "PROG: WHAT (see --help)" on stderr, WHAT formatted as printf's; returns OPT_USAGE_STATUS. */
int opt_usage_error(const struct opt_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
