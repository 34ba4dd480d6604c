/* Tests of the guest vDSO and the time page without KVM: the image hv embeds is mapped here, with
 * a time page that timepage.c keeps, and its symbols are found the way glibc and musl find them
 * (dynamic symbol table, DT_HASH, version LINUX_2.6). This process's TSC is what a guest's is, so
 * the vDSO's clocks are compared with the host's own: every clock within 1 ms (MONOTONIC within
 * 50 us; a COARSE clock with the host's precise one, which the page serves it from), MONOTONIC
 * never backwards on four threads, --clock-scale 0.5 at half speed, and an unusable page answered
 * by the real system call. */
#include "tools/unit.h"
#include "hv/clock.h"
#include "hv/mem.h"
#include "hv/timepage.h"
#include "hv/vdso/timepage.h"
#include "hv/vm.h"

#include <elf.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

typedef int (*gettime_fn)(clockid_t, struct timespec *);
typedef int (*getres_fn)(clockid_t, struct timespec *);
typedef long (*time_fn)(long *);

/* A VM with just a system area (executable here, so that the vDSO runs in this process). */
static struct vm *fake_vm(double scale)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	assert_non_null(vm);
	hv_config_init(&vm->cfg);
	vm->cfg.clock_scale = scale;
	vm->name = "vdso-test";
	vm->sys_size = SYS_PT;
	vm->sys = mmap(NULL, vm->sys_size, PROT_READ | PROT_WRITE | PROT_EXEC,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(vm->sys != MAP_FAILED);
	char err[160];
	assert_int_equal(timepage__init(vm, err, sizeof(err)), 0);
	return vm;
}

/* What timepage__vcpu() records for a good vCPU: here the rate is measured, not KVM's. */
static void checked(struct vm *vm)
{
	struct timespec a, b;
	uint64_t t0 = hv_tp_rdtsc();
	clock_gettime(CLOCK_MONOTONIC_RAW, &a);
	usleep(20000);
	uint64_t t1 = hv_tp_rdtsc();
	clock_gettime(CLOCK_MONOTONIC_RAW, &b);
	double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
	vm->tp.ns_per_tick = ns / (double)(t1 - t0);
	vm->tp.checked = 1;
	clock__start(vm);
	assert_int_equal(timepage__start(vm), 0);
}

static void fake_free(struct vm *vm)
{
	timepage__stop(vm);
	munmap(vm->sys, vm->sys_size);
	free(vm);
}

/* The symbol `name`@LINUX_2.6 of the ELF image at `base`, as a libc looks it up. */
static void *vdso_sym(const uint8_t *base, const char *name)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(base + eh->e_phoff);
	const Elf64_Dyn *dyn = NULL;
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_DYNAMIC)
			dyn = (const Elf64_Dyn *)(base + ph[i].p_offset);
	if (!dyn) {
		fail_msg("the vDSO has no PT_DYNAMIC");
		return NULL;
	}
	const Elf64_Sym *sym = NULL;
	const char *str = NULL;
	const Elf32_Word *hash = NULL;
	const Elf64_Half *versym = NULL;
	const Elf64_Verdef *verdef = NULL;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		const void *p = base + dyn->d_un.d_ptr;
		switch (dyn->d_tag) {
		case DT_SYMTAB: sym = p; break;
		case DT_STRTAB: str = p; break;
		case DT_HASH: hash = p; break;
		case DT_VERSYM: versym = p; break;
		case DT_VERDEF: verdef = p; break;
		default: break;
		}
	}
	if (!sym || !str || !hash || !versym || !verdef) { /* what musl needs */
		fail_msg("the vDSO lacks a dynamic table glibc or musl reads");
		return NULL;
	}
	for (Elf32_Word i = 0; i < hash[1]; i++) {
		if (strcmp(str + sym[i].st_name, name) || !sym[i].st_value)
			continue;
		const Elf64_Verdef *d = verdef;
		for (; d;) { /* the symbol's version must be LINUX_2.6 */
			if (d->vd_ndx == (versym[i] & 0x7fff)) {
				const Elf64_Verdaux *aux =
				    (const void *)((const char *)d + d->vd_aux);
				assert_string_equal(str + aux->vda_name, "LINUX_2.6");
				return (void *)(base + sym[i].st_value);
			}
			if (!d->vd_next)
				break;
			d = (const void *)((const char *)d + d->vd_next);
		}
	}
	return NULL;
}

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static void every_clock_agrees_with_the_host(void **state)
{
	(void)state;
	struct vm *vm = fake_vm(1.0);
	checked(vm);
	const uint8_t *image = vm->sys + SYS_VDSO;
	gettime_fn gettime = (gettime_fn)vdso_sym(image, "__vdso_clock_gettime");
	getres_fn getres = (getres_fn)vdso_sym(image, "__vdso_clock_getres");
	time_fn vtime = (time_fn)vdso_sym(image, "__vdso_time");
	assert_true(gettime && getres && vtime && vdso_sym(image, "__vdso_gettimeofday") &&
	            vdso_sym(image, "__vdso_getcpu"));
	const clockid_t ids[] = { CLOCK_REALTIME,         CLOCK_MONOTONIC,
		                  CLOCK_BOOTTIME,         CLOCK_TAI,
		                  CLOCK_MONOTONIC_RAW,    CLOCK_REALTIME_COARSE,
		                  CLOCK_MONOTONIC_COARSE, CLOCK_PROCESS_CPUTIME_ID };
	for (size_t i = 0; i < sizeof(ids) / sizeof(*ids); i++) {
		struct timespec g, h0, h1, res;
		/* the page serves a COARSE clock from its precise one (finer than asked, never
		 * later than it): the host's precise clock is the one to compare with */
		clockid_t host = ids[i] == CLOCK_REALTIME_COARSE    ? CLOCK_REALTIME
		                 : ids[i] == CLOCK_MONOTONIC_COARSE ? CLOCK_MONOTONIC
		                                                    : ids[i];
		clock_gettime(host, &h0);
		assert_int_equal(gettime(ids[i], &g), 0);
		clock_gettime(host, &h1);
		int64_t slack = ids[i] == CLOCK_MONOTONIC ? 50000 : 1000000;
		if (ts_ns(&g) < ts_ns(&h0) - slack || ts_ns(&g) > ts_ns(&h1) + slack)
			fail_msg("clock %d: vDSO %lld, host %lld..%lld", (int)ids[i],
			         (long long)ts_ns(&g), (long long)ts_ns(&h0),
			         (long long)ts_ns(&h1));
		assert_int_equal(getres(ids[i], &res), 0);
	}
	assert_true(labs(vtime(NULL) - (long)time(NULL)) <= 1);
	/* the relations the host keeps: TAI is UTC plus whole seconds, BOOTTIME >= MONOTONIC */
	struct timespec rt, tai, mono, boot;
	gettime(CLOCK_REALTIME, &rt);
	gettime(CLOCK_TAI, &tai);
	gettime(CLOCK_MONOTONIC, &mono);
	gettime(CLOCK_BOOTTIME, &boot);
	int64_t frac = (ts_ns(&tai) - ts_ns(&rt)) % 1000000000;
	assert_true(frac >= 0 && frac < 1000000);
	assert_true(ts_ns(&boot) >= ts_ns(&mono));
	fake_free(vm);
}

struct mono_run {
	gettime_fn gettime;
	int64_t last, backwards, reads;
};

static void *read_monotonic(void *arg)
{
	struct mono_run *r = arg;
	struct timespec t, end;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += 1;
	do {
		r->gettime(CLOCK_MONOTONIC, &t);
		if (ts_ns(&t) < r->last)
			r->backwards++;
		r->last = ts_ns(&t);
		r->reads++;
	} while (ts_ns(&t) < ts_ns(&end));
	return NULL;
}

static void monotonic_never_goes_back_across_updates(void **state)
{
	(void)state;
	struct vm *vm = fake_vm(1.0);
	checked(vm);
	struct mono_run r[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		r[i] = (struct mono_run){ .gettime = (gettime_fn)vdso_sym(vm->sys + SYS_VDSO,
			                                                  "__vdso_clock_gettime") };
		assert_int_equal(pthread_create(&th[i], NULL, read_monotonic, &r[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(r[i].backwards, 0);
		assert_true(r[i].reads > 1000);
	}
	/* the keeper rewrote the page about every TIMEPAGE_PERIOD_MS meanwhile */
	const struct hv_time_page *p = (const void *)(vm->sys + SYS_VVAR);
	assert_true(__atomic_load_n(&p->updates, __ATOMIC_RELAXED) >=
	            1000 / TIMEPAGE_PERIOD_MS / 2);
	fake_free(vm);
}

static void clock_scale_is_folded_into_the_page(void **state)
{
	(void)state;
	struct vm *vm = fake_vm(0.5);
	checked(vm);
	gettime_fn gettime = (gettime_fn)vdso_sym(vm->sys + SYS_VDSO, "__vdso_clock_gettime");
	struct timespec g0, g1, h0, h1;
	gettime(CLOCK_MONOTONIC, &g0);
	clock_gettime(CLOCK_MONOTONIC, &h0);
	usleep(300000);
	gettime(CLOCK_MONOTONIC, &g1);
	clock_gettime(CLOCK_MONOTONIC, &h1);
	double ratio = (double)(ts_ns(&g1) - ts_ns(&g0)) / (double)(ts_ns(&h1) - ts_ns(&h0));
	if (ratio < 0.49 || ratio > 0.51)
		fail_msg("guest/host rate %.4f, want 0.5", ratio);
	/* hv's own reading (system calls, --stats) is the same clock */
	uint64_t hv_ns = clock__guest_now(vm, CLOCK_MONOTONIC);
	gettime(CLOCK_MONOTONIC, &g1);
	assert_true(ts_ns(&g1) >= (int64_t)hv_ns && ts_ns(&g1) - (int64_t)hv_ns < 1000000);
	fake_free(vm);
}

static void an_unusable_page_makes_the_system_call(void **state)
{
	(void)state;
	struct vm *vm = fake_vm(1.0); /* never checked: unusable */
	gettime_fn gettime = (gettime_fn)vdso_sym(vm->sys + SYS_VDSO, "__vdso_clock_gettime");
	const struct hv_time_page *p = (const void *)(vm->sys + SYS_VVAR);
	assert_int_equal(__atomic_load_n(&p->usable, __ATOMIC_RELAXED), 0);
	struct timespec g, h;
	assert_int_equal(gettime(CLOCK_REALTIME, &g), 0); /* this host's own system call */
	clock_gettime(CLOCK_REALTIME, &h);
	assert_true(llabs(ts_ns(&h) - ts_ns(&g)) < 1000000);
	assert_int_equal(gettime(12345, &g), -22); /* -EINVAL, from the kernel */
	uint64_t ns;
	assert_int_equal(timepage__read(vm, CLOCK_MONOTONIC, &ns), -1);
	fake_free(vm);
}

UNIT_MAIN(cmocka_unit_test(every_clock_agrees_with_the_host),
          cmocka_unit_test(monotonic_never_goes_back_across_updates),
          cmocka_unit_test(clock_scale_is_folded_into_the_page),
          cmocka_unit_test(an_unusable_page_makes_the_system_call))
