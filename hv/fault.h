/* hv/fault.h: faults that hv itself takes on guest RAM, turned into a guest crash.
 *
 * hv reads and writes guest memory directly (GUEST_PTR). Nearly all of guest RAM is anonymous
 * memory that cannot fault, but a guest file mapping can: its pages past the file's end (at mmap
 * time or after a later ftruncate) raise SIGBUS, and a read-only shared mapping raises SIGSEGV on
 * a write. Linux would answer such a system call with EFAULT; hv cannot undo half of a handler,
 * so it ends the guest instead, as if the guest had touched that memory itself:
 *   - the fault handler sees that the address lies in the guest RAM of the vCPU that this host
 *     thread runs, puts a private zero page there so that the faulting access completes (the
 *     guest's view of that page is gone, which is why the guest must end), and records the fault;
 *   - the vCPU's run loop (or the fuzz driver) takes the record after the exit it was handling and
 *     ends the guest with the signal and a crash report naming the address.
 * Any other fault (one of hv's own bugs) goes to the handler that was there before, so hv still
 * dies of it, and ASan or libFuzzer still report it. */
#ifndef HV_FAULT_H
#define HV_FAULT_H
#include <stddef.h>

struct vcpu;

/* Installs the SIGBUS and SIGSEGV handlers once per process. Returns 0 or -errno. */
int fault__init(void);
/* Makes faults on `c`'s guest RAM from this host thread recoverable (NULL: none). The thread
 * must not block SIGBUS or SIGSEGV. */
void fault__arm(struct vcpu *c);
/* The signal of a fault recorded on `c` since the last call (0: none), with a one-line account
 * in `what`; clears the record. */
int fault__take(struct vcpu *c, char *what, size_t len);

#endif
