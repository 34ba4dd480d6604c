/* hv/uaccess.c: copies between guest and host memory that a host fault cannot kill, and the range
 * checks every guest address passes (uaccess.h has the contract).
 *
 * How a copy survives a fault: every copy is one `rep movsq` (aligned) or `rep movsb` at a known
 * address (hv_copy_bytes below, the kernel's exception-table idea). The SIGBUS/SIGSEGV handler
 * looks at the faulting instruction: when it is one of those, and the faulting address lies in
 * the guest range this thread is copying, it moves the thread to that instruction's fix-up, and
 * hv_copy_bytes returns the count of bytes left (from RCX, which the CPU keeps exact across a
 * fault). Nothing else is touched: no longjmp, no per-copy system call. Any other fault goes to
 * the handler installed before uaccess__init. The instructions are also invisible to the
 * sanitizers, which is right: guest memory is not hv's, and a racing guest thread writing it is
 * not a data race in hv. */
#include "hv/uaccess.h"
#include "hv/dirty.h"
#include "hv/vm.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>

/* size_t hv_copy_bytes(void *dst, const void *src, size_t n): the bytes NOT copied (0: all).
 *   Both ends and n 8-byte aligned (every structure, a page): `rep movsq`, so that each aligned
 *   word is read once, whole, as Linux's copy_from_user reads it (a guest racing its own write
 *   of a pointer or a length sees the old or the new value, never a mix); otherwise `rep movsb`.
 * int hv_cmpxchg32(uint32_t *p, uint32_t *expected, uint32_t val): 0 replaced, 1 not (and
 *   *expected = *p), -1 faulted.
 * Each instruction that may fault on guest memory has a fix-up the fault handler sends the
 * thread to (fixups[] below). */
__asm__(".pushsection .text\n"
        ".p2align 4\n"
        ".type hv_copy_bytes, @function\n"
        "hv_copy_bytes:\n"
        "	mov %rdx, %rcx\n"
        "	mov %rdi, %rax\n"
        "	or %rsi, %rax\n"
        "	or %rdx, %rax\n"
        "	test $7, %al\n"
        "	jnz hv_copy_insn\n"
        "	shr $3, %rcx\n"
        "hv_copyq_insn:\n"
        "	rep movsq\n"
        "	xor %eax, %eax\n"
        "	ret\n"
        "hv_copyq_fixup:\n"
        "	lea (,%rcx,8), %rax\n"
        "	ret\n"
        "hv_copy_insn:\n"
        "	rep movsb\n"
        "hv_copy_fixup:\n"
        "	mov %rcx, %rax\n"
        "	ret\n"
        ".size hv_copy_bytes, .-hv_copy_bytes\n"
        ".p2align 4\n"
        ".type hv_cmpxchg32, @function\n"
        "hv_cmpxchg32:\n"
        "	mov (%rsi), %eax\n"
        "hv_cmpxchg_insn:\n"
        "	lock cmpxchg %edx, (%rdi)\n"
        "	mov %eax, (%rsi)\n"
        "	setnz %al\n"
        "	movzbl %al, %eax\n"
        "	ret\n"
        "hv_cmpxchg_fixup:\n"
        "	mov $-1, %eax\n"
        "	ret\n"
        ".size hv_cmpxchg32, .-hv_cmpxchg32\n"
        ".popsection\n");
size_t hv_copy_bytes(void *dst, const void *src, size_t n) __asm__("hv_copy_bytes");
int hv_cmpxchg32(uint32_t *p, uint32_t *expected, uint32_t val) __asm__("hv_cmpxchg32");
extern const char hv_copyq_insn[] __asm__("hv_copyq_insn");
extern const char hv_copyq_fixup[] __asm__("hv_copyq_fixup");
extern const char hv_copy_insn[] __asm__("hv_copy_insn");
extern const char hv_copy_fixup[] __asm__("hv_copy_fixup");
extern const char hv_cmpxchg_insn[] __asm__("hv_cmpxchg_insn");
extern const char hv_cmpxchg_fixup[] __asm__("hv_cmpxchg_fixup");

/* The host range of guest memory this thread is copying; a fault outside it is hv's own bug. */
static _Thread_local struct {
	uintptr_t lo, hi;
} copying;
static struct sigaction previous[2]; /* SIGBUS, SIGSEGV before uaccess__init */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int init_error;

static void on_fault(int sig, siginfo_t *si, void *uctx)
{
	ucontext_t *uc = uctx;
	greg_t *rip = &uc->uc_mcontext.gregs[REG_RIP];
	uintptr_t a = (uintptr_t)si->si_addr;
	if (si->si_code > 0 && a >= copying.lo && a < copying.hi) {
		static const struct {
			const char *insn, *fixup;
		} fixups[] = { { hv_copyq_insn, hv_copyq_fixup },
			       { hv_copy_insn, hv_copy_fixup },
			       { hv_cmpxchg_insn, hv_cmpxchg_fixup } };
		for (size_t i = 0; i < sizeof(fixups) / sizeof(*fixups); i++) {
			if (*rip == (greg_t)(uintptr_t)fixups[i].insn) {
				*rip = (greg_t)(uintptr_t)fixups[i].fixup; /* RCX: what is left */
				return;
			}
		}
	}
	/* Not a guest's doing: the handler from before takes the repeated fault. */
	sigaction(sig, &previous[sig == SIGBUS ? 0 : 1], NULL);
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

int uaccess__init(void)
{
	pthread_once(&once, install);
	return init_error;
}

/* The host address of guest [gva, gva + len), or NULL when any byte lies outside guest RAM. */
static uint8_t *host_range(const struct vm *vm, uint64_t gva, uint64_t len)
{
	if (gva < USER_BASE || gva > vm->mem || len > vm->mem - gva)
		return NULL;
	return vm->ram + gva;
}

/* The host side's first and last byte, touched by ordinary (instrumented) accesses: the copy
 * itself is invisible to AddressSanitizer, which would not see a host buffer too small. */
static void host_side(const void *h, size_t n)
{
	(void)*(const volatile uint8_t *)h;
	(void)((const volatile uint8_t *)h)[n - 1];
}

/* Copies with the guest side at `g`: 0, or the bytes left when the guest range faulted. */
static size_t guarded_copy(void *dst, const void *src, size_t n, const uint8_t *g)
{
	host_side(dst == g ? src : dst, n);
	copying.lo = (uintptr_t)g;
	copying.hi = (uintptr_t)g + n;
	size_t left = hv_copy_bytes(dst, src, n);
	copying.lo = copying.hi = 0;
	return left;
}

int uaccess__in(const struct vm *vm, void *dst, uint64_t gva, uint64_t len, size_t align)
{
	const uint8_t *g = host_range(vm, gva, len);
	if (!len) /* nothing to copy: any address will do, as on Linux */
		return 0;
	if (!g || gva % align)
		return -EFAULT;
	return guarded_copy(dst, g, len, g) ? -EFAULT : 0;
}

int uaccess__out(const struct vm *vm, uint64_t gva, const void *src, uint64_t len, size_t align)
{
	uint8_t *g = host_range(vm, gva, len);
	if (!len)
		return 0;
	if (!g || gva % align)
		return -EFAULT;
	dirty__mark(vm, gva, len);
	return guarded_copy(g, src, len, g) ? -EFAULT : 0;
}

int uaccess__move(const struct vm *vm, uint64_t to, uint64_t from, uint64_t len)
{
	uint8_t *d = host_range(vm, to, len);
	const uint8_t *s = host_range(vm, from, len);
	if (!len)
		return 0;
	if (!d || !s)
		return -EFAULT;
	dirty__mark(vm, to, len);
	/* both ends are guest memory: the fault may be on either */
	copying.lo = (uintptr_t)(d < s ? d : s);
	copying.hi = (uintptr_t)(d < s ? s : d) + len;
	size_t left = hv_copy_bytes(d, s, len);
	copying.lo = copying.hi = 0;
	return left ? -EFAULT : 0;
}

int uaccess__cmpxchg32(const struct vm *vm, uint64_t gva, uint32_t *expected, uint32_t val)
{
	uint8_t *g = host_range(vm, gva, sizeof(uint32_t));
	if (!g || gva % sizeof(uint32_t))
		return -EFAULT;
	dirty__mark(vm, gva, sizeof(uint32_t));
	copying.lo = (uintptr_t)g;
	copying.hi = (uintptr_t)g + sizeof(uint32_t);
	int rc = hv_cmpxchg32((uint32_t *)g, expected, val);
	copying.lo = copying.hi = 0;
	return rc < 0 ? -EFAULT : rc;
}

long copy_str_from_guest(const struct vm *vm, char *dst, uint64_t gva, size_t size)
{
	if (gva < USER_BASE || gva >= vm->mem || !size)
		return -EFAULT;
	uint64_t avail = vm->mem - gva;
	size_t want = avail < size ? (size_t)avail : size;
	const uint8_t *g = vm->ram + gva;
	size_t got = want - guarded_copy(dst, g, want, g);
	/* One copy: the string is whatever this copy saw. A fault past its NUL is no error. */
	const char *nul = memchr(dst, 0, got);
	if (nul)
		return nul - dst;
	return got < want || want < size ? -EFAULT : -ENAMETOOLONG;
}

struct guest_bytes *uaccess__buf(const struct vm *vm, uint64_t gva, uint64_t len)
{
	uint8_t *g = host_range(vm, gva, len);
	if (g) /* the host call may write it: hv cannot tell which ones do */
		dirty__mark(vm, gva, len);
	return (struct guest_bytes *)g;
}
