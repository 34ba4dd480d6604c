# hv/: the bundled hypervisor (library libhv.a and the vcons-hv command) and its tests.
LIBS += hv
hv.srcs := hv/elf.c hv/mem.c hv/mm.c hv/vcpu.c hv/vm.c hv/stack.c hv/cpuid.c hv/clock.c \
           hv/fdtab.c hv/path.c hv/stats.c hv/confine.c hv/uaccess.c hv/syscall.c hv/signal.c hv/process.c \
           hv/sys_file.c hv/sys_net.c hv/sys_poll.c hv/sys_mem.c hv/sys_thread.c hv/sys_time.c \
           hv/sys_misc.c hv/timepage.c hv/wire.c hv/dirty.c hv/snapshot.c hv/snapshot_state.c hv/snapshot_restore.c hv/migrate.c hv/migrate_in.c \
           hv/fdstate.c hv/fdstate_sock.c hv/vdso_image.S
HV_LDLIBS := -lseccomp -ljansson -lyaml -lcrypto -lpthread

# The guest vDSO (hv/vdso/): freestanding, its own flags (never a sanitizer's), linked by
# hv/vdso/vdso.lds into a small ET_DYN image that hv/vdso_image.S embeds into libhv.
HV_VDSO := $(B)/vdso/vcons-vdso.so
HV_VDSO_CFLAGS := -std=c11 -O2 -Wall -Wextra -Werror -Wmissing-prototypes -I. -fPIC -ffreestanding \
                  -fno-stack-protector -fno-builtin -fcf-protection=none -MMD -MP
HV_VDSO_LDFLAGS := -nostdlib -shared -Wl,-T,hv/vdso/vdso.lds -Wl,--hash-style=both \
                   -Wl,-soname=linux-vdso.so.1 -Wl,--build-id=none -Wl,-z,noexecstack
$(B)/vdso/vdso.o: hv/vdso/vdso.c
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(HV_VDSO_CFLAGS) -c -o $@ $<
$(HV_VDSO): $(B)/vdso/vdso.o hv/vdso/vdso.lds
	$(call say,VDSO,$@)$(CC) $(HV_VDSO_LDFLAGS) -o $@ $<
-include $(B)/vdso/vdso.d
$(B)/obj/hv/vdso_image.o: $(HV_VDSO)
$(B)/obj/hv/vdso_image.o: CFLAGS += -DHV_VDSO_SO='"$(HV_VDSO)"'

HOST_PROGS += vcons-hv
vcons-hv.srcs := hv/main.c hv/control.c
vcons-hv.deps := hv vclib
vcons-hv.ldlibs := $(HV_LDLIBS)

UNIT_TESTS += hv-elf-test
hv-elf-test.srcs := hv/test/elf_test.c
hv-elf-test.deps := hv
hv-elf-test.ldlibs := -lcmocka

UNIT_TESTS += hv-clock-test
hv-clock-test.srcs := hv/test/clock_test.c
hv-clock-test.deps := hv
hv-clock-test.ldlibs := -lcmocka $(HV_LDLIBS)

UNIT_TESTS += hv-uaccess-test
hv-uaccess-test.srcs := hv/test/uaccess_test.c
hv-uaccess-test.deps := hv
hv-uaccess-test.ldlibs := -lcmocka $(HV_LDLIBS)

UNIT_TESTS += hv-wire-test
hv-wire-test.srcs := hv/test/wire_test.c
hv-wire-test.deps := hv
hv-wire-test.ldlibs := -lcmocka $(HV_LDLIBS)

UNIT_TESTS += hv-fdstate-test
hv-fdstate-test.srcs := hv/test/fdstate_test.c
hv-fdstate-test.deps := hv
hv-fdstate-test.ldlibs := -lcmocka $(HV_LDLIBS)

UNIT_TESTS += hv-lib-test
hv-lib-test.srcs := hv/test/lib_test.c
hv-lib-test.deps := hv
hv-lib-test.ldlibs := -lcmocka $(HV_LDLIBS)

# Guest programs for hv's conformance tests (static; each prints a transcript compared native vs hv).
HV_GUEST_TESTS := t_files t_threads t_time t_mem t_net t_sqlite t_tls t_crash t_confine t_cpuid t_robust \
                  t_clock t_race t_snap
GUEST_PROGS += $(addprefix hv-,$(HV_GUEST_TESTS))
$(foreach t,$(HV_GUEST_TESTS),$(eval hv-$(t).srcs := hv/test/guest/$(t).c))
$(foreach t,$(HV_GUEST_TESTS),$(eval hv-$(t).ldlibs := -lpthread))
hv-t_sqlite.ldlibs := -lsqlite3 -lm -ldl -lpthread
hv-t_tls.ldlibs := -lssl -lcrypto -ldl -lpthread
# Guest test programs are ordinary Linux programs, not hv code: no prototype rules for them.
hv/test/guest.cflags := -Wno-missing-prototypes -Wno-missing-field-initializers

# t_clock with musl as well (musl-tools): the vDSO must serve both C libraries' lookups.
EXTRA_GUEST_BINS += $(B)/guest/hv-t_clock-musl
$(B)/guest/hv-t_clock-musl: hv/test/guest/t_clock.c
	@mkdir -p $(@D)
	$(call say,MUSL,$@)musl-gcc -static -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
		-o $@ $< -lpthread

E2E_TESTS += hv/test/conformance.sh hv/test/confinement.sh hv/test/busybox.sh hv/test/errors.sh \
              hv/test/guest-memory.sh hv/test/vdso.sh hv/test/snapshot.sh
# hv's handlers against a guest rewriting their arguments while they run (t_race), native vs hv
E2E_TESTS += hv/test/race.sh

GUEST_PROGS += hv-bench
hv-bench.srcs := hv/bench/hvbench.c
hv-bench.ldlibs := -lpthread
GUEST_PROGS += hv-snapguest
hv-snapguest.srcs := hv/bench/snapguest.c
hv/bench.cflags := -Wno-missing-prototypes
BENCHES += hv/bench/run.sh hv/bench/snapshot.sh

# the program loader under libFuzzer (`make fuzz`); its corpus hv/fuzz/elf/ (small hand-made ELF
# files, made by hv/fuzz/elf-seeds.py, plus the fuzzer's finds) is replayed under ASan+UBSan by
# `make test`. It links elf.c alone: the rest of libhv needs no clang build.
FUZZERS += hv-elf
hv-elf.srcs := hv/fuzz/elf.c hv/elf.c

# the system-call layer, driven without KVM through a hand-built VM (`make fuzz`); its corpus
# hv/fuzz/syscall/ is replayed under ASan+UBSan by `make test`
FUZZERS += hv-syscall
hv-syscall.srcs := hv/fuzz/syscall.c
hv-syscall.deps := hv
hv-syscall.ldlibs := $(HV_LDLIBS)

UNIT_TESTS += hv-vdso-test
hv-vdso-test.srcs := hv/test/vdso_test.c
hv-vdso-test.deps := hv
hv-vdso-test.ldlibs := -lcmocka $(HV_LDLIBS)
