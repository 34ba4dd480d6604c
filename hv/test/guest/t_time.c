/* Guest conformance test: clocks and sleeps. Prints properties, not readings. */
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

static double now(clockid_t id)
{
	struct timespec t;
	clock_gettime(id, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(void)
{
	double m0 = now(CLOCK_MONOTONIC), r0 = now(CLOCK_REALTIME);
	struct timespec s = { 0, 50 * 1000 * 1000 };
	nanosleep(&s, NULL);
	double m1 = now(CLOCK_MONOTONIC);
	printf("nanosleep 50ms slept at least 50ms: %d\n", m1 - m0 >= 0.050);
	printf("and less than 2s: %d\n", m1 - m0 < 2.0);
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += 20 * 1000 * 1000;
	if (until.tv_nsec >= 1000000000L)
		until.tv_sec++, until.tv_nsec -= 1000000000L;
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
	double m2 = now(CLOCK_MONOTONIC);
	printf("absolute sleep reached its deadline: %d\n",
	       m2 >= until.tv_sec + until.tv_nsec / 1e9);
	printf("realtime is after 2020: %d\n", r0 > 1577836800.0);
	struct timeval tv;
	gettimeofday(&tv, NULL);
	printf("gettimeofday agrees with realtime: %d\n", tv.tv_sec - (long)r0 < 5);
	printf("time() agrees: %d\n", time(NULL) - (long)r0 < 5);
	double c0 = now(CLOCK_PROCESS_CPUTIME_ID);
	volatile double x = 0;
	for (int i = 0; i < 20000000; i++)
		x += i;
	printf("cpu clock advanced: %d\n", now(CLOCK_PROCESS_CPUTIME_ID) > c0);
	struct timespec res;
	clock_getres(CLOCK_MONOTONIC, &res);
	printf("monotonic resolution <= 1ms: %d\n", res.tv_sec == 0 && res.tv_nsec <= 1000000);
	return 0;
}
