/* workloads/web/bank.c: banking state and its append-only journal (see bank.h).
 *
 * Record: "T <user> <seq> <amount> <balance> <payee> <fnv1a64-hex of everything before it>\n".
 * Replay checks each record's checksum and that seq and balance follow from the previous state;
 * the first record that does not (a torn write after a crash) ends the journal: the file is
 * truncated there so new records append after the last good one. */
#include "workloads/web/bank.h"
#include "workloads/web/fileset.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct bank_user {
	int64_t balance;
	uint64_t seq;
	int head; /* next slot of recent[] */
	struct bank_txn recent[BANK_RECENT];
};

struct bank {
	pthread_mutex_t lock;
	int fd;
	off_t end; /* journal length: the next record's offset (pwrite there, no seek) */
	int users;
	struct bank_user *u;
};

int64_t bank_initial_balance(int user)
{
	return 100000000LL + (int64_t)(user % 1000) * 100;
}

static int payee_ok(const char *p, size_t n)
{
	if (n == 0 || n > BANK_PAYEE_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static void apply(struct bank_user *u, const struct bank_txn *t)
{
	u->balance = t->balance;
	u->seq = t->seq;
	u->recent[u->head] = *t;
	u->head = (u->head + 1) % BANK_RECENT;
}

/* Formats a record into line (>= 160 bytes); returns its length. */
static int format_record(char *line, size_t cap, int user, const struct bank_txn *t)
{
	int n = snprintf(line, cap, "T %d %" PRIu64 " %" PRId64 " %" PRId64 " %s ", user, t->seq,
	                 t->amount, t->balance, t->payee);
	n += snprintf(line + n, cap - (size_t)n, "%016" PRIx64 "\n", fnv1a64(line, (size_t)n));
	return n;
}

/* Parses and checks one record line (without its '\n') against the state; 0 when good. */
static int replay_line(struct bank *b, char *line, size_t len)
{
	char *sp = NULL;
	for (size_t i = len; i > 0; i--)
		if (line[i - 1] == ' ') {
			sp = line + i - 1;
			break;
		}
	if (!sp || len - (size_t)(sp + 1 - line) != 16)
		return -1;
	char sum[17];
	memcpy(sum, sp + 1, 16);
	sum[16] = 0;
	char want[17];
	snprintf(want, sizeof(want), "%016" PRIx64, fnv1a64(line, (size_t)(sp + 1 - line)));
	if (strcmp(sum, want) != 0)
		return -1;
	*sp = 0;
	int user;
	struct bank_txn t;
	char payee[64];
	// NOLINTNEXTLINE(cert-err34-c): the bank's own journal
	if (sscanf(line, "T %d %" SCNu64 " %" SCNd64 " %" SCNd64 " %63s", &user, &t.seq, &t.amount,
	           &t.balance, payee) != 5)
		return -1;
	if (user < 0 || user >= b->users || !payee_ok(payee, strlen(payee)))
		return -1;
	struct bank_user *u = &b->u[user];
	if (t.seq != u->seq + 1 || t.amount <= 0 || t.balance != u->balance - t.amount)
		return -1;
	memcpy(t.payee, payee, strlen(payee) + 1); /* payee_ok: at most BANK_PAYEE_MAX */
	apply(u, &t);
	return 0;
}

static int replay(struct bank *b, long *replayed)
{
	FILE *f = fdopen(dup(b->fd), "r");
	if (!f)
		return -1;
	char line[256];
	off_t good = 0;
	long n = 0;
	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		if (len == 0 || line[len - 1] != '\n' || replay_line(b, line, len - 1) != 0)
			break;
		good += (off_t)len;
		n++;
	}
	(void)fclose(f);
	*replayed = n;
	b->end = good;
	if (ftruncate(b->fd, good) < 0)
		return -1;
	return fdatasync(b->fd);
}

struct bank *bank_open(const char *path, int users, long *replayed, const char **err)
{
	struct bank *b = calloc(1, sizeof(*b));
	if (!b || users < 1 || !(b->u = calloc((size_t)users, sizeof(*b->u)))) {
		*err = users < 1 ? "bank: users must be >= 1" : "bank: out of memory";
		if (b)
			free(b);
		return NULL;
	}
	b->users = users;
	for (int i = 0; i < users; i++)
		b->u[i].balance = bank_initial_balance(i);
	pthread_mutex_init(&b->lock, NULL);
	/* O_DSYNC: each record's pwrite returns once it is on disk (synchronized I/O data
	 * integrity, what write + fdatasync give, in one call) */
	b->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_DSYNC, 0644);
	if (b->fd < 0 || replay(b, replayed) != 0) {
		*err = "bank: cannot open or replay the journal";
		bank_close(b);
		return NULL;
	}
	return b;
}

void bank_close(struct bank *b)
{
	if (!b)
		return;
	if (b->fd >= 0)
		close(b->fd);
	pthread_mutex_destroy(&b->lock);
	free(b->u);
	free(b);
}

int bank_users(const struct bank *b)
{
	return b->users;
}

int bank_transfer(struct bank *b, int user, int64_t amount, const char *payee, size_t payee_len,
                  struct bank_txn *out)
{
	if (user < 0 || user >= b->users || amount <= 0 || !payee_ok(payee, payee_len))
		return 1;
	pthread_mutex_lock(&b->lock);
	struct bank_user *u = &b->u[user];
	if (u->balance < amount) {
		pthread_mutex_unlock(&b->lock);
		return 1;
	}
	struct bank_txn t = { .seq = u->seq + 1, .amount = amount, .balance = u->balance - amount };
	memcpy(t.payee, payee, payee_len);
	t.payee[payee_len] = 0;
	char line[256];
	int n = format_record(line, sizeof(line), user, &t);
	ssize_t w = pwrite(b->fd, line, (size_t)n, b->end);
	if (w != n) {
		int e = w < 0 ? errno : EIO;
		/* Undo a partial append so the journal stays a sequence of whole records. */
		(void)ftruncate(b->fd, b->end);
		pthread_mutex_unlock(&b->lock);
		errno = e;
		return -1;
	}
	b->end += n;
	apply(u, &t);
	pthread_mutex_unlock(&b->lock);
	*out = t;
	return 0;
}

void bank_view(struct bank *b, int user, struct bank_view *v)
{
	memset(v, 0, sizeof(*v));
	v->user = user;
	if (user < 0 || user >= b->users)
		return;
	pthread_mutex_lock(&b->lock);
	struct bank_user *u = &b->u[user];
	v->balance = u->balance;
	v->seq = u->seq;
	v->nrecent = u->seq < BANK_RECENT ? (int)u->seq : BANK_RECENT;
	for (int i = 0; i < v->nrecent; i++)
		v->recent[i] = u->recent[(u->head - 1 - i + 2 * BANK_RECENT) % BANK_RECENT];
	pthread_mutex_unlock(&b->lock);
}
