# workloads/idle/: the idle VM. vcons-idle (static guest program): periodic wake-ups and their
# lateness histogram; its end-to-end test and benchmark (host CPU per second).
GUEST_PROGS += vcons-idle
vcons-idle.srcs := workloads/idle/idle_main.c
vcons-idle.deps := vcguestio vcload vclib
vcons-idle.ldlibs := -ljansson -lpthread -lm

E2E_TESTS += workloads/idle/test/idle.sh workloads/idle/test/idle.sh@hv
BENCHES += workloads/idle/bench/idle-bench.sh workloads/idle/bench/idle-bench.sh@hv
