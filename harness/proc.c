/* harness/proc.c: child processes of a run (see proc.h). */
#include "harness/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int proc__start(struct proc *p, const char *name, const char *const *argv, const char *cwd,
                const char *log, int flags, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->out_fd = p->in_fd = -1;
	int inpipe[2] = { -1, -1 };
	if ((flags & PROC_STDIN_PIPE) && pipe2(inpipe, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "%s: pipe: %s", name, strerror(errno));
		return -1;
	}
	snprintf(p->name, sizeof(p->name), "%s", name);
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "%s: pipe: %s", name, strerror(errno));
		return -1;
	}
	int logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd < 0) {
		snprintf(err, errlen, "%s: %s: %s", name, log, strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	/* An exec failure is reported through a second pipe, so the parent can say why. */
	int errpipe[2];
	if (pipe2(errpipe, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "%s: pipe: %s", name, strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		close(logfd);
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		int in = inpipe[0] >= 0 ? inpipe[0] : open("/dev/null", O_RDONLY);
		if (in < 0 || dup2(in, 0) < 0 || dup2(pipefd[1], 1) < 0 || dup2(logfd, 2) < 0 ||
		    (cwd && chdir(cwd) < 0)) {
			int e = errno;
			if (write(errpipe[1], &e, sizeof(e)) < 0)
				_exit(127);
			_exit(127);
		}
		/* No child outlives the harness, even one killed with SIGKILL. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGPIPE, SIG_DFL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv(argv[0], (char *const *)argv);
		int e = errno;
		if (write(errpipe[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(pipefd[1]);
	close(logfd);
	close(errpipe[1]);
	if (inpipe[0] >= 0)
		close(inpipe[0]);
	if (pid < 0) {
		if (inpipe[1] >= 0)
			close(inpipe[1]);
		snprintf(err, errlen, "%s: fork: %s", name, strerror(errno));
		close(pipefd[0]);
		close(errpipe[0]);
		return -1;
	}
	int child_errno = 0;
	ssize_t n = read(errpipe[0], &child_errno, sizeof(child_errno));
	close(errpipe[0]);
	if (n == sizeof(child_errno)) {
		waitpid(pid, NULL, 0);
		close(pipefd[0]);
		if (inpipe[1] >= 0)
			close(inpipe[1]);
		snprintf(err, errlen, "%s: cannot start %s: %s", name, argv[0],
		         strerror(child_errno));
		return -1;
	}
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	p->pid = pid;
	p->out_fd = pipefd[0];
	p->in_fd = inpipe[1];
	return 0;
}

void proc__close_stdin(struct proc *p)
{
	if (p->pid && p->in_fd >= 0) {
		close(p->in_fd);
		p->in_fd = -1;
	}
}

int proc__read_lines(struct proc *p, void (*on_line)(void *arg, struct proc *p, const char *line),
                     void *arg)
{
	if (!p->pid || p->out_fd < 0)
		return 0;
	for (;;) {
		ssize_t n =
		    read(p->out_fd, p->line + p->line_len, sizeof(p->line) - 1 - p->line_len);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 1 : 0;
		if (n == 0) {
			if (p->line_len) { /* a last line without its newline */
				p->line[p->line_len] = 0;
				on_line(arg, p, p->line);
				p->line_len = 0;
			}
			close(p->out_fd);
			p->out_fd = -1;
			return 0;
		}
		p->line_len += (size_t)n;
		char *start = p->line, *nl;
		while ((nl = memchr(start, '\n', p->line_len - (size_t)(start - p->line)))) {
			*nl = 0;
			on_line(arg, p, start);
			start = nl + 1;
		}
		p->line_len -= (size_t)(start - p->line);
		memmove(p->line, start, p->line_len);
		if (p->line_len == sizeof(p->line) - 1) { /* an over-long line: pass it on cut */
			p->line[p->line_len] = 0;
			on_line(arg, p, p->line);
			p->line_len = 0;
		}
	}
}

/* waitpid with the child's CPU time kept (wait4's rusage); 1 when it was reaped. */
static int reap(struct proc *p, int flags)
{
	struct rusage ru;
	if (wait4(p->pid, &p->status, flags, &ru) != p->pid)
		return 0;
	p->reaped = 1;
	p->cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	return 1;
}

int proc__poll_exit(struct proc *p)
{
	if (p->reaped || !p->pid)
		return 1;
	return reap(p, WNOHANG);
}

void proc__stop(struct proc *p, int grace_ms)
{
	proc__close_stdin(p);
	if (!p->pid || p->reaped)
		goto close_pipe;
	kill(p->pid, SIGTERM);
	for (int waited = 0; waited < grace_ms; waited += 10) {
		if (proc__poll_exit(p))
			goto close_pipe;
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	}
	kill(p->pid, SIGKILL);
	reap(p, 0);
close_pipe:
	if (p->pid && p->out_fd >= 0) {
		close(p->out_fd);
		p->out_fd = -1;
	}
}

const char *proc__describe(const struct proc *p, char *buf, size_t len)
{
	if (!p->reaped)
		snprintf(buf, len, "still running");
	else if (WIFEXITED(p->status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(p->status));
	else if (WIFSIGNALED(p->status))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(p->status),
		         strsignal(WTERMSIG(p->status)));
	else
		snprintf(buf, len, "ended (wait status %#x)", p->status);
	return buf;
}
