/* Guest program for hv/bench/snapshot.sh: holds a known amount of touched memory for snapshots,
 * restores and migrations, and optionally keeps dirtying part of it at a steady rate (pre-copy's
 * load). Options:
 *   --touch-mib N        touch N MiB (every 4 KiB page gets a non-zero word: no page is all zeroes,
 *                        so a snapshot saves each one), then print "ready" and flush
 *   --dirty-mib-per-s R  afterwards rewrite the first --dirty-set-mib MiB of it at R MiB/s, in
 *                        10 ms slices; 0 (the default) sleeps instead (an idle guest)
 *   --dirty-set-mib W    the working set rewritten (default: all of the touched memory)
 * Each page's word holds its index and a pass number; a dirtying pass checks every page still holds
 * the value the previous pass wrote before writing the next, so memory a migration lost or mixed up
 * ends the program with "corrupt page ..." and status 1. After each pass it prints "pass N". */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
#define MIB  (1UL << 20)

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static int number(const char *opt, const char *s, unsigned long *v)
{
	char *end = NULL;
	errno = 0;
	if (s)
		*v = strtoul(s, &end, 10);
	if (!s || errno || end == s || *end) {
		fprintf(stderr, "snapguest: %s wants a number, not '%s'\n", opt, s ? s : "");
		return -1;
	}
	return 0;
}

static uint64_t word(uint64_t pass, size_t page)
{
	return pass << 32 | (uint64_t)page;
}

/* Rewrites pages [0, set) of `mem` at `rate` pages per second for ever, checking each first. */
static int dirty(uint64_t *mem, size_t set, double rate)
{
	const size_t stride = PAGE / sizeof(uint64_t);
	uint64_t pass = 1, t0 = now_ns(), done = 0;
	size_t next = 0;
	for (;;) {
		uint64_t due = (uint64_t)((double)(now_ns() - t0) * rate / 1e9);
		for (; done < due; done++) {
			uint64_t *w = &mem[next * stride];
			if (*w != word(pass, next)) {
				printf("corrupt page %zu: %#llx, wanted %#llx\n", next,
				       (unsigned long long)*w,
				       (unsigned long long)word(pass, next));
				return 1;
			}
			*w = word(pass + 1, next);
			if (++next == set) {
				next = 0;
				printf("pass %llu\n", (unsigned long long)pass++);
				if (fflush(stdout) != 0) {
					fprintf(stderr, "snapguest: writing pass: %s\n",
					        strerror(errno));
					return 1;
				}
			}
		}
		struct timespec slice = { 0, 10 * 1000 * 1000 };
		nanosleep(&slice, NULL);
	}
}

int main(int argc, char **argv)
{
	unsigned long touch = 64, rate = 0, set = 0;
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		int rc = 0;
		if (!strcmp(argv[i], "--touch-mib"))
			rc = number(argv[i], v, &touch);
		else if (!strcmp(argv[i], "--dirty-mib-per-s"))
			rc = number(argv[i], v, &rate);
		else if (!strcmp(argv[i], "--dirty-set-mib"))
			rc = number(argv[i], v, &set);
		else {
			fprintf(stderr, "snapguest: unknown option %s\n", argv[i]);
			return 2;
		}
		if (rc < 0)
			return 2;
		i++;
	}
	if (!set || set > touch)
		set = touch;
	size_t len = touch * MIB;
	uint64_t *mem = mmap(NULL, len ? len : PAGE, PROT_READ | PROT_WRITE,
	                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		fprintf(stderr, "snapguest: mmap of %lu MiB: %s\n", touch, strerror(errno));
		return 1;
	}
	for (size_t p = 0; p < len / PAGE; p++)
		mem[p * (PAGE / sizeof(uint64_t))] = word(1, p);
	printf("ready\n");
	if (fflush(stdout) != 0) {
		fprintf(stderr, "snapguest: writing ready: %s\n", strerror(errno));
		return 1;
	}
	if (rate)
		return dirty(mem, set * MIB / PAGE, (double)rate * MIB / PAGE);
	for (;;)
		sleep(3600);
}
