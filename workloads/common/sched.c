/* workloads/common/sched.c: the binary min-heap of sched.h. The push sequence number makes the
 * order total (due time, then push order), which is what makes ties first in, first out. */
#include "workloads/common/sched.h"

#include <stdlib.h>

int sched_init(struct sched *s, int cap)
{
	*s = (struct sched){ .cap = cap < 0 ? 0 : cap };
	s->e = calloc((size_t)s->cap + 1, sizeof(*s->e));
	return s->e ? 0 : -1;
}

void sched_fini(struct sched *s)
{
	free(s->e);
	*s = (struct sched){ 0 };
}

static int before(const struct sched_entry *a, const struct sched_entry *b)
{
	return a->due_ns < b->due_ns || (a->due_ns == b->due_ns && a->seq < b->seq);
}

int sched_push(struct sched *s, int id, int64_t due_ns)
{
	if (s->n >= s->cap)
		return -1;
	struct sched_entry x = { .due_ns = due_ns, .seq = s->seq++, .id = id };
	int i = s->n++;
	while (i > 0 && before(&x, &s->e[(i - 1) / 2])) { /* sift the hole up */
		s->e[i] = s->e[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	s->e[i] = x;
	return 0;
}

int sched_pop(struct sched *s, int64_t *due_ns)
{
	if (s->n == 0)
		return -1;
	struct sched_entry top = s->e[0], x = s->e[--s->n];
	int n = s->n, i = 0;
	for (;;) { /* sift the last entry down from the root */
		int c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && before(&s->e[c + 1], &s->e[c]))
			c++;
		if (!before(&s->e[c], &x))
			break;
		s->e[i] = s->e[c];
		i = c;
	}
	if (n > 0)
		s->e[i] = x;
	if (due_ns)
		*due_ns = top.due_ns;
	return top.id;
}

int64_t sched_next(const struct sched *s)
{
	return s->n ? s->e[0].due_ns : SCHED_NONE;
}

int sched_len(const struct sched *s)
{
	return s->n;
}
