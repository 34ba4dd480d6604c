/* lib/fs.c: directory trees removed, temporary directories made (see fs.h). */
#include "lib/fs.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

/* nftw() passes no context: the walk's state is per thread. */
static _Thread_local struct {
	bool keep_top;
	int err;
} walk;

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag;
	if ((ftw->level || !walk.keep_top) && remove(p) < 0 && !walk.err)
		walk.err = errno;
	return 0;
}

int fs_rmtree(const char *path, bool keep_top)
{
	walk.keep_top = keep_top;
	walk.err = 0;
	if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		return -1;
	if (walk.err) {
		errno = walk.err;
		return -1;
	}
	return 0;
}

int fs_tmpdir(char *dst, size_t len, const char *name)
{
	const char *t = getenv("TMPDIR");
	int n = snprintf(dst, len, "%s/%s.XXXXXX", t && *t ? t : "/tmp", name);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return mkdtemp(dst) ? 0 : -1;
}
