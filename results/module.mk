# results/: submissions and the results repository (README.md): libvcresults.a (seal/verify
# format, checks, SQLite store, HTTP server and its pages, upload client) over the result model
# (model/); its tests. The `vcons` commands keygen, seal, verify, serve and submit that use it are
# harness/cmd_seal.c, cmd_serve.c and cmd_submit.c, declared with the program in harness/module.mk.
# Messages are bounded by their buffers on purpose (a truncated reason is still a reason).
results.cflags := -Wno-format-truncation
LIBS += vcresults
vcresults.srcs := results/seal.c results/check.c results/store.c results/server.c results/pages.c results/client.c

E2E_TESTS += results/test/submit.sh results/test/load.sh

UNIT_TESTS += results-seal-test results-store-test
results-seal-test.srcs := results/test/seal_test.c
results-seal-test.deps := vcresults vcmodel vclib
results-seal-test.ldlibs := -lcmocka -lyaml -ljansson -lcrypto -lm
results-store-test.srcs := results/test/store_test.c
results-store-test.deps := vcresults vcmodel vclib
results-store-test.ldlibs := -lcmocka -lsqlite3 -lyaml -ljansson -lcrypto -lm -lpthread

# what the server does with an upload before storing it (seal format, schema, verdict) under
# libFuzzer (`make fuzz`); its corpus results/fuzz/check/ is replayed under ASan+UBSan by make test
FUZZERS += results-check
results-check.srcs := results/fuzz/check.c
results-check.deps := vcresults vcmodel vclib
results-check.ldlibs := -lyaml -ljansson -lcrypto -lm
