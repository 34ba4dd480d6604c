/* model/result.c: atomic result files (see result.h). */
#include "model/result.h"
#include "lib/json.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int fsync_dir_of(const char *path)
{
	char copy[PATH_MAX];
	snprintf(copy, sizeof(copy), "%s", path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

int result__write(const char *path, const json_t *result, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	int rc = json_dumpfd(result, fd, JSON_INDENT(1) | JSON_REAL_PRECISION(10));
	if (rc == 0 && write(fd, "\n", 1) != 1)
		rc = -1;
	if (rc == 0 && fsync(fd) < 0)
		rc = -1;
	int e = errno;
	close(fd);
	if (rc == 0 && rename(tmp, path) < 0) {
		e = errno;
		rc = -1;
	}
	if (rc < 0) {
		unlink(tmp);
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(e ? e : EIO));
		return -1;
	}
	fsync_dir_of(path);
	return 0;
}

json_t *result__load(const char *path, char *err, size_t errlen)
{
	json_error_t je;
	json_t *r = json_load_file(path, 0, &je);
	if (!r) {
		snprintf(err, errlen, "%s:%d: %s", path, je.line, je.text);
		return NULL;
	}
	const char *schema = jget_str(r, "schema", NULL);
	if (!json_is_object(r) || !schema || strcmp(schema, RESULT_SCHEMA)) {
		snprintf(err, errlen, "%s: not a %s result (schema: %s)", path, RESULT_SCHEMA,
		         schema ? schema : "missing");
		json_decref(r);
		return NULL;
	}
	return r;
}

int result__copy_file(const char *from, const char *to, char *err, size_t errlen)
{
	FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
	char buf[65536];
	size_t n;
	int rc = in && out ? 0 : -1;
	while (rc == 0 && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			rc = -1;
	if (out && (fflush(out) || fsync(fileno(out))))
		rc = -1;
	if (rc < 0)
		snprintf(err, errlen, "cannot copy %s to %s: %s", from, to, strerror(errno));
	if (in)
		(void)fclose(in);
	if (out && fclose(out) && rc == 0) {
		snprintf(err, errlen, "cannot copy %s to %s: %s", from, to, strerror(errno));
		rc = -1;
	}
	return rc;
}
