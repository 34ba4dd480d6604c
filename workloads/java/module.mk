# workloads/java/: the Java VM. libvcjbb.a (the SPECjbb2005-style business logic, its collection
# pass and invariants), the static guest program vcons-jbb (with libvcguestio.a from
# workloads/common), unit tests, end-to-end test, benchmark.
LIBS += vcjbb
vcjbb.srcs := workloads/java/jbb_world.c workloads/java/jbb_txn.c workloads/java/jbb_check.c

GUEST_PROGS += vcons-jbb
vcons-jbb.srcs := workloads/java/jbb_main.c
vcons-jbb.deps := vcjbb vcguestio vcload vclib
vcons-jbb.ldlibs := -ljansson -lpthread -lm

UNIT_TESTS += vcjbb-test
vcjbb-test.srcs := workloads/java/test/jbb_test.c
vcjbb-test.deps := vcjbb vcload vclib
vcjbb-test.ldlibs := -lcmocka -ljansson -lpthread -lm

E2E_TESTS += workloads/java/test/jbb.sh workloads/java/test/jbb.sh@hv
BENCHES += workloads/java/bench/jbb-bench.sh workloads/java/bench/jbb-bench.sh@hv
