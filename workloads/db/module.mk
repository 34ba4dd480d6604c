# workloads/db/: the database VM. libvcdb.a (TPC-C schema, transactions, checks, framing, server),
# the static guest program vcons-db, the host load generator vcons-db-load, tests and benchmark.
LIBS += vcdb
vcdb.srcs := workloads/db/schema.c workloads/db/txn.c workloads/db/check.c \
             workloads/db/client.c workloads/db/frame.c workloads/db/server.c workloads/db/vfs.c

GUEST_PROGS += vcons-db
vcons-db.srcs := workloads/db/db_main.c
vcons-db.deps := vcdb vcsrv vcload vclib
vcons-db.ldlibs := -lsqlite3 -ljansson -lpthread -lm -ldl

HOST_PROGS += vcons-db-load
vcons-db-load.srcs := workloads/db/load_main.c
vcons-db-load.deps := vcdb vcload vclib
vcons-db-load.ldlibs := -lsqlite3 -ljansson -lpthread -lm

UNIT_TESTS += vcdb-test
vcdb-test.srcs := workloads/db/test/db_test.c
vcdb-test.deps := vcdb vcsrv vcload vclib
vcdb-test.ldlibs := -lcmocka -lsqlite3 -ljansson -lpthread -lm

E2E_TESTS += workloads/db/test/db_e2e.sh workloads/db/test/db_e2e.sh@hv
BENCHES += workloads/db/bench/db_bench.sh workloads/db/bench/db_bench.sh@hv

# a connection's bytes through the framing and the transactions, under libFuzzer (`make fuzz`); its
# corpus workloads/db/fuzz/request/ is replayed under ASan+UBSan by `make test`
FUZZERS += db-request
db-request.srcs := workloads/db/fuzz/request.c
db-request.deps := vcdb vcload vclib
db-request.ldlibs := -lsqlite3 -ljansson -lpthread -lm
