# results/: submissions and the results repository (issue 7): libvcresults.a (seal/verify format,
# checks, SQLite store, HTTP server and its pages, upload client); the `vcons` commands keygen,
# seal, verify, serve and submit (thin harness/cmd_*.c files, added to vcons here so that
# harness/module.mk stays as it is); tests.
# Messages are bounded by their buffers on purpose (a truncated reason is still a reason).
results.cflags := -Wno-format-truncation
LIBS += vcresults
vcresults.srcs := results/seal.c results/check.c results/store.c results/server.c results/pages.c results/client.c

vcons.srcs += harness/cmd_seal.c harness/cmd_serve.c harness/cmd_submit.c
vcons.deps := vcresults $(vcons.deps)
vcons.ldlibs += -lmicrohttpd -lcurl -lsqlite3 -lpthread

E2E_TESTS += results/test/submit.sh results/test/load.sh

UNIT_TESTS += results-seal-test results-store-test
results-seal-test.srcs := results/test/seal_test.c
results-seal-test.deps := vcresults harness hvsize
results-seal-test.ldlibs := -lcmocka -lyaml -ljansson -lcrypto -lm
results-store-test.srcs := results/test/store_test.c
results-store-test.deps := vcresults harness hvsize
results-store-test.ldlibs := -lcmocka -lsqlite3 -lyaml -ljansson -lcrypto -lm -lpthread

# what the server does with an upload before storing it (seal format, schema, verdict) under
# libFuzzer (`make fuzz`); its corpus results/fuzz/check/ is replayed under ASan+UBSan by make test
FUZZERS += results-check
results-check.srcs := results/fuzz/check.c
results-check.deps := vcresults harness hvsize
results-check.ldlibs := -lyaml -ljansson -lcrypto -lm
