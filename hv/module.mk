# hv/: the bundled hypervisor (library libhv.a and the vcons-hv command) and its tests.
LIBS += hv
hv.srcs := hv/elf.c

UNIT_TESTS += hv-elf-test
hv-elf-test.srcs := hv/test/elf_test.c
hv-elf-test.deps := hv
hv-elf-test.ldlibs := -lcmocka
