/* harness/main.c: the `vcons` command: subcommands dispatched from a table, each with its own
 * options; `run` lives here (cmd_run), the others in their own files. */
#include "harness/cmd.h"
#include "harness/run.h"
#include "lib/json.h"
#include "lib/num.h"
#include "lib/opt.h"
#include "model/score.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile int interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

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
	printf("score %.3f (%s, %d CSU%s)\n", jget_num(score, "run", 0), r->opts.platform->name,
	       r->opts.csus, r->opts.csus > 1 ? "s" : "");
	json_array_foreach(csus, i, c)
	{
		json_t *in = json_object_get(c, "infrastructure");
		printf("  csu%zu: %.3f, lowest %s %.3f\n", i, jget_num(c, "score", 0),
		       jget_str(c, "lowest_workload", NULL), jget_num(c, "lowest", 0));
		if (in)
			printf("    workloads %.3f, infrastructure %.3f (%d of %d moves within the "
			       "downtime limit, weight %g)\n",
			       jget_num(c, "workloads", 0), jget_num(in, "normalized", 0),
			       (int)jget_int(in, "within_limit", 0), (int)jget_int(in, "moves", 0),
			       jget_num(in, "weight", 0));
	}
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

/* What `vcons run` was asked: the options of one run, how many runs, --csus auto. */
struct run_args {
	struct run_opts o;
	int repeat;
	bool autocsus;
};

/* The OPT_CALL handlers of --platform, --csus and --net; dst is the struct run_args. */
static const char *set_platform(const char *arg, void *dst)
{
	const struct platform *p = platform__find(arg);
	if (!p)
		return "not one of the platforms listed by --help";
	((struct run_args *)dst)->o.platform = p;
	return NULL;
}

_Static_assert(PLAN_MAX_CSUS == 16, "--csus's message names the largest count");

static const char *set_csus(const char *arg, void *dst)
{
	struct run_args *a = dst;
	if (!strcmp(arg, "auto"))
		a->autocsus = true;
	else if (num_int(arg, 1, PLAN_MAX_CSUS, &a->o.csus) == 0)
		a->autocsus = false;
	else
		return "not auto or a number from 1 to 16";
	return NULL;
}

static const char *set_net(const char *arg, void *dst)
{
	struct run_args *a = dst;
	int b, n = 0;
	// NOLINTNEXTLINE(cert-err34-c): 3 digits at most: no overflow
	if (sscanf(arg, "127.%3d%n", &b, &n) != 1 || arg[n] || b < 0 || b > 255)
		return "not 127.B with B from 0 to 255";
	a->o.net_a = 127, a->o.net_b = b;
	return NULL;
}

/* --save-snapshots and --from-snapshots: only where VMs can move (hv), not both, made absolute
 * (the VMMs run in their VMs' directories). OPT_RUN, or 2 after one line. */
static int snapshot_dirs(struct run_args *a)
{
	static char save[PATH_MAX], from[PATH_MAX];
	const char *opt = a->o.save_snapshots ? "--save-snapshots" : "--from-snapshots";
	const char *dir = a->o.save_snapshots ? a->o.save_snapshots : a->o.from_snapshots;
	char *abs = a->o.save_snapshots ? save : from;
	if (!dir)
		return OPT_RUN;
	if (a->o.save_snapshots && a->o.from_snapshots) {
		fprintf(stderr, "vcons run: --save-snapshots and --from-snapshots: one at a time "
		                "(see --help)\n");
		return 2;
	}
	if (!a->o.platform->move_cmd) {
		fprintf(stderr, "vcons run: %s: --platform %s cannot snapshot VMs (hv can)\n", opt,
		        a->o.platform->name);
		return 2;
	}
	if (a->o.save_snapshots && mkdir(dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "vcons run: %s: %s: %s\n", opt, dir, strerror(errno));
		return 2;
	}
	if (!realpath(dir, abs)) {
		fprintf(stderr, "vcons run: %s: %s: %s\n", opt, dir, strerror(errno));
		return 2;
	}
	*(a->o.save_snapshots ? &a->o.save_snapshots : &a->o.from_snapshots) = abs;
	return OPT_RUN;
}

/* OPT_RUN when the options are good and the run should go on, else the exit status. */
static int parse_run(int argc, char **argv, struct run_args *a)
{
	bool keep_work = false;
	const struct opt opts[] = {
		{ OPT_CALL("platform", set_platform, a), .arg = "P",
		  .help = "where the VMs run (the platforms are listed below)", .def = "hv" },
		{ OPT_CALL("csus", set_csus, a), .arg = "N|auto",
		  .help = "CSUs at once; auto: raise N until a run fails its checks", .def = "1" },
		{ OPT_STRING("rules", &a->o.rules_path), .arg = "FILE",
		  .help = "run rules (the compliant ones:\nrunrules/vcons-1.yaml)",
		  .def = "runrules/quick.yaml" },
		{ OPT_STRING("csu-profile", &a->o.csu_path), .arg = "FILE",
		  .help = "the CSU definition", .def = "csu/small.yaml" },
		{ OPT_STRING("out", &a->o.out_dir), .arg = "DIR", .help = "results root",
		  .def = "results/ of the source tree" },
		{ OPT_INT("repeat", &a->repeat, 1, 100),
		  .help = "run N times; report the median score and the spread" },
		{ OPT_FLAG("keep-work", &keep_work),
		  .help = "keep the VMs' disks (printed at the end)" },
		{ OPT_DOUBLE("clock-scale", &a->o.clock_scale, 0.01, 100), .arg = "F",
		  .help = "hv only, an experiment: guests' clocks run F times as fast" },
		{ OPT_CALL("net", set_net, a), .arg = "127.B",
		  .help = "VM addresses 127.B.<csu>.<vm>: runs sharing a host\nneed different ones",
		  .def = "127.10" },
		{ OPT_STRING("save-snapshots", &a->o.save_snapshots), .arg = "DIR",
		  .help = "hv: at the end of warm-up, snapshot every VM (and\ncopy its disk) into "
		          "DIR, for --from-snapshots" },
		{ OPT_STRING("from-snapshots", &a->o.from_snapshots), .arg = "DIR",
		  .help = "hv: start every VM from DIR/<vm>.snap with its disk\nDIR/<vm>/ instead "
		          "of provisioning and starting it" },
		OPT_END,
	};
	char footer[2048] = "";
	FILE *f = fmemopen(footer, sizeof(footer), "w");
	if (f) {
		fputs("Exit: 0 valid run, 1 failure to run, 2 usage, 3 bad CSU or rules file, 4 "
		      "invalid run\n(a VM or load generator died), 5 platform unavailable (hv "
		      "without /dev/kvm), 130 interrupted.\n",
		      f);
		platform__usage(f);
		if (fclose(f) != 0) /* a footer longer than the buffer: cut short, still a string */
			footer[sizeof(footer) - 1] = '\0';
	}
	struct opt_cmd cmd = {
		.prog = "vcons run",
		.synopsis =
		    "[--platform P] [--csus N|auto] [--rules FILE] [--csu-profile FILE]\n"
		    "                 [--out DIR] [--repeat N] [--keep-work] [--clock-scale F] "
		    "[--net 127.B]",
		.about =
		    "Runs the benchmark: provisions every VM of N CSUs, drives them through the "
		    "rules' phases,\nscores from host time and writes OUT/<run-id>/result.json "
		    "with each VM's log.\n",
		.footer = footer,
		.opts = opts,
	};
	int rc = opt_parse(&cmd, argc, argv);
	a->o.keep_work = keep_work;
	return rc == OPT_RUN ? snapshot_dirs(a) : rc;
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
	struct run_args a = { .o = { .platform = platform__default(),
		                     .csus = 1,
		                     .csu_path = csu,
		                     .rules_path = rules,
		                     .out_dir = out,
		                     .build = build,
		                     .clock_scale = 1,
		                     .live = isatty(1) && !getenv("CI") },
		              .repeat = 1 };
	int rc = parse_run(argc, argv, &a);
	if (rc != OPT_RUN)
		return rc;
	struct run_opts o = a.o;
	int repeat = a.repeat, autocsus = a.autocsus;
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
		scores[k] = jget_num(json_object_get(r.result, "score"), "run", 0);
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
	{ "help", cmd_help, "this text, or a command's options (vcons help COMMAND)" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct cmd *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

static int unknown_command(const char *name)
{
	fprintf(stderr, "vcons: unknown command %s (vcons help lists them)\n", name);
	return 2;
}

/* `vcons help`: the commands; `vcons help COMMAND`: that command's --help. */
static int cmd_help(int argc, char **argv)
{
	const struct cmd *c = argc > 1 ? find_command(argv[1]) : NULL;
	if (argc > 1 && !c)
		return unknown_command(argv[1]);
	if (c && c->fn != cmd_help) {
		char *help[] = { argv[1], "--help", NULL };
		return c->fn(2, help);
	}
	printf("usage: vcons COMMAND [OPTIONS]   (vcons help COMMAND, or vcons COMMAND --help, "
	       "for its options)\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		printf("  %-9s %s\n", commands[i].name, commands[i].what);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help"))
		return argc < 2 ? (cmd_help(1, argv), 2) : cmd_help(1, argv);
	const struct cmd *c = find_command(argv[1]);
	return c ? c->fn(argc - 1, argv + 1) : unknown_command(argv[1]);
}
