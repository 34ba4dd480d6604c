/* Tests of uaccess.c without KVM: copies between hv and a guest's memory check the guest range and
 * alignment, survive a host fault on the guest side (a file mapping's page past its end, a
 * read-only shared mapping) with -EFAULT, and leave every other fault fatal. Each case runs in a
 * child process with SIGBUS and SIGSEGV at their defaults, so that cmocka's own crash handlers are
 * not what uaccess.c falls back to. */
#include "tools/unit.h"
#include "hv/uaccess.h"
#include "hv/vm.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGES   4
#define FILE_AT (USER_BASE + PAGE_SIZE_) /* the file's first page; the next lies past its end */

/* A VM with guest RAM [0, USER_BASE + PAGES pages); only what uaccess.c looks at. */
static struct vm *fake_vm(void)
{
	static struct vm vm;
	vm.mem = USER_BASE + PAGES * PAGE_SIZE_;
	vm.ram = mmap(NULL, vm.mem, PROT_READ | PROT_WRITE,
	              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm.ram == MAP_FAILED)
		_exit(90);
	return &vm;
}

/* Maps a one-page file over guest [FILE_AT, FILE_AT + 2 pages) with `prot`, `flags`: the second
 * page lies past the file's end. The file ends in "hello\0" and holds no other NUL. */
static void map_file(struct vm *vm, int prot, int flags)
{
	char path[] = "/tmp/hv-uaccess-test.XXXXXX", page[PAGE_SIZE_];
	memset(page, 'x', sizeof(page));
	memcpy(page + PAGE_SIZE_ - 6, "hello", 6);
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, page, sizeof(page)) != (ssize_t)sizeof(page))
		_exit(91);
	unlink(path);
	// cppcheck-suppress leakReturnValNotUsed ; lands inside the fake VM's RAM
	if (mmap(vm->ram + FILE_AT, 2 * PAGE_SIZE_, prot, flags | MAP_FIXED, fd, 0) == MAP_FAILED)
		_exit(92);
	close(fd);
}

/* Runs `body` in a child with default fault handling; returns its wait status. */
static int in_child(void (*body)(void))
{
	(void)fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGBUS, SIG_DFL);
		signal(SIGSEGV, SIG_DFL);
		if (uaccess__init() < 0)
			_exit(93);
		body();
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

/* The child's exit code: 0, or the number of the check that failed. */
#define CHECK(n, cond)                                                                             \
	do {                                                                                       \
		if (!(cond))                                                                       \
			_exit(n);                                                                  \
	} while (0)

static void assert_child_passed(void (*body)(void))
{
	int st = in_child(body);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void assert_child_killed(void (*body)(void), int sig)
{
	int st = in_child(body);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), sig);
}

static void ranges(void)
{
	struct vm *vm = fake_vm();
	uint64_t v = 0x1122334455667788ULL, w = 0;
	CHECK(10, copy_to_guest(vm, USER_BASE, &v, 1) == 0);
	CHECK(11, copy_from_guest(vm, &w, USER_BASE, 1) == 0 && w == v);
	CHECK(12, copy_from_guest(vm, &w, USER_BASE - 8, 1) == -EFAULT); /* the NULL guard */
	CHECK(13, copy_from_guest(vm, &w, vm->mem - 4, 1) == -EFAULT);   /* runs off the end */
	CHECK(14, copy_from_guest(vm, &w, vm->mem - 8, 1) == 0);
	CHECK(15, copy_from_guest(vm, &w, UINT64_MAX - 3, 1) == -EFAULT); /* wraps */
	CHECK(16, copy_from_guest(vm, &w, USER_BASE + 4, 1) == -EFAULT);  /* misaligned u64 */
	CHECK(17, uaccess__in(vm, &w, USER_BASE + 4, 8, 1) == 0);         /* as bytes: fine */
	uint64_t huge[2];
	CHECK(18, copy_from_guest(vm, huge, USER_BASE, UINT64_MAX / 4) == -EFAULT); /* n * size */
	CHECK(19, uaccess__ok(vm, 0, 0) && !uaccess__ok(vm, 0, 1) && !uaccess__buf(vm, 0, 1));
	CHECK(20, uaccess__buf(vm, USER_BASE, 8) == (struct guest_bytes *)(vm->ram + USER_BASE));
	CHECK(21, uaccess__in(vm, &w, 0, 0, 8) == 0 && uaccess__out(vm, 1, &w, 0, 8) == 0);
	CHECK(22, copy_from_guest(vm, huge, 0, 0) == 0); /* ppoll(NULL, 0, ...) */
}

static void copies_check_the_guest_range_and_alignment(void **state)
{
	(void)state;
	assert_child_passed(ranges);
}

static void past_eof(void)
{
	struct vm *vm = fake_vm();
	map_file(vm, PROT_READ | PROT_WRITE, MAP_SHARED);
	char buf[64];
	CHECK(10, copy_from_guest(vm, buf, FILE_AT, 16) == 0 && buf[0] == 'x');
	CHECK(11, copy_from_guest(vm, buf, FILE_AT + PAGE_SIZE_, 1) == -EFAULT);
	CHECK(12, copy_from_guest(vm, buf, FILE_AT + PAGE_SIZE_ - 8, 16) == -EFAULT); /* across */
	CHECK(13, copy_to_guest(vm, FILE_AT + PAGE_SIZE_ + 8, "abc", 3) == -EFAULT);
	/* a string whose NUL comes before the bad page is fine; one without is not */
	CHECK(14, copy_str_from_guest(vm, buf, FILE_AT + PAGE_SIZE_ - 6, sizeof(buf)) == 5 &&
	              !strcmp(buf, "hello"));
	CHECK(15, copy_str_from_guest(vm, buf, FILE_AT + PAGE_SIZE_ - 40, sizeof(buf)) == 39);
	CHECK(16, copy_str_from_guest(vm, buf, FILE_AT, sizeof(buf)) == -ENAMETOOLONG);
	CHECK(17, copy_str_from_guest(vm, buf, FILE_AT + PAGE_SIZE_ + 1, sizeof(buf)) == -EFAULT);
	CHECK(18, uaccess__move(vm, USER_BASE, FILE_AT + PAGE_SIZE_, 8) == -EFAULT);
	uint32_t old = 0;
	CHECK(19, uaccess__cmpxchg32(vm, FILE_AT + PAGE_SIZE_, &old, 1) == -EFAULT);
	/* a string that runs to the end of guest memory without a NUL */
	memset(vm->ram + vm->mem - 8, 'y', 8);
	CHECK(20, copy_str_from_guest(vm, buf, vm->mem - 8, sizeof(buf)) == -EFAULT);
}

static void a_page_past_a_files_end_gives_efault(void **state)
{
	(void)state;
	assert_child_passed(past_eof);
}

static void read_only(void)
{
	struct vm *vm = fake_vm();
	map_file(vm, PROT_READ, MAP_SHARED);
	char buf[8];
	CHECK(10, copy_to_guest(vm, FILE_AT + 8, "xyz", 3) == -EFAULT);
	CHECK(11, copy_from_guest(vm, buf, FILE_AT + 8, 3) == 0 && !memcmp(buf, "xxx", 3));
	uint32_t old = 0x78787878; /* "xxxx": equal, so cmpxchg would write */
	CHECK(12, uaccess__cmpxchg32(vm, FILE_AT + 8, &old, 1) == -EFAULT);
}

static void a_read_only_file_mapping_gives_efault_on_a_write(void **state)
{
	(void)state;
	assert_child_passed(read_only);
}

static void cmpxchg(void)
{
	struct vm *vm = fake_vm();
	uint32_t word = 100, expected = 7;
	CHECK(10, copy_to_guest(vm, USER_BASE, &word, 1) == 0);
	CHECK(11, uaccess__cmpxchg32(vm, USER_BASE, &expected, 5) == 1 && expected == 100);
	CHECK(12, uaccess__cmpxchg32(vm, USER_BASE, &expected, 5) == 0);
	CHECK(13, copy_from_guest(vm, &word, USER_BASE, 1) == 0 && word == 5);
	CHECK(14, uaccess__cmpxchg32(vm, USER_BASE + 2, &expected, 5) == -EFAULT);
	CHECK(15, uaccess__move(vm, USER_BASE + 64, USER_BASE, 4) == 0);
	CHECK(16, copy_from_guest(vm, &word, USER_BASE + 64, 1) == 0 && word == 5);
}

static void cmpxchg_and_move_work_on_guest_words(void **state)
{
	(void)state;
	assert_child_passed(cmpxchg);
}

static void host_side_fault(void)
{
	struct vm *vm = fake_vm();
	void *bad = mmap(NULL, PAGE_SIZE_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (bad == MAP_FAILED)
		_exit(94);
	/* hv's own buffer is bad: one of hv's bugs, never turned into EFAULT */
	(void)uaccess__in(vm, bad, USER_BASE, 8, 1);
	_exit(30);
}

static void a_fault_on_hvs_side_of_a_copy_still_ends_the_process(void **state)
{
	(void)state;
	assert_child_killed(host_side_fault, SIGSEGV);
}

static void direct_touch(void)
{
	struct vm *vm = fake_vm();
	map_file(vm, PROT_READ | PROT_WRITE, MAP_SHARED);
	(void)*(volatile uint8_t *)(vm->ram + FILE_AT + PAGE_SIZE_); /* not through a copy */
	_exit(40);
}

static void a_fault_outside_a_copy_still_ends_the_process(void **state)
{
	(void)state;
	assert_child_killed(direct_touch, SIGBUS);
}

UNIT_MAIN(cmocka_unit_test(copies_check_the_guest_range_and_alignment),
          cmocka_unit_test(a_page_past_a_files_end_gives_efault),
          cmocka_unit_test(a_read_only_file_mapping_gives_efault_on_a_write),
          cmocka_unit_test(cmpxchg_and_move_work_on_guest_words),
          cmocka_unit_test(a_fault_on_hvs_side_of_a_copy_still_ends_the_process),
          cmocka_unit_test(a_fault_outside_a_copy_still_ends_the_process))
