/* hv/timepage.h: the guest's clocks without an exit. hv maps a vDSO (hv/vdso/) and a time page
 * (hv/vdso/timepage.h) into every VM's system area, user-readable and never writable by the guest,
 * and names the vDSO to the program with AT_SYSINFO_EHDR. A thread of hv rewrites the page every
 * TIMEPAGE_PERIOD_MS so that the guest's line (TSC to nanoseconds) stays continuous, never goes
 * backwards, and stays within microseconds of the host's clocks; --clock-scale is folded into it.
 * hv's own readings (the clock system calls, --stats' guest_ns) go through the same page, so the
 * guest sees one clock whichever way it asks.
 *
 * The page is usable only where the TSC is: the host has constant_tsc and nonstop_tsc, and every
 * vCPU's TSC reads as the host's (hv sets each vCPU's TSC offset to 0 and checks it). Otherwise it
 * is marked unusable, said in --stats (time_page.why; on stderr too where a vCPU fails the check
 * on a host whose flags promised a good TSC), and the vDSO makes system calls. */
#ifndef HV_TIMEPAGE_H
#define HV_TIMEPAGE_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TIMEPAGE_PERIOD_MS 100

struct vm;
struct vcpu;

/* Copies the vDSO into the system area and clears the page (unusable until the first vCPU is
 * checked). 0, or -1 with a reason in err. */
int timepage__init(struct vm *vm, char *err, size_t errlen);
/* Sets a new vCPU's TSC to the host's and checks it; the first good check makes the page usable,
 * a bad one makes it unusable for the VM's life. */
void timepage__vcpu(struct vcpu *c);
/* Starts the thread that keeps the page (again after a guest fork: threads do not survive it). */
int timepage__start(struct vm *vm);
int timepage__start_in_child(struct vm *vm);
void timepage__stop(struct vm *vm);
/* hv's reading of guest clock `id` from the page: 0 and *ns, or -1 when the page does not serve
 * it (unusable, or a clock it has no line for). */
int timepage__read(const struct vm *vm, clockid_t id, uint64_t *ns);
/* The guest address of the vDSO's ELF header (AT_SYSINFO_EHDR). */
uint64_t timepage__vdso_va(void);
/* --stats' "time_page": {usable, why, updates}. */
struct json_t;
struct json_t *timepage__json(struct vm *vm);

#endif
