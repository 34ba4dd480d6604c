/* workloads/web/bank.h: per-user banking state of the web VM and its durable journal.
 *
 * Contract: users 0..users-1 start with bank_initial_balance(u) cents. bank_transfer() debits a
 * user, appends one journal record (a text line ending in its own FNV-1a checksum) and has it on
 * disk (the journal is opened O_DSYNC: one pwrite that returns as write + fdatasync would) BEFORE
 * the new balance becomes visible or is answered, so an acknowledged
 * transfer survives kill -9 and a torn record never counts. bank_open() replays the journal,
 * truncating a torn or corrupt tail (a partially written last record) and reporting how many
 * records it applied. Thread-safe: one mutex around the state and the journal. */
#ifndef WORKLOADS_WEB_BANK_H
#define WORKLOADS_WEB_BANK_H
#include <stddef.h>
#include <stdint.h>

#define BANK_RECENT    8 /* transactions kept per user for the pages */
#define BANK_PAYEE_MAX 16

struct bank_txn {
	uint64_t seq;    /* per-user transaction number, 1, 2, ... */
	int64_t amount;  /* cents debited */
	int64_t balance; /* balance after, cents */
	char payee[BANK_PAYEE_MAX + 1];
};

/* A consistent copy of one user's state. */
struct bank_view {
	int user;
	int64_t balance;
	uint64_t seq; /* transactions so far */
	int nrecent;  /* newest first */
	struct bank_txn recent[BANK_RECENT];
};

struct bank;

int64_t bank_initial_balance(int user);
/* Opens (creating) the journal at path and replays it. NULL with *err set on failure. */
struct bank *bank_open(const char *path, int users, long *replayed, const char **err);
void bank_close(struct bank *b);
int bank_users(const struct bank *b);
/* 0 done (*out is the new transaction), 1 insufficient funds or bad argument (state unchanged),
 * -1 the journal could not be written (state unchanged; errno set). payee: [A-Za-z0-9_-]{1,16}. */
int bank_transfer(struct bank *b, int user, int64_t amount, const char *payee, size_t payee_len,
                  struct bank_txn *out);
void bank_view(struct bank *b, int user, struct bank_view *v);

#endif
