/* harness/main.c: the `vcons` command: subcommands dispatched from a table, each with its own
 * options; `run` lives here (cmd_run), the others in their own files. */
#include "harness/cmd.h"
#include "harness/run.h"
#include "model/score.h"

#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile int interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static const char run_usage[] =
    "usage: vcons run [--platform P] [--csus N|auto] [--rules FILE] [--csu-profile "
    "FILE]\n"
    "                 [--out DIR] [--repeat N] [--keep-work] [--clock-scale F] [--net 127.B]\n"
    "Runs the benchmark: provisions every VM of N CSUs, drives them through the rules' phases,\n"
    "scores from host time and writes OUT/<run-id>/result.json with each VM's log.\n"
    "  --platform P       where the VMs run (the platforms are listed below; default hv)\n"
    "  --csus N|auto      CSUs at once (default 1); auto: raise N until a run fails its checks\n"
    "  --rules FILE       run rules (default runrules/quick.yaml; compliant: "
    "runrules/vcons-1.yaml)\n"
    "  --csu-profile FILE the CSU definition (default csu/small.yaml)\n"
    "  --out DIR          results root (default results/ of the source tree)\n"
    "  --repeat N         run N times; report the median score and the spread\n"
    "  --keep-work        keep the VMs' disks (printed at the end)\n"
    "  --clock-scale F    hv only, an experiment: guests' clocks run F times as fast\n"
    "  --net 127.B        VM addresses 127.B.<csu>.<vm> (default 127.10): runs sharing a host\n"
    "                     need different ones\n"
    "Exit: 0 valid run, 1 failure to run, 2 usage, 3 bad CSU or rules file, 4 invalid run\n"
    "(a VM or load generator died), 5 platform unavailable (hv without /dev/kvm), 130 "
    "interrupted.\n";

/* The directory of the vcons binary (build/) and the source tree above it. */
static void locate(char *build, char *top, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	snprintf(build, len, "%s", n > 0 ? dirname(exe) : ".");
	snprintf(exe, sizeof(exe), "%s", build);
	snprintf(top, len, "%s", dirname(exe));
}

static void print_summary(const struct run *r)
{
	json_t *score = json_object_get(r->result, "score"),
	       *v = json_object_get(r->result, "verdict");
	json_t *csus = json_object_get(score, "csus"), *c, *why;
	size_t i;
	printf("score %.3f (%s, %d CSU%s)\n", json_number_value(json_object_get(score, "run")),
	       r->opts.platform->name, r->opts.csus, r->opts.csus > 1 ? "s" : "");
	json_array_foreach(csus, i, c) printf(
	    "  csu%zu: %.3f, lowest %s %.3f\n", i, json_number_value(json_object_get(c, "score")),
	    json_string_value(json_object_get(c, "lowest_workload")),
	    json_number_value(json_object_get(c, "lowest")));
	printf("%s\n", !json_is_true(json_object_get(v, "valid"))      ? "INVALID run"
	               : json_is_true(json_object_get(v, "compliant")) ? "compliant"
	                                                               : "not compliant:");
	json_array_foreach(json_object_get(v, "reasons"), i, why)
	{
		if (i == 8) {
			printf("  ... and %zu more (see the result)\n",
			       json_array_size(json_object_get(v, "reasons")) - 8);
			break;
		}
		printf("  - %s\n", json_string_value(why));
	}
	printf("result: %s/result.json\n", r->dir);
	if (r->opts.keep_work)
		printf("VM disks kept in %s\n", r->paths.work);
}

/* -1 when the options are good and the run should go on, else the exit status. */
static int parse_run(int argc, char **argv, struct run_opts *o, int *repeat, int *autocsus)
{
	enum {
		O_PLATFORM = 1,
		O_CSUS,
		O_RULES,
		O_PROFILE,
		O_OUT,
		O_REPEAT,
		O_KEEP,
		O_SCALE,
		O_NET,
		O_HELP
	};
	static const struct option opts[] = {
		{ "platform", required_argument, 0, O_PLATFORM },
		{ "csus", required_argument, 0, O_CSUS },
		{ "rules", required_argument, 0, O_RULES },
		{ "csu-profile", required_argument, 0, O_PROFILE },
		{ "out", required_argument, 0, O_OUT },
		{ "repeat", required_argument, 0, O_REPEAT },
		{ "keep-work", no_argument, 0, O_KEEP },
		{ "clock-scale", required_argument, 0, O_SCALE },
		{ "net", required_argument, 0, O_NET },
		{ "help", no_argument, 0, O_HELP },
		{ 0, 0, 0, 0 },
	};
	int c;
	char *end;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_PLATFORM:
			if (!(o->platform = platform__find(optarg)))
				return cmd__usage(
				    "run: --platform: not one of the platforms (vcons run "
				    "--help): ",
				    optarg);
			break;
		case O_CSUS:
			*autocsus = !strcmp(optarg, "auto");
			o->csus = (int)strtol(optarg, &end, 10);
			if (!*autocsus && (*end || o->csus < 1 || o->csus > PLAN_MAX_CSUS))
				return cmd__usage(
				    "run: --csus: not auto or a number from 1 to 16: ", optarg);
			break;
		case O_RULES: o->rules_path = optarg; break;
		case O_PROFILE: o->csu_path = optarg; break;
		case O_OUT: o->out_dir = optarg; break;
		case O_REPEAT:
			*repeat = (int)strtol(optarg, &end, 10);
			if (*end || *repeat < 1 || *repeat > 100)
				return cmd__usage("run: --repeat: not a number from 1 to 100: ",
				                  optarg);
			break;
		case O_KEEP: o->keep_work = 1; break;
		case O_SCALE:
			o->clock_scale = strtod(optarg, &end);
			if (*end || !(o->clock_scale >= 0.01 && o->clock_scale <= 100))
				return cmd__usage(
				    "run: --clock-scale: not a number from 0.01 to 100: ", optarg);
			break;
		case O_NET:
			// NOLINTNEXTLINE(cert-err34-c): 3 digits at most: no overflow
			if (sscanf(optarg, "127.%3d%n", &o->net_b, &c) != 1 || optarg[c] ||
			    o->net_b < 0 || o->net_b > 255)
				return cmd__usage("run: --net: not 127.B with B from 0 to 255: ",
				                  optarg);
			o->net_a = 127;
			break;
		case O_HELP:
			fputs(run_usage, stdout);
			platform__usage(stdout);
			return 0;
		default: return cmd__usage("run: unknown option ", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cmd__usage("run: unexpected argument ", argv[optind]);
	return -1;
}

/* --repeat and --csus auto around single runs. */
static int cmd_run(int argc, char **argv)
{
	static char build[PATH_MAX], top[PATH_MAX], csu[PATH_MAX + 32], rules[PATH_MAX + 32],
	    out[PATH_MAX + 32];
	locate(build, top, sizeof(build));
	snprintf(csu, sizeof(csu), "%s/csu/small.yaml", top);
	snprintf(rules, sizeof(rules), "%s/runrules/quick.yaml", top);
	snprintf(out, sizeof(out), "%s/results", top);
	struct run_opts o = { .platform = platform__default(),
		              .csus = 1,
		              .csu_path = csu,
		              .rules_path = rules,
		              .out_dir = out,
		              .build = build,
		              .clock_scale = 1,
		              .live = isatty(1) && !getenv("CI") };
	int repeat = 1, autocsus = 0;
	int rc = parse_run(argc, argv, &o, &repeat, &autocsus);
	if (rc >= 0)
		return rc;
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	static struct run r;
	double scores[100];
	int best = 0;
	if (autocsus)
		o.csus = 1;
	for (int k = 0; k < repeat && !interrupted; k++) {
		r.interrupt = &interrupted;
		rc = run__once(&o, &r);
		if (!r.result) {
			run__free(&r);
			return rc;
		}
		print_summary(&r);
		scores[k] =
		    json_number_value(json_object_get(json_object_get(r.result, "score"), "run"));
		int passed = json_is_true(
		    json_object_get(json_object_get(r.result, "verdict"), "checks_passed"));
		run__free(&r);
		if (autocsus) {
			if (!passed || rc)
				break;
			best = o.csus;
			if (o.csus == PLAN_MAX_CSUS)
				break;
			o.csus++;
			k--; /* --csus auto repeats until a run fails; --repeat does not apply */
		}
	}
	if (autocsus)
		printf("highest CSU count that passed every check: %d\n", best);
	if (repeat > 1 && !interrupted)
		printf("median score %.3f over %d runs, spread %.1f%%\n",
		       score__median(scores, (size_t)repeat), repeat,
		       100 * score__spread(scores, (size_t)repeat));
	return autocsus && best ? 0 : rc;
}

static int cmd_help(int argc, char **argv);

static const struct cmd commands[] = {
	{ "run", cmd_run, "run the benchmark and write a result" },
	{ "report", cmd__report, "write a self-contained HTML report of a result" },
	{ "compare", cmd__compare, "compare results: scores per workload and CSU, with ratios" },
	{ "keygen", cmd__keygen, "make an Ed25519 key pair for signing submissions" },
	{ "seal", cmd__seal, "pack a result into one signed submission file" },
	{ "verify", cmd__verify, "check a submission: seal, key, schema and its verdict re-run" },
	{ "serve", cmd__serve, "a results repository: HTTP API and web pages over SQLite" },
	{ "submit", cmd__submit, "upload a submission to a results server" },
	{ "help", cmd_help, "this text" },
};

static int cmd_help(int argc, char **argv)
{
	(void)argc, (void)argv;
	printf("usage: vcons COMMAND [OPTIONS]   (vcons COMMAND --help for its options)\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("  %-9s %s\n", commands[i].name, commands[i].what);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help"))
		return argc < 2 ? (cmd_help(0, NULL), 2) : cmd_help(0, NULL);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "vcons: unknown command %s (vcons help lists them)\n", argv[1]);
	return 2;
}

int cmd__usage(const char *msg, const char *arg)
{
	fprintf(stderr, "vcons: %s%s\n", msg, arg);
	return 2;
}
