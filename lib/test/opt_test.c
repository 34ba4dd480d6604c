/* Unit tests for lib/opt.c: every kind stores a valid value and refuses a bad one with the one
 * message form and exit status; prefixes, "=", short names, "--", positionals, options after
 * positionals (interleave: argv's order afterwards, the errors, max_args); --help's text. And for
 * lib/vmopt.c, the launchers' shared options on opt.c: joined with a launcher's own table, its
 * limits and wording, its --help. */
#include "tools/unit.h"
#include "lib/opt.h"
#include "lib/vmopt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What a parse printed on stderr (or stdout): fd 2 (1) goes to a file while it runs. */
static char captured[4096];

struct capture {
	int fd, tmp, saved;
};

static struct capture capture_start(int fd)
{
	char path[] = "/tmp/vclib-opt-XXXXXX";
	struct capture c = { .fd = fd, .tmp = mkstemp(path) };
	assert_true(c.tmp >= 0);
	unlink(path);
	assert_int_equal(fflush(fd == 1 ? stdout : stderr), 0);
	c.saved = dup(fd);
	dup2(c.tmp, fd);
	return c;
}

static void capture_end(struct capture c)
{
	assert_int_equal(fflush(c.fd == 1 ? stdout : stderr), 0);
	dup2(c.saved, c.fd);
	close(c.saved);
	ssize_t n = pread(c.tmp, captured, sizeof(captured) - 1, 0);
	captured[n > 0 ? n : 0] = 0;
	close(c.tmp);
}

static int run_captured(int fd, struct opt_cmd *cmd, int argc, char **argv)
{
	struct capture c = capture_start(fd);
	int rc = opt_parse(cmd, argc, argv);
	capture_end(c);
	return rc;
}

struct vals {
	bool flag;
	int n, choice;
	long long big;
	double x, pos;
	uint64_t size;
	const char *s;
	int calls;
};

static const char *const words[] = { "on", "off", "force", NULL };

static const char *even(const char *arg, void *dst)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < -1000000 || v > 1000000)
		return "not a number";
	if (v % 2)
		return "not even";
	((struct vals *)dst)->calls += (int)v;
	return NULL;
}

static struct vals v;
static const struct opt table[] = {
	{ OPT_FLAG("trace", &v.flag), .short_name = 't', .help = "print each call" },
	{ OPT_FLAG_OFF("no-trace", &v.flag), .help = "do not" },
	{ OPT_INT("count", &v.n, 1, 100), .short_name = 'n', .help = "how many", .def = "5" },
	{ OPT_LLONG("seed", &v.big, 0, 1000000000000000LL), .help = "random seed" },
	{ OPT_DOUBLE("scale", &v.x, 0.01, 100), .arg = "F", .help = "a factor\nover two lines" },
	{ OPT_DOUBLE("rate", &v.pos, 0, 1e6), .dmin_open = true, .help = "per second" },
	{ OPT_SIZE("mem", &v.size, 16 << 20, 1ull << 40), .help = "memory", .def = "256M" },
	{ OPT_STRING("name", &v.s), .arg = "NAME", .help = "the name" },
	{ OPT_CHOICE("time-page", &v.choice, words), .help = "the time page" },
	{ OPT_CALL("even", even, &v), .arg = "N", .help = "an even number, added up" },
	{ OPT_STRING("name-suffix", &v.s), .help = "shares a prefix with --name" },
	{ OPT_STRING("a-long-option-name", &v.s), .help = "help on the next line" },
	OPT_END,
};

static struct opt_cmd cmd(const char *args)
{
	memset(&v, 0, sizeof(v));
	return (struct opt_cmd){ .prog = "prog", .opts = table, .args = args };
}

#define ARGV(...)                                                                                  \
	(char *[])                                                                                 \
	{                                                                                          \
		"prog", __VA_ARGS__, NULL                                                          \
	}
#define ARGC(...)     ((int)(sizeof((char *[]){ "prog", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(c, ...) run_captured(2, &(c), ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

static void every_kind_stores(void **state)
{
	struct opt_cmd c = cmd(NULL);
	assert_int_equal(PARSE(c, "--trace", "--count", "7", "--seed=123456789012", "--scale",
	                       "0.5", "--rate", "1e-3", "--mem", "1G", "--name", "vm1",
	                       "--time-page", "force", "--even", "4", "--even", "6"),
	                 OPT_RUN);
	assert_true(v.flag);
	assert_int_equal(v.n, 7);
	assert_true(v.big == 123456789012LL);
	assert_true(v.x == 0.5 && v.pos == 1e-3);
	assert_true(v.size == 1ull << 30);
	assert_string_equal(v.s, "vm1");
	assert_int_equal(v.choice, 2);
	assert_int_equal(v.calls, 10);
	assert_int_equal(c.argi, 19);
	assert_string_equal(captured, "");
}

static void short_names_and_prefixes(void **state)
{
	struct opt_cmd c = cmd(NULL);
	assert_int_equal(PARSE(c, "-t", "-n3", "--cou", "4", "--sc=2"), OPT_RUN);
	assert_true(v.flag);
	assert_int_equal(v.n, 4);
	assert_true(v.x == 2);
	c = cmd(NULL);
	assert_int_equal(PARSE(c, "-n", "9", "--name", "x"), OPT_RUN); /* exact beats prefix */
	assert_int_equal(v.n, 9);
	assert_string_equal(v.s, "x");
	c = cmd(NULL);
	assert_int_equal(PARSE(c, "--na", "x"), 2);
	assert_string_equal(captured, "prog: ambiguous option --na (see --help)\n");
}

static void expect_error(const char *msg, int status, struct opt_cmd *c, int argc, char **argv)
{
	assert_int_equal(run_captured(2, c, argc, argv), status);
	assert_string_equal(captured, msg);
}

static void bad_values(void **state)
{
	struct opt_cmd c = cmd(NULL);
	expect_error("prog: --count: not an integer from 1 to 100: 0\n", 2, &c, 3,
	             ARGV("--count", "0"));
	expect_error("prog: --count: not an integer from 1 to 100: 1.5\n", 2, &c, 3,
	             ARGV("--count", "1.5"));
	expect_error("prog: --count: not an integer from 1 to 100: -2\n", 2, &c, 3,
	             ARGV("--count", "-2"));
	expect_error("prog: --count: not an integer from 1 to 100: \n", 2, &c, 2, ARGV("--count="));
	expect_error("prog: --seed: not an integer from 0 to 1000000000000000: "
	             "99999999999999999999\n",
	             2, &c, 3, ARGV("--seed", "99999999999999999999"));
	expect_error("prog: --scale: not a number from 0.01 to 100: x\n", 2, &c, 3,
	             ARGV("--scale", "x"));
	expect_error("prog: --scale: not a number from 0.01 to 100: nan\n", 2, &c, 3,
	             ARGV("--scale", "nan"));
	expect_error("prog: --rate: not a number above 0 and at most 1e+06: 0\n", 2, &c, 3,
	             ARGV("--rate", "0"));
	expect_error("prog: --mem: not a size from 16M to 1024G: 8M\n", 2, &c, 3,
	             ARGV("--mem", "8M"));
	expect_error("prog: --time-page: not on, off or force: sometimes\n", 2, &c, 3,
	             ARGV("--time-page", "sometimes"));
	expect_error("prog: --even: not even: 3\n", 2, &c, 3, ARGV("--even", "3"));
	assert_int_equal(v.n, 0); /* nothing stored by a refused value */
	c.value_status = 78;
	expect_error("prog: --count: not an integer from 1 to 100: 101\n", 78, &c, 3,
	             ARGV("--count", "101"));
}

static void usage_errors(void **state)
{
	struct opt_cmd c = cmd(NULL);
	expect_error("prog: unknown option --bogus (see --help)\n", 2, &c, 2, ARGV("--bogus"));
	expect_error("prog: unknown option -x (see --help)\n", 2, &c, 2, ARGV("-x"));
	expect_error("prog: --count: needs a value (see --help)\n", 2, &c, 2, ARGV("--count"));
	expect_error("prog: --trace: takes no value (see --help)\n", 2, &c, 2, ARGV("--trace=1"));
	expect_error("prog: unexpected argument extra (see --help)\n", 2, &c, 2, ARGV("extra"));
	c = cmd("PROGRAM");
	expect_error("prog: no PROGRAM given (see --help)\n", 2, &c, 2, ARGV("--trace"));
}

static void positionals(void **state)
{
	struct opt_cmd c = cmd("PROGRAM");
	assert_int_equal(PARSE(c, "--trace", "--", "--count", "x"), OPT_RUN);
	assert_int_equal(c.argi, 3);
	assert_int_equal(v.n, 0);
	c = cmd("PROGRAM");
	assert_int_equal(PARSE(c, "-n", "2", "/bin/true", "--count", "3"), OPT_RUN);
	assert_int_equal(c.argi, 3);
	assert_int_equal(v.n, 2);
	c = cmd(NULL);
	assert_int_equal(PARSE(c, "--"), OPT_RUN);
}

static void flag_off(void **state)
{
	struct opt_cmd c = cmd(NULL);
	assert_int_equal(PARSE(c, "--trace", "--no-trace"), OPT_RUN);
	assert_false(v.flag);
	c = cmd(NULL);
	assert_int_equal(PARSE(c, "--no-trace", "-t"), OPT_RUN); /* the last one wins */
	assert_true(v.flag);
	expect_error("prog: --no-trace: takes no value (see --help)\n", 2, &c, 2,
	             ARGV("--no-trace=1"));
}

/* argv after a parse, its words joined by blanks. */
static const char *joined(int argc, char **argv)
{
	static char buf[256];
	buf[0] = 0;
	for (int i = 1; i < argc; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i > 1 ? " " : "",
		         argv[i]);
	return buf;
}

static void interleaved(void **state)
{
	struct opt_cmd c = cmd("FILE");
	c.interleave = true;
	char **a = ARGV("r.json", "--count", "3", "s.json", "-t", "-", "--mem=1G");
	assert_int_equal(run_captured(2, &c, 8, a), OPT_RUN);
	assert_string_equal(joined(8, a), "--count 3 -t --mem=1G r.json s.json -");
	assert_int_equal(c.argi, 5);
	assert_true(v.n == 3 && v.flag && v.size == 1ull << 30);
	/* "--" ends the options: what follows is positional, after the ones before it */
	c = cmd("FILE");
	c.interleave = true;
	a = ARGV("a", "-n", "2", "--", "--trace", "b");
	assert_int_equal(run_captured(2, &c, 7, a), OPT_RUN);
	assert_string_equal(joined(7, a), "-n 2 -- a --trace b");
	assert_int_equal(c.argi, 4);
	assert_true(v.n == 2 && !v.flag);
	/* options only, or nothing at all: argi is argc */
	c = cmd(NULL);
	c.interleave = true;
	assert_int_equal(PARSE(c, "-t", "--count", "4"), OPT_RUN);
	assert_int_equal(c.argi, 4);
	c = cmd(NULL);
	c.interleave = true;
	assert_int_equal(run_captured(2, &c, 1, ARGV(NULL)), OPT_RUN);
	assert_int_equal(c.argi, 1);
}

static void interleaved_errors(void **state)
{
	struct opt_cmd c = cmd("FILE");
	c.interleave = true;
	expect_error("prog: unknown option --bogus (see --help)\n", 2, &c, 3,
	             ARGV("a.json", "--bogus"));
	expect_error("prog: --count: needs a value (see --help)\n", 2, &c, 3,
	             ARGV("a.json", "--count"));
	expect_error("prog: --count: not an integer from 1 to 100: x\n", 2, &c, 4,
	             ARGV("a.json", "--count", "x"));
	expect_error("prog: no FILE given (see --help)\n", 2, &c, 3, ARGV("--count", "2"));
	expect_error("prog: no FILE given (see --help)\n", 2, &c, 2, ARGV("--"));
	c.max_args = 1;
	expect_error("prog: unexpected argument b.json (see --help)\n", 2, &c, 5,
	             ARGV("a.json", "--count", "2", "b.json"));
	expect_error("prog: unexpected argument c (see --help)\n", 2, &c, 4, ARGV("a", "--", "c"));
	c = cmd(NULL);
	c.interleave = true;
	expect_error("prog: unexpected argument a.json (see --help)\n", 2, &c, 4,
	             ARGV("-t", "a.json", "-n1"));
	/* without interleave an option after a positional argument is one too */
	c = cmd("FILE");
	c.max_args = 1;
	expect_error("prog: unexpected argument --count (see --help)\n", 2, &c, 4,
	             ARGV("a.json", "--count", "2"));
}

static void own_usage_errors(void **state)
{
	struct opt_cmd c = cmd(NULL);
	struct capture cap = capture_start(2);
	int rc = opt_usage_error(&c, "--%s is required", "key");
	capture_end(cap);
	assert_int_equal(rc, OPT_USAGE_STATUS);
	assert_string_equal(captured, "prog: --key is required (see --help)\n");
}

static void help_text(void **state)
{
	struct opt_cmd c = cmd(NULL);
	c.about = "Does things.\n";
	c.footer = "Exit status: 0.\n";
	assert_int_equal(run_captured(1, &c, 2, ARGV("--help")), 0);
	const char *want = "usage: prog [options]\n"
	                   "Does things.\n"
	                   "  -t, --trace          print each call\n"
	                   "  --no-trace           do not\n"
	                   "  -n, --count N        how many (default 5)\n"
	                   "  --seed N             random seed\n"
	                   "  --scale F            a factor\n"
	                   "                       over two lines\n"
	                   "  --rate X             per second\n"
	                   "  --mem SIZE           memory (default 256M)\n"
	                   "  --name NAME          the name\n"
	                   "  --time-page WORD     the time page\n"
	                   "  --even N             an even number, added up\n"
	                   "  --name-suffix VALUE  shares a prefix with --name\n"
	                   "  --a-long-option-name VALUE\n"
	                   "                       help on the next line\n"
	                   "  --help               this text\n"
	                   "Exit status: 0.\n";
	assert_string_equal(captured, want);
	assert_int_equal(run_captured(1, &c, 4, ARGV("--count", "3", "--help")), 0);
}

/* ---- lib/vmopt.c ---------------------------------------------------------------------------- */

static const struct vmopt_spec spec = {
	.prog = "prog",
	.value_status = 78,
	.max_vcpus = 4,
	.vcpus_def = "2",
	.min_mem = 128 << 20,
	.max_mem = 1ull << 40,
	.mem_why = "too little memory (at least 128M)",
	.min_scale = 0.5,
	.max_scale = 2,
	.scale_why = "not from 0.5 to 2",
};

static const struct opt own[] = {
	{ OPT_FLAG("trace", &v.flag), .help = "print each call" },
	{ OPT_INT("count", &v.n, 1, 100), .help = "how many", .def = "5" },
	OPT_END,
};

static int vm_parse(int fd, struct vmopt *vm, const struct opt *table, int argc, char **argv)
{
	memset(&v, 0, sizeof(v));
	vmopt_init(vm, 2);
	struct capture c = capture_start(fd);
	int rc = vmopt_parse(&spec, table, vm, argc, argv);
	capture_end(c);
	return rc;
}
#define VM_PARSE(vm, ...) vm_parse(2, vm, own, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

static void vmopt_stores(void **state)
{
	struct vmopt vm;
	assert_int_equal(VM_PARSE(&vm, "/bin/true"), OPT_RUN);
	assert_string_equal(vm.root, ".");
	assert_string_equal(vm.net, "127.0.0.1");
	assert_int_equal(vm.vcpus, 2);
	assert_true(vm.mem_bytes == 256ull << 20);
	assert_string_equal(vm.name, "vm");
	assert_null(vm.stats);
	assert_true(vm.clock_scale == 1);
	assert_string_equal(vm.argv[0], "/bin/true");
	assert_null(vm.argv[1]);
	assert_int_equal(VM_PARSE(&vm, "--root", "/r", "--net=127.1.2.3", "--vcpus", "4", "--mem",
	                          "1G", "--trace", "--name", "db", "--stats", "s.json",
	                          "--clock-scale", "0.5", "--count", "3", "--", "/bin/x", "-a"),
	                 OPT_RUN);
	assert_string_equal(vm.root, "/r");
	assert_string_equal(vm.net, "127.1.2.3");
	assert_int_equal(vm.vcpus, 4);
	assert_true(vm.mem_bytes == 1ull << 30);
	assert_string_equal(vm.name, "db");
	assert_string_equal(vm.stats, "s.json");
	assert_true(vm.clock_scale == 0.5);
	assert_true(v.flag);
	assert_int_equal(v.n, 3);
	assert_string_equal(vm.argv[0], "/bin/x");
	assert_string_equal(vm.argv[1], "-a");
	assert_null(vm.argv[2]);
	assert_string_equal(captured, "");
}

static void vm_error(const char *msg, int status, int argc, char **argv)
{
	struct vmopt vm;
	assert_int_equal(vm_parse(2, &vm, own, argc, argv), status);
	assert_string_equal(captured, msg);
	/* nothing stored by a refused value */
	assert_string_equal(vm.net, "127.0.0.1");
	assert_true(vm.vcpus == 2 && vm.mem_bytes == 256ull << 20 && vm.clock_scale == 1);
	assert_null(vm.argv);
}

static void vmopt_limits(void **state)
{
	vm_error("prog: --net: not an IPv4 address: 127.0.0.256\n", 78, 3,
	         ARGV("--net", "127.0.0.256"));
	vm_error("prog: --net: not an IPv4 address: 127.0.0.1x\n", 78, 3,
	         ARGV("--net", "127.0.0.1x"));
	vm_error("prog: --net: not an IPv4 address: 127.1\n", 78, 3, ARGV("--net", "127.1"));
	vm_error("prog: --vcpus: not an integer from 1 to 4: 5\n", 78, 3, ARGV("--vcpus", "5"));
	vm_error("prog: --mem: too little memory (at least 128M): 64M\n", 78, 3,
	         ARGV("--mem", "64M"));
	vm_error("prog: --mem: not a size like 256M or 1G: 2T\n", 78, 3, ARGV("--mem", "2T"));
	vm_error("prog: --mem: not a size like 256M or 1G: lots\n", 78, 3, ARGV("--mem", "lots"));
	vm_error("prog: --clock-scale: not from 0.5 to 2: 3\n", 78, 3, ARGV("--clock-scale", "3"));
	vm_error("prog: unknown option --bogus (see --help)\n", 2, 2, ARGV("--bogus"));
	vm_error("prog: no PROGRAM given (see --help)\n", 2, 3, ARGV("--count", "3"));
}

static void vmopt_help_and_overflow(void **state)
{
	struct vmopt vm;
	assert_int_equal(vm_parse(1, &vm, own, 2, ARGV("--help")), 0);
	const char *want =
	    "usage: prog [OPTIONS] -- PROGRAM [ARGS...]\n"
	    "  --root DIR           the VM's root directory: the paths the guest opens "
	    "are inside it (default .)\n";
	assert_memory_equal(captured, want, strlen(want));
	const char *order[] = { "--net A.B.C.D", "--vcpus N",    "(default 2)",     "--mem SIZE",
		                "--name NAME",   "--stats FILE", "--clock-scale F", "--trace",
		                "--count N",     "--help" };
	const char *at = captured;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		at = strstr(at, order[i]);
		assert_non_null(at);
	}
	struct opt many[VMOPT_OWN_MAX + 2];
	for (int i = 0; i <= VMOPT_OWN_MAX; i++)
		many[i] = (struct opt){ OPT_FLAG("trace", &v.flag) };
	many[VMOPT_OWN_MAX + 1] = (struct opt)OPT_END;
	assert_int_equal(vm_parse(2, &vm, many, 2, ARGV("--trace")), 2);
	assert_string_equal(captured, "prog: more than 32 options of its own\n");
}

UNIT_MAIN(cmocka_unit_test(every_kind_stores), cmocka_unit_test(short_names_and_prefixes),
          cmocka_unit_test(bad_values), cmocka_unit_test(usage_errors),
          cmocka_unit_test(positionals), cmocka_unit_test(flag_off), cmocka_unit_test(interleaved),
          cmocka_unit_test(interleaved_errors), cmocka_unit_test(own_usage_errors),
          cmocka_unit_test(help_text), cmocka_unit_test(vmopt_stores),
          cmocka_unit_test(vmopt_limits), cmocka_unit_test(vmopt_help_and_overflow))
