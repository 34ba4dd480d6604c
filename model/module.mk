# model/: the result model (README.md): what a result file is - its rules (from YAML, to and from
# JSON), verdict and scores - and its report (HTML page, SVG charts, escaping), as libvcmodel.a.
# The runner (harness/), the results repository (results/) and the `vcons` commands use it; it
# uses nothing of theirs (tools/test/layers.sh checks). Its unit tests and the YAML fuzz target.
# Labels and messages are bounded by their buffers on purpose; gcc cannot see that.
model.cflags := -Wno-format-truncation
LIBS += vcmodel
vcmodel.srcs := model/yamldoc.c model/config.c model/score.c model/rules.c model/verdict.c model/infra.c \
	model/result.c model/htmlpage.c model/svg.c model/report.c \
	model/report_infra.c

UNIT_TESTS += model-score-test model-config-test model-rules-test model-svg-test model-infra-test
model-score-test.srcs := model/test/score_test.c
model-score-test.deps := vcmodel vclib
model-score-test.ldlibs := -lcmocka -lm
model-config-test.srcs := model/test/config_test.c
model-config-test.deps := vcmodel vclib
model-config-test.ldlibs := -lcmocka -lyaml -lcrypto -lm
model-rules-test.srcs := model/test/rules_test.c
model-rules-test.deps := vcmodel vclib
model-rules-test.ldlibs := -lcmocka -lyaml -ljansson -lcrypto -lm
model-infra-test.srcs := model/test/infra_test.c
model-infra-test.deps := vcmodel vclib
model-infra-test.ldlibs := -lcmocka -lyaml -ljansson -lcrypto -lm
model-svg-test.srcs := model/test/svg_test.c
model-svg-test.deps := vcmodel vclib
model-svg-test.ldlibs := -lcmocka -lm

# the YAML readers (CSU profiles, run rules, sizes) under libFuzzer (`make fuzz`); its corpus
# model/fuzz/yaml/ is replayed under ASan+UBSan by make test
FUZZERS += model-yaml
model-yaml.srcs := model/fuzz/yaml.c
model-yaml.deps := vcmodel vclib
model-yaml.ldlibs := -lyaml -lcrypto -lm
