/* Guest test: faults that end a program, and faults that must not. argv[1]: null (page fault),
 * ud2 (invalid opcode), abort (SIGABRT through tgkill), exit42 (plain exit status), pasteof (a read
 * of a file mapping's page past the file's end: SIGBUS), syscall-pasteof (such a page, and a
 * read-only shared mapping, as system calls' structures, strings and buffers: EFAULT from each,
 * and the program goes on; the transcript is the same natively and under hv). The last two write
 * t_crash.map in the working directory. */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

/* A 16-byte file mapped over two pages (`prot`): the second lies past the file's end. */
static volatile char *map_short_file(int prot)
{
	int fd = open("t_crash.map", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "0123456789abcdef", 16) != 16) {
		perror("t_crash.map");
		exit(1);
	}
	char *p = mmap(NULL, 8192, prot, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	close(fd);
	return p;
}

static void report(const char *what, long rc)
{
	printf("%s: %ld (%s)\n", what, rc, rc < 0 ? strerror(errno) : "no error");
}

/* Raw calls (glibc's wrappers may copy or use the vDSO) with a bad page as each kind of argument.
 */
static void syscalls_on_bad_pages(void)
{
	char *eof = (char *)map_short_file(PROT_READ | PROT_WRITE) + 4096;
	report("clock_gettime out", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, eof));
	report("uname out", syscall(SYS_uname, eof));
	report("fstat out", syscall(SYS_fstat, 1, eof));
	report("nanosleep in", syscall(SYS_nanosleep, eof, NULL));
	report("rt_sigprocmask in", syscall(SYS_rt_sigprocmask, SIG_BLOCK, eof, NULL, 8));
	report("open path", syscall(SYS_open, eof, O_RDONLY));
	report("getcwd out", syscall(SYS_getcwd, eof, 64));
	int fd = open("/dev/zero", O_RDONLY);
	report("read buffer", syscall(SYS_read, fd, eof, 16));
	close(fd);
	/* a string that ends just before the bad page is fine */
	char *name = eof - 5;
	memcpy(name, "none", 5);
	report("open path before the bad page", syscall(SYS_open, name, O_RDONLY));
	char *ro = (char *)map_short_file(PROT_READ);
	report("clock_gettime into a read-only mapping",
	       syscall(SYS_clock_gettime, CLOCK_MONOTONIC, ro));
	report("pipe into a read-only mapping", syscall(SYS_pipe, ro));
	printf("still running\n");
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	printf("about to %s\n", what);
	(void)fflush(stdout);
	if (!strcmp(what, "null"))
		*(volatile int *)(uintptr_t)(argc - 2) = 1;
	else if (!strcmp(what, "ud2"))
		__builtin_trap();
	else if (!strcmp(what, "abort"))
		abort();
	else if (!strcmp(what, "exit42"))
		exit(42);
	else if (!strcmp(what, "pasteof")) {
		volatile char *m = map_short_file(PROT_READ | PROT_WRITE); /* the read ends it */
		printf("read %d\n", m[4096]);
	} else if (!strcmp(what, "syscall-pasteof")) {
		syscalls_on_bad_pages();
	}
	return 0;
}
