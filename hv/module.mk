# hv/: the bundled hypervisor (library libhv.a and the vcons-hv command) and its tests.
LIBS += hv
hv.srcs := hv/elf.c hv/mem.c hv/mm.c hv/vcpu.c hv/vm.c hv/stack.c hv/cpuid.c hv/clock.c \
           hv/fdtab.c hv/path.c hv/stats.c hv/confine.c hv/syscall.c \
           hv/sys_file.c hv/sys_net.c hv/sys_poll.c hv/sys_mem.c hv/sys_thread.c hv/sys_time.c \
           hv/sys_misc.c
HV_LDLIBS := -lseccomp -ljansson -lyaml -lpthread

HOST_PROGS += vcons-hv
vcons-hv.srcs := hv/main.c
vcons-hv.deps := hv
vcons-hv.ldlibs := $(HV_LDLIBS)

UNIT_TESTS += hv-elf-test
hv-elf-test.srcs := hv/test/elf_test.c
hv-elf-test.deps := hv
hv-elf-test.ldlibs := -lcmocka
