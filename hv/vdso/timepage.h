/* hv/vdso/timepage.h: the time page, the ABI between hv (hv/timepage.c writes it) and the vDSO it
 * maps into every VM (hv/vdso/vdso.c reads it). Nothing here but the layout and the one reading
 * rule, so that both sides compile the same definition.
 *
 * The guest reads clock C as
 *     base[C] + ((rdtsc() - tsc_base) * mult) >> 32        (nanoseconds, 128-bit product)
 * under the sequence count: seq is odd while hv rewrites the page; a reader that saw an odd seq,
 * or a different seq after reading, reads again. hv keeps the page's line continuous and close to
 * the host's clocks (hv/timepage.c says how); --clock-scale is folded into mult and base[]. When
 * `usable` is 0 the TSC cannot be trusted and the vDSO makes the system call instead. */
#ifndef HV_VDSO_TIMEPAGE_H
#define HV_VDSO_TIMEPAGE_H
#include <stdint.h>

/* The clocks the page serves; the COARSE ids read their precise clock. */
enum hv_tp_clock {
	HV_TP_REALTIME,
	HV_TP_MONOTONIC,
	HV_TP_BOOTTIME,
	HV_TP_TAI,
	HV_TP_MONOTONIC_RAW,
	HV_TP_NCLOCKS
};

/* Linux's clock ids (uapi linux/time.h; hv/timepage.c checks them against <time.h>). */
enum {
	HV_CLOCK_REALTIME = 0,
	HV_CLOCK_MONOTONIC = 1,
	HV_CLOCK_MONOTONIC_RAW = 4,
	HV_CLOCK_REALTIME_COARSE = 5,
	HV_CLOCK_MONOTONIC_COARSE = 6,
	HV_CLOCK_BOOTTIME = 7,
	HV_CLOCK_TAI = 11,
};

/* The page's clock for a clock id, or -1 for the ids it does not serve (CPU-time clocks). */
static inline int hv_tp_clock_of(long id)
{
	switch (id) {
	case HV_CLOCK_REALTIME:
	case HV_CLOCK_REALTIME_COARSE: return HV_TP_REALTIME;
	case HV_CLOCK_MONOTONIC:
	case HV_CLOCK_MONOTONIC_COARSE: return HV_TP_MONOTONIC;
	case HV_CLOCK_BOOTTIME: return HV_TP_BOOTTIME;
	case HV_CLOCK_TAI: return HV_TP_TAI;
	case HV_CLOCK_MONOTONIC_RAW: return HV_TP_MONOTONIC_RAW;
	default: return -1;
	}
}

struct hv_time_page {
	uint32_t seq;                /* odd while hv writes */
	uint32_t usable;             /* 0: make the system call */
	uint64_t tsc_base;           /* TSC when base[] held */
	uint64_t mult;               /* guest ns per TSC tick, 32.32 fixed point */
	int64_t base[HV_TP_NCLOCKS]; /* each clock's guest reading at tsc_base (ns) */
	int64_t coarse_res_ns;       /* clock_getres() of the COARSE clocks (the host's tick) */
	uint64_t updates;            /* how many times hv rewrote the page (statistics) */
};

/* The TSC, ordered after the loads before it (as Linux's rdtsc_ordered). */
static inline uint64_t hv_tp_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return (uint64_t)hi << 32 | lo;
}

/* A line's reading at `tsc`: base + (tsc - tsc_base) * mult >> 32; a TSC a hair behind tsc_base
 * (another CPU's) reads as tsc_base, never earlier. */
static inline int64_t hv_tp_at(int64_t base, uint64_t tsc_base, uint64_t mult, uint64_t tsc)
{
	uint64_t d = (int64_t)(tsc - tsc_base) < 0 ? 0 : tsc - tsc_base;
	return base + (int64_t)(((unsigned __int128)d * mult) >> 32);
}

/* Reads clock `c` from the page into *ns: 0, or -1 when the page is marked unusable. The one
 * reading rule, used by the vDSO and by hv's own readers (system calls, --stats), so that the
 * two paths give one clock. */
static inline int hv_tp_read(const struct hv_time_page *p, enum hv_tp_clock c, int64_t *ns)
{
	for (;;) {
		uint32_t seq = __atomic_load_n(&p->seq, __ATOMIC_ACQUIRE);
		if (seq & 1) {
			__builtin_ia32_pause();
			continue;
		}
		if (!__atomic_load_n(&p->usable, __ATOMIC_RELAXED))
			return -1;
		/* acquire loads (plain moves on x86): the second seq load stays after them, with
		 * no fence (ThreadSanitizer, which checks hv's side, has no model of fences) */
		uint64_t tsc_base = __atomic_load_n(&p->tsc_base, __ATOMIC_ACQUIRE);
		uint64_t mult = __atomic_load_n(&p->mult, __ATOMIC_ACQUIRE);
		int64_t base = __atomic_load_n(&p->base[c], __ATOMIC_ACQUIRE);
		uint64_t tsc = hv_tp_rdtsc();
		if (__atomic_load_n(&p->seq, __ATOMIC_RELAXED) != seq)
			continue;
		*ns = hv_tp_at(base, tsc_base, mult, tsc);
		return 0;
	}
}

#endif
