/* hv/timepage.c: the time page and the vDSO in every VM (timepage.h says what and why).
 *
 * Keeping the line. Every TIMEPAGE_PERIOD_MS the keeper thread samples the TSC and the host's
 * clocks together, turns the host readings into guest readings (clock.c: --clock-scale), and
 * rewrites the page under its sequence count:
 *   - the rate (ns per tick) comes from KVM's TSC frequency for the first update, then from the
 *     host's own CLOCK_MONOTONIC over the whole life of the VM (a baseline that grows: ppm-exact
 *     within seconds; an emulated CPU's KVM frequency was 8% off in the nested test guest);
 *   - MONOTONIC's new line is anchored at the moment of writing, where the old one stands then
 *     (it never jumps back), and is slewed so that it meets the host's clock at the next update:
 *     at most 0.1%, or 10% for an error of more than 100 us (the first updates' rate error); a
 *     guest more than 1 ms behind (the keeper was not scheduled) steps forward instead;
 *   - the other clocks keep the host's offsets to MONOTONIC (keep_offset: a REALTIME step on the
 *     host is a step in the guest too, as on Linux; the jitter of a measurement is not).
 * Readers (the vDSO, timepage__read) follow hv_tp_read() in hv/vdso/timepage.h. */
#include "hv/timepage.h"
#include "hv/clock.h"
#include "hv/mem.h"
#include "hv/vdso/timepage.h"
#include "hv/vm.h"

#include <errno.h>
#include <stdlib.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

_Static_assert(HV_CLOCK_REALTIME == CLOCK_REALTIME && HV_CLOCK_MONOTONIC == CLOCK_MONOTONIC &&
                   HV_CLOCK_MONOTONIC_RAW == CLOCK_MONOTONIC_RAW &&
                   HV_CLOCK_REALTIME_COARSE == CLOCK_REALTIME_COARSE &&
                   HV_CLOCK_MONOTONIC_COARSE == CLOCK_MONOTONIC_COARSE &&
                   HV_CLOCK_BOOTTIME == CLOCK_BOOTTIME && HV_CLOCK_TAI == CLOCK_TAI,
               "the vDSO's clock ids are Linux's");
_Static_assert(sizeof(struct hv_time_page) <= 4096, "the time page is one page");
_Static_assert(HV_TP_NCLOCKS <= sizeof(((struct timepage *)0)->offset) / sizeof(int64_t),
               "an offset per clock");

/* The vDSO image (hv/vdso_image.S). */
extern const unsigned char hv_vdso_image[];
extern const uint64_t hv_vdso_size;

static const clockid_t host_clock[HV_TP_NCLOCKS] = {
	[HV_TP_REALTIME] = CLOCK_REALTIME,           [HV_TP_MONOTONIC] = CLOCK_MONOTONIC,
	[HV_TP_BOOTTIME] = CLOCK_BOOTTIME,           [HV_TP_TAI] = CLOCK_TAI,
	[HV_TP_MONOTONIC_RAW] = CLOCK_MONOTONIC_RAW,
};

static struct hv_time_page *page_of(const struct vm *vm)
{
	return (struct hv_time_page *)(vm->sys + SYS_VVAR);
}

uint64_t timepage__vdso_va(void)
{
	return SYS_VA + SYS_VDSO;
}

/* 1 when the host says its TSC runs at one rate, in every power state, on every CPU. */
static int host_tsc_is_stable(void)
{
	static int stable = -1;
	if (stable >= 0)
		return stable;
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[4096];
	int constant = 0, nonstop = 0;
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		constant = strstr(line, " constant_tsc") != NULL;
		nonstop = strstr(line, " nonstop_tsc") != NULL;
		break;
	}
	if (f)
		(void)fclose(f);
	stable = constant && nonstop;
	return stable;
}

/* Writes the page's parameters under its sequence count (one writer: the keeper, or set-up). */
static void page_write(struct hv_time_page *p, uint32_t usable, uint64_t tsc, uint64_t mult,
                       const int64_t *base)
{
	uint32_t seq = __atomic_load_n(&p->seq, __ATOMIC_RELAXED);
	__atomic_store_n(&p->seq, seq + 1, __ATOMIC_RELAXED);
	/* release stores: the odd seq is visible before any of them (the reader's rule) */
	__atomic_store_n(&p->usable, usable, __ATOMIC_RELEASE);
	__atomic_store_n(&p->tsc_base, tsc, __ATOMIC_RELEASE);
	__atomic_store_n(&p->mult, mult, __ATOMIC_RELEASE);
	for (int c = 0; c < HV_TP_NCLOCKS; c++)
		__atomic_store_n(&p->base[c], base[c], __ATOMIC_RELEASE);
	__atomic_store_n(&p->updates, __atomic_load_n(&p->updates, __ATOMIC_RELAXED) + 1,
	                 __ATOMIC_RELAXED);
	__atomic_store_n(&p->seq, seq + 2, __ATOMIC_RELEASE);
}

/* Marks the page unusable for the VM's life; the first reason is kept for --stats. `warn`: say it
 * on stderr too, once (a vCPU whose TSC is not the host's, where the host's flags promised it;
 * not the host's flags or --time-page off, which a user knows of, and which would otherwise
 * stand in every guest program's output). */
static void mark_unusable(struct vm *vm, const char *why, int warn)
{
	struct timepage *t = &vm->tp;
	pthread_mutex_lock(&t->lock);
	int first = !t->why;
	if (first) {
		t->why = why;
		int64_t zero[HV_TP_NCLOCKS] = { 0 };
		page_write(page_of(vm), 0, 0, 0, zero);
	}
	pthread_mutex_unlock(&t->lock);
	if (first && warn)
		fprintf(stderr,
		        "vcons-hv: %s: guest clocks through system calls (no vDSO time): %s\n",
		        vm->name, why);
}

/* The keeper's wake-up: a condition variable on CLOCK_MONOTONIC (also in a forked child, over the
 * parent's, whose waiter does not exist there). */
static void init_sync(struct timepage *t)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->wake, &ca);
	pthread_condattr_destroy(&ca);
}

int timepage__init(struct vm *vm, char *err, size_t errlen)
{
	pthread_mutex_init(&vm->tp.lock, NULL);
	init_sync(&vm->tp);
	size_t n = (size_t)hv_vdso_size;
	if (n > SYS_VDSO_MAX) {
		snprintf(err, errlen, "the vDSO image (%zu bytes) does not fit its %d", n,
		         SYS_VDSO_MAX);
		return -1;
	}
	memcpy(vm->sys + SYS_VDSO, hv_vdso_image, n);
	memset(page_of(vm), 0, sizeof(struct hv_time_page));
	struct timespec r;
	page_of(vm)->coarse_res_ns =
	    clock_getres(CLOCK_MONOTONIC_COARSE, &r) == 0 ? r.tv_nsec : 4000000;
	if (vm->cfg.time_page == HV_TIME_PAGE_OFF)
		mark_unusable(vm, "--time-page off", 0);
	else if (vm->cfg.time_page != HV_TIME_PAGE_FORCE && !host_tsc_is_stable())
		mark_unusable(vm, "the host's TSC is not constant_tsc and nonstop_tsc", 0);
	return 0;
}

/* One sample: the TSC and every host clock, each clock read between two TSC readings. */
struct sample {
	uint64_t tsc;
	int64_t host[HV_TP_NCLOCKS];
};

static void take_sample(struct sample *s)
{
	uint64_t best = UINT64_MAX;
	for (int tries = 0; tries < 4; tries++) { /* the tightest of a few: no preemption inside */
		uint64_t t0 = hv_tp_rdtsc();
		int64_t mono = (int64_t)clock__host_ns(CLOCK_MONOTONIC);
		uint64_t t1 = hv_tp_rdtsc();
		if (t1 - t0 < best) {
			best = t1 - t0;
			s->tsc = t0 + (t1 - t0) / 2;
			s->host[HV_TP_MONOTONIC] = mono;
		}
	}
	/* the others as offsets to MONOTONIC, each read between two MONOTONIC readings */
	for (int c = 0; c < HV_TP_NCLOCKS; c++) {
		if (c == HV_TP_MONOTONIC)
			continue;
		int64_t m0 = (int64_t)clock__host_ns(CLOCK_MONOTONIC);
		int64_t v = (int64_t)clock__host_ns(host_clock[c]);
		int64_t m1 = (int64_t)clock__host_ns(CLOCK_MONOTONIC);
		s->host[c] = s->host[HV_TP_MONOTONIC] + (v - (m0 + (m1 - m0) / 2));
	}
}

/* Clock c's offset to MONOTONIC from a fresh `measured` one. The host's offsets are constant
 * but for steps (settimeofday, a resume from suspend; RAW's drifts with the NTP rate), while each
 * measurement carries the jitter of its paired reads: the kept offset moves only for a step of
 * more than 20 us, or every time for RAW. TAI is REALTIME plus the kernel's whole seconds, and
 * BOOTTIME is never behind MONOTONIC, as on the host. */
static int64_t keep_offset(struct timepage *t, int c, int64_t measured)
{
	int64_t *kept = &t->offset[c];
	if (c == HV_TP_TAI) {
		int64_t rt = t->offset[HV_TP_REALTIME], secs = measured - rt;
		secs = (secs + (secs < 0 ? -500000000 : 500000000)) / 1000000000 * 1000000000;
		return *kept = rt + secs;
	}
	if (c == HV_TP_MONOTONIC_RAW || !t->have_offsets || llabs(measured - *kept) > 20000)
		*kept = measured;
	if (c == HV_TP_BOOTTIME && *kept < 0)
		*kept = 0;
	return *kept;
}

/* The keeper's step: the new line from a fresh sample (see the top of this file). */
static void refresh(struct vm *vm)
{
	struct timepage *t = &vm->tp;
	struct hv_time_page *p = page_of(vm);
	struct sample s = { 0 };
	take_sample(&s);
	if (!t->tsc0) {
		t->tsc0 = s.tsc;
		t->mono0 = s.host[HV_TP_MONOTONIC];
	}
	pthread_mutex_lock(&t->lock);
	double rate = t->ns_per_tick; /* from KVM's TSC frequency */
	pthread_mutex_unlock(&t->lock);
	uint64_t ticks = s.tsc - t->tsc0;
	if ((double)ticks * rate >= 20e6) /* a baseline of 20 ms or more: the host's own rate */
		rate = (double)(s.host[HV_TP_MONOTONIC] - t->mono0) / (double)ticks;
	double scale = vm->cfg.clock_scale, ns_per_tick = rate * scale; /* guest ns */
	int64_t target[HV_TP_NCLOCKS];
	for (int c = 0; c < HV_TP_NCLOCKS; c++)
		target[c] = (int64_t)clock__guest_at(vm, host_clock[c], (uint64_t)s.host[c]);
	pthread_mutex_lock(&t->lock);
	if (t->why || !t->checked) {
		pthread_mutex_unlock(&t->lock);
		return;
	}
	/* The new line is anchored at the moment of writing: a guest may have read the old line
	 * until now, and the new one starts where the old one stands. */
	uint64_t tw = hv_tp_rdtsc();
	int64_t target_w = target[HV_TP_MONOTONIC] + (int64_t)((double)(tw - s.tsc) * ns_per_tick);
	int64_t base_mono = target_w;
	double slew = 0;
	if (__atomic_load_n(&p->usable, __ATOMIC_RELAXED)) { /* the keeper's own last line */
		int64_t old = hv_tp_at(__atomic_load_n(&p->base[HV_TP_MONOTONIC], __ATOMIC_RELAXED),
		                       __atomic_load_n(&p->tsc_base, __ATOMIC_RELAXED),
		                       __atomic_load_n(&p->mult, __ATOMIC_RELAXED), tw);
		int64_t ahead = old - target_w;
		if (ahead > -1000000) { /* else (the keeper was not scheduled): step forward */
			/* 0.1% at most, 10% while the start's rate error is taken back */
			double cap = llabs(ahead) < 100000 ? 1e-3 : 0.1;
			base_mono = old;
			slew = -(double)ahead / (TIMEPAGE_PERIOD_MS * 1e6 * scale);
			slew = slew > cap ? cap : slew < -cap ? -cap : slew;
		}
	}
	int64_t base[HV_TP_NCLOCKS];
	for (int c = 0; c < HV_TP_NCLOCKS; c++)
		base[c] = base_mono + keep_offset(t, c, target[c] - target[HV_TP_MONOTONIC]);
	t->have_offsets = 1;
	page_write(p, 1, tw, (uint64_t)(ns_per_tick * (1 + slew) * 4294967296.0), base);
	pthread_mutex_unlock(&t->lock);
}

void timepage__vcpu(struct vcpu *c)
{
	struct vm *vm = c->vm;
	struct timepage *t = &vm->tp;
	/* The guest's TSC is the host's: offset 0 (KVM >= 5.16; elsewhere the check below says). */
	uint64_t zero = 0;
	struct kvm_device_attr attr = { .group = KVM_VCPU_TSC_CTRL,
		                        .attr = KVM_VCPU_TSC_OFFSET,
		                        .addr = (uint64_t)(uintptr_t)&zero };
	(void)ioctl(c->fd, KVM_SET_DEVICE_ATTR, &attr);
	union { /* struct kvm_msrs ends in a flexible array: room for one entry */
		struct kvm_msrs h;
		char room[sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)];
	} m = { .h.nmsrs = 1 };
	m.h.entries[0].index = 0x10; /* IA32_TSC */
	uint64_t t0 = hv_tp_rdtsc();
	int n = ioctl(c->fd, KVM_GET_MSRS, &m);
	uint64_t t1 = hv_tp_rdtsc();
	uint64_t guest = m.h.entries[0].data;
	int khz = ioctl(c->fd, KVM_GET_TSC_KHZ, 0);
	if (n != 1 || khz <= 0) {
		mark_unusable(vm, "KVM does not tell the vCPU's TSC or its frequency", 1);
		return;
	}
	/* within the ioctl's own span, and a millisecond's slack for a busy host */
	uint64_t slack = (t1 - t0) + (uint64_t)khz;
	if (guest + slack < t0 || guest > t1 + slack) {
		mark_unusable(
		    vm, "a vCPU's TSC is not the host's (KVM would not set its offset to 0)", 1);
		return;
	}
	pthread_mutex_lock(&t->lock);
	if (!t->ns_per_tick)
		t->ns_per_tick = 1e6 / khz;
	t->checked = 1;
	pthread_mutex_unlock(&t->lock);
}

static void *keeper(void *arg)
{
	struct vm *vm = arg;
	struct timepage *t = &vm->tp;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&t->lock);
	while (!t->stop) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += TIMEPAGE_PERIOD_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L)
			until.tv_sec++, until.tv_nsec -= 1000000000L;
		while (!t->stop && pthread_cond_timedwait(&t->wake, &t->lock, &until) != ETIMEDOUT)
			;
		if (t->stop || t->why || !t->checked)
			continue;
		pthread_mutex_unlock(&t->lock);
		refresh(vm);
		pthread_mutex_lock(&t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

int timepage__start(struct vm *vm)
{
	struct timepage *t = &vm->tp;
	refresh(vm); /* before the guest's first instruction (clock.c's bases are set) */
	t->stop = 0;
	if (pthread_create(&t->thread, NULL, keeper, vm) != 0)
		return -1;
	t->running = 1;
	return 0;
}

int timepage__start_in_child(struct vm *vm)
{
	init_sync(&vm->tp);
	vm->tp.running = 0; /* the parent's keeper is not in this process */
	return timepage__start(vm);
}

void timepage__stop(struct vm *vm)
{
	struct timepage *t = &vm->tp;
	if (!t->running)
		return;
	pthread_mutex_lock(&t->lock);
	t->stop = 1;
	pthread_cond_signal(&t->wake);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	t->running = 0;
}

int timepage__read(const struct vm *vm, clockid_t id, uint64_t *ns)
{
	int c = hv_tp_clock_of(id);
	int64_t v;
	if (c < 0 || !vm->sys || hv_tp_read(page_of(vm), (enum hv_tp_clock)c, &v) < 0)
		return -1;
	*ns = (uint64_t)v;
	return 0;
}

struct json_t *timepage__json(struct vm *vm)
{
	struct timepage *t = &vm->tp;
	const struct hv_time_page *p = page_of(vm);
	pthread_mutex_lock(&t->lock);
	const char *why = t->why ? t->why : !t->checked ? "no vCPU checked yet" : NULL;
	pthread_mutex_unlock(&t->lock);
	return json_pack("{s:b,s:s?,s:I,s:i}", "usable", why == NULL, "why", why, "updates",
	                 (json_int_t)__atomic_load_n(&p->updates, __ATOMIC_RELAXED), "period_ms",
	                 TIMEPAGE_PERIOD_MS);
}
