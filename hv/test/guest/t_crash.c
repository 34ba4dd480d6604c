/* Guest test: faults that end a program. argv[1]: null (page fault), ud2 (invalid opcode),
 * abort (SIGABRT through tgkill), exit42 (plain exit status), pasteof (a read of a file
 * mapping's page past the file's end: SIGBUS), syscall-pasteof (such a page as a system call's
 * output: EFAULT on Linux, the end of the program under hv, see hv/fault.h). The last two write
 * t_crash.map in the working directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* A 16-byte file mapped over two pages: the second lies past the file's end. */
static volatile char *map_short_file(void)
{
	int fd = open("t_crash.map", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "0123456789abcdef", 16) != 16) {
		perror("t_crash.map");
		exit(1);
	}
	char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	close(fd);
	return p;
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
		volatile char *m = map_short_file(); /* never unmapped: the read ends the program */
		printf("read %d\n", m[4096]);
	} else if (!strcmp(what, "syscall-pasteof")) {
		/* the raw call: glibc's clock_gettime may write through the vDSO instead */
		long rc = syscall(SYS_clock_gettime, CLOCK_MONOTONIC, map_short_file() + 4096);
		printf("clock_gettime: %ld (%s)\n", rc, rc ? strerror(errno) : "no error");
	}
	return 0;
}
