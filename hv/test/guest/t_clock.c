/* Guest test: clocks read through the C library (which uses the vDSO where the kernel, or hv,
 * gives one). Built with glibc and with musl (hv/module.mk). argv[1]:
 *   read N          every clock id, gettimeofday and time, N times each; prints "read: ok" and the
 *                   REALTIME seconds (compared with the host's by hv/test/vdso.sh)
 *   monotonic T S   T threads read CLOCK_MONOTONIC for S seconds; "monotonic: ok" when none saw it
 *                   go backwards or jump by more than 1 s between two reads
 *   sleep           nanosleep(1 s); prints the MONOTONIC time it took, in tenths of a second
 * Each mode is bounded and stops by itself; counts go to stderr. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static int64_t ns_of(clockid_t id)
{
	struct timespec t;
	if (clock_gettime(id, &t) != 0) {
		perror("clock_gettime");
		exit(1);
	}
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int mode_read(long n)
{
	static const clockid_t ids[] = { CLOCK_REALTIME,        CLOCK_MONOTONIC,
		                         CLOCK_BOOTTIME,        CLOCK_TAI,
		                         CLOCK_MONOTONIC_RAW,   CLOCK_REALTIME_COARSE,
		                         CLOCK_MONOTONIC_COARSE };
	int64_t sum = 0;
	for (long i = 0; i < n; i++) {
		for (size_t k = 0; k < sizeof(ids) / sizeof(*ids); k++)
			sum += ns_of(ids[k]) & 1;
		struct timeval tv;
		gettimeofday(&tv, NULL);
		sum += time(NULL) & 1;
	}
	int64_t mono = ns_of(CLOCK_MONOTONIC), boot = ns_of(CLOCK_BOOTTIME);
	int64_t rt = ns_of(CLOCK_REALTIME), tai = ns_of(CLOCK_TAI);
	struct timeval tv;
	gettimeofday(&tv, NULL);
	/* the relations between clocks the host keeps: BOOTTIME >= MONOTONIC, TAI ahead of UTC */
	int sane = boot >= mono && tai - rt >= 0 && tai - rt < 100LL * 1000000000 &&
	           llabs(tv.tv_sec - rt / 1000000000) <= 1 &&
	           llabs(time(NULL) - rt / 1000000000) <= 1;
	fprintf(stderr, "read: %ld rounds (%lld)\n", n, (long long)sum);
	printf("read: %s\nrealtime_s %lld\n", sane ? "ok" : "inconsistent clocks",
	       (long long)(rt / 1000000000));
	return sane ? 0 : 1;
}

struct reader {
	int64_t until, reads, backwards, jumps;
};

static void *read_monotonic(void *arg)
{
	struct reader *r = arg;
	int64_t last = ns_of(CLOCK_MONOTONIC), now;
	do {
		now = ns_of(CLOCK_MONOTONIC);
		r->backwards += now < last;
		r->jumps += now - last > 1000000000LL;
		last = now;
		r->reads++;
	} while (now < r->until);
	return NULL;
}

static int mode_monotonic(int threads, int seconds)
{
	struct reader r[64];
	pthread_t th[64];
	if (threads < 1 || threads > 64)
		return 2;
	int64_t until = ns_of(CLOCK_MONOTONIC) + (int64_t)seconds * 1000000000LL;
	for (int i = 0; i < threads; i++) {
		r[i] = (struct reader){ .until = until };
		if (pthread_create(&th[i], NULL, read_monotonic, &r[i]) != 0)
			return 1;
	}
	int64_t reads = 0, bad = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		reads += r[i].reads;
		bad += r[i].backwards + r[i].jumps;
	}
	fprintf(stderr, "monotonic: %lld reads on %d threads, %lld backwards or jumps\n",
	        (long long)reads, threads, (long long)bad);
	printf("monotonic: %s\n", bad ? "went backwards or jumped" : "ok");
	return bad ? 1 : 0;
}

static int mode_sleep(void)
{
	int64_t t0 = ns_of(CLOCK_MONOTONIC);
	struct timespec s = { 1, 0 };
	nanosleep(&s, NULL);
	int64_t t1 = ns_of(CLOCK_MONOTONIC);
	printf("slept_tenths %lld\n", (long long)((t1 - t0 + 50000000) / 100000000));
	return 0;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";
	long n1 = argc > 2 ? strtol(argv[2], NULL, 10) : -1,
	     n2 = argc > 3 ? strtol(argv[3], NULL, 10) : -1;
	if (!strcmp(m, "read"))
		return mode_read(n1 > 0 ? n1 : 1000);
	if (!strcmp(m, "monotonic"))
		return mode_monotonic(n1 > 0 ? (int)n1 : 8, n2 > 0 ? (int)n2 : 10);
	if (!strcmp(m, "sleep"))
		return mode_sleep();
	fprintf(stderr, "usage: t_clock read N | monotonic THREADS SECONDS | sleep\n");
	return 2;
}
