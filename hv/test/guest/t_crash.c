/* Guest test: faults that end a program. argv[1]: null (page fault), ud2 (invalid opcode),
 * abort (SIGABRT through tgkill), exit42 (plain exit status). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	return 0;
}
