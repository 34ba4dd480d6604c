/* Guest conformance test: 200 MiB of malloc churn with patterns verified before each free,
 * anonymous mmap/munmap/mremap, and a shared file mapping read back with read(). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

#define SLOTS 256

int main(void)
{
	unsigned char *slot[SLOTS] = { 0 };
	size_t size[SLOTS] = { 0 };
	uint64_t total = 0, bad = 0, checksum = 0;
	while (total < 200ULL << 20) {
		int i = (int)(next() % SLOTS);
		if (slot[i]) {
			for (size_t k = 0; k < size[i]; k += 4093)
				bad += slot[i][k] != (unsigned char)(i + k);
			checksum += slot[i][size[i] - 1];
			free(slot[i]);
		}
		size[i] = 1024 + next() % (next() % 8 == 0 ? 4 << 20 : 64 << 10);
		slot[i] = malloc(size[i]);
		if (!slot[i]) {
			printf("malloc failed\n");
			return 1;
		}
		for (size_t k = 0; k < size[i]; k += 4093)
			slot[i][k] = (unsigned char)(i + k);
		slot[i][size[i] - 1] = (unsigned char)i;
		total += size[i];
	}
	for (int i = 0; i < SLOTS; i++)
		free(slot[i]);
	printf("churned >= 200 MiB, pattern errors %llu, checksum %llu\n", (unsigned long long)bad,
	       (unsigned long long)checksum);

	size_t len = 64 << 20;
	unsigned char *m =
	    mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("mmap 64 MiB: %s\n", m == MAP_FAILED ? "failed" : "ok");
	int zero = 1;
	for (size_t k = 0; k < len; k += 4096)
		zero &= m[k] == 0;
	memset(m, 0xab, len);
	printf("fresh mapping reads zero: %d\n", zero);
	m = mremap(m, len, 2 * len, MREMAP_MAYMOVE);
	printf("mremap to 128 MiB keeps data: %d, new part zero: %d\n", m[len - 1] == 0xab,
	       m[2 * len - 1] == 0);
	printf("munmap: %d\n", munmap(m, 2 * len));
	unsigned char *again =
	    mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("reused memory reads zero: %d\n", again[0] == 0 && again[4095] == 0);
	madvise(again, 4096, MADV_DONTNEED);

	int fd = open("mapped.bin", O_CREAT | O_RDWR | O_TRUNC, 0644);
	ftruncate(fd, 8192);
	char *f = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	printf("file mmap: %s\n", f == MAP_FAILED ? "failed" : "ok");
	// NOLINTNEXTLINE(clang-analyzer-security.insecureAPI.strcpy): a literal into a page
	strcpy(f + 4096, "written through a shared mapping");
	msync(f, 8192, MS_SYNC);
	char buf[64] = { 0 };
	pread(fd, buf, sizeof(buf) - 1, 4096);
	printf("read back: %s\n", buf);
	pwrite(fd, "changed by write", 16, 0);
	printf("mapping sees write: %.16s\n", f);
	munmap(f, 8192);
	char *p = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, fd, 0);
	printf("private file mapping: %.16s\n", p);
	munmap(p, 8192);
	close(fd);
	unlink("mapped.bin");
	return 0;
}
