/* Guest conformance test: a robust mutex held by a thread that exits is reported EOWNERDEAD to the
 * next locker, who makes it consistent (the kernel's robust-list walk, done by hv at thread exit).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t m;

static void *die_holding(void *a)
{
	pthread_mutex_lock(&m);
	return a; /* exits without unlocking */
}

int main(void)
{
	pthread_mutexattr_t at;
	pthread_mutexattr_init(&at);
	pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&m, &at);
	pthread_t t;
	pthread_create(&t, NULL, die_holding, NULL);
	pthread_join(t, NULL);
	int rc = pthread_mutex_lock(&m);
	printf("lock after the owner died: %s\n", rc == EOWNERDEAD ? "EOWNERDEAD" : strerror(rc));
	printf("consistent: %d\n", pthread_mutex_consistent(&m));
	int un = pthread_mutex_unlock(&m);
	int re = pthread_mutex_lock(&m);
	printf("unlock: %d, relock: %d\n", un, re);
	return rc == EOWNERDEAD ? 0 : 1;
}
