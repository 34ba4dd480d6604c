/* Guest conformance test: files and directories. Prints a deterministic transcript; the e2e test
 * compares it between a native run and a run under vcons-hv. Uses relative paths only. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECK(expr) report(#expr, (long)(expr))

static void report(const char *what, long rc)
{
	printf("%-60s -> %s\n", what, rc < 0 ? strerrorname_np(errno) : "ok");
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list(const char *dir)
{
	DIR *d = opendir(dir);
	char *names[64];
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)) && n < 64)
		names[n++] = strdup(e->d_name);
	if (d)
		closedir(d);
	// cppcheck-suppress uninitvar ; n of them are set
	qsort(names, n, sizeof(*names), cmp);
	printf("ls %s:", dir);
	for (int i = 0; i < n; i++) {
		printf(" %s", names[i]);
		free(names[i]);
	}
	printf("\n");
}

int main(void)
{
	char buf[256];
	CHECK(mkdir("t", 0755));
	CHECK(mkdir("t/sub", 0700));
	CHECK(mkdir("t", 0755));
	int fd = open("t/a.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
	CHECK(fd);
	CHECK(write(fd, "hello, world\n", 13));
	CHECK(pwrite(fd, "HELLO", 5, 0));
	CHECK(fsync(fd));
	CHECK(fdatasync(fd));
	memset(buf, 0, sizeof(buf));
	CHECK(pread(fd, buf, 100, 0));
	printf("content: %s", buf);
	CHECK(lseek(fd, 7, SEEK_SET));
	memset(buf, 0, sizeof(buf));
	CHECK(read(fd, buf, 5));
	printf("at 7: %s\n", buf);
	struct stat st;
	CHECK(fstat(fd, &st));
	printf("size %lld mode %o\n", (long long)st.st_size, st.st_mode & 0777);
	CHECK(ftruncate(fd, 5));
	CHECK(stat("t/a.txt", &st));
	printf("size after truncate %lld\n", (long long)st.st_size);

	/* Locks between two open file descriptions of one process: OFD locks conflict. */
	int fd2 = open("t/a.txt", O_RDWR);
	struct flock l = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
	CHECK(fcntl(fd, F_OFD_SETLK, &l));
	CHECK(fcntl(fd2, F_OFD_SETLK, &l));
	l.l_type = F_UNLCK;
	CHECK(fcntl(fd, F_OFD_SETLK, &l));
	l.l_type = F_WRLCK;
	CHECK(fcntl(fd2, F_OFD_SETLK, &l));
	struct flock q = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	CHECK(fcntl(fd, F_OFD_GETLK, &q));
	printf("getlk type %s\n", q.l_type == F_WRLCK ? "F_WRLCK" : "other");
	CHECK(fcntl(fd, F_SETLK, &(struct flock){ .l_type = F_RDLCK, .l_whence = SEEK_SET }));
	CHECK(close(fd2));

	CHECK(rename("t/a.txt", "t/sub/b.txt"));
	CHECK(access("t/a.txt", F_OK));
	CHECK(access("t/sub/b.txt", R_OK | W_OK));
	CHECK(symlink("sub/b.txt", "t/link"));
	memset(buf, 0, sizeof(buf));
	CHECK(readlink("t/link", buf, sizeof(buf)));
	printf("link -> %s\n", buf);
	CHECK(lstat("t/link", &st));
	printf("lstat is link: %d\n", S_ISLNK(st.st_mode));
	CHECK(stat("t/link", &st));
	printf("stat through link size %lld\n", (long long)st.st_size);
	CHECK(link("t/sub/b.txt", "t/hard"));
	CHECK(stat("t/hard", &st));
	printf("nlink %lu\n", (unsigned long)st.st_nlink);
	list("t");
	list("t/sub");
	CHECK(chdir("t/sub"));
	CHECK(getcwd(buf, sizeof(buf)) ? 0 : -1);
	printf("cwd ends with t/sub: %d\n",
	       strlen(buf) >= 5 && !strcmp(buf + strlen(buf) - 5, "t/sub"));
	CHECK(open("../hard", O_RDONLY));
	CHECK(chdir("../.."));
	int dfd = open("t", O_RDONLY | O_DIRECTORY);
	CHECK(dfd);
	CHECK(openat(dfd, "sub/b.txt", O_RDONLY));
	CHECK(mkdirat(dfd, "sub2", 0755));
	CHECK(renameat(dfd, "sub2", dfd, "sub3"));
	CHECK(unlinkat(dfd, "sub3", AT_REMOVEDIR));
	CHECK(fstatat(dfd, "link", &st, AT_SYMLINK_NOFOLLOW));
	CHECK(unlink("t/link"));
	CHECK(unlink("t/hard"));
	CHECK(unlink("t/sub/b.txt"));
	CHECK(rmdir("t/sub"));
	CHECK(rmdir("t/nonexistent"));
	CHECK(unlink("t"));
	CHECK(rmdir("t"));

	int p[2];
	CHECK(pipe(p));
	CHECK(write(p[1], "through a pipe", 14));
	memset(buf, 0, sizeof(buf));
	CHECK(read(p[0], buf, sizeof(buf)));
	printf("pipe: %s\n", buf);
	CHECK(dup2(p[0], 10));
	CHECK(fcntl(10, F_GETFD));
	CHECK(fcntl(p[0], F_DUPFD_CLOEXEC, 20));
	CHECK(fcntl(20, F_GETFD) == FD_CLOEXEC ? 0 : -1);
	CHECK(close(10));
	CHECK(close(10));
	// cppcheck-suppress invalidFunctionArg ; the test: the VM answers EBADF
	CHECK(read(-1, buf, 1));
	printf("done\n");
	// cppcheck-suppress resourceLeak ; fd2 is closed unless a CHECK failed and returned
	return 0;
}
