/* harness/proc.h: the child processes a run starts (VMs, load generators). Each is started with its
 * stdout on a pipe the harness reads (report lines, "ready") and its stderr appended to a log file;
 * it is stopped only by its own PID (SIGTERM, then SIGKILL after a grace period) and always reaped,
 * so no process outlives the run. */
#ifndef HARNESS_PROC_H
#define HARNESS_PROC_H
#include <stddef.h>
#include <sys/types.h>

/* A zeroed struct proc is a process never started: it owns no descriptor (its fds read 0, which
 * is the harness's stdin, so every function here looks at pid before touching one). */
struct proc {
	pid_t pid;  /* 0 when never started */
	int out_fd; /* read end of its stdout, non-blocking; -1 when closed */
	int in_fd;  /* write end of its stdin (with PROC_STDIN_PIPE), -1 otherwise */
	int status; /* wait status once reaped */
	int reaped;
	double cpu_s;  /* its CPU time (user + system), once reaped */
	char name[64]; /* for messages: "csu0-db", "csu0-db-load" */
	char line[65536];
	size_t line_len; /* a partial line read so far */
};

#define PROC_STDIN_PIPE                                                                            \
	1 /* stdin is a pipe the harness holds: closing it asks the child to stop                  \
	   */

/* Starts argv[0] (a path) with `cwd` (NULL: the harness's), stdout piped, stderr to `log`
 * (appended), stdin from /dev/null or (flags & PROC_STDIN_PIPE) a pipe. 0, or -1 with a one-line
 * reason. */
int proc__start(struct proc *p, const char *name, const char *const *argv, const char *cwd,
                const char *log, int flags, char *err, size_t errlen);

/* Closes the child's stdin pipe (an in-band stop for programs that end at end of input). */
void proc__close_stdin(struct proc *p);

/* Reads what is available and calls `on_line` for every complete line (without its newline).
 * Returns 1 while the pipe is open, 0 at end of file. */
int proc__read_lines(struct proc *p, void (*on_line)(void *arg, struct proc *p, const char *line),
                     void *arg);

/* Reaps it if it has exited (non-blocking): 1 when it has, 0 while it runs. */
int proc__poll_exit(struct proc *p);

/* SIGTERM, up to `grace_ms` for it to exit, then SIGKILL; always reaps. Safe on a stopped proc. */
void proc__stop(struct proc *p, int grace_ms);

/* "exited with status 3", "killed by signal 9": how it ended. */
const char *proc__describe(const struct proc *p, char *buf, size_t len);

#endif
