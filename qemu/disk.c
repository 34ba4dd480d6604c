/* qemu/disk.c: the VM's disk and per-run initramfs. The disk image <root>.img is the truth for the
 * VM's data once it exists: it is made from <root> with `mkfs.ext4 -d` (no mount, no loop device)
 * on first use and reused afterwards, so state written by one run (e.g. `vcons-db --load`) is there
 * for the next. Each run appends a small cpio archive to the base initramfs carrying the run's
 * configuration, its arguments (as sh words) and <root>/bin, which the guest copies over the disk's
 * /bin. */
#include "qemu/vq.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int run_wait(char *const argv[])
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawnattr_t at;
	posix_spawnattr_init(&at);
	sigset_t none;
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0)
		return -1;
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int vq_disk_ensure(const struct vq_config *c, char *img, size_t imglen, char *err, size_t errlen)
{
	size_t n = strlen(c->vm.root);
	while (n > 1 && c->vm.root[n - 1] == '/')
		n--;
	if (snprintf(img, imglen, "%.*s.img", (int)n, c->vm.root) >= (int)imglen) {
		snprintf(err, errlen, "--root: path too long");
		return VQ_EXIT_CONFIG;
	}
	if (access(img, R_OK | W_OK) == 0)
		return 0;
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp", img);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)c->disk_bytes) < 0) {
		snprintf(err, errlen, "cannot create the disk image %s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return VQ_EXIT_OSERR;
	}
	close(fd);
	char *argv[] = {
		"mkfs.ext4", "-q", "-F", "-L", "vcons", "-d", (char *)c->vm.root, tmp, NULL
	};
	if (run_wait(argv) < 0) {
		unlink(tmp);
		snprintf(err, errlen, "mkfs.ext4 -d %s failed (is e2fsprogs installed?)",
		         c->vm.root);
		return VQ_EXIT_OSERR;
	}
	if (rename(tmp, img) < 0) {
		snprintf(err, errlen, "cannot rename %s: %s", tmp, strerror(errno));
		return VQ_EXIT_OSERR;
	}
	return 0;
}

/* One newc cpio entry: header, name, padding, data, padding. */
static int cpio_entry(FILE *f, const char *name, unsigned mode, const void *data, size_t len)
{
	static unsigned ino = 1000;
	size_t nlen = strlen(name) + 1;
	if (fprintf(f, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X", ino++, mode,
	            0, 0, 1, 0, len, 0, 0, 0, 0, nlen, 0) < 0)
		return -1;
	/* a failed write sets ferror(f), checked at the end */
	(void)fwrite(name, 1, nlen, f);
	static const char zero[4];
	(void)fwrite(zero, 1, (4 - (110 + nlen) % 4) % 4, f);
	if (len)
		(void)fwrite(data, 1, len, f);
	(void)fwrite(zero, 1, (4 - len % 4) % 4, f);
	return ferror(f) ? -1 : 0;
}

static int cpio_file(FILE *f, const char *name, const char *path)
{
	FILE *in = fopen(path, "rb");
	if (!in)
		return -1;
	struct stat st;
	char *buf = NULL;
	int rc = -1;
	if (fstat(fileno(in), &st) == 0 && (buf = malloc((size_t)st.st_size + 1)) &&
	    fread(buf, 1, (size_t)st.st_size, in) == (size_t)st.st_size)
		rc = cpio_entry(f, name, 0100000 | (st.st_mode & 07777), buf, (size_t)st.st_size);
	free(buf);
	(void)fclose(in);
	return rc;
}

/* Appends s to b as one single-quoted sh word. */
static int sh_word(char *b, size_t len, size_t *used, const char *s)
{
	int rc = 0;
#define PUT(str)                                                                                   \
	rc |= (*used += (size_t)snprintf(b + *used, len > *used ? len - *used : 0, "%s", str)) >=  \
	      len
	PUT(" '");
	for (const char *p = s; *p; p++) {
		char one[2] = { *p, 0 };
		if (*p == '\'')
			PUT("'\\''");
		else
			PUT(one);
	}
	PUT("'");
#undef PUT
	return rc ? -1 : 0;
}

static int write_conf(FILE *f, const struct vq_config *c)
{
	char conf[1024], args[65536];
	size_t cu = 0, au = 0;
	int rc = 0;
	cu += (size_t)snprintf(conf, sizeof(conf), "NET=");
	rc |= sh_word(conf, sizeof(conf), &cu, c->vm.net);
	cu += (size_t)snprintf(conf + cu, sizeof(conf) - cu, "\nNAME=");
	rc |= sh_word(conf, sizeof(conf), &cu, c->vm.name);
	cu += (size_t)snprintf(conf + cu, sizeof(conf) - cu, "\n");
	au += (size_t)snprintf(args, sizeof(args), "set --");
	for (char *const *a = c->vm.argv; *a; a++)
		rc |= sh_word(args, sizeof(args), &au, *a);
	au += (size_t)snprintf(args + au, sizeof(args) - au, "\n");
	if (rc || cu >= sizeof(conf) || au >= sizeof(args))
		return -1;
	return cpio_entry(f, "vcons", 040755, NULL, 0) ||
	               cpio_entry(f, "vcons/conf", 0100644, conf, cu) ||
	               cpio_entry(f, "vcons/args", 0100644, args, au)
	           ? -1
	           : 0;
}

/* <root>/bin's regular files (symbolic links followed) as vcons/bin/NAME. */
static int write_bin(FILE *f, const struct vq_config *c)
{
	char dir[4200], path[4600], name[400];
	snprintf(dir, sizeof(dir), "%s/bin", c->vm.root);
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int rc = cpio_entry(f, "vcons/bin", 040755, NULL, 0);
	struct dirent *e;
	while (!rc && (e = readdir(d))) {
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (e->d_name[0] == '.' || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (snprintf(name, sizeof(name), "vcons/bin/%s", e->d_name) >= (int)sizeof(name))
			continue;
		rc = cpio_file(f, name, path);
	}
	closedir(d);
	return rc;
}

int vq_initrd_build(const struct vq_config *c, const char *out, char *err, size_t errlen)
{
	FILE *in = fopen(c->initrd, "rb"), *f = fopen(out, "wb");
	int rc = in && f ? 0 : -1;
	char buf[65536];
	size_t n, total = 0;
	while (!rc && (n = fread(buf, 1, sizeof(buf), in)) > 0) {
		rc = fwrite(buf, 1, n, f) == n ? 0 : -1;
		total += n;
	}
	static const char zero[4]; /* the next archive starts 4-byte aligned */
	if (!rc)
		(void)fwrite(zero, 1, (4 - total % 4) % 4, f); /* ferror: cpio_entry() */
	rc = rc || write_conf(f, c) || write_bin(f, c) || cpio_entry(f, "TRAILER!!!", 0, NULL, 0);
	if (in)
		(void)fclose(in);
	if (f && fclose(f) != 0)
		rc = -1;
	if (rc)
		snprintf(err, errlen, "cannot write the guest's initramfs %s (arguments too long?)",
		         out);
	return rc ? VQ_EXIT_OSERR : 0;
}
