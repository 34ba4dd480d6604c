/* hv/fault.c: hv's own faults on guest RAM (a file mapping's pages past the file's end, a
 * read-only shared mapping), recorded so that the guest ends with a crash report rather than hv
 * dying of the signal. The contract is in fault.h. */
#include "hv/fault.h"
#include "hv/vm.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>

static _Thread_local struct vcpu *armed; /* the vCPU this host thread runs */
static struct sigaction previous[2];     /* SIGBUS, SIGSEGV before fault__init */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int init_error;

static int slot(int sig)
{
	return sig == SIGBUS ? 0 : 1;
}

static void on_fault(int sig, siginfo_t *si, void *uctx)
{
	(void)uctx;
	struct vcpu *c = armed;
	uintptr_t a = (uintptr_t)si->si_addr;
	if (c && si->si_code > 0 && a - (uintptr_t)c->vm->ram < c->vm->mem) {
		void *page = (void *)(a & ~(uintptr_t)(PAGE_SIZE_ - 1));
		// cppcheck-suppress leakReturnValNotUsed ; lands inside vm->ram
		if (mmap(page, PAGE_SIZE_, PROT_READ | PROT_WRITE,
		         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == page) {
			if (!c->host_fault.sig) {
				c->host_fault.gpa = a - (uintptr_t)c->vm->ram;
				c->host_fault.code = si->si_code;
				c->host_fault.sig = sig;
			}
			return; /* the access runs again, on the zero page */
		}
	}
	/* Not a guest's doing: the handler from before takes the repeated fault. */
	sigaction(sig, &previous[slot(sig)], NULL);
}

static void install(void)
{
	struct sigaction sa = { 0 };
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &previous[0]) < 0 || sigaction(SIGSEGV, &sa, &previous[1]) < 0)
		init_error = -errno;
}

int fault__init(void)
{
	pthread_once(&once, install);
	return init_error;
}

void fault__arm(struct vcpu *c)
{
	armed = c;
}

int fault__take(struct vcpu *c, char *what, size_t len)
{
	int sig = c->host_fault.sig;
	if (!sig)
		return 0;
	const char *why = sig == SIGBUS ? "a file mapping's page past the end of its file"
	                  : c->host_fault.code == SEGV_ACCERR ? "a read-only file mapping"
	                                                      : "memory the host could not map";
	snprintf(
	    what, len,
	    "a system call's pointer into %s, at address %#llx (Linux returns EFAULT; hv ends the "
	    "program as if it had touched the page itself)",
	    why, (unsigned long long)c->host_fault.gpa);
	c->host_fault.sig = 0;
	return sig;
}
