/* harness/cmd_compare.c: `vcons compare A.json B.json` (being written). */
#include "harness/cmd.h"
#include <stdio.h>
int cmd__compare(int argc, char **argv)
{
	(void)argc, (void)argv;
	fprintf(stderr, "vcons: compare: not built yet\n");
	return 1;
}
