/* harness/fuzz/result.c: fuzz target for what `vcons report` and `vcons compare` do with a
 * result.json someone gives them: result__load (result.h) on arbitrary bytes (written to a dot file
 * next to the binary, below build/, since it takes a path), then for a result it accepts the whole
 * of both commands (cmd.h: the HTML pages, written below build/ and removed, and the text on
 * stdout, sent to /dev/null) and the in-memory page the server shows (report.h). Promises checked:
 * a file is either refused with one message naming it, or accepted as a JSON object of schema
 * vcons-result/1; for an accepted one both commands succeed (exit 0) and the page is a whole page,
 * whatever else the result holds or lacks. */
#include "tools/fuzz.h"
#include "harness/cmd.h"
#include "model/report.h"
#include "model/result.h"

#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

static char path[PATH_MAX + 64], html[PATH_MAX + 64];
static int devnull = -1;

/* The input's file and its page, in the target's scratch folder. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = fuzz_scratch_dir("harness-result");
	snprintf(path, sizeof(path), "%s/result.json", dir);
	snprintf(html, sizeof(html), "%s/report.html", dir);
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	fuzz_assert(devnull >= 0);
	return 0;
}

/* A command's exit status with its stdout (text tables) thrown away. */
static int quietly(int (*cmd)(int, char **), int argc, char **argv)
{
	(void)fflush(stdout);
	int saved = dup(1);
	fuzz_assert(saved >= 0 && dup2(devnull, 1) == 1);
	int rc = cmd(argc, argv);
	(void)fflush(stdout);
	fuzz_assert(dup2(saved, 1) == 1);
	close(saved);
	return rc;
}

static void check_result(const json_t *res)
{
	fuzz_assert(json_is_object(res));
	fuzz_assert(!strcmp(json_string_value(json_object_get(res, "schema")), RESULT_SCHEMA));
	char *page = report__page(res);
	fuzz_assert(page && strstr(page, "</html>"));
	free(page);
	char *report[] = { "report", path, "--out", html, NULL };
	fuzz_assert(quietly(cmd__report, 4, report) == 0);
	char *compare[] = { "compare", path, path, "--html", html, NULL };
	fuzz_assert(quietly(cmd__compare, 5, compare) == 0);
	unlink(html);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	fuzz_assert(f && fwrite(data, 1, size, f) == size && fclose(f) == 0);
	char err[PATH_MAX + 256] = "";
	json_t *res = result__load(path, err, sizeof(err));
	if (res)
		check_result(res);
	else
		fuzz_assert(!strncmp(err, path, strlen(path)) && err[strlen(path)] == ':');
	json_decref(res);
	unlink(path);
	return 0;
}
