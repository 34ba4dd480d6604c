/* harness/cmd_report.c: `vcons report RESULT.json` (being written). */
#include "harness/cmd.h"
#include <stdio.h>
int cmd__report(int argc, char **argv)
{
	(void)argc, (void)argv;
	fprintf(stderr, "vcons: report: not built yet\n");
	return 1;
}
