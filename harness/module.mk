# harness/: `vcons` - phases, run rules, scoring, results, reports (issue 6). Library first.
LIBS += harness
harness.srcs := harness/yamldoc.c harness/config.c harness/score.c harness/proc.c

UNIT_TESTS += harness-score-test harness-config-test harness-proc-test
harness-proc-test.srcs := harness/test/proc_test.c
harness-proc-test.deps := harness
harness-proc-test.ldlibs := -lcmocka
harness-score-test.srcs := harness/test/score_test.c
harness-score-test.deps := harness
harness-score-test.ldlibs := -lcmocka -lm
harness-config-test.srcs := harness/test/config_test.c
harness-config-test.deps := harness
harness-config-test.ldlibs := -lcmocka -lyaml -lcrypto -lm
