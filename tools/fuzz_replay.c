/* tools/fuzz_replay.c: main() for a fuzz target outside libFuzzer. `make test` builds each target
 * with this file under ASan+UBSan and runs it without arguments: it feeds every file of the
 * target's checked-in corpus (fuzz__corpus, from tools/fuzz.h) to LLVMFuzzerTestOneInput, in name
 * order, and prints one TAP line. Given arguments (files or folders), it replays those instead,
 * which is how a crash that `make fuzz` found is reproduced under gdb.
 *
 * A sanitizer report ends the process with a non-zero status; the input being replayed is named
 * on stderr just before it runs, so the log's last "replay:" line names the culprit. */
#include "tools/fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

extern const char fuzz__corpus[];
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Reads a whole regular file into a malloc'd buffer (exactly its size, so ASan sees overreads). */
static int replay__read(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	struct stat st;
	if (fstat(fileno(f), &st) != 0 || st.st_size < 0) {
		(void)fclose(f);
		return -1;
	}
	*len = (size_t)st.st_size;
	*out = malloc(*len ? *len : 1);
	int ok = *out && fread(*out, 1, *len, f) == *len;
	(void)fclose(f);
	if (!ok) {
		free(*out);
		return -1;
	}
	return 0;
}

static int replay__file(const char *path)
{
	uint8_t *buf;
	size_t len;
	if (replay__read(path, &buf, &len) != 0) {
		fprintf(stderr, "fuzz-replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

static int replay__name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Replays a file, or every regular file directly inside a folder. Counts into *n; -1 on I/O error.
 */
static int replay__path(const char *path, int *n)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		fprintf(stderr, "fuzz-replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		*n += 1;
		return replay__file(path);
	}
	struct dirent **ents;
	int k = scandir(path, &ents, NULL, replay__name_cmp), rc = 0;
	if (k < 0) {
		fprintf(stderr, "fuzz-replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (int i = 0; i < k; i++) {
		char p[4096];
		snprintf(p, sizeof p, "%s/%s", path, ents[i]->d_name);
		if (rc == 0 && ents[i]->d_name[0] != '.' && stat(p, &st) == 0 &&
		    S_ISREG(st.st_mode)) {
			*n += 1;
			rc = replay__file(p);
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

int main(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	int n = 0, rc = 0;
	printf("1..1\n");
	(void)fflush(stdout);
	if (argc < 2)
		rc = replay__path(fuzz__corpus, &n);
	for (int i = 1; i < argc && rc == 0; i++)
		rc = replay__path(argv[i], &n);
	const char *where = argc < 2 ? fuzz__corpus : "the given paths";
	if (rc == 0 && n > 0)
		printf("ok 1 - %s: %d inputs from %s replayed\n", name, n, where);
	else
		printf("not ok 1 - %s: %s\n", name, rc ? "could not read an input" : "no inputs");
	return rc == 0 && n > 0 ? 0 : 1;
}
