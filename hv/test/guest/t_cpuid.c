/* Guest test: what CPU the guest sees (CPUID as glibc's start-up read it), and that code using the
 * visible features runs. Prints one line per feature. */
#include <stdio.h>
#include <string.h>

int main(void)
{
	__builtin_cpu_init();
	printf("sse4.2 %d\n", !!__builtin_cpu_supports("sse4.2"));
	printf("avx %d\n", !!__builtin_cpu_supports("avx"));
	printf("avx2 %d\n", !!__builtin_cpu_supports("avx2"));
	printf("avx512f %d\n", !!__builtin_cpu_supports("avx512f"));
	static char a[1 << 20], b[1 << 20];
	memset(a, 7, sizeof(a));
	memcpy(b, a, sizeof(b)); /* glibc picks its memcpy by CPUID: it must run */
	printf("memcpy ok %d\n", memcmp(a, b, sizeof(a)) == 0);
	return 0;
}
