/* Guest benchmark program for hv/bench/run.sh: one measurement per run, printed as "name value
 * unit". Modes: loop N (CPU-bound loop, ns per iteration), syscall N (getppid round trip, ns),
 * threads N (pthread_create + join, us), touch MB (first touch of fresh pages, ns per 4 KiB page),
 * first (exits at once: VM start-up is read from vcons-hv --stats). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static void *nothing(void *a)
{
	return a;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "first";
	// NOLINTNEXTLINE(cert-err34-c): a bench's count from its script
	long n = argc > 2 ? atol(argv[2]) : 1;
	double t0 = now_ns();
	if (!strcmp(mode, "loop")) {
		for (long i = 0; i < n; i++)
			__asm__ volatile("" ::: "memory");
		printf("loop_ns_per_iter %.4f ns\n", (now_ns() - t0) / n);
	} else if (!strcmp(mode, "syscall")) {
		for (long i = 0; i < n; i++)
			syscall(SYS_getppid);
		printf("null_syscall %.3f ns\n", (now_ns() - t0) / n);
	} else if (!strcmp(mode, "threads")) {
		for (long i = 0; i < n; i++) {
			pthread_t t;
			pthread_create(&t, NULL, nothing, NULL);
			pthread_join(t, NULL);
		}
		printf("thread_create_join %.3f us\n", (now_ns() - t0) / n / 1000);
	} else if (!strcmp(mode, "touch")) {
		size_t len = (size_t)n << 20;
		char *p =
		    mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		t0 = now_ns();
		for (size_t k = 0; k < len; k += 4096)
			p[k] = 1;
		// NOLINTNEXTLINE(bugprone-integer-division): whole pages
		printf("first_touch_per_page %.1f ns\n", (now_ns() - t0) / (len / 4096));
	}
	return 0;
}
