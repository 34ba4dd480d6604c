/* hv/fdtab.c: guest fd -> shared host file, with reference counts (see fdtab.h). */
#include "hv/fdtab.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

int fdtab__init(struct fdtab *t, int max)
{
	pthread_mutex_init(&t->lock, NULL);
	t->n = 64;
	t->max = max;
	t->e = calloc(t->n, sizeof(*t->e));
	return t->e ? 0 : -ENOMEM;
}

static void unref_locked(struct hfile *f)
{
	if (--f->refs == 0) {
		close(f->host);
		free(f);
	}
}

void fdtab__free(struct fdtab *t)
{
	for (int i = 0; i < t->n; i++)
		if (t->e[i].f)
			unref_locked(t->e[i].f);
	free(t->e);
	t->e = NULL;
	pthread_mutex_destroy(&t->lock);
}

static int lowest_free(struct fdtab *t, int min)
{
	for (int i = min; i < t->max; i++) {
		if (i >= t->n) {
			int n = t->n;
			while (n <= i)
				n *= 2;
			if (n > t->max)
				n = t->max;
			struct fd_entry *e = realloc(t->e, n * sizeof(*e));
			if (!e)
				return -ENOMEM;
			for (int j = t->n; j < n; j++)
				e[j] = (struct fd_entry){ 0 };
			t->e = e;
			t->n = n;
		}
		if (!t->e[i].f)
			return i;
	}
	return -EMFILE;
}

int fdtab__install(struct fdtab *t, int host, int cloexec, int min)
{
	struct hfile *f = malloc(sizeof(*f));
	if (!f) {
		close(host);
		return -ENOMEM;
	}
	f->host = host;
	f->refs = 1;
	pthread_mutex_lock(&t->lock);
	int fd = lowest_free(t, min);
	if (fd >= 0)
		t->e[fd] = (struct fd_entry){ f, cloexec };
	pthread_mutex_unlock(&t->lock);
	if (fd < 0) {
		close(host);
		free(f);
	}
	return fd;
}

struct hfile *fdtab__get(struct fdtab *t, int fd)
{
	struct hfile *f = NULL;
	pthread_mutex_lock(&t->lock);
	if (fd >= 0 && fd < t->n && t->e[fd].f) {
		f = t->e[fd].f;
		f->refs++;
	}
	pthread_mutex_unlock(&t->lock);
	return f;
}

void fdtab__put(struct fdtab *t, struct hfile *f)
{
	pthread_mutex_lock(&t->lock);
	unref_locked(f);
	pthread_mutex_unlock(&t->lock);
}

int fdtab__valid(struct fdtab *t, int fd)
{
	pthread_mutex_lock(&t->lock);
	int ok = fd >= 0 && fd < t->n && t->e[fd].f;
	pthread_mutex_unlock(&t->lock);
	return ok;
}

int fdtab__close(struct fdtab *t, int fd)
{
	int rc = -EBADF;
	pthread_mutex_lock(&t->lock);
	if (fd >= 0 && fd < t->n && t->e[fd].f) {
		unref_locked(t->e[fd].f);
		t->e[fd] = (struct fd_entry){ 0 };
		rc = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int fdtab__dup(struct fdtab *t, int oldfd, int newfd, int min, int cloexec)
{
	int rc;
	pthread_mutex_lock(&t->lock);
	if (oldfd < 0 || oldfd >= t->n || !t->e[oldfd].f) {
		rc = -EBADF;
	} else if (newfd == oldfd) {
		rc = newfd;
	} else {
		if (newfd < 0) {
			rc = lowest_free(t, min);
		} else if (newfd >= t->max) {
			rc = -EBADF;
		} else {
			/* Grows the table to cover newfd; an open newfd is replaced below. */
			rc = lowest_free(t, newfd);
			rc = rc == -ENOMEM ? rc : newfd;
		}
		if (rc >= 0) {
			struct hfile *f = t->e[oldfd].f;
			f->refs++;
			if (t->e[rc].f)
				unref_locked(t->e[rc].f);
			t->e[rc] = (struct fd_entry){ f, cloexec };
		}
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int fdtab__cloexec(struct fdtab *t, int fd, int set)
{
	int rc = -EBADF;
	pthread_mutex_lock(&t->lock);
	if (fd >= 0 && fd < t->n && t->e[fd].f) {
		if (set >= 0)
			t->e[fd].cloexec = set;
		rc = t->e[fd].cloexec;
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

void fdtab__close_on_exec(struct fdtab *t)
{
	pthread_mutex_lock(&t->lock);
	for (int i = 0; i < t->n; i++) {
		if (t->e[i].f && t->e[i].cloexec) {
			unref_locked(t->e[i].f);
			t->e[i] = (struct fd_entry){ 0 };
		}
	}
	pthread_mutex_unlock(&t->lock);
}

int fdtab__next(struct fdtab *t, int fd, struct hfile **f, int *cloexec)
{
	int rc = -1;
	pthread_mutex_lock(&t->lock);
	for (int i = fd < 0 ? 0 : fd; i < t->n; i++) {
		if (t->e[i].f) {
			*f = t->e[i].f;
			(*f)->refs++;
			*cloexec = t->e[i].cloexec;
			rc = i;
			break;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

void fdtab__swap(struct fdtab *a, struct fdtab *b)
{
	struct fd_entry *e = a->e;
	int n = a->n, max = a->max;
	a->e = b->e, a->n = b->n, a->max = b->max;
	b->e = e, b->n = n, b->max = max;
}
