/* hv/uaccess.h: the one way hv touches guest memory, as Linux's copy_from_user/copy_to_user.
 *
 * Guest memory is hostile. A guest's other threads may rewrite it while hv services one thread's
 * call, and a guest address may fault for the host (a file mapping's page past the file's end, a
 * read-only shared mapping). So every handler follows three rules:
 *   - a structure or array hv reads fields from is copied into host memory once
 *     (copy_from_guest), checked there, and only the copy is used;
 *   - results go back once (copy_to_guest), after the work is done;
 *   - bulk data (read/write buffers, anything a host system call fills or reads itself) is handed
 *     to the host call as a `struct guest_bytes *` (guest_buf), which hv never dereferences: the
 *     host kernel answers a bad page with EFAULT, as it would for the guest.
 * Strings (paths, argv) come in with copy_str_from_guest.
 *
 * Every copy is fault-safe: a host fault in the middle of it (SIGBUS/SIGSEGV on the guest range
 * being copied) ends the copy, and the call returns -EFAULT, as Linux does. A fault anywhere else
 * is one of hv's own bugs and still kills hv (or reaches ASan/libFuzzer). All of them return
 * -EFAULT, too, for a range outside guest RAM [USER_BASE, mem) and for a typed object that is not
 * aligned for its type (the one place hv is stricter than Linux; C programs never pass one).
 * hv/test/guest_memory_check.py (hv/test/guest-memory.sh, in `make test`) fails where any other
 * hv file forms an address in guest memory or reads through a guest_bytes pointer. */
#ifndef HV_UACCESS_H
#define HV_UACCESS_H
#include <stddef.h>
#include <stdint.h>

struct vm;

/* Installs the fault fix-up for copies (SIGBUS, SIGSEGV) once per process; the handlers that
 * were there before take every other fault. Returns 0 or -errno. vCPU threads must not block
 * SIGBUS or SIGSEGV. */
int uaccess__init(void);

/* Copies `len` bytes between guest address `gva` and host memory; `align` is the guest object's
 * alignment (1 for bytes). 0 or -EFAULT; copying 0 bytes always succeeds. The macros below give
 * the size and alignment from the host object's type. */
int uaccess__in(const struct vm *vm, void *dst, uint64_t gva, uint64_t len, size_t align);
int uaccess__out(const struct vm *vm, uint64_t gva, const void *src, uint64_t len, size_t align);
/* Copies `len` bytes from guest `from` to guest `to` (mremap's move): 0 or -EFAULT. */
int uaccess__move(const struct vm *vm, uint64_t to, uint64_t from, uint64_t len);

/* Compares the aligned guest word at `gva` with *expected and, when equal, replaces it with `val`,
 * atomically (lock cmpxchg, as the kernel changes a robust futex). 0 when replaced; 1 when not,
 * with *expected set to the word's value; -EFAULT. */
int uaccess__cmpxchg32(const struct vm *vm, uint64_t gva, uint32_t *expected, uint32_t val);

/* copy_from_guest(vm, dst, gva, n): n objects of dst's type into dst. copy_to_guest(vm, gva, src,
 * n): n objects of src's type to the guest. n is bounded by the caller (it sizes dst). */
#define copy_from_guest(vm, dst, gva, n)                                                           \
	uaccess__in((vm), (dst), (gva), uaccess__bytes((n), sizeof(*(dst))), __alignof__(*(dst)))
#define copy_to_guest(vm, gva, src, n)                                                             \
	uaccess__out((vm), (gva), (src), uaccess__bytes((n), sizeof(*(src))), __alignof__(*(src)))

/* RESULT_TO_GUEST(vm, r, gva, obj): a host call's result `r`, after copying *obj to the guest at
 * `gva` when the call succeeded (-EFAULT when that copy faults). */
#define RESULT_TO_GUEST(vm, r, gva, obj)                                                           \
	((r) < 0 ? (r) : copy_to_guest((vm), (gva), (obj), 1) ? -EFAULT : (r))

/* n * size, or UINT64_MAX (always outside guest RAM) when that overflows. */
static inline uint64_t uaccess__bytes(uint64_t n, size_t size)
{
	return size && n > UINT64_MAX / size ? UINT64_MAX : n * size;
}

/* Copies a NUL-terminated guest string into dst[size]: its length, -EFAULT (outside guest RAM or
 * a fault before its end), or -ENAMETOOLONG (no NUL in the first `size` bytes). */
long copy_str_from_guest(const struct vm *vm, char *dst, uint64_t gva, size_t size);

/* Guest bytes a host system call reads or writes itself. The type has no definition on purpose:
 * hv passes it where a host call takes `void *`, and cannot dereference it. */
struct guest_bytes;

/* The host address of guest [gva, gva + len) for a host call, or NULL when any byte lies outside
 * guest RAM. A zero-length range is never refused (the host call sees NULL when it is outside). */
struct guest_bytes *uaccess__buf(const struct vm *vm, uint64_t gva, uint64_t len);

/* access_ok: 1 when guest [gva, gva + len) lies inside guest RAM or is empty. A check only: the
 * copy or the host call that follows may still fault. */
static inline int uaccess__ok(const struct vm *vm, uint64_t gva, uint64_t len)
{
	return !len || uaccess__buf(vm, gva, len) != NULL;
}

/* GUEST_BUF(var, vm, gva, len): binds `var` to uaccess__buf() or returns -EFAULT from the
 * handler. */
#define GUEST_BUF(var, vm, gva, len)                                                               \
	do {                                                                                       \
		(var) = uaccess__buf((vm), (gva), (len));                                          \
		if (!(var) && (len) != 0)                                                          \
			return -EFAULT;                                                            \
	} while (0)

#endif
