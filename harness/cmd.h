/* harness/cmd.h: the `vcons` subcommands. Each takes (argc, argv) with argv[0] its own name,
 * prints errors as one line "vcons: ..." on stderr and returns the process's exit status: 0 done,
 * 1 runtime failure, 2 usage, others as each command documents. */
#ifndef HARNESS_CMD_H
#define HARNESS_CMD_H

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *what;
};

/* Prints "vcons: <msg><arg>" and returns 2. */
int cmd__usage(const char *msg, const char *arg);

int cmd__report(int argc, char **argv);  /* cmd_report.c */
int cmd__compare(int argc, char **argv); /* cmd_compare.c */
int cmd__keygen(int argc, char **argv);  /* cmd_seal.c */
int cmd__seal(int argc, char **argv);    /* cmd_seal.c */
int cmd__verify(int argc, char **argv);  /* cmd_seal.c */
int cmd__serve(int argc, char **argv);   /* cmd_serve.c */
int cmd__submit(int argc, char **argv);  /* cmd_submit.c */

#endif
