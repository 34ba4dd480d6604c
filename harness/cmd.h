/* harness/cmd.h: the `vcons` subcommands. Each takes (argc, argv) with argv[0] its own name,
 * reads its options with lib/opt.h (a table per command, program name "vcons COMMAND", so usage
 * errors read "vcons COMMAND: ... (see --help)" and --help is generated from the table; options
 * may follow the positional arguments), prints other errors as one line "vcons: COMMAND: ..." on
 * stderr and returns the process's exit status: 0 done, 1 runtime failure, 2 usage, others as
 * each command documents. */
#ifndef HARNESS_CMD_H
#define HARNESS_CMD_H

/* A struct opt_cmd's positional arguments: their name in messages, how many at most (0: any),
 * and options allowed before and after them: { .prog = "vcons seal", CMD_ARGS("RESULT_DIR", 1) }.
 */
#define CMD_ARGS(name, max) .args = (name), .max_args = (max), .interleave = true

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *what;
};

int cmd__report(int argc, char **argv);  /* cmd_report.c */
int cmd__compare(int argc, char **argv); /* cmd_compare.c */
int cmd__keygen(int argc, char **argv);  /* cmd_seal.c */
int cmd__seal(int argc, char **argv);    /* cmd_seal.c */
int cmd__verify(int argc, char **argv);  /* cmd_seal.c */
int cmd__serve(int argc, char **argv);   /* cmd_serve.c */
int cmd__submit(int argc, char **argv);  /* cmd_submit.c */

#endif
