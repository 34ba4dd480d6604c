/* hv/stats.c: KVM's binary statistics (KVM_GET_STATS_FD), hv's counters, and the JSON document
 * `--stats FILE` and SIGUSR1 write (see stats.h). */
#include "hv/stats.h"
#include "hv/clock.h"
#include "hv/timepage.h"
#include "hv/syscall.h"
#include "hv/vm.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

struct kvm_stats {
	int fd;
	struct kvm_stats_header h;
	char *desc; /* num_desc descriptors of sizeof(kvm_stats_desc) + name_size bytes each */
	size_t desc_size;
};

struct kvm_stats *stats__kvm_open(int kvm_object_fd)
{
	int fd = ioctl(kvm_object_fd, KVM_GET_STATS_FD, NULL);
	if (fd < 0)
		return NULL;
	struct kvm_stats *s = calloc(1, sizeof(*s));
	if (!s || pread(fd, &s->h, sizeof(s->h), 0) != sizeof(s->h))
		goto fail;
	s->fd = fd;
	s->desc_size = sizeof(struct kvm_stats_desc) + s->h.name_size;
	size_t total = s->desc_size * s->h.num_desc;
	s->desc = malloc(total ? total : 1);
	if (!s->desc || pread(fd, s->desc, total, s->h.desc_offset) != (ssize_t)total)
		goto fail;
	return s;
fail:
	if (s)
		free(s->desc);
	free(s);
	close(fd);
	return NULL;
}

void stats__kvm_close(struct kvm_stats *s)
{
	if (!s)
		return;
	close(s->fd);
	free(s->desc);
	free(s);
}

void stats__kvm_accumulate(struct kvm_stats *s, void *acc)
{
	json_t *o = acc;
	if (!s)
		return;
	for (uint32_t i = 0; i < s->h.num_desc; i++) {
		const struct kvm_stats_desc *d = (const void *)(s->desc + i * s->desc_size);
		if (d->size != 1)
			continue; /* histograms are left out */
		uint64_t v;
		if (pread(s->fd, &v, sizeof(v), s->h.data_offset + d->offset) != sizeof(v))
			continue;
		json_t *cur = json_object_get(o, d->name);
		json_int_t sum = (json_int_t)v + (cur ? json_integer_value(cur) : 0);
		json_object_set_new(o, d->name, json_integer(sum));
	}
}

void stats__fold(struct vcpu_stats *into, const struct vcpu_stats *from)
{
	for (int i = 0; i < STATS_NEXITS; i++)
		into->exits[i] += from->exits[i];
	for (int i = 0; i < STATS_NSYSCALLS; i++) {
		into->sys_count[i] += from->sys_count[i];
		into->sys_ns[i] += from->sys_ns[i];
	}
	into->sys_unknown += from->sys_unknown;
}

int stats__first_unknown(struct vm_stats *s, unsigned nr)
{
	uint64_t bit = 1ULL << (nr % 64);
	uint64_t old = atomic_fetch_or(&s->unknown_seen[nr / 64 % (STATS_NSYSCALLS / 64)], bit);
	return !(old & bit);
}

static const char *exit_name(int reason)
{
	static const char *const names[] = {
		[KVM_EXIT_UNKNOWN] = "unknown",
		[KVM_EXIT_EXCEPTION] = "exception",
		[KVM_EXIT_IO] = "io",
		[KVM_EXIT_HYPERCALL] = "hypercall",
		[KVM_EXIT_DEBUG] = "debug",
		[KVM_EXIT_HLT] = "hlt",
		[KVM_EXIT_MMIO] = "mmio",
		[KVM_EXIT_IRQ_WINDOW_OPEN] = "irq_window_open",
		[KVM_EXIT_SHUTDOWN] = "shutdown",
		[KVM_EXIT_FAIL_ENTRY] = "fail_entry",
		[KVM_EXIT_INTR] = "intr",
		[KVM_EXIT_INTERNAL_ERROR] = "internal_error",
	};
	if (reason >= 0 && reason < (int)(sizeof(names) / sizeof(*names)) && names[reason])
		return names[reason];
	return NULL;
}

/* A statistic's key: its name, or PREFIX_I for a number without one. */
static const char *key(const char *name, const char *prefix, int i, char *buf, size_t len)
{
	if (name)
		return name;
	snprintf(buf, len, "%s_%d", prefix, i);
	return buf;
}

static json_t *exits_json(const struct vcpu_stats *s)
{
	json_t *o = json_object();
	char buf[32];
	for (int i = 0; i < STATS_NEXITS; i++)
		if (s->exits[i])
			json_object_set_new(o, key(exit_name(i), "reason", i, buf, sizeof(buf)),
			                    json_integer((json_int_t)s->exits[i]));
	return o;
}

static json_t *syscalls_json(const struct vcpu_stats *s)
{
	json_t *o = json_object();
	char buf[32];
	for (int i = 0; i < STATS_NSYSCALLS; i++) {
		if (!s->sys_count[i])
			continue;
		const char *n = key(syscall__name((unsigned)i), "syscall", i, buf, sizeof(buf));
		json_object_set_new(o, n,
		                    json_pack("{s:I,s:I}", "count", (json_int_t)s->sys_count[i],
		                              "total_ns", (json_int_t)s->sys_ns[i]));
	}
	return o;
}

/* Bytes of guest RAM the host has backed (pages the guest touched and still holds). */
static uint64_t resident(const struct vm *vm)
{
	size_t pages = vm->mem / 4096;
	unsigned char *v = malloc(pages);
	uint64_t n = 0;
	if (v && mincore(vm->ram, vm->mem, v) == 0)
		for (size_t i = 0; i < pages; i++)
			n += v[i] & 1;
	free(v);
	return n * 4096;
}

static uint64_t rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, res = 0;
	if (f) {
		// NOLINTNEXTLINE(cert-err34-c): the kernel's /proc numbers
		if (fscanf(f, "%lu %lu", &size, &res) != 2)
			res = 0;
		(void)fclose(f);
	}
	return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

static json_t *stats_json(struct vm *vm)
{
	struct vcpu_stats sum = vm->stats.total;
	json_t *per = json_array(), *kvm_vcpu = json_object(), *kvm_vm = json_object();
	for (int i = 0; i < MAX_VCPUS; i++) {
		struct vcpu *c = vm->all[i];
		if (!c)
			continue;
		stats__fold(&sum, &c->stats);
		stats__kvm_accumulate(c->stats.kvm, kvm_vcpu);
		json_t *one = json_object();
		json_object_set_new(one, "id", json_integer(c->id));
		json_object_set_new(one, "running_thread", json_integer(vm->vcpus[i] ? c->tid : 0));
		json_object_set_new(one, "exits", exits_json(&c->stats));
		uint64_t calls = 0;
		for (int k = 0; k < STATS_NSYSCALLS; k++)
			calls += c->stats.sys_count[k];
		json_object_set_new(one, "syscalls", json_integer((json_int_t)calls));
		json_t *k = json_object();
		stats__kvm_accumulate(c->stats.kvm, k);
		json_object_set_new(one, "kvm", k);
		json_array_append_new(per, one);
	}
	stats__kvm_accumulate(vm->stats.kvm_vm, kvm_vm);
	uint64_t res = resident(vm), rss = rss_bytes();
	const struct vm_stats *s = &vm->stats;
	/* One host reading for both clocks: the harness divides their differences (dilation). */
	uint64_t host_now = clock__host_ns(CLOCK_MONOTONIC);
	uint64_t guest_now = clock__guest_now(vm, CLOCK_MONOTONIC); /* the guest's own clock */
	json_t *o = json_pack(
	    "{s:s,s:s,s:I,s:I,s:i,s:{s:i,s:i,s:i},s:o,s:o,s:I,s:o,s:o,s:o,s:{s:I,s:I,s:I,s:I},"
	    "s:{s:I,s:I,s:I}}",
	    "type", "hv_stats", "name", vm->name, "host_ns", (json_int_t)host_now, "guest_ns",
	    (json_int_t)guest_now, "page_size_bytes", vm->cfg.page_4k ? 4096 : 2 << 20, "vcpus",
	    "limit", vm->cfg.max_threads, "created", s->vcpus_created, "peak_threads",
	    s->vcpus_peak, "exits", exits_json(&sum), "syscalls", syscalls_json(&sum),
	    "unknown_syscalls", (json_int_t)sum.sys_unknown, "kvm_vm", kvm_vm, "kvm_vcpu", kvm_vcpu,
	    "per_vcpu", per, "memory", "guest_bytes", (json_int_t)vm->mem, "guest_resident_bytes",
	    (json_int_t)res, "vmm_rss_bytes", (json_int_t)rss, "vmm_overhead_bytes",
	    (json_int_t)(rss > res ? rss - res : 0), "timing_ns", "create_to_first_run",
	    (json_int_t)(s->first_run_ns ? s->first_run_ns - s->create_ns : 0),
	    "create_to_first_exit",
	    (json_int_t)(s->first_exit_ns ? s->first_exit_ns - s->create_ns : 0),
	    "restore_to_first_run",
	    (json_int_t)(s->restore_ns && s->first_run_ns ? s->first_run_ns - s->restore_ns : 0));
	if (o)
		json_object_set_new(o, "time_page", timepage__json(vm));
	return o;
}

int hv_vm_write_stats(struct hv_vm *hvm, const char *path)
{
	struct vm *vm = (struct vm *)hvm;
	pthread_mutex_lock(&vm->lock);
	json_t *o = stats_json(vm);
	pthread_mutex_unlock(&vm->lock);
	if (!o)
		return -ENOMEM;
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	int rc = json_dump_file(o, tmp, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(o);
	if (rc == 0 && rename(tmp, path) == 0)
		return 0;
	int err = errno ? errno : EIO;
	unlink(tmp);
	return -err;
}
