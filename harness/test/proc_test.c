/* Unit tests for harness/proc.c: lines arrive whole, an exec failure is reported, a process that
 * ignores SIGTERM is killed after the grace period, every child is reaped, and a proc never
 * started touches no descriptor. */
#include "tools/unit.h"
#include "harness/proc.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct seen {
	int n;
	char last[128];
};

static void on_line(void *arg, struct proc *p, const char *line)
{
	struct seen *s = arg;
	s->n++;
	snprintf(s->last, sizeof(s->last), "%s", line);
}

static void drain(struct proc *p, struct seen *s)
{
	for (int i = 0; i < 500 && proc__read_lines(p, on_line, s); i++)
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
}

static void reads_lines_and_reaps(void **state)
{
	struct proc p;
	char err[256];
	const char *const argv[] = { "/bin/sh", "-c",
		                     "for i in 1 2 3; do echo line$i; done; printf tail; exit 3",
		                     NULL };
	assert_int_equal(proc__start(&p, "t", argv, NULL, "/dev/null", 0, err, sizeof(err)), 0);
	struct seen s = { 0 };
	drain(&p, &s);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.last, "tail");
	for (int i = 0; i < 500 && !proc__poll_exit(&p); i++)
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	char d[64];
	assert_string_equal(proc__describe(&p, d, sizeof(d)), "exited with status 3");
	proc__stop(&p, 100);
}

static void exec_failure_is_reported(void **state)
{
	struct proc p;
	char err[256];
	const char *const argv[] = { "/nonexistent/program", NULL };
	assert_int_equal(proc__start(&p, "t", argv, NULL, "/dev/null", 0, err, sizeof(err)), -1);
	assert_non_null(
	    strstr(err, "cannot start /nonexistent/program: No such file or directory"));
	const char *const ok[] = { "/bin/true", NULL };
	assert_int_equal(
	    proc__start(&p, "t", ok, "/nonexistent-dir", "/dev/null", 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file or directory"));
}

static void stubborn_child_is_killed(void **state)
{
	struct proc p;
	char err[256];
	const char *const argv[] = { "/bin/sh", "-c", "trap '' TERM; echo up; sleep 30", NULL };
	assert_int_equal(proc__start(&p, "t", argv, NULL, "/dev/null", 0, err, sizeof(err)), 0);
	struct seen s = { 0 };
	for (int i = 0; i < 500 && s.n == 0; i++) {
		proc__read_lines(&p, on_line, &s);
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	}
	proc__stop(&p, 200);
	char d[64];
	assert_true(p.reaped);
	assert_non_null(strstr(proc__describe(&p, d, sizeof(d)), "killed by signal 9"));
	assert_int_equal(kill(p.pid, 0), -1); /* gone */
}

static void closing_stdin_stops_a_reader(void **state)
{
	struct proc p;
	char err[256];
	const char *const argv[] = { "/bin/cat", NULL };
	assert_int_equal(
	    proc__start(&p, "t", argv, NULL, "/dev/null", PROC_STDIN_PIPE, err, sizeof(err)), 0);
	assert_int_equal(write(p.in_fd, "hi\n", 3), 3);
	struct seen s = { 0 };
	for (int i = 0; i < 500 && s.n == 0; i++) {
		proc__read_lines(&p, on_line, &s);
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	}
	assert_string_equal(s.last, "hi");
	proc__close_stdin(&p);
	for (int i = 0; i < 500 && !proc__poll_exit(&p); i++)
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	char d[64];
	assert_string_equal(proc__describe(&p, d, sizeof(d)), "exited with status 0");
	proc__stop(&p, 10);
}

/* A zeroed proc (a VM with no load generator, a provisioning slot unused) must leave fd 0 alone:
 * stopping, reading or closing its stdin once closed the harness's stdin, and the next socket the
 * harness opened (a VMM's control connection) became fd 0, whose answers such a proc then read. */
static void zeroed_proc_owns_no_fd(void **state)
{
	(void)state;
	int fds[2];
	assert_int_equal(pipe2(fds, O_NONBLOCK), 0); /* a wrong read fails the test, never blocks */
	int saved = dup(0);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fds[0], 0), 0);
	assert_int_equal(write(fds[1], "x\n", 2), 2);
	struct proc p;
	memset(&p, 0, sizeof(p));
	struct seen s = { 0 };
	assert_int_equal(proc__read_lines(&p, on_line, &s), 0);
	proc__close_stdin(&p);
	proc__stop(&p, 0);
	assert_int_equal(s.n, 0);
	char c;
	assert_int_equal(read(0, &c, 1), 1); /* still open, its byte unread */
	assert_int_equal(c, 'x');
	dup2(saved, 0);
	close(saved);
	close(fds[0]);
	close(fds[1]);
}

UNIT_MAIN(cmocka_unit_test(zeroed_proc_owns_no_fd), cmocka_unit_test(closing_stdin_stops_a_reader),
          cmocka_unit_test(reads_lines_and_reaps), cmocka_unit_test(exec_failure_is_reported),
          cmocka_unit_test(stubborn_child_is_killed))
