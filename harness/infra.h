/* harness/infra.h: the infrastructure workload of a run (run rules' "infrastructure" section,
 * model/config.h) and warmed-up VM snapshots (`vcons run --save-snapshots DIR`).
 *
 * During the measurement, every `every_s` seconds from its start, one VM of each CSU moves to a
 * new VMM process while its load goes on, round-robin over db, web, mail, java, idle (a CSU's
 * next move waits for its previous one). `migrate`: a target `vcons-hv --incoming 127.0.0.1:PORT`
 * with the VM's options is started, and once it listens the source gets {"cmd":"migrate"} on its
 * control socket; `snapshot` (a cold migration through a file): {"cmd":"snapshot","stop":true}
 * into the work directory's snapshots/, then at once `vcons-hv --restore`, whose control socket
 * answering "status" ends the move. Each move is a state machine the measurement loop advances
 * (nothing blocks the loop), so report lines keep their host times.
 *
 * Contract: after a move the VM's new process is r->vm[i].vm (the one stopped at the end, whose
 * exit is watched and whose --stats are read); its CPU time and hv counters continue the old
 * process's (the old one's CPU from wait4 at its exit, its counters from a statistics dump just
 * before the move: the few exits between that dump and the switch-over are not counted). A move
 * that fails leaves the source VM running and is recorded with its error; a VM lost by a move
 * (the source gone without a target running the VM) fails the run with one message. Every move
 * is recorded (infra__result) with its CSU, VM, method, start (s from the measurement's start),
 * total and downtime in ms, bytes, rounds, pages, ok or error and the interval it fell in. */
#ifndef HARNESS_INFRA_H
#define HARNESS_INFRA_H
#include "harness/proc.h"
#include "harness/vmctl.h"
#include "model/config.h"

#include <jansson.h>
#include <limits.h>
#include <stdint.h>

struct run;    /* run.h */
struct run_vm; /* run.h */

struct move_rec {
	int vm; /* index in run.vm */
	enum infra_method method;
	int64_t start_ns;
	double total_ms, downtime_ms, bytes, pages;
	int rounds;
	int ok;
	char error[256];
};

enum move_state { MV_IDLE, MV_STATS, MV_LISTEN, MV_SENT, MV_RESTORE, MV_STATUS };

struct move { /* one in progress, at most one per CSU */
	enum move_state st;
	int vm;
	int64_t start_ns, state_ns, reply_ns;
	int fd; /* control connection, -1 none */
	struct vmctl_reader rd;
	struct proc target; /* the VM's next VMM process */
	char target_ctl[108];
	char snap[PATH_MAX];
	int port;
	json_t *reply; /* the source's answer */
};

struct infra {
	int due[CONFIG_MAX_CSUS];  /* number of each CSU's next scheduled move */
	int next[CONFIG_MAX_CSUS]; /* its next workload, an index into the round-robin order */
	struct move mv[CONFIG_MAX_CSUS];
	struct move_rec *recs;
	size_t nrecs, cap;
};

/* The run can move VMs as its rules ask (0), or -1 with one line: the platform cannot. */
int infra__check(const struct run *r, char *err, size_t errlen);
/* Starts the moves that are due and advances those in progress; the run loop calls it often. */
void infra__tick(struct run *r, int64_t now);
/* Moves in progress; how long the loop may wait for input (ms) while they are. */
int infra__busy(const struct run *r);
int infra__wait_ms(const struct run *r);
/* VM i is moving: its process may end as part of the move (the run loop leaves it to infra). */
int infra__moving(const struct run *r, int vm);
/* VM i's other process during a move (its target), whose lines the loop reads too; NULL. */
struct proc *infra__other(struct run *r, int vm);
/* Adds the hv counters of a moved VM's earlier processes to `stats` (a statistics file's JSON,
 * its "exits" and "syscalls"), so its figures go on across moves. */
void infra__stats_add_base(const struct run_vm *v, json_t *stats);
/* The "migrations" array of the result (new reference). */
json_t *infra__result(const struct run *r);
/* Ends the moves in progress (their targets stopped by PID) and frees the records. */
void infra__stop(struct run *r);
void infra__free(struct run *r);

/* --save-snapshots DIR: each VM in turn paused, its disk copied to DIR/<name>/ (times kept),
 * snapshotted to DIR/<name>.snap and resumed. 0, or -1 with one line in err. */
int infra__save(struct run *r, const char *dir, char *err, size_t errlen);

/* --from-snapshots DIR (set in r->opts): every VM has DIR/<name>.snap and DIR/<name>/ (0), or -1
 * with one line naming the missing one. */
int infra__check_snapshots(const struct run *r, char *err, size_t errlen);
/* VM v's disk made a copy of DIR/<name>/ (what its snapshot's open files expect). */
int infra__restore_disk(struct run *r, struct run_vm *v, char *err, size_t errlen);
/* The command that starts VM v from DIR/<name>.snap. 0, or -1 when c is full. */
struct cmdline;
int infra__restore_cmd(const struct run *r, const struct run_vm *v, struct cmdline *c);

#endif
