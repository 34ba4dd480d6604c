# harness/: the runner and the `vcons` program (README.md). libharness.a is the runner: a run's
# plan, processes, measurement and result document (everything but the command line, so unit
# tests and the sanitizer build cover it); on top of it, of the result model (model/) and of the
# results repository (results/), the `vcons` commands: main.c and one cmd_*.c per command.
# Paths are bounded by PATH_MAX and checked where a run is planned (plan.c); gcc cannot see that.
harness.cflags := -Wno-format-truncation
LIBS += harness
harness.srcs := harness/proc.c harness/plan.c harness/platform.c harness/platform_native.c \
	harness/platform_hv.c harness/platform_qemu.c harness/collect.c harness/metrics.c \
	harness/sysinfo.c harness/run.c harness/run_loop.c harness/run_result.c harness/live.c \
	harness/infra.c harness/vmctl.c

HOST_PROGS += vcons
vcons.srcs := harness/main.c harness/cmd_report.c harness/cmd_compare.c harness/cmd_seal.c \
	harness/cmd_serve.c harness/cmd_submit.c
vcons.deps := harness vcresults vcmodel vcload vclib
vcons.ldlibs := -lyaml -ljansson -lcrypto -lm -lmicrohttpd -lcurl -lsqlite3 -lpthread

E2E_TESTS += harness/test/report.sh

UNIT_TESTS += harness-proc-test
harness-proc-test.srcs := harness/test/proc_test.c
harness-proc-test.deps := harness vcmodel vclib
harness-proc-test.ldlibs := -lcmocka

E2E_TESTS += harness/test/run.sh harness/test/run.sh@hv
BENCHES += harness/bench/run.sh harness/bench/run.sh@hv
E2E_TESTS += harness/test/dilation.sh@hv harness/test/infra.sh@hv
UNIT_TESTS += harness-run-logic-test
harness-run-logic-test.srcs := harness/test/run_logic_test.c
harness-run-logic-test.deps := harness vcmodel vcload vclib
harness-run-logic-test.ldlibs := -lcmocka -lyaml -ljansson -lcrypto -lm
E2E_TESTS += harness/test/qemu.sh

# the result reader of `vcons report` and `vcons compare` under libFuzzer (`make fuzz`); its
# corpus harness/fuzz/result/ is replayed under ASan+UBSan by make test
FUZZERS += harness-result
harness-result.srcs := harness/fuzz/result.c harness/cmd_report.c harness/cmd_compare.c
harness-result.deps := vcmodel vclib
harness-result.ldlibs := -lyaml -ljansson -lcrypto -lm
