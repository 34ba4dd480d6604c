/* Tests of fault.c without KVM: a fault hv takes on a guest's file mapping (a page past the file's
 * end, a write to a read-only shared mapping) is recorded and survived; any other fault still ends
 * the process. Each case runs in a child process with SIGBUS and SIGSEGV at their defaults, so that
 * cmocka's own crash handlers are not what fault.c falls back to. */
#include "tools/unit.h"
#include "hv/fault.h"
#include "hv/vm.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGES 4

/* A VM with guest RAM of PAGES anonymous pages and one vCPU; only what fault.c looks at. */
struct fake {
	struct vm vm;
	struct vcpu cpu;
};

static void fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	f->vm.mem = PAGES * PAGE_SIZE_;
	f->vm.ram =
	    mmap(NULL, f->vm.mem, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (f->vm.ram == MAP_FAILED)
		_exit(90);
	f->cpu.vm = &f->vm;
}

/* Maps a 16-byte file over guest pages 1 and 2 (page 2 lies past its end) with `prot`, `flags`. */
static void map_file(struct fake *f, int prot, int flags)
{
	char path[] = "/tmp/hv-fault-test.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, "0123456789abcdef", 16) != 16)
		_exit(91);
	unlink(path);
	// cppcheck-suppress leakReturnValNotUsed ; lands inside the fake VM's RAM
	if (mmap(f->vm.ram + PAGE_SIZE_, 2 * PAGE_SIZE_, prot, flags | MAP_FIXED, fd, 0) ==
	    MAP_FAILED)
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
		if (fault__init() < 0)
			_exit(93);
		body();
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void read_past_eof(void)
{
	struct fake f;
	fake_init(&f);
	map_file(&f, PROT_READ | PROT_WRITE, MAP_SHARED);
	fault__arm(&f.cpu);
	volatile uint8_t *p = f.vm.ram + 2 * PAGE_SIZE_ + 5;
	if (*p != 0) /* faults; the access then completes on a zero page */
		_exit(10);
	if (f.vm.ram[PAGE_SIZE_] != '0') /* the page inside the file is untouched */
		_exit(11);
	char what[200];
	if (fault__take(&f.cpu, what, sizeof(what)) != SIGBUS)
		_exit(12);
	if (!strstr(what, "past the end") || !strstr(what, "0x2005"))
		_exit(13);
	if (fault__take(&f.cpu, what, sizeof(what)) != 0) /* taken once */
		_exit(14);
}

static void a_read_past_the_end_of_a_mapped_file_is_recorded(void **state)
{
	(void)state;
	int st = in_child(read_past_eof);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void write_read_only(void)
{
	struct fake f;
	fake_init(&f);
	map_file(&f, PROT_READ, MAP_SHARED);
	fault__arm(&f.cpu);
	memcpy(f.vm.ram + PAGE_SIZE_ + 8, "xyz", 3); /* as a handler writes a result */
	uint64_t at =
	    f.cpu.host_fault.gpa; /* any of the three bytes (ASan's memcpy goes its way) */
	char what[200];
	if (fault__take(&f.cpu, what, sizeof(what)) != SIGSEGV)
		_exit(20);
	if (!strstr(what, "read-only") || at < PAGE_SIZE_ + 8 || at >= PAGE_SIZE_ + 11)
		_exit(21);
}

static void a_write_to_a_read_only_file_mapping_is_recorded(void **state)
{
	(void)state;
	int st = in_child(write_read_only);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void fault_outside_guest_ram(void)
{
	struct fake f;
	fake_init(&f);
	fault__arm(&f.cpu);
	uint8_t *other = mmap(NULL, PAGE_SIZE_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (other == MAP_FAILED)
		_exit(94);
	*(volatile uint8_t *)other = 1; /* one of hv's own bugs: must not be survived */
	_exit(30);
}

static void a_fault_outside_guest_ram_still_ends_the_process(void **state)
{
	(void)state;
	int st = in_child(fault_outside_guest_ram);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSEGV);
}

static void fault_unarmed(void)
{
	struct fake f;
	fake_init(&f);
	map_file(&f, PROT_READ | PROT_WRITE, MAP_SHARED);
	fault__arm(NULL); /* a host thread that runs no vCPU */
	(void)*(volatile uint8_t *)(f.vm.ram + 2 * PAGE_SIZE_);
	_exit(40);
}

static void a_thread_without_a_vcpu_is_not_rescued(void **state)
{
	(void)state;
	int st = in_child(fault_unarmed);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGBUS);
}

UNIT_MAIN(cmocka_unit_test(a_read_past_the_end_of_a_mapped_file_is_recorded),
          cmocka_unit_test(a_write_to_a_read_only_file_mapping_is_recorded),
          cmocka_unit_test(a_fault_outside_guest_ram_still_ends_the_process),
          cmocka_unit_test(a_thread_without_a_vcpu_is_not_rescued))
