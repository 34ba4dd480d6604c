/* tools/fuzz.c: what every fuzz target may use besides its code under test (see fuzz.h); linked
 * into each target in both builds. */
#include "tools/fuzz.h"

#include <errno.h>
#include <ftw.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FUZZ_MAX_SCRATCH 4

static char fuzz_scratch[FUZZ_MAX_SCRATCH][128];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)remove(path);
	return 0;
}

static void fuzz__scratch_remove(void)
{
	for (int i = 0; i < FUZZ_MAX_SCRATCH; i++)
		if (fuzz_scratch[i][0])
			nftw(fuzz_scratch[i], remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_scratch_dir(const char *name)
{
	static int n;
	fuzz_assert(n < FUZZ_MAX_SCRATCH);
	mkdir("build", 0755);
	mkdir("build/tmp", 0755);
	char *dir = fuzz_scratch[n];
	snprintf(dir, sizeof(fuzz_scratch[n]), "build/tmp/%s.XXXXXX", name);
	if (!mkdtemp(dir)) {
		fprintf(stderr, "%s: cannot create %s (run it from the repository's top): %s\n",
		        name, dir, strerror(errno));
		exit(1);
	}
	if (n++ == 0)
		atexit(fuzz__scratch_remove);
	return dir;
}
