/* workloads/common/report.c: JSON report lines (see report.h). */
#include "workloads/common/report.h"

#include <stdlib.h>
#include <time.h>

json_t *report_new(const char *type, const char *role, int csu, const char *clock_field)
{
	return json_pack("{s:s, s:s, s:i, s:I}", "type", type, "role", role ? role : "", "csu", csu,
	                 clock_field, (json_int_t)now_ns());
}

int report_write(FILE *f, json_t *line)
{
	if (!line)
		return -1;
	char *s = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(line);
	if (!s)
		return -1;
	flockfile(f);
	int rc = fputs(s, f) < 0 || putc_unlocked('\n', f) == EOF ? -1 : 0;
	funlockfile(f);
	if (fflush(f))
		rc = -1;
	free(s);
	return rc;
}
