# harness/: `vcons` - phases, run rules, scoring, results, reports (issue 6). The library holds
# everything but the command line, so unit tests and the sanitizer build cover it.
# Paths are bounded by PATH_MAX and checked where a run is planned (plan.c); gcc cannot see that.
harness.cflags := -Wno-format-truncation
LIBS += harness
harness.srcs := harness/yamldoc.c harness/config.c harness/score.c harness/proc.c \
	harness/plan.c harness/platform.c harness/platform_native.c harness/platform_hv.c \
	harness/platform_qemu.c harness/collect.c harness/metrics.c harness/verdict.c harness/result.c \
	harness/sysinfo.c harness/cmd_report.c harness/run.c harness/run_loop.c harness/run_result.c harness/live.c \
	harness/htmlpage.c harness/svg.c

HOST_PROGS += vcons
vcons.srcs := harness/main.c harness/cmd_compare.c
vcons.deps := harness vcload hvsize
vcons.ldlibs := -lyaml -ljansson -lcrypto -lm

E2E_TESTS += harness/test/report.sh

UNIT_TESTS += harness-score-test harness-config-test harness-proc-test harness-svg-test
harness-svg-test.srcs := harness/test/svg_test.c
harness-svg-test.deps := harness hvsize
harness-svg-test.ldlibs := -lcmocka -lm
harness-proc-test.srcs := harness/test/proc_test.c
harness-proc-test.deps := harness hvsize
harness-proc-test.ldlibs := -lcmocka
harness-score-test.srcs := harness/test/score_test.c
harness-score-test.deps := harness hvsize
harness-score-test.ldlibs := -lcmocka -lm
harness-config-test.srcs := harness/test/config_test.c
harness-config-test.deps := harness hvsize
harness-config-test.ldlibs := -lcmocka -lyaml -lcrypto -lm

E2E_TESTS += harness/test/run.sh harness/test/run.sh@hv
BENCHES += harness/bench/run.sh harness/bench/run.sh@hv
E2E_TESTS += harness/test/dilation.sh@hv
UNIT_TESTS += harness-run-logic-test
harness-run-logic-test.srcs := harness/test/run_logic_test.c
harness-run-logic-test.deps := harness vcload hvsize
harness-run-logic-test.ldlibs := -lcmocka -lyaml -ljansson -lcrypto -lm
E2E_TESTS += harness/test/qemu.sh

# the YAML readers (CSU profiles, run rules, sizes) and the result reader of `vcons report` and
# `vcons compare` under libFuzzer (`make fuzz`); their corpora harness/fuzz/yaml/ and
# harness/fuzz/result/ are replayed under ASan+UBSan by make test
FUZZERS += harness-yaml harness-result
harness-yaml.srcs := harness/fuzz/yaml.c
harness-yaml.deps := harness hvsize
harness-yaml.ldlibs := -lyaml -lcrypto -lm
harness-result.srcs := harness/fuzz/result.c harness/cmd_compare.c
harness-result.deps := harness hvsize
harness-result.ldlibs := -lyaml -ljansson -lcrypto -lm
