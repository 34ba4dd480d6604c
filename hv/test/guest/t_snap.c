/* Guest test program for snapshots (hv/test/snapshot.sh): holds one of each kind of state a
 * snapshot must carry (a file with an offset, a pipe with bytes in it, an eventfd count, an armed
 * timerfd, an epoll set, a listening socket, a connected TCP socket, a thread counting with the
 * MONOTONIC clock, a thread blocked on a condition variable, the main thread blocked in a call),
 * serves line commands on one TCP connection, and on "check" says whether all of it is intact.
 *   t_snap PORT [MIB]  listens on PORT, prints "ready pid=P counter=N" and serves one client:
 *                      "echo TEXT" -> "TEXT", "check" -> "check ok ..." or "check FAIL: why",
 *                      "quit" -> exits 0. With MIB, a thread rewrites MIB MiB of memory over and
 *                      over (pass number into every page, in order): a live migration has pages
 *                      to chase, and "check" finds a page the migration lost (a stale pass). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static atomic_long counter;
static atomic_int stop, backwards;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int woken;
static atomic_long calls;
static atomic_int wrong_calls;

/* System calls back to back, so that a pause often finds this thread just after one (its exit
 * completed only by KVM's next KVM_RUN): a snapshot that saved that half-done state would make
 * the restored thread run the call's `out` again, and this thread would see another answer. */
static void *caller(void *arg)
{
	long ppid = (long)arg;
	while (!atomic_load(&stop)) {
		if (syscall(SYS_getppid) != ppid)
			atomic_fetch_add(&wrong_calls, 1);
		atomic_fetch_add(&calls, 1);
	}
	return NULL;
}
static uint64_t *dirty_mem;
static size_t dirty_pages;
static atomic_int dirty_hold, dirty_held;

/* Pass after pass, the pass number into the first word of every page, in order. */
static void *dirtier(void *arg)
{
	(void)arg;
	for (uint64_t pass = 1; !atomic_load(&stop); pass++) {
		for (size_t i = 0; i < dirty_pages; i++)
			dirty_mem[i * 512] = pass;
		while (atomic_load(&dirty_hold) && !atomic_load(&stop)) {
			atomic_store(&dirty_held, 1);
			struct timespec ms = { 0, 1000000 };
			nanosleep(&ms, NULL);
		}
		atomic_store(&dirty_held, 0);
	}
	return NULL;
}

/* Between passes every page holds the same pass number: any other is a lost page. */
static int dirty_check(char *out, size_t n)
{
	if (!dirty_pages)
		return 0;
	atomic_store(&dirty_hold, 1);
	while (!atomic_load(&dirty_held)) {
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
	}
	uint64_t want = dirty_mem[0];
	int rc = 0;
	for (size_t i = 0; i < dirty_pages && !rc; i++)
		if (dirty_mem[i * 512] != want) {
			snprintf(out, n,
			         "FAIL: page %zu of the rewritten memory holds pass %llu, not %llu",
			         i, (unsigned long long)dirty_mem[i * 512],
			         (unsigned long long)want);
			rc = -1;
		}
	atomic_store(&dirty_hold, 0);
	return rc;
}

static int64_t mono_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void *count(void *arg)
{
	(void)arg;
	int64_t last = mono_ns();
	while (!atomic_load(&stop)) {
		int64_t now = mono_ns();
		if (now < last)
			atomic_fetch_add(&backwards, 1);
		last = now;
		atomic_fetch_add(&counter, 1);
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
	}
	return NULL;
}

static void *sleeper(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	while (!woken)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	return (void *)42L;
}

struct state {
	int file, pipe_r, pipe_w, ev, timer, ep;
	long counter0;
};

static void setup(struct state *s)
{
	int p[2];
	s->file = open("/state.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (s->file < 0 || write(s->file, "abc", 3) != 3 || pipe2(p, O_NONBLOCK) < 0 ||
	    write(p[1], "xyz", 3) != 3) {
		perror("setup");
		exit(1);
	}
	s->pipe_r = p[0];
	s->pipe_w = p[1];
	s->ev = eventfd(5, EFD_NONBLOCK);
	s->timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	struct itimerspec it = { { 0, 20000000 }, { 0, 20000000 } };
	timerfd_settime(s->timer, 0, &it, NULL);
	s->ep = epoll_create1(0);
	struct epoll_event e1 = { .events = EPOLLIN, .data.u64 = 11 };
	struct epoll_event e2 = { .events = EPOLLIN, .data.u64 = 22 };
	if (s->ev < 0 || s->timer < 0 || s->ep < 0 ||
	    epoll_ctl(s->ep, EPOLL_CTL_ADD, s->pipe_r, &e1) < 0 ||
	    epoll_ctl(s->ep, EPOLL_CTL_ADD, s->ev, &e2) < 0) {
		perror("setup");
		exit(1);
	}
}

/* Every piece of state as set up, the threads alive: "ok ..." (and the state set up again) or
 * "FAIL: what". */
static void check(struct state *s, char *out, size_t n)
{
	char buf[16] = "";
	uint64_t v = 0, ticks = 0;
	struct epoll_event ev[4];
	int ne = epoll_wait(s->ep, ev, 4, 0);
	uint64_t seen = 0;
	for (int i = 0; i < ne; i++)
		seen += ev[i].data.u64;
	if (ne != 2 || seen != 33) {
		snprintf(out, n, "FAIL: epoll reported %d ready (data sum %llu, want 2, 33)", ne,
		         (unsigned long long)seen);
		return;
	}
	if (read(s->pipe_r, buf, sizeof(buf)) != 3 || memcmp(buf, "xyz", 3)) {
		snprintf(out, n, "FAIL: the pipe did not hold xyz");
		return;
	}
	if (read(s->ev, &v, 8) != 8 || v != 5) {
		snprintf(out, n, "FAIL: the eventfd read %llu, not 5", (unsigned long long)v);
		return;
	}
	struct timespec ms = { 0, 50000000 };
	nanosleep(&ms, NULL);
	if (read(s->timer, &ticks, 8) != 8 || ticks == 0) {
		snprintf(out, n, "FAIL: the timerfd did not fire");
		return;
	}
	char file[16] = "";
	if (write(s->file, "def", 3) != 3 || pread(s->file, file, sizeof(file) - 1, 0) != 6 ||
	    strcmp(file, "abcdef")) {
		snprintf(out, n, "FAIL: the file reads \"%s\", not abcdef (offset lost)", file);
		return;
	}
	if (dirty_check(out, n) < 0)
		return;
	if (atomic_load(&wrong_calls) || atomic_load(&calls) == 0) {
		snprintf(out, n, "FAIL: %d of %ld getppid calls answered something else",
		         atomic_load(&wrong_calls), atomic_load(&calls));
		return;
	}
	long c = atomic_load(&counter);
	if (c <= s->counter0 || atomic_load(&backwards)) {
		snprintf(out, n, "FAIL: counter %ld (was %ld), MONOTONIC went back %d times", c,
		         s->counter0, atomic_load(&backwards));
		return;
	}
	/* everything as set up again, so a check after another move finds the same */
	uint64_t five = 5;
	if (write(s->pipe_w, "xyz", 3) != 3 || write(s->ev, &five, 8) != 8 ||
	    ftruncate(s->file, 3) < 0 || lseek(s->file, 3, SEEK_SET) != 3) {
		snprintf(out, n, "FAIL: setting the state up again: %s", strerror(errno));
		return;
	}
	s->counter0 = c;
	snprintf(out, n, "ok pid=%d counter=%ld ticks=%llu", (int)getpid(), c,
	         (unsigned long long)ticks);
}

static int serve(int conn, struct state *s)
{
	FILE *in = fdopen(conn, "r");
	char line[512], reply[600];
	while (in && fgets(line, sizeof(line), in)) {
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "echo ", 5))
			snprintf(reply, sizeof(reply), "%s\n", line + 5);
		else if (!strcmp(line, "check")) {
			char r[400];
			check(s, r, sizeof(r));
			snprintf(reply, sizeof(reply), "check %s\n", r);
		} else if (!strcmp(line, "quit"))
			return 0;
		else
			snprintf(reply, sizeof(reply), "unknown %s\n", line);
		if (write(conn, reply, strlen(reply)) < 0)
			return 1;
	}
	return 1;
}

/* A decimal argument in [0, max]: 0, or -1 when it is not one. */
static int arg_num(const char *s, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	long port, mib = 0;
	if ((argc != 2 && argc != 3) || arg_num(argv[1], 65535, &port) < 0 ||
	    (argc == 3 && arg_num(argv[2], 65536, &mib) < 0)) {
		fprintf(stderr, "usage: t_snap PORT [MIB]\n");
		return 2;
	}
	dirty_pages = (size_t)mib * 256;
	dirty_mem = dirty_pages ? calloc(dirty_pages, 4096) : NULL;
	if (dirty_pages && !dirty_mem) {
		perror("calloc");
		return 1;
	}
	pthread_t t3;
	const int dirtying = dirty_pages != 0;
	if (dirtying && pthread_create(&t3, NULL, dirtier, NULL) != 0) {
		fprintf(stderr, "pthread_create failed\n");
		return 1;
	}
	struct state s;
	setup(&s);
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 4) < 0) {
		perror("listen");
		close(l);
		return 1;
	}
	pthread_t t1, t2, t4;
	if (pthread_create(&t4, NULL, caller, (void *)(long)getppid()) != 0 ||
	    pthread_create(&t1, NULL, count, NULL) != 0 ||
	    pthread_create(&t2, NULL, sleeper, NULL) != 0) {
		fprintf(stderr, "pthread_create failed\n");
		close(l);
		return 1;
	}
	while (atomic_load(&counter) < 20) {
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
	}
	s.counter0 = atomic_load(&counter);
	printf("ready pid=%d counter=%ld\n", (int)getpid(), s.counter0);
	if (fflush(stdout) != 0) {
		perror("stdout");
		return 1;
	}
	int conn = accept(l, NULL, NULL); /* blocked here, or in serve()'s read, at the snapshot */
	if (conn < 0) {
		perror("accept");
		return 1;
	}
	int rc = serve(conn, &s);
	pthread_mutex_lock(&lock);
	woken = 1;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	void *r;
	pthread_join(t2, &r);
	atomic_store(&stop, 1);
	pthread_join(t1, NULL);
	pthread_join(t4, NULL);
	if (dirtying)
		pthread_join(t3, NULL);
	printf("done rc=%d sleeper=%ld\n", rc, (long)r);
	return rc || r != (void *)42L;
}
